"""The voice part of a scenario (YAML `voice:` section, or a file of its own for `chip2chat voice`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from chip2chat.errors import ConfigError, StrictModel, validated
from chip2chat.models.dtypes import KV_DTYPES, WEIGHT_DTYPES
from chip2chat.units import quantity
from chip2chat.userfiles import read_mapping
from chip2chat.voice import catalog

MAX_DRAWS = 1_000_000
"""Monte Carlo draws per (configuration, network): 1e6 takes a few seconds; more buys nothing visible."""

Count = Annotated[int, Field(strict=True)]  # a whole number as written (no 3.5, no true, no "600")


class _Spec(StrictModel):
    """No unknown field, no inf or nan in any float. Read user data with `voice_from_dict`."""


class CloudLlm(_Spec):

    model: str = "llama-3.3-70b"
    hardware: str = "h200"
    """The server GPU of the LLM; the cloud speech models (ASR, TTS, speech-native) run on it too."""
    tp: Count = Field(default=2, ge=1, le=64)
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    rate_per_s: float = Field(default=4.0, gt=0, le=10_000)
    """Requests per second on one replica: the datacenter's load the voice turns see."""
    num_requests: Count = Field(default=1000, ge=50, le=1_000_000)

    @field_validator("weight_dtype")
    @classmethod
    def _weight_dtype(cls, v: str) -> str:
        return _one_of(v, WEIGHT_DTYPES)

    @field_validator("kv_dtype")
    @classmethod
    def _kv_dtype(cls, v: str) -> str:
        return _one_of(v, KV_DTYPES)


class VoiceSpec(_Spec):

    device: str = "iphone-16-pro"
    """A device of catalog/voice.yaml."""
    networks: list[str] = Field(default=["wifi", "5g-sa", "5g-nsa", "lte"], min_length=1)
    """Networks of catalog/voice.yaml to compare (at least one)."""
    asr: str = "parakeet-tdt-0.6b"
    tts: str = "kokoro-82m"
    speech_native: str = "moshi-7b"
    on_device_model: str = "llama-3.2-3b"
    on_device_weight_dtype: str = "int4"
    cloud: CloudLlm = CloudLlm()
    system_prompt_tokens: Count = Field(default=600, ge=0, le=1_000_000)
    history_tokens: Count = Field(default=300, ge=0, le=1_000_000)
    utterance_seconds: float = Field(default=3.0, gt=0, le=600)
    """How long the user speaks in a turn."""
    response_tokens: Count = Field(default=80, ge=1, le=100_000)
    turns_per_day: float = Field(default=12, gt=0, le=100_000)
    npu_efficiency: float = Field(default=0.3, gt=0, le=1)
    end_of_speech_silence: Annotated[float, quantity("s", 0.0, 10.0, example="500 ms")] | None = None
    """Silence the endpointer waits for before the turn is over, with its unit ('500 ms'), 0 to 10 s;
    default: catalog/voice.yaml pipeline_defaults. Held in seconds once read."""
    playout_buffer: Annotated[float, quantity("s", 0.0, 10.0, example="40 ms")] | None = None
    """Audio the player buffers before it starts, with its unit ('40 ms'), 0 to 10 s; default: the catalog's."""
    draws: Count = Field(default=10_000, ge=100, le=MAX_DRAWS)
    """Monte Carlo draws per configuration and network."""
    seed: Count = 0

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        return _known(v, "device", catalog.names("devices"))

    @field_validator("networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        known = catalog.names("networks")
        return [_known(n, "network", known) for n in v]

    @field_validator("asr", "tts", "speech_native")
    @classmethod
    def _speech_model(cls, v: str, info) -> str:
        kind = info.field_name
        known = catalog.names("speech_models", kind)
        if v not in known and v in catalog.names("speech_models"):
            raise ValueError(f"{v!r} is not a {kind} model; {kind} models: {', '.join(known)}")
        return _known(v, f"{kind} model", known)

    @field_validator("on_device_weight_dtype")
    @classmethod
    def _device_dtype(cls, v: str) -> str:
        return _one_of(v, WEIGHT_DTYPES)

    @property
    def user_tokens(self) -> int:
        from chip2chat.voice.pipeline import TOKENS_PER_SPOKEN_SECOND

        return round(self.utterance_seconds * TOKENS_PER_SPOKEN_SECOND)

    @property
    def prompt_tokens(self) -> int:
        """What the cloud LLM reads each turn: system prompt + conversation so far + the user's words."""
        return self.system_prompt_tokens + self.history_tokens + self.user_tokens


def _known(name: str, kind: str, known: list[str]) -> str:
    if name not in known:
        raise catalog.UnknownVoiceName(kind, name, known)
    return name


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def load_voice(path: str | Path) -> VoiceSpec:
    raw = read_mapping(path, "a voice turn (or a scenario with a voice section)")
    return voice_from_dict(raw.get("voice", raw), str(path))


def voice_from_dict(raw, source: str = "voice") -> VoiceSpec:
    if not isinstance(raw, dict):
        raise ConfigError(source, "voice", f"expected a mapping of voice settings, got {type(raw).__name__}")
    return validated(VoiceSpec, raw, source)
