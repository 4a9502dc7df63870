"""Arrival times: when requests reach the service.

Three processes, all vectorised (a million arrivals in milliseconds) and deterministic for a seed
(`numpy.random.default_rng(seed)`):

- `poisson_arrivals`: independent users, the baseline of vLLM's and most papers' benchmarks.
- `gamma_arrivals`: the same mean rate, but burstier (cv > 1) or more regular (cv < 1); BurstGPT fits
  its traces with Gamma inter-arrival times, which is why this family is here.
- `daily_curve_arrivals`: a rate that follows the hours of the day, for sizing to the peak hour.

Poisson and Gamma arrivals start at exactly t = 0 (the process is observed from its first request,
as a trace is), so n arrivals span n - 1 gaps. The daily curve starts at 00:00 local time and its
first arrival falls wherever the thinning puts it.
"""

from __future__ import annotations

import numpy as np

from chip2chat.errors import Chip2ChatError
from chip2chat.workload.errors import check_count, check_positive

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24
TROUGH_HOUR = 4.0   # 04:00 local: the quietest hour of consumer chat traffic
PEAK_HOUR = 20.0    # 20:00 local: the evening peak


def poisson_arrivals(rate_per_s: float, n: int, seed: int = 0) -> np.ndarray:
    """n arrival times of a Poisson process of `rate_per_s` (exponential gaps of mean 1/rate)."""
    rate = check_positive("rate_per_s", rate_per_s)
    n = check_count("n", n)
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, size=n - 1)
    return _from_gaps(gaps)


def gamma_arrivals(rate_per_s: float, cv: float, n: int, seed: int = 0) -> np.ndarray:
    """n arrival times whose gaps are Gamma with mean 1/rate and coefficient of variation `cv`.

    Shape k = 1 / cv^2 and scale = 1 / (rate * k) give mean k * scale = 1/rate and
    CV = 1/sqrt(k) = cv. cv = 1 is the Poisson process; cv = 2 to 4 looks like BurstGPT's bursts.
    """
    rate = check_positive("rate_per_s", rate_per_s)
    cv = check_positive("cv", cv)
    n = check_count("n", n)
    shape = 1.0 / (cv * cv)
    gaps = np.random.default_rng(seed).gamma(shape, 1.0 / (rate * shape), size=n - 1)
    return _from_gaps(gaps)


def daily_curve_arrivals(mean_rate_per_s: float, n: int, peak_to_mean: float = 2.0, seed: int = 0,
                         curve: np.ndarray | None = None) -> np.ndarray:
    """n arrival times of a Poisson process whose rate follows a 24 h periodic curve.

    t = 0 is 00:00 local time; the curve repeats every day and averages `mean_rate_per_s` over a day.

    Default shape (when `curve` is None): the rate is

        rate(t) = mean_rate * exp(-kappa * cos(phi(t))) / I0(kappa)

    where the phase phi rises linearly from 0 at 04:00 (the trough) to pi at 20:00 (the peak), over
    16 hours, and on to 2 pi at 04:00 the next day, over 8 hours: a smooth day that climbs slowly
    through the morning and afternoon and falls quickly after the evening peak. Each half of the day
    averages exactly the mean rate (the average of exp(-kappa cos phi) over a half turn is I0(kappa)),
    and kappa is solved so that the peak rate is `peak_to_mean` times the mean. The exponential form
    (rather than 1 + a cos) keeps the rate positive for any peak_to_mean >= 1; at the default 2.0 the
    trough is about 0.35 x the mean, roughly what public chat-service load curves show.

    `curve`, if given, is 24 relative weights, one per hour starting at 00:00; the rate is constant
    within each hour and the weights are rescaled to average `mean_rate_per_s` (`peak_to_mean` is
    then ignored: the curve says it).

    Sampling is by thinning (Lewis & Shedler): candidates from a Poisson process at the peak rate,
    each kept with probability rate(t) / peak rate.
    """
    mean_rate = check_positive("mean_rate_per_s", mean_rate_per_s)
    n = check_count("n", n)
    if curve is None:
        ratio = check_positive("peak_to_mean", peak_to_mean)
        if ratio < 1.0:
            raise Chip2ChatError(f"peak_to_mean must be >= 1 (the peak is at least the mean), got {peak_to_mean!r}")
        relative_rate = _default_day(_solve_kappa(ratio))
        peak_relative = ratio
    else:
        weights = _check_curve(curve)
        relative_rate = _hourly_steps(weights / weights.mean())
        peak_relative = float(weights.max() / weights.mean())
    return _thin(mean_rate, peak_relative, relative_rate, n, np.random.default_rng(seed))


def _from_gaps(gaps: np.ndarray) -> np.ndarray:
    arrivals = np.empty(gaps.shape[0] + 1, dtype=np.float64)
    arrivals[0] = 0.0
    np.cumsum(gaps, out=arrivals[1:])
    return arrivals


def _solve_kappa(peak_to_mean: float) -> float:
    """kappa with exp(kappa) / I0(kappa) = peak_to_mean (increasing in kappa, 1 at 0), by bisection.

    Computed as exp(kappa - log I0(kappa)) with the large-kappa form of I0 so that big ratios do not
    overflow.
    """
    if peak_to_mean == 1.0:
        return 0.0
    target = np.log(peak_to_mean)

    def log_ratio(k: float) -> float:
        log_i0 = np.log(np.i0(k)) if k < 700 else k - 0.5 * np.log(2 * np.pi * k)
        return k - log_i0

    low, high = 0.0, 1.0
    while log_ratio(high) < target:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if log_ratio(mid) < target else (low, mid)
    return 0.5 * (low + high)


def _default_day(kappa: float):
    """rate(t) / mean rate for the default day (see daily_curve_arrivals), vectorised over t."""
    rise_h = PEAK_HOUR - TROUGH_HOUR                   # 16 h from trough to peak
    fall_h = HOURS_PER_DAY - rise_h                    # 8 h from peak back to trough
    log_norm = np.log(np.i0(kappa)) if kappa < 700 else kappa - 0.5 * np.log(2 * np.pi * kappa)

    def relative_rate(t_s: np.ndarray) -> np.ndarray:
        since_trough_h = (t_s / SECONDS_PER_HOUR - TROUGH_HOUR) % HOURS_PER_DAY
        phase = np.where(since_trough_h < rise_h, np.pi * since_trough_h / rise_h,
                         np.pi + np.pi * (since_trough_h - rise_h) / fall_h)
        return np.exp(-kappa * np.cos(phase) - log_norm)

    return relative_rate


def _hourly_steps(relative: np.ndarray):
    def relative_rate(t_s: np.ndarray) -> np.ndarray:
        hour = (t_s // SECONDS_PER_HOUR).astype(np.int64) % HOURS_PER_DAY
        return relative[hour]

    return relative_rate


def _check_curve(curve) -> np.ndarray:
    weights = np.asarray(curve, dtype=np.float64)
    if weights.shape != (HOURS_PER_DAY,):
        raise Chip2ChatError(f"curve must hold 24 hourly weights (00:00 to 23:00), got shape {weights.shape}")
    if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.max() <= 0:
        raise Chip2ChatError("curve weights must be finite, >= 0 and not all zero")
    return weights


def _thin(mean_rate: float, peak_relative: float, relative_rate, n: int, rng: np.random.Generator) -> np.ndarray:
    """First n kept points of a thinned Poisson process of peak rate mean_rate * peak_relative.

    Candidates are drawn in chunks sized for the expected acceptance (1 / peak_relative) plus a margin,
    so one chunk nearly always suffices; the loop only continues from where the last chunk ended.
    """
    peak_rate = mean_rate * peak_relative
    kept: list[np.ndarray] = []
    count = 0
    start_s = 0.0
    while count < n:
        chunk = int((n - count) * peak_relative * 1.05) + 64
        candidates = start_s + np.cumsum(rng.exponential(1.0 / peak_rate, size=chunk))
        keep = rng.random(chunk) * peak_relative < relative_rate(candidates)
        kept.append(candidates[keep])
        count += kept[-1].shape[0]
        start_s = float(candidates[-1])
    return np.concatenate(kept)[:n]
