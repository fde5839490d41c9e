"Rescoring stored runs: an unchanged verifier reproduces every score exactly; a changed check changes scores and is reported."
import json
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from clawgym.cli import main
from clawgym.core import Task
from clawgym.run.rollout import load_run, run_tasks
from clawgym.synth.procedural import load_families, make_task
from clawgym.tasks.formats import load_tasks, save_jsonl

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Oracle and noop runs over one instance of every family plus the data samples, with their tasks file recorded."
    d = tmp_path_factory.mktemp("rescore")
    tasks = {t.id: t for t in [make_task(n, 0)
                               for n in sorted(load_families())] + load_tasks(SAMPLES).tasks}  # samples may hold family instances too
    tasks = list(tasks.values())
    save_jsonl(tasks, d / "tasks.jsonl")
    for policy in ("oracle", "noop"):
        run_tasks(tasks, policy, d / policy, workers=2, progress=False, tasks_path=d / "tasks.jsonl")
    return d, tasks


@pytest.mark.parametrize("policy", ["oracle", "noop"])
def test_unchanged_verifier_reproduces_every_score(runs, policy):
    d, tasks = runs
    with redirect_stdout(StringIO()): assert main(["rescore", str(d / policy), "--out", str(d / f"{policy}-again")]) == 0
    before, after = load_run(d / policy), load_run(d / f"{policy}-again")
    assert len(before) == len(tasks) and [t.key for t in after] == [t.key for t in before]
    for b, a in zip(before, after):
        assert a.score == b.score, (b.task_id, b.score, a.score)
        assert a.provenance["rescore"]["before"] == {"status": b.score.status, "value": b.score.value}
    summary = json.loads((d / f"{policy}-again/summary.json").read_text())
    assert summary["rescore"]["changed"] == 0 and summary["episodes"] == len(tasks)
    assert "No episode changed." in (d / f"{policy}-again/changes.md").read_text()
    assert all((d / f"{policy}-again" / t.archive).is_file() for t in after)
    assert summary["errors"] == 0


def _stricter(t:Task) -> Task:
    "The first value-comparing check of `t` wants a different value."
    d = t.to_dict()
    for c in d.get("checks", []):
        if "expected" in c["params"] and c.get("weight", 1) > 0:
            c["params"]["expected"] = "something else entirely"
            return Task.from_dict(d)
    return t


def test_changed_check_changes_scores_and_is_reported(runs):
    d, tasks = runs
    solved = {t.task_id for t in load_run(d / "oracle") if t.score.value == 1.0}
    strict = [_stricter(t) if t.id in solved else t for t in tasks]
    changed = {t.id for t, s in zip(tasks, strict) if s is not t}
    assert len(changed) >= 10
    save_jsonl(strict, d / "strict.jsonl")
    with redirect_stdout(StringIO()):
        assert main(["rescore", str(d / "oracle"), "--tasks", str(d / "strict.jsonl"), "--out", str(d / "oracle-strict"), "--workers",
                     "2"]) == 0
    after = {t.task_id: t.score for t in load_run(d / "oracle-strict")}
    assert {k for k, s in after.items() if k in solved and s.value != 1.0} == changed
    md = (d / "oracle-strict/changes.md").read_text()
    summary = json.loads((d / "oracle-strict/summary.json").read_text())
    assert summary["rescore"]["changed"] == summary["rescore"]["down"] == len(changed)
    for tid in changed: assert f"| {tid} | oracle | 0 | 1 → " in md and "| yes |" in md, tid
    assert f"{len(changed)} of {len(tasks)} episodes changed" in md


def test_rescore_refuses_to_overwrite_and_needs_tasks(runs, tmp_path):
    d, _ = runs
    err = StringIO()
    from contextlib import redirect_stderr
    with redirect_stderr(err): assert main(["rescore", str(d / "noop"), "--out", str(d / "noop")]) == 2
    assert "new folder" in err.getvalue()
    run = json.loads((d / "noop/run.json").read_text())
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy/trajectories.jsonl").write_text((d / "noop/trajectories.jsonl").read_text())
    (tmp_path / "copy/run.json").write_text(json.dumps({**run, "tasks_path": None}))
    with redirect_stderr(err): assert main(["rescore", str(tmp_path / "copy"), "--out", str(tmp_path / "out")]) == 2
    assert "pass --tasks" in err.getvalue()
