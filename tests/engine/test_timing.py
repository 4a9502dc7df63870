"""Step timing (engine/timing.py): the TDP cap, static power and host time, by hand, on one chip
and on a Device of many chips alike."""

import numpy as np
import pytest

from chip2chat.costs.device import Device
from chip2chat.engine.timing import static_power_w, throttle, timed
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.load import load_hardware

H100 = load_hardware("h100")[1]  # 700 W TDP
PROFILE = CalibrationProfile(static_power_fraction=0.3)  # 210 W static, 490 W for dynamic work
DEV = Device(H100, PROFILE)


def test_a_step_drawing_more_than_the_tdp_takes_its_energy_over_the_dynamic_power():
    # 1 ms of work needing 0.98 J of dynamic energy: at most 490 W of dynamic power, so 2 ms
    assert DEV.static_w == pytest.approx(210.0)
    seconds, dynamic = throttle(1e-3, 0.98, DEV)
    assert seconds == pytest.approx(2e-3) and dynamic == 0.98
    seconds, joules = timed(1e-3, 0.98, DEV)
    assert seconds == pytest.approx(2e-3) and joules == pytest.approx(0.98 + 210.0 * 2e-3)


def test_a_step_within_the_tdp_keeps_its_time():
    # 0.49 J over 2 ms is 245 W of dynamic power, well under 490 W
    assert throttle(2e-3, 0.49, DEV) == (2e-3, 0.49)
    assert timed(2e-3, 0.49, DEV)[1] == pytest.approx(0.49 + 210.0 * 2e-3)


def test_a_slower_host_sets_the_step_time_and_static_power_runs_through_it():
    seconds, joules = timed(1e-3, 0.1, DEV, host_s=5e-3)
    assert seconds == 5e-3 and joules == pytest.approx(0.1 + 210.0 * 5e-3)


def test_a_chip_without_a_published_tdp_is_not_capped_and_reports_no_energy():
    dev = Device(H100.model_copy(update={"tdp_w": None}), PROFILE)
    assert throttle(1e-3, 50.0, dev) == (1e-3, 0.0)
    assert timed(1e-3, 50.0, dev) == (1e-3, 0.0) and static_power_w(dev) == 0.0


def test_the_same_functions_cap_every_chip_of_an_array_device():
    # three chips of 400, 700 and 1500 W (static 30% each): 0.98 J over 1 ms caps the first two
    many = Device(H100, PROFILE, tdp_w=np.array([400.0, 700.0, 1500.0]))
    seconds, joules = timed(1e-3, 0.98, many)
    for i, tdp in enumerate((400.0, 700.0, 1500.0)):
        one = Device(H100.model_copy(update={"tdp_w": tdp}), PROFILE)
        assert (seconds[i], joules[i]) == pytest.approx(timed(1e-3, 0.98, one), rel=1e-12)
    assert seconds[2] == 1e-3 and seconds[0] == pytest.approx(0.98 / 280.0)


def test_array_tdp_must_be_positive():
    with pytest.raises(ValueError, match="tdp_w must be positive"):
        Device(H100, PROFILE, tdp_w=np.array([700.0, 0.0]))
