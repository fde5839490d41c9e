"""The trajectory store and run folders: nothing lost, nothing duplicated, no silent mixing of settings."""
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from clawgym.policies.base import Policy, Reply
from clawgym.core import Check, FileSpec, Task, Trajectory, WorkspaceSpec
from clawgym.run.rollout import LOCK_FILE, TrajectoryStore, run_lock, run_tasks


def task(i=0):
    return Task(f"t{i}", "Write hi.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]),
                checks=[Check("file_exists", {"path": "hi.txt"})])


class Surrogate(Policy):
    "Replies with a lone surrogate, valid JSON that is not valid UTF-8."
    name = "surrogate"
    def generate(self, requests): return [Reply(content="half a pair: \ud800 and \udfff.") for _ in requests]


def test_lone_surrogate_is_stored_losslessly(tmp_path):
    s = run_tasks([task()], Surrogate(), tmp_path / "run", workers=0, progress=False)
    assert s["episodes"] == 1
    (t,) = TrajectoryStore(tmp_path / "run" / "trajectories.jsonl").load()
    assert t.messages[-1]["content"] == "half a pair: \ud800 and \udfff."
    (tmp_path / "run" / "trajectories.jsonl").read_bytes().decode("utf-8")  # the file itself is valid UTF-8


def test_bad_bytes_and_repeated_keys_are_skipped_with_file_and_line(tmp_path):
    good = Trajectory("t0", "noop", messages=[{"role": "user", "content": "é"}]).to_json()
    f = tmp_path / "trajectories.jsonl"
    f.write_bytes(good.encode() + b"\n" + b'{"task_id": "t1", "policy": "noop", "x": "\xff\xfe"}\n' + good.encode() + b"\n")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = TrajectoryStore(f).load()
    assert [t.task_id for t in got] == ["t0"]
    msgs = [str(x.message) for x in w]
    assert any(f"{f}:2:" in m and "UnicodeDecodeError" in m for m in msgs), msgs
    assert any(f"{f}:3:" in m and "second record" in m and "line 1" in m for m in msgs), msgs


def test_garbage_token_counts_are_skipped_on_load(tmp_path):
    f = tmp_path / "trajectories.jsonl"
    rec = lambda tid, tokens: json.dumps({"task_id": tid, "policy": "noop", "steps": [{"turn": 1, "tokens_in": tokens}]})
    f.write_text(rec("ok", 12) + "\n" + rec("huge", 10**30) + "\n" + rec("negative", -5) + "\n")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = TrajectoryStore(f).load()
    assert [t.task_id for t in got] == ["ok"]  # the others re-run on resume instead of crashing `export parquet`
    assert sum(f"{f}:" in str(x.message) and "tokens_in" in str(x.message) for x in w) == 2


def test_a_second_writer_on_the_same_run_folder_refuses(tmp_path):
    out = tmp_path / "run"
    with run_lock(out):
        with pytest.raises(FileExistsError, match="being written by another clawgym run"):
            run_tasks([task()], "noop", out, workers=0, progress=False)
        code = ("import sys; from pathlib import Path; from clawgym.run.rollout import run_lock\n"
                "try:\n    with run_lock(Path(sys.argv[1])): pass\nexcept FileExistsError as e: print(e); sys.exit(3)\n")
        p = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True)
        assert p.returncode == 3 and "another clawgym run (pid" in p.stdout, p
    s = run_tasks([task()], "noop", out, workers=0, progress=False)  # the lock is free again once its holder is done
    assert s["episodes"] == 1 and (out / LOCK_FILE).exists()


@pytest.mark.parametrize("change", [{"samples": 2}, {"harness": "openclaw"}, {"base_seed": 1}])
def test_resume_with_other_settings_refuses(tmp_path, change):
    run_tasks([task()], "noop", tmp_path / "run", workers=0, progress=False)
    with pytest.raises(ValueError, match="holds a run with other settings"):
        run_tasks([task()], "noop", tmp_path / "run", workers=0, progress=False, **change)
    s = run_tasks([task()], "noop", tmp_path / "run", workers=0, progress=False, overwrite=True, **change)
    assert s["episodes"] == (2 if change.get("samples") else 1)


@pytest.mark.parametrize("name", ["trajectories.jsonl", "run.json", "summary.json", "workspaces/x.jsonl"])
def test_exports_never_overwrite_the_run(tmp_path, name):
    from clawgym.run.rollout import export_parquet, export_sft
    out = tmp_path / "run"
    run_tasks([task()], "oracle", out, workers=0, progress=False)
    before = (out / "trajectories.jsonl").read_bytes()
    for export in (lambda: export_sft(out, out / name, min_score=0.0), lambda: export_parquet(out, out / name)):
        with pytest.raises(ValueError, match="one of the run's own files"):
            export()
    assert (out / "trajectories.jsonl").read_bytes() == before


def _marked(mark: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit(): continue
        try:
            if f"CLAWGYM_TEST_MARK={mark}".encode() in (d / "environ").read_bytes(): out.append(int(d.name))
        except OSError: continue
    return out


def test_killing_the_parent_alone_leaves_no_workers(tmp_path):
    "SIGKILL to the `clawgym run` process only: its pool workers notice and exit within seconds."
    import os, signal, secrets
    from clawgym.tasks.formats import save_jsonl
    save_jsonl([task(i) for i in range(4)], tmp_path / "t.jsonl")
    calls = tmp_path / "calls.json"
    calls.write_text('[{"name": "exec", "arguments": {"command": "sleep 20"}}]')
    mark = secrets.token_hex(6)
    p = subprocess.Popen([str(Path(sys.executable).with_name("clawgym")), "run", "--tasks", str(tmp_path / "t.jsonl"), "--policy",
                          f"replay:{calls}", "--out", str(tmp_path / "run"), "--workers", "2"],
                         env={**os.environ, "CLAWGYM_TEST_MARK": mark}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(_marked(mark)) < 3 and time.time() < deadline: time.sleep(0.2)  # the parent, the forkserver, workers
    assert len(_marked(mark)) >= 3, "the run's workers never started"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    deadline = time.time() + 15
    while _marked(mark) and time.time() < deadline: time.sleep(0.2)
    assert _marked(mark) == [], "processes of the killed run are still alive"
