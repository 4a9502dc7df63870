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
    first = str(power["site"].iloc[0])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=110)
    ax_mw, ax_users, ax_day = axes
    years = sorted(power["year"].unique())
    at_first = power[power["site"] == first]
    served = power.groupby(["option", "year"], sort=False)["users_served"].sum()
    for i, (option, rows) in enumerate(at_first.groupby("option", sort=False)):
        rows = rows.sort_values("year")
        colour = COLOURS[i % len(COLOURS)]
        ax_mw.plot(rows["year"], rows["mw_needed"], marker="o", color=colour, label=option)
        total = served.loc[option].reindex(rows["year"]).to_numpy() / 1e6
        ax_users.plot(rows["year"], total, marker="o", color=colour, label=option)
        for r, users in zip(rows.itertuples(), total):
            if r.power_bound:
                ax_users.annotate(f"{r.cap_w:.0f} W", (r.year, users), fontsize=7, color=colour,
                                  textcoords="offset points", xytext=(0, 5 + 9 * i), ha="center")
    for k, (site, rows) in enumerate(power.drop_duplicates(["site", "year"]).groupby("site", sort=False)):
        rows = rows.sort_values("year")
        ax_mw.step(rows["year"], rows["mw_available"], where="post", color="black", linewidth=2.5 if not k else 1.5,
                   linestyle="-" if not k else "--", label=f"{site} power")
    ax_mw.set_yscale("log")
    ax_mw.set_ylabel(f"facility MW at {first} (busiest month)")
    ax_mw.set_title("MW needed vs the sites' power")
    demand = at_first.groupby("year")["users_offered"].first()
    ax_users.plot(demand.index, demand.values / 1e6, color="black", linestyle="--", label="demand")
    ax_users.set_ylabel("daily users served (millions)")
    ax_users.set_title("Users served within the power (cap at the first site)")
    for ax in (ax_mw, ax_users):
        ax.set_xticks(years)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    ax_mw.legend(fontsize=8)
    ax_users.legend(fontsize=8)
    if view.mixes:
        from chip2chat.report.power_section import last_mix

        site, year = last_mix(view)
        mix = view.mixes[(site, year)]
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
        ax_day.set_title(f"Supply at {site}, typical July day {year}\n{mix.usd_per_mwh:.0f} $/MWh, "
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
