"""User-facing errors: each one prints as a single line that says what to change.

Leaf module: imports nothing from chip2chat.
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError


class Chip2ChatError(ValueError):
    """Bad input from the user. The CLI prints `error: <message>` and exits with `exit_code`."""

    exit_code = 2


class DoesNotFitError(Chip2ChatError):
    """A plan whose weights, KV cache and activations exceed the memory of a device."""

    exit_code = 1


class NotFoundError(Chip2ChatError):
    """An unknown catalog name, with the closest known names."""

    def __init__(self, kind: str, name: str, known: list[str]):
        close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=3, cutoff=0.4)
        by_lower = {k.lower(): k for k in known}
        hint = f"; closest: {', '.join(by_lower[c] for c in close)}" if close else ""
        super().__init__(f"unknown {kind} {name!r}{hint} (see `chip2chat catalog list`, or pass a file path)")
        self.name = name


class ConfigError(Chip2ChatError):
    """A field of a config file (or argument) that is missing or has a bad value."""

    def __init__(self, source: str, field: str, problem: str):
        super().__init__(f"{source}: {field}: {problem}")
        self.source = source
        self.field = field


def validated(cls, raw: dict, source: str):
    """`cls(**raw)` for a pydantic model, its first validation error as a one-line ConfigError
    naming `source` and the field."""
    try:
        return cls(**raw)
    except ValidationError as exc:
        raise pydantic_message(source, exc) from None


def pydantic_message(source: str, exc) -> ConfigError:
    """Turn the first error of a pydantic ValidationError into a one-line ConfigError."""
    err = exc.errors()[0]
    path = _field_path(err.get("loc", ()))
    value = err.get("input")
    shown = "" if err.get("type") == "missing" else f" (got {value!r})"
    return ConfigError(source, path or "<root>", f"{err.get('msg', 'invalid value')}{shown}")


def _field_path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
