"Model policies: tool-call parsing, the OpenAI-compatible policy against a fixture server, batched local generation."
import json
import time

import pytest

from clawgym.env.harness import SYSTEM_PROMPT
from clawgym.policies.base import make_policy
from clawgym.policies.base import Request
from clawgym.policies.chat import ChatHTTPError, FixtureServer
from clawgym.core import Check, Task, ToolCall
from clawgym.policies.llm import (CALL_CLOSE, _call_text, MIN_SHARED, SMOLLM2_DIR, _shared_prefix, HFPolicy, OpenAIPolicy, generate_ids,
                                  load_model, parse_tool_calls, render,
                         resolve_model, smollm2_path, tools_prompt)
from clawgym.env.tools import tool_schemas

TASK = Task("t-1", "Summarize input/notes.md into out/summary.md.", checks=[Check("file_exists", {"path": "out/summary.md"})])
SYSTEM = {"role": "system", "content": SYSTEM_PROMPT.format(mount="/w")}

def req(text, seed=0, tools=None, history=()):
    return Request(TASK, [SYSTEM, {"role": "user", "content": text}, *history], tool_schemas() if tools is None else tools, seed=seed)

# ---------------------------------------------------------------- parse_tool_calls

R, E = ToolCall("read", {"path": "a.txt"}), ToolCall("exec", {"command": "ls -la"})
CASES = {
    "one call": ('<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>', None, [R], 0),
    "several calls": ('<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>\n'
                      '<tool_call>{"name": "exec", "arguments": {"command": "ls -la"}}</tool_call>', None, [R, E], 0),
    "text before and after": ('I will read it.\n<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>\nThen summarize.',
                              "I will read it.\n\nThen summarize.", [R], 0),
    "no calls": ("The summary is written.", "The summary is written.", [], 0),
    "empty": ("", None, [], 0),
    "tags inside a fence": ('```\n<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>\n```', None, [R], 0),
    "fence inside tags": ('<tool_call>```json\n{"name": "read", "arguments": {"path": "a.txt"}}\n```</tool_call>', None, [R], 0),
    "fenced bare call": ('Next:\n```json\n{"name": "exec", "arguments": {"command": "ls -la"}}\n```', "Next:", [E], 0),
    "whole message is a call": ('{"name": "read", "arguments": {"path": "a.txt"}}', None, [R], 0),
    "fenced JSON that is not a call": ('```json\n{"name": "report", "rows": 3}\n```', '```json\n{"name": "report", "rows": 3}\n```', [], 0),
    "single quotes": ("<tool_call>{'name': 'read', 'arguments': {'path': 'a.txt'}}</tool_call>", None, [R], 0),
    "trailing commas": ('<tool_call>{"name": "read", "arguments": {"path": "a.txt",},}</tool_call>', None, [R], 0),
    "arguments as a JSON string": ('<tool_call>{"name": "read", "arguments": "{\\"path\\": \\"a.txt\\"}"}</tool_call>', None, [R], 0),
    "parameters key": ('<tool_call>{"name": "read", "parameters": {"path": "a.txt"}}</tool_call>', None, [R], 0),
    "broken JSON": ('<tool_call>{"name": "read", "arguments": {"path": "a.txt"}</tool_call>', None, [], 1),
    "broken and good": ('<tool_call>{"name": "read" "arguments": {}}</tool_call><tool_call>{"name": "exec", "arguments": {"command": "ls '
                        '-la"}}</tool_call>',
                        None, [E], 1),
    "truncated": ('Writing.\n<tool_call>{"name": "write", "arguments": {"path": "o.md", "content": "# Sum', "Writing.", [], 1),
    "no name": ('<tool_call>{"arguments": {"path": "a.txt"}}</tool_call>', None, [], 1),
    "arguments not an object": ('<tool_call>{"name": "exec", "arguments": "ls"}</tool_call>', None, [], 1),
    "unterminated single quote is not repaired": ("<tool_call>{'name': 'read', 'arguments': {'path': 'a.txt}}</tool_call>", None, [], 1),
}

@pytest.mark.parametrize("name", list(CASES))
def test_parse_tool_calls(name):
    text, content, calls, n_err = CASES[name]
    got = parse_tool_calls(text)
    assert (got[0], got[1], len(got[2])) == (content, calls, n_err), got

def test_parse_braces_and_tags_inside_strings():
    content = 'def f():\n    return {"a": [1, {"b": "}"}]}  # not a </tool call>\n'
    text = "<tool_call>" + json.dumps({"name": "write", "arguments": {"path": "f.py", "content": content}}) + "</tool_call>"
    assert parse_tool_calls(text)[1] == [ToolCall("write", {"path": "f.py", "content": content})]
    quoted = "<tool_call>{'name': 'write', 'arguments': {'path': 'q.txt', 'content': 'it\\'s \"x\", {y}',}}</tool_call>"
    assert parse_tool_calls(quoted)[1] == [ToolCall("write", {"path": "q.txt", "content": 'it\'s "x", {y}'})]

def test_body_form_round_trips_any_content():
    import random
    rng = random.Random(0)
    alphabet = ['"', "'", "\\", "{", "}", "[", "]", "\n", "\n\n", " ", "\t", "é", "✓", "a", "Z", "0", ":", ",", "<", ">", "/", "\r\n"]
    for _ in range(300):
        content = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        tc = {"name": "write", "arguments": {"path": "out/f.txt", "content": content}}
        text = _call_text(tc)
        assert parse_tool_calls(f"Saving.\n{text}") == ("Saving.", [ToolCall("write", tc["arguments"])], []), (content, text)
    # the closing tag itself cannot ride in a text-protocol call in either form: it stays in the JSON and reads back as an
    # error the model is shown, never as a shortened file
    text = _call_text({"name": "write", "arguments": {"path": "t.md", "content": "a </tool_call> b"}})
    _, calls, errs = parse_tool_calls(text)
    assert '"content"' in text and not calls and "not valid JSON" in errs[0], (text, errs)

def test_body_form_from_a_model():
    report = '{\n  "date": "2026-01-16",\n  "errors": {"db": 3, "api": 1}\n}\n'
    text = f'<tool_call>\n{{"name": "write", "arguments": {{"path": "out/error_report.json"}}}}  \n{report}</tool_call>'
    assert parse_tool_calls(text) == (None, [ToolCall("write", {"path": "out/error_report.json", "content": report})], [])
    _, calls, errs = parse_tool_calls('<tool_call>{"name": "write", "arguments": {"path": "a.txt"}} trailing words</tool_call>')
    assert not calls and "not valid JSON" in errs[0], errs  # text after the JSON must start on a new line
    _, calls, errs = parse_tool_calls('<tool_call>{"name": "write", "arguments": ["a.txt"]}\nhi</tool_call>')
    assert not calls and "must be a JSON object" in errs[0], errs

def test_parse_errors_say_what_to_do():
    _, _, errs = parse_tool_calls('<tool_call>{"name": "read", "arguments": {"path": }}</tool_call>')
    assert "not valid JSON" in errs[0] and '<tool_call>{"name": "TOOL"' in errs[0], errs
    _, _, errs = parse_tool_calls('<tool_call>{"name": "read"')
    assert "never closed" in errs[0], errs

# ---------------------------------------------------------------- OpenAIPolicy

def test_openai_policy_tool_calls_errors_and_settings():
    script = [{"content": "Reading.", "tool_calls": [{"id": "c1", "name": "read", "arguments": {"path": "a.txt"}}]},
              {"tool_calls": [{"id": "c2", "name": "write", "arguments": '{"path": "o.md", "content": "unterminated'},
                              {"id": "c3", "name": "exec", "arguments": '{"command": "ls -la"}'}]},
              {"content": "Done."}]
    with FixtureServer(script) as srv:
        pol = make_policy(f"openai:tiny-model@{srv.url}")
        assert isinstance(pol, OpenAIPolicy) and pol.batched
        replies = [pol.generate([req("go", seed=5)])[0] for _ in range(3)]
    assert replies[0].tool_calls == [ToolCall("read", {"path": "a.txt"}, "c1")] and replies[0].content == "Reading."
    assert replies[1].tool_calls == [ToolCall("exec", {"command": "ls -la"}, "c3")]
    assert len(replies[1].errors) == 1 and "'write'" in replies[1].errors[0]
    assert replies[2].message() == {"role": "assistant", "content": "Done."}
    assert all(r.tokens_in > 0 and r.tokens_out > 0 for r in replies)
    sent = srv.requests[0]
    assert (sent["model"], sent["temperature"], sent["top_p"], sent["seed"]) == ("tiny-model", 0.0, 1.0, 5)
    assert [t["function"]["name"] for t in sent["tools"]] == [t["function"]["name"] for t in tool_schemas()]
    assert pol.settings == {"temperature": 0.0, "top_p": 1.0, "max_tokens": None} and pol.model == "tiny-model"

def test_openai_policy_429_then_success_and_500():
    with FixtureServer([{"status": 429, "headers": {"Retry-After": "0"}}, {"content": "ok"}]) as srv:
        r = OpenAIPolicy(f"openai:m@{srv.url}", backoff=0.01).generate([req("hi")])[0]
    assert (r.content, srv.served) == ("ok", 2)
    with FixtureServer([{"status": 500}] * 2) as srv:
        with pytest.raises(ChatHTTPError, match="500"):
            OpenAIPolicy(f"openai:m@{srv.url}", max_retries=1, backoff=0.01).generate([req("hi")])

def test_openai_policy_batch_is_concurrent_and_ordered():
    def script(body):  # each request answered after 0.5 s with its own seed, so order and overlap are visible
        return {"sleep": 0.5, "content": f"seed {body['seed']}"}
    with FixtureServer(script) as srv:
        pol = OpenAIPolicy(f"openai:m@{srv.url}", temperature=0.8, top_p=0.9, max_tokens=32)
        t0 = time.monotonic()
        replies = pol.generate([req("hi", seed=s) for s in range(6)])
        took = time.monotonic() - t0
    assert [r.content for r in replies] == [f"seed {s}" for s in range(6)]
    assert took < 2.0, took  # six 0.5 s answers in flight together, not 3 s one after another
    assert {(b["temperature"], b["top_p"], b["max_tokens"]) for b in srv.requests} == {(0.8, 0.9, 32)}

# ---------------------------------------------------------------- HFPolicy: the embedded model, then tiny random models

@pytest.fixture(scope="module")
def smol(tmp_path_factory):
    "The embedded model converted into a fresh cache (the real conversion, once for this file)."
    mp = pytest.MonkeyPatch()
    mp.setenv("CLAWGYM_CACHE", str(tmp_path_factory.mktemp("cache")))
    t0 = time.monotonic()
    path = smollm2_path()
    yield path, time.monotonic() - t0
    mp.undo()

def test_smollm2_conversion_cache_and_generation(smol):
    path, took = smol
    assert path.name == SMOLLM2_DIR and (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    assert "quantization_config" not in json.loads((path / "config.json").read_text())
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
    t0 = time.monotonic()
    assert smollm2_path() == path and time.monotonic() - t0 < 1  # cached: no second conversion
    pol = make_policy("hf:smollm2")
    pol.max_new_tokens = pol.settings["max_new_tokens"] = 8
    assert (pol.name, pol.model, pol.batched) == ("hf:smollm2", str(path), True)
    r = pol.generate([req("Say hello.", tools=[])])[0]
    assert 0 < r.tokens_out <= 8 and r.tokens_in > 20 and (r.content or r.tool_calls or r.errors), r
    print(f"conversion {took:.1f}s; reply {r}")

@pytest.fixture(scope="module")
def tiny(smol):
    "A 2-layer Llama with random weights (seeded) and SmolLM2's tokenizer: deterministic, fast, nothing downloaded."
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    tok = AutoTokenizer.from_pretrained(smol[0])
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, pad_token_id=2,
                      initializer_range=0.5, tie_word_embeddings=False)
    return LlamaForCausalLM(cfg).eval(), tok

def test_batched_greedy_equals_one_at_a_time(tiny):
    lm, tok = tiny
    prompts = [tok(t)["input_ids"] for t in ["hi", "a much longer prompt, so that the others need a lot of left padding here",
                                             "medium length prompt", "x y z"]]
    alone = [generate_ids(lm, [p], 12, set(), 2)[0] for p in prompts]
    together = generate_ids(lm, prompts, 12, set(), 2)
    assert together == alone and all(len(o) == 12 for o in alone)
    assert len({tuple(o) for o in alone}) > 1  # the rows really differ

def test_shared_prefix_runs_once_and_changes_nothing(tiny):
    lm, tok = tiny
    head = tok("You are a careful assistant. Tools: read(path), write(path, content), exec(command). " * 2)["input_ids"]
    prompts = [head + tok(t)["input_ids"] for t in ["Summarize notes.md", "Count the rows of data.csv please", "Hi"]]
    assert _shared_prefix(prompts) >= len(head) >= MIN_SHARED
    assert _shared_prefix([head[:5] + [7], head[:5] + [8]]) == 0  # too short to be worth a pass of its own
    assert _shared_prefix([head + [7], head]) == len(head) - 1  # every row keeps a token of its own
    alone = [generate_ids(lm, [p], 12, set(), 2)[0] for p in prompts]
    assert generate_ids(lm, prompts, 12, set(), 2) == alone

def test_per_row_stop_conditions(tiny):
    lm, tok = tiny
    prompts = [tok(t)["input_ids"] for t in ["first row", "second, longer row of text", "third"]]
    full = [generate_ids(lm, [p], 16, set(), 2)[0] for p in prompts]
    eos = full[0][3]  # a token row 0 emits at step 4: an end-of-sequence for this test
    cut = [o[:o.index(eos) + 1] if eos in o else o for o in full]
    assert generate_ids(lm, prompts, 16, {eos}, 2) == cut
    assert len(cut[0]) <= 4
    stop_after = {tuple(full[1][:5])}  # a stop condition that only row 1 meets, after 5 tokens
    got = generate_ids(lm, prompts, 16, set(), 2, stop=lambda row: tuple(row[:5]) in stop_after and len(row) >= 5)
    assert got[1] == full[1][:5] and got[0] == full[0] and got[2] == full[2]

def test_sampling_seeded_per_row(tiny):
    lm, tok = tiny
    prompts = [tok(t)["input_ids"] for t in ["one", "two words", "three little words"]]
    kw = dict(temperature=1.0, top_p=0.9)
    alone = [generate_ids(lm, [p], 10, set(), 2, seeds=[s], **kw)[0] for p, s in zip(prompts, [7, 8, 9])]
    assert generate_ids(lm, prompts, 10, set(), 2, seeds=[7, 8, 9], **kw) == alone  # a row's draw ignores its batch mates
    assert generate_ids(lm, prompts[:1], 10, set(), 2, seeds=[7], **kw)[0] == alone[0]
    assert generate_ids(lm, prompts[:1], 10, set(), 2, seeds=[70], **kw)[0] != alone[0]
    greedy = generate_ids(lm, prompts[:1], 10, set(), 2)[0]
    assert generate_ids(lm, prompts[:1], 10, set(), 2, temperature=1.0, top_p=1e-6, seeds=[3])[0] == greedy  # top_p -> argmax

def test_hf_policy_batches_and_counts(tiny):
    lm, tok = tiny
    pol = HFPolicy("tiny-llama", max_new_tokens=10, lm=lm, tokenizer=tok, batch_size=2)
    history = [{"role": "assistant", "content": None, "tool_calls": [ToolCall("read", {"path": "input/notes.md"}, "c0").to_openai()]},
               {"role": "tool", "tool_call_id": "c0", "name": "read", "content": "line one\nline two"}]
    reqs = [req("short"), req("a longer instruction with more words in it", history=history), req("no tools here", tools=[])]
    together = pol.generate(reqs)  # two batches (batch_size=2), in length order
    alone = [pol.generate([r])[0] for r in reqs]
    assert together == alone
    assert [r.tokens_in for r in together] == [len(render(tok, r.messages, r.tools, 4096)) for r in reqs]
    assert all(0 < r.tokens_out <= 10 for r in together)
    assert together[2].tokens_in + 150 < together[0].tokens_in  # the tool list costs ~170 tokens
    assert pol.settings == {"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 10} and pol.model == "tiny-llama"
    assert pol._stop(tok('x <tool_call>{"name": "read", "arguments": {}}' + CALL_CLOSE)["input_ids"])
    assert not pol._stop(tok('x <tool_call>{"name": "read", "arguments": {}}')["input_ids"])

def test_text_protocol_prompt(tiny):
    _, tok = tiny
    history = [{"role": "assistant", "content": "Looking.", "tool_calls": [ToolCall("read", {"path": "a.txt"}, "c0").to_openai()]},
               {"role": "tool", "tool_call_id": "c0", "name": "read", "content": "alpha"},
               {"role": "tool", "tool_call_id": "invalid_0", "name": "invalid", "content": "error: tool call 1 is not valid JSON"}]
    text = tok.decode(render(tok, req("go", history=history).messages, tool_schemas(), 4096))
    assert tools_prompt(tool_schemas()) in text and text.count("<|im_start|>system") == 1
    assert 'Looking.\n<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>' in text
    assert "<|im_start|>user\n<tool_response>\nalpha\n</tool_response>\n<tool_response>\nerror: tool call 1" in text  # one user turn
    assert text.endswith("<|im_start|>assistant\n")

def test_history_cut_from_the_middle(tiny):
    _, tok = tiny
    history = []
    for i in range(30):
        history += [{"role": "assistant", "content": None, "tool_calls": [ToolCall("read", {"path": f"f{i}.txt"}, f"c{i}").to_openai()]},
                    {"role": "tool", "tool_call_id": f"c{i}", "name": "read", "content": f"content of file {i} " * 8}]
    r = req("Summarize everything.", history=history)
    full = render(tok, r.messages, r.tools, 100_000)
    cut = render(tok, r.messages, r.tools, 600)
    assert len(full) > 600 >= len(cut)
    text = tok.decode(cut)
    assert "Summarize everything." in text and "Tools:" in text and "content of file 29" in text and "f0.txt" not in text
    assert "earlier turns left out" in text
    tiny_budget = render(tok, r.messages, r.tools, 64)  # not even system + instruction fit: a token-level cut, start and end kept
    assert len(tiny_budget) == 64 and tiny_budget[:32] == full[:32] and tiny_budget[-32:] == full[-32:]

def test_native_tool_template(tiny):
    _, tok = tiny
    native = tok.__class__.from_pretrained(tok.name_or_path)
    native.chat_template = (
        "{% if tools %}<|im_start|>system\n{{ messages[0].content }}\n# Tools\n{% for t in tools %}{{ t.function.name }}: "
        "{{ t.function.parameters | tojson }}\n{% endfor %}<|im_end|>\n{% endif %}"
        "{% for m in messages %}{% if not (tools and loop.first) %}<|im_start|>{{ m.role }}\n{{ m.content }}"
        "{% for tc in m.tool_calls or [] %}<tool_call>{\"name\": \"{{ tc.function.name }}\", \"arguments\": {{ tc.function.arguments | "
        "tojson }}}</tool_call>{% endfor %}"
        "<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    history = [{"role": "assistant", "content": "", "tool_calls": [ToolCall("read", {"path": "a.txt"}, "c0").to_openai()]},
               {"role": "tool", "tool_call_id": "c0", "name": "read", "content": "alpha"}]
    text = native.decode(render(native, req("go", history=history).messages, tool_schemas(), 4096))
    assert "# Tools\nread: {" in text and "Tools:\nread(" not in text  # the template's layout, not the text protocol
    assert '<tool_call>{"name": "read", "arguments": {"path": "a.txt"}}</tool_call>' in text  # arguments as an object
    assert "<|im_start|>tool\nalpha<|im_end|>" in text

def test_model_resolution_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"): resolve_model(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="holds no config.json"): resolve_model(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="never downloads"): resolve_model("nobody/not-a-cached-model")
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "smollm2"}))
    try: import peft  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install peft"): load_model(str(tmp_path))
    with pytest.raises(ValueError, match="max_new_tokens >= 1"): HFPolicy(max_new_tokens=0)
