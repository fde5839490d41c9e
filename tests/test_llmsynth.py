"The LLM route against a fixture server: retries, repairs, rejections by reason, determinism, workers, and the gates on what it keeps."
import json
from collections import Counter

import pytest

from clawgym.policies.chat import ChatAuthError, ChatClient, FixtureServer
from clawgym.core import CATEGORIES, FileSpec, Task, WorkspaceSpec
from clawgym.synth.gates import gate_task
from clawgym.synth.llm import JSON_RETRIES, REPAIR_ROUNDS, checker_problems, generate_llm_tasks, validate_intent

INTENT = {
    "instruction": "Count the ERROR lines per service in logs/app.log and write output/errors.json mapping each service to its count.",
    "files": {"logs/app.log": "2026-01-02 10:00 ERROR billing timeout\n2026-01-02 10:01 INFO auth ok\n2026-01-02 10:02 ERROR auth bad "
                              "token\n"
                              "2026-01-02 10:03 ERROR billing retry failed\n2026-01-02 10:04 WARN billing slow\n",
              "logs/old.log": "2025-12-31 23:59 ERROR legacy gone\n"},
    "outputs": ["output/errors.json"],
    "reference": {"output/errors.json": '{"billing": 2, "auth": 1}\n'}}
CHECKER = '''import json, os
def grade(transcript, workspace_path):
    try:
        with open(os.path.join(workspace_path, "output/errors.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return {"services": 0.0, "counts": 0.0}
    want = {"billing": 2, "auth": 1}
    return {"services": float(set(data) == set(want)), "counts": sum(data.get(k) == v for k, v in want.items()) / 2}
'''
LAZY = ("import os\ndef grade(transcript, workspace_path):\n"
        "    return {'log_there': float(os.path.exists(os.path.join(workspace_path, 'logs/app.log')))}\n")
RUBRIC = {"rubric": []}
OK = {"ok": True, "issues": []}


def stage(req) -> str:
    "Which stage a request belongs to, from the first line of its prompt."
    first = req["messages"][1]["content"].split("\n", 1)[0]
    return next(s for s in ("design one task", "checker", "rubric", "audit") if s in first)


def by_stage(intent=INTENT, checker=CHECKER, rubric=RUBRIC, audit=OK):
    "A script function answering each stage the same way (JSON-dumped unless already a string)."
    answers = {"design one task": intent, "checker": {"checker": checker} if isinstance(checker, str) else checker, "rubric": rubric,
               "audit": audit}
    return lambda req: {"content": a if isinstance(a := answers[stage(req)], str) else json.dumps(a)}


def run(script, n=1, **kw):
    with FixtureServer(script) as srv:
        tasks, rej = generate_llm_tasks(ChatClient(srv.url, "m", backoff=0.01, max_retries=1), n, seed=kw.pop("seed", 3), progress=False,
                                        **kw)
    return tasks, rej, srv


def test_happy_path_passes_the_gates():
    tasks, rej, srv = run(by_stage())
    assert rej == Counter() and len(tasks) == 1 and srv.served == 4
    t = tasks[0]
    assert t.checker == CHECKER and t.meta.grading_type == "code" and t.aggregation.mode == "code_only"
    assert [c.name for c in t.reference] == ["write"] and t.reference[0].arguments["path"] == "output/errors.json"
    assert t.meta.provenance["repair_rounds"] == 0 and t.meta.provenance["seed"] == srv.requests[0]["seed"]
    assert set(t.meta.skills) == set(t.workspace.skills) and t.meta.category in CATEGORIES
    assert Task.from_json(t.to_json()) == t
    g = gate_task(t)
    assert g.ok, g.reasons


def test_broken_json_retried_with_the_error_quoted():
    answers = iter(['{"instruction": "Count', "not json at all", json.dumps(INTENT)])
    def script(req):
        return {"content": next(answers)} if stage(req) == "design one task" else by_stage()(req)
    tasks, rej, srv = run(script)
    assert len(tasks) == 1 and tasks[0].meta.provenance["stages"]["intent"]["calls"] == 3
    retry = srv.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"instruction": "Count'} and "Unterminated string" in retry[-1]["content"]


def test_bad_json_rejected_after_bounded_retries():
    tasks, rej, srv = run(by_stage(intent="I would rather chat about the weather."))
    assert (tasks, rej) == ([], Counter({"bad_json": 1})) and srv.served == JSON_RETRIES + 1


def test_invalid_intent_is_explained_then_rejected():
    bad = {**INTENT, "instruction": "Count the errors please."}  # names no output path
    tasks, rej, srv = run(by_stage(intent=bad))
    assert rej == Counter({"invalid_intent": 1}) and "does not mention ['output/errors.json']" in srv.requests[1]["messages"][-1]["content"]


def test_repair_loop_fixes_a_lazy_checker():
    checkers = iter([LAZY, "def grade(transcript, workspace_path)\n    return {}", CHECKER])
    def script(req):
        return {"content": json.dumps({"checker": next(checkers)})} if stage(req) == "checker" else by_stage()(req)
    tasks, rej, srv = run(script)
    assert len(tasks) == 1 and tasks[0].meta.provenance["repair_rounds"] == 2
    conv = [r["messages"] for r in srv.requests if stage(r) == "checker"]
    assert "did nothing" in conv[1][-1]["content"] and '{"log_there": 1.0}' in conv[1][-1]["content"]
    assert "does not compile" in conv[2][-1]["content"]
    assert len(conv[2]) == 6  # system, prompt, then (answer, repair) twice: one conversation


def test_checker_failed_after_repair_rounds():
    tasks, rej, srv = run(by_stage(checker=LAZY))
    assert rej == Counter({"checker_failed": 1}) and srv.served == 1 + REPAIR_ROUNDS + 1


@pytest.mark.parametrize("source, msg",
                         [("import numpy as np\ndef grade(transcript, workspace_path):\n    return {'a': 0.0}",
                           "not in the Python standard library"),
                                         ("def grade(transcript, workspace_path):\n    return {'a': 1.0}", "On the input files alone"),
                                         ("def grade(transcript, workspace_path):\n    return {'a': 0.0}", "On the correct outputs"),
                                         ("def grade(transcript, workspace_path):\n    while True: pass", "timeout")])
def test_each_kind_of_bad_checker_is_reported(source, msg):
    intent = validate_intent(INTENT)
    task = Task("probe", intent.instruction,
                WorkspaceSpec(files=[FileSpec(p, text=c) for p, c in intent.files.items()], outputs=intent.outputs),
                checker=source)
    problem = checker_problems(task, intent, timeout=1.0)
    assert problem and msg in problem, problem
    assert checker_problems(Task("probe", intent.instruction, task.workspace, checker=CHECKER), intent) is None


def test_repair_may_correct_the_reference():
    wrong = {**INTENT, "reference": {"output/errors.json": '{"billing": 3, "auth": 1}\n'}}
    replies = iter([{"checker": CHECKER}, {"checker": CHECKER, "reference": INTENT["reference"]}])
    def script(req):
        return {"content": json.dumps(next(replies))} if stage(req) == "checker" else by_stage(intent=wrong)(req)
    tasks, rej, srv = run(script)
    assert len(tasks) == 1 and tasks[0].reference[0].arguments["content"] == INTENT["reference"]["output/errors.json"]
    assert "On the correct outputs" in srv.requests[2]["messages"][-1]["content"]


def test_rubric_invalid_then_fixed_makes_a_hybrid_task():
    good = {"rubric": [{"name": "clear_reply", "file_path": "", "levels": ["none", "vague", "partial", "clear", "clear and complete"]}]}
    replies = iter([{"rubric": [{"name": "x", "file_path": "", "levels": ["a", "a", "b", "c", "d"]}]}, good])
    def script(req):
        return {"content": json.dumps(next(replies))} if stage(req) == "rubric" else by_stage()(req)
    tasks, rej, srv = run(script)
    assert len(tasks) == 1 and tasks[0].meta.grading_type == "hybrid" and tasks[0].aggregation.mode == "weighted"
    assert "distinct" in [r for r in srv.requests if stage(r) == "rubric"][1]["messages"][-1]["content"]
    tasks, rej, _ = run(by_stage(rubric={"rubric": "none"}))
    assert rej == Counter({"invalid_rubric": 1})


def test_verbatim_leak_rejected_without_further_calls():
    leaky = {**INTENT, "files": {**INTENT["files"], "notes/last_week.json": INTENT["reference"]["output/errors.json"]}}
    tasks, rej, srv = run(by_stage(intent=leaky))
    assert rej == Counter({"leak": 1}) and srv.served == 1


@pytest.mark.parametrize("audit, reason",
                         [({"ok": False, "issues": [{"type": "factual", "detail": "billing has 3 errors"}]}, "audit_failed"),
                                           ({"ok": False, "issues": ["the instruction leaks the counts"]}, "leak"),
                                           ({"ok": "maybe"}, "bad_json")])
def test_audit_rejections(audit, reason):
    tasks, rej, _ = run(by_stage(audit=audit))
    assert (tasks, rej) == ([], Counter({reason: 1}))


def test_endpoint_failure_is_a_rejection_but_auth_stops_the_run():
    tasks, rej, _ = run(lambda req: {"status": 503})
    assert rej == Counter({"chat_error": 1})
    with pytest.raises(ChatAuthError): run(lambda req: {"status": 401})


def test_same_seed_same_requests_and_tasks_any_worker_count():
    a, _, sa = run(by_stage(), n=4, seed=11)
    b, _, sb = run(by_stage(), n=4, seed=11, workers=3)
    assert [t.to_json() for t in a] == [t.to_json() for t in b]
    key = lambda reqs: sorted(json.dumps(r, sort_keys=True) for r in reqs)
    assert key(sa.requests) == key(sb.requests)
    c, _, _ = run(by_stage(), n=4, seed=12)
    assert [t.meta.persona for t in a] != [t.meta.persona for t in c]
    assert [t.id for t in a] == [f"llm-11-{i:05d}" for i in range(4)]


def test_categories_are_cycled_and_checked():
    tasks, _, _ = run(by_stage(), n=4, categories=["software", "planning"])
    assert [t.meta.category for t in tasks] == ["software", "planning", "software", "planning"]
    with pytest.raises(ValueError, match="unknown categories"): generate_llm_tasks(ChatClient("http://127.0.0.1:1/v1", "m"), 1, 0,
                                                                                   categories=["cooking"])


def test_spec_string_and_json_mode_off():
    with FixtureServer(by_stage()) as srv:
        tasks, _ = generate_llm_tasks(f"openai:spec-model@{srv.url}", 1, 0, progress=False, json_mode=False)
    assert tasks[0].meta.provenance["model"] == "spec-model" and "response_format" not in srv.requests[0]


def test_the_llm_route_runs_from_the_command_line(tmp_path):
    "`clawgym synth --route llm` as the README shows it: the stages, then the gates, then the report beside the tasks."
    from clawgym.cli import main
    out = tmp_path / "llm.jsonl"
    with FixtureServer(by_stage()) as srv:
        code = main(["synth", "--route", "llm", "--llm", f"openai:m@{srv.url}", "--n", "2", "--workers", "0", "--dedup", "off", "--out",
                     str(out)])
    assert code == 1, code  # fewer tasks than asked for: the fixture answers the same task twice, and the gates drop the copy
    assert len(out.read_text().splitlines()) == 1
    rep = json.loads((tmp_path / "llm.report.json").read_text())
    assert (rep["generated"], rep["kept"], rep["rejected"]) == (2, 1, {"duplicate": 1}), rep
    assert main(["synth", "--route", "llm", "--n", "1", "--out", str(tmp_path / "x.jsonl")]) == 2  # no --llm: a clear error
