"""Accelerator specs: compute + memory + interconnect, built by composition, in SI units.

Catalog YAML uses human units ('4.8 TB/s'); they are converted here once, at load, and
validated by pydantic. Inside the code: FLOP/s, bytes, bytes/s, watts, seconds.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from chip2chat.units import UnitError, parse_quantity


def _quantity(expect: str):
    def parse(value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse_quantity(value, expect)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return BeforeValidator(parse)


Bandwidth = Annotated[float, _quantity("B/s"), Field(gt=0)]
Bytes = Annotated[float, _quantity("B"), Field(gt=0)]
FlopRate = Annotated[float, _quantity("FLOP/s"), Field(gt=0)]
Watts = Annotated[float, _quantity("W"), Field(gt=0)]
Seconds = Annotated[float, _quantity("s"), Field(ge=0)]
Area = Annotated[float, _quantity("m2"), Field(gt=0)]

COMPUTE_DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4")
MEMORY_KINDS = ("HBM", "HBM2", "HBM2E", "HBM3", "HBM3E", "HBM4", "HBM4E", "GDDR6", "GDDR7", "LPDDR5", "LPDDR5X")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Memory(_Strict):
    """Off-chip memory of one chip."""

    generation: str
    """Memory technology, one of HBM2, HBM2E, HBM3, HBM3E, HBM4, HBM4E, GDDR6, GDDR7, LPDDR5(X)."""
    capacity_bytes: Bytes = Field(alias="capacity")
    """Total capacity as the vendor quotes it (decimal GB unless written GiB)."""
    bandwidth_bytes_per_s: Bandwidth = Field(alias="bandwidth")
    """Peak bandwidth as the vendor quotes it."""
    stacks: int | None = Field(default=None, ge=1)
    """HBM stacks on the package (None for GDDR/LPDDR)."""
    energy_per_bit_j: Annotated[float | None, _quantity("J")] = Field(default=None, alias="energy_per_bit")
    """Access energy per bit; None: taken from the memory catalog for the generation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("generation")
    @classmethod
    def _known_generation(cls, v: str) -> str:
        up = v.upper().replace("-", "")
        if up not in MEMORY_KINDS:
            raise ValueError(f"{v!r} is not one of {', '.join(MEMORY_KINDS)}")
        return up


class Interconnect(_Strict):
    """Scale-up link of one chip (NVLink, Infinity Fabric, ICI, ...)."""

    bandwidth_bytes_per_s: Bandwidth = Field(alias="bandwidth")
    """Total bidirectional bandwidth per chip as vendors quote it; each direction gets half."""
    domain: int = Field(default=8, ge=1)
    """Chips in one scale-up domain (8 on an HGX board, 72 in an NVL72 rack)."""
    link: str = ""
    """Name of the link technology, for display."""
    latency_s: Seconds | None = Field(default=None, alias="latency")
    """Per-collective latency; None: the calibration profile's value."""
    scale_out_bandwidth_bytes_per_s: Bandwidth = Field(default=50e9, alias="scale_out_bandwidth")
    """Per-chip bandwidth beyond the domain, each direction (default one 400 Gb/s NIC per chip)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def bandwidth_per_direction(self) -> float:
        return self.bandwidth_bytes_per_s / 2


class Accelerator(_Strict):
    """One chip: its compute, memory, scale-up link, power and silicon facts."""

    name: str
    """Display name."""
    vendor: str = ""
    aliases: list[str] = []
    """Other names people write for it (matched forgivingly)."""
    launch_year: int | None = Field(default=None, ge=2000, le=2100)
    process_node: str = ""
    compute_dies: int = Field(default=1, ge=1)
    die_area_m2: Area | None = Field(default=None, alias="die_area")
    """Area of one compute die."""
    peak_flops: dict[str, FlopRate]
    """Dense peak FLOP/s per compute dtype (no 2:4 sparsity)."""
    memory: Memory
    sram_bytes: Bytes | None = Field(default=None, alias="sram")
    """Largest on-chip SRAM cache (L2, Infinity Cache)."""
    scale_up: Interconnect
    tdp_w: Watts | None = Field(default=None, alias="tdp")
    """Board power limit; None where unpublished (power results are then not given)."""
    energy_per_flop_j: dict[str, Annotated[float, _quantity("J"), Field(gt=0)]] | None = Field(
        default=None, alias="energy_per_flop")
    """Dynamic energy per dense FLOP by dtype (a silicon model's node figure); None: derived from
    the TDP (the best GEMM draws the TDP)."""
    static_power_w: Annotated[float | None, _quantity("W")] = Field(default=None, alias="static_power")
    """Power drawn whatever the load; None: the calibration profile's share of the TDP."""
    num_cores: int | None = Field(default=None, ge=1)
    """Streaming multiprocessors / compute units, for wave quantization; None: profile default."""
    sources: list[str] = Field(min_length=1)
    """Where each figure comes from."""
    notes: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("peak_flops")
    @classmethod
    def _dtypes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k not in COMPUTE_DTYPES]
        if bad:
            raise ValueError(f"unknown dtype {bad[0]!r}; allowed: {', '.join(COMPUTE_DTYPES)}")
        if "bf16" not in v and "fp16" not in v:
            raise ValueError("needs at least a bf16 (or fp16) figure")
        return v

    def flops_for(self, dtype: str) -> tuple[float, str]:
        """Peak FLOP/s for a compute dtype, falling back to the nearest wider one the chip has.

        Returns (FLOP/s, dtype actually used): a chip without FP4 runs FP4 weights at its FP8
        rate (or bf16), as the engines dequantize on the fly.
        """
        order = {"fp4": ("fp4", "fp8", "bf16", "fp16"), "int4": ("bf16", "fp16"),
                 "fp8": ("fp8", "bf16", "fp16"), "int8": ("int8", "fp8", "bf16", "fp16"),
                 "bf16": ("bf16", "fp16"), "fp16": ("fp16", "bf16")}.get(dtype, ("bf16", "fp16"))
        for d in order:
            if d in self.peak_flops:
                return self.peak_flops[d], d
        raise KeyError(dtype)
