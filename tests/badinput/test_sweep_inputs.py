"""Bad sweep input (issue 11): one line naming the field or folder and what is allowed, exit 2, no
traceback, before any point is computed; a sweep whose every point fails exits 1 with the first
error and the count. A hypothesis test feeds malformed sweep files (wrong types, NaN and infinity,
no base, bad paths) through the same contract."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from contract import api_error, assert_bad
from hypothesis import given, strategies as st

import chip2chat
from chip2chat.catalog import CATALOG_DIR

DESIGN = yaml.safe_load((CATALOG_DIR / "designs" / "hbm4-custom.yaml").read_text())
GOOD = {"name": "bad-input", "evaluator": "chip",
        "base": {"design": DESIGN, "serve": {"model": "llama-3.1-8b", "batch": 8}},
        "grid": {"design.hbm.stacks": [4, 8]}, "objectives": {"usd_per_mtok": "min"}}


def sweep_file(folder: Path, spec) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    return path


def changed(edits: dict) -> dict:
    """GOOD with fields set, or removed where the value is `...`: 'evaluator' is a top field,
    'grid.design.sram' the grid entry 'design.sram', 'base.serve.model' a field inside base."""
    spec = copy.deepcopy(GOOD)
    for path, value in edits.items():
        section, _, rest = path.partition(".")
        if not rest:
            node, key = spec, section
        elif section == "grid":
            node, key = spec["grid"], rest
        else:
            *parents, key = rest.split(".")
            node = spec[section]
            for part in parents:
                node = node.setdefault(part, {})
        if value is ...:
            node.pop(key, None)
        else:
            node[key] = value
    return spec


def run(cli, tmp_path, spec, *args):
    return cli("sweep", sweep_file(tmp_path, spec), "--out", tmp_path / "out", *args)


@pytest.mark.parametrize("edits, mentions", [
    # NaN and infinity: in a grid value, a random range, the base
    ({"grid.design.hbm.stacks": [4, float("nan")]}, ["grid 'design.hbm.stacks'[1] is nan", "finite"]),
    ({"grid.design.tdp": ["900 W", float("inf")]}, ["grid 'design.tdp'[1] is inf"]),
    ({"random": {"samples": 2, "params": {"design.compute_dies": {"low": 1, "high": float("inf")}}}},
     ["random.params.design.compute_dies.high", "finite number"]),
    ({"random": {"samples": 2, "params": {"design.tdp": {"choices": ["700 W", float("nan")]}}}},
     ["choices[1] is nan"]),
    ({"base.economics.pue": float("nan")}, ["base.economics.pue is nan"]),
    # a misspelt field: caught on the first point, before any work, naming its path
    ({"grid.design.sramm": ["64 MB"], "grid.design.hbm.stacks": ...}, ["design.sramm", "not a field", "sram"]),
    ({"base.design.hbm.stackz": 4}, ["design.hbm.stackz", "stacks"]),
    ({"base.serve.modle": "llama-3.1-8b"}, ["serve.modle", "not a field", "model"]),
    ({"base.serve.model": "llama-9"}, ["serve.model", "unknown model 'llama-9'"]),
    ({"base.serve.model": 8}, ["serve.model", "got 8"]),
    ({"base.economics.amortisation_years": 4}, ["economics.amortisation_years", "amortization_years"]),
    ({"base.desing": {}}, ["desing", "not a field here", "design"]),
    # the sweep's own fields
    ({"base": ...}, ["base", "Field required"]),
    ({"base": [1, 2]}, ["base", "valid dictionary"]),
    ({"grid": {"design.hbm.stacks": 4}}, ["grid.design.hbm.stacks", "valid list"]),
    ({"grid": {"design.hbm.stacks": []}}, ["grid", "no values"]),
    ({"grid": {"design..sram": ["1 MB"]}}, ["'design..sram'", "empty part"]),
    ({"grid": {"design.name.x": [1]}}, ["'design.name.x'", "not a mapping"]),
    ({"grid": {"design.hbm": [{}], "design.hbm.stacks": [2]}}, ["lies inside 'design.hbm'"]),
    ({"grids": {}}, ["grids", "Extra inputs"]),
    ({"objectives": {"usd_per_mtok": "minimise"}}, ["objectives.usd_per_mtok", "'min' or 'max'"]),
    ({"random": {"samples": 0, "params": {}}}, ["random.samples", "greater than or equal to 1"]),
    ({"random": {"samples": 2, "params": {"design.compute_dies": {"low": 4, "high": 1}}}}, ["swap them"]),
    ({"evaluator": "chipp"}, ["unknown evaluator 'chipp'", "chip_sim"]),
    ({"evaluator": "no_such_module:f"}, ["cannot import module 'no_such_module'"]),
    ({"evaluator": 5}, ["evaluator", "valid string"]),
])
def test_bad_sweep_field_is_one_line(cli, tmp_path, edits, mentions):
    assert_bad(run(cli, tmp_path, changed(edits)), 2, *mentions)
    assert not (tmp_path / "out" / "results.duckdb").exists()  # nothing was computed


@pytest.mark.parametrize("text, mentions", [
    ("base: {design: {name: x}, when: 2025-01-01}", ["base.when", "date", "quote it"]),
    ("base: {1: x}", ["base", "key 1", "strings"]),
    ("- a list", ["expected a mapping describing a sweep"]),
    ("base: {x: [1,", ["not valid YAML", "line"]),
])
def test_bad_sweep_file_is_one_line(cli, tmp_path, text, mentions):
    assert_bad(run(cli, tmp_path, text), 2, *mentions)


def test_missing_sweep_file(cli, tmp_path):
    assert_bad(cli("sweep", tmp_path / "nope.yaml"), 2, "nope.yaml", "no such file")


@pytest.mark.parametrize("args, mentions", [
    (["--backend", "gpu"], ["backend", "'gpu'", "local, ray, vector"]),
    (["--workers", "0"], ["--workers", ">= 1"]),
])
def test_bad_sweep_option(cli, tmp_path, args, mentions):
    assert_bad(run(cli, tmp_path, GOOD, *args), 2, *mentions)


def test_vector_backend_needs_a_vectorised_evaluator(cli, tmp_path):
    assert_bad(run(cli, tmp_path, changed({"evaluator": "chip_sim"}), "--backend", "vector"), 2,
               "'chip_sim' has no vectorised form", "use local or ray")


def test_a_sweep_whose_every_point_fails_exits_1_with_the_first_error_and_the_count(cli, tmp_path):
    # 40 HBM stacks do not fit: every point is infeasible; before, this exited 0 without a word
    assert_bad(run(cli, tmp_path, changed({"grid.design.hbm.stacks": [40, 41]})), 1,
               "all 2 points of the sweep failed", "the first: ConfigError")
    assert (tmp_path / "out" / "results.csv").exists()  # the failures are kept for reading


def test_an_unusable_output_folder_is_one_line_naming_it(cli, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert_bad(cli("sweep", sweep_file(tmp_path, GOOD), "--out", a_file / "out"), 2, str(a_file / "out"),
               "cannot create the sweep's results folder")


def _read_only_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").write_text("")
    except PermissionError:
        return folder
    # root writes anywhere a mode allows nothing; /sys refuses new files even to root
    probe = Path("/sys/chip2chat-probe")
    try:
        probe.write_text("")
    except OSError:
        return Path("/sys")
    probe.unlink()
    pytest.skip("no folder here refuses writes (running as root without a read-only /sys)")


def test_a_read_only_output_folder_is_one_line_naming_it(cli, tmp_path):
    folder = _read_only_folder(tmp_path)
    try:
        assert_bad(cli("sweep", sweep_file(tmp_path, GOOD), "--out", folder), 2, str(folder),
                   "cannot write the sweep's results store there", "writable --out")
    finally:
        (tmp_path / "read-only").chmod(0o755)


HOLD_STORE = """
import sys, time
from chip2chat.explore.store import ResultStore
store = ResultStore(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_two_sweeps_into_one_folder_is_one_line(cli, tmp_path):
    # DuckDB lets one process write a file; the second sweep gets its lock error, translated
    holder = subprocess.Popen([sys.executable, "-c", HOLD_STORE, str(tmp_path / "out")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        line = assert_bad(run(cli, tmp_path, GOOD), 2, str(tmp_path / "out"), "in use by another sweep")
        assert str(holder.pid) in line
    finally:
        holder.kill()
        holder.wait()


def test_python_api_sweep_errors_are_one_line(tmp_path):
    api_error(chip2chat.sweep, "spec", "SweepSpec", spec=3.5, out_dir=tmp_path)
    api_error(chip2chat.sweep, "design.sramm", spec=changed({"base.design.sramm": "1 MB"}), out_dir=tmp_path / "o")
    api_error(chip2chat.sweep, "is nan", spec=changed({"grid.design.hbm.stacks": [float("nan")]}),
              out_dir=tmp_path / "o")


# --- malformed sweep files from hypothesis ---------------------------------------------------

NOT_A_STRING = st.one_of(st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2),
                         st.booleans(), st.none())
NOT_A_MAPPING = st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.booleans())
NOT_A_LIST = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.dictionaries(st.text(max_size=3),
                                                                                            st.integers(), max_size=1))
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
BAD_PATHS = st.sampled_from(["", ".", "design.", ".design", "design..hbm", "design.name.x", "serve.model.x"])


@st.composite
def malformed(draw) -> dict:
    """GOOD with one thing broken, so that the file must be refused."""
    spec = copy.deepcopy(GOOD)
    kind = draw(st.sampled_from(["type", "non_finite", "no_base", "bad_path"]))
    if kind == "type":
        field, bad = draw(st.sampled_from([
            ("name", NOT_A_STRING), ("evaluator", NOT_A_STRING), ("base", NOT_A_MAPPING), ("grid", NOT_A_MAPPING),
            ("random", NOT_A_MAPPING), ("objectives", NOT_A_MAPPING), ("grid_values", NOT_A_LIST),
            ("samples", st.one_of(st.integers(max_value=0), st.text(max_size=3), st.floats(0.1, 0.9)))]))
        value = draw(bad)
        if field == "grid_values":
            spec["grid"]["design.hbm.stacks"] = value
        elif field == "samples":
            spec["random"] = {"samples": value, "params": {"design.compute_dies": {"low": 1, "high": 2}}}
        else:
            spec[field] = value
    elif kind == "non_finite":
        value = draw(NON_FINITE)
        where = draw(st.sampled_from(["grid", "low", "high", "choices", "base"]))
        if where == "grid":
            spec["grid"]["design.hbm.stacks"] = [4, value]
        elif where == "base":
            spec["base"]["economics"] = {"pue": value}
        elif where == "choices":
            spec["random"] = {"samples": 2, "params": {"design.compute_dies": {"choices": [1, value]}}}
        else:
            rng = {"low": 1, "high": 2, where: value}
            spec["random"] = {"samples": 2, "params": {"design.compute_dies": rng}}
    elif kind == "no_base":
        del spec["base"]
    else:
        spec["grid"] = {draw(BAD_PATHS): [1]}
    return spec


@given(spec=malformed())
def test_malformed_sweep_files_are_one_line_errors(spec):
    from chip2chat.cli import main

    with tempfile.TemporaryDirectory() as folder:
        path = sweep_file(Path(folder), spec)
        code, err = _run_main(main, ["sweep", str(path), "--out", os.path.join(folder, "out")])
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and "Traceback" not in err, (spec, err)
        assert len(lines) == 1 and lines[0].startswith("error:"), (spec, err)
        assert not os.path.exists(os.path.join(folder, "out", "results.duckdb"))


def _run_main(main, argv) -> tuple[int, str]:
    """main(argv) with stderr captured (hypothesis cannot use the function-scoped capsys)."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stderr(buffer):
            main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, buffer.getvalue()
