"""Any file a command reads, given as binary bytes, a folder, or broken text: one line, never a traceback.

Every reader of a user's file goes through chip2chat.userfiles, so each command is tried here with
the two inputs that used to end in a UnicodeDecodeError or IsADirectoryError traceback.
"""

import json

import pytest

from contract import api_error, assert_bad

BINARY = bytes(range(256))  # NUL bytes and every byte that is not UTF-8 on its own


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # commands that write (plan, voice, sweep) would write here


# each command that reads a file, with `{}` where the file goes
COMMANDS = {
    "estimate --model": ["estimate", "--model", "{}", "--hardware", "h100"],
    "estimate --hardware": ["estimate", "--model", "llama-3.1-8b", "--hardware", "{}"],
    "simulate --trace azure": ["simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--trace", "{}",
                               "--trace-format", "azure"],
    "simulate --trace burstgpt": ["simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--trace", "{}",
                                  "--trace-format", "burstgpt"],
    "simulate --trace mooncake": ["simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--trace", "{}",
                                  "--trace-format", "mooncake"],
    "plan": ["plan", "{}"],
    "voice": ["voice", "{}"],
    "chip": ["chip", "{}"],
    "sweep": ["sweep", "{}"],
    "validate --data": ["validate", "--data", "{}", "--workers", "1"],
    "calibrate --from-raw": ["calibrate", "--hardware", "h200", "--from-raw", "{}", "--out", "profile.yaml"],
}


def _args(command: str, path) -> list[str]:
    return [str(path) if a == "{}" else a for a in COMMANDS[command]]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_binary_file_is_not_a_text_file(cli, tmp_path, command):
    # bytes(range(256)) once ended in UnicodeDecodeError; now the file and what was expected are named
    path = tmp_path / "data.bin"
    path.write_bytes(BINARY)
    assert_bad(cli(*_args(command, path)), 2, str(path), "not a text file (UTF-8)", "expected")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_is_not_a_file(cli, tmp_path, command):
    # a folder once ended in IsADirectoryError (or, for traces, "no such file")
    folder = tmp_path / "somewhere"
    folder.mkdir()
    assert_bad(cli(*_args(command, folder)), 2, str(folder), "is a folder, not a file", "expected")


def test_latin1_yaml_names_the_line_of_the_bad_byte(cli, tmp_path):
    # text saved as Latin-1 (a common editor default) is not UTF-8: the line of the first bad byte
    path = tmp_path / "chip.yaml"
    path.write_bytes("name: test\nnotes: caf\xe9\n".encode("latin-1"))
    assert_bad(cli("estimate", "--model", "llama-3.1-8b", "--hardware", path), 2,
               str(path), "line 2", "not a text file (UTF-8)", "byte 0xe9")


def test_utf16_csv_is_not_mistaken_for_text(cli, tmp_path):
    # UTF-16 of ASCII text decodes as "UTF-8" full of NULs; it must not reach the CSV parser
    path = tmp_path / "raw.csv"
    path.write_text("kind,dtype,shape,flops,bytes,ranks,seconds\n", encoding="utf-16")
    assert_bad(cli("calibrate", "--hardware", "h200", "--from-raw", path), 2, str(path), "UTF-16")


def test_a_bad_byte_deep_in_a_trace_names_its_line(cli, tmp_path):
    # traces are read line by line (millions of rows): the bad line is named, not just the file
    path = tmp_path / "trace.jsonl"
    good = json.dumps({"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": [1]})
    path.write_bytes(((good + "\n") * 40).encode() + b"\xff\xfe\n")
    assert_bad(cli("simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--trace", path,
                   "--trace-format", "mooncake"), 2, str(path), "line 41", "not a text file (UTF-8)")


def test_invalid_config_json_names_file_line_and_column(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n  "hidden_size": 4096,\n  "num_attention_heads": 32\n  "vocab_size": 1\n}\n')
    assert_bad(cli("estimate", "--model", path, "--hardware", "h100"), 2,
               str(path), "line 4", "not valid JSON", "column 3")


def test_deeply_nested_json_is_one_line(cli, tmp_path):
    # json.loads raises RecursionError, not JSONDecodeError, past ~1000 levels
    path = tmp_path / "config.json"
    path.write_text("[" * 100_000)
    assert_bad(cli("estimate", "--model", path, "--hardware", "h100"), 2, str(path), "nested too deeply")


def test_empty_yaml_says_it_is_empty(cli, tmp_path):
    path = tmp_path / "chip.yaml"
    path.write_text("# nothing yet\n")
    assert_bad(cli("chip", path), 2, str(path), "empty", "one chip design")


def test_missing_file_says_what_was_expected(cli, tmp_path):
    assert_bad(cli("validate", "--data", tmp_path / "nope.csv"), 2, "nope.csv", "no such file", "validation CSV")


def test_a_model_folder_holding_config_json_is_read(tmp_path):
    # a Hugging Face download is a folder with config.json in it: `--model ./that-folder` reads it
    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.models.load import load_model

    folder = tmp_path / "my-llama"
    folder.mkdir()
    (folder / "config.json").write_text((CATALOG_DIR / "models" / "llama-3.1-8b.json").read_text())
    model = load_model(str(folder))
    assert model.num_layers == 32


def test_calibration_profile_file_errors_are_one_line_and_empty_means_defaults(tmp_path):
    from chip2chat.hardware.calibration import DEFAULT, load_profile_file

    empty = tmp_path / "empty.yaml"
    empty.write_text("# measured nothing yet\n")
    assert load_profile_file(empty) == DEFAULT  # the documented defaults
    binary = tmp_path / "profile.yaml"
    binary.write_bytes(BINARY)
    api_error(load_profile_file, str(binary), "not a text file (UTF-8)", path=binary)
    api_error(load_profile_file, "expected a mapping", path=_write(tmp_path / "list.yaml", "- 1\n- 2\n"))


def _write(path, text):
    path.write_text(text)
    return path
