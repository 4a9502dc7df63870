"""The report's top: per option the numbers a planner reads first, the break-even verdicts, and the
assumptions panel (every price and coefficient with its source).

`topline(table)` is the data (a DataFrame, one row per option): in the plan's last year chips,
facility MW, MWh, tCO2, $/year and $/Mtok (per output token and per token processed), and over all
the plan's years the cumulative MWh, tCO2, $ and $/Mtok (cumulative cost over cumulative tokens).
The HTML functions render it; the same numbers are in the tables below.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from chip2chat.report.figures import options_in_order

# (column, header, formatter): the top-line table, last year then cumulative.
TOPLINE_COLUMNS = (
    ("chips", "chips", lambda v: f"{v:,.0f}"),
    ("facility_mw", "facility MW", lambda v: f"{v:,.1f}"),
    ("annual_mwh", "MWh/yr", lambda v: f"{v:,.0f}"),
    ("tco2", "tCO₂/yr", lambda v: f"{v:,.0f}"),
    ("total_cost_usd", "$M/yr", lambda v: f"{v / 1e6:,.1f}"),
    ("usd_per_mtok", "$/Mtok output", lambda v: f"{v:,.3f}"),
    ("usd_per_mtok_all_tokens", "$/Mtok in+out", lambda v: f"{v:,.3f}"),
    ("cum_mwh", "MWh", lambda v: f"{v:,.0f}"),
    ("cum_tco2", "tCO₂", lambda v: f"{v:,.0f}"),
    ("cum_cost_usd", "$M", lambda v: f"{v / 1e6:,.0f}"),
    ("cum_usd_per_mtok", "$/Mtok output", lambda v: f"{v:,.3f}"),
    ("cum_usd_per_mtok_all_tokens", "$/Mtok in+out", lambda v: f"{v:,.3f}"),
)
LAST_YEAR_COLUMNS = 7
"""The first seven columns are the last year's; the others the plan's cumulative figures."""


def _sum(rows: pd.DataFrame, column: str) -> float:
    return float(rows[column].sum()) if column in rows else float("nan")


def topline(table: pd.DataFrame) -> pd.DataFrame:
    """One row per option (in plan order) with its last-year and cumulative figures; NaN where
    the option serves no year within the SLO at the site."""
    last_year = int(table["year"].max())
    rows = []
    for option in options_in_order(table):
        mine = table[table["option"] == option]
        served = mine[mine["meets_slo"].astype(bool) & mine.get("deployable", True)]
        last = mine[mine["year"] == last_year]
        row = {"option": option, "year": last_year, "served": bool(len(served) == len(mine) and len(mine))}
        for column, _, _ in TOPLINE_COLUMNS[:LAST_YEAR_COLUMNS]:
            row[column] = float(last[column].iloc[0]) if column in last and len(last) else float("nan")
        cost = _sum(mine, "total_cost_usd")
        out = _sum(mine, "output_tokens")
        row.update(cum_mwh=_sum(mine, "annual_mwh"), cum_tco2=_sum(mine, "tco2"), cum_cost_usd=cost,
                   cum_usd_per_mtok=cost / (out / 1e6) if out else float("nan"),
                   cum_usd_per_mtok_all_tokens=cost / ((out + _sum(mine, "input_tokens")) / 1e6) if out else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value, fmt) -> str:
    if value is None or pd.isna(value):
        return '<td data-value="">—</td>'
    return f'<td data-value="{value!r}">{escape(fmt(value))}</td>'


def topline_html(table: pd.DataFrame) -> str:
    top = topline(table)
    last_year, first_year = int(table["year"].max()), int(table["year"].min())
    head = (f'<tr><th class="text" rowspan="2">option</th><th colspan="{LAST_YEAR_COLUMNS}">{last_year}</th>'
            f'<th colspan="{len(TOPLINE_COLUMNS) - LAST_YEAR_COLUMNS}">{first_year}–{last_year} cumulative</th></tr>'
            "<tr>" + "".join(f"<th>{escape(h)}</th>" for _, h, _ in TOPLINE_COLUMNS) + "</tr>")
    body = "".join(
        f'<tr data-option="{escape(r["option"])}" class="{"" if r["served"] else "misses"}">'
        f'<td class="text">{escape(r["option"])}</td>'
        + "".join(_cell(r[c], fmt) for c, _, fmt in TOPLINE_COLUMNS) + "</tr>"
        for _, r in top.iterrows())
    return (f'<table id="topline"><thead>{head}</thead><tbody>{body}</tbody></table>'
            '<p class="caption">$/Mtok output: cost per million generated tokens; $/Mtok in+out: per million '
            "tokens processed (prompt and output). Costs: chips, servers and scale-out network amortized, "
            "facility, electricity, operations and a custom chip's NRE (the assumptions below). Faint rows "
            "miss the SLO or do not fit the site in some year.</p>")


def verdicts_html(break_even: pd.DataFrame | None) -> str:
    """One line per (custom design, GPU): its break-even fleet and year, or never within the plan."""
    if break_even is None or not len(break_even):
        return ""
    items = []
    several = "site" in break_even and break_even["site"].nunique() > 1
    for _, r in break_even.iterrows():
        chips = r.get("break_even_chips")
        at = "never pays at any volume" if pd.isna(chips) else f"breaks even at {chips:,.0f} chips"
        where = f" at {escape(str(r['site']))}" if several else ""
        items.append(f'<li data-custom="{escape(str(r["custom"]))}" data-gpu="{escape(str(r["gpu"]))}">'
                     f"<strong>{escape(str(r['custom']))}</strong> vs {escape(str(r['gpu']))}{where}: {at}, "
                     f"year: <strong>{escape(str(r['break_even_year']))}</strong></li>")
    return f'<ul id="verdicts">{"".join(items)}</ul>'


def break_even_html(break_even: pd.DataFrame | None) -> str:
    """The break-even table with the reason for each answer."""
    if break_even is None or not len(break_even):
        return ""
    rows = "".join(
        f"<tr><td class=\"text\">{escape(str(r.get('site', '')))}</td>"
        f"<td class=\"text\">{escape(str(r['custom']))}</td><td class=\"text\">{escape(str(r['gpu']))}</td>"
        + _cell(r.get("break_even_chips"), lambda v: f"{v:,.0f}")
        + f"<td>{escape(str(r['break_even_year']))}</td><td class=\"note-plain\">{escape(str(r['why']))}</td></tr>"
        for _, r in break_even.iterrows())
    return ('<table id="break-even-table"><thead><tr><th class="text">site</th><th class="text">custom design</th>'
            '<th class="text">against</th>'
            "<th>break-even chips</th><th>year</th><th class=\"text\">why</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def assumptions_html(assumptions: list) -> str:
    """Every price and coefficient the money rests on, with its kind, date and source."""
    if not assumptions:
        return ""
    rows = "".join(
        f"<tr><td class=\"text\">{escape(a.name)}</td><td>{escape(a.value)}</td><td class=\"text\">{escape(a.kind)}"
        f"{' · ' + escape(a.date) if a.date else ''}</td><td class=\"source\">{escape(a.source)}</td></tr>"
        for a in assumptions)
    return ('<details id="assumptions" open><summary>Every price and coefficient, with its source</summary>'
            '<table id="assumptions-table"><thead><tr><th class="text">assumption</th><th>value</th>'
            '<th class="text">kind · date</th><th class="text">source</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></details>")
