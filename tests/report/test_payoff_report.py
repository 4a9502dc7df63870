"""The report's money (issue 16): top-line numbers first, the assumptions, the break-even and the
tornado, every cost column, and latency boxes that stop at p99."""

from __future__ import annotations

import numpy as np
import pytest

from fake_plan import make_plan

from chip2chat.report.figures import latency_figure
from chip2chat.report.html import BREAK_EVEN_SECTIONS, COST_TABLE_COLUMNS, render
from chip2chat.report.topline import topline


@pytest.fixture
def custom_plan():
    return make_plan(with_custom=True)


def test_topline_last_year_and_cumulative_by_hand(custom_plan):
    t = custom_plan.table
    top = topline(t).set_index("option")
    h200 = t[t["option"] == "h200-tp8"]
    last = h200[h200["year"] == 2028].iloc[0]
    assert top.loc["h200-tp8", "chips"] == last["chips"] and top.loc["h200-tp8", "facility_mw"] == last["facility_mw"]
    # cumulative $/Mtok is the plan's total cost over its total tokens, not the mean of the years'
    assert top.loc["h200-tp8", "cum_cost_usd"] == pytest.approx(h200["total_cost_usd"].sum())
    assert top.loc["h200-tp8", "cum_usd_per_mtok"] == pytest.approx(h200["total_cost_usd"].sum()
                                                                    / h200["output_tokens"].sum() * 1e6)
    # per token processed: 1e12 output + 4e12 input tokens per unit of scale, so a fifth
    assert top.loc["h200-tp8", "cum_usd_per_mtok_all_tokens"] == pytest.approx(top.loc["h200-tp8", "cum_usd_per_mtok"] / 5)
    assert not top.loc["edge-npu", "served"]


def test_topline_comes_first_then_break_even_then_the_figures(custom_plan):
    page = render(custom_plan)
    header = page.split("</header>", 1)[0]
    assert header.index('id="topline"') < header.index('id="verdicts"') < header.index('id="cheapest"')
    assert "$/Mtok output" in header and "$/Mtok in+out" in header
    for section in BREAK_EVEN_SECTIONS:
        assert f'id="fig-{section}"' in page
    assert page.index('id="section-cumulative"') < page.index('id="section-breakeven"') < page.index('id="section-fleet"')
    assert 'id="break-even-table"' in page and 'id="assumptions-table"' in page and 'id="cost-table"' in page


def test_every_verdict_names_its_gpu_and_a_year_or_never(custom_plan):
    page = render(custom_plan)
    for gpu in ("h200-tp8", "edge-npu"):
        assert f'data-custom="custom-n3" data-gpu="{gpu}"' in page
    # edge-npu never meets the SLO: no common year, so never within the plan
    assert "vs edge-npu: never pays at any volume, year: <strong>never within the plan</strong>" in page


def test_assumptions_are_listed_with_their_sources_escaped(custom_plan):
    page = render(custom_plan)
    assert "https://example.org/a &lt;b&gt;" in page and "street · 2026-06" in page


def test_the_cost_table_shows_every_cost_line(custom_plan):
    page = render(custom_plan)
    table = page.split('id="cost-table"', 1)[1].split("</table>", 1)[0]
    for _, header, _ in COST_TABLE_COLUMNS:
        assert f">{header}</th>" in table.replace("&#x27;", "'")


def test_latency_boxes_stop_at_p99_below_the_whiskers_of_the_maximum():
    rng = np.random.default_rng(1)
    samples = list(rng.gamma(2.0, 100.0, 2000)) + [5000.0]  # one outlier far above every percentile
    fig = latency_figure({"a": {"ttft_ms": samples, "tpot_ms": samples}}, ["a"], 400.0, 40.0)
    boxes = [t for t in fig.data if t.type == "box"]
    assert len(boxes) == 2
    for box in boxes:
        assert box.upperfence[0] == pytest.approx(np.percentile(samples, 99)) == box.q3[0]
        assert box.q1[0] == pytest.approx(np.percentile(samples, 50)) and box.median[0] < box.q3[0]
        assert box.upperfence[0] < 5000.0
