"""End to end through a real OpenAI-compatible server: the embedded SmolLM2 GGUF behind llama.cpp (llama-cpp-python), on
127.0.0.1. What a 135M model says is mostly wrong; these tests check that every stage behaves on real, messy output: native
tool calls reach the sandbox, the judge answers or errors cleanly, the LLM synthesis route rejects with reasons."""
import json
from pathlib import Path

import pytest

from clawgym.cli import main
from clawgym.run.rollout import load_run
from clawgym.grade.verify import Judge, chat_completer, verify
from clawgym.policies.chat import ChatClient
from clawgym.tasks.formats import load_tasks

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples" / "tasks.jsonl"


@pytest.fixture(scope="module")
def two_tasks(tmp_path_factory):
    "Two sample tasks, one graded by checks only and one with a rubric, as a JSONL file."
    tasks = {t.id: t for t in load_tasks(SAMPLES).tasks}
    out = tmp_path_factory.mktemp("tasks") / "two.jsonl"
    from clawgym.tasks.formats import save_jsonl
    save_jsonl([tasks["config-port-001"], tasks["standup-actions-001"]], out)
    return out


def test_server_lists_the_embedded_model(llama_server):
    import urllib.request
    with urllib.request.urlopen(f"{llama_server.base_url}/models", timeout=10) as r: data = json.loads(r.read())
    assert [m["id"] for m in data["data"]] == ["smollm2"]


def test_run_cli_with_native_tool_calls(llama_server, two_tasks, tmp_path):
    "`clawgym run --policy openai:smollm2@URL`: the model's tool calls come back native and run in the sandbox; both episodes are scored."
    out = tmp_path / "run"
    rc = main(["--chat-max-tokens", "160", "run", "--tasks", str(two_tasks), "--policy", llama_server.spec, "--out", str(out),
               "--max-turns", "3", "--workers", "0"])
    assert rc == 0
    trajs = load_run(out)
    assert len(trajs) == 2
    assert all(t.score.status == "scored" and 0 <= t.score.value <= 1 for t in trajs), [t.score for t in trajs]
    calls = [tc for t in trajs for m in t.messages if m["role"] == "assistant" for tc in m.get("tool_calls") or []]
    assert calls, "the model made no native tool call in either episode"
    assert all(json.loads(tc["function"]["arguments"]) is not None for tc in calls)
    tool_msgs = [m for t in trajs for m in t.messages if m["role"] == "tool"]
    assert tool_msgs and all(m["content"] for m in tool_msgs), "every tool call got an observation back"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 2 and summary["errors"] == 0


def test_rubric_judge_through_the_server(llama_server, tmp_path):
    "The rubric Judge asks the served model; the outcome is a rubric score or a clean error, with the model's answers kept."
    task = next(t for t in load_tasks(SAMPLES).tasks if t.rubric)
    from clawgym.env.workspace import materialize
    from clawgym.synth.gates import replay_reference
    ws = materialize(task, tmp_path / "ws")
    replay_reference(task, ws)
    judge = Judge(chat_completer(ChatClient(llama_server.base_url, llama_server.alias), max_tokens=120), retries=1)
    s = verify(task, ws, judge=judge)
    assert s.status in ("scored", "error"), s
    rule = task.rubric[0].name
    assert s.judge[rule]["answers"], "the served model was asked"
    if s.status == "scored": assert s.rubric_scores[rule] in (0, 0.25, 0.5, 0.75, 1)
    else: assert "judge" in (s.error or "").lower() or "rubric" in (s.error or "").lower(), s.error


def test_llm_synthesis_route_on_real_output(llama_server, tmp_path):
    "`clawgym synth --route llm` against the served model: the stages run, and whatever is rejected is counted by reason."
    out = tmp_path / "llm.jsonl"
    rc = main(["--chat-max-tokens", "384", "synth", "--route", "llm", "--llm", llama_server.spec, "--n", "2", "--seed", "1",
               "--workers", "1", "--dedup", "off", "--out", str(out)])
    rep = json.loads(out.with_suffix(".report.json").read_text())
    print(json.dumps(rep, indent=1)[:1500])
    kept = len(out.read_text().splitlines()) if out.exists() else 0
    assert kept == rep["kept"] and rc == (0 if kept >= 2 else 1)
    assert kept + sum(rep["rejected"].values()) == 2, rep["rejected"]  # each attempt is kept or rejected with a reason
    assert all(isinstance(v, int) and v > 0 for v in rep["rejected"].values())
