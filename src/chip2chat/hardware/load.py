"""Load accelerators from the catalog (by forgiving name) or from a user's YAML file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


from chip2chat.catalog import find_entry, looks_like_path, read_yaml
from chip2chat.errors import validated
from chip2chat.userfiles import read_mapping
from chip2chat.hardware.spec import Accelerator

CATALOG_FILE = "accelerators.yaml"


@lru_cache(maxsize=256)
def load_hardware(name: str) -> tuple[str, Accelerator]:
    """(id, Accelerator) for a catalog name/alias or a YAML file path."""
    if looks_like_path(name):
        return Path(name).stem, _from_file(Path(name))
    key, entry = find_entry("hardware", CATALOG_FILE, name)
    return key, _validate(f"catalog {CATALOG_FILE} [{key}]", entry)


def hardware_ids() -> list[str]:
    return list(read_yaml(CATALOG_FILE))


def _from_file(path: Path) -> Accelerator:
    return _validate(str(path), read_mapping(path, "one accelerator"))


def _validate(source: str, raw: dict) -> Accelerator:
    return validated(Accelerator, raw, source)
