"""Memory catalog (HBM per stack, GDDR, LPDDR): energy per bit and per-stack figures."""

from __future__ import annotations

from functools import lru_cache

from chip2chat.catalog import read_yaml
from chip2chat.units import parse_quantity

CATALOG_FILE = "memory.yaml"

# Used when neither the chip nor the memory catalog gives an energy per bit for a technology.
# GDDR6 ~7.5 pJ/bit, LPDDR5 ~4 pJ/bit: typical figures of Micron's and Samsung's datasheets
# as summarised in O'Connor et al., "Fine-Grained DRAM", MICRO 2017, Table 1 (HBM2 3.9 pJ/bit).
FALLBACK_PJ_PER_BIT = {"HBM": 3.9, "HBM2": 3.9, "HBM2E": 3.9, "HBM3": 3.9, "HBM3E": 3.9, "HBM4": 3.0, "HBM4E": 3.0,
                       "GDDR6": 7.5, "GDDR7": 7.0, "LPDDR5": 4.0, "LPDDR5X": 4.0}


@lru_cache(maxsize=None)
def energy_per_bit_j(generation: str) -> float:
    """Access energy per bit of a memory technology, from the catalog where published."""
    gen = generation.upper()
    for entry in read_yaml(CATALOG_FILE).values():
        if str(entry.get("generation", "")).upper().replace("-", "") == gen and entry.get("energy_per_bit"):
            return parse_quantity(entry["energy_per_bit"], "J")
    return FALLBACK_PJ_PER_BIT.get(gen, 4.0) * 1e-12
