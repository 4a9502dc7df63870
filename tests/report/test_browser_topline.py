"""The report in a real browser (issue 16): the top-line numbers are on screen without scrolling,
every table shows all its columns, and the money figures draw. A screenshot is kept for review.

Uses the system Chromium through Playwright's Python API, as test_browser.py does; skipped, with
the reason, where either is missing.
"""

from __future__ import annotations

import pytest

from fake_plan import make_plan
from headless_chromium import CHROMIUM, CHROMIUM_ARGS, sync_api

from chip2chat.report.html import write_report

# A laptop screen: what a planner sees on opening the file.
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = write_report(make_plan(with_custom=True), tmp_path_factory.mktemp("report") / "report.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].every(d => d._fullLayout)",
                               timeout=30_000)
        page.screenshot(path=str(path.with_suffix(".png")))
        yield page
        browser.close()


def test_the_topline_numbers_are_visible_without_scrolling(page):
    box = page.evaluate("""() => { const t = document.getElementById('topline').getBoundingClientRect();
        return {top: t.top, bottom: t.bottom, left: t.left, right: t.right, scrollY: window.scrollY}; }""")
    assert box["scrollY"] == 0
    assert 0 <= box["top"] and box["bottom"] <= VIEWPORT["height"], box
    assert 0 <= box["left"] and box["right"] <= VIEWPORT["width"], box


def test_every_table_shows_all_its_columns(page):
    # no table is wider than the page: nothing hides behind a horizontal scroll
    wide = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => ({id: t.id,
        width: t.getBoundingClientRect().width, room: document.querySelector('main').clientWidth}))
        .filter(t => t.width > t.room)""")
    assert wide == []


def test_the_money_figures_draw(page):
    drawn = page.evaluate("""() => ['fig-cumulative', 'fig-breakeven', 'fig-tornado'].map(id => {
        const d = document.getElementById(id); return !!(d && d._fullLayout && d._fullData.length); })""")
    assert drawn == [True, True, True]
