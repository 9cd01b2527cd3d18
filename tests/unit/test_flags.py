"""Feature flags (docs/flags.md): declared and validated, every reachable state proved by
`check`, pinned in the manifest, and decided per key with sticky, monotone hashing."""

from __future__ import annotations

import json
import random
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from clikit import cli_runner

from teamrel.check import CheckStats, proven_states
from teamrel.cli.app import app
from teamrel.context import Context
from teamrel.flags import (
    MAX_GROUP_FLAGS,
    FlagsReport,
    PinnedProof,
    explore,
    manifest_section,
    unproven,
)
from teamrel.manifest import build_manifest
from teamrel.reporting import render_github, render_junit, render_sarif
from teamrel.runtime import flag_is_on
from teamrel.workspace import check_workspace, load_workspace

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "flags"
RADAR = "with `radar` on"


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".teamrel", "manifests"))
    return dst


def _edit(root: Path, change: object) -> None:
    path = root / "teamrel.yaml"
    doc = yaml.safe_load(path.read_text("utf-8"))
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")


# --------------------------------------------------------------------------- declaring


def test_validate_names_every_bad_reference_by_json_pointer(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")

    def change(doc: dict) -> None:
        doc["flags"]["bad_member"] = {"switches": [{"member": "nobody", "tool": "radar"}]}
        doc["flags"]["bad_tool"] = {"switches": [{"member": "writer", "tool": "radar"}]}
        doc["flags"]["bad_variant"] = {"switches": [{"member": "forecaster", "variant": "v9"}]}
        doc["flags"]["bad_handoff"] = {"switches": [{"handoff": "writer->forecaster"}]}
        doc["flags"]["twice"] = {"switches": [{"member": "forecaster", "tool": "radar"}]}
        doc["flags"]["two_things"] = {"switches": [{"member": "forecaster"}]}

    _edit(root, change)
    report = check_workspace(root)
    assert not report.valid
    found = {d.pointer: d for d in report.diagnostics if d.severity == "error"}
    assert "unknown member 'nobody'" in found["/flags/bad_member/switches/0"].message
    assert "does not list tool 'radar'" in found["/flags/bad_tool/switches/0"].message
    assert "no variant 'v9'" in found["/flags/bad_variant/switches/0"].message
    assert "no declared handoff" in found["/flags/bad_handoff/switches/0"].message
    assert "already switched by flag 'radar'" in found["/flags/twice/switches/0"].message
    assert "a switch is" in found["/flags/two_things/switches/0"].message
    assert all(d.line for d in found.values())  # located in teamrel.yaml


def test_variants_and_flags_leave_member_digests_alone(tmp_path: Path) -> None:
    with_flags = load_workspace(_copy(EXAMPLE, tmp_path / "a"))
    plain = _copy(EXAMPLE, tmp_path / "b")

    def strip(doc: dict) -> None:
        doc.pop("flags")
        doc["members"]["forecaster"].pop("variants")

    _edit(plain, strip)
    without = load_workspace(plain)
    assert {n: m.digest for n, m in with_flags.members.items()} == {
        n: m.digest for n, m in without.members.items()
    }
    variant = with_flags.variants["forecaster"]["umbrella"]
    # content-addressed like a member: its own prompt, version and parameters
    assert variant.digest != with_flags.members["forecaster"].digest
    assert variant.version == "0.4.0"
    assert variant.spec["model"]["parameters"] == {"temperature": 0.2, "max_tokens": 2048}  # type: ignore[index]
    assert "umbrella" in variant.spec["prompt"]["text"]  # type: ignore[index]


# --------------------------------------------------------------------------- proving


def test_check_catches_a_flag_enabling_a_breaking_tool_naming_the_state(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")
    report = Context(root).check(use_cache=False)
    default = [e for e in report.edges if e.flag_state is None]
    # the default state (radar off) is green, and does not even have the radar edges
    assert default and all(e.verdict == "compatible" for e in default)
    assert not any("radar" in e.key for e in default)
    assert not report.passed
    broken = [e for e in report.edges if e.verdict == "incompatible"]
    assert {e.key for e in broken} == {
        f"{RADAR}: forecaster<=radar",
        "with `radar` on, `umbrella_first` on: forecaster<=radar",
    }
    assert broken[0].flag_state == {"radar": True}
    assert report.flags is not None
    states = {s.state: s.passed for s in report.flags.states}
    assert states == {
        RADAR: False,
        "with `umbrella_first` on": True,
        "with `radar` on, `umbrella_first` on": False,
    }
    # every output format names the state
    doc = report.to_json()
    assert any(e.get("flag_state") == {"radar": True} for e in doc["edges"])
    assert all("flag_state" not in e for e in doc["edges"][: len(default)])
    for text in (render_junit(report), render_github(report), render_sarif(report)):
        assert RADAR in text
    result = cli_runner().invoke(app, ["-C", str(root), "check", "--no-cache"])
    assert result.exit_code == 1
    assert f"FAIL    {RADAR}: radar@1.0.0 => forecaster@0.3.0" in result.stdout
    assert "flags: 2 declared, 3 flag states proved besides the default" in result.stdout


def test_a_flag_state_shares_the_proofs_of_identical_schema_pairs(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")
    report = Context(root).check(use_cache=False)
    # 13 edges, but the variant only changes a prompt: each schema pair is proved once
    assert len(report.edges) == 13
    assert report.stats.proofs.computed <= 4
    assert report.stats.proofs.deduped >= 8


def test_the_demo_is_green_in_every_flag_state() -> None:
    report = Context(REPO).check(use_cache=False)
    assert report.passed
    assert report.flags is not None
    assert [s.state for s in report.flags.states] == ["with `refund_v2` on"]
    on = [e for e in report.edges if e.flag_state]
    assert {e.producer.version for e in on if e.producer.name == "refunds"} == {"1.3.0"}
    # the remembered report reads the section back as the same value
    assert FlagsReport.from_json(report.flags.to_json()) == report.flags


def _many_flags(root: Path, tools: int) -> None:
    """An agent with `tools` tools, each behind a flag, and a variant behind one more flag:
    the variant flag touches every tool flag's edges, so all of them form one group."""

    def change(doc: dict) -> None:
        fc = doc["members"]["forecaster"]
        for i in range(tools):
            name = f"t{i}"
            doc["members"][name] = {
                "kind": "tool",
                "version": "1.0.0",
                "input_schema": {"type": "object"},
                "output_schema": {"type": "object"},
            }
            fc["tools"].append({"tool": name, "call": {"type": "object"}, "result": True})
            doc["flags"][f"f{i}"] = {"switches": [{"member": "forecaster", "tool": name}]}
        doc["flags"].pop("radar")
        fc["tools"] = [t for t in fc["tools"] if t["tool"] != "radar"]

    _edit(root, change)


def test_combinations_are_bounded_and_the_rest_said_unexplored(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")
    _many_flags(root, MAX_GROUP_FLAGS + 2)
    ws = load_workspace(root)
    ex = explore(ws)
    n = MAX_GROUP_FLAGS + 3  # the tool flags and the variant flag
    pairs = MAX_GROUP_FLAGS + 2  # each tool flag with the variant flag
    assert len(ex.states) == n + pairs
    assert ex.unexplored_count == 2**n - 1 - n - pairs
    assert ex.unexplored and ex.groups == [sorted(ws.team.flags)]
    report = Context(root).check(use_cache=False)
    assert report.flags is not None
    assert report.flags.unexplored == ex.unexplored_count
    result = cli_runner().invoke(app, ["-C", str(root), "check", "--no-cache"])
    assert f"{ex.unexplored_count} combination(s) not explored" in result.stdout


def test_a_small_group_has_every_combination_proved(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")
    _many_flags(root, 3)
    ex = explore(load_workspace(root))
    assert len(ex.states) == 2**4 - 1 and ex.unexplored_count == 0


# --------------------------------------------------------------------------- manifest


def _schema() -> jsonschema.Draft202012Validator:
    text = resources.files("teamrel").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def test_manifest_pins_flags_only_when_declared(tmp_path: Path) -> None:
    ws = load_workspace(_copy(EXAMPLE, tmp_path / "ws"))
    kw = {"created_at": "2026-01-01T00:00:00.000000Z", "created_by": "t"}
    plain = build_manifest("weather-desk", "r1", ws.members, **kw)  # type: ignore[arg-type]
    assert "flags" not in plain.body() and "flags" not in plain.to_json()
    report = Context(ws.root).check(use_cache=False)
    section = manifest_section(ws, proven_states(report), explore(ws))
    pinned = build_manifest("weather-desk", "r1", ws.members, flags=section, **kw)  # type: ignore[arg-type]
    doc = pinned.to_json()
    _schema().validate(doc)
    _schema().validate(plain.to_json())
    assert pinned.digest != plain.digest and pinned.content_key != plain.content_key
    switch = doc["flags"]["definitions"]["umbrella_first"]["switches"][0]  # type: ignore[index]
    assert switch["digest"] == ws.variants["forecaster"]["umbrella"].digest  # type: ignore[index]


def test_unproven_names_the_state_a_setting_would_reach(tmp_path: Path) -> None:
    ws = load_workspace(_copy(EXAMPLE, tmp_path / "ws"))
    report = Context(ws.root).check(use_cache=False)
    section = manifest_section(ws, proven_states(report), explore(ws))
    proof = PinnedProof.of_manifest(section)
    assert unproven(proof, {"umbrella_first": {True, False}}) is None
    assert unproven(proof, {"radar": {False}, "umbrella_first": {True}}) is None
    assert "with `radar` on" in (unproven(proof, {"radar": {True, False}}) or "")
    assert "broken" in (unproven(proof, {"radar": {True}}) or "")
    assert "does not declare flag 'nope'" in (unproven(proof, {"nope": {True}}) or "")
    assert unproven(PinnedProof.of_manifest(None), {"radar": {True}}) == "it declares no flags"
    # a combination the check never explored is refused too
    trimmed = {**section, "states": [s for s in section["states"] if len(s["flags"]) == 1]}  # type: ignore[union-attr,index]
    assert "did not explore" in (
        unproven(
            PinnedProof.of_manifest(trimmed), {"radar": {False, True}, "umbrella_first": {True}}
        )
        or ""
    )


# --------------------------------------------------------------------------- percentages


@pytest.mark.parametrize("flag", ["refund_v2", "radar"])
def test_percentages_are_sticky_and_monotone_over_100000_keys(flag: str) -> None:
    keys = [f"user-{i}" for i in range(100_000)]
    rng = random.Random(7)
    shares = [0, 100, 250, 1_000, 2_500, 5_000, 9_999, 10_000]  # basis points
    previous: set[str] = set()
    for bp in shares:
        on = {k for k in keys if flag_is_on("support", flag, k, bp)}
        # sticky: asking again (in any order) gives the same answer
        for k in rng.sample(keys, 2_000):
            assert flag_is_on("support", flag, k, bp) == (k in on)
        # monotone: raising the share only turns the flag on for more keys
        assert previous <= on
        previous = on
        assert abs(len(on) / len(keys) - bp / 10_000) < 0.01
    # another flag splits the keys independently
    other = {k for k in keys if flag_is_on("support", flag + "_x", k, 5_000)}
    half = {k for k in keys if flag_is_on("support", flag, k, 5_000)}
    assert abs(len(other & half) / len(keys) - 0.25) < 0.01


def test_the_report_cache_keeps_the_flag_states_and_hears_a_variant_edit(tmp_path: Path) -> None:
    root = _copy(EXAMPLE, tmp_path / "ws")
    first = Context(root).check()
    again = Context(root).check()
    assert again.stats == CheckStats(from_report_cache=True)
    assert again.flags == first.flags and again.to_json() == {
        **first.to_json(),
        "edges": again.to_json()["edges"],
    }
    assert [e.key for e in again.edges] == [e.key for e in first.edges]
    prompt = root / "prompts" / "forecaster_v2.md"
    prompt.write_text(prompt.read_text("utf-8") + "\nBe brief.\n", "utf-8")
    assert not Context(root).check().stats.from_report_cache
