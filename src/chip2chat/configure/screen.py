"""The analytic screen: what a replica carries within the SLO, in closed form, from its step costs
(Replica.fast_step under the TDP cap, the operators every simulation uses), so that thousands of
candidates are ranked in well under a second before a few are simulated. It only ranks: the
answer a user gets always comes from simulation (search.py).

Steady state of continuous batching with B running sequences, mean input I and output O tokens:
- Aggregated, chunked prefill (vLLM V1): a step decodes B tokens; a prompt joins in chunks of
  c = min(I, T - B) tokens (T: max_num_batched_tokens). Keeping B sequences running takes a chunk
  in a share f = B I / (O c) of the steps, so the mean step is s = d + f (m - d) (d: a decode-only
  step, m: one with a chunk); the rate is B / (O s), the mean TPOT s, the median TTFT
  ceil(I / c) m + s / 2 and the share of time spent on prompts rho = rate ceil(I / c) m.
- Aggregated without chunking (V0): steps of whole prompts (p each) interrupt the decodes: O d +
  B p seconds serve B requests; TPOT d + B p / O; TTFT p + d / 2; rho = rate p.
- Decode worker (disaggregated): s = d; prefill worker: prompts of one step each, rho = rate p.
Tails, fitted on simulations of Llama-3.1-70B FP8 on H200 (TP1 to TP4, 1 to 8 replicas behind
round robin, rho 0.2 to 0.75; within about 15%): p99 TPOT = mean x (1 + 0.08 + 0.17 / n); p99 TTFT
= median + 5.2 rho^0.75 m / n for an aggregated pool of n replicas, and p (1 + 4.4 rho /
((1 - rho)^0.6 n)) for a pool of n prefill workers (round robin hands each replica every n-th
arrival, so the larger the pool, the more regular its arrivals and the shorter its queues).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chip2chat.engine.defaults import GPU_MEMORY_UTILIZATION
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import largest_batch, memory_budget
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.replica import Replica, StepShape
from chip2chat.engine.timing import timed
from chip2chat.errors import Chip2ChatError
from chip2chat.serving.config import Slo

TPOT_SPREAD = (0.08, 0.17)
"""p99 TPOT over the mean: 1 + a + b / n for n replicas (fitted, see above)."""
AGGREGATED_QUEUE = (5.2, 0.75)
"""p99 TTFT over the median, in prompt steps, of an aggregated pool: c rho^a / n (fitted)."""
PREFILL_QUEUE = (4.4, 0.6)
"""The same for a pool of prefill workers: c rho / ((1 - rho)^a n) (fitted)."""


@dataclass(frozen=True)
class Curve:
    """One replica's steady states, one entry per batch size (arrays)."""

    batch: np.ndarray
    rate_per_s: np.ndarray
    """Requests per second one replica completes."""
    tpot_s: np.ndarray
    """Mean time per output token."""
    ttft_s: np.ndarray
    """Median time to first token (no queueing)."""
    rho: np.ndarray
    """Share of the time spent on prompts."""
    prompt_step_s: np.ndarray
    """A step that carries a prompt (what a waiting prompt queues behind)."""
    prefill_only: bool = False

    def capacity(self, slo: Slo, replicas: int) -> tuple[float, float]:
        """(requests/s of one replica, its mean TPOT there) at the largest rate whose p99 TTFT and
        TPOT meet the SLO with `replicas` such replicas behind round robin; (0, nan) if none."""
        ok = np.ones(self.batch.shape, dtype=bool)
        if slo.tpot_ms is not None:
            ok &= self.tpot_s * (1 + TPOT_SPREAD[0] + TPOT_SPREAD[1] / replicas) * 1e3 <= slo.tpot_ms
        if slo.ttft_ms is not None:
            if self.prefill_only:
                c, a = PREFILL_QUEUE
                queue = c * self.rho / (1 - np.minimum(self.rho, 0.99)) ** a
            else:
                c, a = AGGREGATED_QUEUE
                queue = c * self.rho ** a
            ok &= (self.ttft_s + queue * self.prompt_step_s / replicas) * 1e3 <= slo.ttft_ms
        if not ok.any():
            return 0.0, math.nan
        i = int(np.argmax(np.where(ok, self.rate_per_s, -1.0)))
        return float(self.rate_per_s[i]), float(self.tpot_s[i])

    def capped(self, max_seqs: int) -> Curve:
        """The steady states with at most `max_seqs` sequences running (what max_num_seqs allows)."""
        keep = self.batch <= max_seqs
        return Curve(self.batch[keep], self.rate_per_s[keep], self.tpot_s[keep], self.ttft_s[keep], self.rho[keep],
                     self.prompt_step_s[keep], self.prefill_only)


class Screen:
    """Step costs of one model's replicas, memoised, and the curves built from them."""

    def __init__(self, model, weight_dtype: str, input_len: float, output_len: float, engine_keywords: dict):
        self.model, self.weight_dtype, self.engine_keywords = model, weight_dtype, engine_keywords
        self.input_len = max(1, round(input_len))
        self.output_len = max(2, round(output_len))
        self._replicas: dict = {}

    def replica(self, hardware, plan: ParallelPlan, kv_dtype: str, speculative=None) -> Replica | None:
        """The replica (with `speculative` decoding: its decode steps priced per emitted token, its
        draft's weights in memory), or None when the weights leave no room for one request's KV cache."""
        key = (hardware if isinstance(hardware, str) else id(hardware), plan, kv_dtype, speculative)
        if key not in self._replicas:
            rep = get_replica(self.model, hardware, plan.tp, plan.pp, plan.ep, self.weight_dtype, kv_dtype,
                              attention_dp=plan.attention_dp, speculative=speculative, **self.engine_keywords)
            self._replicas[key] = rep if self._most_sequences(rep, MAX_TOKENS_PROBE, 1) >= 1 else None
        return self._replicas[key]

    def _most_sequences(self, rep: Replica, budget: int, seqs: int) -> int:
        usable = memory_budget(rep, GPU_MEMORY_UTILIZATION, budget, seqs).usable_bytes
        return largest_batch(rep, usable, GPU_MEMORY_UTILIZATION, budget, self.input_len + self.output_len)

    def _step(self, rep: Replica, chunks: tuple, batch: int) -> float:
        context = self.input_len + self.output_len // 2
        keys = StepShape.uniform_decode(batch, context, rep.windows).decode_keys if batch else ()
        return timed(*rep.fast_step(StepShape(prefill=chunks, decode_count=batch, decode_keys=keys)), rep.device)[0]

    def _batches(self, rep: Replica, max_seqs: int, budget: int, extra: tuple[int, ...]) -> np.ndarray:
        most = min(max_seqs, self._most_sequences(rep, budget, max_seqs))
        grid = {round(b) for b in np.geomspace(1, max(most, 1), 20).tolist()} | {b for b in extra if b <= most} | {most}
        return np.array(sorted(b for b in grid if b >= 1), dtype=np.int64)

    def aggregated(self, rep: Replica, max_seqs: int, budget: int, chunked: bool, extra=()) -> Curve:
        """An aggregated replica's curve over its batch sizes."""
        i, o = self.input_len, self.output_len
        rows = []
        for b in self._batches(rep, max_seqs, budget, extra):
            d = self._step(rep, (), int(b))
            if chunked:
                c = min(i, budget - int(b))
                if c < 1:
                    continue
                m = self._step(rep, (((i - c) // 2, c),), int(b))
                f = b * i / (o * c)
                if f > 1.0:  # prompts cannot join as fast as sequences finish
                    continue
                s = d + f * (m - d)
                rate = b / (o * s)
                rows.append((b, rate, s, math.ceil(i / c) * m + s / 2, rate * math.ceil(i / c) * m, m))
            else:
                p = self._step(rep, ((0, i),), 0)
                rate = b / (o * d + b * p)
                rows.append((b, rate, d + b * p / o, p + d / 2, rate * p, p))
        return _curve(rows)

    def decode(self, rep: Replica, max_seqs: int, budget: int, extra=()) -> Curve:
        """A decode worker's curve: prefilled sequences join without a prompt step."""
        rows = []
        for b in self._batches(rep, max_seqs, budget, extra):
            d = self._step(rep, (), int(b))
            rows.append((b, b / (self.output_len * d), d, 0.0, 0.0, 0.0))
        return _curve(rows)

    def prefill(self, rep: Replica, budget: int) -> Curve:
        """A prefill worker's curve over its load, one prompt step after another."""
        i = self.input_len
        chunk = min(i, budget)
        p = sum(self._step(rep, ((start, min(chunk, i - start)),), 0) for start in range(0, i, chunk))
        per_step = max(1, budget // i)
        full = self._step(rep, ((0, i),) * per_step, 0) if per_step > 1 else p
        saturated = per_step / full
        rate = saturated * np.linspace(0.02, 0.95, 48)
        n = rate.shape
        return Curve(batch=np.zeros(n), rate_per_s=rate, tpot_s=np.zeros(n), ttft_s=np.full(n, p),
                     rho=np.minimum(rate * p, 1.0), prompt_step_s=np.full(n, p), prefill_only=True)


MAX_TOKENS_PROBE = 2048
"""Token budget of the fit check (a small step's activations): does one request's KV fit at all?"""


def _curve(rows: list) -> Curve:
    if not rows:
        empty = np.zeros(0)
        return Curve(empty, empty, empty, empty, empty, empty)
    cols = np.array(rows, dtype=float).T
    return Curve(batch=cols[0], rate_per_s=cols[1], tpot_s=cols[2], ttft_s=cols[3], rho=cols[4],
                 prompt_step_s=cols[5])


def check_fits(screen: Screen, hardware, plans: list[ParallelPlan], kv_dtypes, chip: str) -> None:
    """One line when no plan of the chip can hold the model and one request's KV cache."""
    if not any(screen.replica(hardware, p, kv) for p in plans for kv in kv_dtypes):
        raise Chip2ChatError(f"{screen.model if isinstance(screen.model, str) else screen.model.name} does not fit "
                             f"on {chip} with any parallel plan of the search (largest: "
                             f"{max((p.num_devices for p in plans), default=0)} chips)")
