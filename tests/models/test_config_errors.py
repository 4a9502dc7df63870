import json

import pytest

from chip2chat.errors import ConfigError
from chip2chat.models.config import load_config_file
from chip2chat.models.load import load_model


def _write(tmp_path, cfg):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


LLAMA_8B = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=8, vocab_size=128256)


def test_any_config_json_path_works(tmp_path):
    m = load_model(str(_write(tmp_path, LLAMA_8B)))
    assert m.total_params == pytest.approx(8.03e9, rel=0.01)


def test_missing_field_is_named(tmp_path):
    cfg = {k: v for k, v in LLAMA_8B.items() if k != "num_hidden_layers"}
    with pytest.raises(ConfigError, match=r"config.json: num_hidden_layers: missing"):
        load_config_file(_write(tmp_path, cfg))


def test_bad_value_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"num_attention_heads: expected an integer >= 1, got -4"):
        load_config_file(_write(tmp_path, {**LLAMA_8B, "num_attention_heads": -4}))


def test_not_json_gives_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"hidden_size": 4096,\n oops}')
    with pytest.raises(ConfigError, match=r"line 2: not valid JSON"):
        load_config_file(path)
