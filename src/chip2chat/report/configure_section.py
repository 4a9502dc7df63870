"""The report's "Serving configuration" section: which configuration each option runs and why.

Per option: the configurations simulated (the search's finalists and the option's fixed tp/pp),
each with what one step of it carries within the SLO, and per year the one the plan sized with
(the fewest chips at that year's peak) beside the chips the fixed tp would need. Then the
configuration search's picture (report/configure_plot.py, tokens/s/GPU against tokens/s/user) of
the option cheapest in the last year, inline as a PNG so the page stays one file.
"""

from __future__ import annotations

import base64
import io
import math
from html import escape

import pandas as pd


def configure_section(plan) -> str:
    """The section's HTML ('' when no option was sized: nothing to say)."""
    caps = getattr(plan, "capacities", None) or {}
    if not caps:
        return ""
    parts = ['<section id="section-configure"><h2>Serving configuration</h2><p class="caption">Each option '
             "is sized at the configuration that needs the fewest chips for that year's peak, among those "
             "simulated within the p99 SLO: the configuration search's finalists (parallel plan with EP and "
             "attention DP for MoE models, batching knobs, aggregated or disaggregated prefill/decode) and the "
             "option's own tp/pp. Capacity: the largest Poisson request rate whose simulation meets the SLO "
             "(bisection on the rate); rate per step: a replica, or a whole prefill:decode unit.</p>"]
    for option, cap in caps.items():
        parts.append(_option_html(option, cap, plan.table[plan.table["option"] == option]))
    picture = _picture(plan, caps)
    if picture:
        parts.append(picture)
    parts.append("</section>")
    return "".join(parts)


def why(row: pd.Series) -> str:
    """One year's choice in words: the chips it needs against the fixed tp's."""
    fixed = row.get("fixed_tp_chips")
    if not row.get("meets_slo", True):
        return "no configuration simulated meets the SLO: sized at its maximum rate (see the note)"
    if fixed is None or (isinstance(fixed, float) and math.isnan(fixed)):
        return "the option's own tp/pp cannot hold the model; the fewest chips of those that can"
    chips = int(row["chips"])
    if chips >= fixed:
        return f"the option's own tp/pp: no configuration simulated needs fewer than its {chips:,} chips"
    return f"{chips:,} chips against {int(fixed):,} at the option's own tp/pp ({1 - chips / fixed:.0%} fewer)"


def _option_html(option: str, cap, rows: pd.DataFrame) -> str:
    head = ("<tr><th>configuration</th><th>mode</th><th>chips a step</th><th>req/s a step</th>"
            "<th>tokens/s/GPU</th><th>p99 TTFT ms</th><th>p99 TPOT ms</th></tr>")
    body = "".join(
        f"<tr><td>{escape(d.label)}{' (own tp/pp)' if d.fixed else ''}</td><td>{d.candidate.mode}</td>"
        f"<td>{d.devices}</td><td>{_num(d.slo_rate_per_s)}</td><td>{d.tokens_per_s_per_gpu:,.0f}</td>"
        f"<td>{_num(d.p99_ttft_ms, 0)}</td><td>{_num(d.p99_tpot_ms, 1)}</td></tr>" for d in cap.deployments)
    years = "".join(f"<li>{int(r['year'])}: <strong>{escape(str(r['configuration']))}</strong> x "
                    f"{int(r['replicas']):,}: {escape(why(r))}</li>"
                    for _, r in rows.iterrows() if "configuration" in r and isinstance(r["configuration"], str))
    return (f'<h3>{escape(option)}</h3><table class="configure-table">{head}{body}</table>'
            f'<ul class="caption">{years}</ul>')


def _picture(plan, caps) -> str:
    """The search picture of the option cheapest in the last year (else the first searched), inline."""
    table = plan.table
    cheapest = table[table["cheapest"]] if "cheapest" in table else table.iloc[:0]
    order = list(cheapest.sort_values("year")["option"].iloc[::-1]) + list(caps)
    option = next((o for o in order if o in caps and caps[o].search is not None), None)
    if option is None:
        return ""
    from chip2chat.report.configure_plot import plot_configure_front

    buffer = io.BytesIO()
    plot_configure_front(caps[option].search, buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f"<h3>Configuration search: {escape(option)}</h3><p class=\"caption\">Output tokens/s per GPU against "
            "tokens/s per user on one server: grey, every candidate where the analytic screen puts it; coloured, "
            "the simulated ones at their capacity within the SLO; the star, the search's best.</p>"
            f'<img id="configure-front" alt="configuration search of {escape(option)}" '
            f'src="data:image/png;base64,{data}" style="max-width:100%">')


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"
