"""The pydantic models: frozen, extra keys refused, defaults, helpers."""

from __future__ import annotations

import pydantic
import pytest

from teamrel.models import (
    NAME_RE,
    SEMVER_RE,
    AgentSpec,
    HandoffSpec,
    ResolvedHandoff,
    ResolvedMember,
    SchemaDoc,
    TeamFile,
    ToolSpec,
    error_text,
    member_digest,
)

AGENT = {
    "version": "1.0.0",
    "model": {"provider": "anthropic", "id": "claude-sonnet-4-5-20250929"},
    "prompt": "p.md",
    "input": True,
    "output": {"type": "string"},
}


def test_agent_defaults_and_frozen() -> None:
    a = AgentSpec.model_validate(AGENT)
    assert a.kind == "agent" and a.tools == [] and a.evals == [] and a.metadata == {}
    with pytest.raises(pydantic.ValidationError):
        a.version = "2.0.0"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({k: v for k, v in AGENT.items() if k != "prompt"}, "missing required key 'prompt'"),
        ({**AGENT, "promt": "x"}, "unknown key 'promt'"),
        ({**AGENT, "prompt": 12}, "expected a string, not 12"),
        ({**AGENT, "model": ["anthropic"]}, "expected a mapping, not a list"),
        ({**AGENT, "kind": "robot"}, "'robot' is not one of the allowed values"),
    ],
)
def test_validation_errors_are_worded_by_teamrel(doc: dict, expected: str) -> None:  # type: ignore[type-arg]
    # pydantic's own `msg` ("Field required", "Input should be ...") changes between releases
    with pytest.raises(pydantic.ValidationError) as info:
        AgentSpec.model_validate(doc)
    assert error_text(info.value.errors()[0]).startswith(expected)


def test_extra_keys_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        AgentSpec.model_validate({**AGENT, "promt": "x"})
    with pytest.raises(pydantic.ValidationError):
        ToolSpec.model_validate(
            {"kind": "tool", "version": "1.0.0", "input_schema": True, "extra": 1}
        )


def test_single_eval_mapping_accepted() -> None:
    a = AgentSpec.model_validate({**AGENT, "evals": {"suite": "s", "metrics": {"acc": 1}}})
    assert a.evals[0].suite == "s" and a.evals[0].metrics == {"acc": 1.0}


def test_tool_uses() -> None:
    a = AgentSpec.model_validate({**AGENT, "tools": ["t", {"tool": "u", "call": "c.json"}]})
    assert a.tools[0] == "t"
    assert a.tools[1].tool == "u"  # type: ignore[union-attr]


def test_handoff_alias() -> None:
    h = HandoffSpec.model_validate({"from": "a", "to": "b"})
    assert h.from_ == "a" and h.contract is None


def test_teamfile_discriminates_kind() -> None:
    tf = TeamFile.model_validate(
        {
            "team": "t",
            "members": {
                "a": {"kind": "agent", **AGENT},
                "t": {"kind": "tool", "version": "1.0.0", "input_schema": True},
            },
        }
    )
    assert isinstance(tf.members["a"], AgentSpec)
    assert isinstance(tf.members["t"], ToolSpec)
    assert tf.policy.unknown == "fail"


@pytest.mark.parametrize("v", ["1.0.0", "0.1.0-rc.1", "2.0.0+build.5", "10.20.30"])
def test_semver_ok(v: str) -> None:
    assert SEMVER_RE.match(v)


@pytest.mark.parametrize("v", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0.0", ""])
def test_semver_bad(v: str) -> None:
    assert not SEMVER_RE.match(v)


@pytest.mark.parametrize("n", ["a", "router", "tech_support", "a.b-c", "A1"])
def test_names_ok(n: str) -> None:
    assert NAME_RE.match(n)


@pytest.mark.parametrize("n", ["", "..", "../x", "a/b", ".hidden", "a-", "x" * 200, "a b"])
def test_names_bad(n: str) -> None:
    assert not NAME_RE.match(n)


def test_schema_doc() -> None:
    d = SchemaDoc.inline({"type": "string"}, "input")
    assert d.uri == "urn:teamrel:inline:input"
    assert d.to_json() == {"uri": d.uri, "schema": {"type": "string"}, "resources": {}}
    assert d.digest == SchemaDoc.model_validate(d.to_json()).digest


def test_resolved_member_helpers() -> None:
    spec = {
        "kind": "agent",
        "model": {"id": "m"},
        "tools": [{"tool": "t"}, "u"],
        "input": SchemaDoc.inline(True).to_json(),
        "output": None,
    }
    m = ResolvedMember(
        name="a", kind="agent", version="1.0.0", spec=spec, digest=member_digest(spec)
    )
    assert m.model_id == "m" and m.tools == ["t", "u"]
    assert m.schema_doc("input") is not None and m.schema_doc("output") is None


def test_handoff_keys() -> None:
    assert ResolvedHandoff(producer="a", consumer="b").key == "a->b"
    assert ResolvedHandoff(producer="a", consumer="t", kind="tool-call").key == "a=>t"
    assert ResolvedHandoff(producer="t", consumer="a", kind="tool-result").key == "a<=t"


@pytest.mark.parametrize("name", ["router\n", "../etc", "a/b", ".hidden", "x" * 129, "é"])
def test_name_re_refuses_unsafe_names(name: str) -> None:
    from teamrel.models import NAME_RE

    assert NAME_RE.match(name) is None


@pytest.mark.parametrize("version", ["1.2.3\n", "1.\u0663.0", "01.2.3", "1.2"])
def test_semver_re_refuses_near_misses(version: str) -> None:
    from teamrel.models import SEMVER_RE

    assert SEMVER_RE.match(version) is None
