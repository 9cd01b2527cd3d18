"""CI renderings of a check report: JUnit XML, SARIF 2.1.0, GitHub Actions workflow commands.

Owns the three machine formats `teamrel check --format junit|sarif|github` prints, built as
strings (the CLI only prints them): one JUnit testcase per edge, so CI systems render the
check as a test report; one SARIF result per edge that is not compatible, for code-scanning
UIs; one `::error`/`::warning`/`::notice` workflow command per such edge, pointing at the
contract file or the teamrel.yaml line of the handoff. A stale scorecard (a warning that
never fails the check) is a `::warning`, a SARIF `warning` and a line of the JUnit suite's
`system-out`. Paths are workspace-relative, with an
optional prefix (the workspace's path from the repository root, where CI runs).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from teamrel import __version__
from teamrel.check import CheckReport, CheckWarning, EdgeResult, StepResult
from teamrel.errors import Diagnostic

#: The SARIF version and schema URI the output declares.
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# XML 1.0 forbids most control characters even escaped; schema enum values can hold anything.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(s: str) -> str:
    return _XML_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def _path(prefix: str, file: str | None) -> str | None:
    if file is None:
        return None
    if not prefix or prefix == ".":
        return file
    return f"{prefix.rstrip('/')}/{file}"


def _witness_text(step: StepResult) -> str:
    return json.dumps(step.witness, ensure_ascii=True, sort_keys=True)


def _short_uri(uri: str) -> str:
    """A schema URI as the user wrote it: `contracts/x.json`, not `file:///contracts/x.json`."""
    return uri.removeprefix("file:///")


def _schema_location(location: str, left: str, right: str) -> str:
    """A compat location (`producer#/ptr`, `consumer#/ptr` or `<resource uri>#/ptr`) as the
    schema file and pointer it names, so a reader can open the file at the keyword."""
    doc, sep, pointer = location.partition("#")
    uri = {"producer": left, "consumer": right}.get(doc, doc)
    return f"{_short_uri(uri)}{sep}{pointer}"


def edge_details(edge: EdgeResult) -> str:
    """Every problem of every failing step, and the witnesses, as plain text lines."""
    lines = [f"{edge.producer.label()} -> {edge.consumer.label()} ({edge.kind})"]
    if edge.contract:
        lines.append(f"contract: {edge.contract}")
    if edge.note:
        lines.append(f"note: {edge.note}")
    for s in edge.failing:
        lines.append(f"[{s.verdict}] {s.step}: {_short_uri(s.left)} ⊆ {_short_uri(s.right)}")
        if s.reason:
            lines.append(f"  reason: {s.reason}")
        for p in s.problems:
            lines.append(f"  {p.kind} at {p.instance_pointer or '/'}: {p.message}")
            lines.append(f"    producer: {_schema_location(p.producer_location, s.left, s.right)}")
            lines.append(f"    consumer: {_schema_location(p.consumer_location, s.left, s.right)}")
        if s.has_witness:
            lines.append(f"  witness: {_witness_text(s)}")
    return "\n".join(lines)


def _fails(edge: EdgeResult, report: CheckReport) -> bool:
    return edge.verdict == "incompatible" or (
        edge.verdict == "unknown" and report.unknown == "fail"
    )


# --------------------------------------------------------------------------- JUnit XML


def _junit_case(suite: ET.Element, edge: EdgeResult, report: CheckReport, prefix: str) -> None:
    """One edge's testcase: failed, skipped (unchecked), or passed (an unknown under
    --unknown warn passes, with the reason in its output)."""
    file, line = edge.location()
    attrs = {
        "name": _xml_text(f"{edge.key} [{edge.producer.label()} -> {edge.consumer.label()}]"),
        "classname": _xml_text(f"teamrel.{report.team}.{edge.kind}"),
        "time": "0",
    }
    path = _path(prefix, file)
    if path:
        attrs["file"] = _xml_text(path)
    if line:
        attrs["line"] = str(line)
    case = ET.SubElement(suite, "testcase", attrs)
    message = _xml_text(edge.first_problem() or edge.verdict)
    if _fails(edge, report):
        failure = ET.SubElement(case, "failure", {"message": message, "type": edge.verdict})
        failure.text = _xml_text(edge_details(edge))
    elif edge.verdict == "unchecked":
        ET.SubElement(case, "skipped", {"message": message, "type": "unchecked"})
    elif edge.verdict == "unknown":
        out = ET.SubElement(case, "system-out")
        out.text = _xml_text("warning: undecided\n" + edge_details(edge))


def render_junit(report: CheckReport, *, prefix: str = "") -> str:
    """JUnit XML (the Jenkins/Ant format): one testsuite for the team, one testcase per edge."""
    summary = report.summary()
    failures = sum(1 for e in report.edges if _fails(e, report))
    skipped = summary.unchecked
    root = ET.Element(
        "testsuites",
        {
            "name": "teamrel check",
            "tests": str(len(report.edges)),
            "failures": str(failures),
            "errors": "0",
            "time": "0",
        },
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": f"teamrel check: {report.team}",
            "tests": str(len(report.edges)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": "0",
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("teamrel_version", __version__),
        ("engine_version", summary.engine_version),
        ("unknown_policy", report.unknown),
        ("passed", str(report.passed).lower()),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for edge in report.edges:
        _junit_case(suite, edge, report, prefix)
    if report.warnings:  # warnings are no test case: they never fail the suite
        out = ET.SubElement(suite, "system-out")
        out.text = _xml_text("".join(f"warning: {w.message}\n" for w in report.warnings))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


# --------------------------------------------------------------------------- GitHub


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport, *, prefix: str = "") -> str:
    """GitHub Actions workflow commands, one per edge that is not compatible, then a summary."""
    out: list[str] = []
    for edge in report.edges:
        if edge.verdict == "compatible":
            continue
        if _fails(edge, report):
            command = "error"
        elif edge.verdict == "unknown":
            command = "warning"
        else:
            command = "notice"
        file, line = edge.location()
        props: list[str] = []
        path = _path(prefix, file)
        if path:
            props.append(f"file={_gh_prop(path)}")
            if line:
                props.append(f"line={line}")
        title = f"{edge.verdict} handoff {edge.key}"
        props.append(f"title={_gh_prop(title)}")
        message = f"{edge.first_problem() or edge.verdict}\n{edge_details(edge)}"
        out.append(f"::{command} {','.join(props)}::{_gh_data(message)}")
    for w in report.warnings:
        props = [f"file={_gh_prop(_path(prefix, w.file) or w.file)}"]
        props.append(f"title={_gh_prop(w.code)}")
        out.append(f"::warning {','.join(props)}::{_gh_data(w.message)}")
    s = report.summary()
    verdict = "passed" if report.passed else "FAILED"
    out.append(
        f"teamrel check {verdict}: {s.edges} edges, {s.compatible} compatible, "
        f"{s.incompatible} incompatible, {s.unknown} unknown, {s.unchecked} unchecked"
    )
    return "\n".join(out) + "\n"


def render_github_diagnostics(diagnostics: Sequence[Diagnostic], *, prefix: str = "") -> str:
    """A workspace that does not load, as GitHub annotations on the files and lines at fault
    (so a broken teamrel.yaml or contract is marked in the pull request, not only in the log)."""
    out: list[str] = []
    for d in diagnostics:
        command = "error" if d.severity == "error" else "warning"
        props: list[str] = []
        path = _path(prefix, d.file)
        if path:
            props.append(f"file={_gh_prop(path)}")
            if d.line:
                props.append(f"line={d.line}")
        props.append(f"title={_gh_prop(f'teamrel workspace: {d.code}')}")
        where = f"#{d.pointer}: " if d.pointer else ""
        out.append(f"::{command} {','.join(props)}::{_gh_data(where + d.message)}")
    return "\n".join(out) + ("\n" if out else "")


# --------------------------------------------------------------------------- SARIF 2.1.0

_HELP = (
    "Run `teamrel check` locally for every problem and a witness value; see docs/check.md "
    "(verdicts, exit codes) and docs/compat.md (problem kinds) in the teamrel documentation."
)

_RULES: list[dict[str, Any]] = [
    {
        "id": "incompatible-handoff",
        "name": "IncompatibleHandoff",
        "shortDescription": {"text": "A producer may send a value its consumer rejects."},
        "fullDescription": {
            "text": "The producer's output schema is not a subset of the contract or of the "
            "consumer's input schema; teamrel found a witness value that proves it."
        },
        "defaultConfiguration": {"level": "error"},
        "help": {"text": _HELP},
    },
    {
        "id": "undecided-handoff",
        "name": "UndecidedHandoff",
        "shortDescription": {"text": "teamrel could neither prove nor refute a handoff."},
        "fullDescription": {
            "text": "The compatibility engine answered unknown: a keyword or construct it "
            "could not decide. Simplify the schema or review the handoff by hand."
        },
        "defaultConfiguration": {"level": "warning"},
        "help": {"text": _HELP},
    },
    {
        "id": "unchecked-handoff",
        "name": "UncheckedHandoff",
        "shortDescription": {"text": "A side of the handoff declares no schema."},
        "fullDescription": {
            "text": "Nothing can be proved for an edge with an undeclared side; declare the "
            "schema or check against a base release that pins it."
        },
        "defaultConfiguration": {"level": "note"},
        "help": {"text": _HELP},
    },
    {
        "id": "stale-scorecard",
        "name": "StaleScorecard",
        "shortDescription": {"text": "An eval scorecard measured another configuration."},
        "fullDescription": {
            "text": "The scorecard's stamped behavioural digest is not the member's current "
            "one: its prompt, model, parameters, schemas or tools changed since the suite ran. "
            "Re-run the suite and `teamrel eval record` it (docs/evals.md)."
        },
        "defaultConfiguration": {"level": "warning"},
        "help": {"text": _HELP},
    },
]
_RULE_INDEX = {"incompatible": 0, "unknown": 1, "unchecked": 2, "stale-scorecard": 3}


def _sarif_warning(w: CheckWarning, prefix: str) -> dict[str, Any]:
    rule = _RULE_INDEX[w.code]
    return {
        "ruleId": _RULES[rule]["id"],
        "ruleIndex": rule,
        "level": "warning",
        "kind": "review",
        "message": {"text": w.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": _path(prefix, w.file) or w.file}}}
        ],
        "properties": {"member": w.member, "suite": w.suite},
    }


def _sarif_result(edge: EdgeResult, report: CheckReport, prefix: str) -> dict[str, Any]:
    rule = _RULE_INDEX[edge.verdict]
    if _fails(edge, report):
        level = "error"
    elif edge.verdict == "unknown":
        level = "warning"
    else:
        level = "note"
    file, line = edge.location()
    uri = _path(prefix, file) or _path(prefix, "teamrel.yaml") or "teamrel.yaml"
    text = f"{edge.key}: {edge.first_problem() or edge.verdict}"
    fingerprint = hashlib.sha256(f"{report.team}\0{edge.kind}\0{edge.key}".encode()).hexdigest()
    props: dict[str, Any] = {
        "producer": edge.producer.to_json(),
        "consumer": edge.consumer.to_json(),
        "contract": edge.contract,
        "verdict": edge.verdict,
        "problemKinds": sorted({p.kind for p in edge.problems}),
    }
    witnesses = [s.witness for s in edge.failing if s.has_witness]
    if witnesses:
        props["witness"] = witnesses[0]
    result: dict[str, Any] = {
        "ruleId": _RULES[rule]["id"],
        "ruleIndex": rule,
        "level": level,
        "kind": "fail",
        "message": {"text": text + "\n" + edge_details(edge)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": line or 1},
                },
                "logicalLocations": [
                    {"name": edge.key, "fullyQualifiedName": f"{report.team}/{edge.key}"}
                ],
            }
        ],
        "partialFingerprints": {"teamrelEdge/v1": fingerprint},
        "properties": props,
    }
    return result


def render_sarif(report: CheckReport, *, prefix: str = "", exit_code: int | None = None) -> str:
    """A SARIF 2.1.0 log: one run, one result per edge that is not compatible."""
    results = [_sarif_result(e, report, prefix) for e in report.edges if e.verdict != "compatible"]
    results += [_sarif_warning(w, prefix) for w in report.warnings]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if exit_code is not None:
        invocation["exitCode"] = exit_code
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "teamrel",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": _RULES,
                    }
                },
                "invocations": [invocation],
                "results": results,
                "properties": {"summary": report.summary().to_json()},
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
