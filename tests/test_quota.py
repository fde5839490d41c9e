"""Workspace quotas: what one episode may put in its (in-memory) workspace, and how large a generated file may be."""
import pytest

from clawgym.run.episode import Budget, run_episode
from clawgym.core import Check, FileSpec, Task, TaskFormatError, TaskMeta, WorkspaceSpec
from clawgym.env.sandbox import Limits, Sandbox, bwrap_status, workspace_bytes
from clawgym.tasks.formats import load_jsonl
from clawgym.env.tools import ToolRunner

BACKENDS = ["subprocess"] + (["bwrap"] if bwrap_status()[0] else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_past_the_quota_is_killed(tmp_path, backend):
    with Sandbox(tmp_path, backend=backend, limits=Limits(workspace_mb=8, wall_s=30)) as sb:
        r = sb.run("for i in $(seq 1 100); do head -c 1048576 /dev/zero > f$i; done; echo finished")
        assert "finished" not in r.stdout and r.killed.startswith("workspace quota of 8 MiB exceeded"), r
        assert workspace_bytes(tmp_path) < 64 << 20  # stopped within a few checks of the line, not after 100 MiB
        assert sb.run("rm -f f*; echo ok").stdout == "ok\n"  # room is made the ordinary way


def test_a_write_past_the_quota_is_refused(tmp_path):
    with Sandbox(tmp_path, backend="subprocess", limits=Limits(workspace_mb=1)) as sb:
        tools = ToolRunner(tmp_path, sb)
        assert not tools.call("write", {"path": "a.txt", "content": "x" * 600_000}).is_error
        obs = tools.call("write", {"path": "b.txt", "content": "y" * 600_000})
        assert obs.is_error and "past its quota of 1 MiB" in obs.content
        assert not tools.call("write", {"path": "a.txt", "content": "z" * 900_000}).is_error  # replacing a file frees its bytes


def test_episode_budget_sets_the_quota(tmp_path):
    t = Task("q", "Fill the disk.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]), checks=[Check("file_exists", {"path": "f1"})])
    calls = tmp_path / "calls.json"
    calls.write_text('[{"name": "exec", "arguments": {"command": "for i in 1 2 3 4 5 6; do head -c 1048576 /dev/zero > f$i; done"}}]')
    tr = run_episode(t, f"replay:{calls}", budget=Budget(workspace_mb=2))
    tool = next(m for m in tr.messages if m["role"] == "tool")
    assert "workspace quota of 2 MiB exceeded" in tool["content"]


def test_a_task_can_tighten_the_quota_but_not_loosen_it(tmp_path):
    calls = tmp_path / "calls.json"
    calls.write_text('[{"name": "exec", "arguments": {"command": "for i in 1 2 3 4 5 6; do head -c 1048576 /dev/zero > f$i; done"}}]')
    def first_tool(meta, budget):
        t = Task("q", "Fill the disk.", WorkspaceSpec(files=[FileSpec("in.txt", text="x")]), checks=[Check("file_exists", {"path": "f1"})],
                 meta=TaskMeta(**meta))
        return next(m for m in run_episode(t, f"replay:{calls}", budget=budget).messages if m["role"] == "tool")["content"]
    assert "workspace quota of 3 MiB exceeded" in first_tool({"workspace_mb": 3}, Budget(workspace_mb=64))
    assert "workspace quota of 2 MiB exceeded" in first_tool({"workspace_mb": 4096}, Budget(workspace_mb=2))
    assert "quota" not in first_tool({}, Budget(workspace_mb=64))
    for bad in (-1, 1.5, True, "1024"):
        with pytest.raises(TaskFormatError, match="workspace_mb"): TaskMeta(workspace_mb=bad)


@pytest.mark.parametrize("params", [{"text": "0123456789", "times": 10**9}, {"size": 2**40}])
def test_generated_files_are_bounded_at_load(tmp_path, params):
    name = "repeat" if "times" in params else "random_bytes"
    line = ('{"id": "big", "instruction": "x", "checks": [{"kind": "file_exists", "params": {"path": "a"}}], '
            '"workspace": {"files": [{"path": "log.txt", "generator": {"name": "%s", "params": %s}}]}}\n' % (name,
                    __import__("json").dumps(params)))
    (tmp_path / "t.jsonl").write_text(line)  # 10 GB or 1 TB if generated: refused before anything is allocated
    with pytest.raises(TaskFormatError, match="the most is 268,435,456"):
        load_jsonl(tmp_path / "t.jsonl")


def test_edit_and_apply_patch_keep_the_quota(tmp_path):
    with Sandbox(tmp_path, backend="subprocess", limits=Limits(workspace_mb=1)) as sb:
        tools = ToolRunner(tmp_path, sb)
        assert not tools.call("write", {"path": "a.txt", "content": "x" * 700_000 + "\nEND\n"}).is_error
        obs = tools.call("edit", {"path": "a.txt", "oldText": "END", "newText": "y" * 400_000})
        assert obs.is_error and "past its quota of 1 MiB" in obs.content
        assert (tmp_path / "a.txt").read_text().endswith("END\n")  # the refused edit changed nothing
        patch = "*** Begin Patch\n*** Add File: b.txt\n+small\n*** Add File: c.txt\n+" + "z" * 400_000 + "\n*** End Patch"
        obs = tools.call("apply_patch", {"input": patch})
        assert obs.is_error and "nothing was changed" in obs.content and "quota" in obs.content
        assert not (tmp_path / "b.txt").exists()  # refused as a whole: not even the small file is written
        patch = "*** Begin Patch\n*** Delete File: a.txt\n*** Add File: c.txt\n+" + "z" * 900_000 + "\n*** End Patch"
        assert not tools.call("apply_patch", {"input": patch}).is_error  # a deletion in the same patch makes room
