"""`teamrel compat` end to end (typer CliRunner on `teamrel.cli.app.app`): verdicts, exit
codes, text and JSON output, cross-file `$ref`s relative to each file, bad input (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clikit import cli_runner

from teamrel.cli.app import app

runner = cli_runner()

TICKET_IN = {
    "type": "object",
    "properties": {
        "intent": {"enum": ["billing_question", "refund_request", "technical_issue"]},
        "customer": {
            "type": "object",
            "properties": {"tier": {"enum": ["free", "pro"]}, "email": {"type": "string"}},
            "required": ["tier"],
            "additionalProperties": False,
        },
    },
    "required": ["intent", "customer"],
    "additionalProperties": False,
}
TICKET_OUT_NARROW = {
    **TICKET_IN,
    "properties": {**TICKET_IN["properties"], "intent": {"const": "refund_request"}},
}
TICKET_OUT_NEW_INTENT = {
    **TICKET_IN,
    "properties": {
        **TICKET_IN["properties"],
        "intent": {
            "enum": ["billing_question", "refund_request", "technical_issue", "cancel_subscription"]
        },
    },
}


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_compatible_exits_0(tmp_path: Path) -> None:
    p = write(tmp_path / "out.json", TICKET_OUT_NARROW)
    c = write(tmp_path / "in.json", TICKET_IN)
    res = invoke("compat", str(p), str(c))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert res.stdout.startswith("compatible")


def test_incompatible_text_shows_problem_and_witness(tmp_path: Path) -> None:
    p = write(tmp_path / "out.json", TICKET_OUT_NEW_INTENT)
    c = write(tmp_path / "in.json", TICKET_IN)
    res = invoke("compat", str(p), str(c))
    assert res.exit_code == 1, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("incompatible")
    problem_lines = [line for line in lines if line.startswith("  /intent")]
    assert len(problem_lines) == 1, res.stdout
    # one line per problem: pointer, kind, sentence, both schema locations
    assert "[enum-extended]" in problem_lines[0]
    assert "cancel_subscription" in problem_lines[0]
    assert "producer: producer#" in problem_lines[0]
    assert "consumer: consumer#" in problem_lines[0]
    assert "witness" in res.stdout
    assert '"cancel_subscription"' in res.stdout


def test_incompatible_json_document(tmp_path: Path) -> None:
    p = write(tmp_path / "out.json", TICKET_OUT_NEW_INTENT)
    c = write(tmp_path / "in.json", TICKET_IN)
    res = invoke("compat", str(p), str(c), "--format", "json")
    assert res.exit_code == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["format_version"] == 1
    assert doc["verdict"] == "incompatible"
    assert doc["has_witness"] is True
    assert {"witness", "problems", "reason"} <= doc.keys()
    # the witness is real: valid under the producer, rejected by the consumer
    assert jsonschema.Draft202012Validator(TICKET_OUT_NEW_INTENT).is_valid(doc["witness"])
    assert not jsonschema.Draft202012Validator(TICKET_IN).is_valid(doc["witness"])
    assert doc["witness"]["intent"] == "cancel_subscription"
    problem = doc["problems"][0]
    assert problem["instance_pointer"] == "/intent"
    assert {"kind", "producer_location", "consumer_location", "message"} <= problem.keys()


def test_global_json_format_and_null_witness(tmp_path: Path) -> None:
    p = write(tmp_path / "p.json", {"type": ["string", "null"]})
    c = write(tmp_path / "c.json", {"type": "string"})
    res = invoke("--format", "json", "compat", str(p), str(c))
    assert res.exit_code == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "incompatible"
    assert doc["has_witness"] is True
    assert doc["witness"] is None  # null IS the witness: has_witness tells them apart


def test_compatible_json_has_no_witness(tmp_path: Path) -> None:
    p = write(tmp_path / "p.json", {"type": "integer"})
    c = write(tmp_path / "c.json", {"type": "number"})
    res = invoke("compat", str(p), str(c), "--format", "json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc == doc | {"verdict": "compatible", "has_witness": False, "witness": None}
    assert doc["problems"] == []


def test_format_assertion_flag(tmp_path: Path) -> None:
    # "date" has an exact checker in python-jsonschema without optional packages
    p = write(tmp_path / "p.json", {"type": "string"})
    c = write(tmp_path / "c.json", {"type": "string", "format": "date"})
    assert invoke("compat", str(p), str(c)).exit_code == 0
    res = invoke("compat", str(p), str(c), "--format-assertion", "--format", "json")
    assert res.exit_code == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "incompatible"
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    assert not jsonschema.Draft202012Validator({"format": "date"}, format_checker=checker).is_valid(
        doc["witness"]
    )


def test_format_assertion_with_a_loose_checker_says_so(tmp_path: Path) -> None:
    # python-jsonschema's "email" checker is installed, but only looks for "@"
    p = write(tmp_path / "p.json", {"type": "string"})
    c = write(tmp_path / "c.json", {"type": "string", "format": "email"})
    res = invoke("compat", str(p), str(c), "--format-assertion", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "unknown"
    assert "looser than the specification" in doc["reason"]
    assert "installed" not in doc["reason"]
    # the same format on both sides: decided without asking the checker
    res = invoke("compat", str(c), str(c), "--format-assertion")
    assert res.exit_code == 0, res.stdout + res.stderr


def test_cross_file_refs_resolve_relative_to_each_file(tmp_path: Path) -> None:
    write(tmp_path / "a" / "defs" / "money.json", {"type": "number", "minimum": 0})
    p = write(
        tmp_path / "a" / "order.json",
        {"type": "object", "properties": {"total": {"$ref": "defs/money.json"}}},
    )
    write(tmp_path / "b" / "defs" / "money.json", {"type": "number"})
    c = write(
        tmp_path / "b" / "order.json",
        {"type": "object", "properties": {"total": {"$ref": "defs/money.json"}}},
    )
    assert invoke("compat", str(p), str(c)).exit_code == 0
    res = invoke("compat", str(c), str(p), "--format", "json")
    assert res.exit_code == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["witness"]["total"] < 0
    assert doc["problems"][0]["instance_pointer"] == "/total"


def _fake_check(verdict: str) -> Any:
    from teamrel.compat import CompatResult

    def fake(*args: Any, **kwargs: Any) -> Any:
        return CompatResult(verdict=verdict, reason="pattern at producer#/pattern: backreference")  # type: ignore[arg-type]

    return fake


@pytest.mark.parametrize(("policy", "code"), [("fail", 1), ("warn", 0)])
def test_unknown_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str, code: int
) -> None:
    import teamrel.compat

    monkeypatch.setattr(teamrel.compat, "check", _fake_check("unknown"))
    p = write(tmp_path / "p.json", {"type": "string"})
    c = write(tmp_path / "c.json", {"type": "string"})
    res = invoke("compat", str(p), str(c), "--unknown", policy)
    assert res.exit_code == code, res.stdout + res.stderr
    assert res.stdout.startswith("unknown")
    assert "reason: pattern at producer#/pattern: backreference" in res.stdout
    res = invoke("compat", str(p), str(c), "--unknown", policy, "--format", "json")
    assert res.exit_code == code
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "unknown" and doc["reason"].startswith("pattern")


def test_unknown_default_is_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import teamrel.compat

    monkeypatch.setattr(teamrel.compat, "check", _fake_check("unknown"))
    p = write(tmp_path / "p.json", True)
    c = write(tmp_path / "c.json", True)
    assert invoke("compat", str(p), str(c)).exit_code == 1


def test_bad_option_values_are_usage_errors(tmp_path: Path) -> None:
    p = write(tmp_path / "p.json", True)
    assert invoke("compat", str(p), str(p), "--unknown", "maybe").exit_code == 2
    assert invoke("compat", str(p), str(p), "--format", "xml").exit_code == 2
    assert invoke("compat", str(p)).exit_code == 2


def test_missing_file_exits_3(tmp_path: Path) -> None:
    c = write(tmp_path / "c.json", True)
    res = invoke("compat", str(tmp_path / "nope.json"), str(c))
    assert res.exit_code == 3
    assert "producer schema" in res.stderr and "nope.json" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    p = write(tmp_path / "p.json", True)
    c = tmp_path / "broken.json"
    c.write_text('{\n  "type": "string",\n}\n', encoding="utf-8")
    res = invoke("compat", str(p), str(c))
    assert res.exit_code == 3
    assert "consumer schema" in res.stderr and "broken.json" in res.stderr


def test_not_a_schema_names_pointer(tmp_path: Path) -> None:
    p = write(tmp_path / "p.json", {"properties": {"a": {"type": 12}}})
    c = write(tmp_path / "c.json", True)
    res = invoke("compat", str(p), str(c), "--format", "json")
    assert res.exit_code == 3
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["format_version"] == 1
    assert doc["pointer"] == "/properties/a/type"
    assert "p.json" in doc["message"]


@pytest.mark.parametrize("ref", ["https://example.com/s.json", "../outside.json"])
def test_remote_or_escaping_ref_refused(tmp_path: Path, ref: str) -> None:
    write(tmp_path / "outside.json", True)
    p = write(tmp_path / "dir" / "p.json", {"$ref": ref})
    c = write(tmp_path / "dir" / "c.json", True)
    res = invoke("compat", str(p), str(c))
    assert res.exit_code == 3, res.stdout + res.stderr
    assert "producer schema" in res.stderr


def test_quiet_prints_only_the_verdict(tmp_path: Path) -> None:
    p = write(tmp_path / "out.json", TICKET_OUT_NEW_INTENT)
    c = write(tmp_path / "in.json", TICKET_IN)
    res = invoke("-q", "compat", str(p), str(c))
    assert res.exit_code == 1
    assert (res.stdout + res.stderr).strip().splitlines() == [
        f"incompatible: {p} may send values {c} rejects"
    ]


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"[1, 2]", "object or a boolean"),
        (b'{"a":' * 3000 + b"1" + b"}" * 3000, "deep"),
    ],
    ids=["not-utf8", "not-a-schema", "too-deep"],
)
def test_unusable_file_exits_3(tmp_path: Path, content: bytes, expect: str) -> None:
    p = tmp_path / "p.json"
    p.write_bytes(content)
    c = write(tmp_path / "c.json", True)
    res = invoke("compat", str(p), str(c))
    assert res.exit_code == 3, res.stdout + res.stderr
    assert "producer schema" in res.stderr and expect in res.stderr
    assert "Traceback" not in res.stdout + res.stderr


def test_directory_is_not_a_schema(tmp_path: Path) -> None:
    c = write(tmp_path / "c.json", True)
    res = invoke("compat", str(c), str(tmp_path))
    assert res.exit_code == 3
    assert "consumer schema" in res.stderr
