"""Derive ERCOT's typical day per month (carbon intensity, carbon-free share, solar and wind
shapes) from a sample of ERCOT's own 15-minute generation by fuel.

Source: ERCOT's fuel mix report (https://www.ercot.com/gridinfo/generation/), mirrored month by
month as ERCOT/IntGenByFuelYYYYMM.tsv in github.com/jimmywan/ercot_generation_stats (rows: Date,
Fuel, Settlement Type, Total, then 96 columns of MWh per 15-minute interval, interval ending 0:15
.. 0:00, Central Prevailing Time). SAMPLE_DAYS lists the days used: the first days and about the
17th of each month from June 2021 to May 2022 (after the February 2021 storm), 45 days in all.

Two steps, both here so that the numbers in catalog/energy/grids.yaml reproduce:

1. `python scripts/derive_grid_shapes.py --from-ercot DIR` reads IntGenByFuel*.tsv files (whole
   months or excerpts with the same rows) and writes the shipped sample, SAMPLE: per day and fuel,
   ERCOT's daily Total and the 24 hourly sums of the four 15-minute values (hour h = intervals
   ending h:15 .. h+1:00, hour 0 = midnight local). Nuclear, hydro, biomass and other keep only
   the daily total (nuclear runs flat; the others are under 1% of ERCOT's energy in the sample).
2. `python scripts/derive_grid_shapes.py` reads SAMPLE and prints the derived tables: what
   grids.yaml's ercot entry holds (carbon_typical_day, carbon_free_share) and what VRE_SHAPES holds
   (solar and wind hourly shapes by month, for supply.yaml's PPA shapes).

Carbon intensity is direct CO2 per kWh generated (the sites catalog's grid_carbon is EIA's direct
CO2 too), with EMISSION_G_PER_KWH below; a month's typical hour pools its sampled days (total CO2 /
total generation at that hour).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "data" / "grid_samples" / "ercot_fuel_mix_sample.csv"
VRE_SHAPES = HERE / "data" / "grid_samples" / "ercot_vre_shapes.yaml"

SAMPLE_DAYS = (
    "06/01/2021", "06/02/2021", "06/17/2021", "06/18/2021", "07/01/2021", "07/17/2021", "07/18/2021",
    "08/01/2021", "08/02/2021", "08/17/2021", "08/18/2021", "09/01/2021", "09/02/2021", "09/17/2021",
    "09/18/2021", "10/01/2021", "10/02/2021", "10/17/2021", "10/18/2021", "11/01/2021", "11/02/2021",
    "11/17/2021", "11/18/2021", "12/01/2021", "12/02/2021", "12/18/2021", "01/01/2022", "01/02/2022",
    "01/18/2022", "01/19/2022", "02/01/2022", "02/02/2022", "02/16/2022", "02/17/2022", "03/01/2022",
    "03/02/2022", "03/17/2022", "03/18/2022", "04/01/2022", "04/02/2022", "04/17/2022", "04/18/2022",
    "05/01/2022", "05/02/2022", "05/18/2022",
)
HOURLY_FUELS = ("Coal", "Gas", "Gas-CC", "Solar", "Wind")
"""Fuels kept hour by hour; the others keep their daily total, spread evenly over the day."""
DAILY_FUELS = ("Biomass", "Hydro", "Nuclear", "Other")

LB_PER_MMBTU_GAS = 117.08
"""EIA: natural gas emits 117.08 lb CO2 per million Btu (https://studylib.net/doc/18752189, EIA FAQ
'How much carbon dioxide is produced per kilowatthour when generating electricity with fossil
fuels?', which gives lb CO2/kWh = lb CO2/MMBtu x heat rate / 1e6)."""
G_PER_LB = 453.59
EMISSION_G_PER_KWH = {
    # EIA FAQ id=74 (https://www.eia.gov/tools/faqs/faq.php?id=74&t=3): US coal plants 2023,
    # 709 Mt CO2 over 675,115 GWh = 2.31 lb/kWh.
    "Coal": 2.31 * G_PER_LB,
    # Combined cycle: 117.08 lb/MMBtu x 7,740 Btu/kWh, EIA Electric Power Annual Table 8.1, 2022
    # average operating heat rate of all gas plants (https://www.eia.gov/electricity/annual/html/
    # epa_08_01.html); the fleet is mostly combined cycle, so 0.906 lb/kWh is a slightly high CC
    # figure (EIA: CCs built since 2015 average 6,654 Btu/kWh, before 2000 8,840).
    "Gas-CC": LB_PER_MMBTU_GAS * 7740 / 1e6 * G_PER_LB,
    # ERCOT's 'Gas' = gas steam units and combustion turbines: the EIA FAQ's steam-electric gas
    # example, 117.08 lb/MMBtu x 10,416 Btu/kWh = 1.22 lb/kWh.
    "Gas": LB_PER_MMBTU_GAS * 10416 / 1e6 * G_PER_LB,
}
"""Direct CO2 per kWh generated. Nuclear, wind, solar, hydro and biomass count zero, as EIA counts
biomass carbon neutral (FAQ id=74); 'Other' (storage and unknown, net, often negative) is left out."""
CARBON_FREE = ("Nuclear", "Wind", "Solar", "Hydro", "Biomass")
"""Carbon-free generation for the carbon-free share: nuclear and renewables, biomass included
(0.1-0.3% of ERCOT's energy in the sample)."""
GENERATION = HOURLY_FUELS + ("Biomass", "Hydro", "Nuclear")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def sample_from_ercot(paths: list[Path], days: tuple[str, ...] = SAMPLE_DAYS) -> list[list[str]]:
    """Rows of the sample (date, fuel, daily total MWh, 24 hourly MWh) from IntGenByFuel rows."""
    rows = []
    for path in paths:
        for line in path.read_text().splitlines():
            f = line.split("\t")
            if len(f) < 4 or f[0] not in days or f[1] not in HOURLY_FUELS + DAILY_FUELS:
                continue
            total = _number(f[3])
            hours = [""] * 24
            values = [_number(v) for v in f[4:] if v.strip()]
            if f[1] in HOURLY_FUELS:
                if len(values) != 96:
                    raise ValueError(f"{path}: {f[0]} {f[1]}: {len(values)} intervals, expected 96 (a DST day?)")
                if abs(sum(values) - total) > max(2.0, 5e-4 * abs(total)):
                    raise ValueError(f"{path}: {f[0]} {f[1]}: intervals sum to {sum(values):.1f}, Total says {total}")
                hours = [f"{sum(values[4 * h:4 * h + 4]):.1f}" for h in range(24)]
            rows.append([f[0], f[1], f"{total:.1f}", *hours])
    return rows


def load_sample(path: Path = SAMPLE) -> dict[int, dict[str, np.ndarray]]:
    """Per month (1-12): fuel -> (24,) MWh summed over the sampled days, and 'days' -> day count."""
    months: dict[int, dict[str, np.ndarray]] = {}
    seen: dict[int, set[str]] = {}
    with open(path) as fh:
        for row in csv.reader(line for line in fh if not line.startswith("#")):
            if row[0] == "date":
                continue
            month = int(row[0][:2])
            acc = months.setdefault(month, {fuel: np.zeros(24) for fuel in HOURLY_FUELS + DAILY_FUELS})
            if row[1] in HOURLY_FUELS:
                acc[row[1]] += np.array([float(v) for v in row[3:27]])
            else:
                acc[row[1]] += float(row[2]) / 24.0
            seen.setdefault(month, set()).add(row[0])
    for month, acc in months.items():
        acc["days"] = np.array(float(len(seen[month])))
    return months


def month_tables(acc: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(24,) carbon intensity g/kWh and carbon-free share of one month's pooled sampled days."""
    generation = sum(acc[f] for f in GENERATION)
    grams = sum(acc[f] * g for f, g in EMISSION_G_PER_KWH.items())
    return grams / generation, sum(acc[f] for f in CARBON_FREE) / generation


def derive(months: dict[int, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """(12, 24) tables: carbon g/kWh, carbon-free share, and solar and wind shapes (each month mean 1)."""
    carbon, cfs, solar, wind = (np.zeros((12, 24)) for _ in range(4))
    for m in range(12):
        acc = months[m + 1]
        carbon[m], cfs[m] = month_tables(acc)
        solar[m] = acc["Solar"] / acc["Solar"].mean()
        wind[m] = acc["Wind"] / acc["Wind"].mean()
    return {"carbon_g_per_kwh": carbon, "carbon_free_share": cfs, "solar_shape": solar, "wind_shape": wind}


def carbon_shape(carbon_g_per_kwh: np.ndarray) -> np.ndarray:
    """The relative carbon shape grids.yaml stores: mean 1 over the year's hours (chip2chat's weighting)."""
    from chip2chat.energy.grid import weighted_mean

    return carbon_g_per_kwh / weighted_mean(carbon_g_per_kwh)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def yaml_table(key: str, table: np.ndarray, indent: str = "  ", digits: int = 3) -> str:
    lines = [f"{indent}{key}:"]
    for m, row in enumerate(table):
        lines.append(f"{indent}  - [{', '.join(f'{v:.{digits}f}' for v in row)}]  # {MONTHS[m]}")
    return "\n".join(lines)


SEASON_MONTHS = {"winter": (11, 0, 1), "spring": (2, 3, 4), "summer": (5, 6, 7), "autumn": (8, 9, 10)}
"""Months (0 = January) of each season, as energy/grid.py's SEASONS."""


def seasonal(shape: np.ndarray) -> dict:
    """A (12, 24) monthly shape as supply.yaml's `hourly`: the mean day of each season's months."""
    return {s: shape[list(m)].mean(axis=0) for s, m in SEASON_MONTHS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-ercot", type=Path, help="folder of IntGenByFuel*.tsv files: (re)write the sample")
    args = parser.parse_args()
    if args.from_ercot:
        rows = sample_from_ercot(sorted(args.from_ercot.glob("*.tsv")))
        SAMPLE.parent.mkdir(parents=True, exist_ok=True)
        with open(SAMPLE, "w", newline="") as fh:
            fh.write("# ERCOT generation by fuel, MWh, sampled days; see scripts/derive_grid_shapes.py\n")
            writer = csv.writer(fh)
            writer.writerow(["date", "fuel", "total", *(f"h{h:02d}" for h in range(24))])
            writer.writerows(rows)
        print(f"wrote {SAMPLE} ({len(rows)} rows)")
        return
    d = derive(load_sample())
    print(yaml_table("carbon_typical_day", carbon_shape(d["carbon_g_per_kwh"])))
    print(yaml_table("carbon_free_share", d["carbon_free_share"]))
    with open(VRE_SHAPES, "w") as fh:
        fh.write("# ERCOT solar and wind output by hour of a typical day per month, relative (each month's\n"
                 "# 24 hours average 1), hour 0 = midnight local. Derived by scripts/derive_grid_shapes.py\n"
                 "# from ERCOT's 15-minute generation by fuel (ercot_fuel_mix_sample.csv, 45 days, Jun 2021 -\n"
                 "# May 2022). Within-day shapes only: the monthly level is not derivable from this sample,\n"
                 "# as installed solar grew during it.\n")
        fh.write(yaml_table("solar", d["solar_shape"], indent="") + "\n")
        fh.write(yaml_table("wind", d["wind_shape"], indent="") + "\n")
    print(f"wrote {VRE_SHAPES}")
    for name in ("solar", "wind"):  # supply.yaml's {name}-ppa hourly, by season
        print(f"{name}-ppa hourly:")
        for season, day in seasonal(d[f"{name}_shape"]).items():
            print(f"    {season}: [{', '.join(f'{v:.3f}' for v in day)}]")


if __name__ == "__main__":
    main()
