"""Sub-scores for task_0001 (Q3 budget review), printed as one JSON object."""
import hashlib
import json
import os

WORKSPACE = "/root/.openclaw/workspace"
OUTPUT = os.path.join(WORKSPACE, "reports", "q3_budget_review.json")
CSV_SHA256 = "9745cc902cfb28fe65b59330a524318cef087b7e4846cf96a695c16706420d95"
EXPECTED_TOTALS = {"groceries": 236.40, "transport": 137.40, "dining": 249.55, "subscriptions": 35.96}
EXPECTED_OVER = ["dining"]


def load_output():
    try:
        with open(OUTPUT, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def main():
    data = load_output()
    scores = {"output_valid_json": 1.0 if data is not None else 0.0}
    totals = (data or {}).get("totals")
    totals = totals if isinstance(totals, dict) else {}
    right = 0
    for cat, want in EXPECTED_TOTALS.items():
        got = totals.get(cat)
        if isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - want) <= 0.005:
            right += 1
    scores["totals_correct"] = right / len(EXPECTED_TOTALS)
    scores["over_budget_correct"] = 1.0 if (data or {}).get("over_budget") == EXPECTED_OVER else 0.0
    try:
        with open(os.path.join(WORKSPACE, "expenses_2024_q3.csv"), "rb") as f:
            unchanged = hashlib.sha256(f.read()).hexdigest() == CSV_SHA256
    except OSError:
        unchanged = False
    # Leaving the input alone earns nothing by itself: it only counts once the task was attempted.
    scores["csv_unchanged"] = 1.0 if unchanged and data is not None else 0.0
    print(json.dumps(scores))


main()
