"""The GitHub Action (action.yml) run the way a runner runs a composite action: each `run:`
step in `bash --noprofile --norc -eo pipefail`, from its working directory, with the
`GITHUB_*` variables and files a runner provides and the `${{ }}` expressions it substitutes.
The assertions read what the job leaves behind: the job summary, the workflow commands
(annotations) on stdout, the SARIF file, the step outputs and the job's result."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Job:
    """What one run of the action left behind."""

    rc: int
    stdout: str = ""
    summary: str = ""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)


def _read_output_file(path: Path) -> dict[str, str]:
    # the `key=value` form only: the action never writes multi-line outputs
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out


def run_action(workspace: Path, inputs: dict[str, str], tmp: Path) -> Job:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    given = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    unknown = set(inputs) - set(given)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    given.update(inputs)
    job = Job(rc=0)

    def evaluate(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            parts = m.group(1).split(".")
            if parts[0] == "inputs" and len(parts) == 2:
                return given[parts[1]]
            if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
                return job.outputs.get(parts[1], {}).get(parts[3], "")
            if m.group(1) == "github.action_path":
                return str(REPO)
            raise AssertionError(f"expression the test runner does not evaluate: {m.group(0)}")

        return EXPR.sub(one, text)

    temp = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=tmp))
    summary = temp / "summary.md"
    summary.touch()
    base_env = {
        **os.environ,
        # the teamrel of this checkout (version: preinstalled)
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(REPO),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REPOSITORY": "acme/agents",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/pull/7/merge",
        "RUNNER_TEMP": str(temp),
        "RUNNER_OS": "Linux",
    }
    for i, step in enumerate(action["runs"]["steps"]):
        assert step["shell"] == "bash" and "uses" not in step
        name = step.get("id", f"step{i}")
        output = temp / f"output-{i}"
        step_summary = temp / f"summary-{i}"
        output.touch()
        step_summary.touch()
        env = dict(base_env)
        env.update({k: evaluate(str(v)) for k, v in step.get("env", {}).items()})
        env.update({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(step_summary)})
        script = temp / f"step-{i}.sh"
        script.write_text(evaluate(step["run"]), encoding="utf-8")
        cwd = workspace / evaluate(step.get("working-directory", "."))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        job.ran.append(step["name"])
        job.stdout += proc.stdout
        job.outputs[name] = _read_output_file(output)
        with summary.open("a", encoding="utf-8") as fh:
            fh.write(step_summary.read_text(encoding="utf-8"))
        if proc.returncode != 0:
            job.rc = proc.returncode
            break
    job.summary = summary.read_text(encoding="utf-8")
    return job


def _checkout(tmp_path: Path, example: str | None) -> Path:
    """A repository checkout with the workspace in `agents/` (so paths need a prefix)."""
    repo = tmp_path / "checkout"
    src = REPO / "examples" / example if example else REPO
    ignore = shutil.ignore_patterns(
        ".teamrel", ".venv", ".git", "tests", "docs", "bench", "examples", "teamrel", "*.egg-info"
    )
    shutil.copytree(src, repo / "agents", ignore=ignore)
    return repo


BASE = {"version": "preinstalled", "working-directory": "agents"}


def test_breaking_story_fails_with_annotations_sarif_and_summary(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "story-b-enum-minor-bump")
    job = run_action(repo, BASE, tmp_path)
    assert job.rc == 1
    assert job.ran == ["Install teamrel", "teamrel check", "teamrel plan", "Gate"]
    assert job.outputs["check"]["exit-code"] == "1"
    assert job.outputs["plan"]["exit-code"] == "1"
    # an annotation on the file at fault, relative to the repository root
    errors = [ln for ln in job.stdout.splitlines() if ln.startswith("::error file=")]
    assert len(errors) == 1
    assert errors[0].startswith("::error file=agents/teamrel.yaml,line=")
    assert "title=incompatible handoff router->billing" in errors[0]
    sarif_path = Path(job.outputs["check"]["sarif-file"])
    assert sarif_path == repo / "teamrel.sarif"
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["incompatible-handoff"]
    loc = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert loc == "agents/teamrel.yaml"
    # the Markdown plan in the job summary, with the witness
    assert job.summary.startswith("### ❌ teamrel plan: `story-b`")
    assert "**`router->billing`**" in job.summary
    assert '"intent": "cancel_subscription"' in job.summary


def test_fail_on_never_reports_but_passes(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "story-b-enum-minor-bump")
    job = run_action(repo, {**BASE, "fail-on": "never"}, tmp_path)
    assert job.rc == 0
    assert "::error file=agents/teamrel.yaml" in job.stdout
    assert "#### Breaking handoffs" in job.summary


def test_fail_on_breaking_also_gates_on_semver(tmp_path: Path) -> None:
    # the handoffs hold once billing accepts the new intent, but router's bump is still minor:
    # check passes, the plan does not
    repo = _checkout(tmp_path, "story-b-enum-minor-bump")
    billing = repo / "agents" / "contracts" / "billing_input.json"
    billing.write_text(
        billing.read_text(encoding="utf-8").replace(
            '"technical_issue"', '"technical_issue", "cancel_subscription"'
        ),
        encoding="utf-8",
    )
    lenient = run_action(repo, BASE, tmp_path)
    assert lenient.outputs["check"]["exit-code"] == "0"
    assert lenient.outputs["plan"]["exit-code"] == "1"
    assert lenient.rc == 0
    strict = run_action(repo, {**BASE, "fail-on": "breaking"}, tmp_path)
    assert strict.rc == 1
    assert "fail-on: breaking" in strict.stdout


def test_demo_passes_against_a_release(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, None)
    job = run_action(repo, {**BASE, "against": "r2"}, tmp_path)
    assert job.rc == 0, job.stdout
    assert "::error" not in job.stdout
    assert job.summary.startswith("### ✏️ teamrel plan: `support`")
    assert "Base: release `r2`" in job.summary
    sarif = json.loads((repo / "teamrel.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"] == []


def test_a_broken_workspace_fails_whatever_fail_on_says(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "minimal")
    (repo / "agents" / "teamrel.yaml").write_text("team: x\nmembers: [\n", encoding="utf-8")
    job = run_action(repo, {**BASE, "fail-on": "never"}, tmp_path)
    assert job.rc == 3
    assert job.ran[-1] == "teamrel check"
    assert "::error file=agents/teamrel.yaml" in job.stdout


@pytest.mark.parametrize("bad", ["sometimes"])
def test_fail_on_rejects_unknown_values(tmp_path: Path, bad: str) -> None:
    repo = _checkout(tmp_path, "minimal")
    job = run_action(repo, {**BASE, "fail-on": bad}, tmp_path)
    assert job.rc == 2
    assert "fail-on must be incompatible, breaking or never" in job.stdout
