"""Python first (issue 11): every command is a top-level function returning dataclasses or
DataFrames, taking a path, a catalog name, a mapping or the object itself; a wrongly typed or None
argument is a one-line Chip2ChatError naming the argument and what it takes, never a TypeError
from deep inside. `voice` and `validate` are subpackage names too: both uses keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import chip2chat as c2c
from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import Chip2ChatError

ROOT = Path(__file__).parent.parent
DESIGN = yaml.safe_load((CATALOG_DIR / "designs" / "hbm4-custom.yaml").read_text())
SWEEP = {"name": "api", "base": {"design": DESIGN, "serve": {"model": "llama-3.1-8b", "batch": 8}},
         "grid": {"design.hbm.stacks": [4, 8]}, "objectives": {"usd_per_mtok": "min", "joules_per_token": "min"}}


def one_line_error(fn, *mentions, **kwargs) -> str:
    with pytest.raises(Chip2ChatError) as info:
        fn(**kwargs)
    message = str(info.value)
    assert "\n" not in message and all(m in message for m in mentions), message
    return message


def test_all_is_explicit_and_complete():
    assert set(c2c.__all__) >= {"estimate", "simulate", "plan", "voice", "chip", "sweep", "validate"}
    assert all(callable(getattr(c2c, name)) for name in c2c.__all__)


FRESH_IMPORTS = """
import chip2chat, chip2chat.voice.run
import chip2chat.validate.run as validate_run
from chip2chat import validate, voice
from chip2chat.voice.scenario import load_voice
assert chip2chat.voice.run.compare.__module__ == "chip2chat.voice.run" and callable(validate_run.validate)
assert voice is chip2chat.voice and validate is chip2chat.validate
print(type(chip2chat.voice(sys.argv[1])).__name__, callable(chip2chat.validate))
"""


@pytest.mark.parametrize("first", ["import chip2chat", "import chip2chat.voice.run", "import chip2chat.validate.data",
                                   "import chip2chat.cli"])
def test_voice_and_validate_are_functions_and_subpackages_in_any_import_order(first):
    # importing a subpackage sets it as an attribute of chip2chat; a plain function of the same
    # name would be replaced by the module, so the check runs in fresh interpreters, whatever
    # is imported first
    scenario = str(CATALOG_DIR / "scenarios" / "voice-assistant.yaml")
    p = subprocess.run([sys.executable, "-c", f"import sys\n{first}\n{FRESH_IMPORTS}", scenario],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-1500:]
    assert p.stdout.split() == ["DataFrame", "True"]


def test_the_cli_voice_command_still_works_after_import_chip2chat(tmp_path, capsys):
    from chip2chat.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["voice", "--json", "--plot", str(tmp_path / "voice.png")])
    assert exit_info.value.code == 0 and '"configuration"' in capsys.readouterr().out


def test_plan_takes_a_catalog_name_by_default_and_returns_its_table():
    result = c2c.plan()
    assert isinstance(result.table, pd.DataFrame) and {"option", "year", "chips"} <= set(result.table.columns)


def test_voice_takes_a_path_a_name_or_a_spec():
    from chip2chat.voice.scenario import load_voice

    path = CATALOG_DIR / "scenarios" / "voice-assistant.yaml"
    by_path, by_name, by_object = c2c.voice(path), c2c.voice("voice-assistant"), c2c.voice(load_voice(path))
    assert isinstance(by_path, pd.DataFrame) and len(by_path) > 0
    assert by_path.equals(by_name) and by_path.equals(by_object)


def test_chip_serves_a_model_on_a_design_next_to_catalog_chips():
    from chip2chat.silicon.design import design_from_dict

    kw = dict(model="llama-3.1-8b", compare=["h200"], num_requests=30, rate_per_s=2.0)
    by_name = c2c.chip("hbm4-custom", **kw)
    assert isinstance(by_name, c2c.ChipResult) and by_name.silicon.unit_cost_usd > 0
    assert list(by_name.serving["chip"])[0] == DESIGN["name"] and len(by_name.serving) == 2
    by_object = c2c.chip(design_from_dict(DESIGN), **kw)
    by_mapping = c2c.chip(DESIGN, **kw)
    assert by_object.silicon == by_name.silicon == by_mapping.silicon


def test_sweep_takes_a_path_a_mapping_or_a_spec(tmp_path):
    from chip2chat.explore.space import SweepSpec

    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP))
    from_path = c2c.sweep(path, tmp_path / "a", backend="vector")
    from_mapping = c2c.sweep(SWEEP, tmp_path / "b")
    from_spec = c2c.sweep(SweepSpec(**SWEEP), tmp_path / "b")  # resumed: nothing left to compute
    assert len(from_path) == len(from_mapping) == len(from_spec) == 2 and from_path["error"].isna().all()
    assert "pareto" in from_spec and (tmp_path / "a" / "results.duckdb").exists()


def test_validate_takes_one_csv_or_a_list(tmp_path):
    shipped = (CATALOG_DIR / "validation" / "trtllm_perf.csv").read_text().splitlines()
    mine = tmp_path / "mine.csv"
    mine.write_text("\n".join(shipped[:3]) + "\n")
    one, listed = c2c.validate(mine, workers=1), c2c.validate([str(mine)], workers=1)
    assert isinstance(one, pd.DataFrame) and len(one) >= 2 and one.equals(listed)


@pytest.mark.parametrize("fn, kwargs, mentions", [
    (c2c.plan, {"scenario": None}, ("scenario", "Scenario", "NoneType")),
    (c2c.plan, {"scenario": 42}, ("scenario", "a path to a YAML file", "int 42")),
    (c2c.plan, {"scenario": "no-such-scenario.yaml"}, ("no-such-scenario.yaml", "no such file")),
    (c2c.voice, {"spec": ["wifi"]}, ("spec", "VoiceSpec", "list")),
    (c2c.voice, {"spec": {"networks": []}}, ("networks",)),
    (c2c.chip, {"design": None}, ("design", "ChipDesign", "NoneType")),
    (c2c.chip, {"design": "hbm4-custom", "tp": "2"}, ("tp must be a positive integer", "'2'")),
    (c2c.chip, {"design": "hbm4-custom", "tp": 0}, ("tp must be a positive integer", "got 0")),
    (c2c.chip, {"design": "hbm4-custom", "compare": [1, 2]}, ("compare", "catalog chip names")),
    (c2c.chip, {"design": "hbm4-custom", "model": None}, ("model", "catalog model name")),
    (c2c.chip, {"design": "hbm4-custom", "rate_per_s": float("nan")}, ("rate_per_s must be a finite number",)),
    (c2c.chip, {"design": "hbm4-custom", "weight_dtype": 8}, ("weight_dtype", "bf16")),
    (c2c.chip, {"design": {"name": "x"}}, ("design", "process_node")),
    (c2c.sweep, {"spec": None, "out_dir": "out"}, ("spec", "SweepSpec")),
    (c2c.sweep, {"spec": SWEEP, "out_dir": None}, ("out_dir", "folder path")),
    (c2c.sweep, {"spec": SWEEP, "out_dir": "x", "workers": 2.5}, ("workers must be a positive integer",)),
    (c2c.sweep, {"spec": SWEEP, "out_dir": "x", "backend": None}, ("backend", "'local', 'ray' or 'vector'")),
    (c2c.sweep, {"spec": SWEEP, "out_dir": "x", "backend": "gpu"}, ("backend", "gpu", "local, ray, vector")),
    (c2c.validate, {"paths": 5}, ("paths", "list of CSV paths")),
    (c2c.validate, {"paths": [None]}, ("paths",)),
    (c2c.validate, {"workers": "2"}, ("workers must be a positive integer",)),
])
def test_wrong_arguments_are_one_line_errors_naming_the_argument(fn, kwargs, mentions):
    one_line_error(fn, *mentions, **kwargs)
