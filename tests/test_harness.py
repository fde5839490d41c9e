"""The harness profiles: `compact` stays as it was; `openclaw` gives OpenClaw's prompt (sections, bootstrap injection, caps),
its seed files (never MEMORY.md), its tool schemas, and background `exec` with `process` on a sandbox that kills what is left.
"""
import json
import os
import time
from pathlib import Path

import pytest

from clawgym.env.harness import SYSTEM_PROMPT

from clawgym.run.episode import Episode, run_episode
from clawgym.core import MOUNT, Check, FileSpec, Task, TaskMeta, ToolCall, WorkspaceSpec
from clawgym.env.harness import (FILE_CAP, IDENTITY, PROMPT_ORDER, TOTAL_CAP, bootstrap_files, check_harness,
                             openclaw_system_prompt)
from clawgym.run.rollout import export_sft, run_tasks
from clawgym.env.sandbox import MAX_JOBS, Limits, Sandbox, bwrap_status
from clawgym.env.tools import OPENCLAW_TOOLS, PROFILES, TOOLS, ToolRunner, tool_schemas
from clawgym.env.workspace import BOOTSTRAP_MD, SEED_FILES, seed_bootstrap, workspace_files

from test_security import host_procs

BWRAP_OK, BWRAP_WHY = bwrap_status()
BACKENDS = [pytest.param("bwrap", marks=pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap unusable: {BWRAP_WHY}")), "subprocess"]
pytestmark = pytest.mark.filterwarnings("ignore:clawgym sandbox. the 'subprocess' backend does NOT isolate")
SEVEN = ["AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"]


def foreign_task(tid="ext-1", fmt="clawgym"):
    return Task(tid, "Write the row count of input/a.csv to out/n.txt.",
                WorkspaceSpec(files=[FileSpec("input/a.csv", text="x\n1\n2\n")], outputs=["out/n.txt"], openclaw=False),
                checks=[Check("text_equals", {"path": "out/n.txt", "expected": "2"})],
                reference=[ToolCall("exec", {"command": "mkdir -p out && printf 2 > out/n.txt"})],
                meta=TaskMeta(source_format=fmt))


def native_task():
    return Task("nat-1", "Write 'hi' to out/hi.txt.", WorkspaceSpec(outputs=["out/hi.txt"]),
                checks=[Check("text_equals", {"path": "out/hi.txt", "expected": "hi"})],
                reference=[ToolCall("write", {"path": "out/hi.txt", "content": "hi"})], meta=TaskMeta(persona="Ana, a nurse."))


# ---- naming and the compact default -------------------------------------------------------------------------------------------

def test_harness_names_are_checked():
    assert check_harness("compact") == "compact"
    for bad in ["full", "OpenClaw", "", None]:
        with pytest.raises(ValueError, match="unknown harness"): check_harness(bad)
    with pytest.raises(ValueError, match="unknown harness 'opencla'"): Episode(native_task(), "noop", harness="opencla")


def test_compact_is_unchanged():
    ep = Episode(native_task(), "noop")
    try:
        assert ep.harness == "compact" and ep.messages[0] == {"role": "system", "content": SYSTEM_PROMPT.format(mount=MOUNT)}
        assert ep.schemas == tool_schemas("full") and ep.tools.profile == "full"
        assert [p.name for p in ep.workspace.iterdir()] and not (ep.workspace / "SOUL.md").exists()  # no seeding
    finally: ep.finish()
    fe = Episode(foreign_task(), "noop", profile="coding")
    try:
        assert sorted(p.name for p in fe.workspace.iterdir()) == ["input"]  # a foreign task is not seeded under compact
        assert [s["function"]["name"] for s in fe.schemas] == PROFILES["coding"]
        assert TOOLS["exec"]["function"]["parameters"]["properties"].keys() == {"command", "workdir", "timeout"}
        assert fe.tools.call("process", {"action": "list"}).content.startswith("error: unknown tool 'process'")
    finally: fe.finish()


# ---- seeding ------------------------------------------------------------------------------------------------------------------

def test_seed_never_writes_memory_md(tmp_path):
    assert seed_bootstrap(tmp_path) == SEVEN and not (tmp_path / "MEMORY.md").exists()
    assert (tmp_path / "BOOTSTRAP.md").read_text() == BOOTSTRAP_MD and (tmp_path / "SOUL.md").read_text() == SEED_FILES["SOUL.md"]
    assert seed_bootstrap(tmp_path) == []
    for marker in ["MEMORY.md", "memory", "skills"]:  # any of these means the workspace is not brand-new: no BOOTSTRAP.md
        ws = tmp_path / f"has-{marker}"
        (ws / marker).mkdir(parents=True) if marker != "MEMORY.md" else (ws.mkdir(), (ws / marker).write_text("m\n"))
        assert seed_bootstrap(ws) == SEVEN[:-1]
    assert (tmp_path / "has-MEMORY.md" / "MEMORY.md").read_text() == "m\n"


@pytest.mark.parametrize("fmt", ["clawgym", "pinchbench"])
def test_openclaw_episode_seeds_foreign_workspace(fmt):
    ep = Episode(foreign_task(fmt=fmt), "noop", harness="openclaw")
    try:
        assert sorted(p.name for p in ep.workspace.iterdir()) == sorted(SEVEN + ["input"])
        assert not (ep.workspace / "MEMORY.md").exists() and f"{MOUNT}/MEMORY.md" not in ep.messages[0]["content"]
    finally: tr = ep.finish()
    assert tr.diff["added"] == [] and tr.provenance["harness"] == "openclaw"


def test_openclaw_episode_seeds_only_what_a_native_workspace_lacks():
    task = native_task()
    own = {p: b for p, (b, _) in workspace_files(task).items()}
    ep = Episode(task, "noop", harness="openclaw")
    try:
        for rel, data in own.items(): assert (ep.workspace / rel).read_bytes() == data  # the task's files are untouched
        added = sorted(p.name for p in ep.workspace.iterdir() if p.name not in own)
        assert added == ["HEARTBEAT.md", "IDENTITY.md", "SOUL.md", "TOOLS.md"]  # not brand-new: no BOOTSTRAP.md
        assert "Ana, a nurse." in ep.messages[0]["content"] and f"## {MOUNT}/MEMORY.md" in ep.messages[0]["content"]
    finally: ep.finish()


# ---- the prompt ---------------------------------------------------------------------------------------------------------------

SECTIONS = ["## Tooling", "## Tool Call Style", "## Safety", "## Skills (mandatory)", "## Memory Recall", "## Workspace\n",
            "## Current Date & Time", "## Workspace Files (injected)", "# Project Context"]
TAIL = ["## Silent Replies", "# Dynamic Project Context", f"## {MOUNT}/HEARTBEAT.md", "## Heartbeats", "## Runtime"]


def test_prompt_sections_and_order(tmp_path):
    seed_bootstrap(tmp_path)
    (tmp_path / "skills" / "pdf").mkdir(parents=True)
    (tmp_path / "skills" / "pdf" / "SKILL.md").write_text("---\nname: pdf\ndescription: Read & fill PDF forms.\n---\n# PDF\n")
    p = openclaw_system_prompt(tmp_path, tool_schemas("openclaw"), model="qwen", timezone="Europe/Paris")
    heads = SECTIONS + [f"## {MOUNT}/{n}" for n in PROMPT_ORDER[:6]] + TAIL
    at = [p.index("\n" + h) for h in heads]
    assert p.startswith(IDENTITY + "\n\n## Tooling\n") and at == sorted(at)
    assert "Time zone: Europe/Paris" in p and f"Your working directory is: {MOUNT}" in p
    assert "<name>pdf</name>\n    <description>Read &amp; fill PDF forms.</description>" in p
    assert f"<location>{MOUNT}/skills/pdf/SKILL.md</location>" in p
    tooling = p.split("## Tooling\n")[1].split("\n\n")[0]
    assert [l.split(":")[0][2:] for l in tooling.split("\n") if l.startswith("- ")] == list(OPENCLAW_TOOLS)
    recall = p.split("## Memory Recall\n")[1].split("\n\n")[0]
    assert "memory_get" in recall and "memory_search" not in recall  # ClawGym denied memory_search
    assert p.rstrip().endswith("| model=qwen | default_model=qwen | shell=bash | thinking=off\nReasoning: off (hidden; /reasoning turns it "
                               "on).")


def test_prompt_leaves_out_what_is_not_there(tmp_path):
    p = openclaw_system_prompt(tmp_path, tool_schemas("minimal"))
    for absent in ["## Skills (mandatory)", "## Memory Recall", "- exec", "yieldMs", "SOUL.md describes who you are"]:
        assert absent not in p, absent
    missing = [l for l in p.split("\n") if l.startswith("[MISSING]")]
    assert missing == [f"[MISSING] Expected at: {MOUNT}/{n}" for n in PROMPT_ORDER[:6]] + [f"[MISSING] Expected at: {MOUNT}/HEARTBEAT.md"]
    assert "MEMORY.md" not in p.split("# Project Context")[1]
    assert "## Memory Recall" in openclaw_system_prompt(tmp_path, tool_schemas("full"))


def test_injection_caps(tmp_path):
    big = "".join(chr(65 + i % 26) for i in range(50_000))
    (tmp_path / "AGENTS.md").write_text(big + "\n\n  \n")
    (tmp_path / "MEMORY.md").write_text("remember\n")
    fs = {f.name: f for f in bootstrap_files(tmp_path)}
    a = fs["AGENTS.md"].content
    head, tail = int(FILE_CAP * 0.7), int(FILE_CAP * 0.2)
    assert a.startswith(big[:head] + "\n[... AGENTS.md is cut here: 18,000 of its 50,000 characters") and a.endswith("\n" + big[-tail:])
    assert fs["MEMORY.md"].content == "remember" and not fs["MEMORY.md"].missing
    for n in ["SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"]:
        assert fs[n].missing and fs[n].content == f"[MISSING] Expected at: {MOUNT}/{n}"
    for n in ["SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"]:
        (tmp_path / n).write_text(big)
    fs = bootstrap_files(tmp_path)
    assert sum(len(f.content) for f in fs) <= TOTAL_CAP + 8 * 200  # the caps hold (each cut file adds one short note)
    assert [f.name for f in fs] == ["AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md",
                                    "MEMORY.md"]
    few = bootstrap_files(tmp_path, total_cap=45_000)
    assert [f.name for f in few] == ["AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md"]  # then the budget ran out
    assert len(few[2].content) < 9_000 and len(few[3].content) < 1_000 and sum(len(f.content) for f in few) <= 45_000 + 200


def test_bootstrap_file_links_out_are_missing(tmp_path):
    (tmp_path / "AGENTS.md").symlink_to("/etc/passwd")
    (tmp_path / "SOUL.md").mkdir()
    os.mkfifo(tmp_path / "USER.md")
    fs = {f.name: f for f in bootstrap_files(tmp_path)}
    assert fs["AGENTS.md"].missing and fs["SOUL.md"].missing and fs["USER.md"].missing
    assert "root:" not in openclaw_system_prompt(tmp_path, tool_schemas("openclaw"))


# ---- the openclaw tool set ----------------------------------------------------------------------------------------------------

def test_openclaw_tool_schemas():
    params = {s["function"]["name"]: s["function"]["parameters"] for s in tool_schemas("openclaw")}
    shape = {n: ({k: v["type"] for k, v in p["properties"].items()}, p["required"]) for n, p in params.items()}
    assert shape == {
        "read": ({"path": "string", "offset": "number", "limit": "number"}, ["path"]),
        "write": ({"path": "string", "content": "string"}, ["path", "content"]),
        "edit": ({"path": "string", "oldText": "string", "newText": "string"}, ["path", "oldText", "newText"]),
        "apply_patch": ({"input": "string"}, ["input"]),
        "exec": ({"command": "string", "workdir": "string", "env": "object", "yieldMs": "number", "background": "boolean",
                  "timeout": "number"}, ["command"]),
        "process": ({"action": "string", "sessionId": "string", "data": "string", "eof": "boolean", "offset": "number",
                     "limit": "number", "timeout": "number"}, ["action"]),
        "memory_get": ({"path": "string", "from": "number", "lines": "number"}, ["path"])}
    assert params["process"]["properties"]["action"]["enum"] == ["list", "poll", "log", "write", "kill", "clear", "remove"]
    for gone in ["web_search", "web_fetch", "memory_search", "sessions_spawn", "cron", "image"]: assert gone not in params
    json.dumps(tool_schemas("openclaw"))


def test_openclaw_argument_handling(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    tr = ToolRunner(tmp_path, profile="openclaw")
    assert tr.call("read", {"file_path": "a.txt", "offset": 2.0, "limit": 1}).content.startswith("two\n")
    assert tr.call("read", {"path": "a.txt",
                            "offset": 1.5}).content == "error: read: argument 'offset' counts lines and must be a whole number, got 1.5"
    assert tr.call("edit", {"path": "a.txt", "old_string": "two", "new_string": "2"}).is_error is False
    assert (tmp_path / "a.txt").read_text() == "one\n2\nthree\n"
    assert tr.call("exec", {"command": "ls"}).content == "error: exec is not available here: this ToolRunner was made without a sandbox"
    assert ToolRunner(tmp_path).call("read", {"file_path": "a.txt"}).is_error  # compact keeps refusing the aliases


# ---- background exec and process -----------------------------------------------------------------------------------------------

@pytest.fixture
def oc(tmp_path, request):
    sb = Sandbox(tmp_path, backend=request.param, limits=Limits(wall_s=20))
    yield ToolRunner(tmp_path, sandbox=sb, profile="openclaw", exec_timeout=20)
    sb.close()


def started(o) -> str:
    assert not o.is_error and o.content.startswith("Command still running in the background (session "), o.content
    return o.content.split("(session ")[1].split(",")[0]


@pytest.mark.parametrize("oc", BACKENDS, indirect=True)
def test_exec_yields_to_the_background(oc):
    o = oc.call("exec", {"command": "echo quick; echo err >&2", "yieldMs": 5000})
    assert (o.content, o.is_error, oc.sessions) == ("quick\nerr\n[exit code 0]", False, {})
    assert oc.call("exec", {"command": "false"}).is_error
    assert oc.call("exec", {"command": "echo $GREETING", "env": {"GREETING": "bonjour"}}).content == "bonjour\n[exit code 0]"
    assert oc.call("exec", {"command": "true", "env": {"A=B": "x"}}).content.startswith("error: exec: env must map variable names")
    sid = started(oc.call("exec", {"command": "sleep 0.5; echo late", "yieldMs": 50}))
    o = oc.call("process", {"action": "poll", "sessionId": sid, "timeout": 10_000})
    assert o.content == "late\n[exit code 0]" and not o.is_error
    assert oc.call("process", {"action": "poll", "sessionId": sid}).content == "(no new output)\n[exit code 0]"
    sid = started(oc.call("exec", {"command": "sleep 30", "background": True, "timeout": 0.5}))
    assert oc.call("process", {"action": "poll", "sessionId": sid, "timeout": 10_000}).content.endswith("; wall time 0.5s exceeded]")


@pytest.mark.parametrize("oc", BACKENDS, indirect=True)
def test_process_poll_log_write_kill(oc):
    sid = started(oc.call("exec", {"command": "for i in 1 2 3 4 5; do echo line$i; done; cat", "background": True}))
    time.sleep(0.5)
    assert oc.call("process", {"action": "poll", "sessionId": sid}).content.startswith("line1\nline2\nline3\nline4\nline5\n[running for ")
    assert oc.call("process", {"action": "log", "sessionId": sid, "offset": 1, "limit": 2}).content.split("\n")[:3] == \
        ["[lines 2-3 of 5]", "line2", "line3"]
    assert oc.call("process", {"action": "log", "sessionId": sid, "limit": 1}).content.split("\n")[:2] == ["[lines 5-5 of 5]", "line5"]
    assert oc.call("process", {"action": "write", "sessionId": sid, "data": "echoed\n"}).content == f"wrote 7 bytes to session {sid}"
    time.sleep(0.3)
    assert oc.call("process", {"action": "poll", "sessionId": sid}).content.startswith("echoed\n[running")
    assert oc.call("process", {"action": "write", "sessionId": sid, "data": "", "eof": True}).content.endswith("and closed its input")
    assert oc.call("process", {"action": "poll", "sessionId": sid, "timeout": 5000}).content == "(no new output)\n[exit code 0]"
    k = started(oc.call("exec", {"command": "sleep 60", "background": True}))
    listing = oc.call("process", {"action": "list"}).content.split("\n")
    assert listing[0] == "2 background sessions:" and listing[1].startswith(f"{sid}  pid ") and "[exit code 0]" in listing[1]
    assert listing[2].startswith(f"{k}  pid ") and "[running for " in listing[2] and listing[2].endswith("sleep 60")
    assert oc.call("process", {"action": "clear", "sessionId": k}).is_error
    assert oc.call("process", {"action": "kill", "sessionId": k}).content == f"killed session {k}\n[exit code 137; killed on request]"
    assert oc.call("process", {"action": "clear", "sessionId": k}).content == f"cleared session {k}"
    r = started(oc.call("exec", {"command": "sleep 60", "background": True}))
    assert oc.call("process", {"action": "remove", "sessionId": r}).content == f"removed session {r}"
    assert list(oc.sessions) == [sid]


@pytest.mark.parametrize("oc", BACKENDS, indirect=True)
def test_process_mistakes_are_error_observations(oc):
    sid = started(oc.call("exec", {"command": "exit 4", "background": True}))
    oc.sessions[sid].wait(5)
    cases = [({"action": "poll", "sessionId": "ghost"}, f"error: process poll: no session 'ghost'; sessions: {sid}"),
             ({"action": "log"}, f"error: process log needs a sessionId; sessions: {sid}"),
             ({"action": "write", "sessionId": sid, "data": "x"}, f"error: process write: session {sid} has ended [exit code 4]"),
             ({"action": "kill", "sessionId": sid}, f"error: process kill: session {sid} has already ended [exit code 4]"),
             ({"action": "dance", "sessionId": sid},
              "error: process: argument 'action' must be one of list, poll, log, write, kill, clear, remove, got \"dance\"; "
              "expected process(action: string, sessionId?: string, data?: string, eof?: boolean, offset?: number, limit?: number, "
              "timeout?: number)"),
             ({"sessionId": sid}, "error: process: missing required argument 'action'; expected process(action: string, sessionId?: "
                                  "string, data?: string, eof?: boolean, offset?: number, limit?: number, timeout?: number)"),
             ({"action": "poll", "sessionId": sid, "timeout": "soon"}, None), ("not json", None), ([1], None)]
    for args, want in cases:
        o = oc.call("process", args)
        assert o.is_error and o.content.startswith("error: "), (args, o)
        if want: assert o.content == want
    assert oc.call("process", {"action": "list"}).content.startswith("1 background session:")
    assert oc.call("exec", {"command": "  "}).content == "error: exec: command is empty"
    assert oc.call("exec", {"command": "ls", "workdir": "../.."}).is_error


@pytest.mark.parametrize("backend", BACKENDS)
def test_background_processes_die_with_the_sandbox(tmp_path, backend):
    sb = Sandbox(tmp_path, backend=backend, limits=Limits(wall_s=60))
    tr = ToolRunner(tmp_path, sandbox=sb, profile="openclaw")
    for i in range(3): started(tr.call("exec", {"command": f"sleep 313.{i} & sleep 313.{i}; wait", "background": True}))
    started(tr.call("exec", {"command": "setsid sleep 313.9 & sleep 313.8", "background": True}))
    time.sleep(0.5)
    assert len(host_procs("sleep 313.")) >= 4
    sb.close()
    assert host_procs("sleep 313.") == []
    assert all(not j.running and j.killed == "the sandbox closed" for j in tr.sessions.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_finished_command_leaves_background_jobs_alone(tmp_path, backend):
    with Sandbox(tmp_path, backend=backend, limits=Limits(wall_s=30)) as sb:
        job = sb.start("sleep 30")
        assert sb.run("echo done").stdout == "done\n"  # its cleanup kills its own leftovers only
        time.sleep(0.2)
        assert job.running
    assert not job.running


def test_background_jobs_are_capped(tmp_path):
    with Sandbox(tmp_path, backend="subprocess", limits=Limits(wall_s=30)) as sb:
        jobs = [sb.start("sleep 30") for _ in range(MAX_JOBS)]
        r = sb.start("true")
        assert r.error.startswith(f"{MAX_JOBS} background commands are running") and r.observation().startswith("error: ")
        jobs[0].kill()
        jobs[0].wait(5)
        assert sb.start("true").wait(5)


def test_background_output_is_capped(tmp_path):
    with Sandbox(tmp_path, backend="subprocess", limits=Limits(wall_s=30, output_bytes=1000)) as sb:
        tr = ToolRunner(tmp_path, sandbox=sb, profile="openclaw")
        o = tr.call("exec", {"command": "seq 1 100000"})
        assert o.content.startswith("1\n2\n") and "bytes cut here" in o.content and o.content.endswith("100000\n[exit code 0]")
        assert len(o.content) < 1500


# ---- whole episodes and runs ----------------------------------------------------------------------------------------------------

def test_oracle_under_openclaw(tmp_path):
    t = run_episode(foreign_task(), "oracle", harness="openclaw")
    assert (t.score.status, t.score.value, t.provenance["harness"]) == ("scored", 1.0, "openclaw")
    assert t.messages[0]["content"].startswith(IDENTITY) and f"## {MOUNT}/BOOTSTRAP.md" in t.messages[0]["content"]
    assert t.diff["added"] == ["out/n.txt"]


def test_run_tasks_records_the_harness(tmp_path):
    summary = run_tasks([native_task()], "oracle", tmp_path / "run", workers=0, progress=False, harness="openclaw")
    assert summary["mean_score"] == 1.0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["harness"] == "openclaw"
    rec = json.loads((tmp_path / "run" / "trajectories.jsonl").read_text().splitlines()[0])
    assert rec["provenance"]["harness"] == "openclaw"
    # the run recorded its tool profile, so the SFT export writes OpenClaw's schemas without being told
    assert json.loads((tmp_path / "run" / "run.json").read_text())["tools"] == "openclaw"
    r = export_sft(tmp_path / "run", tmp_path / "sft.jsonl")
    line = json.loads((tmp_path / "sft.jsonl").read_text().splitlines()[0])
    assert r["written"] == 1 and [t["function"] for t in line["tools"]] == [OPENCLAW_TOOLS[n]["function"] for n in PROFILES["openclaw"]]
    with pytest.raises(ValueError, match="unknown harness"):
        run_tasks([native_task()], "oracle", tmp_path / "bad", workers=0, progress=False, harness="claw")
    assert not (tmp_path / "bad" / "run.json").exists()
