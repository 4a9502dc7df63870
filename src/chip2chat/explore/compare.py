"""A design next to catalog chips: the same model and workload through the engine and simulator.

Per chip: tokens/s per chip at a static batch (`estimate`), tokens per joule, $ per million
tokens (unit cost from the silicon model: the design's, or a catalog chip's modelled design in
catalog/designs/ where there is one; otherwise not given), and TTFT/TPOT percentiles of a
simulated Poisson workload (`simulate`).
"""

from __future__ import annotations

from chip2chat.catalog import CATALOG_DIR
from chip2chat.engine.estimate import estimate
from chip2chat.errors import ConfigError, DoesNotFitError
from chip2chat.datacenter.economics import economics
from chip2chat.hardware.load import catalog_id, load_hardware
from chip2chat.hardware.spec import Accelerator
from chip2chat.serving.simulate import simulate
from chip2chat.silicon.design import ChipDesign, load_design
from chip2chat.silicon.model import SiliconReport, evaluate, to_accelerator


def compare_chips(design: ChipDesign, report: SiliconReport, catalog_chips: list[str | Accelerator], *, model: str,
                  tp: int,
                  batch: int, input_len: int, output_len: int, weight_dtype: str, rate_per_s: float,
                  num_requests: int) -> list[dict]:
    chips = [(design.name, to_accelerator(design, report), report.unit_cost_usd)]
    for chip in catalog_chips:
        hw = load_hardware(chip)[1] if isinstance(chip, str) else chip
        chips.append((hw.name, hw, modelled_unit_cost(hw)))
    rows = []
    for name, hw, cost in chips:
        row = {"chip": name, "calibration": hw.calibration, "unit_cost_usd": cost}
        try:
            est = estimate(model, hw, tp=tp, batch=batch, input_len=input_len, output_len=output_len,
                           weight_dtype=weight_dtype, kv_dtype="fp8" if weight_dtype in ("fp8", "fp4") else "bf16")
            sim = simulate(model, hw, tp=tp, weight_dtype=weight_dtype, rate_per_s=rate_per_s,
                           num_requests=num_requests, input_len=input_len, output_len=output_len, seed=0)
        except DoesNotFitError as exc:  # this chip cannot hold the model: say so in its row
            rows.append({**row, "error": str(exc)})
            continue
        s = sim.summary
        row.update(fits=est.fits, tokens_per_s_per_chip=est.output_tokens_per_s_per_device,
                   tokens_per_joule=1 / est.energy_per_output_token_j if est.energy_per_output_token_j else None,
                   usd_per_mtok=economics(cost, est.num_devices, est.output_tokens_per_s, est.power_w, {})["usd_per_mtok"]
                   if cost is not None and est.power_w is not None else None,
                   tpot_ms=est.tpot_s * 1e3, median_ttft_ms=s["median_ttft_ms"], p99_ttft_ms=s["p99_ttft_ms"],
                   median_tpot_ms=s["median_tpot_ms"], p99_tpot_ms=s["p99_tpot_ms"])
        rows.append(row)
    return rows


def modelled_unit_cost(hw: Accelerator) -> float | None:
    """A catalog chip's unit cost from its modelled design in catalog/designs/, where there is one
    the silicon model can build (MI300X's single-die description exceeds the reticle: None)."""
    modelled = CATALOG_DIR / "designs" / f"{catalog_id(hw)}.yaml"
    if not modelled.exists():
        return None
    try:
        return evaluate(load_design(modelled)).unit_cost_usd
    except ConfigError:
        return None
