"""Launch files for a configuration: the engine's own server command (aggregated), or an NVIDIA
Dynamo deployment of prefill and decode workers (disaggregated), each naming the version it targets.

Flag names are the engines' documented ones (tests/configure/test_configure_launch.py keeps the lists with
their sources and checks every generated command against them):
- vLLM 0.10.1 `vllm serve` engine arguments;
- SGLang 0.5.3 `python -m sglang.launch_server` server arguments;
- TensorRT-LLM 1.0.0 `trtllm-serve` options and its `--extra_llm_api_options` YAML (LLM API keys);
- NVIDIA Dynamo 1.6 workers: `python3 -m dynamo.frontend`, `dynamo.vllm` / `dynamo.sglang` (the
  engine's own arguments plus `--disaggregation-mode`), `dynamo.trtllm` (`--extra-engine-args` YAML).

Speculative decoding, only where the configuration runs it (every worker of a deployment alike):
vLLM `--speculative-config` JSON (method deepseek_mtp / eagle3, or a draft "model"), SGLang
`--speculative-algorithm` NEXTN / EAGLE3 / STANDALONE with a chain of k steps (top-k 1, k + 1 draft
tokens), TensorRT-LLM `speculative_config` (decoding_type MTP / Eagle with eagle3_one_model /
DraftTarget). An EAGLE-3 head or a draft model is named DRAFT_MODEL in the files: the search prices
its acceptance length, not which checkpoint has it.
"""

from __future__ import annotations

import json
import shlex

import yaml

from chip2chat.catalog import find_entry
from chip2chat.configure.space import AGGREGATED, Candidate, Workers
from chip2chat.engine.defaults import GPU_MEMORY_UTILIZATION
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import memory_budget
from chip2chat.errors import Chip2ChatError
from chip2chat.models.load import INDEX

VERSIONS = {"vllm": "vLLM 0.10.1", "sglang": "SGLang 0.5.3", "trtllm": "TensorRT-LLM 1.0.0",
            "dynamo": "NVIDIA Dynamo 1.6"}
"""The engine version each generated file targets."""
KV_CACHE_DTYPE = {"vllm": {"bf16": "auto", "fp16": "auto", "fp8": "fp8"},
                  "sglang": {"bf16": "auto", "fp16": "auto", "fp8": "fp8_e4m3"},
                  "trtllm": {"bf16": "auto", "fp16": "auto", "fp8": "fp8"}}
"""The engines' names for a KV cache dtype ('auto': the model's dtype)."""
PORT = 8000
NODE_GPUS = 8
"""GPUs of one server: the devices of later replicas are numbered on the next server."""
NIXL = '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'
"""vLLM's KV transfer through NIXL, as Dynamo's disaggregated vLLM workers use it."""
DRAFT_MODEL = "DRAFT_MODEL"
"""Stands for the EAGLE-3 head or draft model's repo, which the user names."""


def model_id(model) -> str:
    """The Hugging Face repo of a catalog model (else what was given)."""
    name = model if isinstance(model, str) else model.name
    try:
        return find_entry("model", INDEX, name)[1].get("hf_repo", name)
    except Chip2ChatError:
        return name


def launch_files(model, candidate: Candidate, engine: str, weight_dtype: str,
                 max_model_len: int | None = None) -> dict[str, str]:
    """{file name: text} that launch `candidate` with `engine`."""
    repo = model_id(model)
    if candidate.kv_dtype not in KV_CACHE_DTYPE[engine]:
        raise Chip2ChatError(f"{VERSIONS[engine]} has no {candidate.kv_dtype} KV cache")
    if candidate.mode == AGGREGATED:
        return _aggregated(model, repo, candidate, engine, weight_dtype, max_model_len)
    return _dynamo(model, repo, candidate, engine, weight_dtype, max_model_len)


def _aggregated(model, repo, c: Candidate, engine, weight_dtype, max_model_len) -> dict[str, str]:
    w, spec = c.workers[0], c.speculative
    header = (f"#!/bin/bash\n# {c.label()}: {w.count} server(s) of {VERSIONS[engine]}, one per "
              f"{w.plan.num_devices} GPU(s), behind a round-robin load balancer{_draft_note(spec)}")
    files, lines = {}, [header]
    for i in range(w.count):
        gpus = _devices(lines, i * w.plan.num_devices, w.plan.num_devices)
        if engine == "vllm":
            command = ["vllm", "serve", repo, *_vllm(w, c.kv_dtype, weight_dtype, max_model_len, spec),
                       "--port", PORT + i]
        elif engine == "sglang":
            command = ["python3", "-m", "sglang.launch_server", "--model-path", repo,
                       *_sglang(w, c.kv_dtype, weight_dtype, max_model_len, spec), "--port", PORT + i]
        else:
            files["extra-llm-api-config.yml"] = _trtllm_yaml(model, w, c.kv_dtype, weight_dtype, max_model_len,
                                                             engine_settings=False, spec=spec)
            command = ["trtllm-serve", repo, *_trtllm_flags(model, w, c.kv_dtype, weight_dtype, max_model_len, spec),
                       "--port", PORT + i, "--extra_llm_api_options", "extra-llm-api-config.yml"]
        lines.append(f"CUDA_VISIBLE_DEVICES={gpus} {_join(command)} &")
    return {"launch.sh": "\n".join(lines + ["wait", ""]), **files}


def _dynamo(model, repo, c: Candidate, engine, weight_dtype, max_model_len) -> dict[str, str]:
    files, spec = {}, c.speculative
    header = (f"#!/bin/bash\n# {c.label()}: {VERSIONS['dynamo']} disaggregated serving with {VERSIONS[engine]} "
              f"workers (KV over NIXL).\n# Start etcd and NATS first (Dynamo's docker-compose); a pool on "
              f"other nodes runs its lines there.{_draft_note(spec)}")
    lines = [header, _join(["python3", "-m", "dynamo.frontend", "--http-port", PORT]) + " &"]
    offset, chip = 0, c.workers[0].chip
    for role, w in zip(("prefill", "decode"), c.workers):
        if w.chip != chip:  # another chip: its own nodes, numbered from their first GPU
            offset, chip = 0, w.chip
        lines.append(f"# {role}: {w.count} worker(s) of {w.plan.num_devices} GPU(s) on {w.chip} node(s)")
        for _ in range(w.count):
            if engine == "vllm":
                command = ["python3", "-m", "dynamo.vllm", "--model", repo,
                           *_vllm(w, c.kv_dtype, weight_dtype, max_model_len, spec), "--disaggregation-mode", role,
                           "--kv-transfer-config", NIXL]
            elif engine == "sglang":
                command = ["python3", "-m", "dynamo.sglang", "--model-path", repo, "--served-model-name", repo,
                           *_sglang(w, c.kv_dtype, weight_dtype, max_model_len, spec), "--disaggregation-mode", role,
                           "--disaggregation-transfer-backend", "nixl", "--disaggregation-bootstrap-port", 12345]
            else:
                files[f"{role}.yaml"] = _trtllm_yaml(model, w, c.kv_dtype, weight_dtype, max_model_len,
                                                     engine_settings=True, role=role, spec=spec)
                command = ["python3", "-m", "dynamo.trtllm", "--model-path", repo, "--served-model-name", repo,
                           "--extra-engine-args", f"{role}.yaml", "--disaggregation-mode", role]
            lines.append(f"CUDA_VISIBLE_DEVICES={_devices(lines, offset, w.plan.num_devices)} {_join(command)} &")
            offset += w.plan.num_devices
    return {"dynamo.sh": "\n".join(lines + ["wait", ""]), **files}


def _vllm(w: Workers, kv: str, weight_dtype: str, max_model_len, spec=None) -> list:
    p = w.plan
    parallel = (["--tensor-parallel-size", 1, "--data-parallel-size", p.tp] if p.attention_dp
                else ["--tensor-parallel-size", p.tp])
    flags = [*parallel, "--pipeline-parallel-size", p.pp, *(["--enable-expert-parallel"] if p.ep > 1 else []),
             "--max-num-seqs", w.max_num_seqs, "--max-num-batched-tokens", w.max_num_batched_tokens,
             "--enable-chunked-prefill" if w.enable_chunked_prefill else "--no-enable-chunked-prefill",
             "--kv-cache-dtype", KV_CACHE_DTYPE["vllm"][kv], "--gpu-memory-utilization", GPU_MEMORY_UTILIZATION]
    flags += _quantization(weight_dtype) + (["--max-model-len", max_model_len] if max_model_len else [])
    if spec is not None:
        config = {"method": "deepseek_mtp"} if spec.method == "mtp" else {"model": DRAFT_MODEL} | (
            {"method": "eagle3"} if spec.method == "eagle3" else {})
        flags += ["--speculative-config",
                  json.dumps({**config, "num_speculative_tokens": spec.num_speculative_tokens}, separators=(",", ":"))]
    return flags


def _sglang(w: Workers, kv: str, weight_dtype: str, max_model_len, spec=None) -> list:
    p = w.plan
    flags = ["--tp-size", p.tp, "--pp-size", p.pp]
    if p.attention_dp:
        flags += ["--dp-size", p.tp, "--enable-dp-attention"]
    if p.ep > 1:
        flags += ["--ep-size", p.ep]
    flags += ["--max-running-requests", w.max_num_seqs, "--max-prefill-tokens", w.max_num_batched_tokens,
              "--chunked-prefill-size", w.max_num_batched_tokens if w.enable_chunked_prefill else -1,
              "--kv-cache-dtype", KV_CACHE_DTYPE["sglang"][kv], "--mem-fraction-static", GPU_MEMORY_UTILIZATION]
    flags += _quantization(weight_dtype) + (["--context-length", max_model_len] if max_model_len else [])
    if spec is not None:
        k = spec.num_speculative_tokens
        flags += ["--speculative-algorithm", SGLANG_ALGORITHM[spec.method]]
        flags += ["--speculative-draft-model-path", DRAFT_MODEL] if spec.method != "mtp" else []
        flags += ["--speculative-num-steps", k, "--speculative-eagle-topk", 1, "--speculative-num-draft-tokens", k + 1]
    return flags


SGLANG_ALGORITHM = {"mtp": "NEXTN", "eagle3": "EAGLE3", "draft_model": "STANDALONE"}
"""SGLang's --speculative-algorithm per method (NEXTN: DeepSeek's MTP module as the EAGLE draft)."""


def _draft_note(spec) -> str:
    """A line naming what DRAFT_MODEL stands for, when the files use it."""
    if spec is None or spec.method == "mtp":
        return ""
    what = "EAGLE-3 head" if spec.method == "eagle3" else "draft model"
    return (f"\n# Replace {DRAFT_MODEL} with the {what} whose acceptance length is {spec.acceptance_length:g} on "
            f"this traffic (what the search assumed).")


def _quantization(weight_dtype: str) -> list:
    """FP8 weights quantized at load from a bf16 checkpoint; other dtypes need a quantized checkpoint."""
    return ["--quantization", "fp8"] if weight_dtype == "fp8" else []


def _trtllm_flags(model, w: Workers, kv: str, weight_dtype: str, max_model_len, spec=None) -> list:
    p = w.plan
    return ["--backend", "pytorch", "--tp_size", p.tp, "--pp_size", p.pp, "--ep_size", p.ep,
            "--max_batch_size", w.max_num_seqs, "--max_num_tokens", w.max_num_batched_tokens,
            *(["--max_seq_len", max_model_len] if max_model_len else []),
            "--kv_cache_free_gpu_memory_fraction", _kv_fraction(model, w, kv, weight_dtype, spec)]


def _trtllm_yaml(model, w: Workers, kv: str, weight_dtype: str, max_model_len, *, engine_settings: bool,
                 role: str | None = None, spec=None) -> str:
    """The LLM API options: scheduling and KV cache (and, for a Dynamo worker, the whole engine)."""
    p = w.plan
    options = {}
    if engine_settings:
        options.update(tensor_parallel_size=p.tp, pipeline_parallel_size=p.pp, moe_expert_parallel_size=p.ep,
                       max_batch_size=w.max_num_seqs, max_num_tokens=w.max_num_batched_tokens)
        if max_model_len:
            options["max_seq_len"] = max_model_len
    options.update(enable_attention_dp=p.attention_dp, enable_chunked_prefill=w.enable_chunked_prefill,
                   kv_cache_config={"dtype": KV_CACHE_DTYPE["trtllm"][kv],
                                    "free_gpu_memory_fraction": _kv_fraction(model, w, kv, weight_dtype, spec)},
                   scheduler_config={"capacity_scheduler_policy": "GUARANTEED_NO_EVICT"})
    if spec is not None:
        k = spec.num_speculative_tokens
        options["speculative_config"] = (
            {"decoding_type": "MTP", "num_nextn_predict_layers": k} if spec.method == "mtp" else
            {"decoding_type": "Eagle", "max_draft_len": k, "speculative_model_dir": DRAFT_MODEL, "eagle3_one_model": True}
            if spec.method == "eagle3" else
            {"decoding_type": "DraftTarget", "max_draft_len": k, "speculative_model_dir": DRAFT_MODEL})
    if role is not None:
        # the KV leaves the prefill worker through the cache transceiver; TensorRT-LLM's disaggregated
        # guide runs context (prefill) servers without the overlap scheduler
        options.update(cache_transceiver_config={"backend": "DEFAULT"}, disable_overlap_scheduler=role == "prefill")
    weights = ("" if weight_dtype == "bf16" else
               f"# weights: a {weight_dtype} checkpoint (TensorRT-LLM reads its quantization from the checkpoint)\n")
    return f"# {VERSIONS['trtllm']} LLM API options\n{weights}" + yaml.safe_dump(options, sort_keys=False)


def _kv_fraction(model, w: Workers, kv: str, weight_dtype: str, spec=None) -> float:
    """TensorRT-LLM's share of the memory left after weights and activations that goes to the KV
    cache: what the simulated replica's KV cache is of that (vLLM's 0.9 of HBM less the rest)."""
    rep = get_replica(model, w.hardware, w.plan.tp, w.plan.pp, w.plan.ep, weight_dtype, kv,
                      attention_dp=w.plan.attention_dp, speculative=spec)
    b = memory_budget(rep, GPU_MEMORY_UTILIZATION, w.max_num_batched_tokens, w.max_num_seqs)
    return round(b.kv_capacity_bytes / (b.capacity_bytes - b.fixed_bytes), 2)


def _devices(lines: list[str], first: int, count: int) -> str:
    """CUDA_VISIBLE_DEVICES of a replica whose GPUs start at `first` of its pool (a line saying so
    goes into `lines` when it starts a new server)."""
    if first and first % NODE_GPUS == 0:
        lines.append(f"# next {NODE_GPUS}-GPU server:")
    first %= NODE_GPUS
    return ",".join(str(first + i) for i in range(count))


def _join(command: list) -> str:
    return " ".join(shlex.quote(str(part)) for part in command)
