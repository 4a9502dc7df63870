"""`Workload`: the requests a serving simulation replays, held as parallel numpy arrays.

Arrays rather than a list of request objects because a workload of a million requests must be built,
scaled and handed to the simulator in milliseconds; the simulator makes its own per-request records.
Every constructor path (generators and trace readers) ends here, so the checks below are the single
place that guarantees what the serving stage may assume: sorted, non-negative arrival times and
token counts >= 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chip2chat.errors import Chip2ChatError
from chip2chat.workload.arrivals import check_concurrency
from chip2chat.workload.errors import check_positive

# Mooncake's traces hash each 512-token block of a prompt; its hash ids only mean something together
# with that block size, so a Workload carries it (Mooncake FAST'25 trace README).
MOONCAKE_BLOCK_TOKENS = 512


@dataclass(frozen=True)
class Workload:
    """Requests over time, as arrays (fast for a million requests).

    Request i arrives at `arrival_s[i]` with a prompt of `input_len[i]` tokens and asks for
    `output_len[i]` generated tokens.
    """

    arrival_s: np.ndarray
    """float64 seconds from 0, sorted non-decreasing (ties allowed: a batch sent at once)."""
    input_len: np.ndarray
    """int64 prompt tokens, each >= 1."""
    output_len: np.ndarray
    """int64 tokens to generate, each >= 1."""
    priority: np.ndarray | None = None
    """int64, lower = more urgent (vLLM's convention); None means every request has priority 0."""
    prefix_hashes: tuple[tuple[int, ...], ...] | None = None
    """Per request, the hash ids of its prompt's blocks (Mooncake semantics: two requests whose first
    k ids are equal share their first k * hash_block_size prompt tokens). None = no sharing info."""
    hash_block_size: int = MOONCAKE_BLOCK_TOKENS
    """Tokens per hash id block."""
    source: str = ""
    """Where the requests came from, e.g. "poisson(rate=20/s, seed=0)" or a trace path."""
    concurrency: int | None = None
    """Closed loop (arrivals.py, `closed_loop`): at most this many requests in flight, as a benchmark
    client with `--max-concurrency` sends them; request i is sent at `arrival_s[i]` or when a
    request in flight finishes, the later. None: open loop (each request at its arrival time)."""

    def __post_init__(self) -> None:
        arrival = np.ascontiguousarray(self.arrival_s, dtype=np.float64)
        n = arrival.shape[0] if arrival.ndim == 1 else -1
        if n < 0:
            raise Chip2ChatError(f"arrival_s must be a 1-D array, got shape {arrival.shape}")
        object.__setattr__(self, "arrival_s", arrival)
        object.__setattr__(self, "input_len", _token_array("input_len", self.input_len, n))
        object.__setattr__(self, "output_len", _token_array("output_len", self.output_len, n))
        if self.priority is not None:
            object.__setattr__(self, "priority", _int_array("priority", self.priority, n))
        if n and not np.all(np.isfinite(arrival)):
            raise Chip2ChatError("arrival_s must be finite numbers of seconds")
        if n and arrival[0] < 0:
            raise Chip2ChatError(f"arrival_s must be >= 0, got {arrival[0]!r}")
        if n > 1 and np.any(np.diff(arrival) < 0):
            first = int(np.argmax(np.diff(arrival) < 0)) + 1
            raise Chip2ChatError(f"arrival_s must be sorted non-decreasing; request {first} arrives "
                                 f"at {arrival[first]!r} s, before request {first - 1}")
        if self.prefix_hashes is not None and len(self.prefix_hashes) != n:
            raise Chip2ChatError(f"prefix_hashes has {len(self.prefix_hashes)} entries for {n} requests")
        if self.concurrency is not None:
            object.__setattr__(self, "concurrency", check_concurrency(self.concurrency))
        if isinstance(self.hash_block_size, bool) or int(self.hash_block_size) != self.hash_block_size \
                or self.hash_block_size < 1:
            raise Chip2ChatError(f"hash_block_size must be an integer >= 1, got {self.hash_block_size!r}")

    def __len__(self) -> int:
        return int(self.arrival_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last arrival (0 for one request or all at once)."""
        return float(self.arrival_s[-1] - self.arrival_s[0]) if len(self) else 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per request: arrival_s, input_len, output_len, priority (0 when not given)."""
        priority = self.priority if self.priority is not None else np.zeros(len(self), dtype=np.int64)
        return pd.DataFrame({
            "arrival_s": self.arrival_s,
            "input_len": self.input_len,
            "output_len": self.output_len,
            "priority": priority,
        })

    def scaled(self, rate_factor: float) -> Workload:
        """The same requests replayed `rate_factor` times faster (arrival times divided by it).

        The usual way to load a trace at a different request rate (BurstGPT's README suggests it):
        the burst pattern and the lengths are kept, only the clock is compressed.
        """
        factor = check_positive("rate_factor", rate_factor)
        return dataclasses.replace(self, arrival_s=self.arrival_s / factor,
                                   source=f"{self.source} x{factor:g} rate" if self.source else f"x{factor:g} rate")


def _int_array(name: str, values, n: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise Chip2ChatError(f"{name} must have one value per request ({n}), got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.rint(array)):
            raise Chip2ChatError(f"{name} must hold whole numbers")
    elif array.dtype.kind not in "iu":
        raise Chip2ChatError(f"{name} must be integers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)


def _token_array(name: str, values, n: int) -> np.ndarray:
    array = _int_array(name, values, n)
    if n and array.min() < 1:
        bad = int(np.argmax(array < 1))
        raise Chip2ChatError(f"{name} must be >= 1 token; request {bad} has {array[bad]}")
    return array
