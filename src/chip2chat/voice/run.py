"""Compare voice configurations across networks: TTFA percentiles, stages, energy, cloud tokens."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model
from chip2chat.voice import catalog
from chip2chat.voice.pipeline import CONFIGURATIONS, VoiceSetup, device_llm_fits, draws, turn
from chip2chat.voice.scenario import VoiceSpec

STAGES = ("end_of_speech", "uplink", "asr", "llm", "tts", "speech_model", "downlink", "playout")


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
    d = catalog.defaults()
    _, cloud_hw = load_hardware(spec.cloud.hardware)
    setup = VoiceSetup(device=catalog.device(spec.device), asr=catalog.speech_model(spec.asr, "asr"),
                       tts=catalog.speech_model(spec.tts, "tts"),
                       native=catalog.speech_model(spec.speech_native, "speech_native"),
                       device_llm=load_model(spec.on_device_model), device_llm_dtype=spec.on_device_weight_dtype,
                       cloud_ttft_s=np.asarray(ttft_s), cloud_tpot_s=np.asarray(tpot_s),
                       cloud_flops=cloud_hw.peak_flops["bf16"] * 0.5,  # speech kernels on a GPU: half of bf16 peak
                       end_of_speech_s=d["end_of_speech_s"], playout_s=d["playout_s"],
                       codec_bytes_per_s=d["codec_bytes_per_s"], first_sentence_tokens=d["first_sentence_tokens"],
                       prompt_tokens=spec.prompt_tokens, response_tokens=spec.response_tokens,
                       utterance_s=spec.utterance_seconds, npu_efficiency=spec.npu_efficiency)
    need, have = device_llm_fits(setup)
    if need > have:
        raise Chip2ChatError(f"{spec.on_device_model} in {spec.on_device_weight_dtype} needs {need / 1e9:.1f} GB "
                             f"(weights + KV cache), the {setup.device.id} has {have / 1e9:.1f} GB")
    return setup


def compare(spec: VoiceSpec, ttft_s: np.ndarray | None = None, tpot_s: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (configuration, network): TTFA p50/p90/p99 and stage medians in ms, and more."""
    if ttft_s is None or tpot_s is None:
        ttft_s, tpot_s = cloud_samples(spec)
    setup = build_setup(spec, ttft_s, tpot_s)
    shared = draws(spec.draws, len(setup.cloud_ttft_s), spec.seed)
    battery = setup.device.battery_j
    rows = []
    for name in spec.networks:
        net = catalog.network(name)
        for config in CONFIGURATIONS:
            t = turn(config, net, setup, shared)
            ttfa = t.ttfa_s * 1e3
            row = {"configuration": config, "network": name,
                   "p50_ms": float(np.percentile(ttfa, 50)), "p90_ms": float(np.percentile(ttfa, 90)),
                   "p99_ms": float(np.percentile(ttfa, 99))}
            row.update({f"{s}_ms": float(np.median(t.stages_s[s]) * 1e3) if s in t.stages_s else 0.0 for s in STAGES})
            row.update(real_time=t.real_time, note=t.note, device_energy_j=t.device_energy_j,
                       battery_share_per_day=(t.device_energy_j * spec.turns_per_day / battery) if battery else float("nan"),
                       cloud_input_tokens=t.cloud_input_tokens, cloud_output_tokens=t.cloud_output_tokens)
            rows.append(row)
    return pd.DataFrame(rows)
