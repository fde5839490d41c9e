"Task IO beyond the notebook examples: broken folders, strict mode, byte-exact round trips, exported reward.sh behaviour, fixtures."
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clawgym.core import Check, FileSpec, Task, TaskFormatError, TaskMeta, ToolCall, WorkspaceSpec
from clawgym.tasks.formats import (load_clawgym_task, load_dir, load_jsonl, load_pinchbench, load_tasks, save_clawgym, save_dir,
                           save_jsonl, task_stats, format_stats_table)
from clawgym.grade.verify import openclaw_transcript
from clawgym.env.workspace import materialize, snapshot

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"

AWKWARD = {  # path -> (bytes, mode): every kind of file that a lossy reader would damage
    "input/sales.csv": (b"region,amount\r\nnorth,120\r\nsouth,80\r\n", 0o644),
    "input/latin1.txt": ("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e".encode("latin-1"), 0o600),
    "bin/blob.bin": (bytes(range(256)) * 3, 0o644),
    "bin/nul.txt": (b"text\x00with nul", 0o644),
    "scripts/run.sh": (b"#!/bin/sh\necho hi\n", 0o755),
    "empty.txt": (b"", 0o444),
    "deep/a/b/c/utf8 \u00e9.md": ("# h\u00e9llo \U0001f600\n".encode("utf-8"), 0o640),
}


def make_task(tid="t1", checker=None, checks=True) -> Task:
    files = [FileSpec.from_bytes(p, data, mode) for p, (data, mode) in AWKWARD.items()]
    files.append(FileSpec("logs/big.log", generator={"name": "repeat", "params": {"text": "line\n", "times": 1000}}))
    return Task(tid, "Write the total of input/sales.csv (200) to output/total.txt.",
                workspace=WorkspaceSpec(files=files, outputs=["output/total.txt"], memory_md="remember: totals are integers\n",
                                        daily_notes={"2024-06-01": "met Ana"}),
                checks=[Check("file_exists", {"path": "output/total.txt"}),
                        Check("text_equals", {"path": "output/total.txt", "expected": "200"}, weight=2.0)] if checks else [],
                checker=checker,
                reference=[ToolCall("write", {"path": "output/total.txt", "content": "200\n"}, "c1")],
                meta=TaskMeta(category="analysis", difficulty=3, persona="Ana, an accountant", skills=["csv"], provenance={"seed": 7}))


def same_workspace(a: Task, b: Task, tmp: Path) -> bool:
    wa, wb = materialize(a, tmp / "wa"), materialize(b, tmp / "wb")
    sa, sb = snapshot(wa).files, snapshot(wb).files
    assert sorted(sa) == sorted(sb), set(sa) ^ set(sb)
    for p in sa:
        assert (sa[p].sha256, sa[p].mode, sa[p].kind) == (sb[p].sha256, sb[p].mode, sb[p].kind), p
    return True


# ---- native formats ---------------------------------------------------------------------------------------------------

def test_jsonl_round_trip(tmp_path):
    tasks = [make_task("a"), make_task("b", checker="def grade(t, w):\n    return {}\n")]
    save_jsonl(tasks, tmp_path / "t.jsonl")
    assert load_jsonl(tmp_path / "t.jsonl") == tasks


def test_dir_round_trip_is_byte_exact(tmp_path):
    t = make_task()
    save_dir([t], tmp_path / "native")
    d = tmp_path / "native" / "t1"
    for p, (data, mode) in AWKWARD.items():
        assert (d / "workspace" / p).read_bytes() == data
        assert os.stat(d / "workspace" / p).st_mode & 0o7777 == mode
    spec = json.loads((d / "task.json").read_text())
    assert all("text" not in f and "b64" not in f for f in spec["workspace"]["files"])  # contents live in the files only
    back = load_dir(tmp_path / "native")
    assert back == [t]
    assert same_workspace(t, back[0], tmp_path)


def test_save_dir_refuses_foreign_folder(tmp_path):
    (tmp_path / "t1").mkdir()
    (tmp_path / "t1" / "precious.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="no task.json"):
        save_dir([make_task()], tmp_path)
    assert (tmp_path / "t1" / "precious.txt").read_text() == "mine"


# ---- ClawGym ----------------------------------------------------------------------------------------------------------

def test_clawgym_round_trip_keeps_every_byte(tmp_path):
    t = make_task()
    save_clawgym([t], tmp_path / "cg")
    d = tmp_path / "cg" / "task_t1"
    entry = json.loads((d / "data_entry.json").read_text())
    assert set(entry) == {"task_id", "user_query", "input_mount_dir", "metadata"}
    assert (d / "input_files" / "AGENTS.md").is_file() and (d / "input_files" / "memory" / "2024-06-01.md").is_file()
    back = load_tasks(tmp_path / "cg", strict=True)
    assert back.formats == {"clawgym": 1}
    b = back.tasks[0]
    assert (b.id, b.reference, b.meta, b.rubric, b.aggregation, b.workspace.outputs) == (t.id, t.reference, t.meta, t.rubric, t.aggregation,
                                                                                         t.workspace.outputs)
    assert b.checks == [] and b.reward_command == "bash /root/.openclaw/workspace/reward/reward.sh"
    assert same_workspace(t, b, tmp_path)
    # native -> ClawGym -> native -> ClawGym is a fixed point
    save_clawgym([b], tmp_path / "cg2")
    assert load_clawgym_task(tmp_path / "cg2" / "task_t1") == b


def run_reward(task_dir: Path, workspace: Path, payload: Path | None = None):
    "Run an exported reward.sh on the host, the workspace named by CLAWGYM_WORKSPACE and the transcript by the ClawGym payload."
    env = {**os.environ, "CLAWGYM_WORKSPACE": str(workspace)}
    env.pop("OPENCLAW_REWARD_PAYLOAD", None)
    if payload: env["OPENCLAW_REWARD_PAYLOAD"] = str(payload)
    r = subprocess.run(["bash", str(task_dir / "reward" / "reward.sh")], capture_output=True, text=True, env=env, timeout=60)
    lines = r.stdout.strip().splitlines()
    return r.returncode, (lines[-1] if lines else ""), r


@pytest.mark.parametrize("with_checker", [False, True])
def test_exported_reward_sh_scores(tmp_path, with_checker):
    checker = ("from pathlib import Path\n"
               "def grade(transcript, workspace_path):\n"
               "    p = Path(workspace_path) / 'output/total.txt'\n"
               "    return {'said_done': float(any('done' in str(e['message']['content']) for e in transcript if e['type'] == "
               "'message')),\n"
               "            'total_integer': float(p.exists() and p.read_text().strip().isdigit())}\n") if with_checker else None
    t = make_task(checker=checker)
    save_clawgym([t], tmp_path / "cg")
    d = tmp_path / "cg" / "task_t1"
    ws = materialize(t, tmp_path / "ws")
    transcript = tmp_path / "payload.json"
    transcript.write_text(json.dumps({"final_message": "done", "metadata": {},
                                      "transcript": openclaw_transcript([{"role": "assistant", "content": "done"}])}))
    rc, last, r = run_reward(d, ws)  # no payload: the checker sees an empty transcript
    assert rc == 0 and float(last) == 0.0, r.stderr
    (ws / "output").mkdir()
    (ws / "output" / "total.txt").write_text("250\n")  # exists, wrong: file_exists 1 (weight 1), text_equals 0 (weight 2)
    rc, last, r = run_reward(d, ws, transcript)
    assert rc == 0, r.stderr
    assert float(last) == pytest.approx(3 / 5 if with_checker else 1 / 3, abs=1e-6)
    (ws / "output" / "total.txt").write_text("200\n")
    rc, last, r = run_reward(d, ws, transcript)
    assert rc == 0 and float(last) == 1.0, r.stderr
    scores = json.loads(r.stdout.strip().splitlines()[-2])["subscores"]
    assert set(scores) == ({"file_exists", "text_equals", "said_done", "total_integer"} if with_checker else {"file_exists", "text_equals"})


def test_exported_reward_sh_crash_is_no_score(tmp_path):
    t = make_task(checker="def grade(transcript, workspace_path):\n    raise RuntimeError('checker bug')\n")
    save_clawgym([t], tmp_path / "cg")
    ws = materialize(t, tmp_path / "ws")
    rc, last, r = run_reward(tmp_path / "cg" / "task_t1", ws)
    assert rc != 0 and "checker bug" in r.stderr
    with pytest.raises(ValueError):
        float(last)
    bad = make_task("t2", checks=False, checker="def grade(transcript, workspace_path):\n    return {'x': 7}\n")
    save_clawgym([bad], tmp_path / "cg")
    rc, last, r = run_reward(tmp_path / "cg" / "task_t2", ws)
    assert rc != 0 and "not numbers in [0, 1]" in r.stderr


def test_clawgym_fixture_loads_and_writes_back_verbatim(tmp_path):
    src = SAMPLES / "clawgym" / "task_0001"
    t = load_clawgym_task(src)
    assert t.id == "task_0001" and t.meta.source_format == "clawgym" and t.meta.category == "analysis"
    assert not t.workspace.openclaw
    assert [f.path for f in t.workspace.files] == ["budget.json", "expenses_2024_q3.csv", "notes/finance_notes.md"]
    assert sorted(f.path for f in t.hidden) == ["reward/check.py", "reward/reward.sh"]
    assert t.hidden[[f.path for f in t.hidden].index("reward/reward.sh")].mode == 0o755
    assert t.meta.extra["clawgym"]["data_entry"]["metadata"]["category"] == "Analysis & Reasoning"
    save_clawgym([t], tmp_path)
    out = tmp_path / "task_0001"
    for sub in ("input_files", "reward"):
        for p in sorted((src / sub).rglob("*")):
            q = out / sub / p.relative_to(src / sub)
            assert q.exists(), q
            if p.is_file():
                assert p.read_bytes() == q.read_bytes() and p.stat().st_mode & 0o777 == q.stat().st_mode & 0o777, p
    assert json.loads((out / "data_entry.json").read_text()) == json.loads((src / "data_entry.json").read_text())


def test_clawgym_input_mount_subfolder_and_unknown_fields(tmp_path):
    d = tmp_path / "task_x"
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", d)
    entry = json.loads((d / "data_entry.json").read_text())
    entry.update(task_id="weird id/7", input_mount_dir="/root/.openclaw/workspace/inbox", difficulty_hint="hard")
    entry["metadata"]["source_persona"] = "freelancer"
    (d / "data_entry.json").write_text(json.dumps(entry))
    t = load_clawgym_task(d)
    assert t.id == "weird_id_7"
    assert t.workspace.files[0].path == "inbox/budget.json"
    save_clawgym([t], tmp_path / "out")
    again = json.loads((tmp_path / "out" / "task_x" / "data_entry.json").read_text())
    assert again == entry
    assert (tmp_path / "out" / "task_x" / "input_files" / "budget.json").is_file()


# ---- PinchBench -------------------------------------------------------------------------------------------------------

def test_pinchbench_fixture():
    t = load_pinchbench(SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md")
    assert t.id == "task_07_standup_actions" and t.meta.source_format == "pinchbench"
    assert [f.path for f in t.workspace.files] == ["meetings/standup_2024-06-11.txt", "team.md"]
    assert t.workspace.files[0].data() == (SAMPLES / "pinchbench" / "assets" / "standup_transcript.txt").read_bytes()
    assert t.workspace.files[1].text.startswith("# Team\n")
    assert t.aggregation.mode == "weighted" and t.meta.grading_type == "hybrid" and t.meta.timeout_s == 180
    assert "Criterion 2: Summary quality" in t.rubric[0].criteria and len(set(t.rubric[0].levels.values())) == 5
    extra = t.meta.extra["pinchbench"]
    assert "six action items" in extra["expected_behavior"] and "- [ ]" in extra["grading_criteria"]
    assert "Additional Notes" in extra["sections"]
    ns = {}
    exec(t.checker, ns)
    assert callable(ns["grade"])


def test_pinchbench_checker_grades_a_workspace(tmp_path):
    t = load_pinchbench(SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md")
    ws = materialize(t, tmp_path / "ws")
    ns = {}
    exec(t.checker, ns)
    assert sum(ns["grade"]([], str(ws)).values()) == 0
    items = [{"owner": o, "task": "x", "due": None} for o in ("Priya", "Marco", "Lena", "Sam")]
    (ws / "action_items.json").write_text(json.dumps(items))
    (ws / "standup_summary.md").write_text("Release is Thursday.")
    assert set(ns["grade"]([], str(ws)).values()) == {1.0}


@pytest.mark.parametrize("grading,mode", [("automated", "code_only"), ("llm_judge", "rubric_only"), ("hybrid", "weighted")])
def test_pinchbench_grading_types(tmp_path, grading, mode):
    text = (SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md").read_text().replace("grading_type: hybrid",
                                                                                                 f"grading_type: {grading}")
    (tmp_path / "t.md").write_text(text)
    t = load_pinchbench(tmp_path / "t.md", assets_dir=SAMPLES / "pinchbench" / "assets")
    assert t.aggregation.mode == mode


# ---- load_tasks over broken folders -----------------------------------------------------------------------------------

def broken_folder(root: Path) -> Path:
    "A folder with good tasks of every format and one broken task of each kind."
    save_dir([make_task("good-native")], root)
    save_jsonl([make_task("good-jsonl")], root / "good.jsonl")
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", root / "task_0001")
    shutil.copytree(SAMPLES / "pinchbench" / "assets", root / "assets")
    shutil.copy(SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md", root)
    # bad JSON
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", root / "task_0002")
    (root / "task_0002" / "data_entry.json").write_text('{"task_id": "task_0002", "user_query": "x",')
    # missing field
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", root / "task_0003")
    e = json.loads((root / "task_0003" / "data_entry.json").read_text())
    e["task_id"] = "task_0003"
    del e["user_query"]
    (root / "task_0003" / "data_entry.json").write_text(json.dumps(e))
    # bad mode
    save_dir([make_task("bad-mode")], root)
    spec = json.loads((root / "bad-mode" / "task.json").read_text())
    spec["workspace"]["files"][1]["mode"] = "0999"
    (root / "bad-mode" / "task.json").write_text(json.dumps(spec))
    # missing asset
    (root / "task_08_missing_asset.md").write_text((root / "task_07_standup_actions.md").read_text()
                                           .replace("id: task_07_standup_actions", "id: task_08_missing")
                                           .replace("source: standup_transcript.txt", "source: nowhere.txt"))
    # duplicate id (the same ClawGym task under a second folder name)
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", root / "task_0001_copy")
    # a bad line in the JSONL file, after a good one
    with open(root / "good.jsonl", "a") as f: f.write('{"id": "no-instruction"}\n')
    return root


def test_load_tasks_reports_broken_and_loads_the_rest(tmp_path):
    ts = load_tasks(broken_folder(tmp_path))
    assert sorted(t.id for t in ts) == ["good-jsonl", "good-native", "task_0001", "task_07_standup_actions"]
    assert ts.formats == {"clawgym": 1, "jsonl": 1, "native": 1, "pinchbench": 1}
    errors = dict(ts.errors)
    assert len(errors) == 6
    by = {Path(s.split(":")[0]).parent.name if "task.json" in s or "data_entry" in s else Path(s.split(":")[0]).name: m for s,
          m in ts.errors}
    assert "not valid JSON" in by["task_0002"]
    assert "'user_query'" in by["task_0003"] and "task_0003" in by["task_0003"]
    assert "'0999'" in by["bad-mode"] and "workspace.files[1].mode" in by["bad-mode"] and "bad-mode" in by["bad-mode"]
    missing = by["task_08_missing_asset.md"]
    assert "nowhere.txt" in missing and "workspace_files[0].source" in missing and "task_08_missing" in missing
    dup = by["task_0001_copy"]
    assert "duplicate task id" in dup and "task_0001/data_entry.json" in dup  # names the first source; the key names the second
    assert "instruction" in by["good.jsonl"] and str(tmp_path / "good.jsonl:2") in errors
    for src, why in ts.errors:  # each place is said once: in the source, never again in the reason
        assert src.split(":")[0] not in why, (src, why)


def test_bad_json_is_located_by_file_line_and_column(tmp_path, capsys):
    from clawgym.cli import main
    good = json.loads((SAMPLES / "tasks.jsonl").read_text().splitlines()[0])
    (tmp_path / "t.jsonl").write_text(json.dumps(good) + '\n{"id": "x",, }\n\n[1]\n')
    (tmp_path / "d" / "t").mkdir(parents=True)
    (tmp_path / "d" / "t" / "task.json").write_text('{"id": "x",\n "instruction": 5,}\n')
    ts = load_tasks(tmp_path)
    assert sorted(ts.errors) == sorted([(f"{tmp_path}/t.jsonl:2:12", "not valid JSON (Expecting property name enclosed in double quotes)"),
                                        (f"{tmp_path}/t.jsonl:4", "expected a JSON object, got array"),
                                        (f"{tmp_path}/d/t/task.json:2:19",
                                         "not valid JSON (Expecting property name enclosed in double quotes)")])
    assert main(["run", "--tasks", str(tmp_path / "t.jsonl"), "--policy", "noop", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert skipped == [f"skipped: {tmp_path}/t.jsonl:2:12: not valid JSON (Expecting property name enclosed in double quotes)",
                       f"skipped: {tmp_path}/t.jsonl:4: expected a JSON object, got array"], err


def test_load_tasks_strict_raises_with_file_task_and_field(tmp_path):
    root = broken_folder(tmp_path)
    with pytest.raises(TaskFormatError) as e:
        load_tasks(root, strict=True)
    err = e.value
    assert err.source and err.field and str(err.source) in str(err)
    single = tmp_path / "bad-mode"
    with pytest.raises(TaskFormatError, match=r"bad-mode/task.json: task 'bad-mode': field 'workspace.files\[1\].mode'"):
        load_tasks(single, strict=True)


def test_load_tasks_single_paths_and_errors(tmp_path):
    assert load_tasks(SAMPLES / "clawgym" / "task_0001").formats == {"clawgym": 1}
    assert load_tasks(SAMPLES / "clawgym").formats == {"clawgym": 1}
    assert load_tasks(SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md").formats == {"pinchbench": 1}
    assert load_tasks(SAMPLES / "pinchbench").formats == {"pinchbench": 1}
    with pytest.raises(FileNotFoundError):
        load_tasks(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TaskFormatError, match="no tasks found"):
        load_tasks(tmp_path / "empty")


def test_stats(tmp_path):
    ts = load_tasks(broken_folder(tmp_path))
    st = task_stats(ts)
    assert st["tasks"] == 4 and st["errors"] == 6
    assert st["formats"] == {"clawgym": 1, "jsonl": 1, "native": 1, "pinchbench": 1}
    assert st["grading_types"] == {"code": 3, "hybrid": 1}
    assert st["files"] == sum(len(t.workspace.files) for t in ts)
    assert st["bytes"] == sum(len(f.data()) for t in ts for f in t.workspace.files)
    table = format_stats_table(st)
    assert "format: pinchbench" in table and "grading type: hybrid" in table


def test_exported_file_unchanged_uses_export_time_hashes(tmp_path):
    t = Task("keep", "Do not touch input/sales.csv.",
             workspace=WorkspaceSpec([FileSpec.from_bytes("input/sales.csv", AWKWARD["input/sales.csv"][0])]),
             checks=[Check("file_unchanged", {"path": "input/sales.csv"})])
    save_clawgym([t], tmp_path / "cg")
    ws = materialize(t, tmp_path / "ws")
    assert run_reward(tmp_path / "cg" / "task_keep", ws)[:2] == (0, "1.0")
    (ws / "input" / "sales.csv").write_bytes(b"region,amount\nnorth,120\nsouth,80\n")  # CRLF -> LF is a change
    assert run_reward(tmp_path / "cg" / "task_keep", ws)[:2] == (0, "0.0")


def test_pinchbench_repository_layout(tmp_path):
    "tasks/ with assets/ beside it (the published layout), from the root or tasks/; a missing asset is named with its task."
    repo = tmp_path / "skill"
    shutil.copytree(SAMPLES / "pinchbench", repo)
    (repo / "SKILL.md").write_text("---\nname: pinchbench\ndescription: a skill, not a task\n---\n# PinchBench\n")
    standup = (repo / "tasks" / "task_07_standup_actions.md").read_text()
    (repo / "tasks" / "TASK_TEMPLATE.md").write_text(standup.replace("task_07_standup_actions", "task_XX_name"))
    broken = (repo / "tasks" / "task_20_pdf.md")
    broken.write_text((repo / "tasks" / "task_07_standup_actions.md").read_text()
                      .replace("id: task_07_standup_actions", "id: task_20_pdf").replace("standup_transcript.txt", "GPT4.pdf"))
    for where in (repo, repo / "tasks"):
        ts = load_tasks(where)
        assert [t.id for t in ts] == ["task_07_standup_actions"]
        assert len(ts.errors) == 1 and ts.errors[0][0] == str(broken)
        assert "task task_20_pdf: its asset 'GPT4.pdf' is missing" in ts.errors[0][1]
    t = ts.tasks[0]
    assert not t.workspace.openclaw and sorted(f.path for f in t.workspace.files) == ["meetings/standup_2024-06-11.txt", "team.md"]
    # tasks/assets/ stays a fallback, and a manifest lists the files in its own order
    shutil.move(repo / "assets", repo / "tasks" / "assets")
    (repo / "tasks" / "manifest.yaml").write_text("tasks:\n  - task_07_standup_actions\n")
    ts = load_tasks(repo / "tasks")
    assert [t.id for t in ts] == ["task_07_standup_actions"] and not ts.errors


@pytest.mark.parametrize("weights,expected", [(None, (0.5, 0.5)), ("  automated: 0.4\n  llm_judge: 0.6", (0.4, 0.6)),
                                              ("  automated: 0.7", (0.7, 0.5))])
def test_pinchbench_hybrid_weights(tmp_path, weights, expected):
    text = (SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md").read_text()
    if weights: text = text.replace("grading_type: hybrid", "grading_type: hybrid\ngrading_weights:\n" + weights)
    (tmp_path / "task_x.md").write_text(text)
    t = load_pinchbench(tmp_path / "task_x.md", assets_dir=SAMPLES / "pinchbench" / "assets")
    assert (t.aggregation.mode, t.aggregation.code_weight, t.aggregation.rubric_weight) == ("weighted", *expected)


@pytest.mark.parametrize("root", ["input_files", "reward"])
def test_clawgym_linked_root_is_refused(tmp_path, root):
    "A task folder whose input_files/ or reward/ is itself a link to a host folder does not load, and says which."
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.txt").write_text("host data")
    d = tmp_path / "tasks" / "task_0001"
    shutil.copytree(SAMPLES / "clawgym" / "task_0001", d)
    shutil.rmtree(d / root)
    (d / root).symlink_to(host)
    ts = load_tasks(tmp_path / "tasks")
    assert not ts.tasks and len(ts.errors) == 1 and f"{root}/ is a symbolic link" in ts.errors[0][1]


def test_native_linked_workspace_is_refused(tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.txt").write_text("host data")
    save_dir([make_task("n1")], tmp_path / "tasks")
    ws = tmp_path / "tasks" / "n1" / "workspace"
    shutil.rmtree(ws)
    ws.symlink_to(host)
    with pytest.raises(TaskFormatError, match="workspace/ is a symbolic link"):
        load_dir(tmp_path / "tasks" / "n1")


@pytest.mark.parametrize("what", ["file", "folder"])
def test_pinchbench_linked_asset_is_refused(tmp_path, what):
    host = tmp_path / "host"
    host.mkdir()
    (host / "standup_transcript.txt").write_text("host data")
    repo = tmp_path / "repo"
    (repo / "tasks").mkdir(parents=True)
    shutil.copy(SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md", repo / "tasks")
    if what == "file":
        (repo / "assets").mkdir()
        (repo / "assets" / "standup_transcript.txt").symlink_to(host / "standup_transcript.txt")
    else: (repo / "assets").symlink_to(host)
    ts = load_tasks(repo)
    assert not ts.tasks and "is reached through the symbolic link" in ts.errors[0][1]


@pytest.mark.parametrize("front", ["a: &x [*x]\n", "a: &x [1, 2]\nb: [*x, *x, *x]\n"])
def test_pinchbench_yaml_aliases_are_refused(tmp_path, front):
    text = (SAMPLES / "pinchbench" / "tasks" / "task_07_standup_actions.md").read_text().replace("---\n", "---\n" + front, 1)
    (tmp_path / "task_x.md").write_text(text)
    ts = load_tasks(tmp_path / "task_x.md")
    assert not ts.tasks and "YAML alias" in ts.errors[0][1]


@pytest.mark.parametrize("field,value,why", [("id", "t1\n", "task id"), ("weight", float("nan"), "finite number"),
                                              ("path", "out/a\nb.txt", "control characters")])
def test_bad_values_do_not_load(field, value, why):
    d = {"id": "t1", "instruction": "x", "checks": [{"kind": "file_exists", "params": {"path": "a"}}],
         "workspace": {"files": [{"path": "in.txt", "text": "x"}]}}
    if field == "id": d["id"] = value
    elif field == "weight": d["checks"][0]["weight"] = value
    else: d["workspace"]["files"][0]["path"] = value
    with pytest.raises(TaskFormatError, match=why):
        Task.from_dict(d)


@pytest.mark.parametrize("writer", ["dir", "clawgym"])
def test_an_interrupted_save_does_not_load_as_a_shorter_set(tmp_path, writer):
    "A save killed half way (here: a task that cannot be written, after one that was) leaves its marker; loading refuses."
    save = {"dir": save_dir, "clawgym": save_clawgym}[writer]
    good = make_task("a1")
    bad = Task.from_dict({**good.to_dict(), "id": "a2", "checks": [], "rubric": [{"name": "r", "file_path": "", "criteria": "c",
                          "levels": ["a", "b", "c", "d", "e"]}], "aggregation": {"mode": "rubric_only"}})
    if writer == "dir":
        class Boom(Exception): pass
        def tasks():
            yield good
            raise Boom("killed")
        with pytest.raises(Boom): save(tasks(), tmp_path / "out")
    else:
        with pytest.raises(TaskFormatError): save([good, bad], tmp_path / "out")  # a rubric-only task has no ClawGym form
    ts = load_tasks(tmp_path / "out")
    assert not ts.tasks and "half-written by an interrupted save" in ts.errors[0][1]
    save([good], tmp_path / "out")  # writing it again completes it
    assert [t.id for t in load_tasks(tmp_path / "out")] == ["a1"]


def test_jsonl_writes_are_atomic(tmp_path):
    from clawgym.core import write_jsonl
    f = tmp_path / "pool.jsonl"
    save_jsonl([make_task("a1"), make_task("a2")], f)
    def records():
        yield make_task("b1").to_dict()
        raise KeyboardInterrupt  # killed mid-write
    with pytest.raises(KeyboardInterrupt): write_jsonl(f, records())
    assert [t.id for t in load_jsonl(f)] == ["a1", "a2"] and [p.name for p in tmp_path.iterdir()] == ["pool.jsonl"]
