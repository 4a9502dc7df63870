"""Sweep specs: grid x random expansion, dotted paths, stable keys and clear config errors."""

from __future__ import annotations

import pytest

from chip2chat.errors import ConfigError
from chip2chat.explore.space import SweepSpec, hex_keys, load_sweep, point_key

BASE = {"hbm": {"stacks": 8, "gbps": 6.4}, "chips": 4}


def spec(**kw) -> SweepSpec:
    return SweepSpec(base=BASE, **kw)


def test_grid_times_random_gives_product_of_counts():
    # 2 x 3 grid combinations, each crossed with 4 random samples
    s = spec(grid={"chips": [2, 4], "hbm.gbps": [6.4, 8.0, 9.6]},
             random={"samples": 4, "seed": 1, "params": {"hbm.stacks": {"low": 4, "high": 12, "integer": True}}})
    points = s.points()
    assert len(points) == 24
    assert [p["chips"] for p in points[:12]] == [2] * 12  # grid-major order
    # every grid combination sees the same random samples
    first = [p["hbm"]["stacks"] for p in points[:4]]
    assert all([p["hbm"]["stacks"] for p in points[i:i + 4]] == first for i in range(0, 24, 4))
    assert all(isinstance(v, int) and 4 <= v <= 12 for v in first)


def test_same_seed_same_points_and_other_seed_differs():
    random = {"samples": 5, "seed": 7, "params": {"hbm.gbps": {"low": 1, "high": 100, "log": True},
                                                   "chips": {"choices": [1, 2, 4, 8]}}}
    assert spec(random=random).points() == spec(random=random).points()
    assert spec(random={**random, "seed": 8}).points() != spec(random=random).points()


def test_no_grid_no_random_is_the_base_point_alone():
    assert spec().points() == [BASE]


def test_dotted_paths_create_nested_keys_and_leave_base_untouched():
    s = spec(grid={"hbm.stacks": [12], "noc.mesh.width": [4]})
    [point] = s.points()
    assert point["hbm"] == {"stacks": 12, "gbps": 6.4}
    assert point["noc"] == {"mesh": {"width": 4}}
    assert BASE["hbm"]["stacks"] == 8 and "noc" not in BASE


def test_path_through_a_non_dict_base_value_is_rejected_with_the_path():
    # "chips" is a number in base, so "chips.count" has nowhere to go
    with pytest.raises(ValueError, match="chips.count.*not a mapping"):
        spec(grid={"chips.count": [1, 2]})


def test_path_swept_twice_is_rejected():
    with pytest.raises(ValueError, match="set twice"):
        spec(grid={"chips": [1]}, random={"samples": 1, "params": {"chips": {"choices": [2]}}})


def test_bad_field_in_yaml_names_file_and_field_path(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("base: {hbm: {stacks: 8}}\nrandom:\n  samples: 3\n  params:\n    hbm.stacks: {low: many, high: 12}\n")
    with pytest.raises(ConfigError) as err:
        load_sweep(path)
    assert str(err.value).startswith(f"{path}: random.params.hbm.stacks.low: ")


def test_param_with_low_above_high_says_to_swap(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("base: {x: 1}\nrandom: {samples: 1, params: {x: {low: 5, high: 1}}}\n")
    with pytest.raises(ConfigError, match="random.params.x: .*swap"):
        load_sweep(path)


def test_unknown_top_level_field_is_rejected(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("base: {x: 1}\ngird: {x: [1, 2]}\n")
    with pytest.raises(ConfigError, match="gird"):
        load_sweep(path)


def test_point_key_ignores_dict_order_but_not_values():
    a = {"x": 1, "hbm": {"stacks": 8, "gbps": 6.4}}
    b = {"hbm": {"gbps": 6.4, "stacks": 8}, "x": 1}
    assert point_key(a) == point_key(b)
    assert len(point_key(a)) == 16
    assert point_key(a) != point_key({**a, "x": 2})


def test_a_dimensioned_random_parameter_is_written_with_its_unit():
    # a design field needs its unit ("sram: 128" is an error), so samples carry the Param's unit
    import numpy as np

    from chip2chat.explore.space import Param
    from chip2chat.units import parse_quantity

    rng = np.random.default_rng(0)
    value = Param(low=32, high=512, unit="MB").sample(rng)
    assert isinstance(value, str) and value.endswith(" MB")
    assert 32e6 <= parse_quantity(value, "B") <= 512e6


def test_bulk_keys_are_the_point_key_of_each_point():
    # the store's resume relies on the table's keys being point_key of each point, whatever the values
    s = SweepSpec(base={"hbm": {"stacks": 8}, "name": "é \"quoted\" %s", "empty": {}, "list": [1, {"b": 2}]},
                  grid={"hbm.stacks": [1, 2.5, "x", None, True, [1, 2]], "noc.mesh": [{"w": 4, "h": 2}, {}]},
                  random={"samples": 3, "seed": 5, "params": {"hbm.gbps": {"low": 1, "high": 9, "unit": "GB/s"}}})
    table = s.table()
    assert list(hex_keys(table.keys())) == [point_key(p) for p in s.points()]
    # a base string that looks like the table's own placeholder: keys are still right
    odd = SweepSpec(base={"a": "\x000\x00", "b": 1}, grid={"b": [1, 2]})
    assert list(hex_keys(odd.table().keys())) == [point_key(p) for p in odd.points()]


def test_random_samples_drawn_at_once_are_those_drawn_one_by_one():
    import numpy as np

    params = {"a": {"low": 32, "high": 512, "unit": "MB"}, "b": {"low": 1, "high": 1e4, "log": True},
              "c": {"low": 1, "high": 5000, "log": True, "integer": True}, "d": {"low": -3.0, "high": 7.5}}
    s = spec(random={"samples": 500, "seed": 11, "params": params})
    rng = np.random.default_rng(11)
    one_by_one = [{path: param.sample(rng) for path, param in s.random.params.items()} for _ in range(500)]
    assert [{path: p[path] for path in params} for p in s.points()] == one_by_one


def test_table_frame_is_json_normalize_of_the_points():
    import pandas as pd

    s = spec(grid={"chips": [2, 4.5], "hbm.gbps": ["a", "b"]}, random={"samples": 2, "params": {"z": {"low": 0, "high": 1}}})
    pd.testing.assert_frame_equal(s.table().frame(), pd.json_normalize(s.points(), sep="."))
