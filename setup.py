"""Packaging for clawgym: every field comes from settings.ini (the nbdev 2 convention)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

requirements = cfg.get("requirements", "").split()
# Every other `<name>_requirements` key is an optional extra: `hf_requirements` -> pip install "clawgym[hf]".
extras = {k.removesuffix("_requirements"): cfg[k].split() for k in cfg if k.endswith("_requirements") and k != "requirements"}
scripts = [s.strip() for s in cfg.get("console_scripts", "").split() if s.strip()]

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=["clawgym", "clawgym.*"]),
    include_package_data=True,
    package_data={"clawgym": ["assets/**/*"]},
    python_requires=f">={cfg['min_python']}",
    install_requires=requirements,
    extras_require=extras,
    entry_points={"console_scripts": scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
