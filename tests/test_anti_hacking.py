"""Anti-hacking: a cheat that writes the right files with wrong content scores well below 1 on every family; verifier inputs
stay out of the agent's reach."""
import json
import statistics
from pathlib import Path

import pytest

from clawgym.run.episode import Budget, run_episode

from clawgym.policies.base import make_policy
from clawgym.policies.cheat import CheatPolicy
from clawgym.core import FileSpec
from clawgym.run.rollout import load_run, run_tasks
from clawgym.synth.procedural import load_families, make_task
from clawgym.tasks.formats import load_tasks
from clawgym.env.workspace import workspace_files

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
SEEDS = range(3)


@pytest.fixture(scope="module")
def family_tasks():
    return {name: [make_task(name, s) for s in SEEDS] for name in sorted(load_families())}


@pytest.fixture(scope="module")
def cheat_runs(family_tasks, tmp_path_factory):
    "Per policy spec: family -> its episodes' trajectories. The copy cheat runs on one seed per family (time)."
    out, runs = tmp_path_factory.mktemp("cheat"), {}
    for spec, seeds in [("cheat", SEEDS), ("cheat:copy", range(1))]:
        tasks = [t for ts in family_tasks.values() for t in ts[:len(seeds)]]
        run_tasks(tasks, spec, out / spec.replace(":", "-"), workers=2, progress=False)
        by = {}
        for tr in load_run(out / spec.replace(":", "-")): by.setdefault(tr.task_id.rsplit("-", 1)[0], []).append(tr)
        runs[spec] = by
    return runs


def test_cheat_is_registered_for_workers():
    "A fresh process finds the cheat by its spec (workers import nothing but clawgym.policies.base)."
    assert make_policy("cheat").name == "cheat" and make_policy("cheat:copy").name == "cheat:copy"


@pytest.mark.parametrize("spec", ["cheat", "cheat:copy"])
def test_cheat_scores_well_below_one_on_every_family(cheat_runs, family_tasks, spec):
    by = cheat_runs[spec]
    assert sorted(by) == sorted(family_tasks), "every family ran"
    problems = {}
    for fam, trs in sorted(by.items()):
        errors = [t.score.error for t in trs if not t.score.ok]
        vals = [t.score.value for t in trs if t.score.ok]
        if errors: problems[fam] = f"errors: {errors}"
        elif statistics.fmean(vals) >= 0.5 or max(vals) >= 1: problems[fam] = f"scores {vals}"
    assert not problems, f"{spec} games these families: {problems}"


def test_cheat_actually_wrote_the_outputs(cheat_runs, family_tasks):
    "The cheat is not just doing nothing: every declared output exists after its episode."
    for fam, trs in cheat_runs["cheat"].items():
        for tr in trs:
            task = next(t for t in family_tasks[fam] if t.id == tr.task_id)
            written = set(tr.diff["added"]) | set(tr.diff["modified"])
            assert set(task.workspace.outputs) <= written, (tr.task_id, task.workspace.outputs, tr.diff)
            assert written, tr.task_id


def test_cheat_never_reads_the_verification(family_tasks):
    "Its calls depend on what an agent sees only: replacing checks, checker, rubric and hidden files changes nothing."
    for ts in family_tasks.values():
        t = ts[0]
        blind = type(t).from_dict({**t.to_dict(), "checks": [{"kind": "file_exists", "params": {"path": "nothing"}}],
                                   "checker": None, "rubric": [], "aggregation": {"mode": "code_only"},
                                   "hidden": [FileSpec("reward/x.sh", text="echo 0").to_dict()], "reward_command": "bash reward/x.sh"})
        assert CheatPolicy().calls(blind) == CheatPolicy().calls(t), t.id


def _strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from _strings(x)
    elif isinstance(v, list):
        for x in v: yield from _strings(x)


def test_inputs_read_by_checks_are_guarded(family_tasks, cheat_runs):
    """Heuristic: an input file named in a check's parameters must carry a `file_unchanged` guard, unless the task edits it in
    place (the reference changes it; the cheat episode's diff shows which files that is)."""
    missing = []
    for fam, ts in family_tasks.items():
        for t, tr in zip(ts, sorted(cheat_runs["cheat"][fam], key=lambda x: x.task_id)):
            assert t.id == tr.task_id
            touched = set(tr.diff["modified"]) | set(tr.diff["deleted"])
            guarded = {c.params.get("path") for c in t.checks if c.kind == "file_unchanged"}
            inputs = {f.path for f in t.workspace.files} - touched
            for c in t.checks:
                if c.kind == "file_unchanged": continue
                named = {p for s in _strings(c.params) for p in inputs if p == s or p in s.split()}
                missing += [f"{t.id}: check {c.name!r} reads {p}" for p in sorted(named - guarded)]
            guards = [c for c in t.checks if c.kind == "file_unchanged"]
            assert all(c.hard and c.weight == 0 for c in guards), (t.id, guards)
    assert not missing, "inputs read by checks without an unchanged: guard:\n" + "\n".join(missing)


def test_verifier_files_are_not_in_the_workspace():
    "No materialized file holds a task's checks, checker source, rubric or hidden files."
    ts = load_tasks(SAMPLES)
    tasks = ts.tasks + [make_task(n, 0) for n in sorted(load_families())]
    for t in tasks:
        files = workspace_files(t)
        assert not set(files) & {f.path for f in t.hidden}, t.id
        blob = b"\n".join(data for data, _ in files.values())
        secrets = [f.data() for f in t.hidden] + ([t.checker.encode()] if t.checker else [])
        secrets += [json.dumps(c.params, ensure_ascii=False).encode() for c in t.checks if len(json.dumps(c.params)) > 40]
        for s in secrets: assert s not in blob, (t.id, s[:80])


def test_hidden_reward_files_are_out_of_reach_during_the_episode(tmp_path):
    "The ClawGym sample's reward/ scripts: a read fails, and nothing in the sandbox holds them."
    task = next(t for t in load_tasks(SAMPLES).tasks if t.hidden)
    needle = next(l for l in task.hidden[0].data().decode().splitlines() if len(l.strip()) > 20).strip()
    calls = [{"name": "read", "arguments": {"path": f"reward/{Path(f.path).name}"}} for f in task.hidden]
    calls += [{"name": "exec", "arguments": {"command": "ls -laR /root/.openclaw; ls /root/.openclaw/hidden"}},
              {"name": "exec", "arguments": {"command": f"grep -rlF -- {json.dumps(needle)} /root /tmp /etc /var /home /opt /srv /mnt "
                                                        "2>/dev/null; echo searched"}}]
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    tr = run_episode(task, f"replay:{tmp_path / 'calls.json'}", budget=Budget(max_turns=len(calls) + 1))
    obs = [m["content"] for m in tr.messages if m["role"] == "tool"]
    for o in obs[:len(task.hidden)]: assert o.startswith("error"), o
    assert "reward" not in obs[-2] and "check.py" not in obs[-2], obs[-2]
    assert "No such file" in obs[-2], obs[-2]
    assert obs[-1].strip().startswith("searched"), f"the hidden script's text was found in the sandbox: {obs[-1]}"
    assert tr.score.ok, tr.score.error  # the reward scripts do run afterwards, in the verification sandbox
