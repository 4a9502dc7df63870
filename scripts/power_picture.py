"""Regenerate docs/power.png and print the numbers of the README's power section (issue 17).

Run: .venv/bin/python scripts/power_picture.py [scenario.yaml] [--onsite "100 MW"]
Plans the scenario (default: the shipped default), draws its power-limited view and prints, per
option and year, MW needed vs available, the power cap and users served, and each year's supply.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from chip2chat import DEFAULT_SCENARIO
from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.plan import plan
from chip2chat.datacenter.scenario import load_scenario
from chip2chat.datacenter.site import SiteEnergy
from chip2chat.report.power_plot import power_png

DOCS = Path(__file__).parent.parent / "docs"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default=str(CATALOG_DIR / "scenarios" / f"{DEFAULT_SCENARIO}.yaml"))
    parser.add_argument("--onsite", default=None, help="on-site generation the site may build, e.g. '100 MW'")
    parser.add_argument("--out", default=str(DOCS / "power.png"))
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.onsite:  # the site may also build this much on-site generation (turbines, fuel cells)
        site = scenario.site
        given = site.energy.model_dump(by_alias=True, exclude_unset=True) if site.energy else {}
        energy = SiteEnergy.model_validate({**given, "onsite": args.onsite})
        scenario = scenario.model_copy(update={"site": site.model_copy(update={"energy": energy})})
    result = plan(scenario)
    view = result.energy
    pd.set_option("display.width", 200)
    print(view.power[["option", "year", "site", "mw_needed", "mw_available", "cap_w", "users_served", "users_unmet"]]
          .round(1).to_string(index=False))
    cols = [c for c in view.supply.columns if c.startswith(("mw_", "mwh_")) or c in
            ("year", "option", "site", "usd_per_mwh", "tco2", "tco2_flat", "usd_per_mtok_energy", "usd_per_mtok_energy_flat")]
    print(view.supply[cols].round(3).T.to_string())
    print("wrote", power_png(view, args.out))


if __name__ == "__main__":
    main()
