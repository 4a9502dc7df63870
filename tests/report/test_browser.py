"""The report in a real browser: headless Chromium draws every figure, with no console errors.

Uses the system Chromium through Playwright (headless_chromium.py); skipped, with the reason, where
either is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headless_chromium import CHROMIUM, CHROMIUM_ARGS, sync_api

from chip2chat.report.html import SECTIONS, VOICE_SECTION

FIGURE_IDS = [f"fig-{s}" for s in (*SECTIONS, VOICE_SECTION)]
RENDERED = """ids => ids.map(id => {
    const div = document.getElementById(id);
    return {id, layout: !!(div && div._fullLayout), svg: div ? div.querySelectorAll('.main-svg').length : 0,
            traces: div && div._fullData ? div._fullData.length : 0};
})"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_every_figure_renders_without_console_errors(browser, report_path: Path):
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report_path.as_uri(), wait_until="load")
    page.wait_for_function(f"() => {FIGURE_IDS!r}.every(id => document.getElementById(id)?._fullLayout)",
                           timeout=30_000)
    state = page.evaluate(RENDERED, FIGURE_IDS)
    page.close()
    assert [s["id"] for s in state if not (s["layout"] and s["svg"] >= 1 and s["traces"] >= 1)] == [], state
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
