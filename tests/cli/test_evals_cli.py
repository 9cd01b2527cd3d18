"""`teamrel eval record/show`, scorecard freshness and the promptfoo fixture (issue 10)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
