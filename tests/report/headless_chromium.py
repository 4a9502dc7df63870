"""The system Chromium (the Debian `chromium` package) driven by Playwright's Python API, for the
browser tests; Playwright's own browser download is never used. Importing this skips the importing
test module, with the reason, where either is missing."""

import shutil
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium binary (apt-get install chromium)", allow_module_level=True)

# No network, no background services: the page must draw from what is inside the file.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
