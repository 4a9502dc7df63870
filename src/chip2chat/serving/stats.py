"""What a replica records while it runs: ITL histogram, energy, KV use over time, steps.

Inter-token latencies are too many to keep one by one (a million requests x hundreds of
tokens), so they go into a log-spaced histogram with bins 0.1% wide: percentiles read from it
are within 0.1% of the exact ones. A closed-form decode run of K steps whose step time grows
linearly from t0 to t1 adds its n x K latencies spread uniformly over [t0, t1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_LO, _HI, _RATIO = 1e-7, 1e4, 1.001
_NBINS = int(math.log(_HI / _LO) / math.log(_RATIO)) + 1
_LOG_RATIO = math.log(_RATIO)


class LatencyHistogram:
    def __init__(self):
        self._counts = [0.0] * _NBINS  # a list: a bin's update costs a fifth of a numpy element's
        self.total = 0.0
        self.sum = 0.0

    @property
    def counts(self) -> np.ndarray:
        return np.array(self._counts)

    def add(self, lo: float, hi: float, weight: float) -> None:
        """`weight` samples spread uniformly over [lo, hi] seconds."""
        if weight <= 0:
            return
        self.total += weight
        self.sum += weight * (lo + hi) / 2
        counts = self._counts
        b0 = math.log((lo if lo > _LO else _LO) / _LO) / _LOG_RATIO
        i0 = int(b0) if b0 < _NBINS - 1 else _NBINS - 1
        if lo == hi:
            counts[i0] += weight
            return
        b1 = math.log((hi if hi > _LO else _LO) / _LO) / _LOG_RATIO
        i1 = int(b1) if b1 < _NBINS - 1 else _NBINS - 1
        if i0 == i1 or b1 - b0 < 1e-12:
            counts[i0] += weight
            return
        # weight per bin proportional to its share of [b0, b1] in log space (close to uniform in
        # linear space over the narrow ranges a run spans)
        span = b1 - b0
        counts[i0] += weight * (i0 + 1 - b0) / span
        each = weight / span
        for i in range(i0 + 1, i1):
            counts[i] += each
        counts[i1] += weight * (b1 - i1) / span

    def merge(self, other: "LatencyHistogram") -> None:
        self._counts = (self.counts + other.counts).tolist()
        self.total += other.total
        self.sum += other.sum

    @property
    def mean(self) -> float:
        return self.sum / self.total if self.total else float("nan")

    def percentile(self, q: float) -> float:
        if not self.total:
            return float("nan")
        counts = self.counts
        cum = np.cumsum(counts)
        target = q / 100 * cum[-1]
        i = int(np.searchsorted(cum, target))
        i = min(i, _NBINS - 1)
        before = cum[i - 1] if i else 0.0
        frac = (target - before) / counts[i] if counts[i] else 0.5
        return _LO * _RATIO ** (i + min(max(frac, 0.0), 1.0))


@dataclass(slots=True)
class ReplicaStats:
    bucket_s: float
    """Width of the time buckets of `kv_time` (simulate's bucket_s)."""
    trace: list | None = None
    itl: LatencyHistogram = field(default_factory=LatencyHistogram)
    busy_s: float = 0.0
    energy_j: float = 0.0
    steps: int = 0
    prefill_tokens: int = 0
    decode_tokens: int = 0
    preemptions: int = 0
    prefix_hit_tokens: int = 0
    recomputed_tokens: int = 0  # KV thrown away by preemption, to be computed again
    prefill_emitted_tokens: int = 0  # output tokens produced by the step that completes a prefill
    kv_time: dict = field(default_factory=dict)  # bucket -> [sum of util x seconds, seconds]
    in_system_s: float = 0.0  # integral over time of requests running or waiting (Little's L x T)
    waiting_s: float = 0.0  # integral over time of requests waiting
    _kv_bucket: int = -1  # the bucket `record` last added to, and its kv_time entry
    _kv_acc: list = field(default_factory=list)

    def record(self, start: float, seconds: float, joules: float, kv_util: float, prefill_tokens: int,
               decode_seqs: int, steps: int, running: int = 0, waiting: int = 0, itl_first: float = 0.0,
               itl_last: float = 0.0, itl_recorded: int = 0, itl_chunks: int | None = None) -> None:
        """`steps` steps from `start`, in which `decode_seqs` tokens were decoded and reached the
        clients in `itl_chunks` chunks (default: a token a chunk), the chunks' inter-token latencies
        spread from `itl_first` (the first step's time) to `itl_last` (the last's), less
        `itl_recorded` already recorded by the caller."""
        chunks = (decode_seqs if itl_chunks is None else itl_chunks) - itl_recorded
        if chunks > 0:
            self.itl.add(itl_first, itl_last, chunks)
        self.busy_s += seconds
        self.in_system_s += (running + waiting) * seconds
        self.waiting_s += waiting * seconds
        self.energy_j += joules
        self.steps += steps
        self.prefill_tokens += prefill_tokens
        self.decode_tokens += decode_seqs
        b = int(start // self.bucket_s)
        acc = self._kv_acc
        if b != self._kv_bucket:  # steps come in time order: most fall in the bucket of the one before
            acc = self.kv_time.get(b)
            if acc is None:
                acc = self.kv_time[b] = [0.0, 0.0]
            self._kv_bucket, self._kv_acc = b, acc
        acc[0] += kv_util * seconds
        acc[1] += seconds
        if self.trace is not None:
            self.trace.append((start, seconds, prefill_tokens, decode_seqs, steps))
