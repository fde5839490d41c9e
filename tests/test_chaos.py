"""Chaos: SIGKILL a `clawgym run` (parent, pool workers, sandboxes: the whole process group) mid-run, resume it, and get
exactly the store an uninterrupted run writes; and a line torn by hand is discarded and its episode re-run."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clawgym.core import Trajectory
from clawgym.tasks.formats import load_jsonl

ROOT = Path(__file__).resolve().parent.parent
CLAWGYM = Path(sys.executable).parent / "clawgym"
TASKS = ROOT / "data_samples" / "tasks.jsonl"
SAMPLES = 7  # x 6 tasks = 42 episodes


def run_args(calls, out, workers=2):
    return ["run", "--tasks", TASKS, "--policy", f"replay:{calls}", "--samples", SAMPLES, "--workers", workers, "--out", out]


def clawgym(*args):
    return subprocess.run([str(CLAWGYM), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def lines(out):
    return (Path(out) / "trajectories.jsonl").read_text().splitlines()


def outcome(out):
    "key -> what a deterministic policy must reproduce; fails on a line that does not parse or a key seen twice."
    recs = [Trajectory.from_json(l) for l in lines(out)]
    keys = [t.key for t in recs]
    assert len(keys) == len(set(keys)), "a key was recorded twice"
    return {t.key: (t.seed, t.stop_reason, t.score.status, t.score.value, t.score.subscores,
                    [(m["role"], m.get("content")) for m in t.messages]) for t in recs}


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    "Each episode first sleeps 0.3 s in the sandbox; half the tasks then replay their reference, so scores are a mix of 1 and less."
    tasks = load_jsonl(TASKS)
    sleep = {"name": "exec", "arguments": {"command": "sleep 0.3"}}
    plan = {t.id: [sleep] + ([c.to_openai()["function"] for c in t.reference] if i % 2 == 0 else []) for i, t in enumerate(tasks)}
    p = tmp_path_factory.mktemp("chaos") / "calls.json"
    p.write_text(json.dumps(plan))
    return p


@pytest.fixture(scope="module")
def reference(calls, tmp_path_factory):
    out = tmp_path_factory.mktemp("chaos") / "uninterrupted"
    r = clawgym(*run_args(calls, out, workers=4))
    assert r.returncode == 0, r.stderr
    res = outcome(out)
    assert len(res) == 6 * SAMPLES
    assert {v[3] for v in res.values()} >= {1.0, 0.0}, "the replay plan should give both solved and unsolved episodes"
    return out, res


def test_sigkill_the_process_group_then_resume(calls, reference, tmp_path):
    out = tmp_path / "run"
    args = [str(CLAWGYM), *map(str, run_args(calls, out))]
    p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    store = out / "trajectories.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not store.exists() or store.read_bytes().count(b"\n") < 8):
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    done = store.read_bytes().count(b"\n")
    assert 8 <= done < 6 * SAMPLES, f"the kill should land mid-run, {done} episodes were stored"
    r = clawgym(*run_args(calls, out))
    assert r.returncode == 0, r.stderr
    assert outcome(out) == reference[1]
    assert json.loads((out / "summary.json").read_text())["episodes"] == 6 * SAMPLES


def test_torn_line_is_discarded_and_its_episode_rerun(calls, reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference[0], out)
    full = lines(out)
    # Two episodes lost, the second of them half-written, as a crash in the middle of a write leaves it.
    (out / "trajectories.jsonl").write_text("\n".join(full[:-2]) + "\n" + full[-2][: len(full[-2]) // 2])
    r = clawgym(*run_args(calls, out))
    assert r.returncode == 0, r.stderr
    assert "torn last line" in r.stderr
    assert len(lines(out)) == 6 * SAMPLES
    assert outcome(out) == reference[1]
