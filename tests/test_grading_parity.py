"""One grading core: in-process `verify`, the exported ClawGym reward.sh (run the upstream way) and the exported Harbor
test.sh give the same score for the same workspace, on every data_samples task and two tasks of every family, over the
reference, noop, cheat, scaffold and tampered-input workspaces."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from clawgym.run.episode import run_episode
from clawgym.bench.export import _harbor_task
from clawgym.env.sandbox import bwrap_status
from clawgym.synth.procedural import load_families, make_task
from clawgym.tasks.formats import load_tasks, save_clawgym
from clawgym.grade.verify import reward_payload, verify
from clawgym.env.workspace import materialize, scaffold

from upstream import run_harbor_test, run_reward_sh, upstream_score

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
pytestmark = pytest.mark.skipif(not bwrap_status()[0], reason="the upstream reward contract needs bwrap: " + bwrap_status()[1])


def _tasks():
    sample = load_tasks(SAMPLES)
    assert not sample.errors, sample.errors
    return [(t.id, t) for t in sample.tasks] + [(f"{f}-{s}", make_task(f, s)) for f in sorted(load_families()) for s in (0, 1)]

TASKS = _tasks()


def _tamper(ws:Path, task) -> bool:
    "Change one input file of the task in `ws` (the first one the reference does not write); False when there is none."
    written = {c.arguments.get("path") for c in task.reference if c.name in ("write", "edit")}
    for f in task.workspace.files:
        p = ws / f.path
        if f.path not in written and p.is_file() and not p.is_symlink():
            p.write_bytes(p.read_bytes() + b"\ntampered\n")
            return True
    return False


def _workspaces(task, root:Path) -> dict:
    "name -> (final workspace, messages) for the reference, noop, cheat, scaffold and tampered-input cases."
    out = {}
    for name, policy in (("reference", "oracle"), ("noop", "noop"), ("cheat", "cheat")):
        traj = run_episode(task, policy, keep_workspace=root / name)
        out[name] = (root / name, traj.messages)
    out["scaffold"] = (scaffold(task, root / "scaffold"), [])
    shutil.copytree(root / "reference", root / "tampered", symlinks=True)
    if _tamper(root / "tampered", task): out["tampered"] = (root / "tampered", out["reference"][1])
    return out


@pytest.mark.parametrize("tid,task", TASKS, ids=[t for t, _ in TASKS])
def test_same_score_everywhere(tid, task):
    root = Path(tempfile.mkdtemp(prefix="parity-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        os.chmod(root, 0o755)
        save_clawgym([task], root / "cg")
        cg = next((root / "cg").iterdir())
        _harbor_task(task, {}, "parity", root / "harbor", root / "harbor-tmp")
        for name, (ws, messages) in _workspaces(task, root / "ws").items():
            v = verify(task, ws, messages)
            payload = reward_payload(task, messages)
            proc = run_reward_sh(cg, ws, payload)
            harbor, hproc = run_harbor_test(root / "harbor", ws, payload)
            where = (f"{tid}/{name}: verify {v.status} {v.value} ({v.error}); "
                     f"reward.sh rc {proc.returncode} {proc.stdout[-300:]!r} {proc.stderr[-300:]!r}")
            if v.status != "scored":  # a grader that fails is never a score, anywhere
                assert proc.returncode != 0 and harbor is None, where
                continue
            assert upstream_score(proc) == pytest.approx(v.value, abs=1e-6), where
            if not v.checker_failed: assert proc.returncode == 0, where
            if task.meta.source_format == "native" or not v.checker_failed:
                assert harbor == pytest.approx(v.value, abs=1e-6), \
                    where + f"; harbor {harbor} {hproc.stdout[-300:]!r} {hproc.stderr[-300:]!r}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _export_and_grade(task, files:dict, messages=None):
    "verify, reward.sh and Harbor's test.sh on a workspace holding the task's files plus `files`."
    root = Path(tempfile.mkdtemp(prefix="parity-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        os.chmod(root, 0o755)
        ws = materialize(task, root / "ws")
        for p, text in files.items():
            (ws / p).parent.mkdir(parents=True, exist_ok=True)
            (ws / p).write_text(text)
        save_clawgym([task], root / "cg")
        _harbor_task(task, {}, "parity", root / "harbor", root / "harbor-tmp")
        payload = reward_payload(task, messages)
        proc = run_reward_sh(next((root / "cg").iterdir()), ws, payload)
        return verify(task, ws, messages), proc, run_harbor_test(root / "harbor", ws, payload)[0]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_hard_guard_caps_the_export_too():
    from clawgym.core import Aggregation, Check, FileSpec, Task, WorkspaceSpec
    t = Task("guarded", "Write hello; keep in.txt.", WorkspaceSpec(files=[FileSpec("in.txt", text="keep me\n")]),
             checks=[Check("text_equals", {"path": "out.txt", "expected": "hello"}),
                     Check("file_unchanged", {"path": "in.txt"}, hard=True)],
             aggregation=Aggregation(gate=True))
    v, proc, harbor = _export_and_grade(t, {"out.txt": "hello", "in.txt": "changed\n"})
    assert (v.value, upstream_score(proc), harbor) == (0.0, 0.0, 0.0), (v, proc.stdout)
    v, proc, harbor = _export_and_grade(t, {"out.txt": "hello"})
    assert (v.value, upstream_score(proc), harbor) == (1.0, 1.0, 1.0)


def test_bool_verdict_is_an_error_in_the_export_too():
    from clawgym.core import FileSpec, Task, WorkspaceSpec
    t = Task("done-true", "Do it.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]),
             checker="def grade(transcript, ws):\n    return {'done': True}\n")
    v, proc, harbor = _export_and_grade(t, {})
    assert v.status == "error" and "bools are not scores" in v.error
    assert proc.returncode != 0 and "bools are not scores" in proc.stderr and harbor is None


def test_checker_reads_the_transcript_from_the_payload():
    from clawgym.core import FileSpec, Task, ToolCall, WorkspaceSpec
    checker = ("def grade(transcript, ws):\n    calls = [i['name'] for e in transcript if e['type'] == 'message' for i in "
               "e['message']['content']"
               " if i.get('type') == 'toolCall']\n    return {'used_write': float('write' in calls)}\n")
    t = Task("reads-transcript", "Write it.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]), checker=checker)
    msgs = [{"role": "user", "content": "Write it."},
            {"role": "assistant", "content": None, "tool_calls": [ToolCall("write", {"path": "a", "content": "b"}, "c1").to_openai()]},
            {"role": "tool", "tool_call_id": "c1", "name": "write", "content": "ok"}, {"role": "assistant", "content": "Done."}]
    v, proc, harbor = _export_and_grade(t, {}, msgs)
    assert (v.value, upstream_score(proc), harbor) == (1.0, 1.0, 1.0)
