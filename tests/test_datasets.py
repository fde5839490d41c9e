"""Hugging Face dataset exports through the command line: `clawgym export hf-tasks` and `hf-sft` write folders that
`datasets.load_dataset` reads back, offline, row for row, with a card whose YAML says how many rows each split holds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

os.environ["HF_DATASETS_OFFLINE"] = "1"  # read before `datasets` is imported: local files only
import datasets  # noqa: E402

from clawgym.core import Task  # noqa: E402
from clawgym.run.datasets import TASK_SCHEMA, task_record  # noqa: E402
from clawgym.run.rollout import export_sft, run_tasks  # noqa: E402
from clawgym.tasks.formats import load_tasks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLAWGYM = Path(sys.executable).parent / "clawgym"
TASKS = ROOT / "data_samples" / "tasks.jsonl"


def clawgym(*args):
    return subprocess.run([str(CLAWGYM), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def card(folder:Path) -> dict:
    "The YAML front matter of a dataset folder's README.md."
    text = (folder / "README.md").read_text()
    assert text.startswith("---\n"), text[:80]
    return yaml.safe_load(text.split("---\n")[1])


def load(folder:Path, split:str, cache:Path):
    return datasets.load_dataset("parquet", data_files={split: str(folder / f"data/{split}-*.parquet")}, cache_dir=str(cache))[split]


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hf") / "oracle"
    run_tasks(load_tasks(TASKS).tasks, "oracle", out, samples=2, executor="serial", progress=False, tasks_path=TASKS)
    return out


def test_export_hf_tasks_loads_the_same_rows(tmp_path):
    r = clawgym("export", "hf-tasks", TASKS, "--out", tmp_path / "tasks")
    assert r.returncode == 0, r.stderr
    tasks = load_tasks(TASKS).tasks
    ds = load(tmp_path / "tasks", "train", tmp_path / "cache")
    assert ds.column_names == list(TASK_SCHEMA)
    assert ds.to_list() == [task_record(t) for t in tasks]
    assert [Task.from_json(s) for s in ds["task"]] == tasks
    meta = card(tmp_path / "tasks")
    assert meta["dataset_info"]["splits"] == [{"name": "train", "num_bytes": meta["dataset_info"]["splits"][0]["num_bytes"],
                                              "num_examples": len(tasks)}]
    assert meta["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    whole = datasets.load_dataset(str(tmp_path / "tasks"), cache_dir=str(tmp_path / "cache"))  # the card alone says what is where
    assert list(whole) == ["train"] and whole["train"].features == ds.features


def test_export_hf_sft_loads_what_export_sft_writes(oracle_run, tmp_path):
    r = clawgym("export", "hf-sft", oracle_run, "--out", tmp_path / "sft", "--split", "train")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout[:r.stdout.rindex("}") + 1])["duplicates"] == 6  # export_sft's filters and counts
    export_sft(oracle_run, tmp_path / "sft.jsonl")
    want = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    ds = load(tmp_path / "sft", "train", tmp_path / "cache")
    assert ds.num_rows == len(want) == 6
    present = lambda ms: [{k: v for k, v in m.items() if v is not None or k == "content"} for m in ms]
    assert [present(m) for m in ds["messages"]] == [w["messages"] for w in want]
    assert [json.loads(t) for t in ds["tools"]] == [w["tools"] for w in want]
    r = clawgym("export", "hf-sft", tmp_path / "sft.jsonl", "--out", tmp_path / "sft", "--split", "test")  # an SFT JSONL too
    assert r.returncode == 0, r.stderr
    splits = {s["name"]: s["num_examples"] for s in card(tmp_path / "sft")["dataset_info"]["splits"]}
    assert splits == {"test": 6, "train": 6}
    whole = datasets.load_dataset(str(tmp_path / "sft"), cache_dir=str(tmp_path / "cache"))
    assert sorted(whole) == ["test", "train"] and whole["test"]["messages"] == ds["messages"]


def test_export_hf_needs_a_folder_and_a_good_run(oracle_run, tmp_path):
    r = clawgym("export", "hf-tasks", TASKS)
    assert r.returncode == 2 and "--out DIR" in r.stderr and "Traceback" not in r.stderr
    r = clawgym("export", "hf-sft", oracle_run, "--out", tmp_path / "x", "--min-score", "1.5")
    assert r.returncode == 2 and "no SFT example" in r.stderr and "Traceback" not in r.stderr
    r = clawgym("export", "hf-tasks", TASKS, "--out", tmp_path / "y", "--split", "not-a-split")
    assert r.returncode == 2 and "split name" in r.stderr
