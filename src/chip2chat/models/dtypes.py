"""Bytes per element of each storage dtype.

Block-scaled 4-bit formats carry a scale per block: MXFP4 stores one 8-bit scale per 32 values
(4.25 bits per value, OCP Microscaling spec v1.0); int4 weight-only quantization (AWQ/GPTQ,
group size 128) stores a 16-bit scale and a 16-bit zero per 128 values (4.25 bits). FP8 uses
per-tensor or per-channel scales whose size is negligible.
"""

from __future__ import annotations

from chip2chat.errors import Chip2ChatError

BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 4.25 / 8,
    "int4": 4.25 / 8,
}
# Which tensor-core rate a weight dtype runs at when the chip supports it (W8A8, W4A4).
# int4 is weight-only (dequantized to bf16 before the matmul, as AWQ/GPTQ kernels do).
COMPUTE_DTYPE: dict[str, str] = {"fp32": "bf16", "bf16": "bf16", "fp16": "bf16", "fp8": "fp8",
                                 "int8": "int8", "fp4": "fp4", "int4": "bf16"}
WEIGHT_DTYPES = tuple(BYTES_PER_ELEMENT)
KV_DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "fp4")


def dtype_bytes(dtype: str, what: str = "dtype") -> float:
    try:
        return BYTES_PER_ELEMENT[dtype.lower()]
    except KeyError:
        raise Chip2ChatError(f"{what} {dtype!r} is not one of {', '.join(BYTES_PER_ELEMENT)}") from None
