"Software families: seeds 0..19 pass every gate, and cheats (right file names, wrong content) score well below 1."
import re
import tempfile
from pathlib import Path

import pytest

from clawgym.run.episode import run_episode
from clawgym.synth.procedural import make_task
from clawgym.grade.verify import verify
from clawgym.env.workspace import materialize
from fam_cheats import assert_cheats_low, assert_gates, cheat_scores, written_paths

FAMILIES = ["fix_bug", "add_function", "rename_symbol", "pin_dependency", "config_schema_fix"]
CODE = ["fix_bug", "add_function", "rename_symbol"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", ["pin_dependency", "config_schema_fix"])
def test_cheat_scores_low(name): assert_cheats_low(name)

def stubbed(text:str) -> str:
    "Every function of a Python file kept by name, each returning None: the right shape, no behaviour."
    return "".join(f"def {n}(*args, **kwargs):\n    return None\n\n\n" for n in re.findall(r"^def (\w+)", text, re.M))

def code_cheat(task, how:str) -> float:
    """Score of a cheat on a code task: 'stub' turns every written .py file into stubs; 'definition_only' renames in the
    defining module alone."""
    with tempfile.TemporaryDirectory() as d:
        solved = Path(d) / "solved"
        assert run_episode(task, "oracle", keep_workspace=solved).score.value == 1.0, task.id
        ws = materialize(task, Path(d) / "ws")
        for p in written_paths(task):
            if how == "stub" and p.endswith(".py"): (ws / p).write_text(stubbed((solved / p).read_text()))
            if how == "definition_only" and p.endswith("/core.py"): (ws / p).write_text((solved / p).read_text())
        return verify(task, ws).value

@pytest.mark.parametrize("name", CODE)
def test_code_cheats_low(name):
    for seed in range(10):
        t = make_task(name, seed)
        assert cheat_scores(t)["copied_input"] == 0.0, t.id
        assert code_cheat(t, "stub") < 0.5, t.id
        if name == "rename_symbol": assert code_cheat(t, "definition_only") < 0.5, t.id
