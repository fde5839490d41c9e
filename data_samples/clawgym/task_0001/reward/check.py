"""Sub-scores for task_0001 (Q3 budget review), printed as one JSON object.

Called as `python3 check.py WORKSPACE`, the way a ClawGym reward.sh calls it. The reward payload named by
$OPENCLAW_REWARD_PAYLOAD ({final_message, metadata, transcript}) tells whether the final reply named the category that
went over budget.
"""
import hashlib
import json
import os
import sys
from pathlib import Path

CSV_SHA256 = "9745cc902cfb28fe65b59330a524318cef087b7e4846cf96a695c16706420d95"
EXPECTED_TOTALS = {"groceries": 236.40, "transport": 137.40, "dining": 249.55, "subscriptions": 35.96}
EXPECTED_OVER = ["dining"]


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def final_message():
    payload = load_json(os.environ.get("OPENCLAW_REWARD_PAYLOAD", "")) or {}
    return str(payload.get("final_message") or "")


def grade(transcript, workspace_path):
    ws = Path(workspace_path)
    data = load_json(ws / "reports" / "q3_budget_review.json")
    scores = {"output_valid_json": 1.0 if data is not None else 0.0}
    totals = (data or {}).get("totals")
    totals = totals if isinstance(totals, dict) else {}
    right = sum(1 for cat, want in EXPECTED_TOTALS.items()
                if isinstance(totals.get(cat), (int, float)) and not isinstance(totals.get(cat), bool) and abs(totals[cat] - want) <= 0.005)
    scores["totals_correct"] = right / len(EXPECTED_TOTALS)
    scores["over_budget_correct"] = 1.0 if (data or {}).get("over_budget") == EXPECTED_OVER else 0.0
    try:
        unchanged = hashlib.sha256((ws / "expenses_2024_q3.csv").read_bytes()).hexdigest() == CSV_SHA256
    except OSError:
        unchanged = False
    # Leaving the input alone earns nothing by itself: it only counts once the task was attempted.
    scores["csv_unchanged"] = 1.0 if unchanged and data is not None else 0.0
    scores["reply_names_overspend"] = 1.0 if data is not None and "dining" in final_message().lower() else 0.0
    return scores


def main():
    print(json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else "/root/.openclaw/workspace")))


if __name__ == "__main__":
    main()
