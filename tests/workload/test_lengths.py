"""Length generators: exact bounds, the requested mean and CV, reproducible by seed."""

from __future__ import annotations

import numpy as np
import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.workload import constant_lengths, lognormal_lengths, uniform_lengths


def test_constant_lengths_are_int64_copies():
    lengths = constant_lengths(1024, 5)
    assert lengths.dtype == np.int64
    assert lengths.tolist() == [1024] * 5


def test_uniform_lengths_cover_both_ends_and_nothing_outside():
    lengths = uniform_lengths(3, 6, 10_000, seed=0)
    assert lengths.dtype == np.int64
    assert set(lengths.tolist()) == {3, 4, 5, 6}


def test_uniform_with_low_equal_high_is_constant():
    assert uniform_lengths(7, 7, 4).tolist() == [7, 7, 7, 7]


@pytest.mark.parametrize("mean, cv", [(1000.0, 1.0), (250.0, 0.8), (100.0, 0.5)])
def test_lognormal_lengths_have_requested_mean_and_cv(mean, cv):
    # The parameters describe the lengths, not their logarithm: check both moments of the output.
    lengths = lognormal_lengths(mean, cv, 200_000, seed=0)
    assert lengths.dtype == np.int64 and lengths.min() >= 1
    assert lengths.mean() == pytest.approx(mean, rel=0.03)
    assert lengths.std() / lengths.mean() == pytest.approx(cv, rel=0.03)


def test_lognormal_max_len_caps_every_value():
    lengths = lognormal_lengths(1000.0, 2.0, 50_000, seed=1, max_len=4096)
    assert lengths.max() == 4096
    assert lengths.mean() < 1000.0  # the cap cuts the tail, so the mean falls


def test_tiny_lognormal_lengths_stay_at_least_one():
    assert lognormal_lengths(1.0, 3.0, 10_000, seed=2).min() >= 1


def test_same_seed_same_lengths_and_other_seed_other_lengths():
    assert np.array_equal(lognormal_lengths(500, 1, 1000, seed=4), lognormal_lengths(500, 1, 1000, seed=4))
    assert not np.array_equal(lognormal_lengths(500, 1, 1000, seed=4), lognormal_lengths(500, 1, 1000, seed=5))
    assert np.array_equal(uniform_lengths(1, 99, 1000, seed=4), uniform_lengths(1, 99, 1000, seed=4))
    assert not np.array_equal(uniform_lengths(1, 99, 1000, seed=4), uniform_lengths(1, 99, 1000, seed=5))


@pytest.mark.parametrize("call, named", [
    (lambda: constant_lengths(0, 3), "value"),
    (lambda: constant_lengths(5, 0), "n"),
    (lambda: uniform_lengths(10, 5, 3), "low must be <= high"),
    (lambda: uniform_lengths(0, 5, 3), "low"),
    (lambda: lognormal_lengths(-3.0, 1.0, 3), "mean"),
    (lambda: lognormal_lengths(100.0, 0.0, 3), "cv"),
    (lambda: lognormal_lengths(100.0, 1.0, 3, max_len=0), "max_len"),
])
def test_bad_parameters_name_the_parameter_and_value(call, named):
    with pytest.raises(Chip2ChatError, match=named):
        call()
