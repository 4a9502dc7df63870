"""Screenshot the default plan's report for the README (docs/report.png).

    .venv/bin/python scripts/screenshot_report.py [out/plan/report.html] [docs/report.png]

Needs the system Chromium (Debian package `chromium`) and Playwright's Python API (the `test`
extra); Playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def main(report: str = "out/plan/report.html", png: str = "docs/report.png") -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(Path(report).resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].every(d => d._fullLayout)",
                               timeout=30_000)
        page.screenshot(path=png, full_page=False)
        browser.close()
    print(f"wrote {png}")


if __name__ == "__main__":
    main(*sys.argv[1:])
