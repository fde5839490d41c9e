"Systems families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import pytest

from fam_cheats import assert_cheats_low, assert_gates

FAMILIES = ["log_error_summary", "ini_config_migration", "downloads_organizer", "backup_rotation", "crontab_edit"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    # a migrated config with every number changed still has its strings and booleans right: that cheat only has to lose something
    assert_cheats_low(name, limits={"perturbed": 1.0} if name == "ini_config_migration" else None)
