"""A chip that may not exist yet, as a user describes it (YAML), validated field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from chip2chat.catalog import read_yaml
from chip2chat.errors import StrictModel, validated
from chip2chat.userfiles import read_mapping
from chip2chat.hardware.spec import COMPUTE_DTYPES, Bandwidth, FlopRate, SramBytes, Watts
from chip2chat.units import quantity

Hertz = Annotated[float, quantity("Hz", 1e7, 1e11), Field(gt=0)]
"""A clock: 10 MHz to 100 GHz."""
PinRate = Annotated[float, quantity("B/s", 1e7, 1e11), Field(gt=0)]
"""Data rate of one pin ('9.6 Gb/s' = 1.2 GB/s)."""


def hbm_entries() -> dict[tuple[str, int], dict]:
    """(generation, stack height) -> memory catalog entry."""
    return {(e["generation"].upper(), int(e["stack_height"])): e for e in read_yaml("memory.yaml").values()}


class HbmConfig(StrictModel):
    generation: str
    """HBM generation from the memory catalog (HBM2, HBM2E, HBM3, HBM3E, HBM4)."""
    stack_height: int = Field(ge=1, le=32)
    """Dies per stack (8, 12, 16): with the generation, picks the memory catalog entry."""
    stacks: int = Field(ge=1, le=64)
    """Stacks on the package."""
    sites: int | None = Field(default=None, ge=1, le=64)
    """PHY sites on the dies, when more than the stacks fitted (GH100 has 6 sites for H100's 5)."""
    pin_rate_bytes_per_s: PinRate | None = Field(default=None, alias="pin_rate")
    """Data rate per pin if not the catalog entry's ('9.6 Gb/s', kept in bytes/s per pin)."""

    @field_validator("generation")
    @classmethod
    def _known(cls, v: str) -> str:
        gens = sorted({g for g, _ in hbm_entries()})
        if v.upper() not in gens:
            raise ValueError(f"unknown HBM generation {v!r}; allowed: {', '.join(gens)}")
        return v.upper()


class ScaleUp(StrictModel):
    bandwidth_bytes_per_s: Bandwidth = Field(alias="bandwidth")
    """Total bidirectional scale-up bandwidth per chip."""
    domain: int = Field(default=8, ge=1, le=100_000)
    """Chips in one scale-up domain."""


class ChipDesign(StrictModel):
    """A custom accelerator: process, compute, SRAM, HBM, links, power."""

    name: str
    process_node: str
    """A node of catalog/silicon.yaml (N7, N5, N4, N3, N2)."""
    compute_dies: int = Field(default=1, ge=1, le=64)
    """Compute dies on the package (a design beyond the reticle limit needs several)."""
    peak_flops: dict[str, FlopRate]
    """Dense peak FLOP/s per dtype; bf16 sizes the tensor units."""
    clock_hz: Hertz = Field(default=1.8e9, alias="clock")
    """Tensor clock; the catalog's tensor area per TFLOP/s is counted at 1.8 GHz."""
    sram_bytes: SramBytes = Field(alias="sram")
    """On-chip SRAM in total (caches and shared memory)."""
    hbm: HbmConfig
    scale_up: ScaleUp
    tdp_w: Watts = Field(alias="tdp")
    """Board power limit."""
    package: Literal["auto", "cowos-s", "cowos-l"] = "auto"
    """Interposer technology; auto picks the smallest that holds the dies and stacks."""
    chip: str | None = None
    """The catalog accelerator this design models (e.g. h100-sxm), to check the silicon model on a
    real chip: its published dense peak FLOP/s, TDP and scale-up link (accelerators.yaml, the one
    home of chip facts) fill those fields when the design leaves them out."""
    calibration: str = "default"
    """Calibration profile the design is costed with: 'default' (the documented efficiencies for a
    chip nobody has measured), a shipped profile whose kernels it is expected to match (e.g. b200),
    or a profile YAML; the results say which."""
    overrides: dict[str, str | float | int] = {}
    """Silicon catalog coefficients to replace, by dotted path (e.g. process_nodes.N3.wafer_price)."""

    @field_validator("peak_flops")
    @classmethod
    def _dtypes(cls, v: dict) -> dict:
        bad = [d for d in v if d not in COMPUTE_DTYPES]
        if bad:
            raise ValueError(f"unknown dtype {bad[0]!r}; allowed: {', '.join(COMPUTE_DTYPES)}")
        if "bf16" not in v:
            raise ValueError("needs a bf16 figure (it sizes the tensor units)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _facts_of_the_chip(cls, data):
        if not isinstance(data, dict) or not data.get("chip"):
            return data
        from chip2chat.catalog import find_entry

        _, entry = find_entry("hardware", "accelerators.yaml", str(data["chip"]))
        facts = {"peak_flops": entry.get("peak_flops"), "tdp": entry.get("tdp"),
                 "scale_up": {k: entry["scale_up"][k] for k in ("bandwidth", "domain") if k in entry.get("scale_up", {})}}
        return {**{k: v for k, v in facts.items() if v}, **data}

    @field_validator("calibration")
    @classmethod
    def _profile(cls, v: str) -> str:
        from chip2chat.hardware.calibration import check_profile_name

        return check_profile_name(v)

    @field_validator("process_node")
    @classmethod
    def _node(cls, v: str) -> str:
        nodes = list(read_yaml("silicon.yaml")["process_nodes"])
        if v.upper() not in nodes:
            raise ValueError(f"unknown process node {v!r}; allowed: {', '.join(nodes)}")
        return v.upper()


def load_design(path: str | Path) -> ChipDesign:
    return design_from_dict(read_mapping(path, "one chip design"), str(path))


def design_from_dict(raw: dict, source: str = "design") -> ChipDesign:
    return validated(ChipDesign, raw, source)
