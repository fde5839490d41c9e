"""Tokens/s of the embedded model through two engines, side by side in one run: batched HF generation (`HFPolicy`,
transformers on the dequantized SmolLM2) and the llama.cpp server (`LlamaServer` + `OpenAIPolicy`, on the Q4_1 GGUF).

The same agent-style requests (the compact system prompt and a sample task's instruction; no tool schemas, so both
engines do plain chat generation of the same prompt) at batch 1 (one request at a time) and batch 8 (8 requests at once:
one left-padded batch for HF, 8 concurrent HTTP requests for the server). Greedy, at most `--new-tokens` per reply.
Tokens/s counts generated tokens (the engines' own counts) over wall time, best of `--repeats`; both engines get
`--threads` CPU threads. Prints a table and appends it to benchmarks/serve_throughput.md.

    python benchmarks/serve_throughput.py [--new-tokens 96] [--repeats 2] [--threads 1]
"""
import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import torch

from clawgym.core import MOUNT
from clawgym.env.harness import SYSTEM_PROMPT
from clawgym.policies.base import Request
from clawgym.policies.llm import HFPolicy, OpenAIPolicy
from clawgym.policies.serve import LlamaServer, server_missing
from clawgym.tasks.formats import load_jsonl

ROOT = Path(__file__).resolve().parent.parent


def requests(n: int) -> list[Request]:
    tasks = load_jsonl(ROOT / "data_samples" / "tasks.jsonl")
    system = {"role": "system", "content": SYSTEM_PROMPT.format(mount=MOUNT)}
    return [Request(t, [system, {"role": "user", "content": t.instruction}], [], seed=i) for i, t in enumerate((tasks * n)[:n])]


def best_of(repeats: int, fn):
    "(replies, seconds) of the fastest run: the machine is shared, the fastest is the least disturbed."
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        runs.append((time.perf_counter() - t0, out))
    t, out = min(runs, key=lambda r: r[0])
    return out, t


def measure(pol, reqs, repeats):
    pol.generate(reqs[:1])  # warm-up
    rows = []
    for label, fn in [("1", lambda: [pol.generate([r])[0] for r in reqs]), (str(len(reqs)), lambda: pol.generate(reqs))]:
        out, t = best_of(repeats, fn)
        n = sum(r.tokens_out for r in out)
        rows.append((label, n, t, n / t, sum(r.tokens_in for r in out) / len(out)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).with_name("serve_throughput.md")))
    a = ap.parse_args(argv)
    if (why := server_missing()): raise SystemExit(f"serve_throughput: {why}")
    load0 = os.getloadavg()[0]
    torch.set_num_threads(a.threads)
    reqs = requests(a.requests)
    results = {}
    results["HF transformers, fp32 (HFPolicy)"] = measure(HFPolicy("smollm2", max_new_tokens=a.new_tokens, device="cpu"), reqs, a.repeats)
    with LlamaServer(threads=a.threads, chat_format=None) as srv:
        pol = OpenAIPolicy(srv.spec, max_tokens=a.new_tokens, threads=a.requests)
        results["llama.cpp server, Q4_1 GGUF (OpenAIPolicy)"] = measure(pol, reqs, a.repeats)
    base = results["HF transformers, fp32 (HFPolicy)"][0][3]
    lines = ["| engine | batch | generated tokens | wall s | tokens/s | vs HF batch 1 |", "|---|---|---|---|---|---|"]
    for eng, rows in results.items():
        for b, n, t, tps, _ in rows: lines.append(f"| {eng} | {b} | {n} | {t:.2f} | {tps:.1f} | {tps / base:.2f}x |")
    table = "\n".join(lines)
    prompt = results["HF transformers, fp32 (HFPolicy)"][0][4]
    head = (f"## {date.today()}: `python benchmarks/serve_throughput.py --new-tokens {a.new_tokens} --repeats {a.repeats} "
            f"--threads {a.threads}`\n\n{a.requests} requests, {prompt:.0f} prompt tokens on average (HF's count), greedy, at most "
            f"{a.new_tokens} new tokens each; {a.threads} threads per engine. Machine: CPython {platform.python_version()}, "
            f"{os.cpu_count()} cores, torch {torch.__version__}; 1-minute load average before / after: {load0:.1f} / "
            f"{os.getloadavg()[0]:.1f}.\n")
    print(head + "\n" + table)
    p = Path(a.out)
    title = "# Tokens/s of the embedded model: HF batched generation vs the llama.cpp server\n\n"
    intro = "" if p.exists() else title + __doc__.split("\n\n")[0] + "\n\n"
    with p.open("a") as f: f.write(intro + head + "\n" + table + "\n\n")


if __name__ == "__main__":
    main()
