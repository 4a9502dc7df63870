"""The README's first Python example runs and prints what the README says it prints."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_estimate_example_prints_its_documented_line():
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    expected = [ln[2:] for ln in block.splitlines() if ln.startswith("# ")][0]
    code = "\n".join(ln for ln in block.splitlines() if not ln.startswith("#"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    assert out.getvalue().strip() == expected.strip()


def test_readme_opens_with_the_two_setup_commands():
    lines = [ln for ln in README.read_text().splitlines() if ln.strip()]
    assert lines[1] == "```" and lines[2].startswith("make run") and lines[3].startswith("make test")
