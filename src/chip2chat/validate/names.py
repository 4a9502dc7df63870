"""Model and GPU names as people write them ("LLaMA v3.1 70B", "H200 141GB HBM3") -> catalog ids.

Tried in order: the whole name against every id, display name and alias (case, spaces and
punctuation ignored, 'v3.1' read as '3.1'); then the name with trailing words dropped one by
one ("H100 SXM 80GB" -> "H100 SXM" -> "H100"), so memory sizes and form factors people append
do not matter. None when nothing matches.
"""

from __future__ import annotations

from chip2chat.catalog import find_entry
from chip2chat.errors import NotFoundError
from chip2chat.hardware.load import CATALOG_FILE as HARDWARE_FILE
from chip2chat.models.load import INDEX as MODEL_INDEX


def _match(kind: str, file: str, name: str) -> str | None:
    words = name.split()
    for n in range(len(words), 0, -1):
        try:
            return find_entry(kind, file, " ".join(words[:n]))[0]
        except NotFoundError:
            continue
    return None


def match_model(name: str) -> str | None:
    return _match("model", MODEL_INDEX, name)


def match_hardware(name: str) -> str | None:
    return _match("hardware", HARDWARE_FILE, name)
