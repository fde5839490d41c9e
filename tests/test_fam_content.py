"Content families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import pytest

from clawgym.filter import gate_task
from clawgym.synth import make_task
from fam_cheats import cheat_scores

FAMILIES = ["recipe_scaling", "bibliography_format", "redact_pii", "changelog_from_commits", "bills_from_letters"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name):
    for seed in range(20):
        g = gate_task(make_task(name, seed))  # reference = 1, noop = 0, scaffold = 0, empty workspace survives
        assert g.ok, (g.task_id, g.reasons)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    for seed in range(5):
        s = cheat_scores(make_task(name, seed))
        assert max(s.values()) < 0.5, (name, seed, s)
