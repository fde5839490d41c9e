"""The installed `clawgym` console script, end to end, as a person runs it."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAWGYM = Path(sys.executable).parent / "clawgym"
SAMPLES = ROOT / "data_samples"


def run(*args, check=True):
    r = subprocess.run([str(CLAWGYM), *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if check and r.returncode != 0:
        raise AssertionError(f"clawgym {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def test_version():
    assert run("--version").stdout.startswith("clawgym ")


def test_stats_json_counts_every_format():
    st = json.loads(run("tasks", "stats", SAMPLES, "--json").stdout)
    assert st["tasks"] >= 7
    assert {"jsonl", "clawgym", "pinchbench"} <= set(st["formats"])


def test_stats_table_mentions_categories():
    out = run("tasks", "stats", SAMPLES).stdout
    assert "category" in out.lower() and "bytes" in out.lower()


def test_validate_samples():
    r = run("tasks", "validate", SAMPLES)
    assert "tasks valid" in r.stdout


def test_convert_round_trip(tmp_path):
    run("tasks", "convert", SAMPLES / "tasks.jsonl", "--to", "clawgym", "--out", tmp_path / "cg")
    run("tasks", "convert", tmp_path / "cg", "--to", "jsonl", "--out", tmp_path / "back.jsonl")
    a = json.loads(run("tasks", "stats", SAMPLES / "tasks.jsonl", "--json").stdout)
    b = json.loads(run("tasks", "stats", tmp_path / "back.jsonl", "--json").stdout)
    assert a["tasks"] == b["tasks"]


def test_missing_path_is_a_clean_error():
    r = run("tasks", "stats", "/no/such/dir", check=False)
    assert r.returncode == 2 and "no/such/dir" in r.stderr and "Traceback" not in r.stderr


def test_demo_writes_outputs(tmp_path):
    r = run("demo", "--out", tmp_path / "demo", "--n", "30", "--bench-n", "6", "--policies", "noop,oracle")
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["valid"] == summary["tasks"] >= 7
    assert (tmp_path / "demo" / "samples" / "tasks.jsonl").exists()
    assert summary["synthesized"] == 30 and len((tmp_path / "demo" / "pool.jsonl").read_text().splitlines()) == 30
    assert str(tmp_path / "demo") in r.stdout


def test_every_subcommand_keeps_its_flags_and_defaults():
    "The parser is built from shared option helpers and the functions' signatures; its surface stays what users type."
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from cli_surface import surface
    from clawgym.cli import build_parser
    want = json.loads((Path(__file__).parent / "cli_surface.json").read_text())
    got = surface(build_parser())
    assert sorted(got) == sorted(want), "subcommands changed"
    for cmd in want: assert got[cmd] == want[cmd], f"`{cmd}` changed its options"
