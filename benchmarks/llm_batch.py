"""Local-model generation throughput: 8 episodes' turns one at a time vs all 8 in one batch, embedded SmolLM2 on CPU.

Eight agent-style requests (system prompt with the tool list, distinct instructions from data_samples/tasks.jsonl), the same
policy and sampling settings (greedy by default, `--temperature` to sample), `--new-tokens` new tokens at most per reply.
Sequential = `policy.generate([r])` for each request; batched = `policy.generate(requests)` (one left-padded batch).
Tokens/s counts generated tokens over wall time, best of `--repeats` (the machine is shared, the best run is the
least disturbed). Replies must be identical in both modes (greedy, or sampling seeded per row). Target: batched >= 3x sequential.
Prints a table and writes benchmarks/llm_batch.md.

    python benchmarks/llm_batch.py [--requests 8] [--new-tokens 48] [--repeats 2] [--temperature 0] [--threads 0]

On a machine whose cores are busy with other jobs, several torch threads per process slow batch-1 decoding badly (each of
its many small operations waits for every thread), which flatters the batched mode; `--threads 1` is the fairer comparison
there.
"""
import argparse
import os
import platform
import time
from pathlib import Path

import torch

from clawgym.agent import SYSTEM_PROMPT, Request
from clawgym.core import MOUNT
from clawgym.llm import HFPolicy
from clawgym.tasks import load_jsonl
from clawgym.tools import tool_schemas

ROOT = Path(__file__).resolve().parent.parent
TARGET = 3.0


def requests(n: int) -> list[Request]:
    tasks = load_jsonl(ROOT / "data_samples" / "tasks.jsonl")
    system = {"role": "system", "content": SYSTEM_PROMPT.format(mount=MOUNT)}
    return [Request(t, [system, {"role": "user", "content": t.instruction}], tool_schemas(), seed=i)
            for i, t in enumerate((tasks * n)[:n])]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default (one per core)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("llm_batch.md")))
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    pol = HFPolicy("smollm2", max_new_tokens=a.new_tokens, temperature=a.temperature, top_p=0.95 if a.temperature else 1.0)
    reqs = requests(a.requests)
    pol.generate(reqs[:1])  # warm-up: first-call allocations are not throughput
    best = {}
    for _ in range(a.repeats):
        seq, t_seq = timed(lambda: [pol.generate([r])[0] for r in reqs])
        bat, t_bat = timed(lambda: pol.generate(reqs))
        best["sequential"] = min(best.get("sequential", (None, 1e9)), (seq, t_seq), key=lambda x: x[1])
        best["batched"] = min(best.get("batched", (None, 1e9)), (bat, t_bat), key=lambda x: x[1])
    (seq, t_seq), (bat, t_bat) = best["sequential"], best["batched"]
    same = seq == bat
    n_seq, n_bat = sum(r.tokens_out for r in seq), sum(r.tokens_out for r in bat)
    tps_seq, tps_bat = n_seq / t_seq, n_bat / t_bat
    speedup = tps_bat / tps_seq
    prompt = sum(r.tokens_in for r in bat) / len(bat)
    rows = [("one at a time", len(reqs), n_seq, t_seq, tps_seq), (f"one batch of {len(reqs)}", len(reqs), n_bat, t_bat, tps_bat)]
    lines = ["# Local-model batched generation", "",
             f"`python benchmarks/llm_batch.py --requests {a.requests} --new-tokens {a.new_tokens} --repeats {a.repeats} --temperature {a.temperature} --threads {a.threads}`", "",
             f"Embedded SmolLM2-135M-Instruct (float32, CPU, {torch.get_num_threads()} torch threads), {len(reqs)} agent requests "
             f"(system prompt + tool list + instruction, {prompt:.0f} prompt tokens on average), settings {pol.settings}.", "",
             "| mode | requests | generated tokens | wall s | tokens/s |", "|---|---|---|---|---|"]
    lines += [f"| {m} | {n} | {t} | {s:.2f} | {v:.1f} |" for m, n, t, s, v in rows]
    met = speedup >= TARGET
    lines += ["", f"Batched / sequential throughput: **{speedup:.1f}x** (target >= {TARGET:.0f}x: {'met' if met else 'NOT met'}). "
              f"Replies identical in both modes: {same}.", "",
              f"Machine: CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
              f"best of {a.repeats} runs; 1-minute load average at the end: {os.getloadavg()[0]:.1f} (other jobs share the cores "
              "when it exceeds their number, which slows both modes)."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(a.out).write_text(text)
    return 0 if met and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
