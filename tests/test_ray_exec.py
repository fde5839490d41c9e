"""`clawgym synth` and `clawgym bench build` on Ray: the same executor abstraction as `clawgym run`
(`clawgym.env.executors`), and the same bytes as the process pool. One local Ray instance of two CPUs for the module."""
import json

import pytest

from clawgym.bench.calibrate import build_bench
from clawgym.cli import main
from clawgym.synth.gates import synthesize
from clawgym.tasks.formats import save_jsonl

N, SEED = 12, 3
POLICIES = "noop,oracle,cheat"


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def synth_cli(out, executor):
    return main(["synth", "--n", str(N), "--seed", str(SEED), "--dedup", "minhash", "--out", str(out), "--executor", executor])


def bench_cli(pool, out, executor):
    return main(["bench", "build", "--pool", str(pool), "--policies", POLICIES, "--n", "4", "--samples", "1", "--out", str(out),
                 "--executor", executor])


@pytest.fixture(scope="module")
def synth_process(tmp_path_factory):
    "The reference: `clawgym synth` with the process pool (before Ray starts, so the process path runs on its own)."
    out = tmp_path_factory.mktemp("process") / "tasks.jsonl"
    assert synth_cli(out, "process") == 0
    return out


@pytest.fixture(scope="module")
def bench_process(synth_process, tmp_path_factory):
    out = tmp_path_factory.mktemp("process") / "bench"
    assert bench_cli(synth_process, out, "process") == 0
    return out


def comparable(manifest_path) -> dict:
    "The manifest less its wall-clock fields: `created_at` and each calibration run's summary `wall_s`."
    m = json.loads(manifest_path.read_text())
    m.pop("created_at")
    for p in m["policies"].values(): p["summary"].pop("wall_s")
    return m


def test_synth_on_ray_writes_the_same_bytes(bench_process, synth_process, ray_local, tmp_path):
    tasks, rep = synthesize(N, SEED, dedup="minhash", executor="ray", progress=False)
    assert rep.executor == "ray" and len(tasks) == N
    assert ray_local.is_initialized()  # the instance it found was used and left running
    out = save_jsonl(tasks, tmp_path / "tasks.jsonl")
    assert out.read_bytes() == synth_process.read_bytes()


def test_clawgym_synth_executor_ray(synth_process, ray_local, tmp_path):
    out = tmp_path / "tasks.jsonl"
    assert synth_cli(out, "ray") == 0
    assert out.read_bytes() == synth_process.read_bytes()
    assert json.loads((tmp_path / "tasks.report.json").read_text())["executor"] == "ray"
    assert json.loads(synth_process.with_suffix(".report.json").read_text())["executor"] == "process"


def test_bench_build_on_ray_freezes_the_same_bench(bench_process, synth_process, ray_local, tmp_path):
    out = tmp_path / "bench"  # the same folder name: the bench's default name is the folder's
    b = build_bench(synth_process, POLICIES.split(","), out, n=4, samples=1, executor="ray", progress=False)
    assert len(b.tasks) == 4
    assert (out / "tasks.jsonl").read_bytes() == (bench_process / "tasks.jsonl").read_bytes()
    assert comparable(out / "manifest.json") == comparable(bench_process / "manifest.json")
    assert (out / "calibration" / "pool.jsonl").read_bytes() == (bench_process / "calibration" / "pool.jsonl").read_bytes()
    for spec in POLICIES.split(","):  # where the executor is recorded: each calibration run's run.json
        assert json.loads((out / "calibration" / spec / "run.json").read_text())["executor"] == "ray"
        assert json.loads((bench_process / "calibration" / spec / "run.json").read_text())["executor"] == "process"


def test_clawgym_bench_build_executor_ray(bench_process, synth_process, ray_local, tmp_path):
    out = tmp_path / "bench"
    assert bench_cli(synth_process, out, "ray") == 0
    assert (out / "tasks.jsonl").read_bytes() == (bench_process / "tasks.jsonl").read_bytes()
    assert comparable(out / "manifest.json") == comparable(bench_process / "manifest.json")


def test_an_unknown_executor_is_a_clear_error(synth_process, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown executor 'dask'; choose one of \['process', 'serial', 'ray'\]"):
        synthesize(2, executor="dask")
    with pytest.raises(ValueError, match="unknown executor 'dask'"):
        build_bench(synth_process, ["noop", "oracle"], tmp_path / "b", n=1, executor="dask")
    assert not (tmp_path / "b").exists()  # refused before any calibration run
    for cmd in (["synth", "--n", "2", "--out", str(tmp_path / "t.jsonl")],
                ["bench", "build", "--pool", str(synth_process), "--policies", "noop", "--out", str(tmp_path / "b")]):
        with pytest.raises(SystemExit) as e: main([*cmd, "--executor", "dask"])
        assert e.value.code == 2
        assert "invalid choice: 'dask'" in capsys.readouterr().err
