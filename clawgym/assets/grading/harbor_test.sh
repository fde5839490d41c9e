#!/usr/bin/env bash
# Harbor verifier of a clawgym task: reward.sh (beside this file) runs the clawgym grading core over the workspace; its last
# line is the reward, written to $CLAWGYM_LOGS/reward.txt (default /logs/verifier). A grader that fails writes no reward
# and exits non-zero, so a crash is never read as a score. Written by clawgym.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
logs="${CLAWGYM_LOGS:-/logs/verifier}"
mkdir -p "$logs"
out="$(bash "$here/reward.sh")"
status=$?
printf '%s\n' "$out"
if [[ $status != 0 ]]; then echo "test.sh: the grader failed (exit $status)" >&2; exit "$status"; fi
printf '%s\n' "$out" | tail -n 1 > "$logs/reward.txt"
