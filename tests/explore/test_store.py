"""The DuckDB result store: rows survive reopening, and frames flatten nested points."""

from __future__ import annotations

import math

import numpy as np

from chip2chat.explore.store import ResultStore


def test_added_points_are_done_after_reopening(tmp_path):
    with ResultStore(tmp_path) as store:
        store.add("k1", {"x": 1}, {"cost": 2.0}, None, 0.1)
        store.add("k2", {"x": 2}, None, "ValueError: bad", 0.2)
    with ResultStore(tmp_path) as store:
        # errored points count as done: a pure evaluator would fail the same way again
        assert store.done_keys() == {"k1", "k2"}


def test_frame_has_dotted_point_columns_results_and_errors(tmp_path):
    with ResultStore(tmp_path) as store:
        store.add("a", {"hbm": {"stacks": 8}, "chips": 2}, {"cost": np.float64(3.5), "tag": "ok"}, None, 0.5)
        store.add("b", {"hbm": {"stacks": 12}, "chips": 4}, None, "ValueError: nope", 0.1)
        frame = store.frame()
    assert list(frame["key"]) == ["a", "b"]
    assert {"hbm.stacks", "chips", "cost", "tag", "error", "seconds"} <= set(frame.columns)
    assert list(frame["hbm.stacks"]) == [8, 12]
    assert frame.loc[0, "cost"] == 3.5 and math.isnan(frame.loc[1, "cost"])
    assert frame.loc[1, "error"] == "ValueError: nope"


def test_result_named_like_a_point_column_is_prefixed(tmp_path):
    with ResultStore(tmp_path) as store:
        store.add("a", {"x": 1}, {"x": 10}, None, 0.0)
        frame = store.frame()
    assert frame.loc[0, "x"] == 1 and frame.loc[0, "result.x"] == 10


def test_add_many_stores_every_row(tmp_path):
    rows = [(f"k{i}", {"x": i}, {"y": i * i}, None, 0.0) for i in range(50)]
    with ResultStore(tmp_path) as store:
        store.add_many(rows)
        store.add_many([])
    with ResultStore(tmp_path) as store:
        assert len(store.done_keys()) == 50
        assert sorted(store.frame()["y"]) == [i * i for i in range(50)]
