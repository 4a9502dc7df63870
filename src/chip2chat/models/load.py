"""Load models from the catalog (by forgiving name) or from a user's config.json path."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chip2chat.catalog import CATALOG_DIR, find_entry, looks_like_path, read_yaml
from chip2chat.models.config import load_config_file
from chip2chat.models.transformer import Transformer

INDEX = "models/index.yaml"


@lru_cache(maxsize=256)
def load_model(name: str) -> Transformer:
    """A catalog model (id, name or alias), a path to a Hugging Face config.json, or a model folder
    that holds one (as a Hugging Face download does)."""
    if looks_like_path(name):
        path = Path(name)
        if path.is_dir() and (path / "config.json").is_file():
            path = path / "config.json"
        return Transformer(load_config_file(path))
    key, entry = find_entry("model", INDEX, name)
    spec = load_config_file(CATALOG_DIR / "models" / entry["config"])
    return Transformer(spec.__class__(**{**spec.__dict__, "name": key}))


def model_ids() -> list[str]:
    return list(read_yaml(INDEX))
