"""The vectorised path equals `estimate` chip by chip (same formulas on arrays): the roofline, as
a Device of many chips is always timed by it (designs have no measured kernels)."""

import numpy as np
import pytest

from chip2chat import estimate
from chip2chat.engine.vector import estimate_many
from chip2chat.hardware.load import load_hardware

H100 = load_hardware("h100")[1]


def _variant(bandwidth, peak_scale, tdp, capacity):
    mem = H100.memory.model_copy(update={"bandwidth_bytes_per_s": bandwidth, "capacity_bytes": capacity})
    return H100.model_copy(update={"memory": mem, "tdp_w": tdp,
                                   "peak_flops": {k: v * peak_scale for k, v in H100.peak_flops.items()}})


@pytest.mark.parametrize("kw", [
    dict(model="llama-3.1-70b", tp=2, batch=32, input_len=3000, output_len=500, weight_dtype="fp8"),
    dict(model="mixtral-8x7b", tp=4, ep=2, batch=128, input_len=20000, output_len=200),  # chunked prefill
    dict(model="gpt-oss-120b", tp=1, batch=8, input_len=512, output_len=64, weight_dtype="fp4"),
    dict(model="llama-3.1-8b", pp=2, batch=64, input_len=1024, output_len=256),
])
def test_vectorised_estimates_equal_scalar_ones(kw):
    bw = np.array([2e12, 3.35e12, 8e12])
    scale = np.array([0.5, 1.0, 3.0])
    tdp = np.array([400.0, 700.0, 1500.0])
    cap = np.array([80, 141, 288]) * 2.0**30
    many = estimate_many(reference=H100, bandwidth_bytes_per_s=bw, capacity_bytes=cap, tdp_w=tdp,
                         peak_flops={d: p * scale for d, p in H100.peak_flops.items()}, **kw)
    model = kw.pop("model")
    for i in range(3):
        one = estimate(model, _variant(bw[i], scale[i], tdp[i], cap[i]), fidelity="roofline", **kw)
        for key in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "power_w", "energy_per_output_token_j"):
            assert many[key][i] == pytest.approx(getattr(one, key), rel=1e-9), key
        assert many["fits"][i] == one.fits and many["max_batch"][i] == one.max_batch


def test_unknown_varied_field_is_refused():
    with pytest.raises(ValueError, match="cannot vary"):
        estimate_many("llama-3.1-8b", H100, clock_hz=np.array([1e9]))


def test_a_reference_without_tdp_gives_times_but_no_power():
    # like estimate, which reports power None for a chip whose TDP is unpublished
    no_tdp = H100.model_copy(update={"tdp_w": None})
    many = estimate_many("llama-3.1-8b", no_tdp, bandwidth_bytes_per_s=np.array([2e12, 4e12]), batch=8)
    one = estimate("llama-3.1-8b", _variant(4e12, 1.0, None, H100.memory.capacity_bytes), batch=8, fidelity="roofline")
    assert one.power_w is None and np.isnan(many["power_w"]).all() and np.isnan(many["energy_per_output_token_j"]).all()
    assert many["tpot_s"][1] == pytest.approx(one.tpot_s, rel=1e-9) and many["max_batch"].dtype.kind == "i"
