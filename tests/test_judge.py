"""The rubric judge through a real HTTP endpoint (a fixture server on 127.0.0.1) and through the embedded local model."""
from pathlib import Path

import pytest

from clawgym.policies.chat import ChatClient, FixtureServer
from clawgym.core import Aggregation, Check, FileSpec, RubricRule, Task, WorkspaceSpec
from clawgym.grade.verify import Judge, chat_completer, verify
from clawgym.env.workspace import materialize

RULE = RubricRule("concise", "out/summary.md",
                  ["missing or empty", "long prose", "some padding", "short, one slip", "one short bullet per point"],
                  criteria="The person wants one short bullet per point.")
TASK = Task("judge-1", "Summarize notes.md into out/summary.md as short bullets.",
            WorkspaceSpec(files=[FileSpec("notes.md", text="We shipped v2. Ana books the room. Budget is 300 EUR.\n")]),
            checks=[Check("file_exists", {"path": "out/summary.md"})], rubric=[RULE], aggregation=Aggregation(mode="weighted"))


@pytest.fixture
def ws(tmp_path):
    w = materialize(TASK, tmp_path / "ws")
    (w / "out").mkdir()
    (w / "out/summary.md").write_text("- v2 shipped\n- Ana books the room\n- budget 300 EUR\n")
    return w


def judge_with(script, **kw):
    fx = FixtureServer(script)
    client = ChatClient(fx.url, "judge-model", api_key="test", timeout=kw.pop("timeout", 5), max_retries=kw.pop("max_retries", 0))
    return fx, Judge(chat_completer(client), **kw)


def test_well_formed_answer(ws):
    fx, judge = judge_with([{"content": '{"level": 1, "reason": "three short bullets"}'}])
    with fx:
        s = verify(TASK, ws, judge=judge)
    assert (s.status, s.value, s.code, s.rubric) == ("scored", 1.0, 1.0, 1.0)
    prompt = fx.requests[0]["messages"][-1]["content"]
    assert "Ana books the room" in prompt and "one short bullet per point" in prompt and "strict" not in s.reasons["concise"]


def test_malformed_then_good_is_retried(ws):
    fx, judge = judge_with([{"content": "Looks fine to me!"}, {"content": '```json\n{"level": 0.5, "reason": "padding"}\n```'}])
    with fx:
        s = verify(TASK, ws, judge=judge)
    assert s.rubric_scores == {"concise": 0.5} and len(fx.requests) == 2
    assert "not usable" in fx.requests[1]["messages"][-1]["content"]
    assert s.value == pytest.approx(0.7 * 1.0 + 0.3 * 0.5)


def test_malformed_always_is_an_error(ws):
    fx, judge = judge_with([{"content": '{"level": "great"}'}] * 3, retries=2)
    with fx:
        s = verify(TASK, ws, judge=judge)
    assert s.status == "error" and s.value is None and "judge failed" in s.error


def test_slow_judge_is_an_error_not_a_score(ws):
    fx, judge = judge_with([{"sleep": 3, "content": '{"level": 1, "reason": "late"}'}], timeout=0.5)
    with fx:
        s = verify(TASK, ws, judge=judge)
    assert s.status == "error" and "judge call failed" in s.error


def test_samples_report_their_spread(ws):
    fx, judge = judge_with([{"content": '{"level": 0.5, "reason": "a"}'}, {"content": '{"level": 1, "reason": "b"}'}], samples=2)
    with fx:
        s = verify(TASK, ws, judge=judge)
    assert s.rubric_scores == {"concise": 0.75} and s.judge["concise"]["spread"] == 0.5 and "spread 0.5" in s.reasons["concise"]


def test_missing_file_scores_zero_without_a_call(tmp_path):
    fx, judge = judge_with([])
    with fx:
        s = verify(TASK, materialize(TASK, tmp_path / "empty"), judge=judge)
    assert s.rubric_scores == {"concise": 0.0} and fx.requests == []


def test_embedded_local_model_end_to_end(ws):
    "SmolLM2 (the embedded model) judges one rule: the call happens and the outcome is a score or an error, never a crash."
    llm = pytest.importorskip("clawgym.policies.llm")
    policy = llm.HFPolicy("smollm2", max_new_tokens=40)
    from clawgym.policies.base import Request
    judge = Judge(lambda messages: policy.generate([Request(TASK, messages, [])])[0].content or "", retries=0)
    s = verify(TASK, ws, judge=judge)
    assert s.status in ("scored", "error")
    assert s.judge["concise"]["answers"], "the local model was called"
    if s.status == "scored": assert s.rubric_scores["concise"] in (0, 0.25, 0.5, 0.75, 1)
