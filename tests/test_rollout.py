"""Rollout engine beyond the notebook: the batched driver under a slow tool and a failing policy, `clawgym run --executor`
serial / ray giving the same trajectories, and `clawgym export`."""
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from clawgym.policies.base import Policy, ReplayPolicy
from clawgym.core import Check, FileSpec, Task, ToolCall, Trajectory, WorkspaceSpec
from clawgym.run.rollout import load_run, run_tasks

ROOT = Path(__file__).resolve().parent.parent
CLAWGYM = Path(sys.executable).parent / "clawgym"
TASKS = ROOT / "data_samples" / "tasks.jsonl"


def clawgym(*args):
    return subprocess.run([str(CLAWGYM), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def hello(i):
    return Task(f"hello-{i}", f"Write 'hello {i}' to out/hello.txt.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]),
                checks=[Check("text_equals", {"path": "out/hello.txt", "expected": f"hello {i}"})])


class BatchedReplay(ReplayPolicy):
    "A replay policy that batches, recording the size of every generate call."
    batched = True

    def __init__(self, path):
        super().__init__(path)
        self.sizes = []

    def generate(self, requests):
        self.sizes.append(len(requests))
        return super().generate(requests)


def test_a_slow_exec_does_not_stall_the_other_episodes(tmp_path):
    write = lambda i: {"name": "write", "arguments": {"path": "out/hello.txt", "content": f"hello {i}"}}
    read = {"name": "read", "arguments": {"path": "in.txt"}}
    plan = {"hello-0": [{"name": "exec", "arguments": {"command": "sleep 3"}}, write(0)]}
    plan.update({f"hello-{i}": [read, read, read, write(i)] for i in range(1, 4)})
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    pol = BatchedReplay(tmp_path / "plan.json")
    s = run_tasks([hello(i) for i in range(4)], pol, tmp_path / "run", concurrency=4, progress=False)
    assert (s["episodes"], s["mean_score"]) == (4, 1.0)
    trajs = load_run(tmp_path / "run")
    assert trajs[-1].task_id == "hello-0", [t.task_id for t in trajs]
    assert all(t.wall_s < 2.0 for t in trajs[:-1]), [(t.task_id, t.wall_s) for t in trajs]
    assert trajs[-1].wall_s >= 3.0
    assert max(pol.sizes) >= 3 and sum(pol.sizes) == sum(len(t.steps) for t in trajs)


class Broken(Policy):
    name, batched = "broken", True

    def generate(self, requests):
        raise ConnectionError("endpoint unreachable")


class Short(Policy):
    name, batched = "short", True

    def generate(self, requests):
        return []


@pytest.mark.parametrize("policy, message", [(Broken(), "endpoint unreachable"), (Short(), "0 replies for")])
def test_a_failing_batched_policy_ends_its_episodes_as_errors(tmp_path, policy, message):
    s = run_tasks([hello(i) for i in range(3)], policy, tmp_path / "run", samples=2, concurrency=4, progress=False)
    assert (s["episodes"], s["errors"], s["mean_score"]) == (6, 6, None)
    for t in load_run(tmp_path / "run"):
        assert t.stop_reason == "policy_error" and t.score.status == "error" and message in t.score.error


def test_a_batched_policy_refuses_ray(tmp_path):
    with pytest.raises(ValueError, match="--executor process"):
        run_tasks([hello(0)], Broken(), tmp_path / "run", executor="ray")


def outcome(run):
    return sorted((t.key, t.seed, t.score.value, t.stop_reason, [m.get("content") for m in t.messages]) for t in load_run(run))


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rollout") / "serial"
    r = clawgym("run", "--tasks", TASKS, "--policy", "oracle", "--samples", 2, "--executor", "serial", "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "run.json").read_text())["executor"] == "serial"
    return out


def test_ray_executor_gives_the_same_trajectories(oracle_run, tmp_path):
    out = tmp_path / "ray"
    r = clawgym("run", "--tasks", TASKS, "--policy", "oracle", "--samples", 2, "--executor", "ray", "--workers", 2, "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "run.json").read_text())["executor"] == "ray"
    assert outcome(out) == outcome(oracle_run)
    assert len(outcome(out)) == 12


def test_export_sft_and_parquet(oracle_run, tmp_path):
    r = clawgym("export", "sft", oracle_run, "--min-score", "1", "--out", tmp_path / "sft.jsonl")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in (tmp_path / "sft.jsonl").read_text().splitlines()]
    assert len(rows) == 6  # 6 tasks x 2 identical oracle samples
    for row in rows:
        assert set(row) == {"messages", "tools"} and row["messages"][0]["role"] == "system"
        calls = {tc["id"] for m in row["messages"] for tc in m.get("tool_calls") or []}
        assert calls and all(m["tool_call_id"] in calls for m in row["messages"] if m["role"] == "tool")
    r = clawgym("export", "parquet", oracle_run, "--tasks", TASKS)
    assert r.returncode == 0, r.stderr
    df = pl.read_parquet(oracle_run / "trajectories.parquet")
    assert df.height == 12 and df["score"].min() == 1.0 and df["category"].null_count() == 0
    assert (df["turns"] == df["tool_calls"] + 1).all()  # one call per turn, then a final answer
    r = clawgym("export", "sft", oracle_run)
    assert r.returncode == 2 and "--out" in r.stderr and "Traceback" not in r.stderr
    r = clawgym("export", "parquet", tmp_path / "nothing")
    assert r.returncode == 2 and "clawgym run" in r.stderr


def test_an_unreachable_ray_cluster_is_a_quick_clean_error(tmp_path):
    r = clawgym("run", "--tasks", TASKS, "--policy", "noop", "--out", tmp_path / "x", "--executor", "ray", "--ray-address", "127.0.0.1:1")
    assert r.returncode == 2 and "no Ray cluster answers at 127.0.0.1:1" in r.stderr and "Traceback" not in r.stderr
