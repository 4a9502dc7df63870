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
and Pareto objectives.
"""

from __future__ import annotations

import importlib
from typing import Callable

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
"""Name -> the batch form of an evaluator (a list of points -> a list of (result, error)), used by
run_sweep's `vector` backend."""


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
