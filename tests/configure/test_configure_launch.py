"""Launch files (configure/launch.py) use only the engines' documented flag names and YAML keys.

Every generated command is parsed by an argparse parser built from the lists below (a flag that
takes a value must get one; an unknown flag fails), and each list names where it was read:
- vLLM 0.10.1 `vllm serve` engine arguments: https://docs.vllm.ai/en/v0.8.5/serving/engine_args.html
  (--tensor-parallel-size, --pipeline-parallel-size, --max-num-seqs, --max-num-batched-tokens,
  --enable-chunked-prefill, --kv-cache-dtype {auto,fp8,...}, --gpu-memory-utilization, --quantization fp8,
  --max-model-len; boolean arguments take --no-... as well, e.g. --use-tqdm-on-load | --no-use-tqdm-on-load),
  https://docs.vllm.ai/en/v0.10.1.1/serving/expert_parallel_deployment.html (--enable-expert-parallel,
  --data-parallel-size), https://docs.vllm.ai/en/stable/features/nixl_connector_usage.html (--port,
  --kv-transfer-config with the NixlConnector).
- SGLang 0.5.3 server arguments: https://docs.sglang.io/advanced_features/server_arguments.html and
  https://docs.sglang.io/cookbook/base/reference/server_arguments (--model-path, --tp-size, --dp-size,
  --ep-size, --enable-dp-attention, --pp-size, --max-running-requests, --max-prefill-tokens,
  --chunked-prefill-size (-1 disables chunking), --kv-cache-dtype {auto,fp8_e5m2,fp8_e4m3},
  --mem-fraction-static, --quantization, --context-length, --port, --served-model-name,
  --disaggregation-mode {prefill,decode}, --disaggregation-transfer-backend, --disaggregation-bootstrap-port).
- TensorRT-LLM 1.0.0 `trtllm-serve`: https://nvidia.github.io/TensorRT-LLM/1.0.0rc6/commands/trtllm-serve/trtllm-serve.html
  and https://nvidia.github.io/TensorRT-LLM/0.18.2/commands/trtllm-serve.html (--backend pytorch, --tp_size,
  --pp_size, --ep_size, --max_batch_size, --max_num_tokens, --max_seq_len, --kv_cache_free_gpu_memory_fraction,
  --host, --port, --extra_llm_api_options); the YAML's LLM API keys:
  https://nvidia.github.io/TensorRT-LLM/1.0.0/commands/trtllm-serve/run-benchmark-with-trtllm-serve.html,
  https://nvidia.github.io/TensorRT-LLM/llm-api/reference/KvCacheConfig.html (kv_cache_config.dtype,
  free_gpu_memory_fraction), https://nvidia.github.io/TensorRT-LLM/performance/performance-tuning-guide/useful-runtime-flags.html
  (scheduler_config.capacity_scheduler_policy GUARANTEED_NO_EVICT) and the LLM API telemetry key list
  https://nvidia.github.io/TensorRT-LLM/latest/developer-guide/telemetry.html (cache_transceiver_config.backend,
  enable_attention_dp, enable_chunked_prefill, disable_overlap_scheduler, moe_expert_parallel_size, ...).
- NVIDIA Dynamo 1.6: https://docs.nvidia.com/dynamo/v1.6.0/reference/backends/v-llm-configuration (python3 -m
  dynamo.vllm takes vLLM's own arguments plus --disaggregation-mode), https://docs.nvidia.com/dynamo/v1.0.1/backends/sg-lang/disaggregation
  (dynamo.sglang takes SGLang's arguments with --disaggregation-mode / transfer backend nixl / bootstrap port),
  https://docs.nvidia.com/dynamo/dev/backends/tensor-rt-llm-configuration (dynamo.trtllm: --model-path,
  --served-model-name, --extra-engine-args YAML, --disaggregation-mode),
  https://docs.nvidia.com/dynamo/dev/cli/model-deployment/disaggregated-serving.md (python -m dynamo.frontend, --http-port).
- Speculative decoding (configure/launch.py emits it only for a configuration that runs it):
  vLLM https://docs.vllm.ai/en/v0.10.0/features/spec_decode.html (--speculative-config JSON with "model",
  "num_speculative_tokens", "method" eagle3) and vLLM's DeepSeek MTP method name "deepseek_mtp" as its
  recipes pass it (--speculative-config '{"method": "deepseek_mtp", "num_speculative_tokens": 1}');
  SGLang https://docs.sglang.io/advanced_features/speculative_decoding.html and the server-argument page
  above (--speculative-algorithm {EAGLE,EAGLE3,NEXTN,STANDALONE,...}, --speculative-draft-model-path,
  --speculative-num-steps, --speculative-eagle-topk, --speculative-num-draft-tokens);
  TensorRT-LLM 1.0.0 https://nvidia.github.io/TensorRT-LLM/1.0.0/examples/llm_speculative_decoding.html
  (MTPDecodingConfig num_nextn_predict_layers; EagleDecodingConfig max_draft_len, speculative_model_dir,
  eagle3_one_model) and https://nvidia.github.io/TensorRT-LLM/features/speculative-decoding.html (YAML
  speculative_config.decoding_type MTP / Eagle / DraftTarget; draft/target for all models).
"""

import argparse
import json
import shlex

import pytest
import yaml

from chip2chat.configure.launch import DRAFT_MODEL, SGLANG_ALGORITHM, VERSIONS, launch_files
from chip2chat.configure.space import AGGREGATED, DISAGGREGATED, Candidate, Workers
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.speculative import Speculative

VALUE, SWITCH = True, False
VLLM = {"--tensor-parallel-size": VALUE, "--pipeline-parallel-size": VALUE, "--data-parallel-size": VALUE,
        "--enable-expert-parallel": SWITCH, "--max-num-seqs": VALUE, "--max-num-batched-tokens": VALUE,
        "--enable-chunked-prefill": SWITCH, "--no-enable-chunked-prefill": SWITCH, "--kv-cache-dtype": VALUE,
        "--gpu-memory-utilization": VALUE, "--quantization": VALUE, "--max-model-len": VALUE, "--port": VALUE,
        "--model": VALUE, "--kv-transfer-config": VALUE, "--speculative-config": VALUE}
SGLANG = {"--model-path": VALUE, "--tp-size": VALUE, "--pp-size": VALUE, "--dp-size": VALUE, "--ep-size": VALUE,
          "--enable-dp-attention": SWITCH, "--max-running-requests": VALUE, "--max-prefill-tokens": VALUE,
          "--chunked-prefill-size": VALUE, "--kv-cache-dtype": VALUE, "--mem-fraction-static": VALUE,
          "--quantization": VALUE, "--context-length": VALUE, "--port": VALUE, "--served-model-name": VALUE,
          "--disaggregation-mode": VALUE, "--disaggregation-transfer-backend": VALUE,
          "--disaggregation-bootstrap-port": VALUE, "--speculative-algorithm": VALUE,
          "--speculative-draft-model-path": VALUE, "--speculative-num-steps": VALUE, "--speculative-eagle-topk": VALUE,
          "--speculative-num-draft-tokens": VALUE}
TRTLLM = {"--backend": VALUE, "--tp_size": VALUE, "--pp_size": VALUE, "--ep_size": VALUE, "--max_batch_size": VALUE,
          "--max_num_tokens": VALUE, "--max_seq_len": VALUE, "--kv_cache_free_gpu_memory_fraction": VALUE,
          "--host": VALUE, "--port": VALUE, "--extra_llm_api_options": VALUE}
DYNAMO_FRONTEND = {"--http-port": VALUE}
DYNAMO_VLLM = {**VLLM, "--disaggregation-mode": VALUE}
DYNAMO_TRTLLM = {"--model-path": VALUE, "--served-model-name": VALUE, "--extra-engine-args": VALUE,
                 "--disaggregation-mode": VALUE}
TRTLLM_YAML = {"tensor_parallel_size", "pipeline_parallel_size", "moe_expert_parallel_size", "max_batch_size",
               "max_num_tokens", "max_seq_len", "enable_attention_dp", "enable_chunked_prefill", "kv_cache_config",
               "kv_cache_config.dtype", "kv_cache_config.free_gpu_memory_fraction", "scheduler_config",
               "scheduler_config.capacity_scheduler_policy", "cache_transceiver_config",
               "cache_transceiver_config.backend", "disable_overlap_scheduler", "speculative_config",
               "speculative_config.decoding_type", "speculative_config.num_nextn_predict_layers",
               "speculative_config.max_draft_len", "speculative_config.speculative_model_dir",
               "speculative_config.eagle3_one_model"}
TRTLLM_DECODING_TYPES = {"MTP", "Eagle", "DraftTarget"}
VLLM_SPECULATIVE_KEYS = {"method", "model", "num_speculative_tokens"}
VLLM_SPECULATIVE_METHODS = {"deepseek_mtp", "eagle3"}
VLLM_CHOICES = {"--kv-cache-dtype": {"auto", "fp8", "fp8_e4m3", "fp8_e5m2"}, "--quantization": {"fp8"},
                "--disaggregation-mode": {"prefill", "decode"}}
SGLANG_CHOICES = {"--kv-cache-dtype": {"auto", "fp8_e5m2", "fp8_e4m3"}, "--quantization": {"fp8"},
                  "--disaggregation-mode": {"prefill", "decode"}, "--disaggregation-transfer-backend": {"nixl"},
                  "--speculative-algorithm": {"EAGLE", "EAGLE3", "NEXTN", "STANDALONE", "NGRAM"}}
TRTLLM_CHOICES = {"--backend": {"pytorch"}, "--disaggregation-mode": {"prefill", "decode"}}
PROGRAMS = {("vllm", "serve"): (VLLM, True, VLLM_CHOICES), ("trtllm-serve",): (TRTLLM, True, TRTLLM_CHOICES),
            ("python3", "-m", "sglang.launch_server"): (SGLANG, False, SGLANG_CHOICES),
            ("python3", "-m", "dynamo.frontend"): (DYNAMO_FRONTEND, False, {}),
            ("python3", "-m", "dynamo.vllm"): (DYNAMO_VLLM, False, VLLM_CHOICES),
            ("python3", "-m", "dynamo.sglang"): (SGLANG, False, SGLANG_CHOICES),
            ("python3", "-m", "dynamo.trtllm"): (DYNAMO_TRTLLM, False, TRTLLM_CHOICES)}


def parser(flags: dict, positional_model: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(exit_on_error=False, add_help=False, allow_abbrev=False)
    if positional_model:
        p.add_argument("model")
    for flag, takes_value in flags.items():
        p.add_argument(flag, **({"action": "append"} if takes_value else {"action": "store_true"}))
    return p


def commands(script: str):
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip().removesuffix("&").strip()
        if not line or line.startswith("#") or line == "wait":
            continue
        words = shlex.split(line)
        while words and "=" in words[0] and not words[0].startswith("-"):  # VAR=value before the command
            words.pop(0)
        yield words


def check_command(words: list[str]) -> None:
    for program, (flags, positional, choices) in PROGRAMS.items():
        if tuple(words[:len(program)]) == program:
            parsed = vars(parser(flags, positional).parse_args(words[len(program):]))
            for flag, allowed in choices.items():
                for value in parsed.get(flag.lstrip("-").replace("-", "_")) or []:
                    assert value in allowed, f"{flag} {value}"
            return
    raise AssertionError(f"unknown program: {words[:3]}")


def keys(mapping: dict, prefix: str = ""):
    for key, value in mapping.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from keys(value, prefix + key + ".")


def workers(tp=1, count=1, chip="h200", pp=1, ep=1, adp=False, seqs=256, tokens=8192, chunked=True):
    return Workers(chip.upper(), ParallelPlan(tp, pp, ep, adp), count, seqs, tokens, chunked, hardware=chip)


CASES = [
    ("llama-3.1-70b", Candidate(AGGREGATED, (workers(tp=2, count=4),), "fp8")),
    ("llama-3.1-70b", Candidate(AGGREGATED, (workers(tp=2, pp=4, seqs=128, tokens=2048, chunked=False),), "bf16")),
    ("llama-3.1-70b", Candidate(DISAGGREGATED, (workers(count=5), workers(count=3, seqs=128)), "fp8")),
    ("llama-3.1-70b", Candidate(DISAGGREGATED, (workers(count=2), workers(tp=2, chip="b200")), "fp8")),
    ("qwen3-30b-a3b", Candidate(AGGREGATED, (workers(tp=4, ep=4, adp=True),), "fp8")),
    ("qwen3-30b-a3b", Candidate(AGGREGATED, (workers(tp=4, ep=4, count=2),), "bf16")),
    ("qwen3-30b-a3b", Candidate(DISAGGREGATED, (workers(tp=2, ep=2), workers(tp=4, ep=4, adp=True)), "fp8")),
]


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
@pytest.mark.parametrize("weight_dtype", ["bf16", "fp8", "fp4"])
@pytest.mark.parametrize("model, candidate", CASES, ids=[c.label() for _, c in CASES])
def test_every_generated_command_parses_with_the_documented_flags(engine, weight_dtype, model, candidate):
    # reason: a launch file that an engine refuses is worse than none
    files = launch_files(model, candidate, engine, weight_dtype)
    script = files["launch.sh" if candidate.mode == AGGREGATED else "dynamo.sh"]
    launched = list(commands(script))
    servers = [w for w in launched if w[:3] != ["python3", "-m", "dynamo.frontend"]]
    assert len(servers) == candidate.replicas
    for words in launched:
        check_command(words)
    assert VERSIONS[engine] in script and (candidate.mode == AGGREGATED or VERSIONS["dynamo"] in script)
    for name, text in files.items():
        if name.endswith((".yml", ".yaml")):
            assert VERSIONS["trtllm"] in text
            assert set(keys(yaml.safe_load(text))) <= TRTLLM_YAML, name


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
def test_the_commands_say_what_the_simulation_ran(engine):
    # reason: the launch must be the configuration that was verified, not another
    c = CASES[0][1]
    script = launch_files("llama-3.1-70b", c, engine, "fp8")["launch.sh"]
    w = c.workers[0]
    flags = {"vllm": ("--tensor-parallel-size 2", f"--max-num-seqs {w.max_num_seqs}", "--kv-cache-dtype fp8"),
             "sglang": ("--tp-size 2", f"--max-running-requests {w.max_num_seqs}", "--kv-cache-dtype fp8_e4m3"),
             "trtllm": ("--tp_size 2", f"--max_batch_size {w.max_num_seqs}", "--extra_llm_api_options")}[engine]
    for line in [l for l in script.splitlines() if "CUDA_VISIBLE_DEVICES" in l]:
        assert all(f in line for f in flags)
    assert "meta-llama/Llama-3.1-70B-Instruct" in script  # the Hugging Face repo of the catalog model


@pytest.mark.parametrize("words", [
    ["vllm", "serve", "m", "--tensor-parallel", "2"],  # abbreviations are not documented names
    ["vllm", "serve", "m", "--max-num-seqs"],  # a value missing
    ["trtllm-serve", "m", "--tp-size", "2"],  # vLLM's spelling on trtllm-serve
    ["python3", "-m", "sglang.launch_server", "--model-path", "m", "--kv-cache-dtype", "fp8"],  # not an SGLang choice
])
def test_the_check_refuses_what_the_engines_would(words):
    # reason: the check above must be able to fail
    with pytest.raises((SystemExit, argparse.ArgumentError, AssertionError)):
        check_command(words)


SPECULATIVE = [
    ("deepseek-v3", Speculative(method="mtp")),
    ("llama-3.1-70b", Speculative(method="eagle3", acceptance_length=2.5)),
    ("llama-3.1-70b", Speculative(method="draft_model", num_speculative_tokens=4, acceptance_length=2.0)),
]


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
@pytest.mark.parametrize("mode", [AGGREGATED, DISAGGREGATED])
@pytest.mark.parametrize("model, spec", SPECULATIVE, ids=[s.method for _, s in SPECULATIVE])
def test_speculative_decoding_is_launched_with_the_documented_flags(engine, mode, model, spec):
    # reason: a configuration that runs speculation launches it, with the k the simulation priced, in each
    # engine's documented spelling (lists above); every worker of a deployment alike
    w = workers(tp=8) if model == "deepseek-v3" else workers(tp=2)
    candidate = Candidate(mode, (w,) if mode == AGGREGATED else (w, w), "fp8", spec)
    files = launch_files(model, candidate, engine, "fp8")
    script = files["launch.sh" if mode == AGGREGATED else "dynamo.sh"]
    servers = [words for words in commands(script) if words[:3] != ["python3", "-m", "dynamo.frontend"]]
    k = spec.num_speculative_tokens
    for words in servers:
        check_command(words)
        if engine == "vllm":
            config = json.loads(words[words.index("--speculative-config") + 1])
            assert set(config) <= VLLM_SPECULATIVE_KEYS and config["num_speculative_tokens"] == k
            assert config.get("method", "eagle3") in VLLM_SPECULATIVE_METHODS
            assert ("model" in config) == (spec.method != "mtp")
        elif engine == "sglang":
            value = {f: words[words.index(f) + 1] for f in ("--speculative-algorithm", "--speculative-num-steps",
                                                             "--speculative-num-draft-tokens")}
            assert value == {"--speculative-algorithm": SGLANG_ALGORITHM[spec.method],
                             "--speculative-num-steps": str(k), "--speculative-num-draft-tokens": str(k + 1)}
    for name, text in files.items():
        if name.endswith((".yml", ".yaml")):
            options = yaml.safe_load(text)
            assert set(keys(options)) <= TRTLLM_YAML, name
            s = options["speculative_config"]
            assert s["decoding_type"] in TRTLLM_DECODING_TYPES
            assert s.get("num_nextn_predict_layers", s.get("max_draft_len")) == k
    assert (DRAFT_MODEL in script or any(DRAFT_MODEL in t for t in files.values())) == (spec.method != "mtp")


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
def test_no_speculative_flag_without_speculation(engine):
    # reason: only what the chosen configuration uses is emitted
    for model, candidate in CASES:
        text = "".join(launch_files(model, candidate, engine, "fp8").values())
        assert "speculative" not in text
