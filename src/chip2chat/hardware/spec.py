"""Accelerator specs: compute + memory + interconnect, built by composition, in SI units.

Catalog YAML uses human units ('4.8 TB/s'); they are converted here once, at load, and
validated by pydantic. Inside the code: FLOP/s, bytes, bytes/s, watts, seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from chip2chat.errors import StrictModel

from chip2chat.units import quantity


# Dimensioned fields: a unit is required, and each value must lie in a range no real accelerator
# leaves (so `bandwidth: 3.35` or `sram: 128` is an error, not 3.35 B/s or 128 bytes).
Bandwidth = Annotated[float, quantity("B/s", 1e8, 1e15), Field(gt=0)]
"""Memory or link bandwidth: 0.1 GB/s to 1 PB/s."""
Bytes = Annotated[float, quantity("B", 1e6, 1e14), Field(gt=0)]
"""Memory capacity: 1 MB to 100 TB."""
SramBytes = Annotated[float, quantity("B", 1e4, 1e12), Field(gt=0)]
"""On-chip SRAM: 10 kB to 1 TB (a wafer-scale engine has 44 GB)."""
FlopRate = Annotated[float, quantity("FLOP/s", 1e10, 1e19), Field(gt=0)]
"""Peak compute: 10 GFLOP/s to 10 EFLOP/s."""
Watts = Annotated[float, quantity("W", 1.0, 1e5), Field(gt=0)]
"""Board or package power: 1 W to 100 kW."""
Seconds = Annotated[float, quantity("s", 0.0, 1e-2), Field(ge=0)]
"""A link's per-collective latency: 0 to 10 ms."""
Area = Annotated[float, quantity("m2", 1e-6, 0.1), Field(gt=0)]
"""Die area: 1 mm2 to 0.1 m2 (a wafer)."""
EnergyPerOp = Annotated[float, quantity("J", 1e-16, 1e-9), Field(gt=0)]
"""Energy per FLOP or per bit: 0.1 fJ to 1 nJ."""


COMPUTE_DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4")
MEMORY_KINDS = ("HBM", "HBM2", "HBM2E", "HBM3", "HBM3E", "HBM4", "HBM4E", "GDDR6", "GDDR7", "LPDDR5", "LPDDR5X")


class _Strict(StrictModel):
    pass


class Memory(_Strict):
    """Off-chip memory of one chip."""

    generation: str
    """Memory technology, one of HBM2, HBM2E, HBM3, HBM3E, HBM4, HBM4E, GDDR6, GDDR7, LPDDR5(X)."""
    capacity_bytes: Bytes = Field(alias="capacity")
    """Total capacity as the vendor quotes it (decimal GB unless written GiB)."""
    bandwidth_bytes_per_s: Bandwidth = Field(alias="bandwidth")
    """Peak bandwidth as the vendor quotes it."""
    stacks: int | None = Field(default=None, ge=1, le=64)
    """HBM stacks on the package (None for GDDR/LPDDR)."""
    energy_per_bit_j: EnergyPerOp | None = Field(default=None, alias="energy_per_bit")
    """Access energy per bit; None: taken from the memory catalog for the generation."""

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
    domain: int = Field(default=8, ge=1, le=100_000)
    """Chips in one scale-up domain (8 on an HGX board, 72 in an NVL72 rack)."""
    link: str = ""
    """Name of the link technology, for display."""
    latency_s: Seconds | None = Field(default=None, alias="latency")
    """Per-collective latency; None: the calibration profile's value."""
    scale_out_bandwidth_bytes_per_s: Bandwidth = Field(default=50e9, alias="scale_out_bandwidth")
    """Per-chip bandwidth beyond the domain, each direction (default one 400 Gb/s NIC per chip)."""

    @property
    def bandwidth_per_direction(self) -> float:
        return self.bandwidth_bytes_per_s / 2


Money = Annotated[float, quantity("USD", 1.0, 1e8), Field(gt=0)]
"""A unit price: $1 to $100M, written with its currency ('30000 USD')."""


class Price(_Strict):
    """What one accelerator costs its buyer, with where the figure comes from."""

    usd: Money = Field(alias="value")
    kind: Literal["list", "street", "estimate"]
    """list: the vendor's published price; street: what buyers report paying; estimate: an
    analyst's or this catalog's reconstruction (no public price)."""
    date: str = Field(pattern=r"^\d{4}(-\d{2})?$")
    """When the price held: YYYY or YYYY-MM."""
    source: str = Field(min_length=1)


class Accelerator(_Strict):
    """One chip: its compute, memory, scale-up link, power and silicon facts."""

    name: str
    """Display name."""
    vendor: str = ""
    aliases: list[str] = []
    """Other names people write for it (matched forgivingly)."""
    launch_year: int | None = Field(default=None, ge=2000, le=2100)
    process_node: str = ""
    compute_dies: int = Field(default=1, ge=1, le=64)
    die_area_m2: Area | None = Field(default=None, alias="die_area")
    """Area of one compute die."""
    peak_flops: dict[str, FlopRate]
    """Dense peak FLOP/s per compute dtype (no 2:4 sparsity)."""
    memory: Memory
    sram_bytes: SramBytes | None = Field(default=None, alias="sram")
    """Largest on-chip SRAM cache (L2, Infinity Cache)."""
    scale_up: Interconnect
    tdp_w: Watts | None = Field(default=None, alias="tdp")
    """Board power limit; None where unpublished (power results are then not given)."""
    power_cap_w: Watts | None = Field(default=None, alias="power_cap")
    """A power limit the operator sets below the TDP (`nvidia-smi -pl`); None: the TDP. A step
    that would draw more runs at a lower clock (engine/timing.py; energy/power_cap.py)."""
    dvfs_exponent: float = Field(default=2.0, ge=1.0, le=3.0)
    """Dynamic power ~ clock ** exponent under a power cap (f x V^2, the voltage falling with the
    clock): 1 keeps the energy per operation (time stretches only), 3 is V ~ f. Default 2.0, a
    documented model for chips nobody measured; catalog/energy/power_caps.yaml has fitted values."""
    energy_per_flop_j: dict[str, EnergyPerOp] | None = Field(
        default=None, alias="energy_per_flop")
    """Dynamic energy per dense FLOP by dtype (a silicon model's node figure); None: derived from
    the TDP (the best GEMM draws the TDP)."""
    static_power_w: Annotated[float, quantity("W", 0.0, 1e5), Field(ge=0)] | None = Field(
        default=None, alias="static_power")
    """Power drawn whatever the load; None: the calibration profile's share of the TDP."""
    num_cores: int | None = Field(default=None, ge=1)
    """Streaming multiprocessors / compute units, for wave quantization; None: profile default."""
    calibration: str = "default"
    """The calibration profile that sets this chip's achievable efficiencies: the name of a profile
    in catalog/calibration/ (e.g. h200-sxm), 'default' (documented defaults, for a chip nobody has
    measured), or the path of a profile YAML written by `chip2chat calibrate`."""
    price: Price | None = None
    """What one costs to buy, with its kind, date and source; None where no figure is known (a
    plan's option must then give unit_price_usd)."""
    sources: list[str] = Field(min_length=1)
    """Where each figure comes from."""
    notes: str = ""

    @field_validator("peak_flops")
    @classmethod
    def _dtypes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k not in COMPUTE_DTYPES]
        if bad:
            raise ValueError(f"unknown dtype {bad[0]!r}; allowed: {', '.join(COMPUTE_DTYPES)}")
        if "bf16" not in v and "fp16" not in v:
            raise ValueError("needs at least a bf16 (or fp16) figure")
        return v

    @field_validator("calibration")
    @classmethod
    def _known_profile(cls, v: str) -> str:
        from chip2chat.hardware.calibration import check_profile_name

        return check_profile_name(v)

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
