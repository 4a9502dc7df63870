"""Voice catalogs (catalog/voice.yaml): devices, networks, speech models, pipeline defaults, in SI."""

from __future__ import annotations

from dataclasses import dataclass

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError, NotFoundError
from chip2chat.units import UnitError, parse_quantity

FILE = "voice.yaml"


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
class SpeechModel:
    id: str
    kind: str  # asr, tts or speech_native
    params: float
    compute_per_audio_second: float  # FLOP per second of audio
    chunk_s: float  # streaming chunk (ASR) or first audio chunk (TTS) or frame (speech-native)
    first_audio_s: float  # speech-native: model latency to its first audio frame (frame + acoustic delay)
    first_packet_s: float = 0.0  # published time to the first audio packet on a server GPU (TTS), 0 if none


def _section(name: str) -> dict:
    data = read_yaml(FILE).get(name)
    if not isinstance(data, dict):
        raise ConfigError(f"catalog {FILE}", name, "missing section")
    return data


def device(name: str) -> Device:
    entries = _section("devices")
    if name not in entries:
        raise NotFoundError("device", name, list(entries))
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
        raise NotFoundError("network", name, list(entries))
    e = entries[name]
    where = f"networks.{name}"
    return Network(id=name, rtt_median_s=_q(e, "rtt_median", "s", where), rtt_p90_s=_q(e, "rtt_p90", "s", where),
                   uplink_bytes_per_s=_q(e, "uplink", "B/s", where), downlink_bytes_per_s=_q(e, "downlink", "B/s", where),
                   radio_energy_per_bit_j=_q(e, "radio_energy_per_bit", "J", where, default=10e-9))


def speech_model(name: str, kind: str | None = None) -> SpeechModel:
    entries = _section("speech_models")
    if name not in entries:
        raise NotFoundError("speech model", name, list(entries))
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
    first = _q(e, "theoretical_latency", "s", where, default=chunk) if e.get("theoretical_latency") else chunk
    packet_key = next((k for k in ("first_packet_latency_measured_p50", "first_packet_latency") if e.get(k)), None)
    packet = _q(e, packet_key, "s", where) if packet_key else 0.0
    return SpeechModel(id=name, kind=e.get("kind", ""), params=params, compute_per_audio_second=compute,
                       chunk_s=chunk, first_audio_s=first, first_packet_s=packet)


def defaults() -> dict:
    d = _section("pipeline_defaults")
    return {"end_of_speech_s": _q(d, "end_of_speech_silence", "s", "pipeline_defaults"),
            "playout_s": _q(d, "playout_buffer", "s", "pipeline_defaults"),
            "codec_bytes_per_s": _q(d, "audio_codec_bitrate", "B/s", "pipeline_defaults"),
            "first_sentence_tokens": int(d.get("first_sentence_tokens", 15))}


def names(section: str) -> list[str]:
    return list(_section(section))
