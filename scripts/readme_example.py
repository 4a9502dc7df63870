"""Run the README's first Python example and check that it prints the line the README shows.

    python -I scripts/readme_example.py README.md

Used by scripts/check_wheel.sh against an installed wheel, from outside the source tree (`-I`:
neither this folder, the current one nor PYTHONPATH is searched, so `import chip2chat` finds the
installed package). The example is read from the README itself, so it cannot drift from it.
Exits 1 with both lines when the output differs.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path


def example(readme_text: str) -> tuple[str, str]:
    """(code, expected output) of the first ```python block: its `# ` comment line is the output."""
    block = re.search(r"```python\n(.*?)```", readme_text, re.S).group(1)
    expected = [ln[2:] for ln in block.splitlines() if ln.startswith("# ")][0]
    code = "\n".join(ln for ln in block.splitlines() if not ln.startswith("#"))
    return code, expected


def main(readme: str) -> int:
    code, expected = example(Path(readme).read_text())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    import chip2chat

    got = printed.getvalue().strip()
    print(f"README example with chip2chat {chip2chat.__version__} from {Path(chip2chat.__file__).parent}: {got}")
    if got != expected.strip():
        print(f"expected: {expected.strip()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
