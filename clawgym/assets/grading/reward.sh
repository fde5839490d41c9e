#!/usr/bin/env bash
# Reward of one clawgym task, in ClawGym's reward/ contract. The grading core beside this file (clawgym_grading.py, the
# same code clawgym verifies with) grades the workspace, reading the transcript from $OPENCLAW_REWARD_PAYLOAD when set,
# and prints its verdict and then the score as the last line. A grader that fails prints no number and exits non-zero.
# Written by clawgym.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/clawgym_grading.py" reward
