"""Cut the kernel-table test fixture (tests/calibrate/data/aiconfigurator/) from aiconfigurator-core.

Run once, where the kernels extra is installed (pip install 'chip2chat[kernels]'):
    python tests/calibrate/make_kernel_fixture.py
It keeps a few H200 TensorRT-LLM shapes of each table (the columns chip2chat reads, latencies to 5
significant digits) as CSV in the package's folder layout, so that the tests run the extraction on
real measurements without aiconfigurator-core or pyarrow. The end-to-end files it lays beside them
(silicon_sample.csv, support_matrix/) are placeholders that the extraction must never open.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parent / "data" / "aiconfigurator"
OUT = ROOT / "aiconfigurator_core" / "systems"
VERSION = "1.3.0rc20"
HEADS = [(8, 8), (32, 8), (64, 8), (40, 8)]  # group 1, 4, 8 (on the grid) and 5 (held back)
MOE_SHAPES = [(2048, 768, 128, 8), (3072, 1024, 256, 8), (4096, 1536, 128, 8), (4096, 2048, 256, 8),
              (6144, 2048, 256, 8), (6144, 2560, 160, 8)]


def _cut(data: Path, table: str, rows, columns: list[str], folder: str = f"trtllm/{VERSION}") -> None:
    op, name = table.split("/")
    d = pd.read_parquet(data / "h200_sxm" / op / folder / f"{name}.parquet")
    d = d[rows(d)][columns].copy()
    d["latency"] = d.latency.map(lambda x: float(f"{x:.5g}"))
    path = OUT / "data" / "h200_sxm" / op / folder / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    d.to_csv(path, index=False)


def main() -> None:
    data = Path(list(importlib.util.find_spec("aiconfigurator_core").submodule_search_locations)[0]) / "systems" / "data"
    nk = [2048, 4096, 6144, 8192]
    _cut(data, "gemm/gemm_perf", lambda d: (d.gemm_dtype == "bfloat16") & d.n.isin(nk) & d.k.isin(nk)
         & (d.m <= 4096), ["gemm_dtype", "m", "n", "k", "latency"])
    heads = lambda d: pd.Series(list(zip(d.num_heads, d.num_key_value_heads)), index=d.index).isin(HEADS)  # noqa: E731
    attention = ["batch_size", "isl", "num_heads", "num_key_value_heads", "head_dim", "window_size", "attn_dtype",
                 "kv_cache_dtype", "step", "latency"]
    _cut(data, "attention/generation_attention_perf", lambda d: heads(d) & (d.head_dim == 128) & (d.window_size == 0)
         & (d.kv_cache_dtype == "bfloat16"), attention)
    _cut(data, "attention/context_attention_perf", lambda d: heads(d) & (d.head_dim == 128) & (d.window_size == 0)
         & (d.attn_dtype == "bfloat16") & (d.kv_cache_dtype == "bfloat16"), attention)
    shapes = lambda d: pd.Series(list(zip(d.hidden_size, d.inter_size, d.num_experts, d.topk)),  # noqa: E731
                                 index=d.index).isin(MOE_SHAPES)
    _cut(data, "moe/moe_perf", lambda d: shapes(d) & (d.moe_dtype == "fp8") & (d.distribution == "balanced")
         & (d.moe_tp_size == 1) & d.moe_ep_size.isin([1, 8, 32]),
         ["moe_dtype", "num_tokens", "hidden_size", "inter_size", "topk", "num_experts",
          "moe_tp_size", "moe_ep_size", "distribution", "latency"])
    _cut(data, "comm/custom_allreduce_perf", lambda d: d.num_gpus == 8,
         ["kernel_source", "allreduce_dtype", "num_gpus", "message_size", "latency"])
    _cut(data, "comm/nccl_perf", lambda d: (d.op_name == "all_reduce") & (d.nccl_dtype == "half") & (d.num_gpus == 8),
         ["kernel_source", "op_name", "nccl_dtype", "num_gpus", "message_size", "latency"], folder="nccl/2.29.2")
    _placeholders()


def _placeholders() -> None:
    """The files around the tables: the versions aiconfigurator serves, the wheel's version, a newer
    engine version than it serves (never read), and end-to-end results (never opened)."""
    files = {
        OUT / "query_versions.yaml": f"schema_version: 1\ndefaults:\n  trtllm: {{current: \"{VERSION}\", previous: null}}\n",
        ROOT / "aiconfigurator_core-0.12.0.dist-info" / "METADATA": "Name: aiconfigurator-core\nVersion: 0.12.0\n",
        OUT / "data" / "h200_sxm" / "gemm" / "trtllm" / "1.3.0rc23" / "gemm_perf.csv":
            "gemm_dtype,m,n,k,latency\nbfloat16,1,2048,2048,1000.0\n",
        OUT / "silicon_sample.csv": "end-to-end results: validation-type data, never read by the extraction\n",
        OUT / "support_matrix" / "h200_sxm.csv": "end-to-end results: validation-type data, never read\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main()
