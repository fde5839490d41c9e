"""Whole-episode costs: one ClawGym-format task's life cycle, and `clawgym run` over 200 such tasks, per sandbox backend.

Life cycle = materialize the workspace, open the sandbox, run a `noop` episode, verify (the hidden reward.sh runs in a fresh
sandbox), diff, tear down: `clawgym.run.episode.run_episode(task, "noop")`, median over --calls runs.
Run = `clawgym run --policy noop --workers 2` over 200 copies of the task, wall time.
The ClawGym task is measured with bwrap only: its reward.sh hard-codes /root/.openclaw/workspace, which only bwrap mounts
(the subprocess backend reports such tasks as verification errors). A native task (data_samples/tasks.jsonl, declarative
checks) is measured on both backends for the side-by-side.
Prints a table and writes benchmarks/episode.md. Targets (bwrap, ClawGym task): life cycle <= 150 ms median; run of 200 <= 20 s.

    python benchmarks/episode.py [--calls 200] [--tasks 200]
"""
import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from clawgym.run.episode import run_episode
from clawgym.env.sandbox import available_backends
from clawgym.tasks.formats import load_clawgym_task, load_jsonl, save_jsonl

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data_samples" / "clawgym" / "task_0001"
LIFECYCLE_MS, RUN_S = 150.0, 20.0


def make_folder(dst: Path, n: int) -> Path:
    for i in range(n):
        d = dst / f"task_{i:04d}"
        shutil.copytree(SAMPLE, d)
        entry = json.loads((d / "data_entry.json").read_text())
        entry["task_id"] = f"task_{i:04d}"
        (d / "data_entry.json").write_text(json.dumps(entry, indent=2))
    return dst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).with_name("episode.md")))
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    cg = load_clawgym_task(SAMPLE)
    native = next(t for t in load_jsonl(ROOT / "data_samples" / "tasks.jsonl") if t.id == "budget-rollup-001")
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        folders = {"clawgym": make_folder(Path(tmp) / "cg", a.tasks),
                   "native": save_jsonl([native.__class__.from_dict({**native.to_dict(), "id": f"n-{i:04d}"}) for i in range(a.tasks)],
                                        Path(tmp) / "native.jsonl")}
        for backend in available_backends():
            for kind, task in (("clawgym", cg), ("native", native)):
                if kind == "clawgym" and backend != "bwrap": continue
                tr = run_episode(task, "noop", backend=backend)
                assert tr.score.ok, tr.score
                ms = []
                for _ in range(a.calls):
                    t0 = time.perf_counter()
                    run_episode(task, "noop", backend=backend)
                    ms.append((time.perf_counter() - t0) * 1000)
                out = Path(tmp) / f"run-{backend}-{kind}"
                t0 = time.perf_counter()
                r = subprocess.run([str(Path(sys.executable).parent / "clawgym"), "run", "--tasks", str(folders[kind]), "--policy", "noop",
                                    "--workers", "2", "--backend", backend, "--out", str(out)], capture_output=True, text=True)
                wall = time.perf_counter() - t0
                if r.returncode != 0: raise SystemExit(f"clawgym run failed:\n{r.stderr}")
                summary = json.loads((out / "summary.json").read_text())
                assert summary["episodes"] == a.tasks and summary["errors"] == 0, summary
                med = statistics.median(ms)
                if backend == "bwrap" and kind == "clawgym": ok = med <= LIFECYCLE_MS and wall <= RUN_S
                rows.append((f"{backend}, {kind} task", med, sorted(ms)[int(0.9 * len(ms))], wall))
    table = ("| backend, task | life cycle median ms | p90 ms | `clawgym run` noop x %d, 2 workers: wall s |\n|---|---|---|---|\n" % a.tasks
             + "\n".join(f"| {b} | {m:.1f} | {p:.1f} | {w:.1f} |" for b, m, p, w in rows))
    verdict = (f"Targets (bwrap, ClawGym task): life cycle <= {LIFECYCLE_MS:g} ms median, run of {a.tasks} <= {RUN_S:g} s: "
               + ("met" if ok else "MISSED"))
    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, 2 cores"
    print(table + "\n\n" + verdict)
    Path(a.out).write_text(f"# Episode life cycle and run throughput\n\n`python benchmarks/episode.py --calls {a.calls} --tasks {a.tasks}`"
                           f"\n\n{table}\n\n{verdict}\n\nMachine: {machine}.\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
