"""How long a step takes on its chips and what they draw: the TDP cap, static power, host time.

A step's operators give its time and dynamic energy (Replica.step_cost, step_total, fast_step).
A chip cannot draw more than its TDP for long: a step whose average power would exceed it runs
throttled, i.e. takes dynamic energy / (TDP - static power) instead. Static power is drawn for the
whole step. An operator's power cap below the TDP (Accelerator.power_cap_w) lowers the clock
instead: a step that would draw more than the cap runs at the clock fraction c where its dynamic
power, falling as c ** dvfs_exponent, fits under the cap - static power; it takes seconds / c and
its dynamic energy becomes dynamic_j x c ** (exponent - 1) (DVFS: the voltage falls with the
clock). A memory-bound step draws less, so a cap above its power leaves it as fast as before;
a compute-bound one slows by about (headroom ratio) ** (1 / exponent) (energy/power_cap.py has
the measurements). The host (scheduling, bookkeeping per sequence) works beside the chips; when it is
slower, the step waits for it. A chip whose TDP is unpublished is not capped and reports 0 J.

Every function works on floats (one chip) and on numpy arrays (a Device of many chips) alike.
"""

from __future__ import annotations

import numpy as np

from chip2chat.costs.device import Device


def throttle(seconds, dynamic_j, dev: Device):
    """(seconds, dynamic joules) of a step under the chip's TDP cap; 0 J where the TDP is unknown."""
    if dev.tdp_w is None:
        return seconds, 0.0
    seconds = dev.maximum(seconds, dynamic_j / (dev.tdp_w - dev.static_w))
    cap = dev.hw.power_cap_w
    if cap is None:
        return seconds, dynamic_j
    return clocked_down(seconds, dynamic_j, cap - dev.static_w, dev.hw.dvfs_exponent)


def clocked_down(seconds, dynamic_j, headroom_w, exponent: float):
    """(seconds, dynamic joules) of a step whose dynamic power may not exceed `headroom_w` (the
    cap minus static power): at clock fraction c = (headroom / power) ** (1 / exponent) it takes
    seconds / c and spends dynamic_j x c ** (exponent - 1). Floats or numpy arrays."""
    if isinstance(seconds, float) and isinstance(dynamic_j, float):
        if dynamic_j <= headroom_w * seconds:
            return seconds, dynamic_j
        clock = (headroom_w * seconds / dynamic_j) ** (1.0 / exponent)
        return seconds / clock, dynamic_j * clock ** (exponent - 1.0)
    power = np.asarray(dynamic_j, dtype=float) / np.maximum(seconds, 1e-300)
    clock = np.minimum(1.0, (headroom_w / np.maximum(power, 1e-300)) ** (1.0 / exponent))
    return seconds / clock, dynamic_j * clock ** (exponent - 1.0)


def static_power_w(dev: Device):
    """Power a chip draws whatever it does (0 where its TDP is unknown, as its energy is not given)."""
    return 0.0 if dev.tdp_w is None else dev.static_w


def timed(seconds, dynamic_j, dev: Device, host_s=0.0):
    """(seconds, joules) of a whole step: the chips' time under the TDP cap or the host's `host_s`,
    the longer, and the dynamic energy plus static power over that time."""
    seconds, dynamic_j = throttle(seconds, dynamic_j, dev)
    seconds = dev.maximum(seconds, host_s)
    return seconds, dynamic_j + static_power_w(dev) * seconds
