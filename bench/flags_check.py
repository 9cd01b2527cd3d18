"""Benchmark `teamrel check` on the 1,000-agent team with 20 feature flags (docs/flags.md).

    python bench/flags_check.py [--agents 1000] [--handoffs 5000] [--tools 20] [--runs 3]

Generates the check/plan workspace with bench/gen_team.py, then declares 20 flags in it:
8 member variants (a new prompt and temperature) on agents that call a tool, 6 tool switches
(3 of them on the same agents as variants, so those flags form groups whose combinations are
proved together) and 6 handoff switches. Times the real command line end to end in a
subprocess each, with and without the flags:

- check cold: the result cache deleted before each run;
- check warm: nothing changed since the previous run (the report cache);
- check warm, files changed: the per-pair result cache only.

Target (unchanged by flags): check cold <= 30 s, warm <= 3 s on 1,000 agents.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_plan import CPU, TEAMREL, measure, report  # noqa: E402


def add_flags(root: Path) -> int:
    """Declare 20 flags in the generated workspace; returns how many were declared."""
    path = root / "teamrel.yaml"
    doc = yaml.safe_load(path.read_text("utf-8"))
    members = doc["members"]
    with_tools = [n for n, m in members.items() if m.get("tools")]
    flags: dict[str, object] = {}
    for i, name in enumerate(with_tools[:8]):
        prompt = root / "prompts" / f"{name}_v2.md"
        prompt.write_text((root / "prompts" / f"{name}.md").read_text() + "\nBe brief.\n")
        members[name]["variants"] = {
            "v2": {"prompt": f"prompts/{name}_v2.md", "parameters": {"temperature": 0.5}}
        }
        flags[f"variant_{i}"] = {"switches": [{"member": name, "variant": "v2"}]}
    for i, name in enumerate([*with_tools[:3], *with_tools[8:11]]):
        tool = members[name]["tools"][0]["tool"]
        flags[f"tool_{i}"] = {"default": True, "switches": [{"member": name, "tool": tool}]}
    for i, h in enumerate(doc["handoffs"][:: max(1, len(doc["handoffs"]) // 6)][:6]):
        flags[f"handoff_{i}"] = {"switches": [{"handoff": f"{h['from']}->{h['to']}"}]}
    doc["flags"] = flags
    path.write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    return len(flags)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--handoffs", type=int, default=5000)
    ap.add_argument("--tools", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain"
        gen = [sys.executable, str(HERE / "gen_team.py"), str(args.agents), str(args.handoffs)]
        subprocess.run([*gen, str(plain), "--tools", str(args.tools)], check=True)
        flagged = Path(tmp) / "flagged"
        shutil.copytree(plain, flagged)
        n = add_flags(flagged)
        # the plain team is dumped the same way, so the two differ only by the flags
        doc = yaml.safe_load((plain / "teamrel.yaml").read_text("utf-8"))
        (plain / "teamrel.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
        print(f"workspace: {args.agents} agents, {args.tools} tools, {args.handoffs} handoffs")
        for label, root in (("no flags", plain), (f"{n} flags", flagged)):
            cache = root / ".teamrel" / "cache"
            check = [*TEAMREL, "-q", "-C", str(root), "check"]
            # the flagged team's check fails nowhere: every state holds (exit 0)
            cold, cold_cpu = measure(
                args.runs, check, lambda c=cache: shutil.rmtree(c, ignore_errors=True)
            )
            warm, warm_cpu = measure(args.runs, check)
            report_file = cache / "check-report.json"
            changed, changed_cpu = measure(
                args.runs, check, lambda f=report_file: f.unlink(missing_ok=True)
            )
            report(f"check cold ({label})", cold, 30, cold_cpu)
            report(f"check warm ({label})", warm, 3, warm_cpu)
            report(f"check files changed ({label})", changed, 3, changed_cpu)
        out = subprocess.run(
            [*TEAMREL, "-C", str(flagged), "check", "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        import json

        flags = json.loads(out.stdout)["flags"]
        print(
            f"flag states proved: {len(flags['states'])}, groups: {flags['groups']}, "
            f"unexplored: {flags['unexplored']}, edges in the report: "
            f"{len(json.loads(out.stdout)['edges'])}"
        )
        del CPU[:]


if __name__ == "__main__":
    main()
