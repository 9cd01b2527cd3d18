"""Benchmark `teamrel report` on a generated team: the time to write report.html, and the time
until headless Chromium has the page ready (DOMContentLoaded), over the DevTools pipe.

    python bench/report.py [--agents 1000] [--handoffs 5000] [--runs 3]

Targets: generated in <= 3 s, DOM ready in <= 2 s, at 1,000 members.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from cdp import Browser, find_chromium  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--handoffs", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "team"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_team.py"),
                str(args.agents),
                str(args.handoffs),
                str(ws),
            ],
            check=True,
            capture_output=True,
        )
        out = Path(tmp) / "report.html"
        cmd = ["teamrel", "-C", str(ws), "report", "--out", str(out)]
        times = []
        for i in range(args.runs + 1):  # the first run fills the result cache
            start = time.perf_counter()
            subprocess.run(cmd, check=False, capture_output=True)
            took = time.perf_counter() - start
            print(f"report {'cold' if i == 0 else 'warm'}: {took:.2f} s")
            if i:
                times.append(took)
        size = out.stat().st_size
        print(
            f"teamrel report, {args.agents} agents / {args.handoffs} handoffs: "
            f"median {statistics.median(times):.2f} s warm (target <= 3 s), {size / 1e6:.1f} MB"
        )
        exe = find_chromium()
        if exe is None:
            print("chromium not installed: DOM-ready not measured")
            return
        ready = []
        with Browser(exe) as b:
            for _ in range(args.runs):
                ready.append(b.open(out))
            nodes = b.eval("document.querySelectorAll('.node').length")
            edges = b.eval("document.querySelectorAll('.edge').length")
        print(
            f"DOM ready in headless Chromium: median {statistics.median(ready):.2f} s "
            f"(runs {', '.join(f'{r:.2f}' for r in ready)}; target <= 2 s); "
            f"{nodes} nodes, {edges} edges drawn"
        )


if __name__ == "__main__":
    main()
