"Analysis families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import tempfile
from pathlib import Path

import pytest

from clawgym.agent import run_episode
from clawgym.synth import make_task
from clawgym.verify import verify
from clawgym.workspace import scaffold
from fam_cheats import cheat_scores

FAMILIES = ["budget_rollup", "orders_by_region", "sensor_anomalies", "quarter_growth", "gradebook_stats"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name):
    for seed in range(20):
        t = make_task(name, seed)
        assert run_episode(t, "oracle").score.value == 1.0, (t.id, "reference")
        assert run_episode(t, "noop").score.value == 0.0, (t.id, "noop")
        with tempfile.TemporaryDirectory() as d:
            assert verify(t, scaffold(t, Path(d) / "ws")).value == 0.0, (t.id, "scaffold")

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    for seed in range(5):
        s = cheat_scores(make_task(name, seed))
        assert max(s.values()) < 0.5, (name, seed, s)
