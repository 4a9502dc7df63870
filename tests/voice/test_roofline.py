"""Speech stages call by call: every call streams its weights once, pays its overhead, and a
published measurement of the model where it runs is a floor. Each number below is worked by hand."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.voice import catalog, roofline
from chip2chat.voice.pipeline import CONFIGURATIONS, draws, turn
from chip2chat.voice.run import build_setup
from chip2chat.voice.scenario import VoiceSpec

TTFT = np.array([0.08, 0.10, 0.12, 0.30])
TPOT = np.array([0.010, 0.012, 0.015, 0.020])
SHARED = draws(20, len(TTFT), seed=0)
WIFI = catalog.network("wifi")
PHONE_BW = 60e9 * 0.8  # iPhone 16 Pro LPDDR5X x the memory efficiency
PHONE_FLOPS = 35e12 * 0.3  # A18 Pro Neural Engine int8 peak x the NPU efficiency
CALL = 2e-3  # catalog pipeline_defaults.device_call_overhead


def setup(**changes):
    return dataclasses.replace(build_setup(VoiceSpec(networks=["wifi"], draws=100), TTFT, TPOT), **changes)


def stage(config, name, s=None):
    return turn(config, WIFI, s or setup(), SHARED).stages_s[name][0]


def test_device_asr_finalisation_reads_the_encoder_once_and_each_decoder_step():
    # Parakeet int8 on the iPhone: the last 200 ms chunk re-encodes the 0.8 s buffer (12 GFLOP) but
    # must stream all 591 MB of encoder weights: max(12e9 / 10.5e12, 0.591e9 / 48e9) = 12.3 ms
    encoder = max(12e9 / PHONE_FLOPS, 0.591e9 / PHONE_BW) + CALL
    steps = 3  # ceil(12.5 decoder steps/s x 0.2 s)
    decoder = steps * (max(18e6 / PHONE_FLOPS, 9e6 / PHONE_BW) + CALL)
    asr = stage("device-asr", "asr")
    assert asr == pytest.approx(encoder + decoder)
    assert asr >= 0.591e9 / PHONE_BW  # never below the weight bytes over the achievable bandwidth
    assert asr > 0.015  # the 1 ms it used to show came from counting FLOP only


def test_cloud_asr_streams_the_fp16_weights_from_hbm():
    s = setup()
    hbm = s.cloud.bytes_per_s  # H200 4.8 TB/s x its profile's memory efficiency
    assert stage("cloud-cascade", "asr", s) >= 0.591e9 * 2 / hbm + s.cloud.call_overhead_s


def test_kokoro_in_the_cloud_is_no_faster_than_its_measured_first_audio():
    # the roofline is ~1 ms (82M fp32 weights from HBM and two calls); PolarGrid measured 46 ms
    # server-side on a Blackwell node, so the stage is the measurement and is marked as such
    t = turn("cloud-cascade", WIFI, setup(), SHARED)
    assert roofline.first_audio_roofline_s(setup().tts, setup().cloud) < 0.005
    assert t.stages_s["tts"][0] == pytest.approx(0.046) and "tts" in t.measured


def test_cosyvoice_in_the_cloud_keeps_its_measured_first_packet():
    s = setup(tts=catalog.speech_model("cosyvoice2-0.5b", "tts"))
    assert stage("cloud-cascade", "tts", s) == pytest.approx(0.218)


def test_cosyvoice_on_the_phone_streams_its_language_model_once_per_speech_token():
    # 25 speech tokens before the first 1 s of audio, each reading the 0.5B int8 LM: 25 x (10.4 + 2) ms
    s = setup(tts=catalog.speech_model("cosyvoice2-0.5b", "tts"))
    lm = 0.5e9 / PHONE_BW
    by_hand = ((lm + CALL) + 25 * (lm + CALL) + 10 * (max(17e9 / PHONE_FLOPS, 0.1e9 / PHONE_BW) + CALL)
               + (max(20e9 / PHONE_FLOPS, 0.02e9 / PHONE_BW) + CALL))
    tts = stage("on-device", "tts", s)
    assert tts == pytest.approx(by_hand) and tts > 25 * lm  # was 18 ms when weights were ignored


def test_kokoro_on_the_iphone_takes_the_published_iphone_time():
    # 233 ms predictor + 627 ms x 3 / 7.4 synthesizer, measured on an iPhone 16 (catalog)
    t = turn("on-device", WIFI, setup(), SHARED)
    assert t.stages_s["tts"][0] == pytest.approx(0.487) and "tts" in t.measured


def test_a_measurement_on_another_device_does_not_apply():
    s = setup(device=catalog.device("galaxy-s24-ultra"))
    t = turn("on-device", WIFI, s, SHARED)
    assert "tts" not in t.measured
    assert t.stages_s["tts"][0] == pytest.approx(roofline.first_audio_roofline_s(s.tts, s.device_proc))


def test_whisper_on_the_galaxy_is_its_measured_encoder_plus_a_decoder_step_per_token():
    # Qualcomm AI Hub, Snapdragon 8 Gen 3: encoder 514.4 ms, decoder 9.293 ms per token;
    # a 3 s utterance is ceil(3.3 x 3) = 10 tokens
    s = setup(device=catalog.device("galaxy-s24-ultra"), asr=catalog.speech_model("whisper-small", "asr"))
    t = turn("device-asr", WIFI, s, SHARED)
    assert t.stages_s["asr"][0] == pytest.approx(0.5144 + 10 * 0.009293) and "asr" in t.measured
    assert t.real_time  # not streaming: nothing runs while the user speaks


def test_speech_native_starts_after_its_own_delay_and_no_sooner_than_measured():
    s = setup()
    roof = roofline.first_audio_roofline_s(s.native, s.cloud)
    assert roof > 0.160  # one 80 ms frame + 80 ms acoustic delay, then the 15 GB backbone step
    assert stage("speech-native", "speech_model", s) == pytest.approx(max(roof, 0.200))


@settings(max_examples=25, deadline=None)
@given(factor=st.floats(1.0, 8.0))
def test_more_device_bandwidth_never_slows_a_stage(factor):
    base = setup()
    fast = dataclasses.replace(base, device=dataclasses.replace(
        base.device, memory_bandwidth=base.device.memory_bandwidth * factor))
    for config in CONFIGURATIONS:
        slow_t, fast_t = turn(config, WIFI, base, SHARED), turn(config, WIFI, fast, SHARED)
        for name, seconds in fast_t.stages_s.items():
            assert (seconds <= slow_t.stages_s[name] + 1e-12).all(), (config, name)


def test_each_call_pays_its_overhead():
    free = setup(device_call_overhead_s=0.0)
    assert stage("device-asr", "asr") - stage("device-asr", "asr", free) == pytest.approx(4 * CALL)  # encoder + 3 steps
