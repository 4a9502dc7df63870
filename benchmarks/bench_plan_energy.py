"""The whole default plan with its power-limited view and hourly supply mix, on 2 cores.

Run: .venv/bin/python benchmarks/bench_plan_energy.py [scenario.yaml]
Pins the process to two cores (as CI runs), times `plan()` on the default scenario (sizing, money,
power view, one supply-mix LP per year) and, inside it, the energy part alone (power caps through
the cost model, PUE by month, the LPs). The aim (issue 17): the whole plan under 30 s.
"""

from __future__ import annotations

import argparse
import os
import time

from chip2chat import DEFAULT_SCENARIO
from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter import plan as planning
from chip2chat.datacenter.scenario import load_scenario
from chip2chat.energy import view


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, set(cores))
    scenario = load_scenario(args.scenario or CATALOG_DIR / "scenarios" / f"{DEFAULT_SCENARIO}.yaml")
    spent = {}
    inner = view.power_view

    def timed_view(*a, **kw):
        start = time.perf_counter()
        out = inner(*a, **kw)
        spent["energy"] = time.perf_counter() - start
        return out

    planning.power_view = timed_view
    start = time.perf_counter()
    result = planning.plan(scenario)
    total = time.perf_counter() - start
    e = result.energy
    bound = int(e.power["power_bound"].sum()) if len(e.power) else 0
    print(f"{scenario.name}: plan {total:.1f} s on {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} "
          f"cores, of which the energy view {spent.get('energy', float('nan')):.2f} s "
          f"({len(e.power)} rows of option, year and site, {bound} power-bound, {len(e.mixes)} hourly supply LPs); "
          f"aim: under 30 s")


if __name__ == "__main__":
    main()
