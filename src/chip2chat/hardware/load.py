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


def catalog_id(hw: Accelerator) -> str | None:
    """The catalog id of the chip with this display name (a catalog chip however it was given:
    by name, as an object, or copied into a file), or None for any other chip."""
    return next((key for key, entry in read_yaml(CATALOG_FILE).items() if entry.get("name") == hw.name), None)


def _from_file(path: Path) -> Accelerator:
    raw = read_mapping(path, "one accelerator")
    profile = raw.get("calibration")
    if isinstance(profile, str) and profile.endswith((".yaml", ".yml")) and not Path(profile).is_absolute():
        raw["calibration"] = str(path.parent / profile)  # a profile file beside the chip's file
    return _validate(str(path), raw)


def _validate(source: str, raw: dict) -> Accelerator:
    return validated(Accelerator, raw, source)
