"Productivity families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import tempfile
from pathlib import Path

import pytest

from clawgym.run.episode import run_episode
from clawgym.synth.procedural import make_task
from clawgym.grade.verify import verify
from clawgym.env.workspace import materialize
from fam_cheats import assert_gates, cheat_scores

FAMILIES = ["meeting_action_items", "inbox_triage", "contacts_merge", "todo_replan", "timesheet_billing"]

def swapped_headings_score(task) -> float|None:
    "Score of a cheat that writes the reference's markdown with its '## ' headings rotated by one: every list under the wrong heading."
    mds = [p for p in task.workspace.outputs if p.endswith(".md")]
    if not mds: return None
    with tempfile.TemporaryDirectory() as d:
        solved = Path(d) / "solved"
        run_episode(task, "oracle", keep_workspace=solved)
        ws = materialize(task, Path(d) / "cheat")
        for p in mds:
            lines = (solved / p).read_text().splitlines()
            idx = [i for i, l in enumerate(lines) if l.startswith("## ")]
            heads = [lines[i] for i in idx[1:] + idx[:1]]
            for i, h in zip(idx, heads): lines[i] = h
            (ws / p).parent.mkdir(parents=True, exist_ok=True)
            (ws / p).write_text("\n".join(lines) + "\n")
        return verify(task, ws).value

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    for seed in range(10):
        t = make_task(name, seed)
        s = cheat_scores(t)
        swapped = swapped_headings_score(t)
        if swapped is not None: s["swapped_headings"] = swapped
        # every number changed leaves undated action items and todo titles right, so that cheat only has to lose something
        assert s["perturbed"] < 1 and max(v for k, v in s.items() if k != "perturbed") < 0.5, (name, seed, s)
