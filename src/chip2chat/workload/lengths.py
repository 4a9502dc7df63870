"""Token lengths of prompts and outputs: int64 arrays of n values >= 1, deterministic for a seed.

- `constant_lengths`: the fixed-shape benchmark (vLLM `--input-len 1024 --output-len 256`).
- `uniform_lengths`: a flat spread, inclusive of both ends (vLLM's random dataset with a range ratio).
- `lognormal_lengths`: the shape real chat traffic has (Azure 2023 and BurstGPT lengths are skewed with
  a long tail), parametrised by what a user knows: the mean and CV of the token counts themselves.
"""

from __future__ import annotations

import numpy as np

from chip2chat.errors import Chip2ChatError
from chip2chat.workload.errors import check_count, check_length, check_positive


def constant_lengths(value: int, n: int) -> np.ndarray:
    """n copies of `value` tokens."""
    value = check_length("value", value)
    return np.full(check_count("n", n), value, dtype=np.int64)


def uniform_lengths(low: int, high: int, n: int, seed: int = 0) -> np.ndarray:
    """n lengths drawn uniformly from low..high, both included."""
    low = check_length("low", low)
    high = check_length("high", high)
    if low > high:
        raise Chip2ChatError(f"low must be <= high, got low={low} and high={high}")
    n = check_count("n", n)
    return np.random.default_rng(seed).integers(low, high, size=n, endpoint=True, dtype=np.int64)


def lognormal_lengths(mean: float, cv: float, n: int, seed: int = 0, max_len: int | None = None) -> np.ndarray:
    """n lengths from a lognormal with the given mean and coefficient of variation (of the lengths).

    For a lognormal exp(N(mu, sigma^2)): CV^2 = exp(sigma^2) - 1 and mean = exp(mu + sigma^2 / 2), so
    sigma^2 = log(1 + cv^2) and mu = log(mean) - sigma^2 / 2. Values are rounded to whole tokens and
    raised to at least 1, which moves the mean by well under 1% once the mean is a few tens of tokens.
    `max_len` (e.g. the model's context window) caps the values; a cap inside the tail lowers the mean
    and CV below the requested ones, which is what a real server that truncates would see.
    """
    mean = check_positive("mean", mean)
    if mean < 1:
        raise Chip2ChatError(f"mean must be >= 1 token, got {mean!r}")
    cv = check_positive("cv", cv)
    n = check_count("n", n)
    if max_len is not None:
        max_len = check_length("max_len", max_len)
    sigma2 = np.log1p(cv * cv)
    mu = np.log(mean) - 0.5 * sigma2
    samples = np.random.default_rng(seed).lognormal(mu, np.sqrt(sigma2), size=n)
    lengths = np.maximum(np.rint(samples), 1.0)
    if max_len is not None:
        np.minimum(lengths, max_len, out=lengths)
    # Values beyond int64 cannot occur for sane means, but a clip keeps the cast defined.
    return np.minimum(lengths, np.iinfo(np.int64).max // 2).astype(np.int64)
