"""Shipped data files and forgiving name lookup.

Data lives beside this file: accelerators.yaml, memory.yaml, models/*.json (+ models/index.yaml),
calibration/*.yaml. Each entry cites its sources. This module only finds entries; the loaders in
chip2chat.hardware and chip2chat.models validate them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from chip2chat.errors import ConfigError, NotFoundError

CATALOG_DIR = Path(__file__).parent


def normalise(name: str) -> str:
    """'LLaMA v3.1 70B' -> 'llama3170b'; 'H200 141GB HBM3' -> 'h200141gbhbm3'."""
    s = name.lower().replace("meta-", "")
    s = re.sub(r"\bv(?=\d)", "", s)  # 'v3.1' -> '3.1'
    return re.sub(r"[^a-z0-9]", "", s)


@lru_cache(maxsize=None)
def read_yaml(relative: str) -> dict[str, Any]:
    path = CATALOG_DIR / relative
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ConfigError(str(path), "<root>", "expected a mapping of entries")
    return data


def find_entry(kind: str, relative: str, name: str) -> tuple[str, dict[str, Any]]:
    """Look `name` up by id, display name or alias (case, spaces and punctuation ignored)."""
    entries = read_yaml(relative)
    wanted = normalise(name)
    for key, entry in entries.items():
        names = [key, entry.get("name", ""), *entry.get("aliases", [])]
        if any(normalise(n) == wanted for n in names if n):
            return key, entry
    raise NotFoundError(kind, name, list(entries))


def looks_like_path(name: str) -> bool:
    return name.endswith((".json", ".yaml", ".yml")) or "/" in name or Path(name).exists()
