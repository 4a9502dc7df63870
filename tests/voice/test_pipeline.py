"""The voice pipeline: sums, real-time checks, on-device decode, networks, bad input."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chip2chat.errors import NotFoundError
from chip2chat.voice import catalog
from chip2chat.voice.pipeline import CONFIGURATIONS, device_decode_tokens_per_s, draws, turn
from chip2chat.voice.run import build_setup, compare
from chip2chat.voice.scenario import VoiceSpec

SPEC = VoiceSpec(networks=["wifi", "5g-sa"], draws=500)
TTFT = np.array([0.08, 0.10, 0.12, 0.30])  # cloud LLM samples (s), as the serving simulator gives them
TPOT = np.array([0.010, 0.012, 0.015, 0.020])


def setup(**changes):
    return dataclasses.replace(build_setup(SPEC, TTFT, TPOT), **changes)


@pytest.mark.parametrize("config", CONFIGURATIONS)
def test_ttfa_is_the_sum_of_its_stages_for_a_fixed_draw(config):
    s = setup()
    shared = draws(200, len(TTFT), seed=1)
    t = turn(config, catalog.network("5g-sa"), s, shared)
    i = 17  # one draw, by hand: every stage of that draw added up
    assert t.ttfa_s[i] == pytest.approx(sum(stage[i] for stage in t.stages_s.values()))
    if config in ("cloud-cascade", "device-asr"):
        j = shared["llm_idx"][i]
        assert t.stages_s["llm"][i] == pytest.approx(TTFT[j] + 15 * TPOT[j])  # TTFT + first sentence at TPOT


def test_asr_on_a_device_slower_than_real_time_is_reported():
    # Parakeet on the smart speaker at 10% of 0.2 TOP/s. One 200 ms streaming step, by hand:
    # encoder max(12 GFLOP / 20 GFLOP/s, 0.591 GB int8 / (6.4 GB/s x 0.8)) + 2 ms = 602 ms, then
    # 12.5 x 0.2 = 2.5 decoder steps of max(18 MFLOP / 20 GFLOP/s, 9 MB / 5.12 GB/s) + 2 ms = 3.76 ms
    slow = setup(device=catalog.device("smart-speaker"), npu_efficiency=0.1)
    t = turn("device-asr", catalog.network("wifi"), slow, draws(50, len(TTFT), 0))
    assert not t.real_time and "not real-time" in t.note
    bw = 6.4e9 * 0.8
    step = (12e9 / 20e9 + 2e-3) + 2.5 * (9e6 / bw + 2e-3)
    rtf = step / 0.2
    # it falls behind while the user speaks, (RTF - 1) x utterance, then finalises its last chunk
    final = (12e9 / 20e9 + 2e-3) + 3 * (9e6 / bw + 2e-3)
    assert t.stages_s["asr"][0] == pytest.approx((rtf - 1) * 3.0 + final)


def test_on_device_decode_is_memory_bandwidth_over_weight_bytes():
    s = setup()
    weights = s.device_llm.weight_bytes("int4")  # Llama-3.2-3B at 4.25 bits: ~1.7 GB
    assert device_decode_tokens_per_s(s) == pytest.approx(s.device.memory_bandwidth * 0.8 / weights)
    assert 15 < device_decode_tokens_per_s(s) < 40  # 60 GB/s phone: a few tens of tokens/s


@given(rtt_factor=st.floats(1.0, 10.0), rate_factor=st.floats(0.05, 1.0))
def test_a_worse_network_never_lowers_ttfa(rtt_factor, rate_factor):
    s = setup()
    good = catalog.network("5g-sa")
    bad = dataclasses.replace(good, rtt_median_s=good.rtt_median_s * rtt_factor, rtt_p90_s=good.rtt_p90_s * rtt_factor,
                              uplink_bytes_per_s=good.uplink_bytes_per_s * rate_factor,
                              downlink_bytes_per_s=good.downlink_bytes_per_s * rate_factor)
    shared = draws(300, len(TTFT), seed=3)
    for config in CONFIGURATIONS:
        assert (turn(config, bad, s, shared).ttfa_s >= turn(config, good, s, shared).ttfa_s - 1e-12).all()


def test_compare_rows_and_battery_share():
    df = compare(SPEC, TTFT, TPOT)
    assert len(df) == 2 * len(CONFIGURATIONS) and df["fits"].all() and set(df["status"]) <= {"ok", "not real-time"}
    assert (df["p50_ms"] <= df["p90_ms"]).all() and (df["p90_ms"] <= df["p99_ms"]).all()
    on_device = df[df["configuration"] == "on-device"].iloc[0]
    assert on_device["cloud_input_tokens"] == 0 and on_device["battery_share_per_day"] > 0
    cascade = df[df["configuration"] == "cloud-cascade"].iloc[0]
    assert cascade["cloud_input_tokens"] == SPEC.prompt_tokens and cascade["cloud_output_tokens"] == 80


def test_unknown_names_fail_before_any_work():
    for changes, message in [(dict(device="nokia-3310"), "unknown device 'nokia-3310'"),
                             (dict(networks=["6g"]), "unknown network '6g'")]:
        with pytest.raises(NotFoundError, match=message):
            compare(SPEC.model_copy(update=changes))  # no LLM samples given: it would simulate if it got that far


def test_voice_command_default_scenario(tmp_path):
    import json
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "chip2chat.cli", "voice", "--plot", str(tmp_path / "v.png"), "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert {r["configuration"] for r in rows} == set(CONFIGURATIONS) and (tmp_path / "v.png").exists()
