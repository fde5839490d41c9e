"""Crafted workspace archives and archive paths: nothing is written, chmodded or read outside the run's folders."""
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from clawgym.env.workspace import archive_path, archive_workspace, extract_archive

from clawgym.run.episode import run_episode
from clawgym.core import Check, FileSpec, Task, WorkspaceSpec
from clawgym.run.rescore import rescore
from clawgym.tasks.formats import save_jsonl


def crafted(path: Path, members: list) -> Path:
    "A .tar.gz with (name, kind, payload) members: kind file (payload bytes), dir (payload mode), sym (payload target)."
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(_dir("workspace", 0o755))
        for name, kind, payload in members:
            if kind == "file":
                ti = tarfile.TarInfo(name)
                ti.size = len(payload)
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(payload))
            elif kind == "dir": tar.addfile(_dir(name, payload))
            else:
                ti = tarfile.TarInfo(name)
                ti.type = tarfile.SYMTYPE
                ti.linkname = payload
                tar.addfile(ti)
    return path


def _dir(name, mode):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    return ti


@pytest.fixture
def canary(tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    host.chmod(0o700)
    f = host / "canary.txt"
    f.write_bytes(b"host data\n")
    f.chmod(0o600)
    return host, f


ATTACKS = {
    "file through a link": lambda h, f: [("workspace/a", "sym", str(f)), ("workspace/a", "file", b"overwritten\n")],
    "folder mode through a link": lambda h, f: [("workspace/d", "sym", str(h)), ("workspace/d", "dir", 0o777)],
    "file below a link": lambda h, f: [("workspace/d", "sym", str(h)), ("workspace/d/canary.txt", "file", b"overwritten\n")],
    "new file below a link": lambda h, f: [("workspace/d", "sym", str(h)), ("workspace/d/new.txt", "file", b"x")],
    "parent path": lambda h, f: [("workspace/../escape.txt", "file", b"x")],
    "not under workspace/": lambda h, f: [("escape.txt", "file", b"x")],
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_archive_writes_nothing_outside(tmp_path, canary, attack):
    host, f = canary
    arc = crafted(tmp_path / "a.tar.gz", ATTACKS[attack](host, f))
    with pytest.raises(ValueError):
        extract_archive(arc, tmp_path / "out")
    assert f.read_bytes() == b"host data\n" and stat.S_IMODE(host.stat().st_mode) == 0o700
    assert sorted(p.name for p in host.iterdir()) == ["canary.txt"] and not (tmp_path / "escape.txt").exists()


def test_inside_links_and_modes_round_trip(tmp_path):
    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True)
    (ws / "data" / "a.csv").write_text("x\n")
    (ws / "link.csv").symlink_to("data/a.csv")
    (ws / "abs").symlink_to("/etc/hostname")
    (ws / "ro").mkdir()
    (ws / "ro" / "f").write_text("f")
    (ws / "ro").chmod(0o555)
    archive_workspace(ws, tmp_path / "w.tar.gz")
    extract_archive(tmp_path / "w.tar.gz", tmp_path / "back")
    b = tmp_path / "back"
    assert os.readlink(b / "link.csv") == "data/a.csv" and os.readlink(b / "abs") == "/etc/hostname"
    assert stat.S_IMODE((b / "ro").stat().st_mode) == 0o555 and (b / "ro" / "f").read_text() == "f"


@pytest.mark.parametrize("rel", ["../x.tar.gz", "/etc/passwd", "workspaces/../../x.tar.gz", "workspaces/a/b.tar.gz", "trajectories.jsonl"])
def test_archive_paths_stay_in_the_run(tmp_path, rel):
    with pytest.raises(ValueError, match="not a file name under workspaces/"):
        archive_path(tmp_path, rel)


def test_rescore_of_a_crafted_run_folder(tmp_path, canary):
    "A shared run folder whose archive is crafted, or whose record names a path outside: errors, and the host canary is intact."
    host, f = canary
    task = Task("t", "Write hi.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]), checks=[Check("file_exists", {"path": "hi.txt"})])
    save_jsonl([task], tmp_path / "tasks.jsonl")
    run = tmp_path / "run"
    (run / "workspaces").mkdir(parents=True)
    good = run_episode(task, "noop", archive_dir=run / "workspaces")
    crafted(run / good.archive, ATTACKS["file through a link"](host, f))
    outside = tmp_path / "elsewhere.tar.gz"
    archive_workspace(tmp_path / "run" / "workspaces", outside)
    records = [good.to_dict(), {**good.to_dict(), "sample": 1, "archive": "../elsewhere.tar.gz"},
               {**good.to_dict(), "sample": 2, "archive": str(outside)}]
    (run / "trajectories.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "run.json").write_text(json.dumps({"policy": "noop", "tasks_path": str(tmp_path / "tasks.jsonl")}))
    s = rescore(run, tmp_path / "out", workers=0, progress=False)
    assert s["errors"] == 3 and s["scored"] == 0
    assert f.read_bytes() == b"host data\n" and sorted(p.name for p in host.iterdir()) == ["canary.txt"]
    assert not (tmp_path / "out" / "elsewhere.tar.gz").exists() and not (tmp_path / "elsewhere.tar.gz.copy").exists()
