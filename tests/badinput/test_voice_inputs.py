"""Bad voice input: one line naming the field and what is allowed, exit 2, no traceback, and
nothing simulated first (each case fails while the file is read or the names are looked up)."""

import math

import pytest
from contract import api_error, assert_bad

from chip2chat.errors import NotFoundError
from chip2chat.voice.run import compare
from chip2chat.voice.scenario import MAX_DRAWS, VoiceSpec, voice_from_dict


def voice_file(tmp_path, text: str):
    path = tmp_path / "voice.yaml"
    path.write_text(text)
    return path


def run_voice(cli, tmp_path, text: str):
    return cli("voice", voice_file(tmp_path, text), "--plot", tmp_path / "v.png")


@pytest.mark.parametrize("text, mentions", [
    ("networks: []", ["networks", "at least 1 item"]),
    ("utterance_seconds: .inf", ["utterance_seconds", "finite number"]),
    ("utterance_seconds: .nan", ["utterance_seconds", "finite number"]),
    ("turns_per_day: -.inf", ["turns_per_day"]),
    ("cloud: {rate_per_s: .nan}", ["cloud.rate_per_s", "finite number"]),
    ("draws: 100000000", ["draws", f"less than or equal to {MAX_DRAWS}"]),
    ("draws: 1e8", ["draws", "integer"]),  # YAML reads 1e8 as a float: not a count
    ("device: nokia-3310", ["device", "unknown device 'nokia-3310'", "iphone-16-pro"]),
    ("networks: [wifi, 6g]", ["networks", "unknown network '6g'", "5g-sa"]),
    ("asr: parakeet-9b", ["asr", "unknown asr model 'parakeet-9b'", "parakeet-tdt-0.6b"]),
    ("tts: parakeet-tdt-0.6b", ["tts", "is not a tts model", "kokoro-82m"]),
    ("response_tokens: 80.5", ["response_tokens", "integer"]),
    ("system_prompt_tokens: '600'", ["system_prompt_tokens", "integer"]),
    ("history_tokens: true", ["history_tokens", "integer"]),
    ("end_of_speech_silence: 500", ["end_of_speech_silence", "has no unit", "e.g. '500 ms'"]),
    ("playout_buffer: 40", ["playout_buffer", "has no unit", "e.g. '40 ms'"]),
    ("playout_buffer: forty ms", ["playout_buffer", "cannot read 'forty ms'", "40 ms"]),
    ("end_of_speech_silence: 2 min", ["end_of_speech_silence", "cannot read"]),
    ("end_of_speech_silence: 30 s", ["end_of_speech_silence", "outside the plausible range 0 s to 10 s"]),
    ("on_device_weight_dtype: int3", ["on_device_weight_dtype", "'int3' is not one of", "int4"]),
    ("cloud: {tp: 0}", ["cloud.tp", "greater than or equal to 1"]),
    ("microphone: on", ["microphone", "Extra inputs are not permitted"]),
])
def test_bad_voice_field_is_one_line_naming_it(cli, tmp_path, text, mentions):
    assert_bad(run_voice(cli, tmp_path, text), 2, *mentions)


def test_a_voice_file_that_is_not_a_mapping(cli, tmp_path):
    assert_bad(run_voice(cli, tmp_path, "- wifi\n- lte\n"), 2, "voice.yaml", "expected a mapping", "list")


def test_a_voice_section_that_is_not_a_mapping(cli, tmp_path):
    assert_bad(run_voice(cli, tmp_path, "name: x\nvoice: [wifi, lte]\n"), 2, "voice", "expected a mapping", "list")


def test_an_empty_voice_file(cli, tmp_path):
    assert_bad(run_voice(cli, tmp_path, "# nothing yet\n"), 2, "voice.yaml", "empty")


def test_an_unknown_on_device_model_fails_before_the_simulation(cli, tmp_path):
    assert_bad(run_voice(cli, tmp_path, "on_device_model: llama-9.9-1t"), 2, "llama-9.9-1t")


def test_api_validation_names_the_field():
    api_error(voice_from_dict, "networks", "at least 1 item", raw={"networks": []})
    api_error(voice_from_dict, "utterance_seconds", "finite", raw={"utterance_seconds": math.inf})
    api_error(voice_from_dict, "draws", "1000000", raw={"draws": 10**8})
    api_error(voice_from_dict, "voice", "expected a mapping", raw=["wifi"])


def test_api_unknown_names_are_not_found_errors_even_without_validation():
    # model_copy skips validation; compare still looks every name up before it simulates
    for update, text in [({"device": "nokia-3310"}, "unknown device"), ({"networks": ["6g"]}, "unknown network"),
                         ({"asr": "nope"}, "unknown speech model")]:
        with pytest.raises(NotFoundError, match=text):
            compare(VoiceSpec(draws=100).model_copy(update=update))

    api_error(voice_from_dict, "end_of_speech_silence", "has no unit", raw={"end_of_speech_silence": 0.5})


def test_plot_with_an_unknown_image_format_fails_before_the_work(cli, tmp_path):
    assert_bad(cli("voice", "--plot", tmp_path / "stages.bmpx"), 2, "--plot", ".bmpx is not an image format", ".png")


def test_plot_into_a_folder_writes_voice_png_there_and_says_so(cli, tmp_path):
    result = cli("voice", "--plot", tmp_path)
    assert result.code == 0 and (tmp_path / "voice.png").is_file()
    assert f"plot: {(tmp_path / 'voice.png').resolve()}" in " ".join(result.out.split())
