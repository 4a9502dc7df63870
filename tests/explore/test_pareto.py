"""Pareto fronts on hand-made frames where the answer is known."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.explore.pareto import pareto_front, plot_pareto


def frame() -> pd.DataFrame:
    # cost is minimised, speed maximised
    return pd.DataFrame({
        "name":  ["cheap", "fast", "balanced", "worse", "dup_cheap", "broken", "slow_costly"],
        "cost":  [1.0,      5.0,    3.0,        3.0,     1.0,         math.nan, 6.0],
        "speed": [1.0,      9.0,    6.0,        5.0,     1.0,         100.0,    2.0],
    }, index=[10, 11, 12, 13, 14, 15, 16])


def test_min_and_max_objectives_keep_only_non_dominated_rows():
    front = pareto_front(frame(), {"cost": "min", "speed": "max"})
    on = set(frame()["name"][front])
    # "worse" loses to "balanced" (same cost, slower); "slow_costly" loses to all three;
    # an exact duplicate of a front point stays (equal rows do not dominate each other)
    assert on == {"cheap", "dup_cheap", "fast", "balanced"}
    assert list(front.index) == list(frame().index)


def test_nan_row_is_never_on_the_front_and_dominates_nothing():
    front = pareto_front(frame(), {"cost": "min", "speed": "max"})
    assert not front[15]  # "broken" has the best speed but no cost


def test_flipping_a_sense_changes_the_front():
    # maximising both: the most expensive and the fastest win
    on = set(frame()["name"][pareto_front(frame(), {"cost": "max", "speed": "max"})])
    assert on == {"fast", "slow_costly"}


def test_single_objective_front_is_the_best_rows():
    on = set(frame()["name"][pareto_front(frame(), {"cost": "min"})])
    assert on == {"cheap", "dup_cheap"}


def test_unknown_objective_column_is_a_clear_error():
    with pytest.raises(Chip2ChatError, match="'watts' is not a result column"):
        pareto_front(frame(), {"watts": "min"})


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "front.png"
    plot_pareto(frame(), {"cost": "min", "speed": "max"}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
