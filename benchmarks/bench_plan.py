"""The default plan at ChatGPT scale (issue 16), timed on the cores given.

Run: .venv/bin/python benchmarks/bench_plan.py [--cores 2] [--scenario chatgpt-scale]
Plans catalog/scenarios/chatgpt-scale.yaml (fleets of 10^4 to 10^7 chips, tens of MW to GW),
break-even and tornado included, and writes the report, as `chip2chat plan` does. The issue asks
for under 30 s on 2 cores at 10^5-10^6 chips. Prints the wall time, the largest fleet per option
and the break-even answers, so a run is also a check that the numbers are of that scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cores", type=int, default=2, help="cores the process may use")
    parser.add_argument("--scenario", default="chatgpt-scale", help="a catalog scenario name or a YAML path")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:args.cores]))
    start = time.perf_counter()
    import chip2chat as c2c
    from chip2chat.report.html import write_report

    imported = time.perf_counter() - start
    result = c2c.plan(args.scenario)
    planned = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        write_report(result, Path(folder) / "report.html")
    wall = time.perf_counter() - start
    cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    # CPU seconds as well as wall: on a shared machine the wall time includes other processes' turns
    print(f"plan {result.name}: {wall:.1f} s wall on {args.cores} core(s) ({imported:.1f} s imports, "
          f"{planned - imported:.1f} s plan, {wall - planned:.1f} s report), {cpu:.1f} CPU-s (workers included), "
          f"load average {os.getloadavg()[0]:.1f}")
    t = result.table
    for option, rows in t.groupby("option", sort=False):
        last = rows.sort_values("year").iloc[-1]
        print(f"  {option}: {rows['chips'].max():,.0f} chips at most, {last['facility_mw']:,.0f} MW and "
              f"${last['usd_per_mtok']:.3f}/Mtok output in {int(last['year'])}")
    if result.break_even is not None:
        for _, r in result.break_even.iterrows():
            print(f"  {r['custom']} vs {r['gpu']} at {r.get('site', '')}: break-even {r['break_even_chips']:,.0f} chips, "
                  f"{r['break_even_year']}")


if __name__ == "__main__":
    main()
