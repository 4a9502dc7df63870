"""The DuckDB result store: rows survive reopening, frames flatten nested points, typed columns
hold what evaluators return, and a store of the previous format is read."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.explore.evaluate import Results
from chip2chat.explore.space import SweepSpec, point_key
from chip2chat.explore.store import ResultStore


def add(store, point, result, error=None, seconds=0.0):
    store.add(point_key(point), point, result, error, seconds)
    return point_key(point)


def test_added_points_are_done_after_reopening(tmp_path):
    with ResultStore(tmp_path) as store:
        k1 = add(store, {"x": 1}, {"cost": 2.0}, seconds=0.1)
        k2 = add(store, {"x": 2}, None, "ValueError: bad", 0.2)
    with ResultStore(tmp_path) as store:
        # errored points count as done: a pure evaluator would fail the same way again
        assert store.done_keys() == {k1, k2}


def test_frame_has_dotted_point_columns_results_and_errors(tmp_path):
    with ResultStore(tmp_path) as store:
        a = add(store, {"hbm": {"stacks": 8}, "chips": 2}, {"cost": np.float64(3.5), "tag": "ok"}, None, 0.5)
        b = add(store, {"hbm": {"stacks": 12}, "chips": 4}, None, "ValueError: nope", 0.1)
        frame = store.frame()
    assert sorted(frame["key"]) == sorted([a, b])
    frame = frame.set_index("key").loc[[a, b]].reset_index()
    assert {"hbm.stacks", "chips", "cost", "tag", "error", "seconds"} <= set(frame.columns)
    assert list(frame["hbm.stacks"]) == [8, 12]
    assert frame.loc[0, "cost"] == 3.5 and math.isnan(frame.loc[1, "cost"])
    assert frame.loc[1, "error"] == "ValueError: nope"


def test_result_named_like_a_point_column_is_prefixed(tmp_path):
    with ResultStore(tmp_path) as store:
        add(store, {"x": 1}, {"x": 10})
        frame = store.frame()
    assert frame.loc[0, "x"] == 1 and frame.loc[0, "result.x"] == 10


def test_add_many_stores_every_row(tmp_path):
    rows = [(point_key({"x": i}), {"x": i}, {"y": i * i}, None, 0.0) for i in range(50)]
    with ResultStore(tmp_path) as store:
        store.add_many(rows)
        store.add_many([])
    with ResultStore(tmp_path) as store:
        assert len(store.done_keys()) == 50
        assert sorted(store.frame()["y"]) == [i * i for i in range(50)]


def test_a_column_keeps_every_kind_of_value_it_is_given(tmp_path):
    # ints then floats widen to floats; numbers then strings keep both kinds (a JSON column)
    with ResultStore(tmp_path) as store:
        add(store, {"x": 1}, {"n": 1, "mixed": 1, "flag": True, "none": None})
        add(store, {"x": 2}, {"n": 2.5, "mixed": "two", "flag": False, "none": None})
        frame = store.frame().sort_values("x")
    assert list(frame["n"]) == [1.0, 2.5]
    assert list(frame["mixed"]) == [1, "two"]
    assert list(frame["flag"]) == [True, False] and frame["flag"].dtype == bool
    assert frame["none"].isna().all()


def test_a_table_batch_stores_swept_values_and_reads_back_as_points(tmp_path):
    spec = SweepSpec(base={"hbm": {"stacks": 8}, "name": "n"}, grid={"hbm.stacks": [4, 8], "tag": [[1, 2], "s"]})
    table = spec.table()
    results = Results({"cost": np.array([1.0, 2.0, 3.0, 4.0]), "max": np.array([1, 2, 3, 4])},
                      [None, "ValueError: x", None, None])
    with ResultStore(tmp_path) as store:
        store.add_table(table.keys(), table, results, 0.01)
        frame = store.frame().set_index("key")
    points = {point_key(p): p for p in spec.points()}
    assert set(frame.index) == set(points)
    for key, point in points.items():
        assert frame.loc[key, "hbm.stacks"] == point["hbm"]["stacks"] and frame.loc[key, "tag"] == point["tag"]
    assert frame["cost"].isna().sum() == 1 and frame["error"].notna().sum() == 1
    assert sorted(frame["max"].dropna()) == [1, 3, 4]


FORMAT_1 = """CREATE TABLE results (
    key TEXT PRIMARY KEY, point JSON, result JSON, error TEXT, seconds DOUBLE, finished_at DOUBLE)"""


def test_a_store_of_format_1_is_converted_and_its_points_stay_done(tmp_path):
    import duckdb

    points = [{"x": i, "h": {"s": "a"}} for i in range(3)]
    con = duckdb.connect(str(tmp_path / "results.duckdb"))
    con.execute(FORMAT_1)
    for i, point in enumerate(points):
        result = None if i == 2 else json.dumps({"cost": i * 1.5, "tag": f"t{i}"})
        con.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
                    [point_key(point), json.dumps(point), result, "E: bad" if i == 2 else None, 0.1, 100.0 + i])
    con.close()
    with ResultStore(tmp_path) as store:
        assert store.done_keys() == {point_key(p) for p in points}
        frame = store.frame()
    assert list(frame["x"]) == [0, 1, 2] and list(frame["h.s"]) == ["a"] * 3
    assert list(frame["cost"][:2]) == [0.0, 1.5] and list(frame["error"].fillna("")) == ["", "", "E: bad"]


def test_a_store_of_an_unknown_format_is_one_line(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "results.duckdb"))
    con.execute("CREATE TABLE store_info AS SELECT 9 AS format")
    con.close()
    with pytest.raises(Chip2ChatError, match="format 9.*give another --out folder"):
        ResultStore(tmp_path)
