"""ClawGym's reward contract and Harbor's verifier, run the plain way: one bwrap per script and no clawgym code in the loop.

This mirrors what ClawGym's RL rollout does after an episode (copy reward/ into the final workspace, write the payload,
`bash /root/.openclaw/workspace/reward/reward.sh` as root with HOME=/root and LC_ALL=C.UTF-8, read the last non-empty stdout
line, 0.0 when the script fails), with bubblewrap standing in for its chroot. Tests and benchmarks compare clawgym's own
grading with it.
"""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MOUNT = "/root/.openclaw/workspace"
PAYLOAD = ".openclaw_reward_payload.json"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UID = 3_900_000 + os.getpid() % 10_000  # an unused uid for the scripts, outside clawgym's own range


def _bwrap(ws:Path, command:str, env:dict, ro:dict|None=None, rw:dict|None=None, timeout:float=120.0):
    "Run `command` with `ws` at MOUNT, as uid 0 in a user namespace (an unprivileged uid outside when we are root)."
    pre = ["setpriv", "--reuid", str(UID), "--regid", str(UID), "--clear-groups", "--"] if os.geteuid() == 0 else []
    if pre:
        for p in [ws, *ws.rglob("*"), *(rw or {})]: os.lchown(p, UID, UID)
    a = pre + ["bwrap", "--unshare-all", "--unshare-user", "--uid", "0", "--gid", "0", "--die-with-parent",
               "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--tmpfs", "/root", "--bind", str(ws), MOUNT]
    for n in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink(f"/{n}"): a += ["--symlink", os.readlink(f"/{n}"), f"/{n}"]
    for dest, host in (ro or {}).items(): a += ["--ro-bind", str(host), dest]
    for host, dest in (rw or {}).items(): a += ["--bind", str(host), dest]
    a += ["--chdir", "/", "--clearenv", "--setenv", "PATH", PATH, "--setenv", "HOME", "/root", "--setenv", "LC_ALL", "C.UTF-8"]
    for k, v in env.items(): a += ["--setenv", k, v]
    try: return subprocess.run(a + ["bash", "-c", command], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired: return None


def _scratch() -> tempfile.TemporaryDirectory:
    d = tempfile.TemporaryDirectory(prefix="upstream-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.chmod(d.name, 0o755)
    return d


def upstream_score(proc) -> float|None:
    "ClawGym's reading of a reward run: 0.0 for a failed script or no number; None for a timeout."
    if proc is None: return None
    if proc.returncode != 0: return 0.0
    lines = [l.strip() for l in proc.stdout.splitlines() if l.strip()]
    try: return float(lines[-1]) if lines else 0.0
    except ValueError: return 0.0


def run_reward_sh(task_dir, workspace, payload:dict, timeout:float=120.0):
    "Grade `workspace` with the ClawGym task folder `task_dir` exactly as ClawGym's rollout does; the CompletedProcess (None: timeout)."
    with _scratch() as tmp:
        ws = Path(tmp) / "ws"
        if Path(workspace).is_dir(): shutil.copytree(workspace, ws, symlinks=True)
        else: ws.mkdir()  # a task without input_files/ starts from an empty workspace
        if (ws / "reward").is_symlink() or (ws / "reward").is_file(): (ws / "reward").unlink()
        elif (ws / "reward").exists(): shutil.rmtree(ws / "reward")
        shutil.copytree(Path(task_dir) / "reward", ws / "reward")
        (ws / PAYLOAD).write_text(json.dumps(payload))
        return _bwrap(ws, f"bash {MOUNT}/reward/reward.sh", {"OPENCLAW_REWARD_PAYLOAD": f"{MOUNT}/{PAYLOAD}"}, timeout=timeout)


def run_harbor_test(harbor_dir, workspace, payload:dict|None=None, timeout:float=120.0):
    "Run a Harbor task's tests/test.sh over `workspace`: (reward from reward.txt or None, CompletedProcess)."
    with _scratch() as tmp:
        ws, logs = Path(tmp) / "ws", Path(tmp) / "logs"
        shutil.copytree(workspace, ws, symlinks=True)
        logs.mkdir()
        env = {}
        if payload is not None:
            (ws / PAYLOAD).write_text(json.dumps(payload))
            env["OPENCLAW_REWARD_PAYLOAD"] = f"{MOUNT}/{PAYLOAD}"
        p = _bwrap(ws, "bash /tests/test.sh", env, ro={"/tests": Path(harbor_dir) / "tests"}, rw={logs: "/logs/verifier"}, timeout=timeout)
        txt = logs / "reward.txt"
        return (float(txt.read_text().strip()) if txt.is_file() and txt.read_text().strip() else None), p
