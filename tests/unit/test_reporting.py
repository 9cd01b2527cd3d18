"""The CI renderings of a check report, validated against the formats' own schemas.

JUnit XML against tests/data/junit-jenkins.xsd (the Ant/Jenkins junit format CI systems
read; lxml is a test-only dependency for XSD validation), SARIF against the SARIF 2.1.0
JSON Schema subset in tests/data, GitHub workflow commands against their documented syntax.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from teamrel.check import CheckReport, EdgeEnd, EdgeResult, StepResult
from teamrel.compat import Problem
from teamrel.errors import Diagnostic
from teamrel.models import Source
from teamrel.reporting import (
    edge_details,
    render_github,
    render_github_diagnostics,
    render_junit,
    render_sarif,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def _edge(verdict: str, key: str = "router->billing", **kw: object) -> EdgeResult:
    steps: tuple[StepResult, ...] = ()
    if verdict == "incompatible":
        steps = (
            StepResult(
                "producer-consumer",
                "file:///contracts/triaged.json",
                "file:///contracts/billing_input.json",
                "incompatible",
                (
                    Problem(
                        "enum-extended",
                        "/intent",
                        "producer#/properties/intent",
                        "consumer#/properties/intent",
                        'producer may send intent="cancel_subscription" <&> \x01; consumer '
                        "accepts only billing_question, refund_request",
                    ),
                ),
                {"intent": "cancel_subscription", "odd": "\x00<]]>"},
                True,
            ),
        )
    elif verdict == "unknown":
        steps = (StepResult("producer-consumer", "a", "b", "unknown", reason="pattern lookahead"),)
    elif verdict == "compatible":
        steps = (StepResult("producer-consumer", "a", "b", "compatible"),)
    producer, consumer = key.replace("=>", "->").split("->")
    return EdgeResult(
        key=key,
        kind=str(kw.get("kind", "handoff")),
        producer=EdgeEnd(producer, "2.2.0"),
        consumer=EdgeEnd(consumer, "1.4.2", pinned=True),
        contract=kw.get("contract"),  # type: ignore[arg-type]
        verdict=verdict,  # type: ignore[arg-type]
        steps=steps,
        note="agent declares no call schema" if verdict == "unchecked" else None,
        source=Source(file="teamrel.yaml", line=42, pointer="/handoffs/1"),
    )


def _report(unknown: str = "fail") -> CheckReport:
    return CheckReport(
        team="support",
        edges=(
            _edge("compatible", "intake->router", contract="contracts/ticket.json"),
            _edge("incompatible"),
            _edge("unknown", "router->escalation"),
            _edge("unchecked", "billing=>orders", kind="tool-call"),
        ),
        unknown=unknown,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def junit_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "junit-jenkins.xsd")))


@pytest.mark.parametrize("unknown", ["fail", "warn"])
def test_junit_validates_against_the_junit_xsd(junit_schema: etree.XMLSchema, unknown: str) -> None:
    xml = render_junit(_report(unknown), prefix="examples/story-b")
    doc = etree.fromstring(xml.encode("utf-8"))
    assert junit_schema.validate(doc), junit_schema.error_log
    cases = doc.findall(".//testcase")
    assert len(cases) == 4  # one testcase per edge
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == (2 if unknown == "fail" else 1)
    broken = cases[1].find("failure")
    assert broken is not None and broken.get("type") == "incompatible"
    assert "cancel_subscription" in (broken.text or "")
    assert "/intent" in (broken.get("message") or "")
    assert cases[1].get("file") == "examples/story-b/teamrel.yaml"
    assert cases[1].get("line") == "42"
    assert cases[0].get("file") == "examples/story-b/contracts/ticket.json"
    assert cases[3].find("skipped") is not None
    suite = doc.find("testsuite")
    assert suite is not None and suite.get("tests") == "4"


def test_junit_schema_rejects_what_ci_would_reject(junit_schema: etree.XMLSchema) -> None:
    # the XSD is not a rubber stamp: a testcase without a name, or counts that are not
    # numbers, are refused
    bad = b'<testsuites><testsuite name="x" tests="many"><testcase/></testsuite></testsuites>'
    assert not junit_schema.validate(etree.fromstring(bad))


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DATA / "sarif-2.1.0-subset.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_sarif_validates_against_the_sarif_schema(sarif_validator: jsonschema.Validator) -> None:
    log = json.loads(render_sarif(_report(), prefix="", exit_code=1))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "error", "note"]
    assert results[0]["ruleId"] == "incompatible-handoff"
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "teamrel.yaml"}, "region": {"startLine": 42}}
    assert results[0]["properties"]["witness"]["intent"] == "cancel_subscription"
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]


def test_sarif_schema_rejects_a_malformed_log(sarif_validator: jsonschema.Validator) -> None:
    log = json.loads(render_sarif(_report()))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(log))


_COMMAND = re.compile(r"^::(error|warning|notice)( [a-zA-Z]+=[^,:]*(,[a-zA-Z]+=[^,:]*)*)?::(.*)$")


def test_github_commands_are_well_formed_and_escaped() -> None:
    out = render_github(_report(), prefix="examples/story-b").splitlines()
    commands = [line for line in out if line.startswith("::")]
    assert len(commands) == 3
    for line in commands:
        m = _COMMAND.match(line)
        assert m, line
        assert "\n" not in line and "\r" not in line
    error = commands[0]
    assert error.startswith("::error file=examples/story-b/teamrel.yaml,line=42,title=")
    assert "%0A" in error  # multi-line message, escaped
    assert "cancel_subscription" in error
    assert commands[1].startswith("::error ")  # unknown fails under --unknown fail
    assert commands[2].startswith("::notice ")
    assert out[-1].startswith("teamrel check FAILED")


def test_github_unknown_is_a_warning_under_warn() -> None:
    out = render_github(_report("warn"))
    assert "::warning title=" not in out  # it has a file
    assert "::warning file=teamrel.yaml,line=42,title=unknown handoff router->escalation::" in out


def test_edge_details_name_the_schema_files_not_placeholders() -> None:
    # "producer: producer#/properties/intent" told the reader nothing about which file to open
    text = edge_details(_edge("incompatible"))
    assert "[incompatible] producer-consumer: contracts/triaged.json ⊆ " in text
    assert "    producer: contracts/triaged.json#/properties/intent" in text
    assert "    consumer: contracts/billing_input.json#/properties/intent" in text
    assert "file:///" not in text and "producer#" not in text


def test_github_annotations_for_a_workspace_that_does_not_load() -> None:
    diags = [
        Diagnostic("path-refused", "prompt '../x' escapes, really", "teamrel.yaml", 14, "/m/p"),
        Diagnostic("cycle", "a -> a", "teamrel.yaml", None, "/handoffs/0", "warning"),
    ]
    text = render_github_diagnostics(diags, prefix="team")
    assert text.splitlines() == [
        "::error file=team/teamrel.yaml,line=14,title=teamrel workspace%3A path-refused::"
        "#/m/p: prompt '../x' escapes, really",
        "::warning file=team/teamrel.yaml,title=teamrel workspace%3A cycle::#/handoffs/0: a -> a",
    ]
    assert render_github_diagnostics([]) == ""
