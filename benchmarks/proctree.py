"""Run a command while sampling the resident memory of its whole process tree (workers and sandboxes included).

Shared by the benchmark scripts beside it (`from proctree import run_sampled`)."""
import os
import subprocess
import threading
import time


def tree_rss(root: int) -> int:
    "Resident bytes of `root` and all its descendants, from /proc."
    kids, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit(): continue
        try:
            with open(f"/proc/{d}/stat") as f: ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/statm") as f: rss[int(d)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError): continue
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += kids.get(p, [])
    return total


def run_sampled(cmd: list[str], every: float = 0.5) -> tuple[int, str, float, int]:
    "Run `cmd` to the end; returns (exit code, its output, wall seconds, peak bytes of its process tree)."
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, stop = [0], threading.Event()
    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(p.pid))
            time.sleep(every)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    log = p.communicate()[0]
    stop.set()
    th.join()
    return p.returncode, log, time.time() - t0, peak[0]
