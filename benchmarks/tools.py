"""How long one file-tool call takes through `ToolRunner.call` (argument checks, the jail, the file work, the observation).

Times N calls each of read, write and edit on a small file in an OpenClaw workspace (and, for reference, apply_patch and
memory_search), prints the median and 90th percentile per call, and writes the table to benchmarks/tools.md.
Target: a median of at most 1 ms per read, write and edit call.

    python benchmarks/tools.py [--calls 500]
"""
import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from clawgym.core import Task, WorkspaceSpec, FileSpec, Check
from clawgym.env.schemas import check_args
from clawgym.env.tools import ToolRunner
from clawgym.env.workspace import materialize

TARGET_MS = 1.0
SMALL = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(1, 41))  # 40 lines, about 2 KB
MEMORY = "# About\n" + "\n\n".join(f"Fact {i}: the user likes topic {i} and meets Lee on day {i % 7}." for i in range(60)) + "\n"


def calls(n: int):
    "(tool, [argument dicts]) for each timed tool; edits alternate so that every one of them succeeds."
    edits = [{"path": "notes/small.md", "oldText": "line 20: the quick", "newText": "line 20: the slow"},
             {"path": "notes/small.md", "oldText": "line 20: the slow", "newText": "line 20: the quick"}]
    patches = [{"input": f"*** Begin Patch\n*** Update File: notes/small.md\n@@\n-line 30: the {a} brown fox jumps over the lazy dog\n"
                         f"+line 30: the {b} brown fox jumps over the lazy dog\n*** End Patch"} for a,
                         b in (("quick", "red"), ("red", "quick"))]
    return [("read", [{"path": "notes/small.md"}] * n),
            ("write", [{"path": f"out/w{i % 10}.md", "content": SMALL} for i in range(n)]),
            ("edit", [edits[i % 2] for i in range(n)]),
            ("apply_patch", [patches[i % 2] for i in range(n)]),
            ("memory_search", [{"query": f"meets Lee topic {i % 60}"} for i in range(n)])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=500, help="timed calls per tool (at least 200)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("tools.md")))
    a = ap.parse_args(argv)
    if a.calls < 200: ap.error(f"--calls must be at least 200, got {a.calls}")
    task = Task("bench-tools", "benchmark", WorkspaceSpec(files=[FileSpec("notes/small.md", text=SMALL)], memory_md=MEMORY),
                checks=[Check("file_exists", {"path": "notes/small.md"})])
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        tr = ToolRunner(materialize(task, Path(tmp) / "ws"))
        for name, arglist in calls(a.calls):
            for args in arglist[:20]: tr.call(name, args)  # warm-up: imports, page cache
            times = []
            for args in arglist:
                t0 = time.perf_counter()
                obs = tr.call(name, args)
                times.append(time.perf_counter() - t0)
                if obs.is_error: raise SystemExit(f"benchmark call {name} {args} failed: {obs.content}")
            med, p90 = statistics.median(times) * 1e3, statistics.quantiles(times, n=10)[-1] * 1e3
            target = name in ("read", "write", "edit")
            ok &= not target or med <= TARGET_MS
            rows.append((name, f"{med:.3f}", f"{p90:.3f}", f"<= {TARGET_MS:g}" if target else "-",
                         ("yes" if med <= TARGET_MS else "NO") if target else "-"))
        # the argument check alone (jsonschema on the tool's schema), the same run: its share of a read
        params = tr.specs["read"]["function"]["parameters"]
        times = []
        for _ in range(a.calls):
            t0 = time.perf_counter()
            check_args(params, {"path": "notes/small.md"})
            times.append(time.perf_counter() - t0)
        rows.append(("(argument check of a read)", f"{statistics.median(times) * 1e3:.3f}",
                     f"{statistics.quantiles(times, n=10)[-1] * 1e3:.3f}", "-", "-"))
    table = ("| tool | median ms | p90 ms | target ms | met |\n|---|---|---|---|---|\n"
             + "\n".join("| " + " | ".join(r) + " |" for r in rows))
    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    print(table)
    print(f"\n{a.calls} calls per tool on {machine}: " + ("all targets met" if ok else "TARGET MISSED"))
    Path(a.out).write_text(
        "# File-tool call latency\n\n`python benchmarks/tools.py` times "
        f"{a.calls} calls per tool through `ToolRunner.call` on a 40-line (2 KB) file in an OpenClaw workspace: argument "
        "checks, the jail's component-by-component path walk, the file work and the observation. `write` rotates over 10 "
        "files, `edit` alternates two replacements, `memory_search` ranks 61 passages of MEMORY.md. The last row times the "
        "argument check alone (`check_args`, jsonschema against the tool's schema) on a read's arguments.\n\n"
        f"{table}\n\nMachine: {machine}.\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
