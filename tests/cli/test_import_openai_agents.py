"""`teamrel import openai-agents`: a real OpenAI Agents SDK team walked into a workspace.

The team of examples/openai-agents (triage hands billing questions to billing and typed
refund tickets to refunds, refunds hands back to triage; function tools; Pydantic output
types) is built with the real SDK in a child interpreter whose sockets are disabled (building
agents needs no model, no key, no network), imported, and then `teamrel check` passes on the
result. Re-importing an unchanged team is a no-op; a changed team shows a diff and needs
`--yes`; bad input is refused with exit 3, the source named and nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner

from teamrel.cli.app import app

pytest.importorskip("agents")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "openai-agents"
ENTRY = "support_team.team:triage"
runner = cli_runner()

#: Imported first by the child interpreter (it is on its PYTHONPATH): any attempt to open a
#: connection or resolve a name is recorded and refused.
NO_NETWORK = """
import os, socket
def _refuse(*args, **kwargs):
    with open(os.environ["TEAMREL_TEST_NET_LOG"], "a") as fh:
        fh.write(repr(args) + "\\n")
    raise OSError("network disabled by the test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
"""


@pytest.fixture
def guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "guard"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    log = tmp_path / "net.log"
    monkeypatch.setenv("TEAMREL_TEST_NET_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return log


@pytest.fixture
def ws(tmp_path: Path, guard: Path) -> Path:
    """A directory holding the SDK team's code and no teamrel.yaml yet."""
    dest = tmp_path / "support"
    dest.mkdir()
    shutil.copytree(
        EXAMPLE / "support_team",
        dest / "support_team",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return dest


def teamrel(ws: Path, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(ws), *args])


def imported(ws: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = teamrel(ws, "import", "openai-agents", *args, "--format", "json")
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".teamrel" not in p.parts
    }


def test_imports_the_sdk_team_and_check_passes(ws: Path, guard: Path) -> None:
    code, doc = imported(ws, ENTRY)
    assert code == 0, doc
    assert doc["format_version"] == 1 and doc["created"] and doc["applied"]
    assert {(m["name"], m["source"], m["kind"]) for m in doc["members"]} == {
        ("triage-agent", "Triage Agent", "agent"),
        ("billing", "Billing", "agent"),
        ("refunds", "Refunds", "agent"),
        ("lookup_invoice", "lookup_invoice", "tool"),
        ("issue_refund", "issue_refund", "tool"),
    }
    # the handoff cycle refunds -> triage is walked once per agent
    assert sorted(doc["handoffs"]) == [
        "refunds->triage-agent",
        "triage-agent->billing",
        "triage-agent->refunds",
    ]
    assert not guard.exists(), f"the import touched the network: {guard.read_text()}"

    import yaml

    data = yaml.safe_load((ws / "teamrel.yaml").read_text(encoding="utf-8"))
    triage = data["members"]["triage-agent"]
    assert triage["model"] == {"provider": "openai", "id": "gpt-4o-2024-08-06"}
    assert triage["structured_output"] == "openai-strict"
    assert triage["output"] == {
        "pydantic": "support_team.team:Ticket",
        "file": "contracts/triage-agent/output.json",
    }
    assert (
        (ws / "prompts" / "triage-agent.md")
        .read_text(encoding="utf-8")
        .startswith("Classify the customer's message")
    )
    # the typed handoff: its input_type is the contract, in validation mode, and refunds
    # (whose every incoming handoff carries it) takes it as its input
    typed = next(h for h in data["handoffs"] if h["to"] == "refunds")
    assert typed["contract"]["pydantic"] == "support_team.team:Ticket"
    assert data["members"]["refunds"]["input"] == typed["contract"]
    assert "contract" not in next(h for h in data["handoffs"] if h["to"] == "billing")
    # serialised output: closed; validated contract: as Pydantic writes it (open)
    out = json.loads((ws / "contracts/triage-agent/output.json").read_text(encoding="utf-8"))
    contract = json.loads(
        (ws / "contracts/triage-agent/handoff-refunds.json").read_text(encoding="utf-8")
    )
    assert out["additionalProperties"] is False and "additionalProperties" not in contract
    # function tools: a tool member each, the agent's call is the params schema the SDK sends
    tool = json.loads((ws / "contracts/tools/issue_refund.json").read_text(encoding="utf-8"))
    assert tool["required"] == ["order_id", "amount_cents", "reason"]  # strict: all required
    assert data["members"]["refunds"]["tools"] == [
        {"tool": "issue_refund", "call": "contracts/tools/issue_refund.json"}
    ]

    check = teamrel(ws, "check", "--format", "json")
    assert check.exit_code == 0, check.stdout
    verdicts = {e["key"]: e["verdict"] for e in json.loads(check.stdout)["edges"]}
    assert verdicts["triage-agent->refunds"] == "compatible"
    assert verdicts["refunds=>issue_refund"] == "compatible"
    assert teamrel(ws, "contracts", "sync", "--check").exit_code == 0


def test_reimporting_an_unchanged_team_is_a_no_op(ws: Path) -> None:
    assert imported(ws, ENTRY)[0] == 0
    before = snapshot(ws)
    code, doc = imported(ws, ENTRY)
    assert code == 0
    assert not doc["changed"] and doc["files"] == [] and doc["diff"] == ""
    assert {m["status"] for m in doc["members"]} == {"unchanged"}
    assert snapshot(ws) == before


def test_the_example_is_the_import_of_its_team(tmp_path: Path, guard: Path) -> None:
    dest = tmp_path / "example"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".teamrel", "__pycache__"))
    code, doc = imported(dest, ENTRY)
    assert code == 0 and not doc["changed"], doc
    assert teamrel(dest, "check").exit_code == 0


def test_a_changed_team_shows_the_diff_and_needs_yes(ws: Path) -> None:
    assert imported(ws, ENTRY)[0] == 0
    team = ws / "support_team" / "team.py"
    team.write_text(
        team.read_text(encoding="utf-8")
        .replace(
            'name="Billing",\n    handoff_description="Answers questions about invoices and '
            'payments.",\n    instructions="You answer billing questions.',
            'name="Billing",\n    handoff_description="Answers questions about invoices and '
            'payments.",\n    instructions="You answer billing questions politely.',
        )
        .replace(
            'model="gpt-4o-2024-08-06",\n    tools=[lookup_invoice]',
            'model="gpt-4o-2024-11-20",\n    tools=[lookup_invoice]',
        ),
        encoding="utf-8",
    )
    before = snapshot(ws)
    code, doc = imported(ws, ENTRY)
    assert code == 1 and doc["changed"] and not doc["applied"]
    assert "-      id: gpt-4o-2024-08-06" in doc["diff"]
    assert "+      id: gpt-4o-2024-11-20" in doc["diff"]
    assert {f["file"] for f in doc["files"]} == {"teamrel.yaml", "prompts/billing.md"}
    assert snapshot(ws) == before  # nothing written without --yes

    text = teamrel(ws, "import", "openai-agents", ENTRY)
    assert text.exit_code == 1
    assert "run again with --yes" in text.stdout and "+      id: gpt-4o-2024-11-20" in text.stdout

    code, doc = imported(ws, ENTRY, "--yes")
    assert code == 0 and doc["applied"]
    assert "politely" in (ws / "prompts" / "billing.md").read_text(encoding="utf-8")
    assert imported(ws, ENTRY)[1]["changed"] is False


def test_an_import_into_an_existing_workspace_keeps_its_comments(ws: Path) -> None:
    assert imported(ws, ENTRY)[0] == 0
    path = ws / "teamrel.yaml"
    text = path.read_text(encoding="utf-8")
    text = "# the support team, imported from the SDK\n" + text.replace(
        "  billing:\n", "  # billing answers invoices\n  billing:\n"
    ).replace("handoffs:\n", "handoffs:  # walked from triage\n")
    path.write_text(text, encoding="utf-8")
    team = ws / "support_team" / "team.py"
    team.write_text(
        team.read_text(encoding="utf-8").replace(
            'model="gpt-4o-2024-08-06",\n    tools=[lookup_invoice]',
            'model="gpt-4o-2024-11-20",\n    tools=[lookup_invoice]',
        ),
        encoding="utf-8",
    )
    code, doc = imported(ws, ENTRY)
    assert code == 1
    # only the changed line, not the whole document re-dumped
    changed = [
        line
        for line in doc["diff"].splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-      id: gpt-4o-2024-08-06", "+      id: gpt-4o-2024-11-20"]
    code, doc = imported(ws, ENTRY, "--yes")
    assert code == 0 and doc["applied"]
    after = path.read_text(encoding="utf-8")
    # the file is the commented one with billing's model id changed, byte for byte
    head, billing, rest = text.partition("  billing:\n")
    assert after == head + billing + rest.replace("gpt-4o-2024-08-06", "gpt-4o-2024-11-20", 1)
    for comment in (
        "# the support team, imported from the SDK",
        "# billing answers invoices",
        "# walked from triage",
    ):
        assert comment in after
    assert imported(ws, ENTRY)[1]["changed"] is False


def test_existing_workspace_keeps_what_the_sdk_does_not_say(ws: Path) -> None:
    assert imported(ws, ENTRY)[0] == 0
    import yaml

    path = ws / "teamrel.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["members"]["billing"]["version"] = "2.3.0"
    data["members"]["billing"]["evals"] = [{"suite": "faq", "metrics": {"accuracy": 0.9}}]
    data["environments"] = {"prod": {"require_reason": True}}
    # a tool the SDK does not own (say, imported from an MCP server) used by billing, and a
    # contract written by hand on the untyped handoff
    data["members"]["crm"] = {
        "kind": "tool",
        "version": "1.0.0",
        "input_schema": {"type": "object"},
    }
    data["members"]["billing"]["tools"].append({"tool": "crm"})
    billing_edge = next(h for h in data["handoffs"] if h["to"] == "billing")
    billing_edge["contract"] = {"type": "object"}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, doc = imported(ws, ENTRY)
    assert code == 0 and not doc["changed"], doc["diff"]
    kept = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert kept["members"]["billing"]["version"] == "2.3.0"
    assert kept["environments"] == {"prod": {"require_reason": True}}
    assert {"tool": "crm"} in kept["members"]["billing"]["tools"]
    assert next(h for h in kept["handoffs"] if h["to"] == "billing")["contract"] == {
        "type": "object"
    }


def test_an_existing_prompt_path_outside_the_workspace_is_refused(ws: Path) -> None:
    assert imported(ws, ENTRY)[0] == 0
    path = ws / "teamrel.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "prompt: prompts/billing.md", "prompt: ../outside.md"
        ),
        encoding="utf-8",
    )
    before = snapshot(ws)
    result = teamrel(ws, "import", "openai-agents", ENTRY, "--yes", "--format", "json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert any("../outside.md: refused" in d["message"] for d in doc["diagnostics"])
    assert snapshot(ws) == before and not (ws.parent / "outside.md").exists()


def test_callable_instructions_get_a_note_and_a_placeholder(ws: Path) -> None:
    (ws / "dyn.py").write_text(
        "from agents import Agent\n"
        "def instructions(ctx, agent):\n    return 'computed'\n"
        "entry = Agent(name='Dyn', instructions=instructions, model='gpt-4o-2024-08-06')\n",
        encoding="utf-8",
    )
    code, doc = imported(ws, "dyn:entry")
    assert code == 0
    assert any("computed at run time by dyn:instructions" in n for n in doc["notes"])
    assert "teamrel cannot read them" in (ws / "prompts" / "dyn.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bad input

BAD_TEAMS = {
    "does-not-import": (
        "bad:entry",
        "raise RuntimeError('no config in this environment')\n",
        "module 'bad' does not import: RuntimeError: no config in this environment",
    ),
    "not-an-agent": (
        "bad:entry",
        "entry = {'name': 'triage'}\n",
        "is not an OpenAI Agents SDK Agent: it is dict",
    ),
    "missing-attribute": ("bad:nope", "x = 1\n", "'bad' has no attribute 'nope'"),
    "name-collision": (
        "bad:entry",
        "from agents import Agent\n"
        "a = Agent(name='Billing Team', instructions='a', model='gpt-4o-2024-08-06')\n"
        "b = Agent(name='billing team', instructions='b', model='gpt-4o-2024-08-06')\n"
        "entry = Agent(name='Triage', instructions='t', model='gpt-4o-2024-08-06',"
        " handoffs=[a, b])\n",
        "agents 'Billing Team' and 'billing team' both map to the member name 'billing-team'",
    ),
    "same-name-twice": (
        "bad:entry",
        "from agents import Agent\n"
        "a = Agent(name='Billing', instructions='a', model='gpt-4o-2024-08-06')\n"
        "b = Agent(name='Billing', instructions='b', model='gpt-4o-2024-08-06')\n"
        "entry = Agent(name='Triage', instructions='t', model='gpt-4o-2024-08-06',"
        " handoffs=[a, b])\n",
        "two different agents are named 'Billing'",
    ),
    "path-traversal": (
        "bad:entry",
        "from agents import Agent\n"
        "entry = Agent(name='../../etc/cron.d/x', instructions='t', model='gpt-4o-2024-08-06')\n",
        "agent name '../../etc/cron.d/x' looks like a file path",
    ),
    "tool-collides-with-agent": (
        "bad:entry",
        "from agents import Agent, function_tool\n"
        "@function_tool\ndef billing(q: str) -> str:\n    'Ask.'\n    return q\n"
        "b = Agent(name='Billing', instructions='b', model='gpt-4o-2024-08-06')\n"
        "entry = Agent(name='Triage', instructions='t', model='gpt-4o-2024-08-06',"
        " handoffs=[b], tools=[billing])\n",
        "maps to the member name 'billing', already taken by agent 'Billing'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TEAMS))
def test_bad_input_is_refused_naming_the_source(ws: Path, case: str) -> None:
    entry, code_text, message = BAD_TEAMS[case]
    (ws / "bad.py").write_text(code_text, encoding="utf-8")
    before = snapshot(ws)
    result = teamrel(ws, "import", "openai-agents", entry, "--format", "json")
    assert result.exit_code == 3, result.stdout
    doc = json.loads(result.stdout)
    text = doc["message"] + " ".join(d["message"] for d in doc.get("diagnostics", []))
    assert f"openai-agents source {entry!r}" in doc["message"]
    assert message in text
    assert snapshot(ws) == before  # no file written
    if case == "does-not-import":  # the text rendering once (each run imports the SDK)
        plain = teamrel(ws, "import", "openai-agents", entry)
        assert plain.exit_code == 3 and "Traceback" not in plain.stderr
        assert message in plain.stderr


def test_a_malformed_reference_is_a_usage_of_the_wrong_form(ws: Path) -> None:
    result = teamrel(ws, "import", "openai-agents", "support_team/team.py", "--format", "json")
    assert result.exit_code == 3
    assert "write 'package.module:agent'" in json.loads(result.stdout)["message"]
    assert not (ws / "teamrel.yaml").exists()


def test_an_existing_member_of_another_kind_is_refused(ws: Path) -> None:
    (ws / "teamrel.yaml").write_text(
        "team: support\nmembers:\n  billing:\n    kind: tool\n    version: 1.0.0\n"
        "    input_schema: {type: object}\n",
        encoding="utf-8",
    )
    before = snapshot(ws)
    result = teamrel(ws, "import", "openai-agents", ENTRY, "--yes")
    assert result.exit_code == 3
    assert "already declares as a tool member" in result.stderr
    assert snapshot(ws) == before


def test_the_cli_does_not_import_the_sdk() -> None:
    probe = (
        "import sys, teamrel.cli.app\n"
        "print(sorted(m for m in sys.modules if m == 'agents' or m.startswith('agents.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_network_guard_is_live_in_the_child(ws: Path, guard: Path) -> None:
    # the guard the other tests rely on really runs in the importing interpreter
    (ws / "net.py").write_text(
        "import socket\nsocket.create_connection(('example.com', 80))\n", encoding="utf-8"
    )
    result = teamrel(ws, "import", "openai-agents", "net:entry")
    assert result.exit_code == 3
    assert "module 'net' does not import: OSError: network disabled by the test" in result.stderr
    assert guard.exists()


def test_without_the_extra_the_command_names_the_pip_install(ws: Path, tmp_path: Path) -> None:
    block = tmp_path / "block"
    block.mkdir()
    # the SDK made unimportable in both interpreters, as when it is not installed
    (block / "sitecustomize.py").write_text(
        "import sys\nsys.modules['agents'] = None\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(block)
    proc = subprocess.run(
        [sys.executable, "-m", "teamrel", "-C", str(ws), "import", "openai-agents", ENTRY],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "pip install 'teamrel[openai-agents]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (ws / "teamrel.yaml").exists()
