"""Attacks on the file tools' jail (clawgym.env.tools): traversal, absolute paths and symlinks in every file tool.

Each case asserts an error observation that says why, and that nothing outside the workspace was read or changed: a host canary
folder beside the workspace is compared byte for byte after every test.
"""
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from clawgym.core import MOUNT
from clawgym.env.tools import ToolRunner

SECRET = "canary-secret-4f1c\n"


def tree(root: Path) -> dict:
    "Every entry under `root`: path -> sha256 of a file, target of a link, or 'dir'."
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = Path(d, n)
            rel = str(p.relative_to(root))
            if p.is_symlink(): out[rel] = "link:" + os.readlink(p)
            elif p.is_dir(): out[rel] = "dir"
            else: out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() + oct(p.stat().st_mode)
    return out


@pytest.fixture
def env(tmp_path):
    "(runner, workspace, host canary folder); the canary must be byte-identical when the test ends."
    host, ws = tmp_path / "host", tmp_path / "ws"
    (host / "sub").mkdir(parents=True)
    (host / "secret.txt").write_text(SECRET)
    (host / "sub" / "inner.txt").write_text("inner " + SECRET)
    (host / "note.md").write_text("# Host\nzanzibar " + SECRET)
    ws.mkdir()
    (ws / "real.txt").write_text("inside\n")
    (ws / "MEMORY.md").write_text("# Memory\nnothing secret here\n")
    before = tree(host)
    yield ToolRunner(ws), ws, host
    assert tree(host) == before, "the host canary folder changed"


def refused(obs, why="outside the workspace"):
    assert obs.is_error, obs.content
    assert why in obs.content, obs.content
    assert SECRET.strip() not in obs.content, "host content leaked into the observation"


def patch(*body):
    return {"input": "\n".join(["*** Begin Patch", *body, "*** End Patch"])}


def file_calls(p, memory=True):
    "One call of every file tool (and apply_patch operation) that touches path `p` (memory_get only when `memory`)."
    return [("read", {"path": p}), ("write", {"path": p, "content": "pwned"}),
            ("edit", {"path": p, "oldText": "canary", "newText": "pwned"}), *([("memory_get", {"path": p})] if memory else []),
            ("apply_patch", patch(f"*** Add File: {p}", "+pwned")),
            ("apply_patch", patch(f"*** Update File: {p}", "@@", "-canary-secret-4f1c", "+pwned")),
            ("apply_patch", patch(f"*** Delete File: {p}")),
            ("apply_patch", patch("*** Update File: real.txt", f"*** Move to: {p}", "@@", "-inside", "+pwned"))]


# -- traversal and absolute paths, in every file tool ---------------------------------------------------------------------

# Paths that write are aimed at the host canary only, so that a broken jail damages nothing but a temporary folder.
@pytest.mark.parametrize("bad", ["../host/secret.txt", "a/../../host/secret.txt", "..", "HOST_ABS", "MOUNT_UP_HOST",
                                 f"{MOUNT}/../host/secret.txt", "/root/.openclaw/workspace2/x"])
@pytest.mark.parametrize("call", range(8))
def test_traversal_and_absolute_paths_refused(env, bad, call):
    tr, ws, host = env
    bad = {"HOST_ABS": str(host / "secret.txt"), "MOUNT_UP_HOST": f"{MOUNT}/../../..{host}/secret.txt"}.get(bad, bad)
    name, args = file_calls(bad)[call]
    refused(tr.call(name, args))
    assert (ws / "real.txt").read_text() == "inside\n"


@pytest.mark.parametrize("bad", ["/etc/passwd", "/etc/shadow", f"{MOUNT}/../../../etc/passwd", "../../../../../../etc/passwd"])
def test_system_files_not_read(env, bad):
    tr, _, _ = env
    for name in ("read", "memory_get"):
        obs = tr.call(name, {"path": bad})
        refused(obs)
        assert "root:" not in obs.content


def test_mount_paths_are_the_workspace(env):
    tr, ws, _ = env
    assert tr.call("write", {"path": f"{MOUNT}/made.txt", "content": "ok"}).content == "wrote 2 bytes to made.txt"
    assert (ws / "made.txt").read_text() == "ok"
    assert tr.call("read", {"path": f"{MOUNT}/sub/../made.txt"}).content == "ok"


def test_nul_byte_in_path(env):
    tr, ws, _ = env
    refused(tr.call("write", {"path": "real.txt\x00/../../host/secret.txt", "content": "x"}), "NUL byte")


# -- a symlink to a host file (as an `exec` command could make) -------------------------------------------------------------

@pytest.mark.parametrize("target", ["/etc/passwd", "HOST_FILE", "../host/secret.txt", f"{MOUNT}/../host/secret.txt"])
def test_symlink_to_host_file(env, target):
    tr, ws, host = env
    target = str(host / "secret.txt") if target == "HOST_FILE" else target
    os.symlink(target, ws / "link")
    passwd = Path("/etc/passwd").read_bytes()
    # /etc/passwd is only read: a broken jail must not be able to damage the test machine
    calls = file_calls("link", memory=False)
    for name, args in (calls[:1] if target == "/etc/passwd" else calls):
        refused(tr.call(name, args))
    os.unlink(ws / "MEMORY.md")
    os.symlink(target, ws / "MEMORY.md")
    refused(tr.call("memory_get", {"path": "MEMORY.md"}))
    assert "canary" not in tr.call("memory_search", {"query": "canary secret root"}).content
    assert Path("/etc/passwd").read_bytes() == passwd
    assert os.readlink(ws / "link") == target  # not replaced, not deleted
    assert (ws / "real.txt").read_text() == "inside\n"


def test_dangling_symlink_out_does_not_create_host_file(env):
    tr, ws, host = env
    os.symlink(str(host / "created.txt"), ws / "dangling")
    refused(tr.call("write", {"path": "dangling", "content": "x"}))
    refused(tr.call("apply_patch", patch("*** Add File: dangling", "+x")))
    assert not (host / "created.txt").exists()


def test_symlink_chain_leading_out(env):
    tr, ws, host = env
    os.symlink("b", ws / "a")
    os.symlink("c", ws / "b")
    os.symlink(str(host), ws / "c")
    refused(tr.call("read", {"path": "a/secret.txt"}))
    refused(tr.call("write", {"path": "a/new.txt", "content": "x"}))


def test_symlink_loop(env):
    tr, ws, _ = env
    os.symlink("loop2", ws / "loop1")
    os.symlink("loop1", ws / "loop2")
    refused(tr.call("read", {"path": "loop1"}), "symlinks on the way")


# -- a symlinked parent folder ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["ABS", "../host"])
def test_symlinked_parent_folder(env, link):
    tr, ws, host = env
    os.symlink(str(host) if link == "ABS" else link, ws / "hostdir")
    for p in ["hostdir/secret.txt", "hostdir/sub/inner.txt", "hostdir/new.txt", "hostdir/sub/deeper/new.txt"]:
        for name, args in file_calls(p, memory=False):
            refused(tr.call(name, args))
    assert not (host / "new.txt").exists() and not (host / "sub" / "deeper").exists()


def test_memory_folder_linked_to_host(env):
    tr, ws, host = env
    os.symlink(str(host), ws / "memory")
    refused(tr.call("memory_get", {"path": "memory/note.md"}))
    obs = tr.call("memory_search", {"query": "zanzibar"})
    assert not obs.is_error and "no memory passage matches" in obs.content, obs.content
    assert tr.memory_files() == ["MEMORY.md"]


def test_memory_note_linked_to_host(env):
    tr, ws, host = env
    (ws / "memory").mkdir()
    os.symlink(str(host / "note.md"), ws / "memory" / "leak.md")
    refused(tr.call("memory_get", {"path": "memory/leak.md"}))
    assert tr.call("memory_search", {"query": "zanzibar"}).content.startswith("no memory passage matches")


def test_memory_get_refuses_other_workspace_files(env):
    tr, ws, _ = env
    refused(tr.call("memory_get", {"path": "real.txt"}), "reads only MEMORY.md and memory/*.md")


# -- symlinks that stay inside are followed (the jail is not just "refuse all links") ---------------------------------------

def test_symlinks_inside_are_followed(env):
    tr, ws, _ = env
    (ws / "d").mkdir()
    os.symlink("../real.txt", ws / "d" / "rel")
    os.symlink(f"{MOUNT}/real.txt", ws / "mnt")
    os.symlink("d", ws / "dlink")
    assert tr.call("read", {"path": "d/rel"}).content == "inside"
    assert tr.call("read", {"path": "mnt"}).content == "inside"
    assert not tr.call("write", {"path": "dlink/made.txt", "content": "x"}).is_error
    assert (ws / "d" / "made.txt").read_text() == "x"
    assert not tr.call("edit", {"path": "mnt", "oldText": "inside", "newText": "changed"}).is_error
    assert (ws / "real.txt").read_text() == "changed\n" and (ws / "mnt").is_symlink()


# -- atomicity and races ------------------------------------------------------------------------------------------------------

def test_patch_with_one_escaping_operation_writes_nothing(env):
    tr, ws, host = env
    before = tree(ws)
    refused(tr.call("apply_patch", patch("*** Add File: fine.txt", "+ok", "*** Delete File: real.txt",
                                         "*** Add File: ../host/evil.txt", "+x")))
    assert tree(ws) == before


def test_fifo_does_not_hang(env):
    tr, ws, _ = env
    os.mkfifo(ws / "pipe")
    refused(tr.call("read", {"path": "pipe"}), "not a regular file")
    assert tr.call("write", {"path": "pipe", "content": "x"}).is_error


def test_swapping_a_folder_for_a_symlink_during_writes(env):
    "A process in the sandbox flips `d` between a real folder and a link to the host while the agent writes d/f.txt."
    tr, ws, host = env
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            try:
                os.mkdir(ws / "d")
                os.rmdir(ws / "d")
                os.symlink(str(host / "sub"), ws / "d")
                os.unlink(ws / "d")
            except OSError:
                pass

    t = threading.Thread(target=flip)
    t.start()
    try:
        results = [tr.call("write", {"path": "d/f.txt", "content": "x"}) for _ in range(3000)]
    finally:
        stop.set()
        t.join()
    assert not (host / "sub" / "f.txt").exists()
    assert all(r.is_error or r.content == "wrote 1 bytes to d/f.txt" for r in results)


# -- a symlink made by a command in the sandbox ------------------------------------------------------------------------------

def test_symlink_made_by_exec(env):
    from clawgym.env.sandbox import Sandbox
    _, _, host = env
    # the sandbox user must reach the workspace, so it sits directly in the system temp folder, not under pytest's 0700 one
    ws = Path(tempfile.mkdtemp(prefix="clawgym-tools-"))
    (ws / "real.txt").write_text("inside\n")
    try:
        with Sandbox(ws) as sb:
            tx = ToolRunner(ws, sandbox=sb)
            obs = tx.call("exec", {"command": f"ln -s /etc/passwd pw && ln -s {host} hostdir && ln -s {MOUNT}/real.txt ok && ls"})
            assert not obs.is_error, obs.content
            refused(tx.call("read", {"path": "pw"}))
            refused(tx.call("write", {"path": "hostdir/secret.txt", "content": "pwned"}))
            refused(tx.call("edit", {"path": "hostdir/secret.txt", "oldText": "canary", "newText": "x"}))
            assert tx.call("read", {"path": "ok"}).content == "inside"
            refused(tx.call("exec", {"command": "ls", "workdir": "../.."}))
    finally: shutil.rmtree(ws)
