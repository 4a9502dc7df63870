"""The bad-input contract shared by the tests of this folder.

Each case asserts the exit code (2 bad input, 1 does not fit), ONE line on stderr that starts with
'error:' and names the file or field and what is allowed, and no traceback. The Python API raises
a one-line Chip2ChatError instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chip2chat.errors import Chip2ChatError


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(capsys, *args) -> CliResult:
    """`chip2chat *args` in this process (no interpreter start per case): exit code, stdout, stderr."""
    from chip2chat.cli import main

    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def assert_bad(result: CliResult, code: int, *mentions: str) -> str:
    """Exit `code`, exactly one non-empty stderr line starting 'error:', mentioning each string."""
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert result.code == code, f"exit {result.code}, wanted {code}; stderr: {result.err}"
    assert len(lines) == 1 and lines[0].startswith("error:"), f"not one error line: {result.err!r}"
    for text in mentions:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


def api_error(fn, *mentions: str, **kwargs) -> str:
    """`fn(**kwargs)` raises a one-line Chip2ChatError that mentions each string."""
    with pytest.raises(Chip2ChatError) as info:
        fn(**kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    for text in mentions:
        assert text in message, f"{text!r} not in {message!r}"
    return message
