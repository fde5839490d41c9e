"""How long `load_tasks` takes over a folder of ClawGym-format task directories.

Generates N task folders (data_entry.json, a handful of input files including a CSV and a binary file, reward/reward.sh and
reward/check.py) in a temporary folder, times `load_tasks` on it (median of several runs), prints a table and writes it to
benchmarks/tasks_load.md. Target: 200 tasks in under 2 s.

    python benchmarks/tasks_load.py [--tasks 200] [--runs 5]
"""
import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from clawgym.tasks.formats import load_tasks, task_stats

REWARD_SH = '#!/bin/bash\nset -u\nDIR="$(cd "$(dirname "$0")" && pwd)"\nS="$(python3 "$DIR/check.py")" || exit 1\necho "$S"\n' \
            'python3 -c \'import json,sys; s=json.loads(sys.argv[1]); print(sum(s.values())/len(s))\' "$S"\n'
CHECK_PY = ('import json, os\nW = "/root/.openclaw/workspace"\n'
            'print(json.dumps({"report_exists": float(os.path.exists(os.path.join(W, "report.md")))}))\n')
CATEGORIES = ["Productivity & Collaboration", "Systems & Automation", "Analysis & Reasoning", "Content & Domain",
              "Planning & Knowledge", "Software Development"]


def write_task(root: Path, i: int, rng: random.Random):
    d = root / f"task_{i:04d}"
    (d / "input_files" / "docs").mkdir(parents=True)
    (d / "reward").mkdir()
    entry = {"task_id": f"task_{i:04d}", "user_query": f"Summarize data.csv into report.md (task {i}).",
             "input_mount_dir": "/root/.openclaw/workspace",
             "metadata": {"category": CATEGORIES[i % len(CATEGORIES)], "grading_type": "code"}}
    (d / "data_entry.json").write_text(json.dumps(entry, indent=2))
    rows = "\n".join(f"{rng.randint(1, 999)},{rng.choice('abcde')},{rng.random():.4f}" for _ in range(200))
    (d / "input_files" / "data.csv").write_text("id,group,value\n" + rows + "\n")
    (d / "input_files" / "config.json").write_text(json.dumps({"threshold": rng.random(), "groups": list("abcde")}, indent=2))
    (d / "input_files" / "docs" / "notes.md").write_text("# Notes\n\n" + "Some context line.\n" * 40)
    (d / "input_files" / "docs" / "scan.bin").write_bytes(rng.randbytes(4096))
    (d / "reward" / "reward.sh").write_text(REWARD_SH)
    (d / "reward" / "reward.sh").chmod(0o755)
    (d / "reward" / "check.py").write_text(CHECK_PY)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).with_name("tasks_load.md")))
    a = ap.parse_args(argv)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(1, a.tasks + 1): write_task(root, i, rng)
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            ts = load_tasks(root, strict=True)
            times.append(time.perf_counter() - t0)
        stats = task_stats(ts)
    assert stats["tasks"] == a.tasks and not ts.errors, (stats, ts.errors[:3])
    med = statistics.median(times)
    rows = [("tasks", f"{a.tasks}"), ("workspace files", f"{stats['files']}"), ("workspace bytes", f"{stats['bytes']:,}"),
            ("runs", f"{a.runs}"), ("median load time", f"{med:.3f} s"), ("min / max", f"{min(times):.3f} / {max(times):.3f} s"),
            ("per task (median)", f"{med / a.tasks * 1000:.2f} ms"), ("target", "< 2 s for 200 tasks"),
            ("machine", f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")]
    table = "| measure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    print(table)
    Path(a.out).write_text("# Loading ClawGym task folders\n\n`python benchmarks/tasks_load.py` (load_tasks over generated "
                           "ClawGym-format task directories, each with 4 input files and 2 reward files).\n\n" + table + "\n")
    return 0 if med < 2.0 * a.tasks / 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
