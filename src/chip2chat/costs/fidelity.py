"""Fidelities: the ways an operator's time can be worked out, named in one plain dict.

"roofline" (costs/roofline.py): the analytic model, for any chip and for arrays of designs.
"measured" (costs/measured.py): the chip's measured kernel tables under its serving engine
(GEMMs, attention, whole MoE expert layers, all-reduce), the roofline for what they do not cover.
A Device chooses its fidelity when it is made (costs/device.py: measured where its calibration
profile names kernel tables and an engine is given, the roofline otherwise) and keeps it as
`dev.times`; an operator's `fidelity=` argument overrides it for one call (costs/operators.py).

The operators pass each fidelity what the measured tables are looked up by: an attention call's
layer shape (AttentionLayer), its batch and length and whether it decodes; a MoE layer's experts
(MoeLayer) and the tokens entering it. The roofline needs only the FLOP and bytes and ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

from chip2chat.costs import measured, roofline


@dataclass(frozen=True, eq=False, slots=True)
class AttentionLayer:
    """One attention layer on one chip, as a measured kernel is looked up: fixed for the layer.
    (Compared and hashed by identity: the measured fidelity keeps a reader per layer object, found
    in one dict lookup on the simulator's hot path.)"""

    heads: float
    """Query heads on the chip."""
    kv_heads: float
    """KV heads on the chip (replicated when TP exceeds the model's)."""
    head_dim: int
    kv_dtype: str
    """How the KV cache is stored (bf16, fp8, ...)."""
    latent: bool = False
    """MLA's compressed latent cache: no measured table, the roofline times it."""


class MoeLayer(NamedTuple):
    """The routed experts of one MoE layer, as a measured expert-layer kernel is looked up."""

    hidden: int
    inter: int
    """Columns of one expert (before the tp split)."""
    top_k: int
    num_experts: int
    tp: int
    """Chips each expert's columns are split over (the TP group over the EP size)."""
    ep: int
    """Chips the experts are split over."""
    gated: bool
    dtype: str
    """The weights' dtype (a Device.compute_dtype key)."""


class Fidelity(NamedTuple):
    """How long one call of each kind of operator takes on a Device.

    gemm(m, n, k, groups, flops, nbytes, dtype, dev) -> (seconds, compute-bound); `dtype` is the
        weights' dtype (the Device knows the rate it runs at)
    attention(flops, nbytes, dev, layer, batch, length, decode) -> (seconds, compute-bound):
        `batch` sequences on the chip of mean context `length` (decode), or prompts whose (query,
        key) pairs equal `batch` fresh prompts of `length` tokens (prefill); `layer` an
        AttentionLayer, or None where the caller knows no shape (the roofline then)
    elementwise(nbytes, dev) -> seconds
    collective(kind, nbytes, ranks, dev) -> seconds  (ranks > 1, or a send)
    moe(layer, tokens, busiest, dev) -> seconds of a whole MoE expert layer (a MoeLayer) with
        `tokens` entering it, `busiest` the busiest expert-parallel rank's share over the mean, or
        None where it has no table for it; the field is None for a fidelity that never times the
        layer whole (the roofline). Either way the layer is then costed as its kernels
        (operators.moe_experts).
    launch_included: the times include each kernel's launch (measured in CUDA graphs), so the
        step accumulators add none; else they add the profile's launch overhead per call.
    (compute-bound: a bool for a Device of one chip; False for a Device of arrays, whose steps
    keep totals only.)
    """

    gemm: Callable
    attention: Callable
    elementwise: Callable
    collective: Callable
    moe: Callable | None
    launch_included: bool


FIDELITIES: dict[str, Fidelity] = {
    "roofline": Fidelity(roofline.gemm, roofline.attention, roofline.elementwise, roofline.collective, None, False),
    "measured": Fidelity(measured.gemm, measured.attention, measured.elementwise, measured.collective,
                         measured.moe, True),
}


def fidelity(name: str) -> Fidelity:
    """The fidelity called `name`; a one-line error listing the known ones otherwise."""
    try:
        return FIDELITIES[name]
    except KeyError:
        raise ValueError(f"unknown cost fidelity {name!r}; known: {', '.join(FIDELITIES)}") from None
