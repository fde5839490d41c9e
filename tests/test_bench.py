"Benchmark: calibration and freezing, integrity, review over HTTP, runs on foreign formats, metrics, reports, exports, CLI."
import json
import os
import shutil
import subprocess
import tomllib
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import polars as pl
import pytest

from clawgym.bench.calibrate import build_bench
from clawgym.bench.export import export_bench
from clawgym.bench.manifest import BenchIntegrityError, load_bench
from clawgym.bench.metrics import bench_metrics, bootstrap_ci, pass_at_k, pass_hat_k, sign_test
from clawgym.bench.report import bench_report
from clawgym.bench.review import record_decision, review_bench
from clawgym.bench.run import run_bench
from clawgym.policies.chat import ChatClient, FixtureServer
from clawgym.cli import default_samples, main
from clawgym.core import CATEGORIES, Score, Step, Trajectory
from clawgym.tasks.formats import load_tasks
from clawgym.grade.verify import chat_completer

SAMPLES = default_samples()

@pytest.fixture(scope="module")
def pool():
    fam = load_tasks(SAMPLES / "families.jsonl").tasks
    return [t for c in sorted(CATEGORIES) for t in [t for t in fam if t.meta.category == c][:3]]  # 18 tasks, 3 per category

@pytest.fixture(scope="module")
def built(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("b") / "bench"
    return build_bench(pool, ["noop", "oracle", "cheat"], out, n=12, samples=2, seed=7, progress=False)

# --- metrics against hand-computed values ------------------------------------------------------------------------------

def test_pass_at_k_and_pass_hat_k_by_hand():
    # n=4, c=1: pass@2 = 1 - C(3,2)/C(4,2) = 1 - 3/6; pass^2 = C(1,2)/C(4,2) = 0; n=4, c=3: pass^2 = C(3,2)/C(4,2) = 3/6
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_hat_k(4, 1, 2) == 0.0
    assert pass_hat_k(4, 3, 2) == pytest.approx(0.5)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3) and pass_hat_k(10, 3, 1) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="k <= n"): pass_hat_k(2, 2, 3)

def test_bootstrap_is_deterministic_and_seeded():
    vals = [0.13, 0.92, 0.41, 0.77, 0.05, 0.66, 0.38, 0.59]
    assert bootstrap_ci(vals, seed=1) == bootstrap_ci(vals, seed=1)
    assert bootstrap_ci(vals, n_boot=200, seed=1) != bootstrap_ci(vals, n_boot=200, seed=2)
    lo, hi = bootstrap_ci(vals, n_boot=2000)
    assert lo < sum(vals) / len(vals) < hi

def test_metrics_by_hand_per_group_and_errors_out_of_means():
    def tr(tid, i, v, status="scored", tools=("exec",), tok=(0, 0)):
        sc = Score(value=v) if status == "scored" else Score(status=status, error="x")
        return Trajectory(tid, "p", sample=i, score=sc, steps=[Step(1, list(tools), tokens_in=tok[0], tokens_out=tok[1])], wall_s=2.0)
    idx = {"x": {"category": "analysis", "difficulty": 0.1, "difficulty_bin": "easy", "checks": [], "checker": True, "reward": False},
           "y": {"category": "analysis", "difficulty": 0.8, "difficulty_bin": "hard", "checks": [], "checker": True, "reward": False}}
    trajs = [tr("x", 0, 1.0, tok=(100, 10)), tr("x", 1, 0.0), tr("x", 2, 1.0), tr("x", 3, 0.0),
             tr("y", 0, 0.25), tr("y", 1, None, "timeout"), tr("y", 2, 0.75)]
    m = bench_metrics(trajs, idx)
    o = m["overall"]
    assert o["mean_score"] == pytest.approx((0.5 + 0.5) / 2)
    assert o["pass@1"] == pytest.approx((0.5 + 0) / 2)
    assert o["pass@1>0.5"] == pytest.approx((0.5 + 0.5) / 2)
    assert o["pass@2"] == pytest.approx((1 - 1 / 6 + 0) / 2, abs=1e-6)  # x: 1 - C(2,2)/C(4,2); y: no passes
    assert o["pass^2"] == pytest.approx((1 / 6 + 0) / 2, abs=1e-6)  # metrics are rounded to 6 places
    assert o["pass@4"] == 1.0 and o["pass^4"] == 0.0  # only x has 4 scored samples
    assert o["errors"] == {"timeout": 1} and o["scored"] == 6 and o["episodes"] == 7
    assert o["tokens_total"] == 110 and o["tool_calls_by_tool"] == {"exec": 7} and o["wall_s_total"] == 14.0
    assert m["by_difficulty"]["hard"]["pass@1"] == 0.0 and m["by_difficulty"]["easy"]["pass@1"] == 0.5
    assert m["failure_modes"] == {"unattributed": 4, "error:timeout": 1}  # no sub-scores recorded: nothing to attribute
    counts = [(r["task_id"], r["episodes"], r["scored"], r["passed"], r["passed_half"], r["errors"]) for r in m["per_task"]]
    assert counts == [("x", 4, 4, 2, 2, 0), ("y", 3, 2, 0, 1, 1)]

def test_sign_test_by_hand():
    assert sign_test(3, 0) == pytest.approx(0.25)  # 2 * (1/8)
    assert sign_test(0, 6) == pytest.approx(2 / 64)

# --- build, freeze, integrity ------------------------------------------------------------------------------------------

def test_build_freezes_a_balanced_calibrated_manifest(built, pool):
    m = json.loads((built.path / "manifest.json").read_text())
    assert m["format"] == "clawgym.bench/1" and m["name"] == "bench" and m["seed"] == 7 and m["clawgym"]
    assert len(m["tasks"]) == 12 and set(m["counts"]["category"].values()) == {2}
    assert m["thresholds"] == {"pass": 1.0, "min_pass": 0.0, "max_pass": 1.0, "difficulty_bins": {"easy": 1 / 3, "medium": 2 / 3}}
    assert set(m["policies"]) == {"noop", "oracle", "cheat"} and m["policies"]["cheat"]["role"] == "calibration"
    assert m["pool"]["tasks"] == len(pool) and m["pool"]["eligible"] + sum(m["pool"]["dropped"].values()) == len(pool)
    by_id = {t.id: t for t in pool}
    for e in m["tasks"]:
        assert e["hash"] == by_id[e["id"]].content_hash()
        assert e["difficulty_source"] == "calibrated" and e["difficulty"] == 1 - e["pass_rate"]
        assert e["calibration"]["oracle"]["pass_rate"] == 1.0 and e["calibration"]["noop"]["pass_rate"] == 0.0
        assert e["calibration"]["cheat"]["scored"] == 2
    assert (built.path / "calibration/cheat/trajectories.jsonl").exists()
    assert len(load_bench(built.path).tasks) == 12

def test_build_with_anchors_only_uses_declared_difficulty(pool, tmp_path):
    b = build_bench(pool[:6], ["noop", "oracle"], tmp_path / "b", n=6, samples=1, progress=False)
    assert {e["difficulty_source"] for e in b.manifest["tasks"]} == {"declared"}
    assert {e["difficulty"] for e in b.manifest["tasks"]} == {(t.meta.difficulty - 1) / 4 for t in pool[:6]}

def test_tampering_makes_load_fail_naming_the_task(built, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(built.path, d, ignore=shutil.ignore_patterns("calibration"))
    lines = (d / "tasks.jsonl").read_text().splitlines()
    t = json.loads(lines[5])
    t["workspace"]["files"][0]["text"] = "changed"
    lines[5] = json.dumps(t)
    (d / "tasks.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchIntegrityError, match=t["id"]) as e: load_bench(d)
    assert e.value.changed == [t["id"]]
    (d / "tasks.jsonl").write_text("\n".join(lines[:5] + ["{broken"] + lines[6:-1]) + "\n")
    with pytest.raises(BenchIntegrityError) as e: load_bench(d)
    assert e.value.changed == [t["id"]] and e.value.missing == [json.loads(lines[-1])["id"]]

@pytest.mark.parametrize("edit,why", [
    (lambda m: m.pop("tasks"), "field 'tasks' must be a list"),
    (lambda m: m["tasks"].__setitem__(0, "t"), "tasks\\[0\\] must be an object"),
    (lambda m: m["tasks"][0].__setitem__("hash", 42), "tasks\\[0\\] must be an object"),
    (lambda m: m["tasks"].append(dict(m["tasks"][0])), "task ids repeat"),
    (lambda m: m["tasks"].pop(), "tasks_sha256 does not match"),
    (lambda m: m.__setitem__("name", None), "field 'name' must be a str")])
def test_hand_edited_manifest_is_a_clear_error(built, tmp_path, edit, why):
    d = tmp_path / "copy"
    shutil.copytree(built.path, d, ignore=shutil.ignore_patterns("calibration"))
    m = json.loads((d / "manifest.json").read_text())
    edit(m)
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BenchIntegrityError, match=why): load_bench(d)

# --- review --------------------------------------------------------------------------------------------------------------

def test_llm_review_through_a_chat_endpoint_and_decisions(built, tmp_path):
    d = tmp_path / "b"
    shutil.copytree(built.path, d, ignore=shutil.ignore_patterns("calibration"))
    b = load_bench(d)
    leak = b.tasks[2]
    def answer(req):
        text = req["messages"][-1]["content"]
        bad = leak.instruction in text
        return {"content": json.dumps({"ambiguous": False, "unfair": bad, "leak": False,
                                       "reasons": ["checks want a format never asked for"] if bad else []})}
    with FixtureServer(answer) as srv:
        review_bench(b, chat_completer(ChatClient(srv.url, "reviewer")), reviewer="fixture")
        assert srv.served == 12
    b = load_bench(d)
    assert b.flagged == [leak.id] and b.pending == [leak.id]
    assert b.review["results"][leak.id] == {"flag": True, "problems": ["unfair"], "reasons": ["checks want a format never asked for"]}
    record_decision(d, leak.id, "reject", "format never asked for")
    b = load_bench(d)
    assert leak.id not in {t.id for t in b.active} and len(b.active) == 11 and b.pending == []
    record_decision(d, leak.id, "accept", "on second thought, fair")
    assert len(load_bench(d).active) == 12

# --- runs on foreign formats, reports ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["clawgym", "pinchbench"])
def test_bench_run_noop_on_foreign_folders(name, tmp_path):
    s = run_bench(SAMPLES / name, "noop", tmp_path / "run", progress=False)
    assert s["episodes"] == 1 and s["bench"] == name
    bj = json.loads((tmp_path / "run/bench.json").read_text())
    assert bj["bench"]["kind"] == "tasks" and bj["bench"]["formats"] == {name: 1}
    m = bench_metrics(tmp_path / "run")
    assert m["overall"]["episodes"] == 1

def test_report_with_two_runs_has_paired_test_and_pngs(built, tmp_path):
    for p in ("oracle", "noop"): run_bench(built.path, p, tmp_path / p, samples=2, progress=False)
    r = bench_report([tmp_path / "oracle", tmp_path / "noop"], tmp_path / "rep", seed=3)
    c = r["comparisons"]["noop vs oracle"]
    assert (c["tasks"], c["wins"], c["losses"], c["ties"]) == (12, 0, 12, 0) and c["sign_test_p"] == pytest.approx(2 / 4096)
    assert c["mean_diff"] == -1.0 and c["same_bench"]
    for f in ("score_by_category.png", "pass_vs_difficulty.png", "tokens_vs_score.png"):
        assert (tmp_path / "rep" / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "rep/report.md").read_text()
    assert "sign test p = " in md and "paired bootstrap" in md and "| pass^2 |" in md
    ep = pl.read_parquet(tmp_path / "rep/episodes.parquet")
    assert ep.height == 48 and ep.filter(pl.col("run") == "oracle")["passed"].all()
    assert r["metrics"]["oracle"]["overall"]["pass^2"] == 1.0
    again = bench_report([tmp_path / "oracle", tmp_path / "noop"], tmp_path / "rep2", seed=3)
    assert again["comparisons"]["noop vs oracle"]["mean_diff_ci"] == c["mean_diff_ci"]

# --- exports -------------------------------------------------------------------------------------------------------------

def test_exports_four_layouts(built, tmp_path):
    export_bench(built, "native", tmp_path / "native")
    assert load_bench(tmp_path / "native").manifest["tasks_sha256"] == built.manifest["tasks_sha256"]
    assert len(load_tasks(tmp_path / "native/tasks").tasks) == 12
    export_bench(built, "clawgym", tmp_path / "cg")
    back = load_tasks(tmp_path / "cg")
    assert back.errors == [] and sorted(t.id for t in back.tasks) == sorted(t.id for t in built.tasks)
    r = export_bench(built, "harbor", tmp_path / "hb")
    assert r["tasks"] == 12 and r["partial_solutions"] == {}
    for t in built.tasks:
        d = tmp_path / "hb" / t.id
        for f in ("task.toml", "instruction.md", "environment/README.md", "tests/test.sh", "tests/reward.sh", "tests/clawgym_checks.py",
                  "solution/solve.sh", "solution/reference.json"):
            assert (d / f).is_file(), f
        meta = tomllib.loads((d / "task.toml").read_text())["metadata"]
        assert meta["clawgym_id"] == t.id and meta["difficulty"] in ("easy", "medium", "hard")
        assert (d / "instruction.md").read_text().strip() == t.instruction.strip()
        with_ws = tmp_path / "ws" / t.id
        shutil.copytree(d / "environment/workspace", with_ws)
        env = {**os.environ, "CLAWGYM_WORKSPACE": str(with_ws), "CLAWGYM_LOGS": str(with_ws) + ".logs"}
        subprocess.run(["bash", str(d / "solution/solve.sh")], env=env, check=True, capture_output=True)
        subprocess.run(["bash", str(d / "tests/test.sh")], env=env, capture_output=True)
        assert (Path(env["CLAWGYM_LOGS"]) / "reward.txt").read_text().strip() == "1.0", t.id
    export_bench(built, "parquet", tmp_path / "b.parquet")
    df = pl.read_parquet(tmp_path / "b.parquet")
    assert df.height == 12 and set(df["sha256"]) == {e["hash"] for e in built.manifest["tasks"]}

def test_export_of_a_rubric_only_task_names_it(tmp_path):
    pb = load_tasks(SAMPLES / "pinchbench").tasks[0].to_dict()
    pb.update(id="rubric-only", checker=None, aggregation={"mode": "rubric_only"})
    from clawgym.bench.manifest import Bench, MANIFEST_FORMAT, tasks_sha256
    from clawgym.core import Task
    t = Task.from_dict(pb)
    b = Bench(tmp_path, {"format": MANIFEST_FORMAT, "name": "x", "created_at": "", "clawgym": "",
                         "tasks_sha256": tasks_sha256([(t.id, t.content_hash())]),
                         "tasks": [{"id": t.id, "hash": t.content_hash(), "difficulty": 0.5, "difficulty_bin": "medium",
                                    "pass_rate": 0.5}]}, [t])
    with pytest.raises(Exception, match="rubric-only"): export_bench(b, "harbor", tmp_path / "hb")
    assert not (tmp_path / "hb").exists()
    r = export_bench(b, "harbor", tmp_path / "hb", skip_unsupported=True)
    assert list(r["skipped"]) == ["rubric-only"] and "rubric" in r["skipped"]["rubric-only"] and r["tasks"] == 0

# --- CLI ------------------------------------------------------------------------------------------------------------------

def test_cli_bench_build_run_report_export(tmp_path):
    out = StringIO()
    with redirect_stdout(out):
        assert main(["bench", "build", "--pool", str(SAMPLES / "families.jsonl"), "--n", "6", "--policies", "noop,oracle",
                     "--samples", "1", "--out", str(tmp_path / "bench")]) == 0
        assert main(["bench", "run", str(tmp_path / "bench"), "--policy", "oracle", "--out", str(tmp_path / "r1")]) == 0
        assert main(["bench", "run", str(tmp_path / "bench"), "--policy", "noop", "--out", str(tmp_path / "r2")]) == 0
        assert main(["bench", "report", str(tmp_path / "r1"), str(tmp_path / "r2"), "--out", str(tmp_path / "rep")]) == 0
        for fmt in ("native", "clawgym", "harbor", "parquet"):
            assert main(["bench", "export", str(tmp_path / "bench"), "--format", fmt, "--out", str(tmp_path / f"x-{fmt}")]) == 0
    assert len(load_bench(tmp_path / "bench").tasks) == 6
    assert "r2 vs r1: wins 0, losses 6" in out.getvalue()
    assert (tmp_path / "x-parquet/data/test-00000-of-00001.parquet").exists()
    assert main(["bench", "build", "--pool", str(SAMPLES / "families.jsonl"), "--n", "6", "--policies", "noop", "--out",
                 str(tmp_path / "bench")]) == 2
