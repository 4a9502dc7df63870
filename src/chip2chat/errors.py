"""User-facing errors: each one prints as a single line that says what to change.

Leaf module: imports nothing from chip2chat.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict, ValidationError


class Chip2ChatError(ValueError):
    """Bad input from the user. The CLI prints `error: <message>` and exits with `exit_code`.
    The message is always one line (a newline in a user's field name or value becomes a space)."""

    exit_code = 2

    def __init__(self, message: str = ""):
        super().__init__(" ".join(str(message).split()))


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


def within(where: str, exc: Chip2ChatError) -> Chip2ChatError:
    """The same error (and exit code) with its message prefixed by where it happened."""
    new = DoesNotFitError(f"{where}: {exc}") if isinstance(exc, DoesNotFitError) else Chip2ChatError(f"{where}: {exc}")
    new.exit_code = exc.exit_code
    return new


class StrictModel(BaseModel):
    """Base of the user-facing config models: an unknown field, inf or nan is an error. Read user
    data with `validated` (one-line ConfigError naming the source and the field path)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


def validated(cls, raw: dict, source: str, context: dict | None = None):
    """`cls` validated from a mapping (a pydantic model), its first validation error as a one-line
    ConfigError naming `source` and the field."""
    if not isinstance(raw, dict):
        raise ConfigError(source, "<root>", f"expected a mapping of fields, got {type(raw).__name__}")
    try:
        return cls.model_validate(raw, context=context)
    except ValidationError as exc:
        raise pydantic_message(source, exc) from None


def pydantic_message(source: str, exc) -> ConfigError:
    """Turn the first error of a pydantic ValidationError into a one-line ConfigError."""
    err = exc.errors()[0]
    path = _field_path(err.get("loc", ()))
    value = err.get("input")
    shown = "" if err.get("type") == "missing" else f" (got {value!r})"
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return ConfigError(source, path or "<root>", f"{message}{shown}")


def _field_path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
