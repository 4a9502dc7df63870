"""Evaluators: pure functions from a point (nested dict) to a flat dict of results.

A sweep names its evaluator (`SweepSpec.evaluator`); the name is looked up here. Register a new
one with a decorator, in a module that worker processes can import (the function travels to
them by reference: its module and name):

    @register("toy")
    def toy(point: dict) -> dict:
        return {"cost": point["x"] ** 2}

Results must be flat: numbers or strings keyed by column name. They become DataFrame columns
and Pareto objectives.
"""

from __future__ import annotations

from typing import Callable

from chip2chat.errors import Chip2ChatError

Evaluator = Callable[[dict], dict]

EVALUATORS: dict[str, Evaluator] = {}
"""Name -> evaluator. The "chip" evaluator (a chip design point -> cost, power, tokens/s) is
added by the chip co-design code; tests register their own."""


def register(name: str) -> Callable[[Evaluator], Evaluator]:
    """Decorator: add `fn` to EVALUATORS under `name` (a later registration replaces it)."""

    def add(fn: Evaluator) -> Evaluator:
        EVALUATORS[name] = fn
        return fn

    return add


def get_evaluator(name: str) -> Evaluator:
    """The registered evaluator, or an error listing the known names."""
    if name not in EVALUATORS:
        known = ", ".join(sorted(EVALUATORS)) or "none registered"
        raise Chip2ChatError(f"unknown evaluator {name!r} (known: {known}); import the module that registers it")
    return EVALUATORS[name]
