"""How long one `exec` takes in a sandbox, per backend.

Runs `Sandbox.run("true")` many times on one small workspace (a dozen files, like a task's) for each available backend, takes
the median, and breaks the bwrap figure down: bare `bwrap ... true` started straight from Python (what bubblewrap itself costs)
against the whole `Sandbox.run` (adds bash, the seccomp filter, the workspace ownership walk and output collection). Prints a table
and writes benchmarks/sandbox.md. Target: bwrap `exec true` <= 15 ms median.

    python benchmarks/sandbox.py [--calls 200]
"""
import argparse
import os
import platform
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from clawgym.core import MOUNT
from clawgym.env.sandbox import Limits, Sandbox, _bwrap_args, available_backends

TARGET_MS = 15.0


def timed(fn, calls: int) -> list[float]:
    fn()  # warm up: caches, page cache
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).with_name("sandbox.md")))
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # the subprocess backend's (expected) isolation warning
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        (ws / "input").mkdir(parents=True)
        for i in range(12): (ws / "input" / f"f{i}.txt").write_text("x" * 200)
        for backend in available_backends():
            with Sandbox(ws, backend=backend) as sb:
                assert sb.run("true").returncode == 0
                ms = timed(lambda: sb.run("true"), a.calls)
                results[backend] = ms
                rows.append((f"`exec true`, {backend}", ms))
                if backend == "bwrap":
                    args = _bwrap_args({MOUNT: sb.workspace}, {}, Limits(), MOUNT, {"PATH": "/usr/bin"}, None)
                    as_uid = dict(user=sb.uid, group=sb.gid, extra_groups=[]) if sb.uid != os.geteuid() else {}
                    rows.append(("bare `bwrap ... true` (no seccomp, bash, limits)",
                                 timed(lambda: subprocess.run(args + ["true"], check=True, **as_uid), a.calls)))
        rows.append(("bare `subprocess.run(['true'])`", timed(lambda: subprocess.run(["true"], check=True), a.calls)))
    table = "| measure | median ms | p90 ms | min ms |\n|---|---|---|---|\n" + "\n".join(
        f"| {name} | {statistics.median(ms):.2f} | {sorted(ms)[int(0.9 * len(ms))]:.2f} | {min(ms):.2f} |" for name, ms in rows)
    ok = "bwrap" not in results or statistics.median(results["bwrap"]) <= TARGET_MS
    verdict = (f"Target: bwrap `exec true` <= {TARGET_MS:g} ms median: "
               + ("not measured (bwrap unusable here)" if "bwrap" not in results else "met" if ok else "MISSED"))
    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, {platform.release()}"
    print(table + "\n\n" + verdict)
    Path(a.out).write_text(f"# Sandbox exec latency\n\n`python benchmarks/sandbox.py --calls {a.calls}`: median over {a.calls} "
                           f"calls of `Sandbox.run(\"true\")` per backend, with bare bwrap and a bare process start for "
                           f"comparison.\n\n{table}\n\n{verdict}\n\nMachine: {machine}.\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
