"""`configure`: the best serving configuration of a model on one or more chips under an SLO.

1. Screen: every candidate (space.py, candidates.py), with and without speculative decoding where
   the model has it, gets an analytic rate within the SLO from its replicas' step costs
   (screen.py): thousands in a fraction of a second.
2. Simulate: the best few of each mode (aggregated, disaggregated; `finalists` each, one per
   structure of chips, plans, KV dtype and speculative setup) get their capacity by bisection on the Poisson request
   rate (capacity.py), each probe a full simulation of the deployment.
3. Answer: the finalist that carries the budget's largest rate, or for a request rate the one whose
   copies need the fewest GPUs, checked once more by simulating one copy at its share of the rate.
   Its numbers are always those of a simulation that met the SLO.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from chip2chat import args
from chip2chat.catalog import CATALOG_DIR
from chip2chat.configure.candidates import TIE, Chip, Screened, knobs_distance, screen_all
from chip2chat.configure.capacity import Capacity, meets, slo_capacity
from chip2chat.configure.deploy import Setup, engine_keywords, simulate_candidate
from chip2chat.configure.result import ConfigureResult, Finalist, best_finalist, candidate_row, pareto
from chip2chat.configure.screen import Screen, check_fits
from chip2chat.configure.space import (AGGREGATED, DISAGGREGATED, ENGINES, Candidate, SearchSpace, replica_plans,
                                       speculative_setups)
from chip2chat.engine.defaults import INPUT_LEN, OUTPUT_LEN
from chip2chat.engine.factory import get_replica
from chip2chat.engine.speculative import speculative
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.dtypes import KV_DTYPES, WEIGHT_DTYPES
from chip2chat.models.load import load_model
from chip2chat.models.transformer import Transformer
from chip2chat.serving.config import Slo
from chip2chat.silicon.design import ChipDesign, load_design
from chip2chat.silicon.model import evaluate, to_accelerator
from chip2chat.workload import Workload, read_trace
from chip2chat.workload.sessions import PrefixSharing

CHECKS = 3
"""Copies added, one at a time, when the check of a rate's deployment misses the SLO."""


def configure(model: str | Transformer, chips, *, engine: str = "vllm", weight_dtype: str = "bf16",
              input_len=INPUT_LEN, output_len=OUTPUT_LEN, trace: str | Workload | None = None,
              trace_format: str | None = None, slo: Slo | None = None, slo_ttft_ms: float | None = None,
              slo_tpot_ms: float | None = None, tokens_per_s_per_user: float | None = None, gpus: int | None = None,
              rate_per_s: float | None = None, space: SearchSpace | None = None, finalists: int = 3,
              include: list[Candidate] | tuple = (), seed: int = 0, workers: int = 1,
              tolerance: float = 0.02, prefix: PrefixSharing | None = None,
              requests: int = 1200, speculative_method: str | None = None, num_speculative_tokens: int = 0,
              acceptance_length: float = 0.0) -> ConfigureResult:
    """Search the serving configurations of `model` on `chips` (a catalog name, accelerator YAML,
    chip design name or file, Accelerator or ChipDesign, or a list of them) for the SLO, within a
    GPU budget (`gpus`) or sized for a request rate (`rate_per_s`).

    Workload: `input_len`/`output_len` (ints, or ("uniform", lo, hi) / ("lognormal", mean, cv)) or
    a `trace` (a Workload, or a file with its `trace_format`) whose arrivals are rescaled to each
    simulated rate. SLO: an `Slo`, or p99 `slo_ttft_ms` / `slo_tpot_ms`, or `tokens_per_s_per_user`
    (a p99 TPOT of 1000 / that many ms). `engine`: trtllm, vllm or sglang (its scheduler in the
    simulation, its launch files; passed on to the cost model where that takes an engine).
    `finalists`: candidates simulated per mode; `include`: candidates simulated besides them
    (e.g. the deployment a scenario fixes, so that the answer is never worse than it); `workers`:
    processes for the simulations (same answer); `prefix`: prompt prefixes the requests share
    (workload/sessions.py: a system prompt, a session's earlier turns), cached by the replicas and
    routed to by a KV-aware router; `requests`: the least number of requests of one simulation
    (300 a replica beyond). Speculative decoding: the space's setups (`SearchSpace.speculative`:
    none, and mtp at its published default where the model has MTP layers) plus the one given by
    `speculative_method` (mtp, eagle3, draft_model), `num_speculative_tokens` and
    `acceptance_length` (needed for eagle3 and draft_model: it depends on the draft and the
    traffic). Same arguments and seed, same answer."""
    start = time.perf_counter()
    args.one_of("engine", engine, tuple(ENGINES))
    args.one_of("weight_dtype", weight_dtype, WEIGHT_DTYPES)
    space = space or SearchSpace()
    if not isinstance(space, SearchSpace):
        raise Chip2ChatError(f"space must be a chip2chat.configure.SearchSpace, got {space!r}")
    for kv in space.kv_dtypes:
        args.one_of("space kv_dtypes", kv, KV_DTYPES)
    objective = _slo(slo, slo_ttft_ms, slo_tpot_ms, tokens_per_s_per_user)
    if (gpus is None) == (rate_per_s is None):
        raise Chip2ChatError("give either gpus (a GPU budget) or rate_per_s (a request rate to serve), not both")
    budget = space.unit_gpus if gpus is None else args.positive_int("gpus", gpus)
    target = None if rate_per_s is None else args.number("rate_per_s", rate_per_s, low=0, low_open=True)
    for name, value in (("finalists", finalists), ("workers", workers)):
        args.positive_int(name, value)
    args.positive_int("seed", seed, low=0)
    transformer = load_model(model) if isinstance(model, str) else args.instance(
        "model", model, (Transformer,), "a catalog model name, a config.json path or a Transformer")
    args.positive_int("requests", requests)
    if prefix is not None:
        args.instance("prefix", prefix, (PrefixSharing,), "a chip2chat.workload.sessions.PrefixSharing")
    setup = Setup(model, engine, weight_dtype, objective, input_len, output_len, _trace(trace, trace_format),
                  min_requests=requests, seed=seed, prefix=prefix)
    mean_in, mean_out = setup.mean_lengths()
    screen = Screen(model, weight_dtype, mean_in, mean_out, engine_keywords(get_replica, engine))
    resolved = [_chip(c, transformer, engine, space, budget, screen) for c in _chip_list(chips)]
    setups = speculative_setups(transformer, space)
    given = speculative(speculative_method, num_speculative_tokens, acceptance_length, model=transformer)
    setups += [given] if given is not None and given not in setups else []
    screened = screen_all(screen, resolved, space, objective, space.kv_dtypes, budget, target, tuple(setups))
    chosen = _finalists(screened, finalists)
    chosen += [Screened(c, math.nan, math.nan, math.nan) for c in _included(include, chosen, gpus)]
    capacities = _run(setup, [s.candidate for s in chosen], tolerance, workers)
    done = [Finalist(s.candidate, s.rate_per_s, c, mean_out) for s, c in zip(chosen, capacities)]
    best = best_finalist(done, target)
    units = check = None
    if best is not None and target is not None:
        units, check = _size(setup, best, target)
    return ConfigureResult(model=transformer.name, engine=engine, weight_dtype=weight_dtype, slo=objective,
                           workload=setup.describe(), gpus=gpus, rate_per_s=target, finalists=done,
                           screened=_table(screened, mean_out), best=best, units=units, check=check,
                           seconds=time.perf_counter() - start)


def _slo(slo, ttft_ms, tpot_ms, tokens_per_s_per_user) -> Slo:
    if slo is not None:
        if any(v is not None for v in (ttft_ms, tpot_ms, tokens_per_s_per_user)):
            raise Chip2ChatError("give the SLO either as slo=Slo(...) or as its keywords, not both")
        objective = args.instance("slo", slo, (Slo,), "a chip2chat.Slo")
    else:
        if tokens_per_s_per_user is not None:
            speed = args.number("tokens_per_s_per_user", tokens_per_s_per_user, low=0, low_open=True)
            tpot_ms = 1e3 / speed if tpot_ms is None else min(tpot_ms, 1e3 / speed)
        objective = Slo(ttft_ms=ttft_ms, tpot_ms=tpot_ms)
    if objective.ttft_ms is None and objective.tpot_ms is None:
        raise Chip2ChatError("give an SLO: slo_ttft_ms and/or slo_tpot_ms (p99), or tokens_per_s_per_user")
    return objective


def _trace(trace, trace_format) -> Workload | None:
    if trace is None or isinstance(trace, Workload):
        return trace
    if trace_format is None:
        raise Chip2ChatError("a trace needs its format: trace_format azure, burstgpt or mooncake")
    return read_trace(str(trace), trace_format)


def _chip_list(chips) -> list:
    chips = [chips] if isinstance(chips, (str, os.PathLike, Accelerator, ChipDesign)) else chips
    if not isinstance(chips, (list, tuple)) or not chips:
        raise Chip2ChatError(f"chips must be a chip or a list of chips (catalog names, YAML paths, "
                             f"Accelerators or ChipDesigns), got {chips!r}")
    return list(chips)


def _chip(chip, model: Transformer, engine: str, space: SearchSpace, budget: int, screen: Screen) -> Chip:
    """A chip of the search, from a catalog accelerator, an accelerator YAML, a chip design (its
    catalog name, YAML, or object) or an Accelerator."""
    if isinstance(chip, Accelerator):
        hw, given = chip, chip
    elif isinstance(chip, ChipDesign):
        hw = given = to_accelerator(chip, evaluate(chip))
    elif isinstance(chip, (str, os.PathLike)) and str(chip).strip():
        try:
            hw, given = load_hardware(str(chip))[1], str(chip)
        except Chip2ChatError as not_accelerator:
            shipped = CATALOG_DIR / "designs" / f"{chip}.yaml"
            if not shipped.is_file() and not os.path.isfile(chip):
                raise not_accelerator from None
            design = load_design(shipped if shipped.is_file() else chip)
            hw = given = to_accelerator(design, evaluate(design))
    else:
        raise Chip2ChatError(f"a chip must be a catalog name, a YAML path, an Accelerator or a ChipDesign, "
                             f"got {chip!r}")
    plans = [p for p in replica_plans(model, engine, space, budget) if p.tp <= hw.scale_up.domain]
    check_fits(screen, given, plans, space.kv_dtypes, hw.name)
    return Chip(hw.name, given, tuple(plans))


def _finalists(screened: list[Screened], per_mode: int) -> list[Screened]:
    """The best `per_mode` candidates of each mode, one per structure (chips, plans, KV dtype,
    speculative setup)."""
    chosen = []
    for mode in (AGGREGATED, DISAGGREGATED):
        seen = set()
        ranked = sorted((s for s in screened if s.candidate.mode == mode), key=lambda s: -s.objective)
        for s in _ties_near_defaults(ranked):
            key = (s.candidate.kv_dtype, s.candidate.speculative, tuple((w.chip, w.plan) for w in s.candidate.workers))
            if key not in seen and len(seen) < per_mode:
                seen.add(key)
                chosen.append(s)
    return chosen


def _included(include, chosen: list[Screened], gpus: int | None) -> list[Candidate]:
    """The `include`d candidates not already among the finalists."""
    if not isinstance(include, (list, tuple)) or not all(isinstance(c, Candidate) for c in include):
        raise Chip2ChatError(f"include must be a list of chip2chat.configure.Candidate, got {include!r}")
    for c in include:
        if gpus is not None and c.gpus > gpus:
            raise Chip2ChatError(f"include: {c.label()} needs {c.gpus} GPUs, more than the budget of {gpus}")
    known = {s.candidate for s in chosen}
    return [c for c in include if c not in known]


def _ties_near_defaults(ranked: list[Screened]) -> list[Screened]:
    """`ranked` (best first) with runs of ties (within TIE) reordered nearest the engines' defaults."""
    out, i = [], 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j].objective >= ranked[i].objective - TIE * abs(ranked[i].objective):
            j += 1
        out += sorted(ranked[i:j], key=knobs_distance)
        i = j
    return out


def _capacity(setup: Setup, candidate, tolerance: float) -> Capacity:
    return slo_capacity(lambda rate: simulate_candidate(setup, candidate, rate), setup.slo, tolerance=tolerance)


def _run(setup: Setup, candidates: list, tolerance: float, workers: int) -> list[Capacity]:
    """Each candidate's capacity, in processes when `workers` > 1 (the same numbers either way)."""
    if workers == 1 or len(candidates) < 2:
        return [_capacity(setup, c, tolerance) for c in candidates]
    with ProcessPoolExecutor(max_workers=min(workers, len(candidates))) as pool:
        return list(pool.map(_capacity, [setup] * len(candidates), candidates, [tolerance] * len(candidates)))


def _size(setup: Setup, best: Finalist, rate_per_s: float) -> tuple[int, dict]:
    """Copies of the best unit for the rate, each checked at its share of it (Poisson, no smoothing
    from the router: conservative); a copy is added while the check misses the SLO."""
    units = math.ceil(rate_per_s / best.rate_per_s - 1e-9)
    for _ in range(CHECKS + 1):
        summary = simulate_candidate(setup, best.candidate, rate_per_s / units)
        if meets(summary, setup.slo):
            return units, summary
        units += 1
    raise Chip2ChatError(f"{best.candidate.label()} missed the SLO at {rate_per_s / units:.3g} req/s per copy "
                         f"although it met it at {best.rate_per_s:.3g}: the simulations are too short for this "
                         f"SLO's p99; raise the number of requests")


def _table(screened: list[Screened], mean_out: float) -> pd.DataFrame:
    """The screen's table; `pareto`: on the analytic front of tokens/s/GPU vs tokens/s/user."""
    table = pd.DataFrame([{**candidate_row(s.candidate), "screened_rate_per_s": s.rate_per_s,
                           "tokens_per_s_per_gpu": s.rate_per_s * mean_out / s.candidate.gpus,
                           "tokens_per_s_per_user": s.tokens_per_s_per_user} for s in screened])
    if not table.empty:
        table["pareto"] = pareto(table["tokens_per_s_per_gpu"].to_numpy(float),
                                 table["tokens_per_s_per_user"].to_numpy(float))
    return table
