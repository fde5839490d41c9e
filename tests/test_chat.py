"ChatClient against the fixture server: every failure mode, streaming, Retry-After, key hygiene and 8 threads sharing one client."
import email.utils
import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from clawgym.policies.chat import (ChatAuthError, ChatBadResponse, ChatClient, ChatError, ChatHTTPError, ChatTimeout, FixtureServer,
                          MAX_RETRY_WAIT, _retry_after, assemble_chunks, parse_spec)
from clawgym.core import ToolCall

HI = [{"role": "user", "content": "hi"}]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_normal_answer_and_request_shape():
    with FixtureServer([{"content": "fine, thanks"}]) as srv:
        r = ChatClient(srv.url + "/", "m1", extra_headers={"X-Org": "lab"}).chat(
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": "how are you"}],
            temperature=0.7, top_p=0.9, max_tokens=50, seed=11, response_format={"type": "json_object"})
    assert (r.content, r.finish_reason, r.tokens_in, r.tokens_out) == ("fine, thanks", "stop", 5, 2)
    req = srv.requests[0]
    assert req["model"] == "m1" and req["temperature"] == 0.7 and req["top_p"] == 0.9
    assert req["max_tokens"] == 50 and req["seed"] == 11 and req["response_format"] == {"type": "json_object"}
    assert "stream" not in req and "tools" not in req
    assert srv.headers[0]["X-Org"] == "lab"
    assert r.raw["usage"]["total_tokens"] == 7


def test_base_url_may_include_the_endpoint_path():
    with FixtureServer([{"content": "x"}]) as srv:
        c = ChatClient(srv.url + "/chat/completions", "m")
        assert c.url == srv.url + "/chat/completions" and c.chat(HI).content == "x"


@pytest.mark.parametrize("kw, msg", [({"base_url": ""}, "base_url"), ({"base_url": "127.0.0.1:8000/v1"}, "http(s) URL"),
                                      ({"model": " "}, "model"), ({"timeout": 0}, "timeout > 0"), ({"max_retries": -1}, "max_retries")])
def test_bad_construction(kw, msg):
    args = {"base_url": "http://127.0.0.1:1/v1", "model": "m", **kw}
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")): ChatClient(**args)


@pytest.mark.parametrize("messages", [[], "hi", [{"content": "no role"}], [{"role": "robot", "content": "x"}]])
def test_bad_messages_fail_before_any_request(messages):
    with FixtureServer([]) as srv:
        with pytest.raises(ValueError, match="messages"): ChatClient(srv.url, "m").chat(messages)
    assert srv.served == 0


def test_tool_calls_and_malformed_arguments():
    script = [{"tool_calls": [{"id": "a", "name": "read", "arguments": {"path": "x.md"}},
                              {"id": "b", "name": "edit", "arguments": '{"path": "x.md", "oldText": "a" "newText": "b"}'},
                              {"id": "c", "name": "exec", "arguments": "42"},
                              {"id": "d", "name": "exec", "arguments": ""}]}]
    with FixtureServer(script) as srv:
        r = ChatClient(srv.url, "m").chat(HI, tools=[{"type": "function", "function": {"name": "read"}}])
    assert r.tool_calls == [ToolCall("read", {"path": "x.md"}, "a"), ToolCall("exec", {}, "d")]  # empty arguments mean {}
    assert len(r.tool_call_errors) == 2
    assert "(b)" in r.tool_call_errors[0] and "'edit'" in r.tool_call_errors[0] and "not valid JSON" in r.tool_call_errors[0]
    assert "(c)" in r.tool_call_errors[1] and "JSON object" in r.tool_call_errors[1]
    assert r.message()["tool_calls"][1]["id"] == "d"


def test_429_with_retry_after_then_success(caplog):
    with FixtureServer([{"status": 429, "headers": {"Retry-After": "0.3"}}, {"status": 503}, {"content": "ok"}]) as srv:
        t0 = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="clawgym.policies.chat"):
            r = ChatClient(srv.url, "m", backoff=0.01).chat(HI)
        took = time.monotonic() - t0
    assert r.content == "ok" and srv.served == 3
    assert 0.3 <= took < 2
    assert r.latency_s >= 0.3  # latency covers the retries the caller waited through
    assert [("HTTP 429" in m, "HTTP 503" in m) for m in caplog.messages] == [(True, False), (False, True)]


def test_retry_after_forms():
    assert _retry_after("2") == 2.0 and _retry_after("0") == 0.0 and _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < _retry_after(later) <= 30
    c = ChatClient("http://127.0.0.1:1/v1", "m")
    assert c._wait(0, 3600.0) == MAX_RETRY_WAIT  # a server cannot stall a run for an hour


def test_backoff_grows_and_jitter_is_seeded():
    a, b = ChatClient("http://127.0.0.1:1/v1", "m", backoff=1), ChatClient("http://127.0.0.1:1/v1", "m", backoff=1)
    wa, wb = [a._wait(i, None) for i in range(4)], [b._wait(i, None) for i in range(4)]
    assert wa == wb
    for i, w in enumerate(wa): assert 2 ** i <= w <= 1.25 * 2 ** i


def test_500_until_retries_run_out():
    with FixtureServer([{"status": 500, "body": "upstream exploded"}] * 5) as srv:
        with pytest.raises(ChatHTTPError) as ei: ChatClient(srv.url, "m", max_retries=4, backoff=0.01).chat(HI)
    assert srv.served == 5 and ei.value.status == 500 and ei.value.body == "upstream exploded"
    assert "on all 5 attempts" in str(ei.value)


@pytest.mark.parametrize("status, cls", [(400, ChatHTTPError), (401, ChatAuthError), (403, ChatAuthError), (404, ChatHTTPError)])
def test_no_retry_on_client_errors(status, cls):
    with FixtureServer([{"status": status}] * 3) as srv:
        with pytest.raises(cls): ChatClient(srv.url, "m", backoff=0.01).chat(HI)
    assert srv.served == 1


def test_404_hints():
    with FixtureServer([{"status": 404, "body": "The model `big` does not exist."}, {"status": 404, "body": "Not Found"}]) as srv:
        c = ChatClient(srv.url, "big")
        with pytest.raises(ChatHTTPError, match="serves model 'big'"): c.chat(HI)
        with pytest.raises(ChatHTTPError, match="ends in /v1"): c.chat(HI)


def test_wrong_path_on_fixture_is_404():
    with FixtureServer([{"content": "x"}]) as srv:
        with pytest.raises(ChatHTTPError, match="ends in /v1"): ChatClient(srv.url.removesuffix("/v1"), "m").chat(HI)


def test_key_from_env_is_sent_but_never_shown(monkeypatch, caplog):
    monkeypatch.setenv("MY_LLM_KEY", "sk-very-secret")
    with FixtureServer([{"status": 503}, {"status": 401, "body": "bad key"}]) as srv:
        c = ChatClient(srv.url, "m", api_key_env="MY_LLM_KEY", backoff=0.01)
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(ChatAuthError) as ei: c.chat(HI)
    assert srv.headers[1]["Authorization"] == "Bearer sk-very-secret"
    text = str(ei.value) + repr(c) + caplog.text
    assert "sk-very-secret" not in text and "$MY_LLM_KEY" in str(ei.value) and "bad key" in str(ei.value)


def test_auth_error_without_key_says_which_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FixtureServer([{"status": 401}]) as srv:
        with pytest.raises(ChatAuthError, match=r"no API key was sent; set \$OPENAI_API_KEY"): ChatClient(srv.url, "m").chat(HI)
    assert "Authorization" not in srv.headers[0]


def test_timeout_each_attempt():
    with FixtureServer([{"sleep": 5, "content": "late"}] * 3) as srv:
        t0 = time.monotonic()
        with pytest.raises(ChatTimeout, match="no answer within 0.5s on any of 3 attempts"):
            ChatClient(srv.url, "m", timeout=0.5, max_retries=2, backoff=0.01).chat(HI)
        took = time.monotonic() - t0
    assert srv.served == 3 and 1.5 <= took < 3.5


def test_slow_but_in_time_is_fine():
    with FixtureServer([{"sleep": 0.2, "content": "made it"}]) as srv:
        assert ChatClient(srv.url, "m", timeout=2).chat(HI).content == "made it"


def test_connection_refused_and_dns_fail_fast():
    port = closed_port()
    t0 = time.monotonic()
    with pytest.raises(ChatError, match=f"cannot connect to http://127.0.0.1:{port}/v1/chat/completions: connection refused"):
        ChatClient(f"http://127.0.0.1:{port}/v1", "m").chat(HI)
    with pytest.raises(ChatError, match="does not resolve"):
        ChatClient("http://no-such-host.invalid/v1", "m").chat(HI)
    assert time.monotonic() - t0 < 10


def test_proxy_env_is_bypassed_for_loopback(monkeypatch):
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    with FixtureServer([{"content": "direct"}]) as srv:
        assert ChatClient(srv.url, "m").chat(HI).content == "direct"


@pytest.mark.parametrize("reply, msg", [({"raw": "<html>gateway</html>"}, "is not JSON"),
                                        ({"raw": '{"detail": "Not here"}', "content_type": "application/json"}, "no choices"),
                                        ({"raw": '{"choices": []}', "content_type": "application/json"}, "no choices"),
                                        ({"raw": '{"choices": [{"text": "completion api"}]}', "content_type": "application/json"},
                                         "no choices")])
def test_bad_bodies(reply, msg):
    with FixtureServer([reply, reply]) as srv:
        with pytest.raises(ChatBadResponse, match=msg) as ei: ChatClient(srv.url, "m", backoff=0.01).chat(HI)
    assert srv.served == 1
    assert reply["raw"][:20] in str(ei.value)  # the excerpt shows what came back


def test_dropped_and_truncated_connections_are_retried():
    with FixtureServer([{"drop": True}, {"cut": 10, "content": "abc"}, {"content": "third time"}]) as srv:
        assert ChatClient(srv.url, "m", backoff=0.01).chat(HI).content == "third time"
    assert srv.served == 3
    with FixtureServer([{"drop": True}] * 2) as srv:
        with pytest.raises(ChatError, match="connection failed on every one of 2 attempts"):
            ChatClient(srv.url, "m", max_retries=1, backoff=0.01).chat(HI)


def test_streaming_matches_plain():
    reply = {"content": "Some text, then a call.",
             "tool_calls": [{"id": "t1", "name": "write", "arguments": {"path": "o.txt", "content": "é ✓ " * 20}},
                                                                 {"id": "t2", "name": "exec", "arguments": '{"command": "ls -la"}'}]}
    with FixtureServer([reply, reply]) as srv:
        c = ChatClient(srv.url, "m")
        plain, streamed = c.chat(HI), c.chat(HI, stream=True)
    assert srv.requests[1]["stream"] is True and srv.requests[1]["stream_options"] == {"include_usage": True}
    for k in ("content", "tool_calls", "tool_call_errors", "finish_reason", "tokens_in", "tokens_out"):
        assert getattr(plain, k) == getattr(streamed, k), k
    assert streamed.raw["stream_chunks"] > 10


def test_streaming_malformed_arguments_and_junk_events():
    with FixtureServer([{"tool_calls": [{"name": "read", "arguments": '{"path": '}]}]) as srv:
        r = ChatClient(srv.url, "m").chat(HI, stream=True)
    assert r.tool_calls == [] and "'read'" in r.tool_call_errors[0]
    with FixtureServer([{"raw": "data: {not json}\n\n", "content_type": "text/event-stream"}]) as srv:
        with pytest.raises(ChatBadResponse, match="stream event is not JSON"): ChatClient(srv.url, "m").chat(HI, stream=True)


def test_streaming_cut_is_retried_then_reported():
    with FixtureServer([{"cut": 2, "content": "long long answer"}] * 2) as srv:
        with pytest.raises(ChatError, match="stream was cut off"):
            ChatClient(srv.url, "m", max_retries=1, backoff=0.01).chat(HI, stream=True)
    assert srv.served == 2


def test_streaming_timeout_between_events():
    with FixtureServer([{"sleep": 3, "content": "x"}]) as srv:
        with pytest.raises(ChatTimeout): ChatClient(srv.url, "m", timeout=0.3, max_retries=0).chat(HI, stream=True)


def test_stream_requested_but_server_answers_plain_json():
    with FixtureServer([{"raw": json.dumps({"choices": [{"message": {"content": "plain"}, "finish_reason": "stop"}]}),
                         "content_type": "application/json"}]) as srv:
        assert ChatClient(srv.url, "m").chat(HI, stream=True).content == "plain"


def test_assemble_chunks_interleaved_tool_calls():
    chunks = [{"choices": [{"index": 0,
                            "delta": {"tool_calls": [{"index": 1, "id": "y", "function": {"name": "b", "arguments": "{\"k\""}}]}}]},
              {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "x", "function": {"name": "a", "arguments": "{}"}}]}}]},
              {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": ": 1}"}}]},
                            "finish_reason": "tool_calls"}]},
              {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}]
    out = assemble_chunks(chunks)
    calls = out["choices"][0]["message"]["tool_calls"]
    assert [c["id"] for c in calls] == ["x", "y"] and calls[1]["function"]["arguments"] == '{"k": 1}'
    assert out["usage"] == {"prompt_tokens": 3, "completion_tokens": 4} and out["choices"][0]["finish_reason"] == "tool_calls"


def test_fixture_script_function_and_exhaustion():
    with FixtureServer(lambda req: {"content": req["messages"][-1]["content"].upper()}) as srv:
        assert ChatClient(srv.url, "m").chat([{"role": "user", "content": "echo"}]).content == "ECHO"
    with FixtureServer([]) as srv:
        with pytest.raises(ChatHTTPError, match="script exhausted"): ChatClient(srv.url, "m", max_retries=0).chat(HI)
    with pytest.raises(TypeError, match="dicts"): FixtureServer(["not a dict"])


def test_eight_threads_share_one_client():
    # the first try of every third request fails with 503; its retry must still get its own answer
    seen, lock = {}, threading.Lock()
    def script(req):
        n = int(req["messages"][-1]["content"])
        with lock:
            seen[n] = seen.get(n, 0) + 1
            first = seen[n] == 1
        return {"status": 503} if (n % 3 == 0 and first) else {"content": f"answer {n}", "sleep": 0.05}
    results, errors = {}, []
    with FixtureServer(script) as srv:
        c = ChatClient(srv.url, "m", backoff=0.01)
        def work(t):
            try:
                for i in range(t * 5, t * 5 + 5):
                    r = c.chat([{"role": "user", "content": str(i)}], stream=(i % 2 == 1))
                    results[i] = r.content
            except Exception as e: errors.append(e)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        t0 = time.monotonic()
        for t in threads: t.start()
        for t in threads: t.join(timeout=30)
        took = time.monotonic() - t0
    assert not errors, errors
    assert results == {i: f"answer {i}" for i in range(40)}
    assert srv.served == 40 + len([i for i in range(40) if i % 3 == 0])
    assert took < 40 * 0.05  # the threads really ran concurrently


@pytest.mark.parametrize("spec", ["", "openai:", "openai:m", "openai:m@", "openai:m@localhost:8000", "vllm:m@http://x/v1"])
def test_parse_spec_errors(spec):
    with pytest.raises(ValueError, match="openai:MODEL@BASE_URL"): parse_spec(spec)


def test_garbage_usage_counts_become_zero():
    from clawgym.policies.chat import parse_completion
    for bad in (-5, 10**30, 1.5, "12", True, None):
        r = parse_completion({"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": bad, "completion_tokens": 7}})
        assert (r.tokens_in, r.tokens_out) == (0, 7), bad


def test_chat_timeout_and_retries_from_the_cli(monkeypatch):
    "`clawgym --chat-timeout S --chat-retries N ...` reaches every ChatClient made later, in this process or a worker."
    from clawgym.policies.chat import ChatClient
    from clawgym import cli
    monkeypatch.delenv("CLAWGYM_CHAT_TIMEOUT", raising=False)
    monkeypatch.delenv("CLAWGYM_CHAT_RETRIES", raising=False)
    c = ChatClient("http://127.0.0.1:9/v1", "m")
    assert (c.timeout, c.max_retries) == (60, 4)
    samples = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "data_samples" / "tasks.jsonl")
    assert cli.main(["--chat-timeout", "7.5", "--chat-retries", "1", "tasks", "stats", samples]) == 0
    c = ChatClient("http://127.0.0.1:9/v1", "m")
    assert (c.timeout, c.max_retries) == (7.5, 1)
    monkeypatch.delenv("CLAWGYM_CHAT_TIMEOUT")
    monkeypatch.delenv("CLAWGYM_CHAT_RETRIES")


def test_max_tokens_ceiling_and_tool_choice(monkeypatch):
    "The client's cap (argument or $CLAWGYM_CHAT_MAX_TOKENS) bounds what each call asks; tools go with tool_choice 'auto'."
    tool = {"type": "function", "function": {"name": "read", "parameters": {"type": "object", "properties": {}}}}
    with FixtureServer(lambda req: {"content": "ok"}) as srv:
        ChatClient(srv.url, "m", max_tokens=50).chat(HI, max_tokens=500)
        ChatClient(srv.url, "m", max_tokens=50).chat(HI, max_tokens=20)
        monkeypatch.setenv("CLAWGYM_CHAT_MAX_TOKENS", "7")
        ChatClient(srv.url, "m").chat(HI, tools=[tool])
        monkeypatch.delenv("CLAWGYM_CHAT_MAX_TOKENS")
        ChatClient(srv.url, "m").chat(HI)
    got = [(r.get("max_tokens"), r.get("tool_choice")) for r in srv.requests]
    assert got == [(50, None), (20, None), (7, "auto"), (None, None)]
    with pytest.raises(ValueError, match="max_tokens must be >= 1"): ChatClient("http://127.0.0.1:1/v1", "m", max_tokens=0)
