#!/usr/bin/env bash
# Start-up time of `teamrel --version`, this checkout against another (e.g. the main branch
# before a change), run alternately in the same interpreter so machine load hits both alike.
#
#   bash bench/startup_ab.sh /path/to/other/checkout [ROUNDS]
#
# Prints the median and range of wall and CPU (user+sys) seconds for each.
set -euo pipefail
OTHER="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${2:-15}"
PY="${PYTHON:-python3}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
for _ in $(seq "$ROUNDS"); do
    for side in other here; do
        dir="$OTHER"; [ "$side" = here ] && dir="$HERE"
        /usr/bin/time -o "$OUT.t" -f "%e %U %S" env PYTHONPATH="$dir" "$PY" -m teamrel --version >/dev/null
        echo "$side $(cat "$OUT.t")" >>"$OUT"
    done
done
rm -f "$OUT.t"
"$PY" - "$OUT" "$OTHER" "$HERE" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for side, label in (("other", sys.argv[2]), ("here", sys.argv[3])):
    wall = [float(r[1]) for r in rows if r[0] == side]
    cpu = [float(r[2]) + float(r[3]) for r in rows if r[0] == side]
    print(f"{label}: wall median {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f}), "
          f"cpu median {statistics.median(cpu):.2f} s ({min(cpu):.2f}-{max(cpu):.2f}), n={len(wall)}")
PY
