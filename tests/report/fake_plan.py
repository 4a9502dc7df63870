"""A small fake capacity plan with the fields `write_report` reads: 2 options x 3 years, one never meeting the SLO."""

from __future__ import annotations

from dataclasses import dataclass

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


def _row(option: str, year: int, scale: float, meets: bool, cheapest: bool, note: str) -> dict:
    chips = int(round(1000 * scale))
    chip_capex, facility_capex, electricity = 3.1e7 * scale, 1.2e7 * scale, 0.8e7 * scale
    return dict(option=option, year=year, chip=option.split("-")[0], calibration="default", daily_users=1.0e6 * scale, peak_request_rate=420.5 * scale,
                replicas=chips // 8, chips=chips, servers=chips // 8, racks=max(1, chips // 64),
                it_mw=1.234 * scale, facility_mw=1.234 * scale * 1.3, annual_mwh=9876.0 * scale,
                tco2=3456.0 * scale, chip_capex_usd=chip_capex, facility_capex_usd=facility_capex,
                electricity_usd=electricity, total_cost_usd=chip_capex + facility_capex + electricity,
                usd_per_mtok=0.123 * scale, j_per_token=0.456 / scale,
                p99_ttft_ms=310.0 if meets else float("nan"), p99_tpot_ms=38.5 if meets else 61.0,
                meets_slo=meets, deployable=True, cheapest=cheapest, note=note)


def make_plan(with_voice: bool = True) -> FakePlan:
    rows = []
    for i, year in enumerate((2026, 2027, 2028)):
        growth = 1.0 + i
        rows.append(_row("h200-tp8", year, growth, True, True, ""))
        rows.append(_row("edge-npu", year, 0.6 * growth, False, False, FAILING_NOTE))
    rng = np.random.default_rng(0)
    latency = {"h200-tp8": {"ttft_ms": list(rng.gamma(4.0, 50.0, 200)), "tpot_ms": list(rng.gamma(20.0, 1.5, 200))},
               "edge-npu": {"ttft_ms": [], "tpot_ms": []}}
    voice = pd.DataFrame({"configuration": ["cloud", "on-device"], "network": ["5G", "Wi-Fi"],
                          "p50_ms": [480.0, 390.0], "p90_ms": [620.0, 450.0], "p99_ms": [900.0, 610.0],
                          "asr_ms": [120.0, 90.0], "llm_ttft_ms": [250.0, 260.0], "tts_ms": [60.0, 40.0],
                          "network_ms": [50.0, 0.0]}) if with_voice else None
    return FakePlan(name="Voice assistant <2026>", description="A fake plan & its table, for tests.",
                    slo=Slo(ttft_ms=500.0, tpot_ms=50.0), table=pd.DataFrame(rows), latency=latency, voice=voice)
