"""`teamrel validate` end to end: every breakage validate reports, made in a demo copy."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from clikit import cli_runner

from teamrel.cli.app import app

runner = cli_runner()


def invoke(*args: str) -> tuple[int, str]:
    """The exit code and all the command printed (findings on stdout, errors on stderr)."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


def validate_json(root: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["-C", str(root), "validate", "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    seen = 0
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return i
    raise AssertionError(f"{needle!r} not in {path}")


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


# Each breakage: mutate the demo copy, then return (code, file, line, pointer) expected
# in the diagnostics (line None: not checked).
Breakage = Callable[[Path], tuple[str, str, int | None, str]]


def unknown_key(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(
        y,
        "      parameters: {temperature: 0.0, max_tokens: 1024, seed: 7}",
        "      parameters: {temperature: 0.0, max_tokens: 1024, seed: 7}\n      temprature: 1",
    )
    return (
        "unknown-key",
        "teamrel.yaml",
        line_of(y, "temprature"),
        "/members/router/model/temprature",
    )


def unknown_top_key(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "handoffs:\n", "handofs: []\nhandoffs:\n")
    return "unknown-key", "teamrel.yaml", line_of(y, "handofs"), "/handofs"


def missing_prompt(root: Path) -> tuple[str, str, int | None, str]:
    (root / "prompts" / "billing.md").unlink()
    y = root / "teamrel.yaml"
    return (
        "missing-file",
        "teamrel.yaml",
        line_of(y, "prompts/billing.md"),
        "/members/billing/prompt",
    )


def missing_contract(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "output: contracts/reply.json", "output: contracts/replies.json")
    return (
        "missing-file",
        "teamrel.yaml",
        line_of(y, "contracts/replies.json"),
        ("/members/responder/output"),
    )


def missing_ref_file(root: Path) -> tuple[str, str, int | None, str]:
    edit(root / "contracts" / "ticket.json", '"common.json#', '"commons.json#')
    t = root / "contracts" / "ticket.json"
    return "ref-missing", "contracts/ticket.json", line_of(t, "commons.json"), "/$ref"


def unknown_member(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "{from: router, to: refunds,", "{from: router, to: refund,")
    return "unknown-member", "teamrel.yaml", line_of(y, "to: refund,"), "/handoffs/2/to"


def unknown_tool(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(
        y,
        "      - tool: orders\n        call: contracts/tools/orders_call_support.json",
        "      - tool: order\n        call: contracts/tools/orders_call_support.json",
    )
    line = y.read_text().splitlines().index("      - tool: order") + 1
    return "unknown-member", "teamrel.yaml", line, "/members/tech_support/tools/0"


def duplicate_member(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    text = y.read_text()
    start = text.index("  refunds:\n")
    end = text.index("  tech_support:\n")
    y.write_text(text[:end] + text[start:end] + text[end:])
    return "duplicate-key", "teamrel.yaml", line_of(y, "  refunds:", 2), "/members/refunds"


def invalid_semver(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "version: 3.0.1", "version: v3.0.1")
    return (
        "invalid-version",
        "teamrel.yaml",
        line_of(y, "version: v3.0.1"),
        ("/members/tech_support/version"),
    )


def unquoted_float_version(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "version: 1.0.4", "version: 1.0")
    return (
        "invalid-version",
        "teamrel.yaml",
        line_of(y, "version: 1.0"),
        ("/members/escalation/version"),
    )


def invalid_meta_schema(root: Path) -> tuple[str, str, int | None, str]:
    edit(root / "contracts" / "common.json", '"maxLength": 300}', '"maxLength": -300}')
    return (
        "schema-invalid",
        "contracts/common.json",
        line_of(root / "contracts" / "common.json", '"maxLength": -300}'),
        "/$defs/Ticket/properties/subject/maxLength",
    )


def invalid_draft7_schema(root: Path) -> tuple[str, str, int | None, str]:
    (root / "contracts" / "reply.json").write_text(
        json.dumps(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "required": "ticket_id",
            }
        )
    )
    return "schema-invalid", "contracts/reply.json", 1, "/required"


def unknown_dialect(root: Path) -> tuple[str, str, int | None, str]:
    edit(root / "contracts" / "reply.json", "draft/2020-12/schema", "draft/2077-01/schema")
    r = root / "contracts" / "reply.json"
    return "schema-dialect", "contracts/reply.json", line_of(r, "2077"), "/$schema"


def remote_ref(root: Path) -> tuple[str, str, int | None, str]:
    edit(
        root / "contracts" / "triaged_ticket.json",
        '"common.json#/$defs/Triage"',
        '"https://schemas.example.com/triage.json"',
    )
    t = root / "contracts" / "triaged_ticket.json"
    line = line_of(t, "schemas.example.com")
    return "ref-remote", "contracts/triaged_ticket.json", line, "/properties/triage/$ref"


def escaping_ref(root: Path) -> tuple[str, str, int | None, str]:
    edit(
        root / "contracts" / "reply.json", '"common.json#/$defs/TicketId"', '"../../etc/passwd#/x"'
    )
    r = root / "contracts" / "reply.json"
    return "ref-refused", "contracts/reply.json", line_of(r, "passwd"), "/properties/ticket_id/$ref"


def escaping_schema_path(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "input: contracts/escalation_input.json", "input: ../outside.json")
    (root.parent / "outside.json").write_text("{}")
    return (
        "path-refused",
        "teamrel.yaml",
        line_of(y, "../outside.json"),
        ("/members/escalation/input"),
    )


def symlink_escape(root: Path) -> tuple[str, str, int | None, str]:
    outside = root.parent / "secret.json"
    outside.write_text('{"type": "string"}')
    os.symlink(outside, root / "contracts" / "link.json")
    edit(root / "contracts" / "reply.json", '"common.json#/$defs/TicketId"', '"link.json"')
    r = root / "contracts" / "reply.json"
    line = line_of(r, "link.json")
    return "ref-refused", "contracts/reply.json", line, "/properties/ticket_id/$ref"


def circular_include(root: Path) -> tuple[str, str, int | None, str]:
    (root / "contracts" / "a.json").write_text('{"$ref": "b.json"}')
    (root / "contracts" / "b.json").write_text('{"allOf": [{"$ref": "a.json"}]}')
    y = root / "teamrel.yaml"
    edit(y, "output: contracts/reply.json", "output: contracts/a.json")
    return "ref-cycle", "contracts/a.json", 1, ""


def floating_model(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "id: gpt-4o-2024-08-06", "id: gpt-4o")
    return "floating-model", "teamrel.yaml", line_of(y, "id: gpt-4o"), "/members/router/model/id"


def latest_alias(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "id: claude-opus-4-1-20250805", "id: claude-3-5-sonnet-latest")
    return (
        "floating-model",
        "teamrel.yaml",
        line_of(y, "sonnet-latest"),
        ("/members/escalation/model/id"),
    )


def path_traversal_name(root: Path) -> tuple[str, str, int | None, str]:
    y = root / "teamrel.yaml"
    edit(y, "  responder:\n", '  "../responder":\n')
    return "invalid-name", "teamrel.yaml", line_of(y, '"../responder"'), "/members/..~1responder"


def non_utf8_prompt(root: Path) -> tuple[str, str, int | None, str]:
    (root / "prompts" / "router.md").write_bytes(b"Route \xff\xfe tickets\n")
    y = root / "teamrel.yaml"
    return (
        "prompt-encoding",
        "teamrel.yaml",
        line_of(y, "prompts/router.md"),
        ("/members/router/prompt"),
    )


BREAKAGES: dict[str, Breakage] = {
    f.__name__: f
    for f in (
        unknown_key,
        unknown_top_key,
        missing_prompt,
        missing_contract,
        missing_ref_file,
        unknown_member,
        unknown_tool,
        duplicate_member,
        invalid_semver,
        unquoted_float_version,
        invalid_meta_schema,
        invalid_draft7_schema,
        unknown_dialect,
        remote_ref,
        escaping_ref,
        escaping_schema_path,
        symlink_escape,
        circular_include,
        floating_model,
        latest_alias,
        path_traversal_name,
        non_utf8_prompt,
    )
}


def test_demo_is_valid() -> None:
    code, out = invoke("validate")
    assert code == 0, out
    assert "valid: team support" in out


def test_demo_copy_is_valid_json(demo_copy: Path) -> None:
    code, doc = validate_json(demo_copy)
    assert code == 0
    assert doc["format_version"] == 1
    assert doc["valid"] is True
    assert doc["team"] == "support"
    assert doc["members"] == 8
    assert doc["handoffs"] == 18
    assert doc["diagnostics"] == []


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_breakage_is_reported_with_location(name: str, demo_copy: Path) -> None:
    code_expected, file, line, ptr = BREAKAGES[name](demo_copy)
    code, doc = validate_json(demo_copy)
    assert code == 1, doc
    assert doc["valid"] is False
    hits = [
        d
        for d in doc["diagnostics"]
        if d["code"] == code_expected and d["file"] == file and d["pointer"] == ptr
    ]
    assert hits, json.dumps(doc["diagnostics"], indent=1)
    assert hits[0]["severity"] == "error"
    if line is not None:
        assert hits[0]["line"] == line
    # text output names the file (and line) too
    tcode, text = invoke("-C", str(demo_copy), "validate")
    assert tcode == 1
    loc = f"{file}:{line}" if line is not None else file
    assert loc in text
    assert "Traceback" not in text


def test_all_problems_reported_at_once(demo_copy: Path) -> None:
    expected = [
        BREAKAGES[n](demo_copy)
        for n in (
            "unknown_key",
            "missing_prompt",
            "unknown_member",
            "invalid_semver",
            "remote_ref",
            "floating_model",
            "invalid_meta_schema",
        )
    ]
    code, doc = validate_json(demo_copy)
    assert code == 1
    got = {(d["code"], d["file"], d["pointer"]) for d in doc["diagnostics"]}
    for c, f, _line, p in expected:
        assert (c, f, p) in got


def test_yaml_syntax_error_exit_1_with_line(demo_copy: Path) -> None:
    y = demo_copy / "teamrel.yaml"
    edit(
        y,
        "  - {from: intake, to: router, contract: contracts/ticket.json}",
        "  - {from: intake, to: router, contract: contracts/ticket.json",
    )
    code, doc = validate_json(demo_copy)
    assert code == 1
    (d,) = doc["diagnostics"]
    assert d["file"] == "teamrel.yaml" and d["line"] is not None and d["code"] == "yaml"


def test_yaml_alias_bomb_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for i in range(10):
        cur = f"l{i}"
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
        prev = cur
    (tmp_path / "teamrel.yaml").write_text("\n".join(lines) + "\n")
    code, doc = validate_json(tmp_path)
    assert code == 1
    assert "aliases" in doc["diagnostics"][0]["message"]


def test_cycle_is_a_warning(demo_copy: Path) -> None:
    y = demo_copy / "teamrel.yaml"
    edit(y, "handoffs:\n", "handoffs:\n  - {from: escalation, to: router}\n")
    code, doc = validate_json(demo_copy)
    # router's input (ticket) does not accept escalation's output, but that is for `check`;
    # the loader only warns about the cycle.
    assert code == 0, doc
    (w,) = doc["diagnostics"]
    assert w["severity"] == "warning" and w["code"] == "cycle"
    assert "router" in w["message"] and "escalation" in w["message"]
    assert w["pointer"].startswith("/handoffs/")
    code, text = invoke("-C", str(demo_copy), "validate")
    assert code == 0 and "warning" in text


def test_missing_workspace_exit_3(tmp_path: Path) -> None:
    code, out = invoke("-C", str(tmp_path), "validate")
    assert code == 3
    assert "teamrel.yaml" in out
    code, out = invoke("-C", str(tmp_path), "validate", "--format", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"] == "WorkspaceNotFound"


def test_bad_format_is_usage_error() -> None:
    code, _ = invoke("validate", "--format", "xml")
    assert code == 2


def test_discovery_from_nested_directory(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = demo_copy / "prompts"
    monkeypatch.chdir(nested)
    code, out = invoke("validate")
    assert code == 0, out
    edit(demo_copy / "teamrel.yaml", "team: support", "team: support2")
    code, out = invoke("validate")
    assert "team support2" in out


def test_examples_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    for ex in ("minimal", "with-tool"):
        code, out = invoke("-C", str(root / ex), "validate")
        assert code == 0, (ex, out)


def test_unreadable_workspace_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "teamrel.yaml").write_text("team: t\n")
    import teamrel.yamlsrc as yamlsrc

    def boom(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(yamlsrc.Path, "open", boom)
    code, out = invoke("-C", str(tmp_path), "validate")
    assert code == 3
    assert "Permission denied" in out and "teamrel.yaml" in out


def test_the_annotated_example_of_the_docs_is_a_valid_workspace(demo_copy: Path) -> None:
    # docs/workspace.md's "complete annotated example" once listed a tool twice and a handoff
    # from a member it does not declare: copying it gave errors beyond the missing files
    docs = (Path(__file__).resolve().parents[2] / "docs" / "workspace.md").read_text()
    example = docs.split("## A complete annotated example", 1)[1]
    example = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    (demo_copy / "teamrel.yaml").write_text(example)
    _, doc = validate_json(demo_copy)
    for d in doc["diagnostics"]:  # files the example names beyond the demo's own
        assert d["code"] == "missing-file", d
        # a generated file's message goes on with the hint to sync it
        rel = d["message"].split("no such file (", 1)[1].split(")", 1)[0]
        path = demo_copy / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}" if rel.endswith(".json") else "Draft it.\n")
    code, doc = validate_json(demo_copy)
    assert code == 0 and doc["valid"] is True, doc["diagnostics"]
    assert doc["members"] == 3
