"""How long a step takes on its chips and what they draw: the TDP cap, static power, host time.

A step's operators give its time and dynamic energy (Replica.step_cost, step_total, fast_step).
A chip cannot draw more than its TDP for long: a step whose average power would exceed it runs
throttled, i.e. takes dynamic energy / (TDP - static power) instead. Static power is drawn for the
whole step. The host (scheduling, bookkeeping per sequence) works beside the chips; when it is
slower, the step waits for it. A chip whose TDP is unpublished is not capped and reports 0 J.

Every function works on floats (one chip) and on numpy arrays (a Device of many chips) alike.
"""

from __future__ import annotations

from chip2chat.costs.device import Device


def throttle(seconds, dynamic_j, dev: Device):
    """(seconds, dynamic joules) of a step under the chip's TDP cap; 0 J where the TDP is unknown."""
    if dev.tdp_w is None:
        return seconds, 0.0
    return dev.maximum(seconds, dynamic_j / (dev.tdp_w - dev.static_w)), dynamic_j


def static_power_w(dev: Device):
    """Power a chip draws whatever it does (0 where its TDP is unknown, as its energy is not given)."""
    return 0.0 if dev.tdp_w is None else dev.static_w


def timed(seconds, dynamic_j, dev: Device, host_s=0.0):
    """(seconds, joules) of a whole step: the chips' time under the TDP cap or the host's `host_s`,
    the longer, and the dynamic energy plus static power over that time."""
    seconds, dynamic_j = throttle(seconds, dynamic_j, dev)
    seconds = dev.maximum(seconds, host_s)
    return seconds, dynamic_j + static_power_w(dev) * seconds
