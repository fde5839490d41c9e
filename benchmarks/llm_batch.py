"""Local-model generation throughput: 8 episodes' turns one at a time vs all 8 in one batch, embedded SmolLM2 on CPU.

Eight agent-style requests (system prompt with the tool list, distinct instructions from data_samples/tasks.jsonl), the same
policy and sampling settings in both modes (greedy by default, `--temperature` to sample), at most `--new-tokens` new tokens
per reply (the policy's default, 160). Sequential = `policy.generate([r])` for each request; batched =
`policy.generate(requests)` (one left-padded batch, the shared system+tools prefix run once). Tokens/s counts generated
tokens over wall time, best of `--repeats`. Replies must be identical in both modes (greedy, or sampling seeded per row).
Measured for each `--dtypes` entry: float32 is the policy's default on CPU; bfloat16 is much faster on CPUs with AMX or
AVX512-BF16 (`HFPolicy(dtype="bfloat16")`). Target: batched >= 3x sequential. Prints a table, writes benchmarks/llm_batch.md.

    python benchmarks/llm_batch.py [--requests 8] [--new-tokens 160] [--repeats 2] [--temperature 0] [--threads 0]
                                   [--dtypes float32,bfloat16]

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

from clawgym.env.harness import SYSTEM_PROMPT

from clawgym.policies.base import Request
from clawgym.core import MOUNT
from clawgym.policies.llm import HFPolicy
from clawgym.tasks.formats import load_jsonl
from clawgym.env.tools import tool_schemas

ROOT = Path(__file__).resolve().parent.parent
TARGET = 3.0


def requests(n: int) -> list[Request]:
    tasks = load_jsonl(ROOT / "data_samples" / "tasks.jsonl")
    system = {"role": "system", "content": SYSTEM_PROMPT.format(mount=MOUNT)}
    return [Request(t, [system, {"role": "user", "content": t.instruction}], tool_schemas(), seed=i)
            for i, t in enumerate((tasks * n)[:n])]


def best_of(repeats: int, fn):
    "(replies, seconds) of the fastest of `repeats` runs: the machine is shared, the fastest run is the least disturbed."
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        runs.append((time.perf_counter() - t0, out))
    t, out = min(runs, key=lambda r: r[0])
    return out, t


def measure(dtype: str, reqs: list[Request], a) -> dict:
    pol = HFPolicy("smollm2", max_new_tokens=a.new_tokens, temperature=a.temperature, top_p=0.95 if a.temperature else 1.0,
                   dtype=dtype, device="cpu")
    pol.generate(reqs[:1])  # warm-up: first-call allocations are not throughput
    seq, t_seq = best_of(a.repeats, lambda: [pol.generate([r])[0] for r in reqs])
    bat, t_bat = best_of(a.repeats, lambda: pol.generate(reqs))
    n_seq, n_bat = sum(r.tokens_out for r in seq), sum(r.tokens_out for r in bat)
    return {"dtype": dtype, "settings": pol.settings, "same": seq == bat, "prompt": sum(r.tokens_in for r in bat) / len(bat),
            "rows": [("one at a time", n_seq, t_seq), (f"one batch of {len(reqs)}", n_bat, t_bat)],
            "speedup": (n_bat / t_bat) / (n_seq / t_seq)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=160)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default (one per core)")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--out", default=str(Path(__file__).with_name("llm_batch.md")))
    a = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    if a.threads: torch.set_num_threads(a.threads)
    reqs = requests(a.requests)
    results = [measure(d, reqs, a) for d in a.dtypes.split(",")]
    lines = ["# Local-model batched generation", "",
             f"`python benchmarks/llm_batch.py --requests {a.requests} --new-tokens {a.new_tokens} --repeats {a.repeats} "
             f"--temperature {a.temperature} --threads {a.threads} --dtypes {a.dtypes}`", "",
             f"Embedded SmolLM2-135M-Instruct on CPU ({torch.get_num_threads()} torch threads), {len(reqs)} agent requests "
             f"(system prompt + tool list + instruction, {results[0]['prompt']:.0f} prompt tokens on average), "
             f"settings {results[0]['settings']}.", "",
             "| dtype | mode | generated tokens | wall s | tokens/s | batched / sequential | replies identical |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for i, (mode, n, t) in enumerate(r["rows"]):
            lines.append(f"| {r['dtype']} | {mode} | {n} | {t:.2f} | {n / t:.1f} | "
                         + (f"**{r['speedup']:.1f}x** | {r['same']} |" if i else "| |"))
    met = all(r["speedup"] >= TARGET and r["same"] for r in results)
    lines += ["", f"Target: batched >= {TARGET:.0f}x sequential tokens/s with identical replies, for every dtype: "
                  f"{'met' if met else 'NOT met'}.", "",
              f"Machine: CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores "
              f"(torch CPU capability {torch.backends.cpu.get_cpu_capability()}), torch {torch.__version__}; best of {a.repeats} runs; "
              f"1-minute load average before / at the end: {load0:.1f} / {os.getloadavg()[0]:.1f}"
              + (" (other jobs were sharing the cores)." if load0 > 0.5 * (os.cpu_count() or 1)
                 else " (an idle machine; the end figure is this benchmark's own load).")]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(a.out).write_text(text)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
