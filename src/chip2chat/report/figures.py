"""Plotly figures for the capacity-plan report, one pure function per figure.

Each function takes the plan's per-(option, year) table (or the latency samples, or the voice table)
and returns a `plotly.graph_objects.Figure`; `report.html` turns them into HTML. Options keep the
order in which they first appear in the table, and each option keeps one colour in every figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Plotly's default qualitative palette, spelled out so colours never depend on the installed template.
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880",
           "#ff97ff", "#fecb52")
STAGE_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2",
                 "#ff9da6", "#9d755d", "#bab0ac")
# Rows that miss the SLO are drawn faint, so the eye goes to the options that can serve.
MISSES_SLO_OPACITY = 0.35
LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=20, t=40, b=50),
              legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
              font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13))


def options_in_order(table: pd.DataFrame) -> list[str]:
    return [str(o) for o in pd.unique(table["option"])]


def colours(options: list[str]) -> dict[str, str]:
    return {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(options)}


def _rows(table: pd.DataFrame, option: str) -> pd.DataFrame:
    return table[table["option"] == option].sort_values("year")


def _years_axis(table: pd.DataFrame) -> dict:
    """Years as categories: a year axis never shows 2026.5."""
    years = sorted(int(y) for y in pd.unique(table["year"]))
    return dict(title="year", type="category", categoryorder="array", categoryarray=years)


def _slo_hover(rows: pd.DataFrame) -> list[str]:
    return ["meets SLO" if bool(m) else "misses SLO" for m in rows["meets_slo"]]


def fleet_figure(table: pd.DataFrame) -> go.Figure:
    """Chips per year, one bar per option in each year's group."""
    options = options_in_order(table)
    colour = colours(options)
    fig = go.Figure()
    for option in options:
        rows = _rows(table, option)
        fig.add_bar(x=rows["year"], y=rows["chips"], name=option, marker_color=colour[option],
                    marker_opacity=[1.0 if bool(m) else MISSES_SLO_OPACITY for m in rows["meets_slo"]],
                    customdata=_slo_hover(rows),
                    hovertemplate=f"{option}<br>%{{x}}: %{{y:,.0f}} chips<br>%{{customdata}}<extra></extra>")
    fig.update_layout(barmode="group", xaxis=_years_axis(table), yaxis_title="accelerator chips", **LAYOUT)
    return fig


def _lines_per_option(table: pd.DataFrame, column: str, y_title: str, hover_format: str) -> go.Figure:
    options = options_in_order(table)
    colour = colours(options)
    fig = go.Figure()
    for option in options:
        rows = _rows(table, option)
        dash = "solid" if bool(rows["meets_slo"].any()) else "dot"
        fig.add_scatter(x=rows["year"], y=rows[column], name=option, mode="lines+markers",
                        line=dict(color=colour[option], dash=dash), customdata=_slo_hover(rows),
                        hovertemplate=f"{option}<br>%{{x}}: %{{y:{hover_format}}}<br>%{{customdata}}<extra></extra>")
    fig.update_layout(xaxis=_years_axis(table), yaxis_title=y_title, **LAYOUT)
    return fig


def power_figure(table: pd.DataFrame) -> go.Figure:
    """Facility power (IT load times PUE) per year; dotted lines never meet the SLO."""
    return _lines_per_option(table, "facility_mw", "facility power (MW)", ",.2f")


def energy_figure(table: pd.DataFrame) -> go.Figure:
    """Energy per token per year; dotted lines never meet the SLO."""
    return _lines_per_option(table, "j_per_token", "energy per token (J)", ",.3f")


COST_PARTS = (("chip_capex_usd", "chips", "#4c78a8"),
              ("server_capex_usd", "servers", "#72b7b2"),
              ("network_capex_usd", "scale-out network", "#b279a2"),
              ("facility_capex_usd", "facility", "#f58518"),
              ("electricity_usd", "electricity", "#54a24b"),
              ("operations_usd", "operations", "#9d755d"),
              ("nre_usd", "custom chip NRE", "#e45756"))


def cost_figure(table: pd.DataFrame) -> go.Figure:
    """Yearly cost of each option in the last year, stacked by where the money goes (US$ millions)."""
    last_year = int(table["year"].max())
    rows = table[table["year"] == last_year]
    options = options_in_order(rows)
    rows = rows.set_index("option").loc[options]
    fig = go.Figure()
    for column, label, colour in COST_PARTS:
        if column not in rows:
            continue
        fig.add_bar(x=options, y=rows[column] / 1e6, name=label, marker_color=colour,
                    hovertemplate=f"%{{x}}<br>{label}: $%{{y:,.1f}}M/yr<extra></extra>")
    fig.update_layout(barmode="stack", xaxis_title=f"option ({last_year})",
                      yaxis_title="cost (US$ millions per year)", **LAYOUT)
    return fig


def latency_figure(latency: dict[str, dict[str, list[float]]], options: list[str],
                   slo_ttft_ms: float, slo_tpot_ms: float) -> go.Figure:
    """TTFT and TPOT per option as boxes from p50 to p99 (a line at p90), each p99 SLO a dashed line.

    Options without samples keep their slot on the x axis, marked 'no samples', so none silently
    disappears.
    """
    colour = colours(options)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("TTFT (ms)", "TPOT (ms)"), horizontal_spacing=0.1)
    for col, (metric, slo) in enumerate((("ttft_ms", slo_ttft_ms), ("tpot_ms", slo_tpot_ms)), start=1):
        for option in options:
            samples = list(latency.get(option, {}).get(metric, []))
            if not samples:  # a text mark keeps the option's slot (a category axis drops unused ones)
                fig.add_scatter(x=[option], y=[slo / 2], mode="text", text=["no samples"], showlegend=False,
                                hoverinfo="skip", textfont_color="#9b2c2c", row=1, col=col)
                continue
            p50, p90, p99 = (float(v) for v in np.percentile(samples, (50, 90, 99)))
            # a box from p50 to p99 with a line at p90 and no whiskers: nothing drawn above the p99
            # that the SLO is judged on (a whisker to the maximum once crossed the SLO line in rows
            # that meet it)
            fig.add_box(x=[option], q1=[p50], median=[p90], q3=[p99], lowerfence=[p50], upperfence=[p99],
                        name=option, marker_color=colour[option], boxpoints=False, showlegend=False,
                        hoverinfo="skip", row=1, col=col)
            fig.add_scatter(x=[option] * 3, y=[p50, p90, p99], mode="markers", marker=dict(size=14, opacity=0),
                            customdata=["p50", "p90", "p99"], showlegend=False,
                            hovertemplate=f"{option}<br>%{{customdata}}: %{{y:,.1f}} ms<extra></extra>",
                            row=1, col=col)
        fig.add_hline(y=slo, line_dash="dash", line_color="#d62728", row=1, col=col,
                      annotation_text=f"p99 SLO {slo:g} ms", annotation_position="top left")
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=options,
                         range=[-0.5, len(options) - 0.5], row=1, col=col)
        fig.update_yaxes(title_text="ms", rangemode="tozero", row=1, col=col)
    fig.update_layout(**{**LAYOUT, "margin": dict(l=60, r=20, t=60, b=50)})
    return fig


def voice_stage_columns(voice: pd.DataFrame) -> list[str]:
    """Stage columns are the `*_ms` columns that are not percentiles of the whole."""
    return [c for c in voice.columns if str(c).endswith("_ms") and c not in ("p50_ms", "p90_ms", "p99_ms")]


def voice_figure(voice: pd.DataFrame) -> go.Figure:
    """Time to first audio per configuration, stacked by pipeline stage."""
    labels = [f"{c} · {n}" for c, n in zip(voice["configuration"], voice["network"])]
    fig = go.Figure()
    for i, column in enumerate(voice_stage_columns(voice)):
        label = column.removesuffix("_ms").replace("_", " ")
        fig.add_bar(x=labels, y=voice[column], name=label, marker_color=STAGE_PALETTE[i % len(STAGE_PALETTE)],
                    hovertemplate=f"%{{x}}<br>{label}: %{{y:,.0f}} ms<extra></extra>")
    fig.update_layout(barmode="stack", xaxis=dict(title="configuration · network", type="category"),
                      yaxis_title="time to first audio (ms)", **LAYOUT)
    return fig
