"""Plotly figures of the plan's money over time: cumulative cost, the custom chip's break-even, the tornado.

Pure functions of the plan's table (and its break-even and tornado tables, datacenter/breakeven.py);
options keep the colours of figures.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chip2chat.report.figures import LAYOUT, MISSES_SLO_OPACITY, _rows, _years_axis, colours, options_in_order


def cumulative_cost_figure(table: pd.DataFrame) -> go.Figure:
    """Each option's cost summed over the plan's years (US$ billions); dotted where it misses the
    SLO or does not fit the site."""
    options = options_in_order(table)
    colour = colours(options)
    fig = go.Figure()
    for option in options:
        rows = _rows(table, option)
        served = rows["meets_slo"].astype(bool) & rows.get("deployable", True)
        fig.add_scatter(x=rows["year"], y=rows["total_cost_usd"].cumsum() / 1e9, name=option, mode="lines+markers",
                        line=dict(color=colour[option], dash="solid" if bool(served.all()) else "dot"),
                        opacity=1.0 if bool(served.any()) else MISSES_SLO_OPACITY,
                        hovertemplate=f"{option}<br>to %{{x}}: $%{{y:,.2f}}B<extra></extra>")
    # log scale: options a hundred times apart stay readable on one chart
    fig.update_layout(xaxis=_years_axis(table), yaxis=dict(title="cumulative cost (US$ billions, log scale)",
                                                           type="log"), **LAYOUT)
    return fig


def break_even_figure(table: pd.DataFrame, break_even: pd.DataFrame) -> go.Figure:
    """Yearly cost against the custom design's fleet size: the custom design (its NRE's yearly share
    plus its cost per chip) and each GPU serving the same demand, straight lines through the plan's
    last year; they cross at the break-even fleet (dashed), and the plan's years are marked on the
    custom line."""
    fig = go.Figure()
    options = options_in_order(table)
    colour = colours(options)
    done = set()
    if "site" in break_even:  # the plan's own site: its rows come first (datacenter/payoff.py)
        break_even = break_even[break_even["site"] == break_even["site"].iloc[0]]
    for _, be in break_even.iterrows():
        custom, gpu = str(be["custom"]), str(be["gpu"])
        c = _rows(table, custom).set_index("year")
        if pd.isna(be.get("compared_year", np.nan)):
            continue
        year = int(be["compared_year"])
        chips_per_token = float(c.loc[year, "chips"]) / float(c.loc[year, "output_tokens"])
        ends = [float(c["chips"].min()), float(c["chips"].max())]
        if not pd.isna(be["break_even_chips"]):
            ends.append(float(be["break_even_chips"]))
        fleet = np.geomspace(max(1.0, min(ends) / 3), 1.5 * max(ends), 80)
        tokens = fleet / chips_per_token
        if custom not in done:
            done.add(custom)
            nre = float(be["nre_usd_per_year"])
            fig.add_scatter(x=fleet, y=(nre + be["custom_usd_per_mtok_before_nre"] * tokens / 1e6) / 1e6, name=custom,
                            mode="lines", line=dict(color=colour[custom], width=3),
                            hovertemplate=f"{custom}<br>%{{x:,.0f}} chips: $%{{y:,.0f}}M/yr<extra></extra>")
            fig.add_scatter(x=c["chips"], y=c["total_cost_usd"] / 1e6, mode="markers+text", text=[str(y) for y in c.index],
                            textposition="top left", marker=dict(color=colour[custom], size=8), showlegend=False,
                            hovertemplate=f"{custom} %{{text}}: %{{x:,.0f}} chips, $%{{y:,.0f}}M<extra></extra>")
        fig.add_scatter(x=fleet, y=be["gpu_usd_per_mtok"] * tokens / 1e6 / 1e6, name=f"{gpu} (same demand)",
                        mode="lines", line=dict(color=colour[gpu]),
                        hovertemplate=f"{gpu}<br>at %{{x:,.0f}} custom chips' demand: $%{{y:,.0f}}M/yr<extra></extra>")
        if not pd.isna(be["break_even_chips"]):
            x = float(be["break_even_chips"])
            fig.add_scatter(x=[x], y=[be["gpu_usd_per_mtok"] * x / chips_per_token / 1e12], mode="markers+text",
                            text=[f"{x:,.0f}"], textposition="bottom right", showlegend=False,
                            marker=dict(color=colour[gpu], size=11, symbol="x"),
                            hovertemplate=f"break-even with {gpu}: %{{x:,.0f}} chips<extra></extra>")
    # log-log: break-even fleets of hundreds of chips and plan fleets of hundreds of thousands on one chart
    fig.update_layout(xaxis=dict(title="custom chips in the fleet (log scale)", type="log"),
                      yaxis=dict(title="yearly cost (US$ millions, log scale)", type="log"), **LAYOUT)
    return fig


def tornado_figure(tornado: pd.DataFrame) -> go.Figure:
    """The custom design's cumulative saving against the cheapest GPU (US$ billions), each lever
    from its low to its high value, the widest swing on top; the line is the plan's value."""
    t = tornado.iloc[::-1]  # plotly draws the first category at the bottom
    fig = go.Figure()
    fig.add_bar(y=t["lever"], x=(t["saving_low_usd"] - t["saving_base_usd"]) / 1e9, base=t["saving_base_usd"] / 1e9,
                orientation="h", name="low value", marker_color="#4c78a8",
                customdata=t["low"], hovertemplate="%{y} x%{customdata:g}: $%{x:,.2f}B change<extra></extra>")
    fig.add_bar(y=t["lever"], x=(t["saving_high_usd"] - t["saving_base_usd"]) / 1e9, base=t["saving_base_usd"] / 1e9,
                orientation="h", name="high value", marker_color="#f58518",
                customdata=t["high"], hovertemplate="%{y} x%{customdata:g}: $%{x:,.2f}B change<extra></extra>")
    base = float(tornado["saving_base_usd"].iloc[0]) / 1e9
    fig.add_vline(x=base, line_color="#1f2933", annotation_text=f"plan: ${base:,.2f}B", annotation_position="top")
    custom, gpu = tornado["custom"].iloc[0], tornado["gpu"].iloc[0]
    fig.update_layout(barmode="overlay", xaxis_title=f"{custom}'s cumulative saving against {gpu} (US$ billions)",
                      yaxis=dict(type="category"), **LAYOUT)
    return fig
