"Systems families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import pytest

from clawgym.filter import gate_task
from clawgym.synth import make_task
from fam_cheats import cheat_scores

FAMILIES = ["log_error_summary", "ini_config_migration", "downloads_organizer", "backup_rotation", "crontab_edit"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name):
    for seed in range(20):
        g = gate_task(make_task(name, seed))
        assert g.ok, (name, seed, g.reasons)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    for seed in range(10):
        s = cheat_scores(make_task(name, seed))
        # a migrated config with every number changed still has its strings and booleans right: that cheat only has to lose something
        limit = {"perturbed": 1.0} if name == "ini_config_migration" else {}
        assert all(v < limit.get(k, 0.5) for k, v in s.items()), (name, seed, s)
