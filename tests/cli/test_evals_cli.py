"""`teamrel eval record/show`, scorecard freshness and the promptfoo fixture."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from teamrel.cli.app import app
from teamrel.evalstats import Z_ONE_SIDED_95, paired_proportions, wilson
from tests.clikit import cli_runner

REPO = Path(__file__).resolve().parents[2]
PROMPTFOO = REPO / "tests" / "data" / "promptfoo" / "results.json"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(REPO / "teamrel.yaml", root / "teamrel.yaml")
    for d in ("prompts", "contracts"):
        shutil.copytree(REPO / d, root / d)
    shutil.rmtree(root / "evals", ignore_errors=True)
    return root


def teamrel(root: Path, *args: str) -> tuple[int, str, str]:
    r = cli_runner().invoke(app, ["-C", str(root), *args])
    return r.exit_code, r.stdout, r.stderr


def jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_promptfoo_fixture_round_trips(demo: Path) -> None:
    code, out, err = teamrel(demo, "eval", "record", "router", str(PROMPTFOO), "--suite", "pf")
    assert code == 0, err
    card = json.loads((demo / "evals/scorecards/router/pf.json").read_text())
    raw = json.loads(PROMPTFOO.read_text())
    stats = raw["results"]["stats"]
    assert card["source"]["format"] == "promptfoo"
    assert card["summary"]["n"] == len(raw["results"]["results"])
    assert card["summary"]["pass_rate"]["passed"] == stats["successes"]
    assert {c["id"] for c in card["cases"]} == {
        r["testCase"]["description"] for r in raw["results"]["results"]
    }
    schema = json.loads(
        resources.files("teamrel").joinpath("schemas/scorecard.schema.json").read_text("utf-8")
    )
    jsonschema.Draft202012Validator(schema).validate(card)
    code, out, _ = teamrel(demo, "eval", "show", "router", "--format", "json")
    doc = json.loads(out)
    assert doc["scorecards"][0]["fresh"] is True


def test_stale_after_one_byte_prompt_edit_not_after_description(demo: Path) -> None:
    rows = [{"id": f"c{i}", "pass": i % 10 != 0} for i in range(50)]
    teamrel(
        demo, "eval", "record", "router", str(jsonl(demo / "r.jsonl", rows)), "--suite", "routing"
    )
    yaml = demo / "teamrel.yaml"
    text = yaml.read_text()
    yaml.write_text(
        text.replace(
            "Classifies intent and priority", "Classifies the intent and priority"
        ).replace("accuracy: 0.94", "accuracy: 0.95")
    )
    code, out, _ = teamrel(demo, "validate")
    assert code == 0 and "stale-scorecard" not in out
    prompt = demo / "prompts" / "router.md"
    prompt.write_bytes(prompt.read_bytes() + b" ")
    code, out, _ = teamrel(demo, "validate")
    assert code == 0
    assert "router's `routing` scorecard measured" in out and "re-run the suite" in out


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"id": "a", "pass": "yes"}\n', "r.jsonl:1 #/pass"),
        ('{"id": "a", "score": NaN}\n', "r.jsonl:1"),
        ("", "no cases"),
        ('{"id": "a", "pass": true}\n{"id": "a", "pass": false}\n', "duplicate case id 'a'"),
        ('{"id": "a", "pass": true}\n{"id": 1.5, "pass": true}\n', "r.jsonl:2 #/id"),
        ('{"id": "a"}\n', "r.jsonl:1"),
    ],
)
def test_bad_results_are_located_and_write_nothing(demo: Path, content: str, where: str) -> None:
    bad = demo / "r.jsonl"
    bad.write_text(content, encoding="utf-8")
    code, _, err = teamrel(demo, "eval", "record", "router", str(bad), "--suite", "routing")
    assert code == 3
    assert where in err
    assert not (demo / "evals").exists()


def test_errored_and_missing_cases_stay_in_the_denominator(demo: Path) -> None:
    yaml = demo / "teamrel.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            "- suite: routing\n", "- suite: routing\n        dataset: evals/routing.jsonl\n"
        )
    )
    (demo / "evals").mkdir()
    jsonl(demo / "evals/routing.jsonl", [{"id": f"c{i}"} for i in range(10)])
    rows: list[dict[str, object]] = [{"id": f"c{i}", "pass": True} for i in range(7)]
    rows.append({"id": "c7", "error": "timeout"})
    code, _, err = teamrel(
        demo, "eval", "record", "router", str(jsonl(demo / "r.jsonl", rows)), "--suite", "routing"
    )
    assert code == 0, err
    card = json.loads((demo / "evals/scorecards/router/routing.json").read_text())
    assert card["summary"]["pass_rate"]["n"] == 10
    assert card["summary"]["pass_rate"]["passed"] == 7
    assert card["source"]["missing"] == 2


def test_statistics() -> None:
    # 45/50 = 90% against a 0.90 floor is not a pass
    p, lo, hi = wilson(45, 50, Z_ONE_SIDED_95)
    assert p == 0.9 and lo < 0.9 < hi
    # Wilson's published value for 81/263 (Newcombe 1998 table): 0.2553 to 0.3662 at 95%
    _, lo, hi = wilson(81, 263)
    assert round(lo, 4) == 0.2553 and round(hi, 4) == 0.3662
    d, lo, hi = paired_proportions(5, 5, 250, Z_ONE_SIDED_95)
    assert d == 0 and lo < 0 < hi and abs(lo + hi) < 1e-9


def _gated(root: Path, gate: str, *, override: bool = False) -> None:
    yaml = root / "teamrel.yaml"
    yaml.write_text(
        yaml.read_text()
        + f"  canary:\n    gates: [{gate}]\n    allow_gate_override: {str(override).lower()}\n"
    )


def _results(root: Path, name: str, failing: set[int], n: int = 250) -> Path:
    return jsonl(root / name, [{"id": f"c{i}", "pass": i not in failing} for i in range(n)])


def _edit_prompt(root: Path) -> None:
    prompt = root / "prompts" / "router.md"
    prompt.write_bytes(prompt.read_bytes() + b"\nBe brief.\n")
    yaml = root / "teamrel.yaml"
    yaml.write_text(yaml.read_text().replace("version: 2.1.0", "version: 2.1.1", 1))


def _two_releases(root: Path, worse: set[int]) -> None:
    base_failing = set(range(0, 250, 10))  # 90%
    rec = ("eval", "record", "router", "--suite", "routing")
    assert teamrel(root, *rec[:3], str(_results(root, "a.jsonl", base_failing)), *rec[3:])[0] == 0
    code, _, err = teamrel(root, "release", "--promote", "canary")
    assert code == 0, err
    _edit_prompt(root)
    failing = base_failing | worse
    assert teamrel(root, *rec[:3], str(_results(root, "b.jsonl", failing)), *rec[3:])[0] == 0


def test_significant_regression_blocks_promote_and_shows_in_plan(demo: Path) -> None:
    _gated(demo, "{metric: router/routing.pass_rate, no_regression: true, margin: 0.02}")
    _two_releases(demo, {i for i in range(1, 250, 10)} | {i for i in range(2, 250, 10)})
    code, out, err = teamrel(demo, "plan", "--env", "canary", "--format", "json")
    doc = json.loads(out)
    gates = doc["evals"]["gates"]["canary"]
    assert not gates["passed"]
    v = gates["verdicts"][0]
    assert v["status"] == "fail" and v["method"].startswith("paired") and v["n"] == 250
    code, out, _ = teamrel(demo, "plan", "--env", "canary")
    assert "Evals" in out and "router/routing.pass_rate" in out
    code, _, err = teamrel(demo, "release", "--promote", "canary")
    assert code == 1, err
    assert "refuse promotion to canary" in err and "router/routing.pass_rate" in err
    # the release was not recorded either
    assert not (demo / "manifests" / "support" / "r2.json").exists()


def test_insignificant_regression_passes_under_significant(demo: Path) -> None:
    _gated(
        demo,
        "{metric: router/routing.pass_rate, no_regression: true, significant: true}",
    )
    _two_releases(demo, {1, 11})
    code, out, _ = teamrel(demo, "plan", "--env", "canary", "--format", "json")
    v = json.loads(out)["evals"]["gates"]["canary"]["verdicts"][0]
    assert v["status"] == "pass" and v["value"] < 0
    code, _, err = teamrel(demo, "release", "--promote", "canary")
    assert code == 0, err


def test_override_only_where_allowed_and_recorded(demo: Path) -> None:
    _gated(demo, "{metric: router/routing.pass_rate, min: 0.95}", override=True)
    results = _results(demo, "a.jsonl", set(range(0, 250, 10)))
    assert teamrel(demo, "eval", "record", "router", str(results), "--suite", "routing")[0] == 0
    code, _, err = teamrel(demo, "release", "--name", "r2")
    assert code == 0, err
    code, _, err = teamrel(demo, "promote", "r2", "--env", "canary")
    assert code == 1 and "pass_rate" in err
    code, _, err = teamrel(
        demo, "promote", "r2", "--env", "canary", "--override-gates", "--reason", "INC-7 hotfix"
    )
    assert code == 0, err
    code, out, _ = teamrel(demo, "history", "--env", "canary", "--format", "json")
    assert "eval gates overridden: INC-7 hotfix" in out
    code, _, err = teamrel(
        demo, "promote", "r2", "--env", "staging", "--override-gates", "--reason", "x"
    )
    assert code == 3 and "allow_gate_override" in err
