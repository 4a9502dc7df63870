"""Errors of the workload stage.

A trace that cannot be read must stop the run with one line that says where to look (file, line,
field) and what was expected: simulating a half-parsed trace would give numbers that look fine and are
wrong. Bad generator parameters use the plain `Chip2ChatError` (see `check_*` helpers below).
"""

from __future__ import annotations

from chip2chat.errors import Chip2ChatError


class TraceError(Chip2ChatError):
    """A request trace that is missing, empty, has a bad header or a malformed row.

    The message reads `<file>: line <n>: field <name>: <problem>`, with the parts that are known.
    """

    def __init__(self, source: str, problem: str, line: int | None = None, field: str | None = None):
        where = [str(source)]
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(": ".join(where + [problem]))
        self.source = str(source)
        self.line = line
        self.field = field


def check_count(name: str, value: int) -> int:
    """A number of requests: an integer >= 1 (numpy integers are fine, bools are not)."""
    if isinstance(value, bool) or not _is_integer(value) or value < 1:
        raise Chip2ChatError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_positive(name: str, value: float) -> float:
    """A rate, a mean or a coefficient of variation: a finite number > 0."""
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise Chip2ChatError(f"{name} must be a number > 0, got {value!r}") from None
    if isinstance(value, bool) or not (as_float > 0) or as_float == float("inf"):
        raise Chip2ChatError(f"{name} must be a finite number > 0, got {value!r}")
    return as_float


def check_length(name: str, value: int) -> int:
    """A token count: an integer >= 1 (a request with no prompt or no output is not a request)."""
    if isinstance(value, bool) or not _is_integer(value) or value < 1:
        raise Chip2ChatError(f"{name} must be an integer number of tokens >= 1, got {value!r}")
    return int(value)


def _is_integer(value) -> bool:
    try:
        return int(value) == value
    except (TypeError, ValueError, OverflowError):
        return False
