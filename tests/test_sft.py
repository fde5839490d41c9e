"SFT: the exact label mask, data loading and splitting, tiny models training (full, LoRA), Qwen-style LoRA/bf16/checkpointing shapes."
import copy
import json

import pytest
import torch
from transformers import AutoTokenizer

from clawgym.core import Check, Task, Trajectory
from clawgym.policies.llm import HFPolicy, load_model, smollm2_path, tools_prompt
from clawgym.train.sft import (GPU_CONFIGS, IGNORE, SFTConfig, check_no_leak, load_sft, load_trainable, render_for_training, save_model,
                         split_by_task, tiny_model, token_logprobs, collate, train_sft)

TOOLS = [{"type": "function", "function": {"name": "write", "description": "Write a file.",
          "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                         "required": ["path", "content"]}}}]
CONV = [{"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "Write hi to a.txt."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                "function": {"name": "write", "arguments": '{"path": "a.txt", "content": '
                                                                                                           '"hi"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "write", "content": "wrote 2 bytes to a.txt"},
        {"role": "assistant", "content": "Done."}]

# A compact template in the Qwen2.5 style: it takes `tools`, lays assistant tool calls out itself and wraps tool results.
QWEN_STYLE = (
    r"{%- if tools %}{{- '<|im_start|>system\n' + messages[0]['content'] + '\n\n# Tools\n<tools>' }}"
    r"{%- for t in tools %}{{- '\n' + (t | tojson) }}{%- endfor %}{{- '\n</tools><|im_end|>\n' }}"
    r"{%- else %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- endif %}"
    r"{%- for m in messages[1:] %}"
    r"{%- if m.role == 'assistant' %}{{- '<|im_start|>assistant\n' + (m.content or '') }}"
    r"{%- for tc in m.tool_calls or [] %}{{- '<tool_call>\n' + ({'name': tc.function.name, 'arguments': tc.function.arguments} | tojson) + "
    r"'\n</tool_call>' }}{%- endfor %}"
    r"{{- '<|im_end|>\n' }}"
    r"{%- elif m.role == 'tool' %}{{- '<|im_start|>user\n<tool_response>\n' + m.content + '\n</tool_response><|im_end|>\n' }}"
    r"{%- else %}{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}{%- endif %}{%- endfor %}"
    r"{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}")

@pytest.fixture(scope="module")
def tok(): return AutoTokenizer.from_pretrained(smollm2_path())

def enc(tok, s): return tok(s, add_special_tokens=False)["input_ids"]

def test_label_mask_exact(tok):
    ids, labels = render_for_training(CONV, TOOLS, tok)
    head = (f"<|im_start|>system\nYou are an agent.\n\n{tools_prompt(TOOLS)}<|im_end|>\n<|im_start|>user\nWrite hi to a.txt.<|im_end|>\n"
            "<|im_start|>assistant\n")
    call = '<tool_call>{"name": "write", "arguments": {"path": "a.txt"}}\nhi</tool_call><|im_end|>'
    mid = "\n<|im_start|>user\n<tool_response>\nwrote 2 bytes to a.txt\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    done = "Done.<|im_end|>"
    pieces = [(head, False), (call, True), (mid, False), (done, True)]
    want_ids = [t for s, _ in pieces for t in enc(tok, s)]
    want_labels = [t if trained else IGNORE for s, trained in pieces for t in enc(tok, s)]
    assert ids == want_ids
    assert labels == want_labels

def test_native_template_masks_assistant_only(tok):
    q = copy.deepcopy(tok)
    q.chat_template = QWEN_STYLE
    ids, labels = render_for_training(CONV, TOOLS, q)
    text = q.decode(ids)
    assert "# Tools\n<tools>" in text and '"name": "write"' in text
    said = q.decode([t for t, l in zip(ids, labels) if l != IGNORE])
    assert said == '<tool_call>\n{"name": "write", "arguments": {"path": "a.txt", "content": "hi"}}\n</tool_call><|im_end|>Done.<|im_end|>'

def test_template_that_rewrites_history_is_refused(tok):
    q = copy.deepcopy(tok)  # drops all but the last assistant turn's content, as reasoning templates do with old thoughts
    q.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.role == 'assistant' and not loop.last %}...{% else %}"
                       "{{ m.content }}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(ValueError, match="renders earlier turns"): render_for_training(CONV, TOOLS, q)

def test_split_and_leak(tmp_path):
    tasks = [Task(f"t-{i}", f"Do thing {i}.", checks=[Check("file_exists", {"path": "a"})]) for i in range(20)]
    train, test = split_by_task(tasks, 0.25, seed=3)
    assert len(test) == 5 and not {t.id for t in train} & {t.id for t in test}
    ex = [{"messages": [{"role": "user", "content": t.instruction}, {"role": "assistant", "content": "ok"}], "tools": []} for t in train]
    trajs = [Trajectory(task_id=t.id, policy="oracle", provenance={"task_hash": t.content_hash()[:16]}) for t in train]
    assert check_no_leak(trajs, test) == 15
    with pytest.raises(ValueError, match="held-out tasks were rolled out"): check_no_leak(trajs + [Trajectory(task_id=test[0].id,
            policy="oracle")], test)
    twin = Trajectory(task_id="renamed", policy="oracle", provenance={"task_hash": test[1].content_hash()[:16]})  # same task, other id
    with pytest.raises(ValueError, match="renamed"): check_no_leak([twin], test)
    f = tmp_path / "a.jsonl"
    f.write_text("".join(json.dumps(e) + "\n" for e in ex + ex[:3]))
    assert len(load_sft([f, f])) == 15  # duplicates within and across files dropped
    f.write_text('{"messages": [{"role": "user", "content": "x"}]}\n')
    with pytest.raises(ValueError, match=r"a.jsonl:1: .*assistant"): load_sft(f)
    with pytest.raises(FileNotFoundError, match="clawgym export"): load_sft(tmp_path / "none.jsonl")

@pytest.mark.parametrize("lora", [False, True])
def test_tiny_llama_loss_decreases(tok, tmp_path, lora):
    ex = {"messages": CONV, "tools": TOOLS}
    s = train_sft((tiny_model(tok), tok), [ex] * 4, tmp_path / "ck", SFTConfig(epochs=4, batch_size=2, lr=1e-2, warmup=0, lora=lora),
                  progress=False)
    loss = [json.loads(l)["loss"] for l in (tmp_path / "ck/train_log.jsonl").read_text().splitlines()]
    assert len(loss) == s["steps"] == 8
    # the same batch every step: the loss falls by a clear margin, and at most one Adam step at this high lr may overshoot
    assert sum(b < a for a, b in zip(loss, loss[1:])) >= len(loss) - 2 and loss[-1] < loss[0] - 0.2, loss
    pol = HFPolicy(str(tmp_path / "ck"), max_new_tokens=3)  # merged (LoRA) or full weights: a plain checkpoint
    assert (tmp_path / "ck/config.json").is_file() and not (tmp_path / "ck/adapter_config.json").exists()
    assert pol.lm.config.num_hidden_layers == 2

def test_adapter_checkpoint_loads_over_its_base(tok, tmp_path):
    base = save_model(tiny_model(tok), tok, tmp_path / "base")
    s = train_sft(f"hf:{base}", [{"messages": CONV, "tools": TOOLS}] * 2, tmp_path / "ad",
                  SFTConfig(epochs=1, batch_size=2, lora=True, merge=False), progress=False)
    cfg = json.loads((tmp_path / "ad/adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(base.resolve()) and s["base"] == str(base.resolve())
    lm, _, _ = load_model(str(tmp_path / "ad"))
    assert hasattr(lm, "peft_config")

def test_qwen_style_lora_bf16_checkpointing_shapes(tok):
    q = copy.deepcopy(tok)
    q.chat_template = QWEN_STYLE
    cfg = GPU_CONFIGS["qwen-7b-lora-1gpu"]
    lm, _, _ = load_trainable((tiny_model(q, arch="qwen2", hidden=64), q), lora=True, lora_r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                              gradient_checkpointing=cfg.gradient_checkpointing, dtype=cfg.dtype)  # device cuda -> cpu here
    assert lm.base_model.model.config.model_type == "qwen2"
    trainable = {n for n, p in lm.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert any("q_proj.lora_A" in n for n in trainable) and any("down_proj.lora_B" in n for n in trainable)
    a = next(p for n, p in lm.named_parameters() if n.endswith("q_proj.lora_A.default.weight"))
    w = next(p for n, p in lm.named_parameters() if n.endswith("q_proj.base_layer.weight"))
    assert a.shape == (cfg.lora_r, 64) and w.dtype == torch.bfloat16  # frozen weights in bf16; peft keeps adapters in float32
    ids, labels = render_for_training(CONV, TOOLS, q)
    x, att, lab = collate([(ids, labels)] * 2, q.pad_token_id)
    lp, m = token_logprobs(lm, x, att, lab)
    assert lp.shape == m.shape and int(m.sum()) == 2 * sum(l != IGNORE for l in labels)
    (-lp.sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad.float()).all() for n, p in lm.named_parameters() if p.requires_grad)
    assert any(getattr(m, "gradient_checkpointing", False) for m in lm.modules())

def test_cli_train_sft(tok, tmp_path, capsys):
    from clawgym.cli import main
    base = save_model(tiny_model(tok), tok, tmp_path / "base")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"messages": CONV, "tools": TOOLS}) + "\n")
    assert main(["train", "sft", "--data", str(data), "--model", f"hf:{base}", "--out", str(tmp_path / "o"), "--epochs", "1",
                 "--lora"]) == 0
    assert "checkpoint:" in capsys.readouterr().out and (tmp_path / "o/config.json").is_file()
    assert main(["train", "sft", "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o2")]) == 2
