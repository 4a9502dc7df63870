"""A configuration that cannot run is a row that says so; the others are still computed."""

import dataclasses
import math

import numpy as np
import pytest
from rich.console import Console

from chip2chat.report.tables import voice_table
from chip2chat.report.voice_plot import plot_voice
from chip2chat.voice import catalog, roofline
from chip2chat.voice.pipeline import CONFIGURATIONS, fit, memory_needs
from chip2chat.voice.run import build_setup, compare
from chip2chat.voice.scenario import VoiceSpec

TTFT = np.array([0.08, 0.10, 0.12, 0.30])
TPOT = np.array([0.010, 0.012, 0.015, 0.020])
SPEAKER = VoiceSpec(device="smart-speaker", networks=["wifi", "lte"], draws=200)


def test_the_smart_speaker_lists_the_cloud_rows_and_marks_on_device_as_not_fitting():
    df = compare(SPEAKER, TTFT, TPOT)
    assert len(df) == 2 * len(CONFIGURATIONS)  # every configuration on every network, none dropped
    on_device = df[df["configuration"] == "on-device"]
    assert (~on_device["fits"]).all() and (on_device["status"] == "does not fit").all()
    assert on_device["p50_ms"].isna().all()
    assert "llama-3.2-3b int4 weights" in on_device["note"].iloc[0] and "has 1.07 GB" in on_device["note"].iloc[0]
    others = df[df["configuration"] != "on-device"]
    assert others["fits"].all() and np.isfinite(others["p50_ms"]).all()
    assert set(others["configuration"]) == {"cloud-cascade", "device-asr", "speech-native"}


def test_the_note_gives_the_bytes_needed_and_available():
    s = build_setup(SPEAKER, TTFT, TPOT)
    llm = s.device_llm
    need = (llm.weight_bytes("int4") + llm.kv_bytes_for_context(s.prompt_tokens + s.response_tokens)
            + 0.6e9 * 1.0  # Parakeet int8
            + 82e6 * 4.0)  # Kokoro fp32
    f = fit("on-device", s)
    assert not f.fits and f.need_bytes == pytest.approx(need) and f.have_bytes == 2**30
    assert f"needs {need / 1e9:.2f} GB" in f.note
    assert fit("device-asr", s).fits  # Parakeet alone (0.6 GB int8) fits in 1 GiB


def test_a_cloud_gpu_too_small_for_the_speech_model_is_reported_too():
    s = dataclasses.replace(build_setup(VoiceSpec(networks=["wifi"], draws=100), TTFT, TPOT), cloud_memory_bytes=8e9)
    f = fit("speech-native", s)
    assert not f.fits and "one cloud GPU has 8.00 GB" in f.note  # Moshi's 7.7B bf16 = 15.4 GB
    assert fit("cloud-cascade", s).fits


def test_memory_needs_follow_where_each_model_runs():
    s = build_setup(VoiceSpec(networks=["wifi"], draws=100), TTFT, TPOT)
    needs = memory_needs("device-asr", s)
    assert [w for w, _ in needs["device"]] == ["ASR parakeet-tdt-0.6b int8"]
    assert needs["cloud"] == [("TTS kokoro-82m fp32", roofline.weight_bytes(s.tts, False))]


def test_table_and_plot_show_the_row_that_does_not_fit(tmp_path):
    df = compare(SPEAKER.model_copy(update={"networks": ["wifi"]}), TTFT, TPOT)
    console = Console(record=True, width=400)
    console.print(voice_table(df, SPEAKER))
    text = console.export_text()
    assert "does not fit" in text and "needs 3.33 GB" in text
    assert plot_voice(df, tmp_path / "v.png").stat().st_size > 0


def test_plan_still_calls_compare_with_its_latency_samples():
    # chip2chat plan passes the cheapest option's TTFT/TPOT samples positionally
    df = compare(VoiceSpec(networks=["5g-sa"], draws=100), TTFT, TPOT)
    assert len(df) == len(CONFIGURATIONS) and not math.isnan(df["p50_ms"].iloc[0])


def test_end_of_speech_and_playout_come_from_the_scenario_or_the_catalog():
    spec = VoiceSpec(networks=["wifi"], draws=100, end_of_speech_silence="300 ms", playout_buffer="0.06 s")
    df = compare(spec, TTFT, TPOT)
    assert np.allclose(df["end_of_speech_ms"], 300.0) and np.allclose(df["playout_ms"], 60.0)
    d = catalog.defaults()
    default = compare(VoiceSpec(networks=["wifi"], draws=100), TTFT, TPOT)
    assert np.allclose(default["end_of_speech_ms"], d["end_of_speech_s"] * 1e3)
    assert np.allclose(default["playout_ms"], d["playout_s"] * 1e3)
