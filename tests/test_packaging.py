"""What a wheel ships (issue 11: an installed wheel could not run `chip2chat plan`: the package data
left out catalog/designs, catalog/scenarios and calibration/measurements). These checks are fast;
scripts/check_wheel.sh, run by .ci/run, builds and installs the wheel for real."""

from __future__ import annotations

import glob
import importlib.util
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "chip2chat"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PATTERNS = PYPROJECT["tool"]["setuptools"]["package-data"]["chip2chat"]


def _data_files() -> list[str]:
    return sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "catalog").rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)


def _matched(pattern: str) -> set[str]:
    # setuptools expands package-data patterns with glob relative to the package, `**` recursive
    return set(glob.glob(pattern, root_dir=PACKAGE, recursive=True))


def test_every_shipped_data_file_matches_a_package_data_pattern():
    # a new catalog folder or file type cannot be forgotten again: it fails here first
    covered = set().union(*(_matched(p) for p in PATTERNS))
    missing = [f for f in _data_files() if f not in covered]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
    assert {"catalog/designs/hbm4-custom.yaml", "catalog/scenarios/voice-assistant.yaml",
            "catalog/calibration/measurements/gemm_shapes.csv"} <= covered


def test_every_package_data_pattern_matches_a_file():
    # a pattern that matches nothing is a typo that would hide a missing file
    assert all(_matched(p) for p in PATTERNS), [p for p in PATTERNS if not _matched(p)]


def test_every_code_folder_is_found_as_a_package():
    # serving/ and validate/ have no __init__.py: they ship only because the pyproject's package
    # discovery includes namespace packages (its default); keep it that way
    setuptools = pytest.importorskip("setuptools")
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find.get("namespaces", True) is True
    found = set(setuptools.find_namespace_packages(where=str(ROOT / "src")))
    folders = {".".join(p.parent.relative_to(ROOT / "src").parts) for p in PACKAGE.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert folders <= found, folders - found


def test_the_version_has_one_home():
    # pyproject.toml sets it; the package and `chip2chat --version` read the installed metadata
    import chip2chat

    assert chip2chat.__version__ == version("chip2chat") == PYPROJECT["project"]["version"]
    assert not re.search(r"__version__\s*=\s*['\"]\d+\.\d+", (PACKAGE / "__init__.py").read_text())


def test_version_option_prints_the_version(capsys):
    from chip2chat.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"chip2chat {version('chip2chat')}"


def test_wheel_check_runs_the_readme_example_it_reads_from_the_readme():
    # the CI wheel check takes the example from README.md itself, so it cannot drift from it
    spec = importlib.util.spec_from_file_location("readme_example", ROOT / "scripts" / "readme_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    code, expected = module.example((ROOT / "README.md").read_text())
    assert "c2c.estimate(" in code and "import chip2chat as c2c" in code
    assert re.fullmatch(r"\d+ ms TTFT, .* tok/s, \w+-bound", expected.strip())


def test_ci_runs_the_wheel_check_after_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make test") < ci.index("scripts/check_wheel.sh")
    script = (ROOT / "scripts" / "check_wheel.sh").read_text()
    for step in ("pip wheel", "venv", "chip2chat\" plan", "readme_example.py"):
        assert step in script, step
