"GRPO: advantages and skipping, the clipped objective by hand, observation masking on real renders, a tiny end-to-end run, resume."
import json
import math

import pytest
import torch
from transformers import AutoTokenizer

from clawgym.env.harness import SYSTEM_PROMPT
from clawgym.core import Check, Task, ToolCall
from clawgym.policies.llm import _call_text, render, smollm2_path
from clawgym.train.rl import GRPOConfig, clipped_loss, group_advantages, pack_turns, train_grpo
from clawgym.train.sft import tiny_model
from clawgym.env.tools import tool_schemas

@pytest.fixture(scope="module")
def tok(): return AutoTokenizer.from_pretrained(smollm2_path())

def test_advantages():
    a = group_advantages([2.0, 0.0, 1.0])  # mean 1, population std sqrt(2/3)
    assert a == pytest.approx([1 / math.sqrt(2 / 3), -1 / math.sqrt(2 / 3), 0.0])
    assert sum(a) == pytest.approx(0.0)
    assert group_advantages([0.0] * 8) is None and group_advantages([1.0] * 8) is None and group_advantages([0.5]) is None

def test_clipping_by_hand():
    # ratios 0.7 (below 1 - 0.1) and 1.4 (above 1 + 0.3), advantages +2 and -3
    lp = torch.log(torch.tensor([[0.7, 1.0], [1.4, 1.2]]))
    old = torch.zeros(2, 2)
    adv = torch.tensor([[2.0], [-3.0]])
    loss, nclip = clipped_loss(lp, old, adv, torch.ones(2, 2), eps_low=0.1, eps_high=0.3)
    # row 1: min(0.7*2, 0.9*2) = 1.4 (not clipped); min(1*2, 1*2) = 2
    # row 2: min(1.4*-3, 1.3*-3) = -4.2 (the unclipped, lower one); min(1.2*-3, 1.2*-3) = -3.6
    assert loss.item() == pytest.approx(-(1.4 + 2.0 - 4.2 - 3.6), abs=1e-5)
    assert nclip.item() == 0.0
    loss, nclip = clipped_loss(torch.log(torch.tensor([[1.6]])), torch.zeros(1, 1), torch.tensor([[1.0]]), torch.ones(1, 1), 0.1, 0.3)
    assert loss.item() == pytest.approx(-1.3, abs=1e-6) and nclip.item() == 1.0
    assert clipped_loss(lp, old, adv, torch.zeros(2, 2), 0.1, 0.3)[0].item() == 0.0

def test_observation_tokens_masked(tok):
    tools = tool_schemas()
    msgs = [{"role": "system", "content": SYSTEM_PROMPT.format(mount="/w")}, {"role": "user", "content": "Write hi to a.txt."}]
    call = ToolCall("write", {"path": "a.txt", "content": "hi"}, "c1")
    p1 = render(tok, msgs, tools, 4096)
    g1 = tok(_call_text(call.to_openai()), add_special_tokens=False)["input_ids"]
    obs = "wrote 2 bytes to a.txt OBSERVATION"
    msgs2 = msgs + [{"role": "assistant", "content": None, "tool_calls": [call.to_openai()]},
                    {"role": "tool", "tool_call_id": "c1", "name": "write", "content": obs}]
    p2 = render(tok, msgs2, tools, 4096)
    g2 = tok("Done.<|im_end|>", add_special_tokens=False)["input_ids"]
    seqs = pack_turns([(p1, g1), (p2, g2)])
    assert len(seqs) == 1  # the second prompt extends the first turn: one sequence
    ids, mask = seqs[0]
    assert ids == p2 + g2
    trained = tok.decode([t for t, m in zip(ids, mask) if m])
    assert trained == tok.decode(g1) + "Done.<|im_end|>"
    assert "OBSERVATION" in tok.decode(ids) and "OBSERVATION" not in trained and "<tool_response>" not in trained

TASKS = [Task(f"hello-{i}", f"Write 'hello {i}' to out/hello.txt.",
              checks=[Check("text_equals", {"path": "out/hello.txt", "expected": f"hello {i}"})])
         for i in range(2)]

def text_reward(t):  # a reward that differs between the noise answers of a tiny random model, so groups carry signal
    return sum(map(ord, "".join(m.get("content") or "" for m in t.messages if m["role"] == "assistant"))) % 997 / 997

def cfg(**kw):
    return GRPOConfig(**{**dict(steps=2, group=2, tasks_per_step=2, lr=1e-3, max_new_tokens=10, max_turns=2, save_every=1, micro_batch=2),
                         **kw})

def trainable(path):
    return torch.load(path / "trainable.pt")

def test_tiny_grpo_end_to_end_and_resume(tok, tmp_path):
    s = train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "full", cfg(), eval_tasks=TASKS, reward_fn=text_reward, progress=False)
    m = [json.loads(l) for l in (tmp_path / "full/metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in m] == [0, 1] and all(x["episodes"] == 4 and x["groups"] == 2 for x in m)
    assert all(x["sequences"] > 0 and x["loss"] is not None for x in m if x["skipped_groups"] < 2)
    assert sum(x["sequences"] for x in m) > 0, m  # the checksum reward gives the groups signal: updates ran
    assert s["evals"][-1]["n"] == 2 and s["evals"][-1]["mean_score"] == 0.0  # the noise model solves nothing
    assert (tmp_path / "full/final/config.json").is_file()
    # the same run, killed after step 0 and resumed: the same step 1 and the same weights
    train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "cut", cfg(steps=1), reward_fn=text_reward, progress=False)
    s2 = train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "cut", cfg(), reward_fn=text_reward, progress=False)
    assert s2["resumed_from"] == 1
    m2 = [json.loads(l) for l in (tmp_path / "cut/metrics.jsonl").read_text().splitlines()]
    keys = ("reward_mean", "skipped_groups", "sequences", "gen_tokens")
    assert [{k: x[k] for k in keys} for x in m2] == [{k: x[k] for k in keys} for x in m]
    a, b = trainable(tmp_path / "full/checkpoints/step_00001"), trainable(tmp_path / "cut/checkpoints/step_00001")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    with pytest.raises(ValueError, match="other settings"):
        train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "cut", cfg(lr=5e-4), reward_fn=text_reward, progress=False)

def test_zero_variance_groups_are_skipped(tok, tmp_path):
    s = train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "z", cfg(steps=1), progress=False)  # verification scores: all 0
    m = json.loads((tmp_path / "z/metrics.jsonl").read_text())
    assert (m["skipped_groups"], m["sequences"], m["loss"], m["reward_mean"]) == (2, 0, None, 0.0)
    assert s["skipped_groups"] == 2

def test_lora_with_kl_and_minibatches(tok, tmp_path):
    c = cfg(steps=1, lora=True, lora_r=4, kl_coef=0.1, updates=2, minibatch=2)
    train_grpo((tiny_model(tok), tok), TASKS, tmp_path / "k", c, reward_fn=text_reward, progress=False)
    m = json.loads((tmp_path / "k/metrics.jsonl").read_text())
    assert m["skipped_groups"] < 2 and m["kl"] is not None and m["kl"] >= 0 and 0 <= m["clip_frac"] <= 1
    assert all("lora_" in k for k in trainable(tmp_path / "k/checkpoints/step_00000"))

def test_cli_train_rl(tok, tmp_path, capsys):
    from clawgym.cli import main
    from clawgym.core import write_jsonl
    from clawgym.train.sft import save_model
    base = save_model(tiny_model(tok), tok, tmp_path / "base")
    write_jsonl(tmp_path / "t.jsonl", TASKS)
    argv = ["train", "rl", "--tasks", str(tmp_path / "t.jsonl"), "--model", f"hf:{base}", "--group", "2", "--steps", "1",
            "--out", str(tmp_path / "rl"), "--max-new-tokens", "6", "--max-turns", "1"]
    assert main(argv) == 0
    assert "final checkpoint:" in capsys.readouterr().out
    m = json.loads((tmp_path / "rl/metrics.jsonl").read_text())
    assert (m["episodes"], m["skipped_groups"]) == (4, 2)  # verification scores of a noise model: all 0, no signal
