"""The voice part of a scenario (YAML `voice:` section, or a file of its own for `chip2chat voice`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from chip2chat.errors import ConfigError, validated
from chip2chat.userfiles import read_mapping


class CloudLlm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "llama-3.3-70b"
    hardware: str = "h200"
    tp: int = Field(default=2, ge=1)
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    rate_per_s: float = Field(default=4.0, gt=0)
    """Requests per second on one replica: the datacenter's load the voice turns see."""
    num_requests: int = Field(default=1000, ge=50)


class VoiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = "iphone-16-pro"
    """A device of catalog/voice.yaml."""
    networks: list[str] = ["wifi", "5g-sa", "5g-nsa", "lte"]
    asr: str = "parakeet-tdt-0.6b"
    tts: str = "kokoro-82m"
    speech_native: str = "moshi-7b"
    on_device_model: str = "llama-3.2-3b"
    on_device_weight_dtype: str = "int4"
    cloud: CloudLlm = CloudLlm()
    system_prompt_tokens: int = Field(default=600, ge=0)
    history_tokens: int = Field(default=300, ge=0)
    utterance_seconds: float = Field(default=3.0, gt=0)
    """How long the user speaks in a turn."""
    response_tokens: int = Field(default=80, ge=1)
    turns_per_day: float = Field(default=12, gt=0)
    npu_efficiency: float = Field(default=0.3, gt=0, le=1)
    draws: int = Field(default=10_000, ge=100)
    seed: int = 0

    @property
    def user_tokens(self) -> int:
        from chip2chat.voice.pipeline import TOKENS_PER_SPOKEN_SECOND

        return round(self.utterance_seconds * TOKENS_PER_SPOKEN_SECOND)

    @property
    def prompt_tokens(self) -> int:
        """What the cloud LLM reads each turn: system prompt + conversation so far + the user's words."""
        return self.system_prompt_tokens + self.history_tokens + self.user_tokens


def load_voice(path: str | Path) -> VoiceSpec:
    raw = read_mapping(path, "a voice turn (or a scenario with a voice section)")
    return voice_from_dict(raw.get("voice", raw), str(path))


def voice_from_dict(raw, source: str = "voice") -> VoiceSpec:
    if not isinstance(raw, dict):
        raise ConfigError(source, "voice", "expected a mapping")
    return validated(VoiceSpec, raw, source)
