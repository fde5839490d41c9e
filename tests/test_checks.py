"""Every check kind on a passing and a failing workspace, the jail, the runner's error handling, and the vendored CLI."""
import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clawgym.grade import checks as C

sha = lambda b: hashlib.sha256(b).hexdigest()

SALES = "region,month,total\nNorth,2024-01,100.5\nSouth,2024-01,80\nNorth,2024-02,120\n"
ROWS = [{"region": "North", "month": "2024-01", "total": 100.5}, {"region": "South", "month": "2024-01", "total": 80},
        {"region": "North", "month": "2024-02", "total": 120}]
ICS = ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Dentist\r\nDTSTART:20240305T093000\r\nLOCATION:Main S\r\n t 4\r\n"
       "END:VEVENT\r\nEND:VCALENDAR\r\n")
MD = "# Plan\n## Budget\nTotal 300 EUR.\n## Risks\nRain.\n"
SCHEMA = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}

# (kind, files, params, expected score). Every kind appears with a score of 1 and with a score below 1.
CASES = [
    ("file_exists", {"a.txt": "x"}, {"path": "a.txt"}, 1.0),
    ("file_exists", {"a.txt": ""}, {"path": "a.txt"}, 0.0),
    ("file_exists", {"a.txt": "x"}, {"path": ["a.txt", "b.txt"]}, 0.5),
    ("file_absent", {"a.txt": "x"}, {"path": "old.txt"}, 1.0),
    ("file_absent", {"old.txt": "x"}, {"path": "old.txt"}, 0.0),
    ("text_contains", {"n.md": "Hello Ana"}, {"path": "n.md", "needles": ["Hello", "Ana"]}, 1.0),
    ("text_contains", {"n.md": "Hello Ana"}, {"path": "n.md", "needles": ["Hello", "Bob"]}, 0.5),
    ("text_contains", {}, {"path": "n.md", "needles": "x"}, 0.0),
    ("text_excludes", {"n.md": "Hello Ana"}, {"path": "n.md", "needles": "Bob"}, 1.0),
    ("text_excludes", {"n.md": "Hello Ana"}, {"path": "n.md", "needles": "ana", "case_sensitive": False}, 0.0),
    ("text_excludes", {}, {"path": "n.md", "needles": "Bob"}, 0.0),
    ("text_regex", {"n.md": "id: A-12\nid: B-7\n"}, {"path": "n.md", "pattern": r"[A-Z]-\d+", "min_count": 2}, 1.0),
    ("text_regex", {"n.md": "id: A-12\n"}, {"path": "n.md", "pattern": r"[A-Z]-\d+", "min_count": 2}, 0.0),
    ("text_equals", {"o.txt": "  done \n"}, {"path": "o.txt", "expected": "done"}, 1.0),
    ("text_equals", {"o.txt": "Done"}, {"path": "o.txt", "expected": "done"}, 0.0),
    ("text_equals", {"o.txt": "Done"}, {"path": "o.txt", "expected": "done", "case_sensitive": False}, 1.0),
    ("line_count", {"l.txt": "a\nb\nc\n"}, {"path": "l.txt", "equals": 3}, 1.0),
    ("line_count", {"l.txt": "a\nb\nc\n"}, {"path": "l.txt", "min": 4}, 0.0),
    ("word_count", {"e.md": "one two three"}, {"path": "e.md", "min": 2, "max": 3}, 1.0),
    ("word_count", {"e.md": "one two three"}, {"path": "e.md", "equals": 4}, 0.0),
    ("json_valid", {"d.json": '{"a": [1]}'}, {"path": "d.json"}, 1.0),
    ("json_valid", {"d.json": '{"a": [1,]}'}, {"path": "d.json"}, 0.0),
    ("json_path_equals", {"d.json": '{"a": {"b": [{"c": 2.004}]}}'}, {"path": "d.json", "key": "a.b[0].c", "expected": 2, "tol": 0.01},
     1.0),
    ("json_path_equals", {"d.json": '{"a": {"b": [{"c": 2.5}]}}'}, {"path": "d.json", "key": "a.b[0].c", "expected": 2, "tol": 0.01}, 0.0),
    ("json_path_equals", {"d.json": '{"a": {}}'}, {"path": "d.json", "key": "a.b", "expected": 1}, 0.0),
    ("json_schema", {"d.json": '{"items": [1, 2]}'}, {"path": "d.json", "schema": SCHEMA}, 1.0),
    ("json_schema", {"d.json": '{"items": [1, "2"]}'}, {"path": "d.json", "schema": SCHEMA}, 0.0),
    ("csv_header", {"s.csv": SALES}, {"path": "s.csv", "columns": ["region", "month", "total"]}, 1.0),
    ("csv_header", {"s.csv": SALES}, {"path": "s.csv", "columns": ["region", "total"]}, 0.0),
    ("csv_rows", {"s.csv": SALES}, {"path": "s.csv", "rows": ROWS[::-1]}, 1.0),
    ("csv_rows", {"s.csv": SALES}, {"path": "s.csv", "rows": ROWS[::-1], "ordered": True}, 1 / 3),
    ("csv_rows", {"s.csv": SALES}, {"path": "s.csv", "rows": [{**ROWS[0], "total": 99}] + ROWS[1:], "key": "region"}, 2 / 3),
    ("csv_column_aggregate", {"s.csv": SALES}, {"path": "s.csv", "column": "total", "op": "mean", "expected": 100.1667, "tol": 1e-3}, 1.0),
    ("csv_column_aggregate", {"s.csv": SALES}, {"path": "s.csv", "column": "total", "op": "min", "expected": 100}, 0.0),
    ("yaml_key_equals", {"c.yaml": "db:\n  port: 5432\n"}, {"path": "c.yaml", "key": "db.port", "expected": 5432}, 1.0),
    ("yaml_key_equals", {"c.yaml": "db:\n  port: 5433\n"}, {"path": "c.yaml", "key": "db.port", "expected": 5432}, 0.0),
    ("toml_key_equals", {"p.toml": "[tool]\nlevel = 3\n"}, {"path": "p.toml", "key": "tool.level", "expected": 3}, 1.0),
    ("toml_key_equals", {"p.toml": "[tool\nlevel = 3\n"}, {"path": "p.toml", "key": "tool.level", "expected": 3}, 0.0),
    ("markdown_section", {"r.md": MD}, {"path": "r.md", "heading": ["Budget", "Risks"], "level": 2}, 1.0),
    ("markdown_section", {"r.md": MD}, {"path": "r.md", "heading": "Budget", "contains": ["300 EUR", "taxes"]}, 0.5),
    ("markdown_section", {"r.md": MD}, {"path": "r.md", "heading": "Plan", "level": 2}, 0.0),
    ("sorted_by", {"s.csv": SALES}, {"path": "s.csv", "column": "month"}, 1.0),
    ("sorted_by", {"s.csv": SALES}, {"path": "s.csv", "column": "total"}, 0.0),
    ("sorted_by", {"l.txt": ""}, {"path": "l.txt"}, 0.0),
    ("file_unchanged", {"in.txt": "v1"}, {"path": "in.txt", "sha256": sha(b"v1")}, 1.0),
    ("file_unchanged", {"in.txt": "v2"}, {"path": "in.txt", "sha256": sha(b"v1")}, 0.0),
    ("file_moved", {"dst/a.txt": "v1"}, {"src": "a.txt", "dst": "dst/a.txt", "sha256": sha(b"v1")}, 1.0),
    ("file_moved", {"a.txt": "v1", "dst/a.txt": "v1"}, {"src": "a.txt", "dst": "dst/a.txt", "sha256": sha(b"v1")}, 0.5),
    ("file_moved", {"b.txt": "v1"}, {"src": "a.txt", "dst": "dst/a.txt", "sha256": sha(b"v1")}, 0.0),
    ("dir_tree", {"d/x.txt": "", "d/sub/y.txt": ""}, {"path": "d", "expected": ["x.txt", "sub/y.txt"]}, 1.0),
    ("dir_tree", {"d/x.txt": "", "d/z.txt": ""}, {"path": "d", "expected": ["x.txt", "sub/y.txt"]}, 1 / 3),
    ("python_parses", {"m.py": "def f():\n    return 1\n"}, {"path": "m.py", "defines": ["f"]}, 1.0),
    ("python_parses", {"m.py": "def f(:\n"}, {"path": "m.py"}, 0.0),
    ("ics_event", {"c.ics": ICS}, {"path": "c.ics", "summary": "dentist", "dtstart": "2024-03-05T09:30", "location": "Main St 4"}, 1.0),
    ("ics_event", {"c.ics": ICS}, {"path": "c.ics", "summary": "Dentist", "dtstart": "2024-03-06"}, 0.5),
    ("ics_event", {"c.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"}, {"path": "c.ics", "summary": "Dentist"}, 0.0),
    ("date_field", {"t.json": '{"due": "2024-03-08"}'}, {"path": "t.json", "key": "due", "equals": "2024-03-08"}, 1.0),
    ("date_field", {"t.json": '{"due": "March 8"}'}, {"path": "t.json", "key": "due", "equals": "2024-03-08"}, 0.0),
    ("date_field", {"v.csv": "when\n2024-01-01\n2025-01-01\n"}, {"path": "v.csv", "column": "when", "max": "2024-12-31"}, 0.5),
]


def make_ws(root: Path, files: dict) -> C.Workspace:
    for p, text in files.items():
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text(text)
    return C.Workspace(root)


@pytest.mark.parametrize("kind,files,params,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_kind(tmp_path, kind, files, params, expected):
    r = C.run_check({"kind": kind, "params": params}, make_ws(tmp_path, files))
    assert r.status == "scored", r
    assert r.score == pytest.approx(expected), r
    assert r.reason, "every score needs a reason"


def test_every_kind_is_covered_on_pass_and_fail():
    passing = {k for k, _, _, s in CASES + EXEC_CASES if s == 1.0}
    failing = {k for k, _, _, s in CASES + EXEC_CASES if s < 1.0}
    assert passing == set(C.CHECKS) == failing


CALC = {"calc.py": "def double(x):\n    return x * 2\n", "slow.py": "def f():\n    while True: pass\n",
        "test_calc.sh": "python3 -c 'import calc; assert calc.double(4) == 8'\n"}
# Kinds that run the agent's code: they run only with allow_exec (inside a sandbox).
EXEC_CASES = [
    ("command_succeeds", CALC, {"command": "bash test_calc.sh"}, 1.0),
    ("command_succeeds", CALC, {"command": "bash test_calc.sh && echo fine", "expect_output": "fine"}, 1.0),
    ("command_succeeds", CALC, {"command": "exit 2"}, 0.0),
    ("command_succeeds", CALC, {"command": "sleep 5", "timeout": 0.5}, 0.0),
    ("python_function", CALC, {"path": "calc.py", "function": "double",
                               "cases": [{"args": [2], "expected": 4}, {"kwargs": {"x": 1.5}, "expected": 3.0}]}, 1.0),
    ("python_function", CALC, {"path": "calc.py", "function": "double",
                               "cases": [{"args": [2], "expected": 4}, {"args": ["a"], "expected": "b"}]}, 0.5),
    ("python_function", CALC, {"path": "calc.py", "function": "triple", "cases": [{"args": [2], "expected": 6}]}, 0.0),
    ("python_function", CALC, {"path": "slow.py", "function": "f", "cases": [{"expected": 1}], "timeout": 1}, 0.0),
    ("python_function", CALC, {"path": "missing.py", "function": "f", "cases": [{"expected": 1}]}, 0.0),
]


@pytest.mark.parametrize("kind,files,params,expected", EXEC_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(EXEC_CASES)])
def test_exec_kind(tmp_path, kind, files, params, expected):
    ws = make_ws(tmp_path, files)
    refused = C.run_check({"kind": kind, "params": params}, ws)
    assert refused.status == "error" and "only runs inside a sandbox" in refused.reason, refused
    ws.allow_exec = True
    r = C.run_check({"kind": kind, "params": params}, ws)
    assert r.status == "scored" and r.score == pytest.approx(expected), r


def test_empty_workspace_never_errors(tmp_path):
    "The 'checker survives an empty workspace' gate: every kind scores (0) rather than erroring."
    for kind, files, params, _ in CASES:
        if kind == "file_absent": continue  # absence is what an empty workspace has
        r = C.run_check({"kind": kind, "params": params}, C.Workspace(tmp_path))
        assert (r.status, r.score) == ("scored", 0.0), r


@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/etc/passwd"])
def test_jail_refuses_task_paths_outside(tmp_path, path):
    ws = make_ws(tmp_path / "ws", {"a/b.txt": "x"})
    (tmp_path / "outside.txt").write_text("secret")
    with pytest.raises(C.JailError, match="outside the workspace") as e: ws.read_text(path)
    assert not e.value.via_link
    r = C.run_check({"kind": "text_contains", "params": {"path": path, "needles": "secret"}}, ws)
    assert r.status == "error" and "outside the workspace" in r.reason


def test_jail_does_not_follow_symlinks_out(tmp_path):
    ws = make_ws(tmp_path, {"in.txt": "x"})
    os.symlink("/etc/passwd", tmp_path / "pw.txt")
    os.symlink("/etc", tmp_path / "etcdir")
    os.symlink("in.txt", tmp_path / "alias.txt")
    for p in ("pw.txt", "etcdir/passwd"):
        with pytest.raises(C.JailError, match="not followed") as e: ws.read_bytes(p)
        assert e.value.via_link
        r = C.run_check({"kind": "text_contains", "params": {"path": p, "needles": "root"}}, ws)
        assert (r.status, r.score) == ("scored", 0.0), r
    assert ws.read_text("alias.txt") == "x"
    assert ws.read_text(f"{C.MOUNT}/in.txt") == "x"
    assert "etcdir" in ws.files() and "etcdir/passwd" not in ws.files()


def test_fifo_is_not_read(tmp_path):
    ws = make_ws(tmp_path, {})
    os.mkfifo(tmp_path / "out.txt")
    r = C.run_check({"kind": "text_contains", "params": {"path": "out.txt", "needles": "x"}}, ws)
    assert (r.status, r.score) == ("scored", 0.0) and "special file" in r.reason


@pytest.mark.parametrize("spec,needle", [
    ({"kind": "nope", "params": {}}, "unknown check kind 'nope'"),
    ({"kind": "file_exists", "params": {}}, "param 'path': is required"),
    ({"kind": "file_exists", "params": {"path": "a", "colour": 1}}, "param 'colour': unknown"),
    ({"kind": "line_count", "params": {"path": "a", "equals": True}}, "param 'equals': must be int | None"),
    ({"kind": "line_count", "params": {"path": "a"}}, "give equals, min or max"),
    ({"kind": "csv_column_aggregate", "params": {"path": "a", "column": "c", "op": "median", "expected": 1}}, "param 'op'"),
    ({"kind": "json_schema", "params": {"path": "a", "schema": {"type": "object", "oneOf": []}}}, "unsupported keyword"),
    ({"kind": "json_path_equals", "params": {"path": "a", "key": "x[", "expected": 1}}, "param 'key'"),
    ({"kind": "file_unchanged", "params": {"path": "a"}}, "no original hash"),
    ({"kind": "date_field", "params": {"path": "a", "key": "k", "equals": "tomorrow"}}, "param 'equals'"),
    ({"kind": "file_exists", "params": "a.txt"}, "params must be an object"),
    ("not a dict", "unknown check kind None"),
])
def test_task_faults_are_errors(tmp_path, spec, needle):
    r = C.run_check(spec, make_ws(tmp_path, {"a": '{"k": "2024-01-01"}'}))
    assert r.status == "error" and r.score is None, r
    assert needle in r.reason, r.reason


def test_crashing_check_is_an_error(tmp_path, monkeypatch):
    def boom(ws, path: "str"): raise RuntimeError("disk on fire")
    monkeypatch.setitem(C.CHECKS, "boom", boom)
    r = C.run_check({"kind": "boom", "params": {"path": "a"}}, make_ws(tmp_path, {}))
    assert r.status == "error" and "RuntimeError: disk on fire" in r.reason


def test_bad_score_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setitem(C.CHECKS, "too_good", lambda ws: (1.5, "oops"))
    r = C.run_check({"kind": "too_good", "params": {}}, make_ws(tmp_path, {}))
    assert r.status == "error" and "not a number in [0, 1]" in r.reason


def test_register_needs_annotations():
    with pytest.raises(TypeError, match="needs an annotation"):
        @C.check("unannotated")
        def f(ws, path): return 1.0, ""
    assert "unannotated" not in C.CHECKS


def test_code_score_weights_and_errors(tmp_path):
    res = C.run_checks([{"kind": "file_exists", "params": {"path": "a"}, "weight": 2},
                        {"kind": "file_exists", "params": {"path": "b"}, "weight": 1},
                        {"kind": "bogus"}], make_ws(tmp_path, {"a": "1"}).root)
    assert C.code_score(res) == pytest.approx(2 / 3)
    assert C.code_score([r for r in res if r.status == "error"]) is None


YAML_DOCS = [
    "a: 1\nb: [x, 'y z', \"q\"]\nc:\n  d: true\n  e: ~\n  f: 2024-01-02\n",
    "list:\n- 1\n- two\n- k: v\n  k2: 3.5\n- - nested\n  - list\n",
    "# only comments\n\n---\nkey: 'it''s'   # quoted with a hash # inside? no\nurl: http://x.org/a#frag\n",
    "top:\n  - name: a\n    tags: [p, q]\n  - name: b\n    tags: []\nempty:\n",
]


@pytest.mark.parametrize("doc", YAML_DOCS)
def test_yaml_fallback_agrees_with_pyyaml(doc):
    assert C._yaml_fallback(doc) == yaml.safe_load(doc)


def test_grading_core_cli_without_site_packages(tmp_path):
    "The shipped core (clawgym_grading.py + clawgym_checks.py) runs under a bare interpreter: no site-packages, no clawgym."
    from clawgym.grade.core import core_files
    d = tmp_path / "reward"
    d.mkdir()
    for name, data in core_files().items(): (d / name).write_bytes(data)
    ws = tmp_path / "ws"
    make_ws(ws, {"out/c.yaml": "n: 3\n", "keep.txt": "k"})
    checks = [{"kind": "yaml_key_equals", "params": {"path": "out/c.yaml", "key": "n", "expected": 3}, "name": "n"},
              {"kind": "file_unchanged", "params": {"path": "keep.txt"}, "name": "kept", "weight": 3},
              {"kind": "nope", "name": "broken"}]
    cj = d / "checks.json"
    cj.write_text(json.dumps({"checks": checks, "originals": {"keep.txt": sha(b"k")}}))
    run = lambda *a: subprocess.run([sys.executable, "-I", "-S", str(d / "clawgym_grading.py"), *a], capture_output=True, text=True,
                                    cwd=tmp_path)
    p = run("checks", str(cj), str(ws))
    assert p.returncode == 0, p.stderr
    res = {r["name"]: (r["status"], r["score"]) for r in json.loads(p.stdout)}
    assert res["n"] == ("scored", 1.0) and res["kept"] == ("scored", 1.0) and res["broken"][0] == "error"
    assert run("checks", str(cj), str(tmp_path / "missing")).returncode == 2
    cj.write_text("[oops")
    assert run("checks", str(cj), str(ws)).returncode == 2


def test_grading_core_is_stdlib_only():
    from clawgym.grade.core import GRADING_FILE, core_files
    tree = ast.parse(core_files()[GRADING_FILE])
    mods = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import): mods |= {a.name.split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.level == 0: mods.add((n.module or "").split(".")[0])
    assert mods - set(sys.stdlib_module_names) == {"clawgym_checks", "clawgym"}  # the check library, shipped or in the package


def test_vendored_source_is_stdlib_only():
    tree = ast.parse(C.vendor_source())
    mods = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import): mods |= {a.name.split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom): mods.add((n.module or "").split(".")[0])
    assert mods - set(sys.stdlib_module_names) == {"yaml"}
