"""Reading a user's YAML file: the one place that turns I/O and syntax problems into one-line errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from chip2chat.errors import ConfigError


def read_mapping(path: str | Path, what: str) -> dict:
    """The YAML mapping in `path`; a missing file, bad YAML or a non-mapping is a ConfigError
    naming the file (and, for YAML, the line)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise ConfigError(str(p), "<file>", "no such file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(p), "<file>", f"not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(p), "<root>", f"expected a mapping describing {what}, got {type(raw).__name__}")
    return raw
