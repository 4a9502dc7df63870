"""A sweep described as data: a base point, a grid and random samples over dotted paths.

    spec = load_sweep("sweep.yaml")
    table = spec.table()                     # every point, as columns
    for point in table: ...                  # or as dicts: copies of `base` with each path set

Points are plain nested dicts of JSON values, so they pickle to workers, hash to a stable key
(`point_key`) and store as JSON. A `PointTable` holds them as columns: each swept value once
(a grid value once, not once per point) and per point its index, so that expanding, hashing and
grouping a million points is array work.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import pandas as pd
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
            return self._written([int(rng.integers(math.ceil(self.low), math.floor(self.high) + 1))])[0]
        return self.from_uniform(np.array([rng.random()]))[0]

    @property
    def one_uniform(self) -> bool:
        """Whether a draw takes exactly one uniform number from the generator (a range that is not
        a plain integer range), so that many draws can be taken at once (`from_uniform`)."""
        return self.choices is None and (self.log or not self.integer)

    def from_uniform(self, u: np.ndarray) -> list:
        """The values `sample` makes of uniform numbers `u` in [0, 1): numpy's uniform(low, high)
        is low + (high - low) * u, so this gives the very same values, draw for draw."""
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            return self._written([math.exp(x) for x in (low + (high - low) * u).tolist()])
        return self._written((self.low + (self.high - self.low) * u).tolist())

    def _written(self, values: list) -> list:
        if self.integer:
            values = [int(round(v)) for v in values]
        return values if self.unit is None else [f"{v!r} {self.unit}" for v in values]


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
        return list(self.table())

    def table(self) -> PointTable:
        """Every point as columns, in the order of `points()`."""
        grid = [(path, list(values)) for path, values in self.grid.items()]
        combos = math.prod(len(values) for _, values in grid)
        samples = self.random.samples if self.random is not None else 1
        columns = {}
        stride = combos
        for path, values in grid:  # itertools.product order: the last path varies fastest
            stride //= len(values)
            columns[path] = (np.repeat(np.arange(combos) // stride % len(values), samples), values)
        if self.random is not None:
            for path, values in _draw(self.random).items():
                columns[path] = (np.tile(np.arange(samples), combos), values)
        return PointTable(self.base, columns, combos * samples)


def _draw(random: RandomSpec) -> dict[str, list]:
    """The random samples of each path, drawn as `Param.sample` draws them, sample after sample."""
    rng = np.random.default_rng(random.seed)
    params = random.params
    if all(param.one_uniform for param in params.values()):  # all at once: row i is sample i
        u = rng.random((random.samples, len(params)))
        return {path: param.from_uniform(u[:, j]) for j, (path, param) in enumerate(params.items())}
    rows = [[param.sample(rng) for param in params.values()] for _ in range(random.samples)]
    return {path: [row[j] for row in rows] for j, path in enumerate(params)}


class PointTable:
    """Points as columns: point i is `base` with each swept path set to `values[codes[i]]` of its
    column (`columns`: path -> (codes, values)). `table[i]` is point i as a dict, `len(table)` the
    number of points; `take` selects points without copying values."""

    def __init__(self, base: dict, columns: dict[str, tuple[np.ndarray, list]], size: int,
                 memo: dict | None = None):
        self.template = plain_copy(base)  # base with every swept path present (None), in point order
        for path in columns:
            set_path(self.template, path, None)
        self.columns = columns
        self.size = size
        self._memo = {} if memo is None else memo  # per-distinct-value work, shared with takes

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> dict:
        point = plain_copy(self.template)
        for path, (codes, values) in self.columns.items():
            set_path(point, path, plain_copy(values[codes[i]]))
        return point

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(self.size))

    def take(self, index: np.ndarray) -> PointTable:
        """The points at `index` (an integer array), in that order."""
        columns = {path: (codes[index], values) for path, (codes, values) in self.columns.items()}
        return PointTable(self.template, columns, len(index), self._memo)

    def mapped(self, path: str, fn: Callable[[Any], Any], default: Any = None) -> np.ndarray:
        """fn(value at dotted `path`, or `default` where there is none) for every point, called once
        per distinct value of the sweep (`fn` must be a pure module-level function: results are kept)."""
        for swept, (codes, values) in self.columns.items():
            if path == swept or path.startswith(swept + "."):
                key = (path, fn, default)
                if key not in self._memo:
                    rest = path[len(swept) + 1:]
                    self._memo[key] = np.array([fn(get_path(v, rest, default)) for v in values])
                return self._memo[key][codes]
            if swept.startswith(path + "."):  # the value at `path` is a mapping that varies inside
                return np.array([fn(get_path(point, path, default)) for point in self])
        return np.full(self.size, fn(get_path(self.template, path, default)))

    def groups(self, paths: list[str]) -> list[np.ndarray]:
        """Indices of the points, split by their values at the swept `paths` (by a value's position
        in its column: equal values listed twice split too), groups in the order of their first point."""
        swept = [self.columns[p] for p in paths if p in self.columns and len(self.columns[p][1]) > 1]
        if not swept or not self.size:
            return [np.arange(self.size)] if self.size else []
        sizes = [len(values) for _, values in swept]
        if math.prod(sizes) < 2**62:
            _, first, inverse = np.unique(np.ravel_multi_index([c for c, _ in swept], sizes), return_index=True,
                                          return_inverse=True)
        else:
            _, first, inverse = np.unique(np.stack([c for c, _ in swept], axis=1), axis=0, return_index=True,
                                          return_inverse=True)
        inverse = inverse.reshape(-1)
        parts = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
        return [parts[g] for g in np.argsort(first)]

    def series(self, path: str) -> pd.Series:
        """The values of swept `path`, one per point, typed as pandas types a list of them."""
        codes, values = self.columns[path]
        key = ("series", path)
        if key not in self._memo:
            nested = any(isinstance(v, (dict, list)) for v in values)
            self._memo[key] = pd.Series(values, dtype=object if nested else None)
        return self._memo[key].take(codes).reset_index(drop=True)

    def keys(self) -> np.ndarray:
        """point_key of every point as an unsigned 64-bit number (its 16 hex digits), in bulk: the
        canonical JSON of the template, with each point's values in the holes, hashed."""
        marks = {path: f"\x00{j}\x00" for j, path in enumerate(self.columns)}
        holed = plain_copy(self.template)
        for path, mark in marks.items():
            set_path(holed, path, mark)
        pieces = re.split(r'"\\u0000(\d+)\\u0000"', canonical_json(holed))
        paths = list(self.columns)
        if sorted(pieces[1::2]) != sorted(str(j) for j in range(len(paths))):  # a base string looks like a hole
            return np.array([int(point_key(p), 16) for p in self], dtype=np.uint64)
        if not paths:
            return np.full(self.size, int(point_key(self.template), 16), dtype=np.uint64)
        text = b"%s".join(piece.replace("%", "%%").encode() for piece in pieces[::2])  # ASCII: JSON escapes the rest
        holes = []
        for j in pieces[1::2]:
            codes, values = self.columns[paths[int(j)]]
            holes.append(np.array([canonical_json(v).encode() for v in values], dtype=object)[codes].tolist())
        sha256 = hashlib.sha256
        digests = b"".join([sha256(text % filling).digest()[:8] for filling in zip(*holes)])
        return np.frombuffer(digests, dtype=">u8").astype(np.uint64)

    def frame(self) -> pd.DataFrame:
        """One row per point, one column per leaf (dotted names), as pandas.json_normalize makes of
        the points."""
        if any(dict in set(map(type, values)) for _, values in self.columns.values()):
            return pd.json_normalize(list(self), sep=".")  # swept mappings: leaves differ by point
        data = {}
        for name, value in flat_leaves(self.template).items():
            if name in self.columns:
                data[name] = self.series(name)
            else:
                data[name] = pd.Series([value]).repeat(self.size).reset_index(drop=True)
        return pd.DataFrame(data, index=pd.RangeIndex(self.size))


def flat_leaves(point: dict, prefix: str = "") -> dict[str, Any]:
    """{dotted path: value} of every leaf, in pandas.json_normalize's order: the top level's plain
    values first, then its mappings' leaves in order (an empty mapping has none)."""
    leaves = {} if prefix else {key: value for key, value in point.items() if not isinstance(value, dict)}
    for key, value in point.items():
        if isinstance(value, dict):
            leaves.update(flat_leaves(value, f"{prefix}{key}."))
        elif prefix:
            leaves[f"{prefix}{key}"] = value
    return leaves


def get_path(point: Any, path: str, default: Any = None) -> Any:
    """point[a][b][c] for path "a.b.c" ("" is the point itself), or `default` where a key is missing."""
    for part in path.split(".") if path else ():
        if not isinstance(point, dict) or part not in point:
            return default
        point = point[part]
    return point


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
            set_path(plain_copy(base), path, None)
        except ConfigError as exc:
            raise ValueError(f"path {path!r}: {str(exc).split(': ', 2)[-1]}") from None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML file; errors name the file and the field path."""
    return validated(SweepSpec, read_mapping(path, "a sweep (base, grid, random, objectives)"), str(path))


def point_key(point: dict) -> str:
    """Stable id of a point: sha256 of its canonical JSON (sorted keys, no spaces), 16 hex chars."""
    return hashlib.sha256(canonical_json(point).encode()).hexdigest()[:16]


def canonical_json(value: Any) -> str:
    """json.dumps(value, sort_keys=True, separators=(",", ":")), with shortcuts for plain values."""
    fast = _CANONICAL.get(type(value))
    return fast(value) if fast is not None else json.dumps(value, sort_keys=True, separators=(",", ":"))


_CANONICAL = {str: json.encoder.encode_basestring_ascii, float: float.__repr__, int: int.__repr__}
"""What json.dumps writes for these exact types (values are finite: NaN and infinity are refused)."""


def hex_keys(keys: np.ndarray) -> np.ndarray:
    """Keys as numbers (PointTable.keys) -> their 16-hex-digit strings (point_key)."""
    text = np.ascontiguousarray(keys, dtype=">u8").tobytes().hex().encode()
    return np.frombuffer(text, dtype="S16").astype(str).astype(object)
