"""The package's shape: stage subpackages in pipeline order, imports that only look back, no private names across modules."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "clawgym"
STAGES = ["core", "env", "grade", "tasks", "policies", "synth", "run", "train", "bench", "ui", "cli"]  # the pipeline, in order


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        if rel.name == "_modidx": continue
        yield ".".join(("clawgym",) + rel.parts).removesuffix(".__init__"), p


def _imports(name, path):
    "(imported clawgym module, names taken from it) for each import in the module's code."
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("clawgym"): yield base, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("clawgym"): yield a.name, []


def _stage(mod):
    parts = mod.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 else None


MODULES = dict(_modules())


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_look_back_along_the_pipeline(name):
    mine = _stage(name)
    later = [m for m, _ in _imports(name, MODULES[name]) if _stage(m) is not None and _stage(m) > mine]
    assert not later, f"{name} (stage {STAGES[mine]}) imports later stages: {later}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_across_modules(name):
    taken = [f"{m}.{n}" for m, names in _imports(name, MODULES[name]) if m != name for n in names if n.startswith("_") and not n.startswith("__")]
    assert not taken, f"{name} imports private names of other modules: {taken}"


def test_every_stage_is_a_folder_and_the_tree_holds_nothing_else():
    top = sorted(p.name for p in PKG.iterdir() if not p.name.startswith((".", "_")) and p.name != "assets")
    assert top == sorted(["core.py", "cli.py"] + [s for s in STAGES if s not in ("core", "cli")])
