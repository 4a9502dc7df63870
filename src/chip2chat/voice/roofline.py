"""Time of a speech model's calls on the device or a cloud GPU: every call streams its weights once.

The operator rule of DESIGN.md applied to a whole model call at batch 1:
    call time = max(FLOP / (peak x efficiency), weight bytes / (bandwidth x efficiency)) + overhead per call
so a 0.6 GB encoder needs at least 0.6 GB / bandwidth per call however few FLOP its last chunk takes,
and an autoregressive part (an ASR decoder, a TTS language model) pays it once per step. Where a
measurement of the same model on the same device (or on a server GPU, for the cloud) is published,
the stage takes at least that long (catalog/voice.yaml `measured`, each with its source).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chip2chat.models.dtypes import dtype_bytes
from chip2chat.voice.catalog import Measured, SpeechModel

CLOUD = "cloud"


@dataclass(frozen=True)
class Processor:
    """Where a model runs: a device id or 'cloud', its achievable rates and its fixed cost per call."""

    where: str
    flops_per_s: float  # peak x efficiency
    bytes_per_s: float  # bandwidth x efficiency
    call_overhead_s: float

    @property
    def on_device(self) -> bool:
        return self.where != CLOUD


def call_s(proc: Processor, flop: float, weight_bytes: float, calls: float = 1.0) -> float:
    """`calls` calls in a row, each doing `flop` and reading `weight_bytes` of weights."""
    return calls * (max(flop / proc.flops_per_s, weight_bytes / proc.bytes_per_s) + proc.call_overhead_s)


def bytes_per_param(model: SpeechModel, proc: Processor) -> float:
    """The on-device port's weight dtype on a device, the served dtype on a GPU."""
    return dtype_bytes(model.device_dtype if proc.on_device else model.dtype)


def weight_bytes(model: SpeechModel, on_device: bool) -> float:
    """Bytes the model's weights take in memory where it runs."""
    return model.params * dtype_bytes(model.device_dtype if on_device else model.dtype)


def decoder_steps(model: SpeechModel, audio_s: float) -> int:
    """ASR decoder steps (tokens, or transducer frames) over `audio_s` seconds of audio, at least one."""
    return max(1, math.ceil(model.decoder_steps_per_audio_second * audio_s - 1e-9))


def asr_chunk_s(model: SpeechModel, proc: Processor) -> float:
    """One streaming step while the user speaks: the encoder over a chunk and that chunk's decoder steps."""
    b = bytes_per_param(model, proc)
    encoder = call_s(proc, model.compute_per_audio_second * model.chunk_s, model.encoder_params * b)
    steps = model.decoder_steps_per_audio_second * model.chunk_s
    return encoder + call_s(proc, 2.0 * model.decoder_params, model.decoder_params * b, steps)


def asr_real_time_factor(model: SpeechModel, proc: Processor) -> float:
    """Seconds of work per second of audio for a streaming ASR (above 1: slower than real time)."""
    return asr_chunk_s(model, proc) / model.chunk_s if model.streaming else 0.0


def asr_final_roofline_s(model: SpeechModel, proc: Processor, utterance_s: float) -> float:
    """The work left after end of speech: a streaming model encodes its last chunk and decodes it;
    a non-streaming one encodes the whole utterance (or its fixed window) and decodes every token."""
    b = bytes_per_param(model, proc)
    audio = model.chunk_s if model.streaming else max(utterance_s, model.window_s)
    spoken = model.chunk_s if model.streaming else utterance_s
    steps = decoder_steps(model, spoken)
    encoder = call_s(proc, model.compute_per_audio_second * audio, model.encoder_params * b)
    return encoder + call_s(proc, 2.0 * model.decoder_params, model.decoder_params * b, steps)


def asr_final_s(model: SpeechModel, proc: Processor, utterance_s: float) -> tuple[float, str]:
    """(seconds, basis) of ASR finalisation: the roofline, or a published measurement if higher."""
    roof = asr_final_roofline_s(model, proc, utterance_s)
    steps = decoder_steps(model, model.chunk_s if model.streaming else utterance_s)
    return _floored(roof, model, proc, steps)


def first_audio_roofline_s(model: SpeechModel, proc: Processor) -> float:
    """TTS or speech-native: the model's own delay, then every pass before the first audio."""
    b = bytes_per_param(model, proc)
    return model.first_audio_s + sum(call_s(proc, p.flop_per_call, p.params * b, p.calls) for p in model.passes)


def first_audio_s(model: SpeechModel, proc: Processor) -> tuple[float, str]:
    """(seconds, basis) to the first audio: the roofline, or a published measurement if higher."""
    return _floored(first_audio_roofline_s(model, proc), model, proc, 0)


def first_audio_work(model: SpeechModel) -> tuple[float, float]:
    """(FLOP, parameters read) of the passes before the first audio chunk (energy accounting)."""
    return (sum(p.flop_per_call * p.calls for p in model.passes), sum(p.params * p.calls for p in model.passes))


def floor_for(model: SpeechModel, proc: Processor) -> Measured | None:
    """The published measurement that applies where the model runs (the slowest if several)."""
    found = [m for m in model.measured if m.where == proc.where]
    return max(found, key=lambda m: (m.value_s, m.per_step_s)) if found else None


def _floored(roof: float, model: SpeechModel, proc: Processor, steps: int) -> tuple[float, str]:
    m = floor_for(model, proc)
    if m is None:
        return roof, "roofline"
    measured = m.value_s + m.per_step_s * steps
    return (measured, "measured") if measured > roof else (roof, "roofline")
