"""A small fake capacity plan with the fields `write_report` reads: 2 options x 3 years, one never meeting the SLO."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chip2chat.serving.config import Slo

FAILING_NOTE = "cannot meet the SLO: p99 TPOT 61 ms at any load"


@dataclass
class FakePlan:
    name: str
    description: str
    slo: Slo
    table: pd.DataFrame
    latency: dict
    voice: pd.DataFrame | None = None
    break_even: pd.DataFrame | None = None
    tornado: pd.DataFrame | None = None
    assumptions: list = field(default_factory=list)


def _row(option: str, year: int, scale: float, meets: bool, cheapest: bool, note: str) -> dict:
    chips = int(round(1000 * scale))
    chip_capex, facility_capex, electricity = 3.1e7 * scale, 1.2e7 * scale, 0.8e7 * scale
    server, network, operations = 0.4e7 * scale, 0.2e7 * scale, 0.1e7 * scale
    nre = 2e8 if option.startswith("custom") else 0.0
    return dict(option=option, year=year, chip=option.split("-")[0], calibration="default", daily_users=1.0e6 * scale, peak_request_rate=420.5 * scale,
                replicas=chips // 8, chips=chips, servers=chips // 8, racks=max(1, chips // 64),
                it_mw=1.234 * scale, facility_mw=1.234 * scale * 1.3, annual_mwh=9876.0 * scale,
                tco2=3456.0 * scale, chip_capex_usd=chip_capex, facility_capex_usd=facility_capex,
                electricity_usd=electricity, server_capex_usd=server, network_capex_usd=network,
                operations_usd=operations, nre_usd=nre,
                total_cost_usd=chip_capex + facility_capex + electricity + server + network + operations + nre,
                output_tokens=1e12 * scale, input_tokens=4e12 * scale, unit_price_usd=30000.0, price_kind="street",
                usd_per_mtok=0.123 * scale, usd_per_mtok_all_tokens=0.0246 * scale, j_per_token=0.456 / scale,
                p99_ttft_ms=310.0 if meets else float("nan"), p99_tpot_ms=38.5 if meets else 61.0,
                meets_slo=meets, deployable=True, cheapest=cheapest, note=note)


def make_plan(with_voice: bool = True, with_custom: bool = False) -> FakePlan:
    """Two options x 3 years; `with_custom` adds a custom design with its break-even, tornado and
    assumptions, as datacenter.plan gives them."""
    rows = []
    for i, year in enumerate((2026, 2027, 2028)):
        growth = 1.0 + i
        rows.append(_row("h200-tp8", year, growth, True, not with_custom, ""))
        rows.append(_row("edge-npu", year, 0.6 * growth, False, False, FAILING_NOTE))
        if with_custom:
            rows.append(_row("custom-n3", year, 0.5 * growth, True, True, ""))
    rng = np.random.default_rng(0)
    latency = {"h200-tp8": {"ttft_ms": list(rng.gamma(4.0, 50.0, 200)), "tpot_ms": list(rng.gamma(20.0, 1.5, 200))},
               "edge-npu": {"ttft_ms": [], "tpot_ms": []}}
    voice = pd.DataFrame({"configuration": ["cloud", "on-device"], "network": ["5G", "Wi-Fi"],
                          "p50_ms": [480.0, 390.0], "p90_ms": [620.0, 450.0], "p99_ms": [900.0, 610.0],
                          "asr_ms": [120.0, 90.0], "llm_ttft_ms": [250.0, 260.0], "tts_ms": [60.0, 40.0],
                          "network_ms": [50.0, 0.0]}) if with_voice else None
    plan = FakePlan(name="Voice assistant <2026>", description="A fake plan & its table, for tests.",
                    slo=Slo(ttft_ms=500.0, tpot_ms=50.0), table=pd.DataFrame(rows), latency=latency, voice=voice)
    if with_custom:
        from chip2chat.datacenter.breakeven import break_even_table, tornado
        from chip2chat.datacenter.prices import Assumption

        latency["custom-n3"] = {"ttft_ms": list(rng.gamma(4.0, 40.0, 200)), "tpot_ms": list(rng.gamma(20.0, 1.2, 200))}
        plan.break_even = break_even_table(plan.table, ["custom-n3"], ["h200-tp8", "edge-npu"])
        plan.tornado = tornado(plan.table, "custom-n3", "h200-tp8", amortization_years=5, operations_share=0.03,
                               custom_unit_price_at=lambda hbm_factor=1.0, defect_factor=1.0: 9000 * hbm_factor)
        plan.tornado.insert(0, "gpu", "h200-tp8")
        plan.tornado.insert(0, "custom", "custom-n3")
        plan.assumptions = [Assumption("h200-tp8: unit price", "$30,000", "street", "2026-06", "https://example.org/a <b>"),
                            Assumption("PUE", "1.2", "site", "", "catalog/sites.yaml")]
    return plan
