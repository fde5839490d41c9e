"""The ClawGym-scale bench: a 200-task bench built from a 13,500-task pool by one command, three policies run on it, a report.

Steps, each the command a person would type (timed; peak memory of each command's process tree sampled every 0.5 s):

1. the pool: `clawgym synth --n 13500` (skipped when --pool names an existing file, e.g. the one benchmarks/synth.py made);
2. `clawgym bench build --pool POOL --n 200 --policies noop,oracle,cheat --out BENCH` (calibrates a balanced draw of
   4 x 200 candidates, K=2 samples per policy, and freezes the manifest);
3. `clawgym bench run BENCH --policy P --out RUNS/P` for noop, oracle and cheat;
4. `clawgym bench report RUNS/noop RUNS/oracle RUNS/cheat --out REPORT`.

Prints a table and writes benchmarks/bench200.md; the report's markdown and plots are copied to benchmarks/bench200/.

    python benchmarks/bench200.py [--pool /tmp/clawgym-pool/pool.jsonl] [--work /tmp/clawgym-bench200]
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

from proctree import run_sampled

HERE = Path(__file__).resolve().parent
POLICIES = ["noop", "oracle", "cheat"]


def timed(args: list[str]) -> tuple[float, float]:
    "Run one clawgym command; returns (wall seconds, peak GB of its process tree). Fails loudly with the command's output."
    cmd = [str(Path(sys.executable).parent / "clawgym"), *args]
    print("$ clawgym " + " ".join(args), flush=True)
    rc, log, wall, peak = run_sampled(cmd)
    if rc != 0: raise SystemExit(f"clawgym {' '.join(args)} failed ({rc}):\n{log[-3000:]}")
    return wall, peak / 2**30


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", default="/tmp/clawgym-pool/pool.jsonl", help="made with clawgym synth --n 13500 when missing")
    ap.add_argument("--work", default="/tmp/clawgym-bench200", help="bench, runs and report go here")
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args(argv)
    work, pool = Path(a.work), Path(a.pool)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = []
    if not pool.exists():
        pool.parent.mkdir(parents=True, exist_ok=True)
        rows.append(("clawgym synth --n 13500", *timed(["synth", "--n", "13500", "--seed", "0", "--out", str(pool)])))
    bench, runs, report = work / "bench", work / "runs", work / "report"
    rows.append((f"clawgym bench build --n {a.n} --policies {','.join(POLICIES)}",
                 *timed(["bench", "build", "--pool", str(pool), "--n", str(a.n), "--policies", ",".join(POLICIES), "--out", str(bench)])))
    for p in POLICIES: rows.append((f"clawgym bench run --policy {p}",
                                    *timed(["bench", "run", str(bench), "--policy", p, "--out", str(runs / p)])))
    rows.append(("clawgym bench report (3 runs)", *timed(["bench", "report", *(str(runs / p) for p in POLICIES), "--out", str(report)])))

    man = json.loads((bench / "manifest.json").read_text())
    cats = {}
    for t in man["tasks"]: cats[t["category"]] = cats.get(t["category"], 0) + 1
    table = "| step | wall s | peak GB |\n|---|---|---|\n" + "\n".join(f"| `{n}` | {w:.1f} | {g:.2f} |" for n, w, g in rows)
    pool_info = man["pool"]
    summary = (f"Bench `{man['name']}`: {len(man['tasks'])} tasks frozen (tasks sha256 `{man['tasks_sha256'][:16]}`), drawn from a pool of "
               f"{pool_info['tasks']:,} tasks ({pool_info['candidates']} calibrated candidates, {man['samples']} samples per policy); "
               f"by category: {dict(sorted(cats.items()))}.")
    print(table + "\n\n" + summary)
    out = HERE / "bench200"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for f in report.iterdir():
        if f.suffix in (".md", ".png"): shutil.copy(f, out / f.name)
    md = HERE / "bench200.md"
    notes = md.read_text().partition("\n## Notes\n")[2] if md.exists() else ""
    md.write_text("# A 200-task bench from a 13.5K pool\n\n`python benchmarks/bench200.py`\n\n" + table + "\n\n" + summary +
                  "\n\nThe report of the three runs: [bench200/report.md](bench200/report.md) (plots beside it).\n" +
                  (f"\n## Notes\n{notes}" if notes else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
