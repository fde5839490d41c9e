"verify_many (one sandbox for all the workspaces of a task) gives exactly what one verify per workspace gives."
from pathlib import Path

import pytest

from clawgym.synth.gates import gate_task, replay_reference
from clawgym.synth.procedural import make_task
from clawgym.tasks.formats import load_tasks
from clawgym.grade.verify import verify, verify_many
from clawgym.env.workspace import materialize

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
CHECKER_FAMILIES = ["rename_symbol", "fix_bug", "add_function", "meeting_action_items", "crontab_edit", "todo_replan"]


def _outcomes(scores): return [(s.status, s.value, s.subscores) for s in scores]


def _workspaces(task, root: Path):
    "The reference's final workspace, the untouched one and an empty folder, with their messages."
    ref = materialize(task, root / "ref")
    msgs, errs = replay_reference(task, ref)
    assert not errs, errs
    (root / "empty").mkdir()
    return [(ref, msgs), (materialize(task, root / "noop"), None), (root / "empty", None)]


@pytest.mark.parametrize("family", CHECKER_FAMILIES)
def test_matches_one_verify_per_workspace(family, tmp_path):
    task = make_task(family, 11)
    assert task.checker
    items = _workspaces(task, tmp_path)
    many = verify_many(task, items)
    assert _outcomes(many) == _outcomes([verify(task, ws, m) for ws, m in items])
    assert [s.value for s in many[:2]] == [1.0, 0.0] and many[2].ok


def test_reward_script_tasks_fall_back_to_one_sandbox_each(tmp_path):
    task = load_tasks(SAMPLES / "clawgym").tasks[0]
    assert task.reward_command
    items = [(materialize(task, tmp_path / "a"), None), (materialize(task, tmp_path / "b"), None)]
    assert _outcomes(verify_many(task, items)) == _outcomes([verify(task, ws) for ws, _ in items])


def test_gates_still_catch_a_checker_that_ignores_its_argument():
    "A checker must read the workspace through workspace_path; one that hard-codes the mount fails the gates, loudly."
    task = make_task("todo_replan", 3)
    bad = type(task).from_json(task.to_json())
    bad.checker = task.checker.replace("def grade(transcript, workspace_path):",
                                       "def grade(transcript, workspace_path):\n    workspace_path = '/root/.openclaw/workspace'")
    assert bad.checker != task.checker
    assert gate_task(task).ok
    assert not gate_task(bad).ok
