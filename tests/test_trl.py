"TRL environments mode: the clawgym env by hand (reference solves, noop fails, nothing leaks), schemas, bad input, one real GRPO step."
import inspect
import os
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
from transformers.utils import get_json_schema

from clawgym.env.schemas import PROFILES, tool_schemas
from clawgym.integrations.trl import (ClawGymEnv, chatml_tool_tokenizer, env_class, environment_factory, py_name, task_list,
                                      trl_dataset)
from clawgym.policies.llm import smollm2_gguf
from clawgym.run.episode import Episode

SAMPLES = Path(__file__).parent.parent / "data_samples" / "families.jsonl"
IDS = ["log_error_summary-000000", "notes_qa-000000"]

@pytest.fixture(scope="module")
def tasks(): return [t for t in task_list(SAMPLES) if t.id in IDS]

def test_reference_solves_noop_fails_nothing_leaks(tasks, tmp_path):
    factory = environment_factory(tasks, workdir=tmp_path)
    env = factory()
    assert isinstance(env, ClawGymEnv) and set(factory.tasks) == set(IDS)
    for task in tasks:
        assert task.reference
        env.reset(task_id=task.id)
        for call in task.reference:
            out = getattr(env, call.name)(**{py_name(k): v for k, v in call.arguments.items()})
            assert isinstance(out, str) and not out.startswith("error")
        assert env.get_reward() == 1.0
        t = env.trajectory
        assert t.task_id == task.id and t.score.ok and t.score.subscores and all(v == 1.0 for v in t.score.subscores.values())
        assert [s.tool_calls[0] for s in t.steps] == [c.name for c in task.reference]
        assert sum(m["role"] == "tool" for m in t.messages) == len(task.reference)
        assert os.listdir(tmp_path) == []  # finish removed the episode's folder
        env.reset(task_id=task.id)
        assert env.get_reward() == 0.0 and env.trajectory.score.ok  # the untouched workspace: graded, and failed
    env.reset(task_id=IDS[0])
    assert len(os.listdir(tmp_path)) == 1
    env.reset(task_id=IDS[1])  # the ungraded episode is closed, not leaked
    assert len(os.listdir(tmp_path)) == 1
    env.__del__()
    assert os.listdir(tmp_path) == [] and env.episode is None

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_methods_give_the_clawgym_schemas(profile):
    harness, prof = ("openclaw", "full") if profile == "openclaw" else ("compact", profile)
    cls = env_class(harness, prof)
    public = {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}
    assert public == set(PROFILES[profile]) | {"reset", "get_reward"}
    env = cls([t for t in task_list(SAMPLES)][:1])
    for spec in tool_schemas(profile):
        want, got = spec["function"], get_json_schema(getattr(env, spec["function"]["name"]))["function"]
        assert got["name"] == want["name"] and got["description"].startswith(want["description"][:40])
        props, wprops = got["parameters"]["properties"], want["parameters"]["properties"]
        assert list(props) == [py_name(a) for a in wprops]
        assert got["parameters"].get("required", []) == [py_name(a) for a in want["parameters"]["required"]]
        for a, p in wprops.items():
            assert props[py_name(a)]["type"] == p["type"] and props[py_name(a)]["description"] == p["description"]
            assert props[py_name(a)].get("enum") == p.get("enum")

def test_bad_input(tasks, tmp_path):
    env = environment_factory(tasks, workdir=tmp_path)()
    with pytest.raises(ValueError, match="unknown task id 'missing-1'"): env.reset(task_id="missing-1")
    with pytest.raises(RuntimeError, match="reset"): env.write(path="a", content="b")
    with pytest.raises(RuntimeError, match="reset"): env.get_reward()
    env.reset(task_id=IDS[0])
    assert env.read(path="a.txt", offset=0).startswith("error: read:")  # below the schema's minimum
    assert env.read().startswith("error: read:") and "path" in env.read()
    assert env.write(path="../out.txt", content="x").startswith("error")
    assert env.episode.steps[-1].errors == 1
    with pytest.raises(FileNotFoundError): environment_factory(tmp_path / "none.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match="do not load"): environment_factory(tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="unknown harness"): environment_factory(tasks, harness="nope")

def test_dataset_prompts_are_the_episodes(tasks):
    ds = trl_dataset(tasks)
    assert ds.column_names == ["prompt", "task_id"] and ds["task_id"] == IDS
    for row, task in zip(ds, tasks):
        ep = Episode(task, "trl")
        assert row["prompt"] == ep.messages
        ep.finish()
    oc = trl_dataset(tasks[:1], harness="openclaw")[0]["prompt"]
    assert oc[1]["content"] == tasks[0].instruction and "## Workspace" in oc[0]["content"]

CALL = '<tool_call>\n{"name": "write", "arguments": {"path": "scratch.txt", "content": "hi"}}\n</tool_call><|im_end|>'

def _teach(model, tok, prompts, tools, text, steps=50):
    "A few steps of plain next-token training so that the random model answers `text` (one tool call) to these prompts."
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    target = tok(text, add_special_tokens=False)["input_ids"]
    seqs = [tok.apply_chat_template(p, tools=tools, add_generation_prompt=True, tokenize=True, return_dict=False) for p in prompts]
    for _ in range(steps):
        for s in seqs:
            ids = torch.tensor([s + target])
            labels = ids.clone()
            labels[0, :len(s)] = -100
            opt.zero_grad()
            model(input_ids=ids, labels=labels).loss.backward()
            opt.step()

def test_one_grpo_step(tasks, tmp_path):
    from trl import GRPOConfig, GRPOTrainer
    gguf = smollm2_gguf()
    tok = chatml_tool_tokenizer(AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name))
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, eos_token_id=tok.eos_token_id,
                                         pad_token_id=tok.pad_token_id, tie_word_embeddings=True))
    factory = environment_factory(tasks, profile="minimal", workdir=tmp_path / "eps")  # 3 tools: a short prompt, a fast test
    probe = factory()
    tools = [m for n, m in inspect.getmembers(probe) if n in PROFILES["minimal"]]
    _teach(model, tok, trl_dataset(tasks)["prompt"], tools, CALL)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=48, logging_steps=1, report_to=[], use_cpu=True, save_strategy="no",
                      learning_rate=1e-2, max_tool_calling_iterations=1, seed=0)
    # The taught call writes a scratch file, which solves neither task: every clawgym reward is 0.0 and the advantages
    # vanish; the length reward gives the group a spread so that the step moves the weights.
    def length(completions, **kw): return [float(len(str(c))) / 100 for c in completions]
    trainer = GRPOTrainer(model=model, args=args, processing_class=tok, train_dataset=trl_dataset(tasks),
                          reward_funcs=[length], environment_factory=factory)
    trainer.train()
    logs = {k: v for d in trainer.state.log_history for k, v in d.items()}
    assert "loss" in logs and "rewards/ClawGymEnv_minimal/mean" in logs and logs["rewards/ClawGymEnv_minimal/mean"] == 0.0
    assert logs["tools/call_frequency"] > 0 and logs["tools/failure_frequency"] == 0  # TRL parsed the calls, clawgym ran them
    envs = trainer._environment_pool[None]
    graded = [e.trajectory for e in envs if e.trajectory]
    assert len(graded) == 4 and all(t.score.ok and t.score.value == 0.0 for t in graded)
    assert {t.task_id for t in graded} == set(IDS) and all(e.episode is None for e in envs)
    assert any(s.tool_calls == ["write"] and not s.errors for t in graded for s in t.steps)
    assert os.listdir(tmp_path / "eps") == []
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())
