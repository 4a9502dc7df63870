"""Collectives on the scale-up link (ring algorithm; see roofline.BUS_FACTOR for the bytes each
rank moves). Groups larger than the scale-up domain run at the scale-out bandwidth. Each call adds
a fixed latency. A group of one chip exchanges nothing.
"""

from __future__ import annotations

from chip2chat.costs.device import Device
from chip2chat.costs.fidelity import fidelity as named
from chip2chat.costs.operators import Accumulator
from chip2chat.costs.roofline import BUS_FACTOR


def collective_time(kind: str, nbytes: float, ranks: int, dev: Device, fidelity: str | None = None) -> float:
    """Seconds for one collective of `nbytes` (the full message per rank) over `ranks` chips."""
    if ranks <= 1 and kind != "send":
        return 0.0
    return (named(fidelity) if fidelity else dev.times).collective(kind, nbytes, ranks, dev)


def collective(acc: Accumulator, name: str, kind: str, nbytes: float, ranks: int, dev: Device, count: float = 1.0,
               fidelity: str | None = None) -> None:
    """Add `count` collectives to the step accumulator `acc`, with the energy of the bytes moved."""
    if ranks <= 1 and kind != "send":
        return
    seconds = (named(fidelity) if fidelity else dev.times).collective(kind, nbytes, ranks, dev)
    moved = nbytes * BUS_FACTOR[kind](ranks if ranks > 2 else 2) * count
    acc.add_collective(name, seconds, moved, dev, count, kind, ranks, nbytes)
