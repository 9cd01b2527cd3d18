"""How the pairs of `compat:` modes grow with the number of live releases, in process.

    python bench/check_modes.py --keep /tmp/cm1000          # makes the workspace (3 releases)
    python bench/check_modes_scaling.py /tmp/cm1000 [--runs 3]

Loads the workspace and its store once, then times `teamrel.meet.mode_edges` (what `check`
adds for the declared modes: grouping, snapshots of the live versions, the proofs from a warm
digest-pair cache, the edge results) meeting the first 1, 2, ... live releases. Medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    # bench/ is sys.path[0]: bench/regex.py would shadow the `regex` package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    from teamrel.check import Prover
    from teamrel.context import Context
    from teamrel.localstate import default_cache_dir
    from teamrel.meet import live_releases, mode_edges
    from teamrel.resultcache import ResultCache

    ctx = Context(args.workspace)
    ws = ctx.load()
    store = ctx.store()
    live = live_releases(store, ws.team.team)
    cache = ResultCache(default_cache_dir(ws.root))
    mode_edges(ws, store, Prover(cache, format_assertion=False), live=live)  # warm the cache
    print(f"{len(ws.members)} members, {len(ws.handoffs)} edges")
    for k in range(1, len(live) + 1):
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            edges, summary = mode_edges(
                ws, store, Prover(cache, format_assertion=False), live=live[:k]
            )
            times.append(time.perf_counter() - start)
        print(
            f"{k} live release(s): {len(edges)} pairs "
            f"({summary.backward} backward, {summary.forward} forward), "
            f"median {statistics.median(times):.2f} s"
        )
    ctx.close_store()


if __name__ == "__main__":
    main()
