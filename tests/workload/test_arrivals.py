"""Arrival processes: right mean rate, right burstiness, right daily shape, reproducible by seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chip2chat.errors import Chip2ChatError
from chip2chat.workload import daily_curve_arrivals, gamma_arrivals, poisson_arrivals


def _cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean())


def test_poisson_gaps_have_mean_one_over_rate_and_cv_one():
    # 50k gaps: the sample mean of exponentials has a relative standard error of 1/sqrt(50k) = 0.45%,
    # so 3% is a test of the rate, not of luck.
    arrivals = poisson_arrivals(rate_per_s=20.0, n=50_000, seed=0)
    gaps = np.diff(arrivals)
    assert gaps.mean() == pytest.approx(1 / 20.0, rel=0.03)
    assert _cv(gaps) == pytest.approx(1.0, rel=0.03)


def test_poisson_starts_at_zero_and_is_sorted():
    arrivals = poisson_arrivals(5.0, 1000, seed=3)
    assert arrivals.dtype == np.float64 and arrivals.shape == (1000,)
    assert arrivals[0] == 0.0
    assert np.all(np.diff(arrivals) >= 0)


@pytest.mark.parametrize("cv", [0.5, 1.0, 2.0, 4.0])
def test_gamma_gaps_have_requested_mean_and_cv(cv):
    # Heavy tails at cv=4 make the sample CV converge slowly; 200k gaps keep it inside 5%.
    gaps = np.diff(gamma_arrivals(rate_per_s=10.0, cv=cv, n=200_000, seed=1))
    assert gaps.mean() == pytest.approx(0.1, rel=0.03)
    assert _cv(gaps) == pytest.approx(cv, rel=0.05)


@pytest.mark.parametrize("peak_to_mean", [1.5, 2.0, 3.0])
def test_daily_curve_busiest_hour_is_peak_to_mean_times_the_mean(peak_to_mean):
    # Five whole days at 1 request/s: each hour-of-day bin holds ~18k requests (0.7% noise).
    days = 5
    arrivals = daily_curve_arrivals(1.0, n=int(days * 86400 * 1.02), peak_to_mean=peak_to_mean, seed=2)
    arrivals = arrivals[arrivals < days * 86400]
    per_hour = np.bincount((arrivals // 3600).astype(int) % 24, minlength=24)
    assert len(arrivals) / (days * 86400) == pytest.approx(1.0, rel=0.02)
    assert per_hour.max() / per_hour.mean() == pytest.approx(peak_to_mean, rel=0.10)
    # Peak hour ends at 20:00, the quietest hour is around 04:00.
    assert per_hour.argmax() in (19, 20)
    assert per_hour.argmin() in (3, 4)


def test_daily_curve_follows_a_custom_hourly_curve():
    curve = np.ones(24)
    curve[12] = 6.0  # one lunch-hour spike, 6x the other hours
    arrivals = daily_curve_arrivals(2.0, n=2 * 86400 * 2, seed=0, curve=curve)
    arrivals = arrivals[arrivals < 2 * 86400]
    per_hour = np.bincount((arrivals // 3600).astype(int) % 24, minlength=24)
    assert per_hour.argmax() == 12
    assert per_hour[12] / np.delete(per_hour, 12).mean() == pytest.approx(6.0, rel=0.05)
    assert len(arrivals) / (2 * 86400) == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize("make", [
    lambda seed: poisson_arrivals(3.0, 500, seed=seed),
    lambda seed: gamma_arrivals(3.0, 2.0, 500, seed=seed),
    lambda seed: daily_curve_arrivals(3.0, 500, seed=seed),
])
def test_same_seed_same_arrivals_and_other_seed_other_arrivals(make):
    assert np.array_equal(make(7), make(7))
    assert not np.array_equal(make(7), make(8))


@pytest.mark.parametrize("call, named", [
    (lambda: poisson_arrivals(0.0, 10), "rate_per_s"),
    (lambda: poisson_arrivals(-1.0, 10), "rate_per_s"),
    (lambda: poisson_arrivals(1.0, 0), "n"),
    (lambda: gamma_arrivals(1.0, 0.0, 10), "cv"),
    (lambda: daily_curve_arrivals(1.0, 10, peak_to_mean=0.5), "peak_to_mean"),
    (lambda: daily_curve_arrivals(1.0, 10, peak_to_mean=30.0), "peak_to_mean must be between 1 and 24"),
    (lambda: daily_curve_arrivals(1.0, 10, curve=np.ones(12)), "curve"),
])
def test_bad_parameters_name_the_parameter(call, named):
    with pytest.raises(Chip2ChatError, match=named):
        call()


@given(rate=st.floats(1e-3, 1e4), cv=st.floats(0.05, 10.0), n=st.integers(1, 2000), seed=st.integers(0, 2**32),
       peak_to_mean=st.floats(1.0, 24.0))
def test_arrivals_are_always_sorted_and_non_negative(rate, cv, n, seed, peak_to_mean):
    for arrivals in (poisson_arrivals(rate, n, seed), gamma_arrivals(rate, cv, n, seed),
                     daily_curve_arrivals(rate, n, peak_to_mean=peak_to_mean, seed=seed)):
        assert arrivals.shape == (n,)
        assert np.all(np.isfinite(arrivals))
        assert arrivals[0] >= 0
        assert np.all(np.diff(arrivals) >= 0)
