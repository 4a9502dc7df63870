"""The chip co-design evaluators: a design point -> silicon, serving and economics.

A point is a nested dict:
    design:    a ChipDesign (silicon/design.py), e.g. from a design YAML
    serve:     model, tp, pp, ep, batch, input_len, output_len, weight_dtype, kv_dtype
               (and rate_per_s, num_requests for the "chip_sim" evaluator)
    economics: amortization_years, electricity_usd_per_kwh, pue (defaults below)
"chip" costs a static batch with `estimate`; "chip_sim" serves a workload with `simulate`;
`evaluate_chip_many` is the vectorised form of "chip" for large sweeps (the `vector` backend): it
takes a PointTable and returns Results (chip2chat.explore.evaluate).
chip2chat.explore.evaluate names these functions (EVALUATORS, CHECKS, VECTOR_EVALUATORS); this
module registers nothing when imported.

$ per million output tokens: chip2chat.datacenter.economics.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.datacenter.economics import economics
from chip2chat.units import parse_quantity
from chip2chat.explore.evaluate import Results
from chip2chat.explore.space import PointTable

SERVE_DEFAULTS = {"tp": 1, "pp": 1, "ep": 1, "batch": 64, "input_len": 1024, "output_len": 256,
                  "weight_dtype": "fp8", "kv_dtype": "fp8"}
SIM_SERVE_KEYS = ("rate_per_s", "num_requests", "seed")
"""Serving settings only the "chip_sim" evaluator reads (the workload it simulates)."""
# design fields the vector path varies as arrays; any other difference splits points into groups
VECTOR_PATHS = ("sram", "tdp", "clock", "hbm.stacks", "scale_up.bandwidth")


def check_chip_point(point: dict, extra_serve: tuple[str, ...] = ()) -> None:
    """Raise a one-line ConfigError naming the first field of `point` that the "chip" evaluator
    does not know or cannot use: a misspelt key anywhere, a design that does not validate, a
    serving model that is not in the catalog."""
    from chip2chat.models.load import load_model
    from chip2chat.silicon.design import ChipDesign, design_from_dict
    from chip2chat.datacenter.economics import ECONOMICS

    _known_keys(point, "", ("design", "serve", "economics"))
    if "design" not in point:
        raise ConfigError("sweep point", "design", "missing: the chip design (see catalog/designs/)")
    try:
        design_from_dict(point["design"], "design")
    except ConfigError as exc:
        problem = str(exc)[len(f"{exc.source}: {exc.field}: "):]
        if problem.startswith("Extra inputs are not permitted"):
            known = ", ".join(_fields(ChipDesign, exc.field))
            problem = f"not a field of the chip design (a typo?); fields at that level: {known}"
        raise ConfigError("sweep point", f"design.{exc.field}", problem) from None
    serve = point.get("serve", {})
    _known_keys(serve, "serve", ("model", *SERVE_DEFAULTS, *extra_serve))
    _known_keys(point.get("economics", {}), "economics", tuple(ECONOMICS))
    if "model" not in serve:
        raise ConfigError("sweep point", "serve.model", "missing: which model does the chip serve?")
    if not isinstance(serve["model"], str):
        raise ConfigError("sweep point", "serve.model", f"expected a catalog model name or a config.json path, "
                                                         f"got {serve['model']!r}")
    try:
        load_model(serve["model"])
    except Chip2ChatError as exc:
        raise ConfigError("sweep point", "serve.model", str(exc)) from None


def check_chip_sim_point(point: dict) -> None:
    """check_chip_point for the "chip_sim" evaluator, which also reads the workload keys."""
    check_chip_point(point, SIM_SERVE_KEYS)


def _known_keys(value, where: str, known: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise ConfigError("sweep point", where or "<root>", f"expected a mapping, got {value!r}")
    for key in value:
        if key not in known:
            path = f"{where}.{key}" if where else str(key)
            raise ConfigError("sweep point", path, f"not a field here (a typo?); known: {', '.join(known)}")


def _fields(model, path: str) -> list[str]:
    """The field names (aliases where set) of the pydantic model that holds dotted `path`."""
    for part in path.split(".")[:-1]:
        by_name = {f.alias or n: f for n, f in model.model_fields.items()}
        inner = getattr(by_name.get(part), "annotation", None)
        if not (isinstance(inner, type) and hasattr(inner, "model_fields")):
            break
        model = inner
    return [f.alias or n for n, f in model.model_fields.items()]


def _serve(point: dict) -> dict:
    serve = {**SERVE_DEFAULTS, **point.get("serve", {})}
    if "model" not in serve:
        raise Chip2ChatError("point.serve.model is missing: which model does the chip serve?")
    return serve


def _chip(point: dict):
    """(silicon report, the design as an Accelerator, serving settings) of a point."""
    from chip2chat.silicon.design import design_from_dict
    from chip2chat.silicon.model import evaluate, to_accelerator

    design = design_from_dict(point["design"], "point.design")
    silicon = evaluate(design)
    return silicon, to_accelerator(design, silicon), _serve(point)


def evaluate_chip(point: dict) -> dict:
    """Silicon + static-batch serving + economics of one design point."""
    from chip2chat.engine.estimate import estimate

    silicon, hw, serve = _chip(point)
    est = estimate(serve["model"], hw, tp=serve["tp"], pp=serve["pp"], ep=serve["ep"],
                   batch=serve["batch"], input_len=serve["input_len"], output_len=serve["output_len"],
                   weight_dtype=serve["weight_dtype"], kv_dtype=serve["kv_dtype"])
    chips = est.num_devices
    money = economics(silicon.unit_cost_usd, chips, est.output_tokens_per_s, est.power_w, point.get("economics", {}))
    ok = est.fits
    return {"die_area_mm2": silicon.die_area_m2 / 1e-6, "compute_dies": silicon.compute_dies,
            "unit_cost_usd": silicon.unit_cost_usd, "full_load_power_w": silicon.full_load_power_w,
            "hbm_capacity_gib": silicon.hbm_capacity_bytes / 2**30,
            "hbm_bandwidth_tb_s": silicon.hbm_bandwidth_bytes_per_s / 1e12, "fits": ok, "max_batch": est.max_batch,
            "ttft_s": est.ttft_s, "tpot_s": est.tpot_s if ok else float("nan"),
            "tokens_per_s_per_chip": est.output_tokens_per_s_per_device if ok else float("nan"),
            "joules_per_token": est.energy_per_output_token_j if ok else float("nan"),
            "usd_per_mtok": money["usd_per_mtok"] if ok else float("nan")}


def evaluate_chip_sim(point: dict) -> dict:
    """Silicon + a simulated workload (rate_per_s, num_requests) + economics of one design point."""
    from chip2chat.serving.simulate import simulate

    silicon, hw, serve = _chip(point)
    sim = simulate(serve["model"], hw, tp=serve["tp"], pp=serve["pp"], ep=serve["ep"],
                   weight_dtype=serve["weight_dtype"], kv_dtype=serve["kv_dtype"],
                   rate_per_s=serve.get("rate_per_s", 10.0), num_requests=serve.get("num_requests", 500),
                   input_len=serve["input_len"], output_len=serve["output_len"], seed=serve.get("seed", 0))
    s = sim.summary
    chips = serve["tp"] * serve["pp"]
    power = s["energy_j"] / s["duration_s"]
    money = economics(silicon.unit_cost_usd, chips, s["output_throughput"], power, point.get("economics", {}))
    return {"die_area_mm2": silicon.die_area_m2 / 1e-6, "unit_cost_usd": silicon.unit_cost_usd,
            "tokens_per_s_per_chip": s["output_throughput"] / chips, "joules_per_token": s["energy_per_output_token_j"],
            "usd_per_mtok": money["usd_per_mtok"], "p99_ttft_ms": s["p99_ttft_ms"], "p99_tpot_ms": s["p99_tpot_ms"],
            "completed": s["completed"]}


def evaluate_chip_many(points: PointTable) -> Results:
    """The "chip" evaluator for many points at once: numpy over groups that differ only in VECTOR_PATHS
    (and peak_flops). Per point the same result (or error) as evaluate_chip's."""
    parts = []
    for members in _groups(points):
        try:
            results = _evaluate_group(points.take(members))
        except Chip2ChatError as exc:  # the whole group shares the problem (unknown model, node ...)
            results = Results({}, [str(exc)] * len(members))
        parts.append((members, results))
    return Results.gather(parts, len(points))


def _groups(points: PointTable) -> list[np.ndarray]:
    """Indices of points with one _structure_key each: split by the swept paths that are not
    vectorised (each part shares those values), then parts with equal keys joined."""
    varied = {f"design.{path}" for path in VECTOR_PATHS}
    by_key: dict[str, list[np.ndarray]] = {}
    for part in points.groups([path for path in points.columns if path not in varied]):
        by_key.setdefault(_structure_key(points[int(part[0])]), []).append(part)
    return [np.sort(np.concatenate(parts)) for parts in by_key.values()]


def _structure_key(point: dict) -> str:
    """What a group shares: everything but the vectorised design fields and the peak FLOP/s scale."""
    design = dict(point.get("design", {}))
    for path in VECTOR_PATHS:
        head, _, tail = path.partition(".")
        if tail and isinstance(design.get(head), dict):
            design[head] = {k: v for k, v in design[head].items() if k != tail}
        elif not tail:
            design.pop(head, None)
    peaks = design.get("peak_flops", {})
    if "bf16" in peaks:  # keep the dtypes and their ratios, vary the scale
        bf16 = _num(peaks["bf16"], "FLOP/s")
        design["peak_flops"] = {d: round(_num(v, "FLOP/s") / bf16, 9) for d, v in peaks.items()}
    return json.dumps({**point, "design": design}, sort_keys=True, default=str)


@lru_cache(maxsize=65536)
def _num(value, unit: str) -> float:
    return parse_quantity(value, unit)


def _evaluate_group(points: PointTable) -> Results:
    """The (result, error) of each point of a group (points that differ only in VECTOR_PATHS and the
    peak FLOP/s scale), with numpy over the group."""
    from chip2chat.engine.vector import estimate_many
    from chip2chat.silicon.catalog import load_catalog
    from chip2chat.silicon.design import design_from_dict
    from chip2chat.silicon.model import derive, evaluate, hbm_entry, to_accelerator

    first = design_from_dict(points[0]["design"], "point.design")
    cat = load_catalog(first.overrides)
    node = cat.nodes[first.process_node]
    entry = hbm_entry(first)
    n = len(points)
    bf16 = points.mapped("design.peak_flops.bf16", _flops)
    sram = points.mapped("design.sram", _bytes)
    tdp = points.mapped("design.tdp", _watts)
    clock = points.mapped("design.clock", _hertz, "1.8 GHz")
    stacks = points.mapped("design.hbm.stacks", float)
    sites = points.mapped("design.hbm.sites", _sites)
    sites = np.where(np.isnan(sites), stacks, sites)  # no sites given (or 0): one per stack
    link = points.mapped("design.scale_up.bandwidth", _byte_rate)
    if (stacks < 1).any() or (sram <= 0).any() or (tdp <= 0).any() or (bf16 <= 0).any():
        raise Chip2ChatError("a point has a zero or negative design field (stacks, sram, tdp or peak_flops)")
    s = derive(cat, node, first.hbm.generation, entry, bf16_flops=bf16, clock_hz=clock, sram_bytes=sram,
               stacks=stacks, sites=sites, link_bandwidth=link, dies=first.compute_dies, tdp_w=tdp,
               pin_rate_bytes_per_s=first.hbm.pin_rate_bytes_per_s)
    no_package = s["interposer_m2"] > _package_limit(cat, first.package)
    errors = _design_errors(cat, s, sites, no_package)
    feasible = np.flatnonzero([error is None for error in errors.tolist()])
    if not feasible.size:
        return Results({}, errors.tolist())
    # the cost model's reference chip: any feasible member (the arrays below replace what differs)
    member = design_from_dict(points[int(feasible[0])]["design"], "point.design")
    reference = to_accelerator(member, evaluate(member))
    peaks = points[0]["design"]["peak_flops"]
    ratios = {dt: _num(v, "FLOP/s") / _num(peaks["bf16"], "FLOP/s") for dt, v in peaks.items()}
    serve = _serve(points[0])
    many = estimate_many(serve["model"], reference, tp=serve["tp"], pp=serve["pp"], ep=serve["ep"],
                         batch=serve["batch"], input_len=serve["input_len"], output_len=serve["output_len"],
                         weight_dtype=serve["weight_dtype"], kv_dtype=serve["kv_dtype"],
                         peak_flops={dt: bf16 * r for dt, r in ratios.items()},
                         bandwidth_bytes_per_s=s["hbm_bandwidth_bytes_per_s"], capacity_bytes=s["hbm_capacity_bytes"],
                         link_bandwidth_bytes_per_s=link, tdp_w=tdp, static_power_w=s["static_power_w"])
    chips = serve["tp"] * serve["pp"]
    money = economics(s["unit_cost_usd"], chips, many["output_tokens_per_s"], many["power_w"],
                      points[0].get("economics", {}))
    fits = many["fits"]
    nan = np.nan
    columns = {
        "die_area_mm2": s["die_area_m2"] / 1e-6, "compute_dies": np.full(n, first.compute_dies),
        "unit_cost_usd": s["unit_cost_usd"], "full_load_power_w": s["full_load_power_w"],
        "hbm_capacity_gib": s["hbm_capacity_bytes"] / 2**30, "hbm_bandwidth_tb_s": s["hbm_bandwidth_bytes_per_s"] / 1e12,
        "fits": fits, "max_batch": many["max_batch"], "ttft_s": many["ttft_s"],
        "tpot_s": np.where(fits, many["tpot_s"], nan),
        "tokens_per_s_per_chip": np.where(fits, many["output_tokens_per_s_per_device"], nan),
        "joules_per_token": np.where(fits, many["energy_per_output_token_j"], nan),
        "usd_per_mtok": np.where(fits, money["usd_per_mtok"], nan),
    }
    return Results(columns, errors.tolist())


def _design_errors(cat, s: dict, sites: np.ndarray, no_package: np.ndarray) -> np.ndarray:
    """Per point None, or why its design cannot be built (the first reason, as evaluate raises it)."""
    errors = np.full(len(sites), None, dtype=object)
    over = s["over_reticle"]
    errors[over] = [f"point.design: compute_dies: a compute die of {area:,.0f} mm2 exceeds the reticle limit of "
                    f"{cat.reticle_m2 / 1e-6:,.0f} mm2" for area in (s["die_area_m2"][over] / 1e-6).tolist()]
    crowded = ~over & (sites > s["hbm_sites"])
    errors[crowded] = [f"point.design: hbm.stacks: {wanted:.0f} stacks need as many sites along the die edges; the "
                       f"dies have room for {room:.0f}" for wanted, room in zip(sites[crowded].tolist(),
                                                                                  s["hbm_sites"][crowded].tolist())]
    unpackaged = ~over & ~crowded & no_package
    errors[unpackaged] = [f"point.design: package: dies and stacks need a {area / 1e-6:,.0f} mm2 interposer"
                          for area in s["interposer_m2"][unpackaged].tolist()]
    return errors


def _package_limit(cat, wanted: str) -> float:
    """The largest interposer area that choose_package finds a package for (an area fits if it is
    at most this: choose_package is monotone in the area)."""
    from chip2chat.silicon.model import choose_package

    fits = [limit for limit in cat.interposers.values() if choose_package(cat, limit, wanted) is not None]
    return max(fits, default=-np.inf)


# the design fields in SI units, by unit: module-level, so PointTable.mapped keeps their values
# (one parse per distinct value of a sweep)
def _flops(value) -> float:
    return parse_quantity(value, "FLOP/s")


def _bytes(value) -> float:
    return parse_quantity(value, "B")


def _watts(value) -> float:
    return parse_quantity(value, "W")


def _hertz(value) -> float:
    return parse_quantity(value, "Hz")


def _byte_rate(value) -> float:
    return parse_quantity(value, "B/s")


def _sites(value) -> float:
    return float(value) if value else np.nan

