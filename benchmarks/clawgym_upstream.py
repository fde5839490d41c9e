"""ClawGym-format tasks graded the upstream way: clawgym's scores against a plain bwrap loop over the same reward scripts.

For every task folder (`data_entry.json`, `input_files/`, `reward/`), the plain loop does what ClawGym's RL rollout does
after an episode (tests/upstream.py: copy reward/ into the workspace, write the payload, `bash reward/reward.sh` as root,
last stdout line, 0.0 on failure), with no clawgym code in it. Then `clawgym run` runs the same tasks and its stored scores
are compared task by task with the plain loop's over each final workspace:

- noop: the untouched workspace (timed: `clawgym run --policy noop --workers 2` against the plain loop on 2 threads);
- writer: an agent that writes files (copies of inputs, a report, build/summary.json);
- tamper: an agent that appends a line to every input file.

Scores are compared to 1e-6 (clawgym keeps 6 decimals). "checker failures" are episodes whose reward script failed
(non-zero exit or no number), which both sides count as 0.0, as ClawGym does.

Prints a table and writes benchmarks/clawgym_upstream.md. The released ClawGym-Bench is not shipped with clawgym; give
its folder (ClawGym/ClawGym-Agents, RL/data/clawgym_eval) with --tasks, and optionally the training tasks with --train.

    python benchmarks/clawgym_upstream.py --tasks PATH/clawgym_eval [--train PATH/clawgym_train [--train-n 0]]
"""
import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from upstream import run_reward_sh, upstream_score  # the plain loop, shared with the tests

from clawgym.env.workspace import extract_archive
from clawgym.run.rollout import load_run
from clawgym.tasks.formats import load_clawgym_task
from clawgym.grade.verify import reward_payload

CLAWGYM = [str(Path(sys.executable).with_name("clawgym"))]  # the console script of this environment
AGENTS = {
    "writer": "mkdir -p build output && for f in $(find . -type f -not -path './.*' -not -path './output/*' | sort | head -3); do "
              "cp \"$f\" output/; done; printf '# Report\\n\\nDone.\\n' > output/report.md; echo '{}' > build/summary.json",
    "tamper": "find . -type f -not -path './.*' -exec sh -c 'echo tampered >> \"$1\"' _ {} \\;",
}


def plain_noop(dirs:list, workers:int=2) -> tuple[dict, float]:
    "task folder name -> upstream score of the untouched workspace, and the loop's wall seconds."
    def one(d):
        md = json.loads((d / "data_entry.json").read_text())["metadata"]
        return d.name, upstream_score(run_reward_sh(d, d / "input_files",
                                                    {"final_message": "I have nothing to do here.", "metadata": md, "transcript": []}))
    t0 = time.time()
    with ThreadPoolExecutor(workers) as ex: out = dict(ex.map(one, dirs))
    return out, time.time() - t0


def clawgym_run(folder:Path, policy:str, out:Path) -> float:
    t0 = time.time()
    subprocess.run(CLAWGYM + ["run", "--tasks", str(folder), "--policy", policy, "--out", str(out), "--workers", "2", "--max-turns", "3"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - t0


def compare(folder:Path, run:Path) -> dict:
    "Per task: clawgym's stored score against the plain loop over the archived final workspace."
    by_id = {load_clawgym_task(d).id: d for d in sorted(folder.iterdir()) if d.is_dir()}
    rows = {}
    for t in load_run(run):
        d = by_id[t.task_id]
        task = load_clawgym_task(d)
        with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
            extract_archive(run / t.archive, Path(tmp) / "ws")
            plain = upstream_score(run_reward_sh(d, Path(tmp) / "ws", reward_payload(task, t.messages)))
        rows[d.name] = (t.score.value if t.score.ok else None, plain, t.score.checker_failed)
    return rows


def same(c, p) -> bool:
    "clawgym's score (kept to 6 decimals) equals the plain loop's float."
    return c is not None and p is not None and abs(c - p) <= 1e-6

def summarize(name:str, rows:dict) -> dict:
    vals = [c for c, _, _ in rows.values() if c is not None]
    return {"case": name, "tasks": len(rows), "equal": sum(same(c, p) for c, p, _ in rows.values()),
            "errors": sum(c is None for c, _, _ in rows.values()), "checker_failures": sum(f for _, _, f in rows.values()),
            "zero": sum(v == 0 for v in vals), "mean": round(sum(vals) / len(vals), 4) if vals else None,
            "mismatches": {k: (c, p) for k, (c, p, _) in rows.items() if not same(c, p)}}


def bench_folder(label:str, folder:Path, tmp:Path) -> tuple[list, dict]:
    dirs = sorted(d for d in folder.iterdir() if d.is_dir())
    plain, plain_s = plain_noop(dirs)
    run_s = clawgym_run(folder, "noop", tmp / f"{label}-noop")
    noop = compare(folder, tmp / f"{label}-noop")
    out = [summarize(f"{label} noop", noop)]
    out[0]["mismatches"] |= {f"{k} (plain loop on input_files)": (noop[k][0], plain[k]) for k in noop if not same(noop[k][0], plain[k])}
    for agent, cmd in AGENTS.items():
        calls = tmp / f"{agent}.json"
        calls.write_text(json.dumps([{"id": "c1", "type": "function",
                                      "function": {"name": "exec", "arguments": json.dumps({"command": cmd})}}]))
        clawgym_run(folder, f"replay:{calls}", tmp / f"{label}-{agent}")
        out.append(summarize(f"{label} {agent}", compare(folder, tmp / f"{label}-{agent}")))
    return out, {"tasks": len(dirs), "clawgym_run_s": round(run_s, 2), "plain_loop_s": round(plain_s, 2),
                 "ratio": round(run_s / plain_s, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", required=True, help="a folder of ClawGym task folders (the released bench: RL/data/clawgym_eval)")
    ap.add_argument("--train", default=None, help="the released training tasks (RL/data/clawgym_train), sampled")
    ap.add_argument("--train-n", type=int, default=200, help="training tasks to sample (seed 0); 0: all of them")
    ap.add_argument("--out", default=str(HERE / "clawgym_upstream.md"))
    a = ap.parse_args(argv)
    rows, timing = [], {}
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)
        r, timing["bench"] = bench_folder("bench", Path(a.tasks), tmp)
        rows += r
        if a.train:
            every = sorted(d for d in Path(a.train).iterdir() if d.is_dir())
            pick = random.Random(0).sample(every, a.train_n) if a.train_n else every
            sub = tmp / "train"
            sub.mkdir()
            for d in pick: shutil.copytree(d, sub / d.name)
            r, timing["train"] = bench_folder("train", sub, tmp)
            rows += r
    lines = ["| case | tasks | clawgym = plain loop | errors | checker failures (0.0) | score 0 | mean |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['tasks']} | {r['equal']} | {r['errors']} | {r['checker_failures']} | {r['zero']} | {r['mean']} |"
              for r in rows]
    lines += ["", "| set | tasks | `clawgym run --policy noop` (s) | plain bwrap loop (s) | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['tasks']} | {v['clawgym_run_s']} | {v['plain_loop_s']} | {v['ratio']} |" for k, v in timing.items()]
    print("\n".join(lines))
    for r in rows:
        if r["mismatches"]: print(f"mismatches in {r['case']}: {dict(list(r['mismatches'].items())[:10])}")
    Path(a.out).write_text("# ClawGym-format tasks graded the upstream way\n\n" + __doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0] + "\n\n"
                           + "\n".join(lines) + "\n")
    return 0 if all(not r["mismatches"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
