"""A sweep described as data: a base point, a grid and random samples over dotted paths.

    spec = load_sweep("sweep.yaml")
    for point in spec.points(): ...          # deep copies of `base` with each path set

Points are plain nested dicts of JSON values, so they pickle to workers, hash to a stable key
(`point_key`) and store as JSON.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from chip2chat.userfiles import read_mapping
from chip2chat.errors import ConfigError, validated


class Param(BaseModel):
    """One randomly sampled parameter: a range (`low`, `high`) or a list of `choices`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float | None = None
    """Lower end of the range (inclusive)."""
    high: float | None = None
    """Upper end of the range (inclusive for integers)."""
    log: bool = False
    """Sample uniformly in log space (for quantities spanning decades); needs low > 0."""
    choices: list | None = None
    """Values to pick from uniformly; use instead of low/high."""
    integer: bool = False
    """Round range samples to whole numbers (stacks, chips, batch sizes)."""
    unit: str | None = None
    """Unit of low/high for a dimensioned field (e.g. MB, W, TB/s): each sample is written with it
    ('337.7 MB'), since a dimensioned number needs its unit. None: a plain number."""

    @model_validator(mode="after")
    def _range_or_choices(self) -> Param:
        has_range = self.low is not None or self.high is not None
        if self.choices is not None:
            if has_range:
                raise ValueError("give either choices or low/high, not both")
            if not self.choices:
                raise ValueError("choices is empty; list at least one value")
            _check_plain(self.choices, "choices")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give both low and high (or choices)")
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}; swap them")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0 (got {self.low}); raise low or set log: false")
        return self

    def sample(self, rng) -> Any:
        """One draw from `rng` (a numpy Generator), as a plain Python value."""
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.integer and not self.log:
            value = int(rng.integers(math.ceil(self.low), math.floor(self.high) + 1))
        elif self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = float(rng.uniform(self.low, self.high))
        value = int(round(value)) if self.integer else value
        return value if self.unit is None else f"{value!r} {self.unit}"


class RandomSpec(BaseModel):
    """Random samples drawn with numpy's default_rng(seed), crossed with every grid point."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    samples: int = Field(ge=1)
    """Number of random draws."""
    seed: int = 0
    """Seed of the generator: the same seed gives the same points."""
    params: dict[str, Param]
    """Dotted path in the point -> how to sample it."""


class SweepSpec(BaseModel):
    """Many independent design points: `base` with each grid x random combination applied."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = "sweep"
    """Label of the sweep (shown in progress bars and plots)."""
    evaluator: str = "chip"
    """A name in chip2chat.explore.evaluate.EVALUATORS ("chip", "chip_sim"), or a function given as
    "module:function" (importable by the worker processes), that maps a point to results."""
    base: dict
    """The base point (nested dict); every point is a deep copy of it with some paths set."""
    grid: dict[str, list] = {}
    """Dotted path -> values; the sweep takes the cartesian product in the order written."""
    random: RandomSpec | None = None
    """Random samples, crossed with every grid combination."""
    objectives: dict[str, Literal["min", "max"]] = {}
    """Result columns to trade off, each minimised or maximised, for the Pareto front."""

    @field_validator("base")
    @classmethod
    def _finite_base(cls, base: dict) -> dict:
        _check_plain(base, "base")
        return base

    @field_validator("grid")
    @classmethod
    def _grid_paths(cls, grid: dict[str, list], info: ValidationInfo) -> dict[str, list]:
        for path, values in grid.items():
            if not values:
                raise ValueError(f"grid path {path!r} has no values; list at least one")
            _check_plain(values, f"grid {path!r}")
        _check_paths(list(grid), info.data.get("base", {}))
        return grid

    @field_validator("random")
    @classmethod
    def _random_paths(cls, spec: RandomSpec | None, info: ValidationInfo) -> RandomSpec | None:
        if spec is not None:
            _check_paths(list(info.data.get("grid", {})) + list(spec.params), info.data.get("base", {}))
        return spec

    def points(self) -> list[dict]:
        """Every point, grid-major then sample, in a deterministic order."""
        grid_paths = list(self.grid)
        combos = itertools.product(*(self.grid[p] for p in grid_paths))
        grid_sets = [dict(zip(grid_paths, combo)) for combo in combos]
        samples = [{}]
        if self.random is not None:
            import numpy as np

            rng = np.random.default_rng(self.random.seed)
            samples = [{path: param.sample(rng) for path, param in self.random.params.items()}
                       for _ in range(self.random.samples)]
        out = []
        for grid_set in grid_sets:
            for sample in samples:
                point = plain_copy(self.base)
                for path, value in {**grid_set, **sample}.items():
                    set_path(point, path, plain_copy(value))
                out.append(point)
        return out


def plain_copy(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, scalars): what deepcopy does, ~20x faster."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
    return value


def set_path(point: dict, path: str, value: Any) -> None:
    """Set `point[a][b][c] = value` for path "a.b.c", creating missing dicts on the way."""
    node = point
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            at = ".".join(parts[: i + 1])
            raise ConfigError("sweep", path, f"base value at {at!r} is {child!r}, not a mapping, so it has no keys to set")
        node = child
    node[parts[-1]] = value


def _check_plain(value: Any, where: str) -> None:
    """Raise ValueError naming the first value in `value` that is not plain JSON data: a NaN or an
    infinity (YAML's .nan, .inf: such a point cannot be costed, and NaN != NaN would break its
    identity), a key that is not a string, a date or other YAML object (no stable JSON key)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value}; sweep values must be finite numbers")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has the key {key!r}; keys must be strings (quote it)")
            _check_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif value is not None and not isinstance(value, (str, int, float)):
        raise ValueError(f"{where} is a {type(value).__name__} ({value!r}); use a number or a string (quote it)")


def _check_paths(paths: list[str], base: dict) -> None:
    """Raise ValueError for repeated paths, a path nested in another, or one blocked by base."""
    seen = set()
    for path in paths:
        if not path or any(not part for part in path.split(".")):
            raise ValueError(f"path {path!r} has an empty part; write dotted keys like design.hbm.stacks")
        if path in seen:
            raise ValueError(f"path {path!r} is set twice (grid and random?); keep one")
        seen.add(path)
    for path in paths:
        for other in paths:
            if other.startswith(path + "."):
                raise ValueError(f"path {other!r} lies inside {path!r}, which is also swept; keep one")
        try:
            set_path(copy.deepcopy(base), path, None)
        except ConfigError as exc:
            raise ValueError(f"path {path!r}: {str(exc).split(': ', 2)[-1]}") from None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML file; errors name the file and the field path."""
    return validated(SweepSpec, read_mapping(path, "a sweep (base, grid, random, objectives)"), str(path))


def point_key(point: dict) -> str:
    """Stable id of a point: sha256 of its canonical JSON (sorted keys, no spaces), 16 hex chars."""
    text = json.dumps(point, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
