"""The learning experiment: does training on verified trajectories lift the embedded model, and does GRPO add to SFT?

Stages (each cached in OUT/stages.json, so the same command resumes after a kill and skips finished stages):

1. tasks   -- instances of the TRAIN_FAMILIES (`clawgym.synth.procedural.make_task`), split by task id into training tasks and held-out
              instances (`clawgym.train.sft.split_by_task`); instances of the UNSEEN_FAMILIES, never trained on. The oracle replays
              every task's reference: held-out and unseen tasks it does not solve are dropped (a broken task measures nothing),
              and its episodes on the training tasks are the SFT data.
2. base    -- the embedded SmolLM2-135M-Instruct, greedy, on the held-out and unseen sets.
3. sft     -- rejection sampling (`export_sft`, min score 1) of the oracle's training episodes, a leak check against both
              evaluation sets, full fine-tuning (`clawgym.train.sft.train_sft`), then the same evaluation.
4. grpo    -- GRPO from the SFT checkpoint on the training tasks (`clawgym.train.rl.train_grpo`), then the same evaluation.

Metrics: pass@1 (greedy, score = 1) and mean score, with 95% bootstrap intervals; wall time and peak resident memory of
each stage (a sampling thread reads the process's RSS, so a stage's peak is its own). Results: OUT/results.json and
OUT/results.md; benchmarks/learning.md records a run.

    python benchmarks/learning.py --scale small   # about 30 minutes on 2 free CPU cores
    python benchmarks/learning.py --scale medium  # about 80 minutes: 100 held-out, 51 unseen, 10 GRPO steps x 8, two families
    python benchmarks/learning.py --scale full    # about 2 hours on 2 CPU cores: >= 100 held-out, >= 50 unseen, 10 GRPO steps x 8
"""
import argparse
import itertools
import json
import os
import random
import statistics
import threading
import time
from dataclasses import asdict
from pathlib import Path

from clawgym.run.episode import Budget
from clawgym.core import write_jsonl
from clawgym.policies.llm import BODY_ARGS, load_model
from clawgym.train.rl import GRPOConfig, eval_stats, evaluate, train_grpo
from clawgym.run.rollout import export_sft, load_run, run_tasks
from clawgym.train.sft import SFTConfig, check_no_leak, load_sft, split_by_task, train_sft
from clawgym.synth.procedural import make_task

# Families a 135M model can plausibly learn from a few dozen examples: two or three tool calls, under 350 tokens in all, whose
# shape is fixed by the family (a command or script template) and whose parameters come from the instruction or from what
# the model just read (see benchmarks/learning.md for the survey of all 30 families).
TRAIN_FAMILIES = ["notes_qa", "rename_symbol", "recipe_scaling", "log_error_summary"]
# Families kept out of training, with references as short: read a file or two, then write or compute the answer.
UNSEEN_FAMILIES = ["todo_replan", "orders_by_region", "sensor_anomalies"]

SCALES = {
    # pool instances per train family, held-out share, unseen instances per family, SFT epochs, SFT examples kept (0: all),
    # held-out tasks evaluated (0: all), GRPO settings
    "small": dict(per_family=8, test_frac=0.5, unseen_per_family=2, sft_epochs=2, max_sft=16, max_heldout=8,
                  grpo=dict(steps=2, group=2, tasks_per_step=1)),
    "full": dict(per_family=60, test_frac=0.45, unseen_per_family=17, sft_epochs=3, max_sft=0, max_heldout=0,
                 grpo=dict(steps=10, group=8, tasks_per_step=2)),
    # the evaluation sizes (>= 100 held-out, >= 50 unseen, 10 GRPO steps of groups of 8) in about 80 minutes: the two
    # training families whose calls need no shell or Python script (read the inputs, write a JSON answer in the text
    # protocol's body form, clawgym.policies.llm.BODY_ARGS); four turns of at most 256 new tokens, since 80% of log_error_summary
    # references make three or four calls (MEMORY.md, one or two logs, the report); GRPO draws its tasks from the shorter
    # family (notes_qa episodes are about 1,000 tokens, log_error_summary 2,400)
    "medium": dict(per_family=100, test_frac=0.5, unseen_per_family=17, sft_epochs=2, max_sft=0, max_heldout=0,
                   grpo=dict(steps=10, group=8, tasks_per_step=2, micro_batch=2, temperature=0.8),
                   families=["notes_qa", "log_error_summary"],
                   max_new_tokens=256, max_turns=4, grpo_families=["notes_qa"], sft_max_len=3072, sft_accum=4),
    # log_error_summary examples run to about 2,800 tokens: one per micro-batch (4 of them went past 24 GB in eager attention)
}
# The same for every evaluated policy. A log_error_summary episode reads a log of about 1,500 tokens: prompts up to 3,072
# tokens and SFT examples up to 2,560 keep it whole (the first small run, at 2,048 and 1,536, cut it and dropped those examples).
GEN = dict(max_new_tokens=384, max_turns=3, max_prompt_tokens=3072, batch_size=16)


class PeakRSS:
    "Peak resident memory (MB) of this process while the block runs, sampled every 0.2 s."
    def __enter__(self):
        self.peak, self._stop = 0.0, threading.Event()
        def watch():
            while not self._stop.wait(0.2): self.peak = max(self.peak, self._rss())
        self.peak = self._rss()
        self._t = threading.Thread(target=watch, daemon=True)
        self._t.start()
        return self
    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())
    @staticmethod
    def _rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
        return 0.0


def bootstrap(values, n=2000, seed=0):
    "95% percentile bootstrap interval of the mean."
    if not values: return None
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(n))
    return [round(means[int(0.025 * n)], 4), round(means[int(0.975 * n) - 1], 4)]


def family_of(task_id:str) -> str: return task_id.rsplit("-", 1)[0]  # procedural task ids are FAMILY-NNNNNN


def score_of(t) -> float|None: return t.score.value if t.score is not None and t.score.ok else None


def scored(run_dir):
    "pass@1 and mean score of a run folder, with bootstrap intervals."
    trajs = load_run(run_dir)
    s = eval_stats(trajs)
    vals = [v for v in map(score_of, trajs) if v is not None]
    return {**s, "pass@1_ci": bootstrap([float(v >= 1.0) for v in vals]), "mean_score_ci": bootstrap(vals)}


def family_stats(run_dir) -> dict:
    "Per family of a run folder: episodes, passed, mean score, and episodes with a tool-call error (a call that could not be read or run)."
    fams = {}
    for t in load_run(run_dir):
        f = fams.setdefault(family_of(t.task_id), {"n": 0, "passed": 0, "score_sum": 0.0, "call_errors": 0})
        v = score_of(t) or 0.0
        f["n"] += 1
        f["passed"] += v >= 1.0
        f["score_sum"] += v
        f["call_errors"] += any(s.errors for s in t.steps)
    return {k: {"n": f["n"], "passed": f["passed"], "mean_score": round(f["score_sum"] / f["n"], 4), "call_errors": f["call_errors"]}
            for k, f in sorted(fams.items())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--out", default="runs/learning")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="auto")
    a = ap.parse_args()
    sc, out = SCALES[a.scale], Path(a.out) / a.scale
    families = sc.get("families", TRAIN_FAMILIES)  # the scale's own settings override the module's defaults
    gen = {**GEN, **{k: sc[k] for k in ("max_new_tokens", "max_turns") if k in sc}}
    out.mkdir(parents=True, exist_ok=True)
    stages_path = out / "stages.json"
    stages = json.loads(stages_path.read_text()) if stages_path.exists() else {}
    def record(name, **kw):
        stages[name] = kw
        stages_path.write_text(json.dumps(stages, indent=2) + "\n")
        print(f"[{name}] " + json.dumps(kw))

    # 1. tasks and the oracle
    pool = [make_task(f, s) for f in families for s in range(sc["per_family"])]
    train, heldout = split_by_task(pool, sc["test_frac"], seed=a.seed)
    unseen = [make_task(f, 1000 + s) for f in UNSEEN_FAMILIES for s in range(sc["unseen_per_family"])]
    if "tasks" not in stages:
        t0 = time.time()
        with PeakRSS() as mem:
            run_tasks(train + heldout + unseen, "oracle", out / "oracle", workers=2, backend=a.backend, progress=False)
        record("tasks", wall_s=round(time.time() - t0, 1), peak_rss_mb=round(mem.peak), train=len(train), heldout=len(heldout),
               unseen=len(unseen))
    solved = {t.task_id for t in load_run(out / "oracle") if (score_of(t) or 0.0) >= 1.0}
    heldout, unseen = [t for t in heldout if t.id in solved], [t for t in unseen if t.id in solved]
    if sc["max_heldout"]:  # the small scale evaluates a part of the held-out side, families interleaved
        heldout = sorted(heldout, key=lambda t: (t.id.rsplit("-", 1)[1], t.id))[:sc["max_heldout"]]
    evalsets = {"heldout": heldout, "unseen": unseen}

    def eval_stage(name, lm, tok):
        t0 = time.time()
        res = {}
        with PeakRSS() as mem:
            for split, tasks in evalsets.items():
                evaluate(lm, tok, tasks, out / name / f"eval_{split}", label=f"{name}", backend=a.backend, **gen)
                res[split] = scored(out / name / f"eval_{split}")
        return res, round(time.time() - t0, 1), round(mem.peak)

    # 2. the base model
    if "base" not in stages:
        lm, tok, _ = load_model("smollm2")
        res, wall, peak = eval_stage("base", lm, tok)
        record("base", eval=res, eval_wall_s=wall, eval_peak_rss_mb=peak)

    # 3. SFT on the oracle's verified training episodes
    if "sft" not in stages:
        train_ids = {t.id for t in train}
        tr_run = out / "sft" / "oracle_train"
        tr_run.mkdir(parents=True, exist_ok=True)
        train_trajs = [t for t in load_run(out / "oracle") if t.task_id in train_ids]
        if sc["max_sft"]:  # the same share of every training family, taken in turn
            by_family = {}
            for t in train_trajs: by_family.setdefault(family_of(t.task_id), []).append(t)
            train_trajs = [t for turn in itertools.zip_longest(*by_family.values()) for t in turn if t is not None][:sc["max_sft"]]
        check_no_leak(train_trajs, heldout + unseen)
        write_jsonl(tr_run / "trajectories.jsonl", train_trajs)
        exp = export_sft(tr_run, out / "sft" / "data.jsonl", min_score=1.0)
        data = load_sft(out / "sft" / "data.jsonl")
        if sc["max_sft"]: data = data[:sc["max_sft"]]
        t0 = time.time()
        with PeakRSS() as mem:
            s = train_sft("hf:smollm2", data, out / "sft" / "model",
                          SFTConfig(epochs=sc["sft_epochs"], lr=1e-4, batch_size=4 // sc.get("sft_accum", 1),
                                    grad_accum=sc.get("sft_accum", 1), max_len=sc.get("sft_max_len", 2560), seed=a.seed))
        train_wall, train_peak = round(time.time() - t0, 1), round(mem.peak)
        lm, tok, _ = load_model(str(out / "sft" / "model"))
        res, wall, peak = eval_stage("sft", lm, tok)
        record("sft", export={k: v for k, v in exp.items() if k != "out"}, examples=len(data),
               train={k: s[k] for k in ("steps", "first_loss", "last_loss", "tokens", "too_long")},
               train_wall_s=train_wall, train_peak_rss_mb=train_peak, eval=res, eval_wall_s=wall, eval_peak_rss_mb=peak)

    # 4. GRPO from the SFT checkpoint
    if "grpo" not in stages:
        cfg = GRPOConfig(**{"lr": 5e-6, "temperature": 1.0, **sc["grpo"]}, max_new_tokens=gen["max_new_tokens"], max_turns=gen["max_turns"],
                         max_prompt_tokens=gen["max_prompt_tokens"], batch_size=gen["batch_size"], save_every=5, seed=a.seed,
                         backend=a.backend)
        t0 = time.time()
        with PeakRSS() as mem:
            rl_tasks = [t for t in train if t.meta.family in sc.get("grpo_families", families)]
            s = train_grpo(f"hf:{out / 'sft' / 'model'}", rl_tasks, out / "grpo" / "run", cfg)
        train_wall, train_peak = round(time.time() - t0, 1), round(mem.peak)
        metrics = [json.loads(l) for l in (out / "grpo" / "run" / "metrics.jsonl").read_text().splitlines() if l.strip()]
        lm, tok, _ = load_model(str(out / "grpo" / "run" / "final"))
        res, wall, peak = eval_stage("grpo", lm, tok)
        record("grpo", config=asdict(cfg), metrics=metrics, skipped_groups=s["skipped_groups"], groups=s["groups"],
               train_wall_s=train_wall, train_peak_rss_mb=train_peak, eval=res, eval_wall_s=wall, eval_peak_rss_mb=peak)

    # results
    rows = []
    for name in ("base", "sft", "grpo"):
        for split in ("heldout", "unseen"):
            r = stages[name]["eval"][split]
            rows.append(f"| {name} | {split} | {r['n']} | {r['errors']} | {r['pass@1']} {r['pass@1_ci']} | {r['mean_score']} "
                        f"{r['mean_score_ci']} |")
    cost = [f"| {n} | {stages[n].get('train_wall_s', stages[n].get('wall_s', '-'))} | "
            f"{stages[n].get('train_peak_rss_mb', stages[n].get('peak_rss_mb', '-'))} "
            f"| {stages[n].get('eval_wall_s', '-')} | {stages[n].get('eval_peak_rss_mb', '-')} |" for n in ("tasks", "base", "sft", "grpo")]
    curve = [f"| {m['step']} | {m['reward_mean']} | {m['pass_rate']} | {m['groups']} | {m['skipped_groups']} | {m['loss']} | "
             f"{m['gen_tokens']} | {m['rollout_s']} | {m['update_s']} |" for m in stages["grpo"]["metrics"]]
    families_tab = {name: {split: family_stats(out / name / f"eval_{split}") for split in evalsets} for name in ("base", "sft", "grpo")}
    fam_rows = [f"| {name} | {fam} | {r['passed']}/{r['n']} | {r['mean_score']} | {r['call_errors']} |"
                for name, by_split in families_tab.items() for split in by_split for fam, r in by_split[split].items()]
    md = "\n".join([f"# Learning experiment ({a.scale} scale)", "",
                    f"Train families: {', '.join(families)}; unseen families: {', '.join(UNSEEN_FAMILIES)}.",
                    f"Tasks: {stages['tasks']['train']} training, {len(heldout)} held-out instances, {len(unseen)} unseen-family "
                    f"(after dropping tasks the oracle does not solve). SFT examples: {stages['sft']['examples']}.", "",
                    "| policy | split | n | errors | pass@1 [95% CI] | mean score [95% CI] |", "|---|---|---|---|---|---|", *rows, "",
                    "| stage | train/rollout wall s | peak RSS MB | eval wall s | eval peak RSS MB |", "|---|---|---|---|---|", *cost, "",
                    "GRPO steps:", "", "| step | reward mean | pass rate | groups | skipped | loss | gen tokens | rollout s | update s |",
                    "|---|---|---|---|---|---|---|---|---|", *curve, "",
                    "By family (episodes with a call error: a tool call that could not be parsed or run):", "",
                    "| policy | family | passed | mean score | episodes with a call error |", "|---|---|---|---|---|", *fam_rows, ""])
    (out / "results.md").write_text(md)
    (out / "results.json").write_text(json.dumps(stages, indent=2) + "\n")
    # the record nbs/72_train_learning.ipynb reads
    (Path(__file__).resolve().parent / f"learning_{a.scale}.json").write_text(json.dumps({**stages, "scale": a.scale, "sets": {
        "train_families": families, "unseen_families": UNSEEN_FAMILIES, "heldout": len(heldout), "unseen": len(unseen)}, "gen": gen,
        "protocol": f"body form for {sorted(BODY_ARGS)}", "by_family": families_tab}, indent=2) + "\n")
    print(md)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
