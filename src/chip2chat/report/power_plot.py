"""A picture of the power-limited view (PNG): MW needed vs available, users served, a typical day.

Three panels from the plan's energy/view.EnergyView: each option's facility MW at its busiest
month against the site's power by year; the daily users each option serves within that power
(at its best power cap) against the demand; and the last year's hourly supply of the cheapest
option on a typical July day.
"""

from __future__ import annotations

from pathlib import Path

COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
SOURCES = {"grid": "#7f7f7f", "solar-ppa": "#fecb52", "wind-ppa": "#19d3f3", "battery": "#ab63fa",
           "gas-turbine": "#ef553b", "fuel-cell": "#ffa15a"}
JULY = 6


def power_png(view, path: str | Path) -> Path:
    """Write the three-panel picture of `view` to `path` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    power = view.power
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=110)
    ax_mw, ax_users, ax_day = axes
    years = sorted(power["year"].unique())
    for i, (option, rows) in enumerate(power.groupby("option", sort=False)):
        rows = rows.sort_values("year")
        colour = COLOURS[i % len(COLOURS)]
        ax_mw.plot(rows["year"], rows["mw_needed"], marker="o", color=colour, label=option)
        ax_users.plot(rows["year"], rows["users_served"] / 1e6, marker="o", color=colour, label=option)
        capped = rows[rows["power_bound"]]
        for r in capped.itertuples():
            ax_users.annotate(f"{r.cap_w:.0f} W", (r.year, r.users_served / 1e6), fontsize=7, color=colour,
                              textcoords="offset points", xytext=(0, 5), ha="center")
    available = power.drop_duplicates("year").sort_values("year")
    ax_mw.step(available["year"], available["mw_available"], where="post", color="black", linewidth=2.5,
               label="site power")
    ax_mw.set_yscale("log")
    ax_mw.set_ylabel("facility MW (busiest month)")
    ax_mw.set_title("MW needed vs the site's power")
    demand = power.groupby("year")[["users_served", "users_unmet"]].first().sum(axis=1)
    ax_users.plot(demand.index, demand.values / 1e6, color="black", linestyle="--", label="demand")
    ax_users.set_ylabel("daily users served (millions)")
    ax_users.set_title("Users served within the site's power (cap shown)")
    for ax in (ax_mw, ax_users):
        ax.set_xticks(years)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    ax_mw.legend(fontsize=8)
    ax_users.legend(fontsize=8)
    if view.mixes:
        year = max(view.mixes)
        mix = view.mixes[year]
        hours = range(24)
        bottom = [0.0] * 24
        for name, mw in mix.dispatch.items():
            day = [max(0.0, float(v)) for v in mw[JULY]]
            if max(day) < 1e-9:
                continue
            ax_day.bar(hours, day, bottom=bottom, color=SOURCES.get(name, "#bbbbbb"), label=name, width=0.9)
            bottom = [b + d for b, d in zip(bottom, day)]
        load = sum(mix.dispatch[k][JULY] for k in mix.dispatch)
        ax_day.plot(hours, load, color="black", label="load")
        ax_day.set_title(f"Supply, typical July day {year}\n{mix.usd_per_mwh:.0f} $/MWh, "
                         f"{mix.tco2 / 1e3:,.0f} ktCO2 a year")
        ax_day.set_xlabel("hour of day")
        ax_day.set_ylabel("MW")
        ax_day.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{view.site}: power-limited view", fontsize=12)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
