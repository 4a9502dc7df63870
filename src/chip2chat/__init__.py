"""chip2chat: plan and co-design the stack behind a voice AI service. Python first, CLI second:
each command of the CLI is one function here, returning dataclasses or DataFrames.

    import chip2chat as c2c
    r = c2c.estimate(model="llama-3.1-70b", hardware="h200", tp=8, batch=64, input_len=1024, output_len=256)
    sim = c2c.simulate(model="llama-3.1-8b", hardware="h100", rate_per_s=20, num_requests=100_000, seed=0)
    result = c2c.plan()                                   # the shipped ChatGPT-scale scenario
    result.table                                          # per option and year: chips, MW, $/Mtok
    c2c.voice("my-scenario.yaml")                         # DataFrame: time to first audio
    c2c.chip("hbm4-custom", model="llama-3.1-70b", compare=["h200"]).serving
    c2c.sweep("examples/sweep_hbm4.yaml", "out/hbm4", backend="vector")
    c2c.validate()                                        # DataFrame: predicted vs measured
    c2c.configure("llama-3.1-70b", "h200", weight_dtype="fp8", gpus=8, slo_ttft_ms=300, slo_tpot_ms=30).best

plan, voice, chip and sweep take a path to a YAML file, a catalog name (catalog/scenarios,
catalog/designs), a mapping of the same fields, or the validated object itself (Scenario,
VoiceSpec, ChipDesign, SweepSpec). A wrongly typed argument is a one-line Chip2ChatError naming
the argument and what it takes. They wrap the stages' own functions (datacenter.plan.plan,
voice.run.compare, explore.compare.compare_chips, explore.sweep.run_sweep,
validate.run.validate, configure.search.configure), imported on call. `voice`, `validate` and
`configure` are also subpackages: the subpackage is callable as the function (see `_callable_package`).
"""

from __future__ import annotations

import os
import types
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from chip2chat import args
from chip2chat.engine.estimate import Estimate, estimate
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.load import load_model
from chip2chat.serving.config import ClusterConfig, DecodePool, SchedulerConfig, Slo
from chip2chat.serving.simulate import SimulationResult, simulate

try:
    __version__ = version("chip2chat")  # the one home of the version string: pyproject.toml
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from chip2chat.configure.result import ConfigureResult
    from chip2chat.datacenter.plan import PlanResult

__all__ = ["ChipResult", "Chip2ChatError", "ClusterConfig", "DecodePool", "Estimate", "ParallelPlan", "SchedulerConfig",
           "SimulationResult", "Slo", "chip", "configure", "estimate", "load_hardware", "load_model", "plan", "simulate",
           "sweep", "validate", "voice"]

DEFAULT_SCENARIO = "chatgpt-scale"
"""catalog/scenarios/chatgpt-scale.yaml: the default of `plan`, as on the CLI (an assistant at
ChatGPT's scale, where the custom-chip question is asked)."""
DEFAULT_VOICE = "voice-assistant"
"""catalog/scenarios/voice-assistant.yaml: the default of `voice` (a scenario with a voice pipeline),
as on the CLI; `plan("voice-assistant")` plans its small fleet."""


@dataclass
class ChipResult:
    """A custom chip's silicon and how it serves a model next to catalog chips."""

    silicon: Any
    """chip2chat.silicon.model.SiliconReport: die area, yield, unit cost, power."""
    serving: pd.DataFrame
    """One row per chip (the design first): tokens/s/chip, tokens/J, $/Mtok, TTFT/TPOT; a chip
    that cannot hold the model has its reason in `error`."""


def plan(scenario: Any = DEFAULT_SCENARIO, *, progress: Callable[[int, int], None] | None = None,
         workers: int = 1) -> "PlanResult":
    """Size the fleet for a demand forecast: a PlanResult whose `table` has one row per option
    and year (chips, racks, MW, MWh, tCO2, $/Mtok, cheapest meeting the SLO). `workers`: processes
    that search the options' serving configurations side by side (the same answer)."""
    from chip2chat.datacenter.plan import plan as run_plan
    from chip2chat.datacenter.scenario import Scenario, load_scenario

    spec = _spec("scenario", scenario, Scenario, load_scenario, "scenarios")
    args.positive_int("workers", workers)
    return run_plan(spec, progress=progress, workers=workers)


def voice(spec: Any = DEFAULT_VOICE) -> pd.DataFrame:
    """Time to first audio per configuration and network (a voice YAML, or a scenario with a
    `voice:` section): one row each, with its stages, p50/p90/p99 and device energy."""
    from chip2chat.voice.run import compare
    from chip2chat.voice.scenario import VoiceSpec, load_voice, voice_from_dict

    return compare(_spec("spec", spec, VoiceSpec, load_voice, "scenarios", from_dict=voice_from_dict))


def chip(design: Any, *, model: str | os.PathLike = "llama-3.1-70b", compare: Any = ("h200", "b200"), tp: int = 1,
         batch: int = 64, input_len: int = 1024, output_len: int = 256, weight_dtype: str = "fp8",
         rate_per_s: float = 5.0, num_requests: int = 500) -> ChipResult:
    """A custom chip (a design YAML, a catalog design name, a mapping or a ChipDesign): its silicon,
    and `model` served on it and on each catalog chip of `compare`, at a static batch and under
    a simulated workload of `rate_per_s` requests/s."""
    from chip2chat.explore.compare import compare_chips
    from chip2chat.silicon.design import ChipDesign, design_from_dict, load_design
    from chip2chat.silicon.model import evaluate

    chosen = _spec("design", design, ChipDesign, load_design, "designs", from_dict=design_from_dict)
    _path_like("model", model, "a catalog model name or a path to a config.json")
    if isinstance(compare, str):
        compare = [c.strip() for c in compare.split(",") if c.strip()]
    if not isinstance(compare, (list, tuple)) or not all(isinstance(c, (str, Accelerator)) for c in compare):
        raise _wrong("compare", compare, "a list of catalog chip names, YAML paths or Accelerators, e.g. ['h200', 'b200']")
    settings = {name: args.positive_int(name, value) for name, value in
                (("tp", tp), ("batch", batch), ("input_len", input_len), ("output_len", output_len),
                 ("num_requests", num_requests))}
    settings["rate_per_s"] = args.number("rate_per_s", rate_per_s, low=0, low_open=True)
    if not isinstance(weight_dtype, str):
        raise _wrong("weight_dtype", weight_dtype, "a dtype name: bf16, fp8, int8, fp4 or int4")
    report = evaluate(chosen)
    rows = compare_chips(chosen, report, list(compare), model=str(model),
                         weight_dtype=weight_dtype, **settings)
    return ChipResult(silicon=report, serving=pd.DataFrame(rows))


def sweep(spec: Any, out_dir: str | os.PathLike = "out/sweep", *, backend: str = "local", workers: int = 1,
          address: str | None = None, num_cpus: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run a sweep (a sweep YAML, a mapping or a SweepSpec) into `out_dir`'s resumable store and
    return one row per point: its fields, its results or `error`, and `pareto` when the sweep has
    objectives. Points that failed are rows with `error` set; check `frame.error`."""
    from chip2chat.explore.space import SweepSpec, load_sweep
    from chip2chat.explore.sweep import run_sweep

    chosen = _spec("spec", spec, SweepSpec, load_sweep, None)
    _path_like("out_dir", out_dir, "a folder path")
    if not isinstance(backend, str):
        raise _wrong("backend", backend, "'local', 'ray' or 'vector'")
    if address is not None and not isinstance(address, str):
        raise _wrong("address", address, "a Ray cluster address such as 'ray://head:10001', or None")
    if num_cpus is not None:
        args.positive_int("num_cpus", num_cpus)
    return run_sweep(chosen, out_dir, backend=backend, address=address, workers=args.positive_int("workers", workers),
                     num_cpus=num_cpus, progress=progress)


def validate(paths: Any = None, *, workers: int = 2) -> pd.DataFrame:
    """Predict published measurements (the shipped rows, or your CSVs in the same columns) and
    compare: one row per metric with measured, predicted, error_pct, or status 'skipped' and why."""
    from chip2chat.validate.run import validate as run_validate

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if paths is not None and (not isinstance(paths, (list, tuple))
                              or not all(isinstance(p, (str, os.PathLike)) for p in paths)):
        raise _wrong("paths", paths, "None (the shipped rows), a CSV path or a list of CSV paths")
    return run_validate(None if paths is None else [str(p) for p in paths], workers=args.positive_int("workers", workers))


def configure(model: str | os.PathLike, chips: Any, **options) -> "ConfigureResult":
    """The best serving configuration of `model` on `chips` (a chip or a list: catalog names, YAML
    files, chip designs) under an SLO, within a GPU budget (`gpus=`) or for a request rate
    (`rate_per_s=`): the simulated finalists, their Pareto front, the choice and its launch files.
    The options are those of chip2chat.configure.search.configure (engine, weight_dtype, lengths or
    a trace, slo_ttft_ms / slo_tpot_ms / tokens_per_s_per_user, space, finalists, seed, workers)."""
    from chip2chat.configure.search import configure as run_configure

    _path_like("model", model, "a catalog model name or a path to a config.json")
    return run_configure(str(model), chips, **options)


def _callable_package(package: types.ModuleType, fn: Callable) -> types.ModuleType:
    """Make `package` callable as `fn`. `chip2chat.voice` and `chip2chat.validate` are functions
    and subpackages at once: importing a subpackage sets it as an attribute of its parent, which
    would replace a plain function of that name, so the subpackage itself calls the function
    (`chip2chat.voice(...)`, `import chip2chat.voice.run` and `chip2chat.voice.run.compare` all
    work, in any order)."""
    package.__class__ = _CallablePackage
    package.__wrapped__ = fn  # inspect.signature and help() of the call follow it
    return package


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)


def _spec(argument: str, value: Any, cls: type, load: Callable, catalog_folder: str | None,
          from_dict: Callable | None = None):
    """`value` as a `cls`: itself, read from a path or a catalog name, or validated from a mapping."""
    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.errors import validated

    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return from_dict(value, argument) if from_dict else validated(cls, value, argument)
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        shipped = CATALOG_DIR / catalog_folder / f"{value}.yaml" if catalog_folder else None
        return load(shipped if shipped is not None and isinstance(value, str) and shipped.is_file() else value)
    named = f", a name from catalog/{catalog_folder}" if catalog_folder else ""
    raise _wrong(argument, value, f"a path to a YAML file{named}, a mapping of its fields or a {cls.__name__}")


def _path_like(argument: str, value: Any, allowed: str) -> None:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise _wrong(argument, value, allowed)


def _wrong(argument: str, value: Any, allowed: str) -> Chip2ChatError:
    shown = " ".join(repr(value).split())
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return Chip2ChatError(f"{argument} must be {allowed}, got {type(value).__name__} {shown}")


# the functions first: importing a subpackage rebinds its name here to the module
_functions = {"voice": voice, "validate": validate, "configure": configure}
voice = _callable_package(import_module("chip2chat.voice"), _functions["voice"])
validate = _callable_package(import_module("chip2chat.validate"), _functions["validate"])
configure = _callable_package(import_module("chip2chat.configure"), _functions["configure"])
del _functions
