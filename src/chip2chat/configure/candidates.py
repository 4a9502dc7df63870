"""Every candidate deployment of the search, screened analytically (screen.py).

Aggregated: each chip's valid plans x KV dtypes x batching knobs x replica counts. Disaggregated:
each (prefill chip, decode chip) pair, same chip or not, x their plans x KV dtype x the prefill
token budget x the (prefill, decode) replica counts; each of them with every speculative decoding
setup the model can run (space.speculative_setups; pp = 1 only), priced by the replica's step
costs (a decode-only step per emitted token). With a GPU budget a deployment fills it as far
as it can and is ranked by the rate it carries; for a request rate a deployment is one unit of at
most `SearchSpace.unit_gpus` GPUs, ranked by the GPUs that copies of it need for the rate.
`max_num_seqs` caps the batch of a replica's curve; the knob sets whose screened rates tie within
1% (every max_num_seqs above the batch the SLO allows does) are told apart by their distance from
the engines' defaults (vLLM's 256 sequences, 8,192 tokens, chunked prefill on), nearest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chip2chat.configure.screen import Curve, Screen
from chip2chat.configure.space import AGGREGATED, DISAGGREGATED, Candidate, SearchSpace, Workers, knob_sets
from chip2chat.engine.defaults import MAX_NUM_BATCHED_TOKENS, MAX_NUM_SEQS
from chip2chat.serving.config import Slo

TIE = 0.01
"""Knob sets whose screened rates are within this share of each other count as equal."""


@dataclass(frozen=True)
class Chip:
    """A chip of the search: its display name, how it was given, and its plans."""

    name: str
    hardware: object
    plans: tuple


@dataclass(frozen=True)
class Screened:
    """A candidate with its screened rate (requests/s of the whole candidate) and user speed."""

    candidate: Candidate
    rate_per_s: float
    tokens_per_s_per_user: float
    objective: float
    """Larger is better: the rate (GPU budget) or minus the GPUs for the rate (request rate)."""


def objective(rate: float, gpus: int, target_rate: float | None) -> float:
    """What the search maximises: the rate a budget carries, or minus the GPUs that copies of a
    unit need for `target_rate` (with the rate per GPU as a tie-break below one GPU)."""
    if target_rate is None:
        return rate
    if rate <= 0:
        return -math.inf
    return -math.ceil(target_rate / rate - 1e-9) * gpus + 1e-3 * rate / gpus


def screen_all(screen: Screen, chips: list[Chip], space: SearchSpace, slo: Slo, kv_dtypes: tuple[str, ...],
               budget: int, target_rate: float | None, speculative: tuple = (None,)) -> list[Screened]:
    """Every candidate that carries some load within the SLO, screened, for each KV dtype and
    `speculative` setup (None: none)."""
    out: list[Screened] = []
    for kv in kv_dtypes:
        for spec in speculative:
            kinds = [_Kind(c.name, c.hardware, tuple(p for p in c.plans if spec is None or p.pp == 1), kv, spec)
                     for c in chips]
            if AGGREGATED in space.modes:
                for kind in kinds:
                    out += _aggregated(screen, kind, space, slo, budget, target_rate)
            if DISAGGREGATED in space.modes:
                prefill = [w for kind in kinds for w in _prefill_options(screen, kind, space, slo)]
                decode = [w for kind in kinds for w in _decode_options(screen, kind, space, slo)]
                for p_workers, p_curve in prefill:
                    for d_workers, d_curve in decode:
                        out += _pairs(p_workers, p_curve, d_workers, d_curve, slo, kv, spec, budget, target_rate)
    return [s for s in out if s.rate_per_s > 0]


@dataclass(frozen=True)
class _Kind:
    """A chip's plans under one KV dtype and speculative setup."""

    name: str
    hardware: object
    plans: tuple
    kv: str
    spec: object

    def replica(self, screen: Screen, plan):
        return screen.replica(self.hardware, plan, self.kv, self.spec)


def _aggregated(screen, chip: _Kind, space, slo, budget, target_rate) -> list[Screened]:
    out = []
    for plan in chip.plans:
        rep = chip.replica(screen, plan)
        if rep is None or plan.num_devices > budget:
            continue
        counts = [budget // plan.num_devices] if target_rate is None else range(1, budget // plan.num_devices + 1)
        curves = {(t, c): screen.aggregated(rep, max(space.max_num_seqs), t, c, extra=space.max_num_seqs)
                  for _, t, c in knob_sets(space, AGGREGATED)}
        for seqs, t, chunked in knob_sets(space, AGGREGATED):
            curve = curves[(t, chunked)].capped(seqs)
            workers = Workers(chip.name, plan, 1, seqs, t, chunked, hardware=chip.hardware)
            for n in counts:
                rate, tpot = curve.capacity(slo, n)
                cand = Candidate(AGGREGATED, (workers,), chip.kv, chip.spec).with_counts(n)
                out.append(Screened(cand, rate * n, 1.0 / tpot, objective(rate * n, cand.gpus, target_rate)))
    return out


def _prefill_options(screen, chip: _Kind, space, slo) -> list[tuple[Workers, Curve]]:
    """Per plan, the prefill worker whose token budget carries the most prompts (at one worker)."""
    out = []
    for plan in chip.plans:
        rep = chip.replica(screen, plan)
        options = [(Workers(chip.name, plan, 1, seqs, t, True, hardware=chip.hardware), screen.prefill(rep, t))
                   for seqs, t, _ in knob_sets(space, "prefill")] if rep is not None else []
        out += _best_knobs(options, slo)
    return out


def _decode_options(screen, chip: _Kind, space, slo) -> list[tuple[Workers, Curve]]:
    """Per plan, the decode worker whose max_num_seqs carries the most sequences (at one worker)."""
    out = []
    for plan in chip.plans:
        rep = chip.replica(screen, plan)
        if rep is None:
            continue
        budget = max(MAX_NUM_BATCHED_TOKENS, max(space.max_num_seqs))
        curve = screen.decode(rep, max(space.max_num_seqs), budget, extra=space.max_num_seqs)
        out += _best_knobs([(Workers(chip.name, plan, 1, seqs, t, True, hardware=chip.hardware), curve.capped(seqs))
                            for seqs, t, _ in knob_sets(space, "decode")], slo)
    return out


def _best_knobs(options: list[tuple[Workers, Curve]], slo: Slo) -> list[tuple[Workers, Curve]]:
    """The option with the largest screened rate, the one nearest the defaults among ties; [] if none."""
    rated = [(curve.capacity(slo, 1)[0], w, curve) for w, curve in options]
    top = max((r for r, _, _ in rated), default=0.0)
    if top <= 0:
        return []
    ties = [(w, curve) for r, w, curve in rated if r >= top * (1 - TIE)]
    return [min(ties, key=lambda o: _distance(o[0].max_num_seqs, o[0].max_num_batched_tokens))]


def _pairs(p_workers, p_curve, d_workers, d_curve, slo, kv, spec, budget, target_rate):
    """The best (prefill, decode) replica counts for one pair of worker kinds within the GPU limit."""
    gp, gd = p_workers.plan.num_devices, d_workers.plan.num_devices
    prefill_rate = [n * p_curve.capacity(slo, n)[0] if n else 0.0 for n in range(budget // gp + 1)]
    decode = [d_curve.capacity(slo, n) if n else (0.0, math.nan) for n in range(budget // gd + 1)]
    best = None
    for n_p in range(1, (budget - gd) // gp + 1):
        most_d = (budget - n_p * gp) // gd
        for n_d in [most_d] if target_rate is None else range(1, most_d + 1):
            rate = min(prefill_rate[n_p], n_d * decode[n_d][0])
            if rate > 0:
                cand = Candidate(DISAGGREGATED, (p_workers, d_workers), kv, spec).with_counts(n_p, n_d)
                item = Screened(cand, rate, 1.0 / decode[n_d][1], objective(rate, cand.gpus, target_rate))
                best = item if best is None or item.objective > best.objective else best
    return [best] if best is not None else []


def _distance(seqs: int, budget: int) -> float:
    """How far a knob set is from the engines' defaults (log scale)."""
    return abs(math.log(seqs / MAX_NUM_SEQS)) + abs(math.log(budget / MAX_NUM_BATCHED_TOKENS))


def knobs_distance(s: Screened) -> float:
    """`_distance` of a candidate's first pool, chunked prefill off counting one more."""
    w = s.candidate.workers[0]
    return _distance(w.max_num_seqs, w.max_num_batched_tokens) + (not w.enable_chunked_prefill)
