"""Model and GPU names as published tables write them ("LLaMA v3.1 70B", "H200 141GB HBM3") -> catalog ids.

Both are read by the catalog's name rules (chip2chat.catalog, above find_entry), the same ones
every command uses. A GPU name: an id, display name or alias, then the chip with its vendor,
count, memory size, memory kind, power and partition words dropped ("NVIDIA H100-SXM-80GB",
"AMD Instinct MI300X-NPS1-SPX-192GB-750W"). Words that name another part (PCIe, NVL) are kept, so
a variant the catalog lacks is unknown rather than read as its SXM sibling, and a GPU that joins
two chips ("MI300X + MI325X") raises MixedChipsError instead of taking the first. A model name:
an id, display name or alias, without a Hugging Face organisation and without trailing
Instruct/precision words. None when the name is unknown.
"""

from __future__ import annotations

from chip2chat.catalog import find_entry
from chip2chat.errors import NotFoundError
from chip2chat.hardware.load import CATALOG_FILE as HARDWARE_FILE
from chip2chat.models.load import INDEX as MODEL_INDEX


def match_model(name: str) -> str | None:
    try:
        return find_entry("model", MODEL_INDEX, name)[0]
    except NotFoundError:
        return None


def match_hardware(name: str) -> str | None:
    """The accelerator id, None when unknown; MixedChipsError (one line naming the chips) when the
    name joins different chips."""
    try:
        return find_entry("hardware", HARDWARE_FILE, name)[0]
    except NotFoundError:
        return None
