"Property-style round trips for clawgym.env.workspace over random bytes, paths and modes, and a bulk materialize run."
import hashlib
import random
import stat
import tempfile
from pathlib import Path

import pytest

from clawgym.core import Check, FileSpec, Task, TaskMeta, WorkspaceSpec
from clawgym.env.workspace import (diff, diff_dirs, materialize, read_workspace, scaffold, snapshot, workspace_files)

_CHARS = "abcXYZ019 _-.,+=@~éßø中文🙂"
_MODES = [0o644, 0o755, 0o600, 0o444, 0o700, 0o640]


def _segment(rng):
    s = "".join(rng.choice(_CHARS) for _ in range(rng.randint(1, 8)))
    return s if s.strip(" .") else "x" + s  # '.', '..' and blank names are not valid workspace paths


def _data(rng):
    kind = rng.randrange(4)
    if kind == 0: return rng.randbytes(rng.randint(0, 400))
    if kind == 1: return "".join(rng.choice("aàbçé£\r\n ") for _ in range(rng.randint(0, 80))).encode("latin-1")
    if kind == 2: return "".join(rng.choice("héllo wörld 中文\n") for _ in range(rng.randint(0, 80))).encode("utf-8")
    return b""


def _random_files(rng, n):
    "n FileSpecs at random nested paths where no file sits where another needs a folder."
    files, taken = [], set()
    while len(files) < n:
        path = "/".join(_segment(rng) for _ in range(rng.randint(1, 4)))
        parts = path.split("/")
        parents = {"/".join(parts[:i]) for i in range(1, len(parts))}
        if path in taken or parents & taken or any(t.startswith(path + "/") for t in taken): continue
        taken.add(path)
        files.append(FileSpec.from_bytes(path, _data(rng), rng.choice(_MODES)))
    return files


@pytest.mark.parametrize("seed", range(25))
def test_round_trip_random_files(tmp_path, seed):
    rng = random.Random(seed)
    spec = WorkspaceSpec(files=_random_files(rng, rng.randint(1, 12)), openclaw=False)
    ws = materialize(spec, tmp_path / "ws")
    back = read_workspace(ws)
    assert [(f.path, f.data(), f.mode) for f in back] == sorted((f.path, f.data(), f.mode) for f in spec.files)
    snap = snapshot(ws)
    for f in spec.files:
        st = snap.files[f.path]
        assert (st.sha256, st.size, st.mode) == (hashlib.sha256(f.data()).hexdigest(), len(f.data()), f.mode)
    assert not diff_dirs(ws, materialize(spec, tmp_path / "again"))

    victim = rng.choice(spec.files)
    p = ws / victim.path
    p.chmod(0o644)
    p.write_bytes(victim.data() + b"!")
    d = diff(snap, snapshot(ws))
    assert d.modified == [victim.path] and not d.added and not d.deleted
    assert d.mode_changes == ({} if victim.mode == 0o644 else {victim.path: (victim.mode, 0o644)})


@pytest.mark.parametrize("seed", range(10))
def test_openclaw_layout_round_trip(tmp_path, seed):
    rng = random.Random(seed)
    skills = sorted({rng.choice(["git", "csv-tools", "email_triage", "1.0", "notes.v2"]) for _ in range(3)})
    task = Task(f"t{seed}", "Do it.",
                workspace=WorkspaceSpec(files=_random_files(rng, 5), outputs=["out/result.txt"],
                                        daily_notes={f"2025-01-{d:02d}": f"note {d}" for d in rng.sample(range(1, 29), 2)}),
                checks=[Check("file_exists", {"path": "out/result.txt"})],
                meta=TaskMeta(persona=f"Person {seed}, likes lists.", skills=skills))
    expected = workspace_files(task)
    back = {f.path: (f.data(), f.mode) for f in read_workspace(materialize(task, tmp_path / "ws"))}
    assert back == expected
    sc = scaffold(task, tmp_path / "sc")
    assert (sc / "out/result.txt").read_bytes() == b""
    assert diff_dirs(tmp_path / "ws", sc).added == ["out/result.txt"]


def test_materialize_many_tasks(tmp_path):
    rng = random.Random(0)
    tasks = [Task(f"bulk-{i}", "Summarise the inputs.",
                  workspace=WorkspaceSpec(files=[FileSpec(f"input/f{j}.txt", text=f"row {i} {j}\n" * rng.randint(1, 50)) for j in range(5)],
                                          outputs=["out/summary.md"]),
                  checks=[Check("file_exists", {"path": "out/summary.md"})],
                  meta=TaskMeta(persona="A planner.", skills=["notes"]))
             for i in range(200)]
    for t in tasks:
        ws = scaffold(t, tmp_path / t.id)
        assert len(snapshot(ws).files) == len(workspace_files(t)) + 1


def test_python_in_the_sandbox_leaves_no_byte_code():
    from clawgym.env.sandbox import Sandbox
    # a workspace where episodes make theirs: the sandbox's uid can reach it (pytest's own tmp_path sits under a 0700 folder)
    with tempfile.TemporaryDirectory() as d:
        ws = Path(d)
        (ws / "helper.py").write_text("X = 1\n")
        with Sandbox(ws, backend="subprocess") as sb:
            r = sb.run("python3 -c 'import helper; print(helper.X)'")
        assert r.stdout == "1\n" and not (ws / "__pycache__").exists(), r.stderr
