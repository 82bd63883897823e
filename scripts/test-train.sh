#!/usr/bin/env bash
# The trainer's pytest suite (train/tests) in the project's .venv (scripts/setup-python.sh), then one
# closing line `pytest: N passed, N failed, N skipped` that .ci/run adds to its total. Called by
# `npm run test:all`; extra arguments go to pytest (e.g. -k sampler).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || { echo "test-train: no .venv; run scripts/setup-python.sh" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
(cd train && ../.venv/bin/python -m pytest -q -p no:cacheprovider "$@") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
last=$(grep -E '[0-9]+ (passed|failed|error)' "$log" | tail -1)
n() { echo "$last" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
echo "pytest: $(n passed) passed, $(( $(n failed) + $(n error) )) failed, $(n skipped) skipped"
exit "$rc"
