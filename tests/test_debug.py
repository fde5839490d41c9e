"Verifier debugging: reports on real family episodes, links never followed, self-contained HTML, the widget over a run."
import json
from pathlib import Path

import pytest

from clawgym.env.workspace import archive_workspace, extract_archive
from clawgym.core import Task
from clawgym.ui.debug import VerifierDebugger, explain
from clawgym.run.rollout import load_run, run_tasks
from clawgym.synth.procedural import make_task
from clawgym.tasks.formats import save_jsonl

FAMILIES = ("calendar_from_notes", "meeting_action_items", "orders_by_region")  # edit in place, a Python checker, CSV rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("debug")
    tasks = [make_task(f, 1) for f in FAMILIES]
    save_jsonl(tasks, d / "tasks.jsonl")
    for pol in ("oracle", "cheat"): run_tasks(tasks, pol, d / pol, workers=0, progress=False, tasks_path=d / "tasks.jsonl")
    return d, {t.id: t for t in tasks}


def test_every_check_and_checker_subscore_is_reported(run):
    d, tasks = run
    for tr in load_run(d / "cheat"):
        task = tasks[tr.task_id]
        r = explain(task, tr, d / "cheat")
        assert r.score == tr.score
        assert [c.name for c in r.checks][:len(task.checks)] == [c.name for c in task.checks]
        assert {c.name for c in r.checks} == set(tr.score.subscores), tr.task_id
        for c in r.checks:
            assert c.reason == tr.score.reasons.get(c.name, ""), c.name
            if c.kind not in ("checker", "reward") and c.score is not None and c.score < 1:
                assert c.files and any(ex.lines or ex.note for ex in c.files), (tr.task_id, c.name)
        if task.checker: assert any(c.kind == "checker" for c in r.checks), tr.task_id
        changed = [o for o in r.outputs if o.reference != o.agent]
        assert changed, f"{tr.task_id}: the cheat's outputs differ from the reference's"
        text, page = str(r), r._repr_html_()
        assert tr.task_id in text and "CHECKS" in text and "OUTPUTS" in text
        assert not any(x in page for x in ("<script", "<link", " src=", " href=", "<iframe"))


def test_oracle_outputs_match_the_reference(run):
    d, tasks = run
    for tr in load_run(d / "oracle"):
        r = explain(tasks[tr.task_id], tr, d / "oracle")
        assert r.score.value == 1.0 and r.outputs
        assert all(o.reference == o.agent for o in r.outputs), tr.task_id


def test_links_are_shown_not_followed_and_truncation_is_noted(run, tmp_path):
    d, tasks = run
    tr = load_run(d / "cheat")[0]
    task = tasks[tr.task_id]
    ws = tmp_path / "ws"
    extract_archive(d / "cheat" / tr.archive, ws)
    target = task.checks[0].params["path"]
    (ws / target).unlink()
    (ws / target).symlink_to("/etc/passwd")
    r = explain(task, workspace=ws)
    seen = [ex for c in r.checks for ex in c.files if ex.path == target]
    assert seen and all("not followed" in ex.note and not ex.lines for ex in seen)
    assert "root:" not in str(r) and "root:" not in r._repr_html_()
    (tmp_path / "run/workspaces").mkdir(parents=True)
    archive_workspace(ws, tmp_path / "run" / tr.archive, max_bytes=200)
    assert any("size cap" in n for n in explain(task, tr, tmp_path / "run").notes)


def test_widget_filters_and_renders(run):
    d, tasks = run
    dbg = VerifierDebugger(d / "cheat")
    assert len(dbg.episodes.options) == len(FAMILIES)
    assert dbg.html.value.count("<h4>Checks</h4>") == 1
    dbg.scores.value = (0.9, 1.0)
    assert all(float(lbl.rsplit("— ", 1)[1]) >= 0.9 for lbl, _ in dbg.episodes.options)
    dbg.status.value, dbg.scores.value = "all", (0.0, 1.0)
    first = dbg.html.value
    dbg.episodes.value = dbg.episodes.options[-1][1]
    assert dbg.html.value != first and dbg.trajectories[dbg.episodes.value].task_id in dbg.html.value
    with pytest.raises(ValueError, match=r"where the tasks came from; pass them \(--tasks PATH, or tasks=\)"):
        run_json = json.loads((d / "cheat/run.json").read_text())
        (d / "cheat/run.json").write_text(json.dumps({**run_json, "tasks_path": None}))
        try: VerifierDebugger(d / "cheat")
        finally: (d / "cheat/run.json").write_text(json.dumps(run_json))
