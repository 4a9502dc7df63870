"""Compare voice configurations across networks: TTFA percentiles, stages, energy, cloud tokens.

Every (configuration, network) gets a row. A configuration that cannot run (its models do not fit
in the device's or the GPU's memory) is a row with `fits` False, `status` 'does not fit' and a note
with the bytes needed and available; its times are NaN, and the other rows are computed as usual.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from chip2chat.hardware.calibration import DEFAULT as DEFAULT_PROFILE
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model
from chip2chat.voice import catalog
from chip2chat.voice.pipeline import CONFIGURATIONS, VoiceSetup, draws, fit, turn
from chip2chat.voice.roofline import CLOUD, Processor
from chip2chat.voice.scenario import VoiceSpec

STAGES = ("end_of_speech", "uplink", "asr", "llm", "tts", "speech_model", "downlink", "playout")
STATUS_OK, STATUS_SLOW, STATUS_NO_FIT = "ok", "not real-time", "does not fit"


def cloud_samples(spec: VoiceSpec) -> tuple[np.ndarray, np.ndarray]:
    """TTFT and TPOT (s) of the cloud LLM under the datacenter's load, from the serving simulator."""
    from chip2chat.serving.simulate import simulate

    c = spec.cloud
    sim = simulate(c.model, c.hardware, tp=c.tp, weight_dtype=c.weight_dtype, kv_dtype=c.kv_dtype,
                   rate_per_s=c.rate_per_s, num_requests=c.num_requests, input_len=spec.prompt_tokens,
                   output_len=spec.response_tokens, seed=spec.seed)
    done = sim.requests[sim.requests["status"] == "finished"]
    return done["ttft_s"].to_numpy(), done["tpot_s"].fillna(0.0).to_numpy()


def build_setup(spec: VoiceSpec, ttft_s: np.ndarray, tpot_s: np.ndarray) -> VoiceSetup:
    """Everything a turn needs, looked up and converted to SI (unknown names fail here, before any work)."""
    d = catalog.defaults()
    _, cloud_hw = load_hardware(spec.cloud.hardware)
    # the documented default efficiencies (best bf16 GEMM, streaming reads); batch-1 speech calls are
    # memory-bound, so the HBM bandwidth binds and the GEMM rate rarely does
    cloud = Processor(CLOUD, cloud_hw.peak_flops["bf16"] * DEFAULT_PROFILE.gemm_peak_efficiency("bf16"),
                      cloud_hw.memory.bandwidth_bytes_per_s * DEFAULT_PROFILE.memory_efficiency,
                      d["cloud_call_overhead_s"])
    return VoiceSetup(device=catalog.device(spec.device), asr=catalog.speech_model(spec.asr, "asr"),
                      tts=catalog.speech_model(spec.tts, "tts"),
                      native=catalog.speech_model(spec.speech_native, "speech_native"),
                      device_llm=load_model(spec.on_device_model), device_llm_dtype=spec.on_device_weight_dtype,
                      cloud_ttft_s=np.asarray(ttft_s), cloud_tpot_s=np.asarray(tpot_s), cloud=cloud,
                      cloud_memory_bytes=cloud_hw.memory.capacity_bytes,
                      end_of_speech_s=_or(spec.end_of_speech_silence, d["end_of_speech_s"]),
                      playout_s=_or(spec.playout_buffer, d["playout_s"]),
                      codec_bytes_per_s=d["codec_bytes_per_s"], first_sentence_tokens=d["first_sentence_tokens"],
                      prompt_tokens=spec.prompt_tokens, response_tokens=spec.response_tokens,
                      utterance_s=spec.utterance_seconds, npu_efficiency=spec.npu_efficiency,
                      device_call_overhead_s=d["device_call_overhead_s"])


def compare(spec: VoiceSpec, ttft_s: np.ndarray | None = None, tpot_s: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (configuration, network): TTFA p50/p90/p99 and stage medians in ms, fit and status."""
    networks = [catalog.network(name) for name in spec.networks]  # unknown names fail before the simulation
    probe = build_setup(spec, np.zeros(1), np.zeros(1))
    if ttft_s is None or tpot_s is None:
        ttft_s, tpot_s = cloud_samples(spec)
    setup = dataclasses.replace(probe, cloud_ttft_s=np.asarray(ttft_s), cloud_tpot_s=np.asarray(tpot_s))
    shared = draws(spec.draws, len(setup.cloud_ttft_s), spec.seed)
    fits = {config: fit(config, setup) for config in CONFIGURATIONS}
    rows = []
    for net in networks:
        for config in CONFIGURATIONS:
            f = fits[config]
            rows.append(_row(spec, setup, turn(config, net, setup, shared)) if f.fits else _no_fit_row(config, net.id, f))
    return pd.DataFrame(rows)


def _row(spec: VoiceSpec, setup: VoiceSetup, t) -> dict:
    ttfa = t.ttfa_s * 1e3
    battery = setup.device.battery_j
    row = {"configuration": t.configuration, "network": t.network, "fits": True,
           "status": STATUS_OK if t.real_time else STATUS_SLOW,
           "p50_ms": float(np.percentile(ttfa, 50)), "p90_ms": float(np.percentile(ttfa, 90)),
           "p99_ms": float(np.percentile(ttfa, 99))}
    row.update({f"{s}_ms": float(np.median(t.stages_s[s]) * 1e3) if s in t.stages_s else 0.0 for s in STAGES})
    row.update(real_time=t.real_time, note=t.note, measured_stages=", ".join(t.measured),
               device_energy_j=t.device_energy_j,
               battery_share_per_day=(t.device_energy_j * spec.turns_per_day / battery) if battery else float("nan"),
               cloud_input_tokens=t.cloud_input_tokens, cloud_output_tokens=t.cloud_output_tokens)
    return row


def _no_fit_row(config: str, network: str, f) -> dict:
    nan = float("nan")
    row = {"configuration": config, "network": network, "fits": False, "status": STATUS_NO_FIT,
           "p50_ms": nan, "p90_ms": nan, "p99_ms": nan}
    row.update({f"{s}_ms": nan for s in STAGES})
    row.update(real_time=False, note=f.note, measured_stages="", device_energy_j=nan, battery_share_per_day=nan,
               cloud_input_tokens=nan, cloud_output_tokens=nan)
    return row


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
