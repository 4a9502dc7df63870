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


@pytest.mark.parametrize("arch, model_type, fields", [
    # real configs' own field names: none has hidden_size, which used to be the error
    ("GPTJForCausalLM", "gptj", dict(n_embd=4096, n_layer=28, n_head=16, vocab_size=50400)),
    ("GPT2LMHeadModel", "gpt2", dict(n_embd=768, n_layer=12, n_head=12, vocab_size=50257)),
    ("BertForMaskedLM", "bert", dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12)),
    ("T5ForConditionalGeneration", "t5", dict(d_model=512, num_layers=6, num_heads=8)),
    ("MambaForCausalLM", "mamba", dict(hidden_size=768, num_hidden_layers=24, vocab_size=50280)),
])
def test_an_unsupported_architecture_is_named_as_such(tmp_path, arch, model_type, fields):
    path = _write(tmp_path, {"architectures": [arch], "model_type": model_type, **fields})
    with pytest.raises(ConfigError) as err:
        load_model(str(path))
    message = str(err.value)
    assert f"architectures: unsupported architecture '{arch}' (model_type {model_type}): chip2chat models " \
           "decoder-only transformers of these families: Llama" in message
    assert "DeepSeek-V3/R1" in message and "gpt-oss" in message and "\n" not in message
    assert "missing" not in message


def test_a_model_type_alone_is_named_too(tmp_path):
    with pytest.raises(ConfigError, match=r"model_type: unsupported architecture 'falcon'"):
        load_config_file(_write(tmp_path, {**LLAMA_8B, "model_type": "falcon"}))


@pytest.mark.parametrize("extra", [
    {},                                                            # hand-written: no family named
    {"architectures": ["LlamaForCausalLM"]},                       # architectures alone
    {"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
])
def test_supported_or_unnamed_families_load(tmp_path, extra):
    assert load_config_file(_write(tmp_path, {**LLAMA_8B, **extra})).num_layers == 32


def test_a_multimodal_wrapper_of_a_supported_text_model_loads(tmp_path):
    # e.g. Mistral 3: model_type mistral3 around a text_config of model_type mistral
    cfg = {"architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
           "text_config": {**LLAMA_8B, "model_type": "mistral"}}
    assert load_config_file(_write(tmp_path, cfg)).num_layers == 32


def test_every_catalog_model_is_of_a_supported_family():
    from chip2chat.models.load import model_ids

    assert all(load_model(m).total_params > 0 for m in model_ids())
