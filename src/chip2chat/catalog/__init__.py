"""Shipped data files and forgiving name lookup.

Data lives beside this file: accelerators.yaml, memory.yaml, models/*.json (+ models/index.yaml),
calibration/*.yaml, sites.yaml, voice.yaml, silicon.yaml, designs/*.yaml, scenarios/*.yaml. Each
entry cites its sources. This module only finds entries; the loaders in chip2chat.hardware,
chip2chat.models, chip2chat.silicon, chip2chat.voice and chip2chat.datacenter validate them.
CATALOGS names every catalog a user can list (`chip2chat catalog list KIND`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from chip2chat.errors import Chip2ChatError, ConfigError, NotFoundError

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


@dataclass(frozen=True)
class Catalog:
    """One listable catalog: where its entries live and how to read them as {id: entry}."""

    title: str
    """What an entry is, for table titles and errors ('accelerator')."""
    source: str
    """The file or folder under catalog/ that holds it."""
    entries: Callable[[], dict[str, dict]]


def _file(relative: str, skip: tuple[str, ...] = ()) -> Callable[[], dict[str, dict]]:
    return lambda: {k: v for k, v in read_yaml(relative).items() if k not in skip}


def _section(relative: str, key: str) -> Callable[[], dict[str, dict]]:
    return lambda: dict(read_yaml(relative)[key])


def _folder(folder: str) -> Callable[[], dict[str, dict]]:
    """One entry per YAML file of `folder`, keyed by the file name without .yaml."""
    return lambda: {p.stem: read_yaml(f"{folder}/{p.name}") for p in sorted((CATALOG_DIR / folder).glob("*.yaml"))}


CATALOGS: dict[str, Catalog] = {
    "accelerators": Catalog("accelerator", "accelerators.yaml", _file("accelerators.yaml")),
    "memory": Catalog("memory", "memory.yaml", _file("memory.yaml")),
    "models": Catalog("model", "models/index.yaml", _file("models/index.yaml")),
    "sites": Catalog("site", "sites.yaml", _file("sites.yaml", skip=("servers",))),
    "servers": Catalog("server", "sites.yaml servers", _section("sites.yaml", "servers")),
    "devices": Catalog("device", "voice.yaml devices", _section("voice.yaml", "devices")),
    "networks": Catalog("network", "voice.yaml networks", _section("voice.yaml", "networks")),
    "speech-models": Catalog("speech model", "voice.yaml speech_models", _section("voice.yaml", "speech_models")),
    "designs": Catalog("chip design", "designs/*.yaml", _folder("designs")),
    "process-nodes": Catalog("process node", "silicon.yaml process_nodes", _section("silicon.yaml", "process_nodes")),
    "scenarios": Catalog("scenario", "scenarios/*.yaml", _folder("scenarios")),
}
"""Kind -> catalog, in the order `chip2chat catalog list` prints them."""


def catalog_kind(kind: str) -> str:
    """The key of CATALOGS that `kind` names ('speech_models' and 'Speech models' name
    'speech-models'), or a one-line error listing the kinds."""
    if not isinstance(kind, str):
        raise Chip2ChatError(f"catalog kind: expected one of {', '.join(CATALOGS)}, got {kind!r}")
    wanted = re.sub(r"[\s_]+", "-", kind.strip().lower())
    if wanted not in CATALOGS:
        raise Chip2ChatError(f"unknown catalog kind {kind!r}; kinds: {', '.join(CATALOGS)}")
    return wanted


def find_everywhere(name: str, kinds: list[str] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (kind, id, entry) whose id, display name or alias is `name` (case, spaces and
    punctuation ignored), in CATALOGS order; an empty list when none is."""
    wanted = normalise(name)
    found = []
    for kind in [catalog_kind(k) for k in kinds] if kinds else list(CATALOGS):
        for key, entry in CATALOGS[kind].entries().items():
            names = [key, entry.get("name"), *entry.get("aliases", [])] if isinstance(entry, dict) else [key]
            if any(isinstance(n, str) and n and normalise(n) == wanted for n in names):
                found.append((kind, key, entry))
    return found
