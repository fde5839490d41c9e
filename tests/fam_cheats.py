"Shared by the family test suites: cheats that write the right file names with wrong content."
import re
import tempfile
from pathlib import Path

from clawgym.run.episode import run_episode
from clawgym.synth.gates import gate_task
from clawgym.synth.procedural import make_task
from clawgym.grade.verify import verify
from clawgym.env.workspace import materialize

def perturb(text:str) -> str:
    "The same text with every number moved: the layout a solver would write, the values wrong."
    return re.sub(r"\d+(?:\.\d+)?", lambda m: f"{float(m[0]) * 1.13 + 1.7:.2f}" if "." in m[0] else str(int(m[0]) + 3), text)

def written_paths(task) -> list:
    "The files a solution writes: the declared outputs, or else the files the reference edits in place."
    return task.workspace.outputs or sorted({c.arguments["path"] for c in task.reference if c.name in ("edit", "write")})

def cheat_scores(task) -> dict:
    "Scores of two cheats: every written path holding the reference's output with its numbers changed, or a copied input."
    with tempfile.TemporaryDirectory() as d:
        solved = Path(d) / "solved"
        assert run_episode(task, "oracle", keep_workspace=solved).score.value == 1.0, task.id
        paths = written_paths(task)
        some_input = next(f for f in task.workspace.files if f.path not in paths)
        scores = {}
        for kind, content in (("perturbed", lambda p: perturb((solved / p).read_text())),
                              ("copied_input", lambda p: some_input.data().decode())):
            ws = materialize(task, Path(d) / kind)
            for p in paths:
                (ws / p).parent.mkdir(parents=True, exist_ok=True)
                (ws / p).write_text(content(p))
            scores[kind] = verify(task, ws).value
        return scores

def assert_gates(name:str, seeds=range(20)):
    "Every seed's instance of family `name` passes the gates: reference = 1, noop = 0, scaffold = 0, an empty workspace survives."
    for seed in seeds:
        g = gate_task(make_task(name, seed))
        assert g.ok, (name, seed, g.reasons)

def assert_cheats_low(name:str, seeds=range(10), limits:dict|None=None, extra=None):
    "Both cheats (and `extra(task) -> {cheat: score}` when given) score below 0.5, or below `limits[cheat]`, on every seed."
    for seed in seeds:
        task = make_task(name, seed)
        s = cheat_scores(task) | (extra(task) if extra else {})
        assert all(v < (limits or {}).get(k, 0.5) for k, v in s.items()), (name, seed, s)
