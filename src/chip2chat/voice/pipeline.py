"""Time to first audio of a voice turn, stage by stage, on the device or in the cloud.

A turn: end-of-speech detection (the silence the endpointer waits for), then, by configuration,
  cloud-cascade: uplink of the last audio chunk -> cloud ASR finalises -> cloud LLM first sentence
                 -> cloud TTS first chunk -> downlink -> playout buffer
  device-asr:    device ASR finalises -> uplink of the text -> cloud LLM -> cloud TTS -> downlink -> playout
  on-device:     device ASR -> device LLM (a small quantized model) -> device TTS -> playout
  speech-native: uplink of audio -> a speech-to-speech model's first audio frame -> downlink -> playout
Cloud LLM latency is drawn from serving-simulation samples (TTFT + first-sentence tokens x TPOT)
under the datacenter's load; network latency from a lognormal fitted to the network's median and
p90 round trip (half of it each way). On the device, compute runs at the NPU's int8 rate times an
efficiency, and decode is memory-bound: tokens/s = memory bandwidth / weight bytes. A device ASR
slower than real time falls behind while the user speaks and is reported as not real-time.
Stage draws share their random numbers across networks and configurations (common random
numbers), so comparisons are draw by draw and a worse network can never lower a draw's TTFA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chip2chat.models.transformer import Transformer
from chip2chat.voice.catalog import Device, Network, SpeechModel

CONFIGURATIONS = ("cloud-cascade", "device-asr", "on-device", "speech-native")
Z90 = 1.2815515655446004  # standard normal 90th percentile
TOKENS_PER_SPOKEN_SECOND = 3.3  # ~150 words a minute at ~1.3 tokens a word
TEXT_BYTES_PER_TOKEN = 4.0
LPDDR_J_PER_BIT = 4e-12  # LPDDR5/5X access energy (memory catalog fallback for LPDDR5X)


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
    cloud_flops: float  # effective FLOP/s of a cloud accelerator for ASR/TTS/speech-native chunks
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
    """Share of LPDDR bandwidth reached by memory-bound decode."""


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
    draws: np.ndarray = field(default=None, repr=False)

    @property
    def ttfa_s(self) -> np.ndarray:
        return sum(self.stages_s.values())


def one_way(network: Network, z: np.ndarray) -> np.ndarray:
    """Half a round trip drawn from the lognormal through the network's median and p90 RTT."""
    sigma = np.log(network.rtt_p90_s / network.rtt_median_s) / Z90
    return network.rtt_median_s * np.exp(sigma * z) / 2


def device_llm_fits(setup: VoiceSetup) -> tuple[float, float]:
    """(bytes the on-device model needs, bytes the device has)."""
    need = setup.device_llm.weight_bytes(setup.device_llm_dtype) + \
        setup.device_llm.kv_bytes_for_context(setup.prompt_tokens + setup.response_tokens)
    return need, setup.device.memory_bytes


def device_decode_tokens_per_s(setup: VoiceSetup) -> float:
    """Memory-bound decode: each token reads every weight once from LPDDR."""
    return setup.device.memory_bandwidth * setup.memory_efficiency / setup.device_llm.weight_bytes(setup.device_llm_dtype)


def asr_real_time_factor(setup: VoiceSetup) -> float:
    """Seconds of device compute per second of audio (above 1: slower than real time)."""
    return setup.asr.compute_per_audio_second / (setup.device.npu_ops_per_s * setup.npu_efficiency)


def turn(configuration: str, network: Network, setup: VoiceSetup, rng_state: dict) -> TurnResult:
    """Stage draws of one configuration on one network, from shared standard-normal draws."""
    z_up, z_down, llm_idx = rng_state["z_up"], rng_state["z_down"], rng_state["llm_idx"]
    n = z_up.shape[0]
    fixed = lambda s: np.full(n, float(s))  # noqa: E731
    dev, cloud = setup.device, setup.cloud_flops
    npu = dev.npu_ops_per_s * setup.npu_efficiency
    stages = {"end_of_speech": fixed(setup.end_of_speech_s)}
    real_time, note = True, ""
    energy = 0.0
    spoken_out_s = setup.response_tokens / TOKENS_PER_SPOKEN_SECOND
    cloud_in, cloud_out = float(setup.prompt_tokens), float(setup.response_tokens)
    cloud_llm = setup.cloud_ttft_s[llm_idx] + setup.first_sentence_tokens * setup.cloud_tpot_s[llm_idx]
    first_chunk_bytes = setup.tts.chunk_s * setup.codec_bytes_per_s

    if configuration == "speech-native":
        m = setup.native
        stages["uplink"] = one_way(network, z_up) + m.chunk_s * setup.codec_bytes_per_s / network.uplink_bytes_per_s
        step = setup.cloud_tpot_s[llm_idx]  # one decode step of the server under load
        stages["speech_model"] = m.first_audio_s + step + m.compute_per_audio_second * m.chunk_s / cloud
        stages["downlink"] = one_way(network, z_down) + m.chunk_s * setup.codec_bytes_per_s / network.downlink_bytes_per_s
        energy += (setup.utterance_s + spoken_out_s) * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
        frames = (setup.utterance_s + spoken_out_s) / m.chunk_s
        cloud_in, cloud_out = frames, frames  # audio frames through the model (one step each)
    else:
        asr_on_device = configuration in ("device-asr", "on-device")
        if asr_on_device:
            rtf = asr_real_time_factor(setup)
            backlog = max(0.0, rtf - 1.0) * setup.utterance_s  # falls behind while the user speaks
            stages["asr"] = fixed(backlog + setup.asr.chunk_s * rtf)
            energy += setup.asr.compute_per_audio_second * setup.utterance_s * dev.npu_energy_per_op_j
            if rtf > 1:
                real_time, note = False, (f"ASR {setup.asr.id} on {dev.id} runs at {rtf:.2f}x real time: not real-time, "
                                          f"{backlog * 1e3:.0f} ms behind at the end of a {setup.utterance_s:g} s utterance")
        else:
            stages["uplink"] = one_way(network, z_up) + setup.asr.chunk_s * setup.codec_bytes_per_s / network.uplink_bytes_per_s
            stages["asr"] = fixed(setup.asr.compute_per_audio_second * setup.asr.chunk_s / cloud)
            energy += setup.utterance_s * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
        if configuration == "on-device":
            m = setup.device_llm
            prefill = 2.0 * m.active_params * setup.prompt_tokens / npu
            tok_s = device_decode_tokens_per_s(setup)
            stages["llm"] = fixed(prefill + setup.first_sentence_tokens / tok_s)
            stages["tts"] = fixed(setup.tts.compute_per_audio_second * setup.tts.chunk_s / npu)
            weight_bits = m.weight_bytes(setup.device_llm_dtype) * 8
            energy += (2.0 * m.active_params * (setup.prompt_tokens + setup.response_tokens) * dev.npu_energy_per_op_j
                       + setup.response_tokens * weight_bits * LPDDR_J_PER_BIT
                       + setup.tts.compute_per_audio_second * spoken_out_s * dev.npu_energy_per_op_j)
            cloud_in = cloud_out = 0.0
        else:
            if asr_on_device:
                text_bytes = setup.utterance_s * TOKENS_PER_SPOKEN_SECOND * TEXT_BYTES_PER_TOKEN
                stages["uplink"] = one_way(network, z_up) + text_bytes / network.uplink_bytes_per_s
            stages["llm"] = cloud_llm
            # a server TTS takes at least its published (measured where given) time to the first packet
            stages["tts"] = fixed(max(setup.tts.compute_per_audio_second * setup.tts.chunk_s / cloud,
                                      setup.tts.first_packet_s))
            stages["downlink"] = one_way(network, z_down) + first_chunk_bytes / network.downlink_bytes_per_s
            energy += spoken_out_s * setup.codec_bytes_per_s * 8 * network.radio_energy_per_bit_j
    stages["playout"] = fixed(setup.playout_s)
    return TurnResult(configuration=configuration, network=network.id, stages_s=stages, real_time=real_time,
                      note=note, device_energy_j=energy, cloud_input_tokens=cloud_in, cloud_output_tokens=cloud_out)


def draws(n: int, samples: int, seed: int) -> dict:
    """Shared random numbers: standard normals for the two network legs, indices into LLM samples."""
    rng = np.random.default_rng(seed)
    return {"z_up": rng.standard_normal(n), "z_down": rng.standard_normal(n), "llm_idx": rng.integers(0, samples, n)}
