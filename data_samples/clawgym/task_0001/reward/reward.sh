#!/bin/bash
# Reward for task_0001: the mean of the sub-scores check.py prints; the last line is the score in [0, 1].
set -u
DIR="$(cd "$(dirname "$0")" && pwd)"
SCORES="$(python3 "$DIR/check.py")" || { echo "check.py failed"; exit 1; }
echo "$SCORES"
python3 -c 'import json, sys; s = json.loads(sys.argv[1]); print(round(sum(s.values()) / len(s), 4))' "$SCORES"
