"Planning families: seeds 0..19 pass every gate, and cheats (right file names, wrong content) score well below 1."
import pytest

from fam_cheats import assert_cheats_low, assert_gates

FAMILIES = ["calendar_from_notes", "meeting_slot", "trip_itinerary", "study_plan", "notes_qa"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name): assert_cheats_low(name)
