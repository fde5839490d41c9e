"Planning families: seeds 0..19 pass every gate, and cheats (right file names, wrong content) score well below 1."
import pytest

from clawgym.filter import gate_task
from clawgym.synth import make_task
from fam_cheats import cheat_scores

FAMILIES = ["calendar_from_notes", "meeting_slot", "trip_itinerary", "study_plan", "notes_qa"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name):
    for seed in range(20):
        g = gate_task(make_task(name, seed))
        assert g.ok, (g.task_id, g.reasons)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    for seed in range(10):
        s = cheat_scores(make_task(name, seed))
        assert max(s.values()) < 0.5, (name, seed, s)
