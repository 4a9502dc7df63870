"""Time to first audio of a voice turn, stage by stage, on the device or in the cloud.

A turn: end-of-speech detection (the silence the endpointer waits for), then, by configuration,
  cloud-cascade: uplink of the last audio chunk -> cloud ASR finalises -> cloud LLM first sentence
                 -> cloud TTS first chunk -> downlink -> playout buffer
  device-asr:    device ASR finalises -> uplink of the text -> cloud LLM -> cloud TTS -> downlink -> playout
  on-device:     device ASR -> device LLM (a small quantized model) -> device TTS -> playout
  speech-native: uplink of audio -> a speech-to-speech model's first audio frame -> downlink -> playout
Cloud LLM latency is drawn from serving-simulation samples (TTFT + first-sentence tokens x TPOT)
under the datacenter's load; network latency from a lognormal fitted to the network's median and
p90 round trip (half of it each way). Speech models and the device LLM are costed call by call
(voice/roofline.py): each call streams its weights from LPDDR (or HBM) once and pays a fixed
overhead, and a published measurement of the model where it runs is a floor. A device ASR slower
than real time falls behind while the user speaks and is reported as not real-time. A
configuration whose models do not fit in memory is not costed (`fit`).
Stage draws share their random numbers across networks and configurations (common random
numbers), so comparisons are draw by draw and a worse network can never lower a draw's TTFA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chip2chat.models.transformer import Transformer
from chip2chat.voice import roofline
from chip2chat.voice.catalog import Device, Network, SpeechModel
from chip2chat.voice.roofline import Processor, call_s

CONFIGURATIONS = ("cloud-cascade", "device-asr", "on-device", "speech-native")
Z90 = 1.2815515655446004  # standard normal 90th percentile
TOKENS_PER_SPOKEN_SECOND = 3.3  # ~150 words a minute at ~1.3 tokens a word
TEXT_BYTES_PER_TOKEN = 4.0
LPDDR_J_PER_BIT = 4e-12  # LPDDR5/5X access energy (memory catalog fallback for LPDDR5X)
GB = 1e9


@dataclass(frozen=True)
class VoiceSetup:
    device: Device
    asr: SpeechModel
    tts: SpeechModel
    native: SpeechModel
    device_llm: Transformer
    device_llm_dtype: str
    cloud_ttft_s: np.ndarray
    cloud_tpot_s: np.ndarray
    cloud: Processor
    """The server GPU that runs the cloud speech models (its calibrated bf16 GEMM rate and memory bandwidth)."""
    cloud_memory_bytes: float
    end_of_speech_s: float
    playout_s: float
    codec_bytes_per_s: float
    first_sentence_tokens: int
    prompt_tokens: int  # system prompt + history + the user's words
    response_tokens: int
    utterance_s: float
    npu_efficiency: float = 0.3
    """Share of the NPU's int8 peak reached by speech and LLM kernels (a documented default)."""
    memory_efficiency: float = 0.8
    """Share of LPDDR bandwidth reached when a call streams its weights."""
    device_call_overhead_s: float = 2e-3
    """Fixed cost of one model call on the device (catalog pipeline_defaults.device_call_overhead)."""

    @property
    def device_proc(self) -> Processor:
        d = self.device
        return Processor(d.id, d.npu_ops_per_s * self.npu_efficiency, d.memory_bandwidth * self.memory_efficiency,
                         self.device_call_overhead_s)


@dataclass
class TurnResult:
    configuration: str
    network: str
    stages_s: dict  # stage -> draws
    real_time: bool
    note: str = ""
    device_energy_j: float = 0.0
    cloud_input_tokens: float = 0.0
    cloud_output_tokens: float = 0.0
    measured: tuple = ()  # stages whose time is a published measurement (above the roofline)
    draws: np.ndarray = field(default=None, repr=False)

    @property
    def ttfa_s(self) -> np.ndarray:
        return sum(self.stages_s.values())


@dataclass(frozen=True)
class Fit:
    """Whether a configuration's models fit in memory where they run, and what they need."""

    fits: bool
    note: str = ""
    need_bytes: float = 0.0
    have_bytes: float = 0.0


def one_way(network: Network, z: np.ndarray) -> np.ndarray:
    """Half a round trip drawn from the lognormal through the network's median and p90 RTT."""
    sigma = np.log(network.rtt_p90_s / network.rtt_median_s) / Z90
    return network.rtt_median_s * np.exp(sigma * z) / 2


def memory_needs(configuration: str, setup: VoiceSetup) -> dict[str, list[tuple[str, float]]]:
    """{'device'|'cloud': [(what, bytes), ...]}: the weights (and KV cache) each side holds at once."""
    def speech(role: str, m: SpeechModel, on_device: bool) -> tuple[str, float]:
        return (f"{role} {m.id} {m.device_dtype if on_device else m.dtype}", roofline.weight_bytes(m, on_device))

    llm = setup.device_llm
    needs = {"device": [], "cloud": []}
    if configuration == "speech-native":
        needs["cloud"].append(speech("speech model", setup.native, False))
        return needs
    asr_on_device = configuration in ("device-asr", "on-device")
    needs["device" if asr_on_device else "cloud"].append(speech("ASR", setup.asr, asr_on_device))
    if configuration == "on-device":
        needs["device"] += [(f"{llm.name} {setup.device_llm_dtype} weights", llm.weight_bytes(setup.device_llm_dtype)),
                            ("KV cache", llm.kv_bytes_for_context(setup.prompt_tokens + setup.response_tokens))]
    needs["device" if configuration == "on-device" else "cloud"].append(
        speech("TTS", setup.tts, configuration == "on-device"))
    return needs


def fit(configuration: str, setup: VoiceSetup) -> Fit:
    """Fits unless the device (or one cloud GPU) has less memory than its side's models need."""
    have = {"device": setup.device.memory_bytes, "cloud": setup.cloud_memory_bytes}
    label = {"device": f"the {setup.device.id}", "cloud": "one cloud GPU"}
    for side, items in memory_needs(configuration, setup).items():
        need = sum(b for _, b in items)
        if items and need > have[side]:
            parts = ", ".join(f"{what} {b / GB:.2f} GB" for what, b in items)
            return Fit(False, f"does not fit: needs {need / GB:.2f} GB ({parts}), {label[side]} has "
                              f"{have[side] / GB:.2f} GB", need, have[side])
    return Fit(True)


def device_decode_tokens_per_s(setup: VoiceSetup) -> float:
    """Memory-bound decode: each token reads every weight once from LPDDR (no per-call overhead)."""
    return setup.device.memory_bandwidth * setup.memory_efficiency / setup.device_llm.weight_bytes(setup.device_llm_dtype)


def device_llm_first_sentence_s(setup: VoiceSetup) -> float:
    """Prefill of the prompt (one call) and the first sentence's tokens (one call each, reading every
    weight and the KV cache so far)."""
    m, proc = setup.device_llm, setup.device_proc
    weights = m.weight_bytes(setup.device_llm_dtype)
    prefill = call_s(proc, m.prefill_flops(setup.prompt_tokens), weights)
    kv = m.kv_bytes_for_context(setup.prompt_tokens)
    decode = call_s(proc, m.flops_per_token(setup.prompt_tokens), weights + kv, setup.first_sentence_tokens)
    return prefill + decode


def asr_real_time_factor(setup: VoiceSetup) -> float:
    """Seconds of device work per second of audio (above 1: slower than real time)."""
    return roofline.asr_real_time_factor(setup.asr, setup.device_proc)


def _device_energy(setup: VoiceSetup, flop: float, nbytes: float) -> float:
    return flop * setup.device.npu_energy_per_op_j + nbytes * 8 * LPDDR_J_PER_BIT


def _asr_device_energy(setup: VoiceSetup) -> float:
    """The NPU work and the weight reads of transcribing the whole utterance on the device."""
    m, u = setup.asr, setup.utterance_s
    b = roofline.bytes_per_param(m, setup.device_proc)
    if m.streaming:
        encoder_calls, audio = u / m.chunk_s, u
    else:
        encoder_calls, audio = 1.0, max(u, m.window_s)
    steps = roofline.decoder_steps(m, u)
    flop = m.compute_per_audio_second * audio + 2.0 * m.decoder_params * steps
    return _device_energy(setup, flop, (encoder_calls * m.encoder_params + steps * m.decoder_params) * b)


def turn(configuration: str, network: Network, setup: VoiceSetup, rng_state: dict) -> TurnResult:
    """Stage draws of one configuration on one network, from shared standard-normal draws.
    The configuration must fit (see `fit`)."""
    z_up, z_down, llm_idx = rng_state["z_up"], rng_state["z_down"], rng_state["llm_idx"]
    n = z_up.shape[0]
    fixed = lambda s: np.full(n, float(s))  # noqa: E731
    dev, cloud = setup.device_proc, setup.cloud
    stages = {"end_of_speech": fixed(setup.end_of_speech_s)}
    measured: list[str] = []
    real_time, note = True, ""
    energy = 0.0
    spoken_out_s = setup.response_tokens / TOKENS_PER_SPOKEN_SECOND
    cloud_in, cloud_out = float(setup.prompt_tokens), float(setup.response_tokens)
    cloud_llm = setup.cloud_ttft_s[llm_idx] + setup.first_sentence_tokens * setup.cloud_tpot_s[llm_idx]
    first_chunk_bytes = setup.tts.chunk_s * setup.codec_bytes_per_s

    def stage(name: str, seconds_basis: tuple[float, str], extra: float | np.ndarray = 0.0) -> None:
        seconds, basis = seconds_basis
        stages[name] = fixed(seconds) + extra
        if basis == "measured":
            measured.append(name)

    if configuration == "speech-native":
        m = setup.native
        stages["uplink"] = one_way(network, z_up) + m.chunk_s * setup.codec_bytes_per_s / network.uplink_bytes_per_s
        stage("speech_model", roofline.first_audio_s(m, cloud))
        stages["downlink"] = one_way(network, z_down) + m.chunk_s * setup.codec_bytes_per_s / network.downlink_bytes_per_s
        energy += (setup.utterance_s + spoken_out_s) * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
        frames = (setup.utterance_s + spoken_out_s) / m.chunk_s
        cloud_in, cloud_out = frames, frames  # audio frames through the model (one step each)
    else:
        asr_on_device = configuration in ("device-asr", "on-device")
        if asr_on_device:
            rtf = asr_real_time_factor(setup)
            backlog = max(0.0, rtf - 1.0) * setup.utterance_s  # falls behind while the user speaks
            stage("asr", roofline.asr_final_s(setup.asr, dev, setup.utterance_s), backlog)
            energy += _asr_device_energy(setup)
            if rtf > 1:
                real_time, note = False, (f"ASR {setup.asr.id} on {setup.device.id} runs at {rtf:.2f}x real time: "
                                          f"not real-time, {backlog * 1e3:.0f} ms behind at the end of a "
                                          f"{setup.utterance_s:g} s utterance")
        else:
            stages["uplink"] = one_way(network, z_up) + setup.asr.chunk_s * setup.codec_bytes_per_s / network.uplink_bytes_per_s
            stage("asr", roofline.asr_final_s(setup.asr, cloud, setup.utterance_s))
            energy += setup.utterance_s * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
        if configuration == "on-device":
            m = setup.device_llm
            stages["llm"] = fixed(device_llm_first_sentence_s(setup))
            stage("tts", roofline.first_audio_s(setup.tts, dev))
            weight_bits = m.weight_bytes(setup.device_llm_dtype) * 8
            chunks = spoken_out_s / setup.tts.chunk_s
            tts_flop, tts_params = roofline.first_audio_work(setup.tts)
            energy += (2.0 * m.active_params * (setup.prompt_tokens + setup.response_tokens) * setup.device.npu_energy_per_op_j
                       + setup.response_tokens * weight_bits * LPDDR_J_PER_BIT
                       + chunks * _device_energy(setup, tts_flop, tts_params * roofline.bytes_per_param(setup.tts, dev)))
            cloud_in = cloud_out = 0.0
        else:
            if asr_on_device:
                text_bytes = setup.utterance_s * TOKENS_PER_SPOKEN_SECOND * TEXT_BYTES_PER_TOKEN
                stages["uplink"] = one_way(network, z_up) + text_bytes / network.uplink_bytes_per_s
            stages["llm"] = cloud_llm
            stage("tts", roofline.first_audio_s(setup.tts, cloud))
            stages["downlink"] = one_way(network, z_down) + first_chunk_bytes / network.downlink_bytes_per_s
            energy += spoken_out_s * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
    stages["playout"] = fixed(setup.playout_s)
    return TurnResult(configuration=configuration, network=network.id, stages_s=stages, real_time=real_time,
                      note=note, device_energy_j=energy, cloud_input_tokens=cloud_in, cloud_output_tokens=cloud_out,
                      measured=tuple(measured))


def draws(n: int, samples: int, seed: int) -> dict:
    """Shared random numbers: standard normals for the two network legs, indices into LLM samples."""
    rng = np.random.default_rng(seed)
    return {"z_up": rng.standard_normal(n), "z_down": rng.standard_normal(n), "llm_idx": rng.integers(0, samples, n)}
