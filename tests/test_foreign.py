"""Foreign tasks graded as their upstream runners grade them: the workspace their harness gives, failing graders as 0.0."""
import json
import shutil
from pathlib import Path

import pytest

from clawgym.run.episode import run_episode
from clawgym.run.rollout import run_tasks
from clawgym.env.sandbox import bwrap_status
from clawgym.tasks.formats import load_clawgym_task, load_pinchbench, load_tasks
from clawgym.env.workspace import workspace_files

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
needs_bwrap = pytest.mark.skipif(not bwrap_status()[0], reason="ClawGym reward scripts need bwrap: " + bwrap_status()[1])

SECOND_BRAIN = """---
id: task_22_second_brain
name: Second brain
category: memory
grading_type: automated
timeout_seconds: 120
workspace_files: []
---

## Prompt

Remember that my favourite language is Rust.

## Automated Checks

```python
from pathlib import Path

def grade(transcript, workspace_path):
    ws = Path(workspace_path)
    found = next((p for p in (ws / "memory" / "MEMORY.md", ws / "MEMORY.md", ws / "memory.md") if p.is_file()), None)
    return {"memory_saved": 1.0 if found else 0.0,
            "fact_recalled": 1.0 if found and "rust" in found.read_text().lower() else 0.0}
```
"""


def test_pinchbench_workspace_is_the_tasks_files_alone(tmp_path):
    (tmp_path / "task_22_second_brain.md").write_text(SECOND_BRAIN)
    t = load_pinchbench(tmp_path / "task_22_second_brain.md")
    assert workspace_files(t) == {}  # no AGENTS.md, USER.md, MEMORY.md, memory/ or skills/ of clawgym's
    s = run_episode(t, "noop").score
    assert (s.status, s.value) == ("scored", 0.0), s  # MEMORY.md exists only once an agent writes it
    calls = tmp_path / "calls.json"
    calls.write_text(json.dumps([{"name": "write", "arguments": {"path": "MEMORY.md", "content": "- favourite language: Rust\n"}}]))
    assert run_episode(t, f"replay:{calls}").score.value == 1.0


def test_pinchbench_grade_that_raises_scores_zero_unless_strict(tmp_path):
    (tmp_path / "task_x.md").write_text(SECOND_BRAIN.replace("    ws = Path(workspace_path)", "    raise RuntimeError('grader bug')"))
    t = load_pinchbench(tmp_path / "task_x.md")
    s = run_episode(t, "noop").score
    assert (s.status, s.value, s.checker_failed) == ("scored", 0.0, True) and "grader bug" in s.reasons["checker_failed"]
    s = run_episode(t, "noop", strict_checkers=True).score
    assert s.status == "error" and "grader bug" in s.error


@needs_bwrap
def test_clawgym_fixture_upstream_contract(tmp_path):
    "The fixture's reward.sh calls /root/.openclaw/workspace/reward/check.py by absolute path and its check.py reads the payload."
    t = load_clawgym_task(SAMPLES / "clawgym" / "task_0001")
    assert "/root/.openclaw/workspace/reward/check.py" in next(f for f in t.hidden if f.path == "reward/reward.sh").data().decode()
    s = run_episode(t, "noop").score
    assert (s.status, s.value) == ("scored", 0.0) and not s.checker_failed
    answer = {"totals": {"groceries": 236.40, "transport": 137.40, "dining": 249.55, "subscriptions": 35.96}, "over_budget": ["dining"]}
    calls = tmp_path / "calls.json"
    calls.write_text(json.dumps([{"name": "write", "arguments": {"path": "reports/q3_budget_review.json", "content": json.dumps(answer)}}]))
    s = run_episode(t, f"replay:{calls}").score  # the replay's final reply ("Done.") does not name the overspent category
    assert s.value == pytest.approx(0.8), s


@needs_bwrap
def test_failing_reward_script_counts_zero_and_is_counted(tmp_path):
    root = tmp_path / "cg"
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", root / "task_0001")
    (root / "task_0001" / "reward" / "check.py").write_text("import sys\nsys.exit('check.py: cannot parse the report')\n")
    s = run_tasks(load_tasks(root).tasks, "noop", tmp_path / "run", workers=0, progress=False)
    assert (s["scored"], s["errors"], s["checker_failures"], s["mean_score"]) == (1, 0, 1, 0.0)
    s = run_tasks(load_tasks(root).tasks, "noop", tmp_path / "strict", workers=0, progress=False, strict_checkers=True)
    assert (s["scored"], s["errors"], s["checker_failures"]) == (0, 1, 0)
    assert json.loads((tmp_path / "strict" / "run.json").read_text())["strict_checkers"] is True


def test_openclaw_harness_seeds_but_never_memory(tmp_path):
    "Under --harness openclaw the workspace gets what OpenClaw seeds, and MEMORY.md still exists only once an agent writes it."
    (tmp_path / "task_22_second_brain.md").write_text(SECOND_BRAIN)
    t = load_pinchbench(tmp_path / "task_22_second_brain.md")
    kept = tmp_path / "final"
    traj = run_episode(t, "noop", harness="openclaw", keep_workspace=kept)
    assert (traj.score.value, traj.provenance["harness"]) == (0.0, "openclaw")
    assert {"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md"} <= {p.name for p in kept.iterdir()}
    assert not (kept / "MEMORY.md").exists() and not (kept / "memory").exists()
    system = traj.messages[0]["content"]
    assert "## /root/.openclaw/workspace/AGENTS.md" in system and "## /root/.openclaw/workspace/MEMORY.md" not in system
