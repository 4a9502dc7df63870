"""Calibration profile: how close a chip gets to its peaks, by operator shape.

The cost model multiplies peak FLOP/s and bandwidth by these efficiencies. A chip names its
profile in its own `calibration` field (a profile of catalog/calibration/, 'default' for DEFAULT,
whose values are documented below, or a profile YAML), so the chip carries its calibration to
every caller. Profiles are fitted from microbenchmarks (calibration data), never from the
end-to-end validation rows.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import StrictModel, validated
from chip2chat.userfiles import read_mapping


_DEFAULT_GEMM = {"bf16": 0.75, "fp8": 0.70, "fp4": 0.65}
ROOFLINE_FIT = CATALOG_DIR / "calibration" / "measurements" / "roofline_fit.csv"

KV_READ_RATIO = 1.4 / 2.8  # paged KV-cache reads over coalesced loads, H100 (see kv_memory_efficiency)


class CalibrationProfile(StrictModel):
    """Efficiencies of one chip. Every field has a documented default; in a profile without kernel
    tables the roofline fields it does not set take the measured chips' fit instead (see
    _unmeasured_defaults)."""

    name: str = "default"
    gemm_efficiency: dict[str, float] = Field(default_factory=lambda: dict(_DEFAULT_GEMM))
    """Best achievable dense-GEMM fraction of peak per compute dtype, for large well-shaped GEMMs.
    Default: the median of the maximum-achievable-matmul-FLOPS (MAMF) over peak of the chips in
    shared/facts/microbench.csv (H100/H200/B200/GB200: 0.73-0.80 bf16, 0.71-0.76 fp8)."""
    tile_m: int = Field(default=64, ge=1)
    """Rows of one GEMM tile along the token dimension (Hopper wgmma M = 64)."""
    tile_n: int = Field(default=128, ge=1)
    """Columns of one GEMM tile along the output-feature dimension."""
    split_k: bool = True
    """Whether skinny GEMMs with fewer tiles than cores are split along K to fill the chip."""
    num_cores: int = Field(default=132, ge=1)
    """Parallel compute units for wave quantization (H100 SXM: 132 SMs); a chip's own num_cores wins."""
    attention_efficiency: float = Field(default=0.55, gt=0, le=1)
    """Fraction of bf16 peak reached by prefill attention kernels (FlashAttention-3 reports
    ~ 0.6-0.75 of H100 peak in bf16 for long sequences; shorter ones reach less)."""
    memory_efficiency: float = Field(default=0.85, gt=0, le=1)
    """Achievable fraction of peak memory bandwidth for large streaming reads (H100 ~0.9 on
    STREAM-like copies, MI350X TransferBench 7.2 of 8 TB/s = 0.9; kernels in practice a bit less)."""
    kv_memory_efficiency: float | None = Field(default=None, gt=0, le=1)
    """Achievable fraction of peak bandwidth when attention reads the paged KV cache (irregular,
    batch x head x block accesses). None: memory_efficiency x KV_READ_RATIO, the one measured ratio
    (H100: paged KV-cache reads 1.4 TB/s vs coalesced matrix loads 2.8 TB/s in the same inference
    workload, shared/facts/microbench.csv)."""

    def kv_read_efficiency(self) -> float:
        return self.kv_memory_efficiency or self.memory_efficiency * KV_READ_RATIO
    launch_overhead_s: float = Field(default=2e-6, ge=0)
    """Fixed cost per kernel (launch gap and tail) with CUDA graphs."""
    gemm_ridge_exponent: float | None = Field(default=None, gt=1)
    """How a GEMM near its ridge point falls short of the roofline: time = (compute^n + memory^n)^(1/n)
    (a kernel does not overlap its loads and its math perfectly; 2^(1/n) slower where the two are
    equal), fitted with the tile model to GEMM shape sweeps. None: max(compute, memory)."""
    gemm_fixed_s: float = Field(default=0.0, ge=0)
    """Extra fixed cost of every GEMM kernel (prologue, pipeline fill, epilogue), fitted from GEMM
    shape sweeps; 0 where none was measured."""
    step_overhead_s: float = Field(default=1e-4, ge=0)
    """Fixed cost per engine step outside the kernels (sampling, scheduling, input preparation)."""
    collective_efficiency: float = Field(default=0.80, gt=0, le=1.2)
    """Large-message bus bandwidth over the per-direction link peak (8x H200 ring all-reduce:
    367 of 450 GB/s = 0.82, shared/facts/microbench.csv)."""
    collective_latency_s: float = Field(default=8e-6, ge=0)
    """Latency of one small collective inside a scale-up domain (one-shot custom all-reduce)."""
    static_power_fraction: float = Field(default=0.30, ge=0, lt=1)
    """Share of TDP drawn whatever the load (leakage, fans excluded, HBM refresh, idle clocks)."""
    kernel_tables: str | None = None
    """The chip whose measured kernel tables (catalog/kernels/, hardware/kernels.py) time this
    chip's GEMMs, attention, MoE layers and all-reduces under the measured fidelity: a chip id of
    `kernels.chips_with_tables()`, the same silicon's for a card of another form factor (an H200
    NVL names h200-sxm; the efficiencies apply to the card's own peaks). None: no chip of this
    silicon was measured, and every operator comes from the analytic roofline."""
    sources: list[str] = []
    """Measurements the profile was fitted to."""

    @model_validator(mode="after")
    def _unmeasured_defaults(self) -> "CalibrationProfile":
        """A chip without measured kernel tables takes, for each roofline field its profile does not
        set, the median fit of the measured chips' roofline to their own kernel tables
        (fitted_roofline(); calibrate/roofline_fit.py), not the field's nominal default: a custom
        design or an MI300X is then neither more nor less optimistic than the measured chips are."""
        if self.kernel_tables is None:
            for name, value in fitted_roofline().items():
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, value)
        return self

    @field_validator("kernel_tables")
    @classmethod
    def _measured_chip(cls, value: str | None) -> str | None:
        from chip2chat.hardware.kernels import chips_with_tables

        if value is not None and value not in chips_with_tables():
            raise ValueError(f"{value!r} has no measured kernel tables; measured: {', '.join(chips_with_tables())}")
        return value

    def gemm_peak_efficiency(self, dtype: str) -> float:
        """Measured efficiency for the dtype; else the chip's bf16 one scaled by the default ratio
        (e.g. an unmeasured fp4 = bf16 x 0.65 / 0.75), so a slow chip stays slow in every dtype."""
        if dtype in self.gemm_efficiency:
            return self.gemm_efficiency[dtype]
        ratio = _DEFAULT_GEMM.get(dtype, _DEFAULT_GEMM["bf16"]) / _DEFAULT_GEMM["bf16"]
        return self.gemm_efficiency.get("bf16", _DEFAULT_GEMM["bf16"]) * ratio


@lru_cache(maxsize=None)
def fitted_roofline() -> dict[str, float]:
    """The median row of catalog/calibration/measurements/roofline_fit.csv, written by
    `chip2chat calibrate --fit-roofline`: the roofline fields of chips without measured kernels."""
    import csv

    if not ROOFLINE_FIT.is_file():  # only while `calibrate --fit-roofline` writes it the first time
        return {}
    with open(ROOFLINE_FIT, newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["chip"] == "median")
    return {k: float(v) for k, v in row.items() if k.endswith(("_efficiency", "_s")) and v}


DEFAULT = CalibrationProfile()
PROFILE_DIR = CATALOG_DIR / "calibration"


def load_profile_file(path: str | Path) -> CalibrationProfile:
    """A profile YAML as `chip2chat calibrate` writes it; an empty file means the documented defaults."""
    return validated(CalibrationProfile, read_mapping(path, "a calibration profile", allow_empty=True), str(path))


@lru_cache(maxsize=None)
def engine_calibration() -> dict:
    """catalog/calibration/engines.yaml: serving-engine measurements (host time per sequence,
    expert load spread), read once."""
    return read_mapping(PROFILE_DIR / "engines.yaml", "serving-engine calibration")


def profile_names() -> list[str]:
    """Names of the shipped profiles (catalog/calibration/<name>.yaml), 'default' first."""
    return ["default", *sorted(p.stem for p in PROFILE_DIR.glob("*.yaml") if p.stem != "engines")]


def check_profile_name(name: str) -> str:
    """`name` if it names a profile (shipped, 'default', or an existing profile YAML), else a
    ValueError listing what is allowed (for the `calibration` field of a chip)."""
    names = profile_names()
    if name in names or (name.endswith((".yaml", ".yml")) and Path(name).is_file()):
        return name
    raise ValueError(f"{name!r} is not a calibration profile; allowed: {', '.join(names)}, "
                     f"or the path of a profile YAML written by `chip2chat calibrate`")


@lru_cache(maxsize=None)
def load_profile(name: str) -> CalibrationProfile:
    """The profile a chip's `calibration` field names: 'default' (DEFAULT), a shipped profile, or a
    path to a profile YAML."""
    if name == "default":
        return DEFAULT
    shipped = PROFILE_DIR / f"{name}.yaml"
    return load_profile_file(shipped if name in profile_names() else name)
