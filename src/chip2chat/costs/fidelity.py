"""Fidelities: the ways an operator's time can be worked out, named in one plain dict.

A Device names its fidelity (Device(..., fidelity="roofline")) and keeps the chosen Fidelity as
`dev.times`; an operator's `fidelity=` argument overrides it for one call (costs/operators.py).
Only the analytic "roofline" (costs/roofline.py) exists now. A measured-kernel fidelity (kernel
tables per chip, engine and dtype) is another Fidelity of the same four functions, added here.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from chip2chat.costs import roofline


class Fidelity(NamedTuple):
    """How long one call of each kind of operator takes on a Device, launch overhead excluded.

    gemm(m, n, k, groups, flops, nbytes, dtype, dev) -> (seconds, compute-bound)
    attention(flops, nbytes, dev) -> (seconds, compute-bound)
    (compute-bound: a bool for a Device of one chip; False for a Device of arrays, whose steps
    keep totals only)
    elementwise(nbytes, dev) -> seconds
    collective(kind, nbytes, ranks, dev) -> seconds  (ranks > 1, or a send)
    """

    gemm: Callable
    attention: Callable
    elementwise: Callable
    collective: Callable


FIDELITIES: dict[str, Fidelity] = {
    "roofline": Fidelity(roofline.gemm, roofline.attention, roofline.elementwise, roofline.collective),
}


def fidelity(name: str) -> Fidelity:
    """The fidelity called `name`; a one-line error listing the known ones otherwise."""
    try:
        return FIDELITIES[name]
    except KeyError:
        raise ValueError(f"unknown cost fidelity {name!r}; known: {', '.join(FIDELITIES)}") from None
