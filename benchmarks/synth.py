"""Synthesis at ClawGym scale: `clawgym synth --n 13500` (generate, every gate with sandboxed reference and noop runs, dedup).

Runs the command as a person would, samples the resident memory of its whole process tree every 0.5 s, and reads the stage
times from the synthesis report. Prints a table and writes benchmarks/synth.md. Targets: <= 600 s wall, peak memory <= 4 GB.

    python benchmarks/synth.py [--n 13500] [--seed 0] [--out /tmp/clawgym-pool]
"""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

from proctree import run_sampled

WALL_S, PEAK_GB = 600.0, 4.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=13500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="/tmp/clawgym-pool")
    ap.add_argument("--md", default=str(Path(__file__).with_name("synth.md")))
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(Path(sys.executable).parent / "clawgym"), "synth", "--n", str(a.n), "--seed", str(a.seed), "--workers", str(a.workers),
           "--out", str(out / "pool.jsonl")]
    rc, log, wall, peak = run_sampled(cmd)
    if rc != 0: raise SystemExit(f"synth failed ({rc}):\n{log[-3000:]}")
    rep = json.loads((out / "pool.report.json").read_text())
    st = rep["stage_s"]
    rows = [("generate", st["generate"], rep["generated"]),
            ("gates (reference, noop, scaffold, empty; sandboxed)", st["gates"], rep["generated"]),
            ("dedup (" + rep["dedup_method"] + ")", st["dedup"], rep["generated"]), ("whole command", wall, rep["kept"])]
    table = "| stage | seconds | tasks | tasks/s |\n|---|---|---|---|\n" + "\n".join(
        f"| {name} | {s:.1f} | {n:,} | {n / s if s else float('inf'):.0f} |" for name, s, n in rows)
    gb = peak / 2**30
    ok = wall <= WALL_S and gb <= PEAK_GB and rep["kept"] >= a.n
    verdict = (f"Kept {rep['kept']:,} of {rep['generated']:,} generated; rejected: {rep['rejected']}. Peak memory (process tree RSS): "
               f"{gb:.2f} GB. Targets: <= {WALL_S:g} s and <= {PEAK_GB:g} GB for {a.n:,} tasks: " + ("met" if ok else "MISSED"))
    print(table + "\n\n" + verdict)
    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    md = Path(a.md)
    notes = md.read_text().partition("\n## Notes\n")[2] if md.exists() else ""  # the hand-written notes survive a rerun
    md.write_text(f"# Synthesis at scale\n\n`{' '.join(['clawgym'] + cmd[1:])}`\n\n{table}\n\n{verdict}\n\nMachine: {machine}.\n"
                  + (f"\n## Notes\n{notes}" if notes else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
