"""CLI start-up: how long `teamrel --version` takes, and what importing the CLI imports.

Runs `teamrel --version` (the console script of the running interpreter's environment)
`--runs` times and reports the min / median / max wall time and the median CPU time (user +
system of the child); then `python -X importtime -c "import teamrel.cli.app"` once, reporting
the cumulative import time of `teamrel.cli.app` and whether any optional integration's
library (`mcp`, `agents`, `a2a`) was imported: the extras are imported only when their
command runs, so installing them must not move these numbers (issue 12).

    .venv/bin/python bench/startup.py              # 15 runs
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
from importlib.util import find_spec
from pathlib import Path

OPTIONAL = ("mcp", "agents", "a2a")


def time_version(script: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one `teamrel --version`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([script, "--version"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_profile() -> dict[str, object]:
    """`-X importtime` of `import teamrel.cli.app`: its cumulative time, and the extras seen."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import teamrel.cli.app"],
        check=True,
        capture_output=True,
        text=True,
    )
    total_us = 0
    top: set[str] = set()
    for line in proc.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (p.strip() for p in line[len("import time:") :].split("|"))
        top.add(name.strip().split(".")[0])
        if name.strip() == "teamrel.cli.app":
            total_us = int(cumulative)
    return {
        "import_teamrel_cli_app_s": round(total_us / 1e6, 3),
        "modules": len(top),
        "optional_imported": sorted(m for m in OPTIONAL if m in top),
        "optional_installed": sorted(m for m in OPTIONAL if find_spec(m) is not None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("teamrel"))
    if not os.path.exists(script):
        sys.exit(f"no teamrel console script next to {sys.executable}")
    time_version(script)  # warm the page cache and the bytecode
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time_version(script)
        walls.append(wall)
        cpus.append(cpu)
    result = {
        "runs": args.runs,
        "version_wall_s": {
            "min": round(min(walls), 3),
            "median": round(statistics.median(walls), 3),
            "max": round(max(walls), 3),
        },
        "version_cpu_median_s": round(statistics.median(cpus), 3),
        "load_average": round(os.getloadavg()[0], 2),
        **import_profile(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    w = result["version_wall_s"]
    print(
        f"teamrel --version over {args.runs} runs: wall min {w['min']:.3f} s, "  # type: ignore[index]
        f"median {w['median']:.3f} s, max {w['max']:.3f} s; "  # type: ignore[index]
        f"CPU median {result['version_cpu_median_s']:.3f} s "
        f"(load average {result['load_average']})"
    )
    print(
        f"import teamrel.cli.app: {result['import_teamrel_cli_app_s']:.3f} s cumulative, "
        f"{result['modules']} top-level packages; optional libraries installed: "
        f"{', '.join(result['optional_installed']) or 'none'}; imported: "  # type: ignore[arg-type]
        f"{', '.join(result['optional_imported']) or 'none'}"  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
