"""Workspace loading: resolved members, digests, edges, with_members, diagnostics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from teamrel.canonical import canonical_json
from teamrel.errors import WorkspaceError
from teamrel.models import ResolvedMember, member_digest
from teamrel.workspace import (
    check_workspace,
    is_floating,
    load_workspace,
    spec_digest,
    validate_workspace,
)

REPO = Path(__file__).resolve().parents[2]

#: Pinned digest of examples/minimal's `drafter`: changes only when its content (or the
#: canonical spec layout, a deliberate format change) changes.
DRAFTER_DIGEST = "sha256:fb54f6e5d003f3297aab68c5dae6877e2c29b222529c1aa6a2e5d8f172c2925e"


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    dest = tmp_path / "minimal"
    shutil.copytree(REPO / "examples" / "minimal", dest)
    return dest


def drafter_digest(root: Path) -> str:
    return load_workspace(root).members["drafter"].digest


def test_pinned_digest(minimal: Path) -> None:
    assert drafter_digest(minimal) == DRAFTER_DIGEST
    assert drafter_digest(REPO / "examples" / "minimal") == DRAFTER_DIGEST


def test_digest_is_member_digest_of_spec(minimal: Path) -> None:
    ws = load_workspace(minimal)
    for m in ws.members.values():
        assert m.digest == member_digest(m.spec)
        # the spec survives a JSON round trip (what manifests store) with the same digest
        assert member_digest(json.loads(json.dumps(m.spec))) == m.digest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "change",
    [
        "prompt_byte",
        "prompt_trailing_newline",
        "schema_byte",
        "inline_schema",
        "model_id",
        "provider",
        "parameter",
        "new_parameter",
        "version",
        "description",
        "evals",
        "metadata",
    ],
)
def test_any_input_byte_changes_digest(minimal: Path, change: str) -> None:
    y = minimal / "teamrel.yaml"
    if change == "prompt_byte":
        p = minimal / "prompts" / "drafter.md"
        data = bytearray(p.read_bytes())
        data[10] ^= 0x01
        p.write_bytes(bytes(data))
    elif change == "prompt_trailing_newline":
        p = minimal / "prompts" / "drafter.md"
        p.write_bytes(p.read_bytes() + b"\n")
    elif change == "schema_byte":
        _edit(minimal / "contracts" / "draft.json", '"maxLength": 120', '"maxLength": 121')
    elif change == "inline_schema":
        _edit(y, "maxLength: 200}", "maxLength: 201}")
    elif change == "model_id":
        _edit(y, "claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929")
    elif change == "provider":
        _edit(y, "provider: anthropic", "provider: bedrock")
    elif change == "parameter":
        _edit(y, "temperature: 0.3", "temperature: 0.31")
    elif change == "new_parameter":
        _edit(y, "max_tokens: 1024}", "max_tokens: 1024, seed: 1}")
    elif change == "version":
        _edit(y, "version: 1.0.0", "version: 1.0.1")
    elif change == "description":
        _edit(y, "  drafter:\n", "  drafter:\n    description: writes drafts\n")
    elif change == "evals":
        _edit(
            y,
            "    prompt: prompts/drafter.md\n",
            "    prompt: prompts/drafter.md\n    evals: {suite: s, metrics: {a: 1}}\n",
        )
    elif change == "metadata":
        _edit(
            y,
            "    prompt: prompts/drafter.md\n",
            "    prompt: prompts/drafter.md\n    metadata: {owner: me}\n",
        )
    assert drafter_digest(minimal) != DRAFTER_DIGEST


def test_digest_ignores_name_paths_and_formatting(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    # moving the prompt file, renaming the member, reformatting YAML: same digest
    (minimal / "prompts" / "drafter.md").rename(minimal / "prompts" / "writer.txt")
    text = y.read_text().replace("prompts/drafter.md", "prompts/writer.txt")
    text = text.replace("drafter", "author").replace(
        "{temperature: 0.3, max_tokens: 1024}",
        "\n        max_tokens: 1024\n        temperature: 0.30",
    )
    y.write_text("# a comment\n" + text)
    ws = load_workspace(minimal)
    assert ws.members["author"].digest == DRAFTER_DIGEST


def test_tool_digest_changes_with_output_schema(example_copy) -> None:  # type: ignore[no-untyped-def]
    root = example_copy("with-tool")
    before = load_workspace(root).members
    _edit(root / "contracts" / "weather_result.json", '"maxItems": 7', '"maxItems": 8')
    after = load_workspace(root).members
    # the tool and both agents whose schemas $ref the changed file change
    assert before["weather"].digest != after["weather"].digest
    assert before["forecaster"].digest != after["forecaster"].digest
    assert before["writer"].digest != after["writer"].digest


def test_resolved_spec_layout() -> None:
    ws = load_workspace(REPO)
    billing = ws.members["billing"]
    spec = billing.spec
    assert set(spec) == {
        "kind",
        "version",
        "description",
        "model",
        "prompt",
        "input",
        "output",
        "tools",
        "evals",
        "metadata",
        "scorecards",  # the demo records its suites (evals/scorecards/billing/)
    }
    assert set(spec["scorecards"]) == {"billing-cases"}
    assert "member" not in spec["scorecards"]["billing-cases"]  # names are not content
    assert spec["model"] == {
        "provider": "anthropic",
        "id": "claude-sonnet-4-5-20250929",
        "parameters": {"temperature": 0.2, "max_tokens": 4096},
    }
    assert spec["prompt"]["sha256"].startswith("sha256:")
    assert "billing questions" in spec["prompt"]["text"]
    inp = billing.schema_doc("input")
    assert inp is not None
    assert inp.uri == "file:///contracts/triaged_ticket.json"
    assert set(inp.resources) == {"file:///contracts/common.json"}
    assert billing.tools == ["orders"]
    (tool,) = spec["tools"]
    assert tool["call"]["uri"] == "file:///contracts/tools/orders_call_billing.json"
    assert "prompts/billing.md" in billing.files
    assert "contracts/common.json" in billing.files
    assert billing.source is not None and billing.source.line is not None
    orders = ws.members["orders"]
    assert orders.kind == "tool"
    out = orders.schema_doc("output")
    assert out is not None and out.uri == "file:///contracts/tools/orders_output.json"
    assert billing.model_id == "claude-sonnet-4-5-20250929"
    assert orders.model_id is None


def test_edges() -> None:
    ws = load_workspace(REPO)
    keys = [h.key for h in ws.handoffs]
    assert keys[:2] == ["intake->router", "router->billing"]
    assert len([h for h in ws.handoffs if h.kind == "handoff"]) == 12
    call = ws.handoff("billing=>orders")
    assert call.kind == "tool-call" and call.producer == "billing" and call.consumer == "orders"
    assert call.producer_schema is not None
    assert call.producer_schema.uri.endswith("orders_call_billing.json")
    assert call.consumer_schema is not None
    assert call.consumer_schema.uri.endswith("orders_input.json")
    result = ws.handoff("billing<=orders")
    assert result.producer == "orders" and result.consumer == "billing"
    assert result.producer_schema is not None
    assert result.producer_schema.uri.endswith("orders_output.json")
    assert ws.handoff("tech_support=>orders").producer_schema is not None
    h = ws.handoff("router->escalation")
    assert h.contract is not None and h.contract.uri.endswith("triaged_ticket.json")
    assert h.producer_schema is not None and h.producer_schema.uri.endswith("triaged_ticket.json")
    assert h.consumer_schema is not None
    assert h.consumer_schema.uri.endswith("escalation_input.json")
    assert h.source is not None and h.source.line == ws.line_of("/handoffs/4")
    with pytest.raises(KeyError):
        ws.handoff("nobody->nowhere")


def test_with_members_swaps_and_rebuilds(example_copy) -> None:  # type: ignore[no-untyped-def]
    root = example_copy("with-tool")
    ws = load_workspace(root)
    writer = ws.members["writer"]
    spec = dict(writer.spec)
    spec["version"] = "0.1.0"
    spec["input"] = {"uri": "urn:teamrel:inline:old", "schema": {"type": "object"}, "resources": {}}
    pinned = ResolvedMember(
        name="writer", kind="agent", version="0.1.0", spec=spec, digest=member_digest(spec)
    )
    ws2 = ws.with_members({"writer": pinned})
    assert ws2.members["writer"].version == "0.1.0"
    assert ws.members["writer"].version == "0.2.0"  # original untouched
    h = ws2.handoff("forecaster->writer")
    assert h.consumer_schema is not None and h.consumer_schema.uri == "urn:teamrel:inline:old"
    assert h.contract is not None and h.contract.uri.endswith("forecast.json")
    assert [e.key for e in ws2.handoffs] == [e.key for e in ws.handoffs]
    # a pinned agent without its tool: its tool edges disappear
    fspec = dict(ws.members["forecaster"].spec)
    fspec["tools"] = []
    f = ResolvedMember(
        name="forecaster", kind="agent", version="0.2.0", spec=fspec, digest=member_digest(fspec)
    )
    ws3 = ws.with_members({"forecaster": f})
    assert [e.key for e in ws3.handoffs] == ["forecaster->writer"]
    assert ws3.graph.waves() == [["forecaster", "weather"], ["writer"]]


def test_spec_digest_matches_canonical() -> None:
    shared = {"uri": "file:///x.json", "schema": {"b": [1, 2.5, "é"], "a": None}, "resources": {}}
    spec = {"z": shared, "a": [shared, {"k": shared}], "\u00e9": 1.0, "\U0001f600": True}
    pre = {id(shared): canonical_json(shared)}
    assert spec_digest(spec, pre) == member_digest(spec) == spec_digest(spec)


def test_floating_patterns() -> None:
    default = ["@default"]
    assert is_floating("gpt-4o", default) == "gpt-4o"
    assert is_floating("GPT-4o", default) == "gpt-4o"
    assert is_floating("gpt-4o-2024-08-06", default) is None
    assert is_floating("claude-3-5-sonnet-latest", default) == "*-latest"
    assert is_floating("llama3:latest", default) == "*:latest"
    assert is_floating("openrouter/openai/gpt-4o", default) == "gpt-4o"
    assert is_floating("claude-sonnet-4-5-20250929", default) is None
    # a user list replaces the default...
    assert is_floating("gpt-4o", ["my-alias"]) is None
    assert is_floating("my-alias", ["my-alias"]) == "my-alias"
    # ...unless it includes @default
    assert is_floating("gpt-4o", ["@default", "my-alias"]) == "gpt-4o"
    assert is_floating("x-nightly", ["*-nightly"]) == "*-nightly"


def test_user_floating_list_in_yaml(demo_copy: Path) -> None:
    y = demo_copy / "teamrel.yaml"
    _edit(y, 'floating_models: ["@default"]', "floating_models: [claude-opus-4-1-20250805]")
    diags = validate_workspace(demo_copy)
    (d,) = diags
    assert d.code == "floating-model" and d.pointer == "/members/escalation/model/id"


def test_load_raises_with_all_diagnostics(demo_copy: Path) -> None:
    y = demo_copy / "teamrel.yaml"
    _edit(y, "id: gpt-4o-2024-08-06", "id: gpt-4o")
    _edit(y, "version: 2.0.0", "version: two")
    with pytest.raises(WorkspaceError) as info:
        load_workspace(demo_copy)
    err = info.value
    assert err.exit_code == 3
    codes = sorted(d.code for d in err.diagnostics)
    assert codes == ["floating-model", "invalid-version"]
    assert "2 problems" in err.message


def test_report_counts_and_json(demo_copy: Path) -> None:
    report = check_workspace(demo_copy)
    assert report.valid and report.workspace is not None
    doc = report.to_json()
    assert doc == {
        "format_version": 1,
        "valid": True,
        "team": "support",
        "members": 8,
        "handoffs": 18,
        "diagnostics": [],
    }


def test_same_content_same_digest_anywhere(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "deep" / "b"
    shutil.copytree(REPO / "examples" / "with-tool", a)
    shutil.copytree(REPO / "examples" / "with-tool", b)
    da = {n: m.digest for n, m in load_workspace(a).members.items()}
    db = {n: m.digest for n, m in load_workspace(b).members.items()}
    assert da == db


def test_inline_schema_with_file_ref_refused(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    _edit(
        y,
        "topic: {type: string, minLength: 1, maxLength: 200}",
        "topic: {$ref: 'contracts/draft.json'}",
    )
    (d,) = validate_workspace(minimal)
    assert d.code == "ref-inline"
    assert d.file == "teamrel.yaml"
    assert d.pointer == "/members/drafter/input/properties/topic/$ref"
    assert d.line is not None


def test_huge_prompt_refused(minimal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import teamrel.workspace as wsmod

    monkeypatch.setattr(wsmod, "MAX_PROMPT_BYTES", 1000)
    (minimal / "prompts" / "drafter.md").write_text("x" * 1001)
    (d,) = validate_workspace(minimal)
    assert d.code == "too-large" and d.pointer == "/members/drafter/prompt"


def test_prompt_outside_workspace_refused(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    (minimal.parent / "p.md").write_text("hi")
    _edit(y, "prompt: prompts/drafter.md", "prompt: ../p.md")
    (d,) = validate_workspace(minimal)
    assert d.code == "path-refused" and "escapes the workspace" in d.message
    _edit(y, "prompt: ../p.md", f"prompt: {minimal.parent / 'p.md'}")
    (d,) = validate_workspace(minimal)
    assert d.code == "path-refused" and "absolute" in d.message


def test_tool_listing_an_agent_and_duplicate_handoff(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    _edit(
        y,
        "    prompt: prompts/reviewer.md\n",
        "    prompt: prompts/reviewer.md\n    tools: [drafter]\n",
    )
    text = y.read_text() + "  - {from: drafter, to: reviewer}\n"
    y.write_text(text)
    codes = sorted(d.code for d in validate_workspace(minimal))
    assert codes == ["duplicate-handoff", "not-a-tool"]


def test_unknown_key_suggestion(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    _edit(y, "    prompt: prompts/reviewer.md\n", "    promt: prompts/reviewer.md\n")
    diags = validate_workspace(minimal)
    msgs = {d.code: d.message for d in diags}
    assert "did you mean 'prompt'" in msgs["unknown-key"]
    assert "missing required key 'prompt'" in msgs["invalid"]


def test_unknown_kind_and_bad_team_name(minimal: Path) -> None:
    y = minimal / "teamrel.yaml"
    _edit(y, "team: minimal", "team: ../etc")
    _edit(y, "  reviewer:\n", "  reviewer:\n    kind: robot\n")
    diags = validate_workspace(minimal)
    assert {(d.code, d.pointer) for d in diags} == {
        ("invalid-name", "/team"),
        ("invalid", "/members/reviewer/kind"),
    }


def test_undeclared_tool_call_and_result(demo_copy: Path) -> None:
    y = demo_copy / "teamrel.yaml"
    text = y.read_text()
    start = text.index(
        "      - tool: orders\n        call: contracts/tools/orders_call_support.json"
    )
    end = text.index("    evals:", start)
    y.write_text(
        text[:start].rstrip(" ").removesuffix("tools:\n") + "tools: [orders]\n" + text[end:]
    )
    ws = load_workspace(demo_copy)
    # undeclared call/result: None on the agent's side, the tool's schema on the other
    call = ws.handoff("tech_support=>orders")
    assert call.producer_schema is None and call.consumer_schema is not None
    result = ws.handoff("tech_support<=orders")
    assert result.consumer_schema is None and result.producer_schema is not None
    assert ws.members["tech_support"].spec["tools"] == [
        {"tool": "orders", "call": None, "result": None}
    ]


def _gen_team():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_team", REPO / "bench" / "gen_team.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_generator_never_deletes_what_it_did_not_write(tmp_path: Path) -> None:
    gen = _gen_team()
    precious = tmp_path / "repo"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="refusing to replace"):
        gen.generate(10, 10, precious)  # `gen_team.py 10 10 .` in a repository
    assert (precious / "notes.txt").read_text() == "keep me"
    # a failed run leaves no half-written workspace behind
    with pytest.raises(SystemExit, match="could only place"):
        gen.generate(3, 3, tmp_path / "tiny")
    assert not (tmp_path / "tiny").exists()
    # its own earlier output, and an empty directory, are fine to replace
    gen.generate(20, 20, tmp_path / "again")
    gen.generate(20, 20, tmp_path / "again")
    (tmp_path / "empty").mkdir()
    gen.generate(20, 20, tmp_path / "empty")
    assert (tmp_path / "empty" / "teamrel.yaml").is_file()


def test_bench_generator_makes_a_valid_deterministic_team(tmp_path: Path) -> None:
    gen = _gen_team()
    bad = gen.generate(40, 120, tmp_path / "a", tools=3, incompatible=4, seed=5)
    assert len(bad) == 4
    ws = load_workspace(tmp_path / "a")
    assert len([m for m in ws.members.values() if m.kind == "agent"]) == 40
    assert len([h for h in ws.handoffs if h.kind == "handoff"]) == 124
    assert ws.graph.cycles() == []
    gen.generate(40, 120, tmp_path / "b", tools=3, incompatible=4, seed=5)
    assert (tmp_path / "a" / "teamrel.yaml").read_text() == (
        tmp_path / "b" / "teamrel.yaml"
    ).read_text()
    digests_a = {n: m.digest for n, m in ws.members.items()}
    digests_b = {n: m.digest for n, m in load_workspace(tmp_path / "b").members.items()}
    assert digests_a == digests_b


def test_context_workspace_methods(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from teamrel.context import Context
    from teamrel.errors import WorkspaceNotFound

    ctx = Context(demo_copy)
    ws = ctx.load()
    assert ctx.load() is ws  # loaded once per invocation
    assert ctx.graph() is ws
    report = ctx.validate()
    assert report.valid and report.team == "support"
    monkeypatch.chdir(demo_copy / "contracts" / "tools")
    assert Context().root == demo_copy.resolve()  # nearest parent holding teamrel.yaml
    with pytest.raises(WorkspaceNotFound):
        _ = Context(demo_copy / "prompts").root  # -C names the directory itself


def test_each_member_gets_its_own_schema_when_inline_schemas_are_freed(tmp_path: Path) -> None:
    # an inline schema's document lives only as long as the loader's encoding of it: the
    # encodings were once keyed by id() alone, so a file schema built later at a freed
    # inline document's address was given the inline schema (seen as a tool member whose
    # input_schema came out as another member's `{type: object}`)
    lines = ["team: t", "members:"]
    (tmp_path / "p.md").write_text("p\n")
    for i in range(40):
        lines += [
            f"  a{i}:",
            "    version: 1.0.0",
            "    model: {provider: p, id: m}",
            "    prompt: p.md",
            f"    input: {{type: object, title: in{i}}}",
            f"    output: {{type: object, title: out{i}}}",
            f"  t{i}:",
            "    kind: tool",
            "    version: 1.0.0",
            f"    input_schema: s{i}.json",
        ]
        (tmp_path / f"s{i}.json").write_text(json.dumps({"type": "string", "title": f"s{i}"}))
    (tmp_path / "teamrel.yaml").write_text("\n".join(lines) + "\n")
    for _ in range(3):
        ws = load_workspace(tmp_path)
        for i in range(40):
            tool = ws.members[f"t{i}"].schema_doc("input")
            assert tool is not None and tool.schema_ == {"type": "string", "title": f"s{i}"}
            agent = ws.members[f"a{i}"].schema_doc("output")
            assert agent is not None and agent.schema_ == {"type": "object", "title": f"out{i}"}
