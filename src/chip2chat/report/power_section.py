"""The report's energy section: power needed vs available, the supply mix, a typical day's dispatch.

`power_section(view)` takes the plan's energy/view.EnergyView and returns one HTML <section>: a
table per year (MW needed and available, the power cap, users served and unmet, the supply mix,
$/MWh, tCO2, 24/7 carbon-free share and what energy adds to $/Mtok beside the flat-price figure),
the hourly dispatch of a typical January and July day of the last year, and tokens per joule
against the power cap.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from chip2chat.report.figures import LAYOUT, STAGE_PALETTE

CONFIG = {"displaylogo": False, "responsive": True}
MONTHS = {0: "January", 6: "July"}


def _num(v, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:,.{digits}f}"


def _share(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"


def _mix_text(row: pd.Series) -> str:
    """'grid 80%, wind-ppa 15 MW (20%)' from the supply row's mw_ and mwh_ columns."""
    load = row["load_mwh"]
    parts = []
    for col in row.index:
        if not col.startswith("mwh_"):
            continue
        name, mwh = col[4:], row[col]
        if name == "battery":
            mw = row.get(f"mw_{name}", 0.0)
            if mw > 1e-6:
                parts.append(f"battery {mw:,.0f} MWh")
            continue
        if mwh > 1e-6 * load:
            cap = row.get(f"mw_{name}")
            size = f" {cap:,.0f} MW" if cap is not None and not (isinstance(cap, float) and math.isnan(cap)) else ""
            parts.append(f"{name}{size} ({mwh / load:.0%})")
    return ", ".join(parts)


def energy_table(view) -> str:
    power = view.power
    supply = view.supply.set_index(["year", "site"]) if len(view.supply) else pd.DataFrame()
    head = ("<tr><th>option</th><th>year</th><th>site</th><th>MW needed</th><th>MW available</th>"
            "<th>power cap (W)</th><th>users served</th><th>users left</th><th>supply mix</th><th>$/MWh</th>"
            "<th>tCO2</th><th>24/7 CFE</th><th>energy $/Mtok (hourly mix)</th><th>energy $/Mtok (flat price)</th></tr>")
    body = []
    for r in power.itertuples():
        key = (r.year, r.site)
        s = supply.loc[key] if key in supply.index and supply.loc[key]["option"] == r.option else None
        bound = ' class="missing"' if r.power_bound else ""
        body.append(
            f"<tr{bound}><td>{escape(str(r.option))}</td><td>{int(r.year)}</td><td>{escape(str(r.site))}</td>"
            f"<td>{_num(r.mw_needed, 2)}</td>"
            f"<td>{_num(r.mw_available, 0) if not math.isnan(r.mw_available) else 'unlimited'}</td>"
            f"<td>{_num(r.cap_w, 0)}</td><td>{_num(r.users_served, 0)}</td><td>{_num(r.users_unmet, 0)}</td>"
            + _supply_cells(s) + "</tr>")
    return f'<div class="table-wrap"><table id="energy-table"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def _supply_cells(s) -> str:
    """The supply columns of a row: the mix and its figures, or why the year has none."""
    if s is None:
        return "<td></td>" * 6
    if str(s.get("note", "") or ""):
        return f'<td colspan="6" class="missing">{escape(str(s["note"]))}</td>'
    return (f"<td>{escape(_mix_text(s))}</td><td>{_num(s['usd_per_mwh'])}</td><td>{_num(s['tco2'], 0)}</td>"
            f"<td>{_share(s.get('cfe_share'))}</td>"
            f"<td>{_num(s['usd_per_mtok_energy'], 3)}</td><td>{_num(s['usd_per_mtok_energy_flat'], 3)}</td>")


def dispatch_figure(mix, year: int) -> go.Figure:
    """Stacked MW by source over a typical January and July day, with the load as a line."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"{MONTHS[m]} {year}" for m in MONTHS], shared_yaxes=True)
    hours = list(range(24))
    for col, month in enumerate(MONTHS, start=1):
        load = sum(mix.dispatch[k][month] for k in mix.dispatch)
        for i, (name, mw) in enumerate(mix.dispatch.items()):
            if float(abs(mw).max()) < 1e-9:
                continue
            fig.add_trace(go.Bar(x=hours, y=mw[month], name=name, marker_color=STAGE_PALETTE[i % len(STAGE_PALETTE)],
                                 showlegend=col == 1, legendgroup=name), row=1, col=col)
        fig.add_trace(go.Scatter(x=hours, y=load, name="load", mode="lines", line=dict(color="black"),
                                 showlegend=col == 1, legendgroup="load"), row=1, col=col)
    fig.update_layout(**{**LAYOUT, "legend": {**LAYOUT["legend"], "y": 1.12},
                         "margin": {**LAYOUT["margin"], "t": 80}}, barmode="relative")
    fig.update_xaxes(title_text="hour of day")
    fig.update_yaxes(title_text="MW", row=1, col=1)
    return fig


def cap_figure(curve: pd.DataFrame) -> go.Figure:
    """Output tokens per joule and tokens/s (relative to the TDP) against the power cap."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for i, (option, rows) in enumerate(curve.groupby("option", sort=False)):
        colour = STAGE_PALETTE[i % len(STAGE_PALETTE)]
        fig.add_trace(go.Scatter(x=rows["cap_w"], y=rows["tokens_per_j"], name=f"{option}: tokens/J",
                                 mode="lines+markers", line=dict(color=colour)), secondary_y=False)
        base = rows["output_tokens_per_s"].iloc[0]
        fig.add_trace(go.Scatter(x=rows["cap_w"], y=rows["output_tokens_per_s"] / base, name=f"{option}: speed vs TDP",
                                 mode="lines", line=dict(color=colour, dash="dot")), secondary_y=True)
    fig.update_layout(**LAYOUT)
    fig.update_xaxes(title_text="power cap (W per chip)")
    fig.update_yaxes(title_text="output tokens per joule", secondary_y=False)
    fig.update_yaxes(title_text="throughput / throughput at TDP", secondary_y=True)
    return fig


def power_section(view) -> str:
    """The energy section of the report (plotly.js is already on the page)."""
    parts = [f'<section id="section-energy-supply"><h2>Power and energy supply: {escape(view.site)}</h2>',
             '<p class="caption">Per option and year: the facility power the fleet needs at its busiest month '
             "(provisioned IT power x that month's PUE) against what the site has, the power cap that serves the "
             "most users where it has too little (highlighted rows), users left unserved, and for the cheapest "
             "option the cheapest supply meeting every hour of a typical day per month (LP, scipy HiGHS), its "
             "$/MWh, tCO2, 24/7 carbon-free share (the load matched by carbon-free supply hour by hour; grid "
             "energy counts only as far as the grid is carbon-free that hour) and energy cost per million output "
             "tokens against the flat annual price. A cap's speed comes from the cost model's estimate of the "
             "scenario's turn at batch 64; the chosen cap's fleet is re-simulated with the capped chips at the rate "
             "it carries and must meet the SLO's p99 TTFT and TPOT (a cap that misses is named in the row's note and "
             "the next is taken).</p>", energy_table(view)]
    if view.mixes:
        site, year = last_mix(view)
        fig = dispatch_figure(view.mixes[(site, year)], year)
        parts.append(f'<h3>Hourly dispatch, typical day at {escape(site)}</h3>'
                     + pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id="fig-dispatch", config=CONFIG,
                                   default_height="440px", default_width="100%"))
    if view.cap_curve is not None and len(view.cap_curve):
        parts.append("<h3>Tokens per joule against the power cap</h3>"
                     + pio.to_html(cap_figure(view.cap_curve), include_plotlyjs=False, full_html=False,
                                   div_id="fig-power-cap", config=CONFIG, default_height="440px", default_width="100%"))
    parts.append("</section>")
    return "".join(parts)


def last_mix(view) -> tuple[str, int]:
    """(site, year) of the mix to draw: the first site's last year (the year's largest fleet)."""
    first = str(view.power["site"].iloc[0])
    keys = [k for k in view.mixes if k[0] == first] or list(view.mixes)
    return max(keys, key=lambda k: k[1])


def power_summary(view) -> list[str]:
    """One line per year and site for the terminal: the cheapest option's MW needed vs available, its
    cap and users served, and the supply's $/MWh and tCO2 (or why that year has no supply mix)."""
    if view is None or not len(view.supply):
        return []
    power = view.power.set_index(["option", "year", "site"])
    lines = []
    for s in view.supply.itertuples():
        p = power.loc[(s.option, s.year, s.site)]
        avail = "unlimited" if math.isnan(p["mw_available"]) else f"{p['mw_available']:,.0f} MW"
        served = (f"cap {p['cap_w']:,.0f} W serves {p['users_served'] / 1e6:,.1f}M of "
                  f"{p['users_offered'] / 1e6:,.1f}M users" if p["power_bound"] else
                  f"all {p['users_offered'] / 1e6:,.1f}M users served")
        supply = (f"supply: {s.note}" if getattr(s, "note", "") else
                  f"supply {s.usd_per_mwh:,.1f} $/MWh, {s.tco2:,.0f} tCO2 (flat grid: {s.tco2_flat:,.0f}), "
                  f"24/7 CFE {_share(getattr(s, 'cfe_share', None))}")
        lines.append(f"power {s.site} {s.year} ({s.option}): {p['mw_needed']:,.1f} MW needed, {avail} available; "
                     f"{served}; {supply}")
    return lines
