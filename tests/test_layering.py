"""The data flow is the import graph: a stage imports earlier stages only, never a later one.

units/errors -> catalog -> hardware -> models/silicon -> costs -> engine -> workload -> serving -> voice
-> configure -> datacenter -> explore -> validate/calibrate -> report -> cli (DESIGN.md, "No module
reaches backwards"). configure/ searches serving configurations with the serving simulator and is
used by the fleet plan, so it sits between them. silicon/ is the chip model only (a design -> its
area, cost, power and Accelerator), so it sits beside models/, below the cost model. Checked on
the source with ast, so a violation fails here, not in review.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "chip2chat"
ORDER = {"units": 0, "errors": 0, "args": 0, "userfiles": 1, "catalog": 1, "hardware": 2, "models": 3, "costs": 4,
         "engine": 5, "workload": 6, "serving": 7, "voice": 8, "configure": 9, "silicon": 3, "datacenter": 10, "energy": 10,
         "explore": 11, "validate": 12, "calibrate": 12, "report": 13, "cli": 14}


def _stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chip2chat."):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("chip2chat."))


FILES = [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_reaches_backwards(path):
    rel = path.relative_to(PACKAGE)
    here = rel.parts[0].removesuffix(".py")
    assert here in ORDER, f"{rel}: add its stage to ORDER"
    for module in _imports(path):
        there = _stage(module)
        assert ORDER[there] <= ORDER[here], f"{rel} ({here}) imports {module} ({there}), a later stage"
