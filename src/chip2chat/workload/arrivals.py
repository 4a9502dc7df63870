"""Arrival times: when requests reach the service.

Three processes, all vectorised (a million arrivals in milliseconds) and deterministic for a seed
(`numpy.random.default_rng(seed)`):

- `poisson_arrivals`: independent users, the baseline of vLLM's and most papers' benchmarks.
- `gamma_arrivals`: the same mean rate, but burstier (cv > 1) or more regular (cv < 1); BurstGPT fits
  its traces with Gamma inter-arrival times, which is why this family is here.
- `daily_curve_arrivals`: a rate that follows the hours of the day, for sizing to the peak hour.

Closed loop (`Workload.concurrency`): benchmark clients (`vllm bench serve --max-concurrency`,
SGLang's `bench_serving --max-concurrency`, genai-perf `--concurrency`, trtllm-bench
`--concurrency`) keep at most C requests in flight: request i is sent at its arrival time or when
one in flight finishes, the later; sent on a completion, it reaches an engine that has already
launched its next step, and waits for it. All requests at t = 0 with concurrency C is the pure closed loop
(C users who send again as soon as they are answered, no think time); concurrency 1 is one request
at a time, the single-request latency. Send times then depend on the service, so the serving
simulation makes them (serving/replica_sim.py); here is the rule's one check.

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
SECONDS_PER_DAY = HOURS_PER_DAY * SECONDS_PER_HOUR
# Thinning envelope: one constant rate per minute. Finer than an hour so that even the most peaked
# allowed day (peak_to_mean 24) wastes few candidates in the quiet stretch before its spike.
ENVELOPE_BIN_S = 60.0
ENVELOPE_BINS = int(SECONDS_PER_DAY / ENVELOPE_BIN_S)
# A busiest hour cannot carry more than the whole day, 24 x the mean; sharper spikes would also make
# thinning waste candidates in the minutes of near-zero rate just before the spike.
MAX_PEAK_TO_MEAN = 24.0
TROUGH_HOUR = 4.0   # 04:00 local: the quietest hour of consumer chat traffic
PEAK_HOUR = 20.0    # 20:00 local: the evening peak


def check_concurrency(concurrency) -> int:
    """Requests in flight at most, for a closed loop: an integer >= 1."""
    return check_count("concurrency", concurrency)


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
    and kappa is solved so that the peak rate is `peak_to_mean` (1 to 24) times the mean. The
    exponential form (rather than 1 + a cos) keeps the rate positive for any peak_to_mean; at the
    default 2.0 the trough is about 0.35 x the mean.

    `curve`, if given, is 24 relative weights, one per hour starting at 00:00; the rate is constant
    within each hour and the weights are rescaled to average `mean_rate_per_s` (`peak_to_mean` is
    then ignored: the curve says it).

    Sampling is by thinning (Lewis & Shedler) against a per-minute envelope: candidates come from a
    Poisson process whose rate, constant within each minute, is the curve's maximum in that minute
    (drawn exactly, by mapping a unit-rate process through the envelope's cumulative count), and each
    is kept with probability rate(t) / envelope(t). A per-minute envelope rather than the single peak
    rate keeps the work proportional to n even for peaked days whose night is nearly empty.
    """
    mean_rate = check_positive("mean_rate_per_s", mean_rate_per_s)
    n = check_count("n", n)
    if curve is None:
        ratio = check_positive("peak_to_mean", peak_to_mean)
        if not 1.0 <= ratio <= MAX_PEAK_TO_MEAN:
            raise Chip2ChatError(f"peak_to_mean must be between 1 and {MAX_PEAK_TO_MEAN:g} (a day cannot put more "
                                 f"than all its traffic in one hour), got {peak_to_mean!r}")
        relative_rate = _default_day(_solve_kappa(ratio))
    else:
        weights = _check_curve(curve)
        relative_rate = _hourly_steps(weights / weights.mean())
    return _thin(mean_rate, relative_rate, n, np.random.default_rng(seed))


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


def _envelope(relative_rate) -> np.ndarray:
    """Each envelope bin's largest relative rate, from 9 points across the bin, ends included.

    The default day is monotone within every bin (trough and peak fall on bin edges), so the ends
    already give the maximum; the inner points and the 1e-6 margin guard other curves. The last point
    stops 1 us short of the next bin, so a step curve's next hour does not leak in.
    """
    edges = np.arange(ENVELOPE_BINS)[:, None] * ENVELOPE_BIN_S
    points = edges + np.linspace(0.0, ENVELOPE_BIN_S - 1e-6, 9)
    return relative_rate(points).max(axis=1) * (1 + 1e-6)


def _thin(mean_rate: float, relative_rate, n: int, rng: np.random.Generator) -> np.ndarray:
    """First n kept points of the thinned process (see daily_curve_arrivals).

    Candidate batches are sized for the expected acceptance (mean rate / mean envelope) plus a
    margin, so one batch nearly always suffices; a further batch continues where the last ended.
    """
    envelope = _envelope(relative_rate)                        # relative rate per bin of the day
    cumulative = np.concatenate(([0.0], np.cumsum(envelope * ENVELOPE_BIN_S)))  # relative count
    per_day = cumulative[-1]
    candidates_per_kept = per_day / SECONDS_PER_DAY            # the relative rate averages 1
    kept: list[np.ndarray] = []
    count = 0
    unit_time = 0.0  # position in a unit-rate Poisson process, mapped to time through `cumulative`
    while count < n:
        chunk = int((n - count) * candidates_per_kept * 1.05) + 64
        unit = unit_time + np.cumsum(rng.exponential(1.0, size=chunk))
        unit_time = float(unit[-1])
        days, within = np.divmod(unit / mean_rate, per_day)
        # side="right" skips bins of zero rate: their cumulative count equals the next bin's.
        where = np.minimum(np.searchsorted(cumulative, within, side="right") - 1, ENVELOPE_BINS - 1)
        times = days * SECONDS_PER_DAY + where * ENVELOPE_BIN_S + (within - cumulative[where]) / envelope[where]
        keep = rng.random(chunk) * envelope[where] < relative_rate(times)
        kept.append(times[keep])
        count += kept[-1].shape[0]
    # Rounding at bin edges could put two points 1e-12 s out of order; keep the array sorted.
    return np.maximum.accumulate(np.concatenate(kept)[:n])


def daily_curve_weights(peak_to_mean: float = 2.0, curve: np.ndarray | None = None) -> np.ndarray:
    """The daily load curve as 1,440 per-minute load factors with mean 1 (minute 0 = 00:00).

    The same shape `daily_curve_arrivals` samples from, each minute's factor taken at its midpoint
    and renormalised to mean 1 (at most a 1e-5 correction): what a capacity planner integrates
    power over.
    """
    if curve is None:
        ratio = check_positive("peak_to_mean", peak_to_mean)
        if not 1.0 <= ratio <= MAX_PEAK_TO_MEAN:
            raise Chip2ChatError(f"peak_to_mean must be between 1 and {MAX_PEAK_TO_MEAN:g}, got {peak_to_mean!r}")
        relative_rate = _default_day(_solve_kappa(ratio))
    else:
        weights = _check_curve(curve)
        relative_rate = _hourly_steps(weights / weights.mean())
    minutes = (np.arange(HOURS_PER_DAY * 60) + 0.5) * 60.0
    w = relative_rate(minutes)
    return w / w.mean()
