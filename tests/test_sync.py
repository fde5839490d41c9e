"""The notebooks are the source: exporting and cleaning them must reproduce the committed modules and notebooks exactly."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _copy_project(dst: Path) -> Path:
    for name in ["settings.ini", "setup.py", "pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / "nbs", dst / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_docs", "_proc"))
    shutil.copytree(ROOT / "clawgym", dst / "clawgym", ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _tree(root: Path, pattern: str) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob(pattern)) if "__pycache__" not in p.parts}


def test_export_reproduces_modules(tmp_path):
    proj = _copy_project(tmp_path)
    before = _tree(proj / "clawgym", "**/*.py")
    subprocess.run([BIN / "nbdev_export"], cwd=proj, check=True, capture_output=True)
    after = _tree(proj / "clawgym", "**/*.py")
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"modules out of sync with notebooks (run `make export` and commit): {changed}"


def test_notebooks_are_clean(tmp_path):
    proj = _copy_project(tmp_path)
    before = _tree(proj / "nbs", "*.ipynb")
    subprocess.run([BIN / "nbdev_clean"], cwd=proj, check=True, capture_output=True)
    after = _tree(proj / "nbs", "*.ipynb")
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert not changed, f"notebooks carry outputs or metadata nbdev_clean removes (run `make export`): {changed}"
