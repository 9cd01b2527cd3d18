#!/usr/bin/env bash
# Dependency drift, seen before it reaches CI: installs the newest versions pyproject.toml
# allows (what a user's `pip install teamrel` gets today) into a throwaway virtualenv, lists
# every version that differs from the lock CI installs (.ci/requirements.txt), and runs the
# same gates as CI (ruff, mypy, the test suite) against them. Not part of CI: run it before
# `bash .ci/lock --upgrade`, and fix what it finds first.
#
#   bash bench/newest_deps.sh [pytest args...]
#
# Exit code: that of the first failing gate (0 when the newest versions pass everything).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m venv "$TMP/venv"
# shellcheck disable=SC1091
source "$TMP/venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet --upgrade --upgrade-strategy eager --no-cache-dir -e '.[test]' || exit 3

echo "== versions that differ from the lock (.ci/requirements.txt)"
python - <<'PY'
import re
from importlib import metadata

def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

locked = {}
for line in open(".ci/requirements.txt"):
    m = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line)
    if m:
        locked.setdefault(norm(m[1]), set()).add(m[2])
moved = 0
for dist in sorted(metadata.distributions(), key=lambda d: norm(d.metadata["Name"])):
    name = norm(dist.metadata["Name"])
    if name in ("teamrel", "setuptools", "wheel"):  # the project, and what venv seeds
        continue
    pins = locked.get(name)
    if pins is None:
        print(f"  {name} {dist.version}  (not in the lock)")
        moved += 1
    elif dist.version not in pins:
        print(f"  {name} {' / '.join(sorted(pins))} -> {dist.version}")
        moved += 1
print(f"  {moved} moved" if moved else "  none: the lock is the newest allowed")
PY

export TEAMREL_TEST_DATABASE_URL="${TEAMREL_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
status=0
echo "== ruff" && { ruff check . && ruff format --check .; } || status=1
echo "== mypy" && { mypy || status=1; }
echo "== tests" && { python -m pytest -q -p no:cacheprovider "$@" || status=1; }
exit "$status"
