"""CLI start-up: how long `teamrel --version` takes, and what importing the CLI imports.

For each interpreter given (`--python`, repeatable; default: this one), runs the
`teamrel --version` console script next to it, `--runs` times, the interpreters taking turns
run by run so that a loaded machine slows them alike; reports the min / median wall time and
the median CPU time (user + system of the child). Then, once per interpreter, what
`import teamrel.cli.app` loads: the number of modules (a count that does not depend on the
machine's load: equal counts outside teamrel's own modules mean the same start-up work),
`-X importtime`'s cumulative time for `teamrel.cli.app` (a single, noisy sample), and whether
an optional integration's library (`mcp`, `agents`, `a2a`) is installed and whether it was
imported: the extras are imported only when their command runs.

    .venv/bin/python bench/startup.py                                  # this install, 15 runs
    .venv/bin/python bench/startup.py --python /tmp/venv-base/bin/python --python .venv/bin/python
    .venv/bin/python bench/startup.py --runs 30 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OPTIONAL = ("mcp", "agents", "a2a")

PROBE = """
import importlib.util, json, sys
before = set(sys.modules)
import teamrel.cli.app
new = set(sys.modules) - before
print(json.dumps({
    "modules": len(new),
    "modules_outside_teamrel": len([m for m in new if m.split(".")[0] != "teamrel"]),
    "teamrel_modules": len([m for m in new if m.split(".")[0] == "teamrel"]),
    "optional_installed": sorted(m for m in OPTIONAL if importlib.util.find_spec(m) is not None),
    "optional_imported": sorted(m for m in OPTIONAL if m in sys.modules),
}))
""".replace("OPTIONAL", repr(OPTIONAL))


def time_version(script: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one `teamrel --version`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([script, "--version"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_profile(python: str) -> dict[str, Any]:
    """What `import teamrel.cli.app` loads under `python`, and its `-X importtime` total."""
    # -P: the current directory is not put first on the path (a checkout there would be
    # imported instead of the interpreter's installed teamrel)
    probe = subprocess.run([python, "-P", "-c", PROBE], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(probe.stdout)
    proc = subprocess.run(
        [python, "-P", "-X", "importtime", "-c", "import teamrel.cli.app"],
        check=True,
        capture_output=True,
        text=True,
    )
    for line in proc.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        if line.startswith("import time:") and line.rstrip().endswith("| teamrel.cli.app"):
            cumulative = line[len("import time:") :].split("|")[1]
            result["importtime_teamrel_cli_app_s"] = round(int(cumulative) / 1e6, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=None, metavar="PYTHON")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    scripts = {}
    for python in pythons:
        script = Path(python).with_name("teamrel")
        if not script.exists():
            sys.exit(f"no teamrel console script next to {python}")
        scripts[python] = str(script)
        time_version(str(script))  # warm the page cache and the bytecode
    walls: dict[str, list[float]] = {p: [] for p in pythons}
    cpus: dict[str, list[float]] = {p: [] for p in pythons}
    for _ in range(args.runs):
        for python in pythons:
            wall, cpu = time_version(scripts[python])
            walls[python].append(wall)
            cpus[python].append(cpu)
    results = []
    for python in pythons:
        results.append(
            {
                "python": python,
                "runs": args.runs,
                "version_wall_s": {
                    "min": round(min(walls[python]), 3),
                    "median": round(statistics.median(walls[python]), 3),
                },
                "version_cpu_median_s": round(statistics.median(cpus[python]), 3),
                **import_profile(python),
            }
        )
    load = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps({"load_average": load, "results": results}, indent=2))
        return
    for r in results:
        w = r["version_wall_s"]
        print(
            f"{r['python']}: teamrel --version x{r['runs']}: wall min {w['min']:.3f} s, "
            f"median {w['median']:.3f} s; CPU median {r['version_cpu_median_s']:.3f} s"
        )
        print(
            f"    import teamrel.cli.app: {r['modules']} modules "
            f"({r['modules_outside_teamrel']} outside teamrel), -X importtime "
            f"{r.get('importtime_teamrel_cli_app_s', float('nan')):.3f} s; optional "
            f"installed: {', '.join(r['optional_installed']) or 'none'}, imported: "
            f"{', '.join(r['optional_imported']) or 'none'}"
        )
    print(f"load average {load}")


if __name__ == "__main__":
    main()
