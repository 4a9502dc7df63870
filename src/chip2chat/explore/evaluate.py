"""Evaluators: pure functions from a point (nested dict) to a flat dict of results.

A sweep names its evaluator (`SweepSpec.evaluator`). The name is looked up in EVALUATORS, a plain
dict of name -> "module:function" (imported when a sweep uses it, so nothing has to be imported
beforehand to register it) or a callable. A sweep may also name a function directly as
"module:function". Add your own by assignment or with the decorator, in a module that worker
processes can import (the function travels to them by reference: its module and name):

    @register("toy")
    def toy(point: dict) -> dict:
        return {"cost": point["x"] ** 2}

Results must be flat: numbers or strings keyed by column name. They become DataFrame columns
and Pareto objectives. A vectorised evaluator (VECTOR_EVALUATORS) takes a PointTable and returns
`Results`: its columns, one value per point, and per point an error or None.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from chip2chat.errors import Chip2ChatError

Evaluator = Callable[[dict], dict]
Check = Callable[[dict], None]

EVALUATORS: dict[str, Evaluator | str] = {
    "chip": "chip2chat.explore.chip:evaluate_chip",
    "chip_sim": "chip2chat.explore.chip:evaluate_chip_sim",
}
"""Name -> evaluator, or "module:function" imported on first use. "chip" costs a design point's
static batch, "chip_sim" simulates a workload on it (chip2chat.explore.chip)."""

CHECKS: dict[str, Check | str] = {
    "chip": "chip2chat.explore.chip:check_chip_point",
    "chip_sim": "chip2chat.explore.chip:check_chip_sim_point",
}
"""Name -> an optional check of a point's fields, run on a sweep's first point before any work,
so that a misspelt field stops the sweep with one line naming it instead of failing every point.
It raises a Chip2ChatError; it returns nothing."""

VECTOR_EVALUATORS: dict[str, Callable | str] = {"chip": "chip2chat.explore.chip:evaluate_chip_many"}
"""Name -> the batch form of an evaluator (a PointTable -> Results, or a list of (result, error) per
point), used by run_sweep's `vector` backend."""


@dataclass
class Results:
    """What a vectorised evaluator makes of n points: `columns` (name -> n values, a numpy array or a
    list) and `errors` (n entries: None, or the one-line error that replaces the point's results).
    It is also the sequence of (result dict or None, error or None) of each point."""

    columns: dict[str, Sequence]
    errors: list

    def __len__(self) -> int:
        return len(self.errors)

    def __getitem__(self, i: int) -> tuple[dict | None, str | None]:
        if self.errors[i] is not None:
            return None, self.errors[i]
        return {name: _plain(values[i]) for name, values in self.columns.items()}, None

    @classmethod
    def of(cls, outcomes: Results | list, n: int) -> Results:
        """`outcomes` as Results: a list of (result, error) pairs is turned into columns."""
        if isinstance(outcomes, Results):
            return outcomes
        if len(outcomes) != n:
            raise Chip2ChatError(f"the vectorised evaluator returned {len(outcomes)} outcomes for {n} points")
        names = dict.fromkeys(name for result, _ in outcomes if result for name in result)
        columns = {name: [result.get(name) if result else None for result, _ in outcomes] for name in names}
        return cls(columns, [error for _, error in outcomes])

    @classmethod
    def gather(cls, parts: list[tuple[Any, Results]], n: int) -> Results:
        """One Results for n points from parts that each hold the points at an index array."""
        import numpy as np

        errors: list = [None] * n
        columns: dict[str, np.ndarray] = {}
        for index, part in parts:
            for i, error in zip(index.tolist(), part.errors):
                errors[i] = error
            for name, values in part.columns.items():
                values = np.asarray(values)
                if name not in columns:  # points of parts without the column all have errors
                    columns[name] = np.zeros(n, dtype=values.dtype)
                elif columns[name].dtype != values.dtype:
                    columns[name] = columns[name].astype(np.result_type(columns[name], values))
                columns[name][index] = values
        return cls(columns, errors)


def _plain(value):
    """A numpy scalar as the Python number it holds."""
    return value.item() if hasattr(value, "item") else value


def register(name: str, check: Check | None = None) -> Callable[[Evaluator], Evaluator]:
    """Decorator: add `fn` to EVALUATORS under `name` (a later registration replaces it, and its
    check: `check` or none)."""

    def add(fn: Evaluator) -> Evaluator:
        EVALUATORS[name] = fn
        if check is None:
            CHECKS.pop(name, None)
        else:
            CHECKS[name] = check
        return fn

    return add


def get_evaluator(name: str) -> Evaluator:
    """The evaluator called `name` (or the function "module:function" names), or an error listing
    the known names."""
    if name not in EVALUATORS and ":" not in name:
        known = ", ".join(sorted(EVALUATORS)) or "none registered"
        raise Chip2ChatError(f"unknown evaluator {name!r} (known: {known}; or name a function as "
                             "'module:function')")
    return resolve(EVALUATORS.get(name, name), f"evaluator {name!r}")


def get_check(name: str) -> Check | None:
    """The check of evaluator `name`, if it has one."""
    ref = CHECKS.get(name)
    return None if ref is None else resolve(ref, f"check of evaluator {name!r}")


def get_vector_evaluator(name: str) -> Callable:
    """The batch form of evaluator `name`, or an error naming those that have one."""
    if name not in VECTOR_EVALUATORS:
        raise Chip2ChatError(f"--backend: evaluator {name!r} has no vectorised form; vectorised: "
                             f"{', '.join(VECTOR_EVALUATORS)}; use local or ray")
    return resolve(VECTOR_EVALUATORS[name], f"vectorised evaluator {name!r}")


def resolve(ref: Callable | str, what: str) -> Callable:
    """A callable as it is; "module:function" imported (an error naming `what` if it cannot be)."""
    if callable(ref):
        return ref
    module_name, _, attr = str(ref).partition(":")
    if not module_name or not attr:
        raise Chip2ChatError(f"{what}: {ref!r} is neither a callable nor 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise Chip2ChatError(f"{what}: cannot import module {module_name!r} ({exc}); is it on the Python path?") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise Chip2ChatError(f"{what}: module {module_name!r} has no function {attr!r}")
    return fn
