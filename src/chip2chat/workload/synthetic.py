"""`synthetic`: a whole Workload from a few numbers, for benchmarks and sweeps.

Arrivals, input lengths and output lengths each get their own child seed
(`numpy.random.SeedSequence(seed).spawn(3)`), so changing the output-length spec never changes the
arrival times of the same seed: two sweep points differ only in what they mean to vary.
"""

from __future__ import annotations

import numpy as np

from chip2chat.engine.defaults import INPUT_LEN, OUTPUT_LEN
from chip2chat.errors import Chip2ChatError
from chip2chat.workload.arrivals import daily_curve_arrivals, gamma_arrivals, poisson_arrivals
from chip2chat.workload.errors import check_count, check_positive
from chip2chat.workload.lengths import constant_lengths, lognormal_lengths, uniform_lengths
from chip2chat.workload.workload import Workload

LengthSpec = int | tuple
"""An int (every request has that many tokens) or ("constant", v), ("uniform", low, high),
("lognormal", mean, cv) or ("lognormal", mean, cv, max_len)."""

ARRIVALS = ("poisson", "gamma", "daily", "all_at_once")
"""Default lengths: vLLM's benchmark shape, 1024 tokens in and 256 out."""


def synthetic(n: int, rate_per_s: float, input_len: LengthSpec = INPUT_LEN, output_len: LengthSpec = OUTPUT_LEN,
              arrival: str = "poisson", cv: float = 1.0, seed: int = 0, peak_to_mean: float = 2.0,
              priority: np.ndarray | None = None, concurrency: int | None = None) -> Workload:
    """n requests at `rate_per_s` on average.

    arrival: "poisson"; "gamma" (gaps with coefficient of variation `cv`); "daily" (a 24 h curve with
    the given `peak_to_mean`, see `daily_curve_arrivals`); "all_at_once" (every request at t = 0, for
    max-throughput benchmarks; `rate_per_s` is then not used).
    input_len / output_len: see `LengthSpec`; defaults INPUT_LEN / OUTPUT_LEN.
    concurrency: at most this many requests in flight (a closed loop, `Workload.concurrency`);
    with "all_at_once", each request is sent when one before it finishes.
    """
    n = check_count("n", n)
    if arrival not in ARRIVALS:
        raise Chip2ChatError(f"arrival must be one of {', '.join(ARRIVALS)}, got {arrival!r}")
    arrival_seed, input_seed, output_seed = (int(child.generate_state(1)[0])
                                             for child in np.random.SeedSequence(seed).spawn(3))
    arrival_s, arrival_text = _arrivals(arrival, n, rate_per_s, cv, peak_to_mean, arrival_seed)
    inputs, input_text = _lengths("input_len", input_len, n, input_seed)
    outputs, output_text = _lengths("output_len", output_len, n, output_seed)
    closed = "" if concurrency is None else f", concurrency={concurrency}"
    return Workload(arrival_s=arrival_s, input_len=inputs, output_len=outputs, priority=priority,
                    concurrency=concurrency, source=f"synthetic(n={n}, {arrival_text}{closed}, input={input_text}, "
                                                    f"output={output_text}, seed={seed})")


def _arrivals(kind: str, n: int, rate_per_s: float, cv: float, peak_to_mean: float, seed: int):
    if kind == "all_at_once":
        return np.zeros(n, dtype=np.float64), "all_at_once"
    rate = check_positive("rate_per_s", rate_per_s)
    if kind == "poisson":
        return poisson_arrivals(rate, n, seed), f"poisson(rate={rate:g}/s)"
    if kind == "gamma":
        return gamma_arrivals(rate, cv, n, seed), f"gamma(rate={rate:g}/s, cv={cv:g})"
    return (daily_curve_arrivals(rate, n, peak_to_mean=peak_to_mean, seed=seed),
            f"daily(mean_rate={rate:g}/s, peak_to_mean={peak_to_mean:g})")


def _lengths(name: str, spec: LengthSpec, n: int, seed: int) -> tuple[np.ndarray, str]:
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return constant_lengths(spec, n), str(int(spec))
    if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in _LENGTH_KINDS:
        raise Chip2ChatError(
            f"{name} must be an int or a tuple like ('uniform', low, high) or ('lognormal', mean, cv), "
            f"with a kind among {', '.join(_LENGTH_KINDS)}; got {spec!r}")
    kind, *args = spec
    make, arity = _LENGTH_KINDS[kind]
    if len(args) not in arity:
        raise Chip2ChatError(f"{name}: ({kind!r}, ...) takes {' or '.join(map(str, arity))} numbers, "
                             f"got {len(args)}: {spec!r}")
    return make(*args, n=n, seed=seed), f"{kind}({', '.join(map(str, args))})"


def _constant(value, *, n, seed):
    return constant_lengths(value, n)


def _uniform(low, high, *, n, seed):
    return uniform_lengths(low, high, n, seed)


def _lognormal(mean, cv, max_len=None, *, n, seed):
    return lognormal_lengths(mean, cv, n, seed, max_len=max_len)


# kind -> (generator, accepted numbers of parameters)
_LENGTH_KINDS = {
    "constant": (_constant, (1,)),
    "uniform": (_uniform, (2,)),
    "lognormal": (_lognormal, (2, 3)),
}
