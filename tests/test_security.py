"""Attack suite: what a model's commands might try, and proof the sandbox contains it.

Each test is one attack with a clear name. Containment tests need the bwrap backend (the subprocess backend does not isolate the
file system or the network) and are skipped, with the reason, where bwrap is unusable. Limits and process cleanup hold for both
backends and run for each available one. A host canary directory is checked byte for byte after the whole module.
"""
import hashlib
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import clawgym
from clawgym.core import MOUNT
from clawgym.env.sandbox import Limits, Sandbox, _tasks_of, bwrap_status

BWRAP_OK, BWRAP_WHY = bwrap_status()
needs_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap backend unusable here ({BWRAP_WHY}); the subprocess backend does "
                                                      "not isolate, so containment cannot be tested")
BACKENDS = [pytest.param("bwrap", marks=needs_bwrap), "subprocess"]
IS_ROOT = os.geteuid() == 0
SMALL = dict(wall_s=5.0, cpu_s=3, memory_mb=256, file_mb=16, nproc=64, output_bytes=4000)
pytestmark = pytest.mark.filterwarnings("ignore:clawgym sandbox. the 'subprocess' backend does NOT isolate")


def tree_digest(root: Path) -> str:
    "sha256 over every path, mode and content under root (symlinks by target), in a stable order."
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)}\0{st.st_mode:o}\0".encode())
        h.update(os.readlink(p).encode() if p.is_symlink() else p.read_bytes() if p.is_file() else b"")
    return h.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def canary(tmp_path_factory):
    "A host directory every test may attack; it must come out byte-identical after the suite."
    d = Path("/tmp") / f"clawgym-canary-{os.getpid()}"
    (d / "sub").mkdir(parents=True)
    (d / "secret.txt").write_text("host secret: do not touch\n")
    (d / "sub" / "data.bin").write_bytes(bytes(range(256)) * 4)
    (d / "link").symlink_to("secret.txt")
    before = tree_digest(d)
    yield d
    after = tree_digest(d)
    import shutil
    shutil.rmtree(d)
    assert after == before, "the host canary directory changed during the security suite"


@pytest.fixture
def make(tmp_path):
    "Factory: a Sandbox on a fresh workspace (closed at teardown)."
    made = []
    def _make(backend="bwrap", **limits):
        ws = tmp_path / f"ws{len(made)}"
        ws.mkdir()
        sb = Sandbox(ws, backend=backend, limits=Limits(**{**SMALL, **limits}))
        made.append(sb)
        return sb
    yield _make
    for sb in made: sb.close()


def host_procs(needle: str) -> list[int]:
    "Host pids whose command line contains needle."
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit(): continue
        try: cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError: continue
        if needle in cmd and int(d.name) != os.getpid(): out.append(int(d.name))
    return out


# ---- reading host files -------------------------------------------------------------------------------------------------------

@needs_bwrap
def test_read_etc_shadow(make):
    r = make().run("cat /etc/shadow; ls /etc/shadow /etc/gshadow /etc/ssh /etc/ssl/private")
    assert r.returncode != 0 and "No such file" in r.stderr and r.stdout == ""


@needs_bwrap
def test_etc_passwd_is_synthetic(make):
    host_users = {l.split(":")[0] for l in Path("/etc/passwd").read_text().splitlines() if l} - {"root", "nobody"}
    r = make().run("cat /etc/passwd; whoami")
    assert r.returncode == 0 and r.stdout.endswith("\nroot\n"), r.observation()
    assert not host_users & {l.split(":")[0] for l in r.stdout.splitlines()}, "host account names leaked"


@needs_bwrap
def test_read_host_root(make):
    r = make().run("ls -A /root; ls -A /root/.openclaw")
    assert r.returncode == 0 and r.stdout.split() == [".openclaw", "workspace"], r.observation()
    r = make().run("cat /root/.bashrc /root/.profile /root/.ssh/id_rsa /root/.pyenv/version")
    assert r.returncode != 0 and r.stdout == "" and r.stderr.count("No such file") == 4


@needs_bwrap
def test_read_project_checkout(make):
    checkout = Path(clawgym.__file__).resolve().parent.parent
    r = make().run(f"ls {checkout} {checkout}/settings.ini; cat {checkout}/DESIGN.md; ls /work")
    assert r.returncode != 0 and r.stdout == "", r.observation()


@needs_bwrap
def test_read_host_home(make):
    home = os.path.expanduser("~")
    r = make().run(f"ls -A {home}/.ssh {home}/.config; ls /home/*/")
    assert r.returncode != 0 and r.stdout == "", r.observation()


@needs_bwrap
def test_proc_root_escape(make):
    "/proc/1/root and /proc/self/root lead to the sandbox's own root, not the host's."
    r = make().run("cat /proc/1/root/etc/shadow; ls /proc/1/root/work /proc/self/root/root/.pyenv")
    assert r.returncode != 0 and r.stdout == ""


@needs_bwrap
def test_proc_shows_only_sandbox(make):
    r = make().run("ls /proc | grep -c '^[0-9]*$'; cat /proc/1/cmdline | tr '\\0' ' '")
    n, init = r.stdout.split("\n", 1)
    assert int(n) <= 6, r.stdout  # bwrap's init, bash, ls, grep (and a subshell)
    assert init.startswith("bwrap ")
    r = make().run(f"test -e /proc/{os.getpid()}/environ && cat /proc/{os.getpid()}/environ")
    assert "CLAWGYM" not in r.stdout and "PATH=/root" not in r.stdout


@needs_bwrap
def test_no_block_devices(make):
    r = make().run("ls /dev")
    assert r.returncode == 0 and not any(n.startswith(("sd", "nvme", "vd", "mem", "kmsg")) for n in r.stdout.split()), r.stdout


# ---- writing outside the workspace --------------------------------------------------------------------------------------------

@needs_bwrap
def test_write_usr(make):
    r = make().run("touch /usr/bin/evil; echo x > /usr/lib/evil; rm -f /usr/bin/bash; mkdir /usr/evil")
    assert r.returncode != 0 and r.stderr.count("Read-only file system") == 4, r.stderr
    assert not Path("/usr/bin/evil").exists() and Path("/usr/bin/bash").exists()


@needs_bwrap
def test_write_etc_and_root_dirs(make):
    r = make().run("echo x >> /etc/passwd; touch /etc/evil /evil /usr/local/evil")
    assert r.returncode != 0 and r.stderr.count("Read-only") + r.stderr.count("Permission denied") == 4, r.stderr


@needs_bwrap
def test_tmp_is_private_and_gone(make, canary):
    sb = make()
    r = sb.run(f"ls {canary}; echo pwned > /tmp/x; rm -rf {canary}; cat /tmp/x")
    assert "No such file" in r.stderr and r.stdout == "pwned\n"
    assert sb.run("cat /tmp/x").returncode != 0, "/tmp must not survive from one command to the next"
    assert not Path("/tmp/x").exists()


@needs_bwrap
def test_host_canary_dir_unchanged(make, canary):
    before = tree_digest(canary)
    for cmd in (f"rm -rf {canary}", f"echo evil > {canary}/secret.txt", f"chmod 777 {canary}", f"ln -sf /x {canary}/link"):
        make().run(cmd)
    assert tree_digest(canary) == before


@needs_bwrap
def test_symlink_to_etc_passwd(make):
    "A link made inside to /etc/passwd reads the sandbox's passwd, never the host's file, and writing through it fails."
    sb = make()
    r = sb.run("ln -s /etc/passwd link && cat link && echo evil >> link")
    assert r.returncode != 0 and r.stdout.startswith("root:x:0:0:")
    assert "Read-only file system" in r.stderr or "Permission denied" in r.stderr
    assert os.readlink(sb.workspace / "link") == "/etc/passwd"  # on the host it is only a link; the file tools refuse it
    assert "evil" not in Path("/etc/passwd").read_text()


# ---- network ------------------------------------------------------------------------------------------------------------------

@needs_bwrap
def test_tcp_connect_to_host_server(make):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(3)
    port, accepted = srv.getsockname()[1], []
    t = threading.Thread(target=lambda: accepted.append(_accept(srv)))
    t.start()
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
    r = make().run(f"python3 -c \"{code}\"; echo > /dev/tcp/127.0.0.1/{port} && echo connected2")
    t.join()
    srv.close()
    assert "connected" not in r.stdout and "Connection refused" in r.stderr, r.observation()
    assert accepted == [None], "the sandbox reached a server on the host"


def _accept(srv):
    try: return srv.accept()
    except socket.timeout: return None


@needs_bwrap
def test_no_network_interfaces_or_dns(make):
    r = make().run("ls /sys/class/net 2>/dev/null; cat /proc/net/dev | tail -n +3 | cut -d: -f1; "
                   "python3 -c \"import socket; socket.getaddrinfo('example.com', 80)\"")
    assert r.stdout.split() == ["lo"] and "gaierror" in r.stderr, r.observation()


@needs_bwrap
def test_no_nested_user_namespace(make):
    r = make().run("unshare -r id || unshare -U id")
    assert r.returncode != 0, r.observation()


# ---- limits -------------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_bomb(make, backend):
    if not IS_ROOT: pytest.skip("the host-side process count is only exact for a sandbox uid of its own (run as root)")
    sb = make(backend, nproc=64, wall_s=4)
    peak, done = [0], threading.Event()
    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _tasks_of(sb.uid))
            time.sleep(0.02)
    w = threading.Thread(target=watch)
    w.start()
    t0 = time.monotonic()
    r = sb.run("bomb() { bomb | bomb & }; bomb; sleep 2; echo survived")
    done.set()
    w.join()
    assert time.monotonic() - t0 < 4 + 3 and r.stdout in ("survived\n", ""), r.observation()
    assert 0 < peak[0] <= 64, f"sandbox uid had {peak[0]} tasks at peak, limit 64"
    for _ in range(50):  # killed processes stay zombies until the host's init reaps them; they still count
        if _tasks_of(sb.uid) == 0: break
        time.sleep(0.1)
    assert _tasks_of(sb.uid) == 0, "fork bomb processes survived the command"


@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_hog(make, backend):
    r = make(backend, memory_mb=200).run("python3 -c 'x = bytearray(400 << 20); print(len(x))'")
    assert r.returncode != 0 and "MemoryError" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_infinite_loop_hits_wall_time(make, backend):
    t0 = time.monotonic()
    r = make(backend, wall_s=1.0).run("while :; do sleep 0.1; done")
    assert r.timed_out and r.returncode is None and r.killed == "wall time 1s exceeded"
    assert time.monotonic() - t0 < 3 and "wall time 1s exceeded" in r.observation()


@pytest.mark.parametrize("backend", BACKENDS)
def test_busy_loop_hits_cpu_limit(make, backend):
    r = make(backend, cpu_s=1, wall_s=10).run("while :; do :; done")
    assert not r.timed_out and r.returncode == 128 + 24 and r.killed == "CPU time limit of 1 s exceeded" and r.wall_s < 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_that_ignores_sigxcpu_is_named_at_the_hard_limit(make, backend):
    r = make(backend, cpu_s=1, wall_s=10).run("trap '' XCPU; while :; do :; done")
    assert not r.timed_out and r.returncode == 128 + 9 and r.killed.startswith("killed by SIGKILL (most likely the CPU time hard limit of "
                                                                               "2 s")


@pytest.mark.parametrize("backend", BACKENDS)
def test_1gb_write(make, backend):
    sb = make(backend, file_mb=16)
    r = sb.run("head -c 1G /dev/zero > big.bin")
    assert r.returncode == 128 + 25 and r.killed == "file size limit of 16 MiB exceeded"
    assert (sb.workspace / "big.bin").stat().st_size == 16 << 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_50mb_output_is_truncated(make, backend):
    r = make(backend, output_bytes=4000).run("head -c 50000000 /dev/zero | tr '\\0' a; echo; echo THE-END")
    assert r.returncode == 0 and r.truncated and len(r.stdout) < 4400
    assert "49,996,009 of 50,000,009 bytes cut" in r.stdout and r.stdout.endswith("THE-END\n")


@pytest.mark.parametrize("backend", BACKENDS)
def test_host_env_canary(make, backend, monkeypatch):
    monkeypatch.setenv("CLAWGYM_CANARY_SECRET", "sk-canary-1234")
    r = make(backend).run("env; cat /proc/self/environ /proc/1/environ 2>/dev/null | tr '\\0' '\\n'")
    assert "sk-canary-1234" not in r.stdout + r.stderr
    names = {l.split("=", 1)[0] for l in r.stdout.splitlines() if "=" in l}
    assert {"PATH", "HOME", "LANG"} <= names and not names & {"CLAWGYM_CANARY_SECRET", "VIRTUAL_ENV", "PYTHONPATH"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_the_parent(make, backend):
    if backend == "subprocess" and not IS_ROOT:
        pytest.skip("the subprocess backend runs as our own user when not root: kill -9 -1 would kill this test")
    bystander = subprocess.Popen(["sleep", "60"])
    sb = make(backend)
    try:
        r = sb.run("kill -9 $PPID; kill -9 -1; kill -9 1; echo still-here")
        assert bystander.poll() is None, "a host process was killed from inside the sandbox"
        assert sb.run("echo ok").stdout == "ok\n"
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize("backend", BACKENDS)
def test_leftover_background_processes(make, backend):
    sb = make(backend)
    r = sb.run("sleep 1001 & setsid sleep 1002 & nohup sleep 1003 >/dev/null 2>&1 & "
               "(setsid bash -c 'sleep 1004' &) ; disown -a; echo started")
    assert r.stdout == "started\n" and r.wall_s < 3
    time.sleep(0.2)
    assert not [p for n in ("sleep 1001", "sleep 1002", "sleep 1003", "sleep 1004") for p in host_procs(n)]
    sb.close()
    assert not host_procs("sleep 100")


@pytest.mark.parametrize("backend", BACKENDS)
def test_close_kills_a_running_command(make, backend):
    sb = make(backend, wall_s=30)
    out = []
    t = threading.Thread(target=lambda: out.append(sb.run("sleep 1005")))
    t.start()
    time.sleep(0.5)
    sb.close()
    t.join(5)
    assert not t.is_alive() and out and out[0].returncode == 128 + 9 and not host_procs("sleep 1005")


# ---- workspace, binds, backends -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_workdir_escape_is_an_error_observation(make, backend):
    sb = make(backend)
    for wd in ("..", "/etc", "../../..", f"{MOUNT}/../x", "missing"):
        r = sb.run("pwd", workdir=wd)
        assert r.returncode is None and r.error and r.observation().startswith("error: workdir"), (wd, r)


@needs_bwrap
def test_hidden_bind_is_read_only_and_absent_from_the_episode(make, tmp_path):
    hidden = tmp_path / "hidden"
    (hidden / "reward").mkdir(parents=True)
    (hidden / "reward" / "reward.sh").write_text("cat /root/.openclaw/workspace/out.txt; echo 1.0\n")
    hidden.chmod(0o755)
    ep = make()
    assert ep.run("ls /root/.openclaw/hidden").returncode != 0  # not there during the episode
    ep.run("echo result > out.txt")
    ep.close()
    with Sandbox(ep.workspace, binds={hidden: "/root/.openclaw/hidden"}, limits=Limits(**SMALL)) as v:
        r = v.run("bash reward/reward.sh", workdir="/root/.openclaw/hidden")
        assert r.stdout == "result\n1.0\n", r.observation()
        r = v.run("echo 0 > reward/reward.sh", workdir="/root/.openclaw/hidden")
        assert "Read-only file system" in r.stderr


@needs_bwrap
def test_workspace_files_return_to_their_owner(make):
    sb = make()
    owner = sb.workspace.stat().st_uid
    sb.run("mkdir -p d && echo x > d/f && chmod 600 d/f")
    assert (sb.workspace / "d" / "f").read_text() == "x\n"  # the host reads what the sandbox wrote
    sb.close()
    assert {p.stat().st_uid for p in [sb.workspace, *sb.workspace.rglob("*")]} == {owner}


def test_subprocess_backend_warns_once(tmp_path):
    code = textwrap.dedent(f"""
        import warnings; warnings.simplefilter("always")
        from clawgym.env.sandbox import Sandbox
        for _ in range(3): Sandbox({str(tmp_path)!r}, backend="subprocess").close()
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.count("does NOT isolate") == 1, r.stderr
