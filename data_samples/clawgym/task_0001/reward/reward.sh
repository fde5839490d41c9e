#!/usr/bin/env bash
set -euo pipefail

python3 /root/.openclaw/workspace/reward/check.py /root/.openclaw/workspace | python3 -c 'import json, sys; scores = json.loads(sys.stdin.read().strip()); print(sum(float(v) for v in scores.values()) / len(scores) if isinstance(scores, dict) and scores else 0.0)'
