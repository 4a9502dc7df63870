"""synthetic(): the convenience builder, its seeds, its length specs, its speed, and Workload itself."""

from __future__ import annotations

import time

import numpy as np
import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.workload import Workload, synthetic


def test_poisson_workload_has_the_requested_rate_and_lengths():
    workload = synthetic(20_000, rate_per_s=50.0, input_len=("lognormal", 1000, 1.0), output_len=("uniform", 10, 20))
    assert len(workload) == 20_000
    assert workload.arrival_s[0] == 0.0
    assert len(workload) / workload.duration_s == pytest.approx(50.0, rel=0.03)
    assert workload.input_len.mean() == pytest.approx(1000, rel=0.05)
    assert workload.output_len.min() >= 10 and workload.output_len.max() <= 20
    assert "poisson(rate=50/s)" in workload.source


def test_int_length_is_a_constant():
    workload = synthetic(10, 1.0, input_len=128, output_len=("constant", 32))
    assert set(workload.input_len.tolist()) == {128}
    assert set(workload.output_len.tolist()) == {32}


def test_all_at_once_puts_every_request_at_time_zero():
    workload = synthetic(1000, rate_per_s=1.0, arrival="all_at_once")
    assert not workload.arrival_s.any()
    assert workload.duration_s == 0.0


@pytest.mark.parametrize("arrival", ["gamma", "daily"])
def test_other_arrival_kinds_keep_the_mean_rate_roughly(arrival):
    workload = synthetic(50_000, rate_per_s=5.0, arrival=arrival, cv=2.0)
    # The daily curve starts at midnight, in the quiet part of the day: only check the order of magnitude.
    tolerance = 0.05 if arrival == "gamma" else 0.6
    assert len(workload) / workload.duration_s == pytest.approx(5.0, rel=tolerance)


def test_same_seed_same_workload_other_seed_other_workload():
    def make(seed):
        return synthetic(500, 3.0, input_len=("lognormal", 300, 1.0), output_len=("uniform", 1, 100), seed=seed)
    a, b, c = make(1), make(1), make(2)
    for field in ("arrival_s", "input_len", "output_len"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(getattr(a, field), getattr(c, field))


def test_changing_the_output_spec_does_not_move_the_arrivals_or_inputs():
    # Independent sub-seeds: a sweep over output lengths compares like with like.
    a = synthetic(500, 3.0, input_len=("lognormal", 300, 1.0), output_len=100, seed=4)
    b = synthetic(500, 3.0, input_len=("lognormal", 300, 1.0), output_len=("lognormal", 500, 2.0), seed=4)
    assert np.array_equal(a.arrival_s, b.arrival_s)
    assert np.array_equal(a.input_len, b.input_len)


def test_input_and_output_streams_are_independent_for_equal_specs():
    workload = synthetic(1000, 1.0, input_len=("uniform", 1, 1000), output_len=("uniform", 1, 1000))
    assert not np.array_equal(workload.input_len, workload.output_len)


def test_a_million_requests_take_well_under_a_second():
    synthetic(1000, 10.0, input_len=("lognormal", 1000, 1.0))  # warm up imports and caches
    for arrival in ("poisson", "gamma", "daily"):
        start = time.perf_counter()
        workload = synthetic(1_000_000, 10.0, input_len=("lognormal", 1000, 1.0),
                             output_len=("lognormal", 250, 1.0), arrival=arrival, cv=2.0)
        elapsed = time.perf_counter() - start
        assert len(workload) == 1_000_000
        assert elapsed < 0.8, f"{arrival}: {elapsed:.2f} s"


@pytest.mark.parametrize("kwargs, named", [
    (dict(n=0, rate_per_s=1.0), "n"),
    (dict(n=10, rate_per_s=0.0), "rate_per_s"),
    (dict(n=10, rate_per_s=1.0, arrival="bursty"), "arrival must be one of"),
    (dict(n=10, rate_per_s=1.0, arrival="gamma", cv=-1.0), "cv"),
    (dict(n=10, rate_per_s=1.0, input_len=("zipf", 1.1)), "input_len"),
    (dict(n=10, rate_per_s=1.0, output_len=("uniform", 5)), "output_len"),
    (dict(n=10, rate_per_s=1.0, output_len=0), "value"),
])
def test_bad_arguments_name_what_to_fix(kwargs, named):
    with pytest.raises(Chip2ChatError, match=named):
        synthetic(**kwargs)


def test_to_frame_has_one_row_per_request_and_zero_priorities_by_default():
    frame = synthetic(5, 1.0).to_frame()
    assert list(frame.columns) == ["arrival_s", "input_len", "output_len", "priority"]
    assert len(frame) == 5 and not frame["priority"].any()


def test_scaled_compresses_time_and_keeps_everything_else():
    workload = synthetic(100, 2.0, priority=np.arange(100))
    faster = workload.scaled(4.0)
    assert np.allclose(faster.arrival_s, workload.arrival_s / 4.0)
    assert np.array_equal(faster.input_len, workload.input_len)
    assert np.array_equal(faster.priority, workload.priority)
    with pytest.raises(Chip2ChatError, match="rate_factor"):
        workload.scaled(0.0)


@pytest.mark.parametrize("kwargs, problem", [
    (dict(arrival_s=[1.0, 0.5], input_len=[1, 1], output_len=[1, 1]), "sorted"),
    (dict(arrival_s=[-1.0, 0.5], input_len=[1, 1], output_len=[1, 1]), ">= 0"),
    (dict(arrival_s=[0.0, 0.5], input_len=[1, 0], output_len=[1, 1]), "input_len"),
    (dict(arrival_s=[0.0, 0.5], input_len=[1, 1], output_len=[1]), "output_len"),
    (dict(arrival_s=[0.0], input_len=[1], output_len=[1], prefix_hashes=((), ())), "prefix_hashes"),
])
def test_workload_rejects_what_the_simulator_could_not_replay(kwargs, problem):
    with pytest.raises(Chip2ChatError, match=problem):
        Workload(**{key: (np.asarray(v) if key != "prefix_hashes" else v) for key, v in kwargs.items()})
