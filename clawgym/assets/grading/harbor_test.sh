#!/usr/bin/env bash
# Harbor verifier of a clawgym task. It grades the way ClawGym's rollout grades: the reward files beside this file are
# copied into the workspace as reward/, and reward/reward.sh runs from / (for a clawgym task it calls the grading core,
# the same code clawgym verifies with). Its last output line is the reward, written to $CLAWGYM_LOGS/reward.txt (default
# /logs/verifier). A grader that fails writes no reward and exits non-zero, so a crash is never read as a score.
# Written by clawgym.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ws="${CLAWGYM_WORKSPACE:-/root/.openclaw/workspace}"
logs="${CLAWGYM_LOGS:-/logs/verifier}"
mkdir -p "$logs"
rm -rf "$ws/reward" && cp -r "$here" "$ws/reward" || { echo "test.sh: cannot copy the reward files into $ws" >&2; exit 2; }
out="$(cd / && CLAWGYM_WORKSPACE="$ws" bash "$ws/reward/reward.sh")"
status=$?
printf '%s\n' "$out"
if [[ $status != 0 ]]; then echo "test.sh: the grader failed (exit $status)" >&2; exit "$status"; fi
printf '%s\n' "$out" | awk 'NF { last = $0 } END { print last }' > "$logs/reward.txt"
