"Analysis families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import pytest

from fam_cheats import assert_cheats_low, assert_gates

FAMILIES = ["budget_rollup", "orders_by_region", "sensor_anomalies", "quarter_growth", "gradebook_stats"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name): assert_cheats_low(name, range(5))
