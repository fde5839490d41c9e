"""Rollout engine costs: the harness overhead of one agent step, and Ray executor throughput against the process pool.

Harness overhead per step = wall time of `Episode.request()` + `Episode.advance(reply)` for a reply holding one tool call,
i.e. everything the harness does for a turn except generating it: building the policy's request, recording the assistant
message, validating and dispatching the call, running the tool, appending the `tool` message, step accounting and budget
checks. Measured with `replay`-style replies (no model) on a data_samples task, over --steps consecutive steps of one
episode (the conversation grows as it would). The `read` row is the target; `exec true` adds a sandboxed process per call
and is shown for scale (that cost is the tool's, not the harness's).

Throughput = episodes per second of `run_tasks(oracle)` over data_samples/tasks.jsonl x --samples, --workers workers,
executor `process` against `ray` (a local Ray instance of --workers CPUs), best of --reps alternating runs each. The process
pool's start-up is part of every run (a pool lives for one run); Ray's one-time start-up (`ray.init` and a warm-up run that
starts its worker processes) is measured separately and reported, and excluded from the Ray runs, as on a long-lived
cluster.

Prints tables and writes benchmarks/rollout.md. Targets: overhead median <= 5 ms (read); Ray >= 0.8x process throughput.

    python benchmarks/rollout.py [--steps 300] [--samples 34] [--workers 2] [--reps 3]
"""
import argparse
import logging
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import ray

from clawgym.run.episode import Budget, Episode

from clawgym.policies.base import Reply
from clawgym.core import ToolCall
from clawgym.run.rollout import run_tasks
from clawgym.env.sandbox import default_backend
from clawgym.tasks.formats import load_jsonl

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "data_samples" / "tasks.jsonl"
OVERHEAD_MS, RAY_RATIO = 5.0, 0.8


def step_times(task, call: ToolCall, steps: int, backend: str) -> list[float]:
    "Seconds per request() + advance() over `steps` turns of one episode, each turn one `call`."
    ep = Episode(task, "replay", budget=Budget(max_turns=steps + 1, wall_s=3600), backend=backend)
    out = []
    try:
        for i in range(steps):
            reply = Reply(tool_calls=[ToolCall(call.name, dict(call.arguments), id=f"call_{i}")])
            t = time.perf_counter()
            ep.request()
            ep.advance(reply)
            out.append(time.perf_counter() - t)
            assert not ep.done and ep.steps[-1].errors == 0, ep.messages[-1]
    finally:
        ep.fail("benchmark over")
        ep.finish()
    return out


def throughput(tasks, executor: str, samples: int, workers: int, tmp: Path) -> float:
    "Wall seconds of one oracle run."
    out = tmp / f"{executor}-{time.time_ns()}"
    t = time.perf_counter()
    s = run_tasks(tasks, "oracle", out, samples=samples, workers=workers, executor=executor, progress=False)
    wall = time.perf_counter() - t
    assert s["episodes"] == len(tasks) * samples and s["errors"] == 0, s
    return wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--samples", type=int, default=34)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).with_name("rollout.md")))
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    tasks = load_jsonl(TASKS)
    task = next(t for t in tasks if t.id == "budget-rollup-001")
    backend = default_backend()
    read_path = task.workspace.files[0].path

    rows = []
    for label, call in [(f"read {read_path}", ToolCall("read", {"path": read_path})), ("exec true", ToolCall("exec", {"command": "true"}))]:
        ms = sorted(1000 * x for x in step_times(task, call, a.steps, backend))
        rows.append((label, statistics.median(ms), ms[int(0.9 * len(ms))], ms[-1]))
    overhead_ok = rows[0][1] <= OVERHEAD_MS
    t1 = ["| tool call per step | median ms | p90 ms | max ms |", "|---|---|---|---|"]
    t1 += [f"| {l} | {m:.3f} | {p:.3f} | {x:.3f} |" for l, m, p, x in rows]

    n = len(tasks) * a.samples
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = time.perf_counter()
        ray.init(num_cpus=a.workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        throughput(tasks, "ray", 1, a.workers, tmp)  # warm-up: Ray starts its worker processes and imports clawgym
        ray_start = time.perf_counter() - t
        walls = {"process": [], "ray": []}
        for _ in range(a.reps):
            for ex in walls: walls[ex].append(throughput(tasks, ex, a.samples, a.workers, tmp))
        ray.shutdown()
    best = {ex: min(w) for ex, w in walls.items()}
    ratio = best["process"] / best["ray"]
    ray_ok = ratio >= RAY_RATIO
    t2 = [f"| executor | {n} oracle episodes, wall s (best of {a.reps}) | all runs s | episodes/s |", "|---|---|---|---|"]
    t2 += [f"| {ex} | {best[ex]:.2f} | {', '.join(f'{w:.2f}' for w in walls[ex])} | {n / best[ex]:.1f} |" for ex in walls]

    machine = f"CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, sandbox backend {backend}"
    md = "\n".join([
        "# Rollout engine: harness overhead per step, Ray against the process pool", "",
        f"`python benchmarks/rollout.py --steps {a.steps} --samples {a.samples} --workers {a.workers} --reps {a.reps}`", "",
        "## Harness overhead per agent step, model time excluded", "",
        "Wall time of `Episode.request()` + `Episode.advance(reply)` for a reply with one tool call: the request, recording the",
        "assistant message, dispatching the call, the tool itself, the `tool` message, step accounting, budget checks.",
        f"{a.steps} consecutive steps of one episode on `{task.id}`.", "", *t1, "",
        f"Target: `read` median <= {OVERHEAD_MS} ms: {'met' if overhead_ok else 'NOT met'}", "",
        "## Ray executor throughput on one machine", "",
        f"`run_tasks(oracle)` over data_samples/tasks.jsonl x {a.samples} samples, {a.workers} workers. Ray's one-time",
        f"start-up (ray.init + a warm-up run starting its workers): {ray_start:.2f} s, not in the Ray rows; the process pool starts",
        "inside every run.", "", *t2, "",
        f"Ray / process throughput: {ratio:.2f} (target >= {RAY_RATIO}): {'met' if ray_ok else 'NOT met'}", "",
        f"Machine: {machine}. Shared with other jobs while measured, so absolute times are noisy; the runs alternate to share",
        "the noise.", ""])
    Path(a.out).write_text(md)
    print(md)
    return 0 if overhead_ok and ray_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
