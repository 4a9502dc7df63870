"""The roofline of chips without measured kernels, fitted on the measured chips (issue 13)."""

import csv

import numpy as np
import pytest

from chip2chat.calibrate.roofline_fit import FIELDS, ChipFit, fit_chip, medians
from chip2chat.hardware.calibration import DEFAULT, ROOFLINE_FIT, CalibrationProfile, fitted_roofline, load_profile


def _record_rows():
    with open(ROOFLINE_FIT, newline="") as f:
        return list(csv.DictReader(f))


def test_shipped_median_row_is_the_median_of_its_chip_rows():
    # the median of each chip's engines, then over chips: the row the unmeasured chips read must be
    # what the fit rows say, not a number edited by hand
    rows = [r for r in _record_rows() if r["chip"] != "median"]
    fits = [ChipFit(r["chip"], r["engine"], {k: float(r[k]) for k in FIELDS}, int(r["steps"]), 0.0, 0.0)
            for r in rows]
    expected = medians(fits)
    for name, value in fitted_roofline().items():
        assert value == pytest.approx(expected[name], rel=2e-3), name
    assert {r["chip"] for r in rows} >= {"h100-sxm", "h200-sxm", "b200", "gb200", "a100-sxm-80gb", "l40s"}


def test_profiles_without_kernel_tables_take_the_fit_for_what_they_do_not_measure():
    fit = fitted_roofline()
    mi300x = load_profile("mi300x")  # measures its GEMM rate and all-reduce; nothing else
    for name in ("memory_efficiency", "kv_memory_efficiency", "gemm_fixed_s"):
        assert getattr(DEFAULT, name) == fit[name] == getattr(mi300x, name), name
    assert mi300x.gemm_efficiency == {"bf16": 0.511}  # its own microbenchmark stays
    assert mi300x.collective_efficiency == 0.698
    # a field a profile writes wins over the fit, even when it equals the nominal default
    assert CalibrationProfile(memory_efficiency=0.85).memory_efficiency == 0.85


def test_measured_chips_keep_the_nominal_defaults():
    # their operators come from the tables; the fit must not feed back into what it was fitted on
    h200 = load_profile("h200-sxm")
    assert h200.kernel_tables == "h200-sxm"
    assert h200.memory_efficiency == CalibrationProfile.model_fields["memory_efficiency"].default
    assert h200.attention_efficiency == CalibrationProfile.model_fields["attention_efficiency"].default


def test_fitting_a_chip_brings_its_roofline_closer_to_its_kernels():
    # a small grid (decode- and prefill-heavy) keeps the test fast; least squares on the log ratio
    # cannot end worse than where it started in the sum of squares
    grid = [("llama-3.1-8b", 1, "bf16", b, 2000, 500) for b in (1, 64)] + \
           [("llama-3.1-70b", 4, "fp8", b, 1000, 200) for b in (1, 64)]
    fit = fit_chip("b200", "trtllm", grid)
    assert fit.steps == 8
    assert fit.error_after < fit.error_before
    for name, (lower, upper) in FIELDS.items():
        assert lower <= fit.values[name] <= upper


def test_the_fit_never_reads_validation_rows(monkeypatch):
    # calibration and validation never mix: the fit runs with the validation reader broken
    import chip2chat.validate.data as data

    def refuse(*a, **k):
        raise AssertionError("the roofline fit read a validation row")

    for name in dir(data):
        if name.startswith(("load", "read")) and callable(getattr(data, name)):
            monkeypatch.setattr(data, name, refuse)
    fit = fit_chip("h100-sxm", "vllm", [("llama-3.1-8b", 1, "bf16", 16, 1000, 200)])
    assert np.isfinite(fit.error_after)
