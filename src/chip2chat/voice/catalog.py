"""Voice catalogs (catalog/voice.yaml): devices, networks, speech models, pipeline defaults, in SI."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

from chip2chat.catalog import read_yaml
from chip2chat.errors import Chip2ChatError, ConfigError, NotFoundError
from chip2chat.models.dtypes import WEIGHT_DTYPES
from chip2chat.units import UnitError, parse_quantity

FILE = "voice.yaml"
KINDS = ("asr", "tts", "speech_native")


class UnknownVoiceName(NotFoundError):
    """An unknown device, network or speech model, with the closest names and every known one."""

    def __init__(self, kind: str, name: str, known: list[str]):
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        Chip2ChatError.__init__(self, f"unknown {kind} {name!r}{hint} (catalog/voice.yaml has: {', '.join(known)})")
        self.name = name


def _q(entry: dict, key: str, unit: str, where: str, default=None):
    if key not in entry or entry[key] is None:
        if default is not None:
            return default
        raise ConfigError(f"catalog {FILE}", f"{where}.{key}", "missing")
    value = entry[key]
    if isinstance(value, dict):
        value = value.get("value")
    try:
        return parse_quantity(value, unit)
    except UnitError as exc:
        raise ConfigError(f"catalog {FILE}", f"{where}.{key}", str(exc)) from None


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    npu_ops_per_s: float  # int8 dense ops/s
    memory_bytes: float
    memory_bandwidth: float
    sustained_power_w: float
    battery_j: float  # 0 for mains-powered devices
    npu_energy_per_op_j: float


@dataclass(frozen=True)
class Network:
    id: str
    rtt_median_s: float
    rtt_p90_s: float
    uplink_bytes_per_s: float
    downlink_bytes_per_s: float
    radio_energy_per_bit_j: float


@dataclass(frozen=True)
class Pass:
    """One part of a model run `calls` times in a row; each call reads the part's weights once."""

    part: str
    params: float
    calls: int
    flop_per_call: float


@dataclass(frozen=True)
class Measured:
    """A published time of the model's stage at `where` (a device id, or 'cloud' for any server GPU):
    `value_s` plus `per_step_s` for each decoder step the stage takes. A floor for the stage."""

    where: str
    value_s: float
    per_step_s: float
    what: str


@dataclass(frozen=True)
class SpeechModel:
    id: str
    kind: str  # asr, tts or speech_native
    params: float
    dtype: str  # weights as served on a GPU
    device_dtype: str  # weights of the on-device port
    compute_per_audio_second: float  # FLOP per second of audio (ASR: the encoder's, streaming included)
    chunk_s: float  # streaming chunk (ASR) or first audio chunk (TTS) or frame (speech-native)
    first_audio_s: float = 0.0  # speech-native: the model's own delay to its first audio (frame + acoustic delay)
    # ASR: the encoder reads encoder_params per call; each decoder step reads decoder_params
    streaming: bool = True
    encoder_params: float = 0.0
    decoder_params: float = 0.0
    decoder_steps_per_audio_second: float = 0.0
    window_s: float = 0.0  # a fixed input window the encoder always processes (Whisper: 30 s), 0 if none
    passes: tuple[Pass, ...] = ()  # TTS and speech-native: what runs before the first audio
    measured: tuple[Measured, ...] = ()


@lru_cache(maxsize=1)
def _data() -> dict:
    return read_yaml(FILE)


def _section(name: str) -> dict:
    data = _data().get(name)
    if not isinstance(data, dict):
        raise ConfigError(f"catalog {FILE}", name, "missing section")
    return data


def device(name: str) -> Device:
    entries = _section("devices")
    if name not in entries:
        raise UnknownVoiceName("device", name, list(entries))
    e = entries[name]
    ops = e.get("npu_ops", {})
    int8 = ops.get("int8") if isinstance(ops, dict) else ops
    return Device(id=name, name=e.get("name", name),
                  npu_ops_per_s=_q({"v": int8}, "v", "FLOP/s", f"devices.{name}.npu_ops.int8"),
                  memory_bytes=_q(e, "memory_capacity", "B", f"devices.{name}"),
                  memory_bandwidth=_q(e, "memory_bandwidth", "B/s", f"devices.{name}"),
                  sustained_power_w=_q(e, "sustained_power", "W", f"devices.{name}"),
                  battery_j=_q(e, "battery", "J", f"devices.{name}", default=0.0) if e.get("battery") else 0.0,
                  npu_energy_per_op_j=_q(e, "npu_energy_per_op", "J", f"devices.{name}", default=1e-12))


def network(name: str) -> Network:
    entries = _section("networks")
    if name not in entries:
        raise UnknownVoiceName("network", name, list(entries))
    e = entries[name]
    where = f"networks.{name}"
    return Network(id=name, rtt_median_s=_q(e, "rtt_median", "s", where), rtt_p90_s=_q(e, "rtt_p90", "s", where),
                   uplink_bytes_per_s=_q(e, "uplink", "B/s", where), downlink_bytes_per_s=_q(e, "downlink", "B/s", where),
                   radio_energy_per_bit_j=_q(e, "radio_energy_per_bit", "J", where, default=10e-9))


def _dtype(e: dict, key: str, where: str, default: str) -> str:
    value = str(e.get(key, default))
    if value not in WEIGHT_DTYPES:
        raise ConfigError(f"catalog {FILE}", f"{where}.{key}", f"{value!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    return value


def _passes(e: dict, where: str) -> tuple[Pass, ...]:
    out = []
    for i, p in enumerate(e.get("first_audio_passes") or []):
        at = f"{where}.first_audio_passes[{i}]"
        calls = p.get("calls", 1)
        if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
            raise ConfigError(f"catalog {FILE}", f"{at}.calls", f"must be a whole number >= 1, got {calls!r}")
        params = float(p["params"])
        flop = _q(p, "flop", "FLOP", at) if p.get("flop") else 2.0 * params
        out.append(Pass(part=str(p.get("part", i)), params=params, calls=calls, flop_per_call=flop))
    return tuple(out)


def _measured(e: dict, where: str) -> tuple[Measured, ...]:
    out = []
    for i, m in enumerate(e.get("measured") or []):
        at = f"{where}.measured[{i}]"
        out.append(Measured(where=str(m.get("where", "")), value_s=_q(m, "value", "s", at),
                            per_step_s=_q(m, "per_step", "s", at, default=0.0), what=str(m.get("what", ""))))
    return tuple(out)


def speech_model(name: str, kind: str | None = None) -> SpeechModel:
    entries = _section("speech_models")
    if name not in entries:
        raise UnknownVoiceName("speech model", name, list(entries))
    e = entries[name]
    where = f"speech_models.{name}"
    if kind is not None and e.get("kind") != kind:
        raise ConfigError(f"catalog {FILE}", f"{where}.kind", f"is {e.get('kind')!r}, a {kind} model is needed here")
    frame = 1.0 / _q(e, "frame_rate", "Hz", where) if e.get("frame_rate") else None
    chunk = _q(e, "chunk", "s", where, default=frame or 0.16) if e.get("chunk") else (frame or 0.16)
    params = float(e["params"])
    # compute per audio second where published; else 2 FLOP per parameter per frame at the chunk rate
    compute = (_q(e, "compute_per_audio_second", "FLOP", where) if e.get("compute_per_audio_second")
               else 2.0 * params / chunk)
    first = _q(e, "theoretical_latency", "s", where, default=chunk) if e.get("theoretical_latency") else 0.0
    encoder = float(e.get("encoder_params", params))
    return SpeechModel(id=name, kind=e.get("kind", ""), params=params, dtype=_dtype(e, "dtype", where, "bf16"),
                       device_dtype=_dtype(e, "device_dtype", where, "int8"), compute_per_audio_second=compute,
                       chunk_s=chunk, first_audio_s=first, streaming=bool(e.get("streaming", True)),
                       encoder_params=encoder, decoder_params=float(e.get("decoder_params", 0.0)),
                       decoder_steps_per_audio_second=float(e.get("decoder_steps_per_audio_second", 0.0)),
                       window_s=_q(e, "window", "s", where, default=0.0) if e.get("window") else 0.0,
                       passes=_passes(e, where), measured=_measured(e, where))


def defaults() -> dict:
    d = _section("pipeline_defaults")
    w = "pipeline_defaults"
    return {"end_of_speech_s": _q(d, "end_of_speech_silence", "s", w),
            "playout_s": _q(d, "playout_buffer", "s", w),
            "codec_bytes_per_s": _q(d, "audio_codec_bitrate", "B/s", w),
            "first_sentence_tokens": int(d.get("first_sentence_tokens", 15)),
            "device_call_overhead_s": _q(d, "device_call_overhead", "s", w),
            "cloud_call_overhead_s": _q(d, "cloud_call_overhead", "s", w)}


def names(section: str, kind: str | None = None) -> list[str]:
    """Entry names of a section; for speech_models, only those of `kind` when given."""
    entries = _section(section)
    return [k for k, e in entries.items() if kind is None or (isinstance(e, dict) and e.get("kind") == kind)]
