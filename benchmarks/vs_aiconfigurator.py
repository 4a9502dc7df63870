"""chip2chat and NVIDIA's aiconfigurator side by side on the same published TensorRT-LLM rows.

Run (aiconfigurator-core is the `kernels` extra; without it chip2chat's numbers print alone):
    pip install -e '.[kernels]'                       # aiconfigurator-core>=0.12, pyarrow
    python benchmarks/vs_aiconfigurator.py            # runs `chip2chat validate` on the shipped rows first
    python benchmarks/vs_aiconfigurator.py --chip2chat-csv rows.csv --out both.csv

The rows are chip2chat's shipped validation rows (catalog/validation/): the maximum-throughput
rows of TensorRT-LLM 0.17 (`trtllm_perf.csv`) and 1.0 (`trtllm_perf_v1.csv`). chip2chat predicts
them with `chip2chat.validate.run.validate` (or a CSV it wrote earlier). aiconfigurator predicts
each row with its static-batch estimate, the way its SDK is called for one configuration:

    db = perf_database.get_database(system, "trtllm", "current")
    model = models.get_model(hf_id, config.ModelConfig(tp_size, pp_size, attention_dp_size,
                             moe_tp_size, moe_ep_size, *_quant_mode), "trtllm")
    backends.factory.get_backend("trtllm").run_static(
        model, db, config.RuntimeConfig(batch_size, isl=isl, osl=osl), mode="static")
    -> summary "tokens/s": output tokens per second of the whole replica (all DP ranks, PP scaled)

at two batch sizes, both reported:
- the engine's batch: the max batch size trtllm-bench's build heuristic gives that row (the one
  chip2chat's simulation uses, `chip2chat.validate.run`), per attention-DP rank and pipeline
  micro-batch, as aiconfigurator's batch_size counts; where aiconfigurator's KV cache holds fewer
  whole requests, the batch it holds (TensorRT-LLM's default scheduler never evicts a request, so
  the engine runs no more). The error at the uncapped batch is printed on one line as well;
- aiconfigurator's own best batch: the highest tokens/s over batch sizes 1..4096 that fit the
  KV cache by its own memory model.
The KV cache is `sdk.memory.estimate_kv_cache` with the engine's max tokens and the row's
free-memory fraction (0.90, or 0.95 where the source says so), whole requests of ISL + OSL tokens.
Mapping (tables below): GPUs to aiconfigurator systems (none for GH200); models to the configs it
ships (Llama 3.3 70B to Llama 3.1 70B's, the same architecture; Mixtral's config, shipped but off
its default list, as a local folder; none for Mistral 7B, an architecture it does not model);
FP8 rows to FP8 GEMMs, MoE, KV cache and attention, FP4 rows to NVFP4 GEMMs and MoE with an FP8
KV cache, FP16/BF16 rows to bfloat16; TP and PP as the row states, and for the 1.0 MoE rows the
attention data parallelism they ran (attention_dp_size = TP, experts over EP = TP).
The version is each system's "current" slot in aiconfigurator's query_versions.yaml: the only
complete TensorRT-LLM tables it ships (1.3.0rc20; 1.0.0 for A100). Older version folders hold
only a few communication or MoE tables, and its loader refuses versions outside the slots.
aiconfigurator's end-to-end samples (systems/silicon_sample.csv) are never read, and nothing
from aiconfigurator goes into chip2chat. Online-serving rows (0.14, an offered request rate)
have no aiconfigurator counterpart (its static mode has no arrivals); they, and rows either
tool cannot predict, are listed with the reason and left out of both tools' numbers.
This is a benchmark: it prints and exits 0, whatever the numbers.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from chip2chat.models.load import load_model
from chip2chat.validate.data import read_measurements, shipped_files
from chip2chat.validate.names import match_model
from chip2chat.validate.run import METRIC_COLUMNS, _kv_fraction, _settings, validate

INSTALL_HINT = ("aiconfigurator is not importable: chip2chat's numbers alone. For the side by side: "
                "pip install -e '.[kernels]' (aiconfigurator-core>=0.12, pyarrow)")
# chip2chat catalog id -> aiconfigurator system; GH200 has none
AIC_SYSTEM = {"a100-sxm-80gb": "a100_sxm", "h100-sxm": "h100_sxm", "h200-sxm": "h200_sxm", "b200": "b200_sxm",
              "gb200": "gb200", "l40s": "l40s", "rtx-pro-6000": "rtx_pro_6000_server"}
# chip2chat catalog id -> the Hugging Face id of a config aiconfigurator ships (model_configs/).
# Llama 3.3 70B has the same architecture and config as Llama 3.1 70B, which it ships. Mistral 7B
# (MistralForCausalLM) is not an architecture aiconfigurator models.
AIC_MODEL = {"llama-3.1-8b": "meta-llama/Meta-Llama-3.1-8B", "llama-3.1-70b": "meta-llama/Meta-Llama-3.1-70B",
             "llama-3.3-70b": "meta-llama/Meta-Llama-3.1-70B", "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B",
             "mixtral-8x7b": "mistralai/Mixtral-8x7B-v0.1", "mixtral-8x22b": "mistralai/Mixtral-8x22B-v0.1",
             "llama-4-scout": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
             "llama-4-maverick": "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
             "qwen3-235b-a22b": "Qwen/Qwen3-235B-A22B", "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B"}
# row precision -> aiconfigurator (gemm, moe, kvcache, fmha) quant modes, as chip2chat reads the
# precisions: FP8 weights with FP8 KV cache (ModelOpt FP8), NVFP4 weights with FP8 KV cache
AIC_QUANT = {"FP8": ("fp8", "fp8", "fp8", "fp8"), "FP4": ("nvfp4", "nvfp4", "fp8", "fp8"),
             "NVFP4": ("nvfp4", "nvfp4", "fp8", "fp8"), "BF16": ("bfloat16",) * 4, "FP16": ("bfloat16",) * 4}
BATCH_GRID = [1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096]
MAX_BATCH = 4096  # trtllm-bench's cap on requests in flight


class Aiconfigurator:
    """aiconfigurator's static-batch throughput for one published row."""

    def __init__(self, version: str = "current") -> None:
        logging.getLogger("aiconfigurator_core").setLevel(logging.ERROR)  # its per-call lane warnings
        from aiconfigurator_core.sdk import common, config
        from aiconfigurator_core.sdk.backends.factory import get_backend
        from aiconfigurator_core.sdk.memory import estimate_kv_cache
        from aiconfigurator_core.sdk.models import get_model
        from aiconfigurator_core.sdk.perf_database import get_database

        self.common, self.config, self.get_model, self.estimate_kv_cache = common, config, get_model, estimate_kv_cache
        self.get_database, self.version, self.backend = get_database, version, get_backend("trtllm")
        self.databases: dict[str, object] = {}
        self.default_models, self.folder = common.DefaultHFModels, tempfile.TemporaryDirectory()
        self.model_configs = Path(common.__file__).parents[1] / "model_configs"

    def model_path(self, hf_id: str) -> str:
        """The id itself for a model on aiconfigurator's default list; for one whose config it ships
        off that list (Mixtral), a folder holding that config.json, as a local checkpoint would."""
        if hf_id in self.default_models:
            return hf_id
        folder = Path(self.folder.name) / hf_id.replace("/", "--")
        if not folder.is_dir():
            folder.mkdir()
            shutil.copy(self.model_configs / f"{hf_id.replace('/', '--')}_config.json", folder / "config.json")
        return str(folder)

    def unsupported(self, model_id: str, hw_id: str) -> str | None:
        if hw_id not in AIC_SYSTEM:
            return f"aiconfigurator has no system for {hw_id}"
        if model_id not in AIC_MODEL:
            return f"aiconfigurator has no model config for {model_id}"
        return None

    def predict(self, m, settings: dict) -> dict:
        system, hf_id = AIC_SYSTEM[settings["hardware"]], AIC_MODEL[settings["model"]]
        path = self.model_path(hf_id)
        if system not in self.databases:
            self.databases[system] = self.get_database(system, "trtllm", self.version)
        db = self.databases[system]
        dp = m.tp if settings["attention_dp"] else 1
        # attention DP: attention replicated over the TP ranks, experts split over them (EP = TP);
        # otherwise plain TP, experts split by TP as well (TensorRT-LLM 0.17's Mixtral default)
        parallel = dict(tp_size=m.tp // dp, pp_size=m.pp, attention_dp_size=dp, moe_tp_size=m.tp // dp, moe_ep_size=dp)
        gemm, moe, kv_cache, fmha = AIC_QUANT[m.precision]
        c = self.common
        model = self.get_model(path, self.config.ModelConfig(
            **parallel, gemm_quant_mode=c.GEMMQuantMode[gemm], moe_quant_mode=c.MoEQuantMode[moe],
            kvcache_quant_mode=c.KVCacheQuantMode[kv_cache], fmha_quant_mode=c.FMHAQuantMode[fmha]), "trtllm")
        # chip2chat's limits are per step of the whole replica: back to per DP rank and micro-batch
        engine_bs = max(1, settings["max_num_seqs"] // (m.pp * dp))
        engine_tokens = max(1, settings["max_num_batched_tokens"] // (m.pp * dp))
        cache = self.estimate_kv_cache(path, system, "trtllm", db.version, max_num_tokens=engine_tokens,
                                       max_batch_size=engine_bs, memory_fraction_kind="of_free",
                                       memory_fraction_value=_kv_fraction(m), **parallel, gemm_quant_mode=gemm,
                                       moe_quant_mode=moe, kvcache_quant_mode=kv_cache, fmha_quant_mode=fmha)
        # aiconfigurator counts KV per micro-batch with every layer (a stage holds its layers' KV for
        # all pp micro-batches in flight), so this is sequences per micro-batch and DP rank
        fit_bs = max(1, min(cache["total_kv_size_tokens"] // (m.isl + m.osl), MAX_BATCH // m.pp))

        @functools.cache
        def tokens_s(bs: int) -> float:
            run = self.config.RuntimeConfig(batch_size=bs, beam_width=1, isl=m.isl, osl=m.osl)
            summary = self.backend.run_static(model, db, run, mode="static").get_summary_df()
            return float(summary["tokens/s"].iloc[0])

        best_tok_s, best_bs = max((tokens_s(b), b) for b in {b for b in BATCH_GRID if b <= fit_bs} | {fit_bs})
        # the engine runs its max batch unless the KV cache holds fewer requests (no eviction)
        run_bs = min(engine_bs, fit_bs)
        return dict(aic_version=db.version, aic_system=system, aic_model=hf_id, aic_engine_bs=engine_bs,
                    aic_kv_bs=fit_bs, aic_bs=run_bs, aic_predicted=tokens_s(run_bs),
                    aic_uncapped_predicted=tokens_s(engine_bs), aic_best_bs=best_bs, aic_best_predicted=best_tok_s)


def chip2chat_rows(csv: str | None, workers: int) -> pd.DataFrame:
    if csv:
        return pd.read_csv(csv, keep_default_na=False, na_values=[""])[METRIC_COLUMNS]
    return validate(workers=workers)


def measurements() -> dict:
    return {(Path(m.file).name, m.line): m for f in shipped_files() for m in read_measurements(f)}


def compare(rows: pd.DataFrame, aic: Aiconfigurator | None) -> pd.DataFrame:
    """One row per chip2chat row, with aiconfigurator's predictions and the reason a row is left out."""
    by_key, out = measurements(), []
    for row in rows.to_dict("records"):
        m = by_key.get((Path(row["file"]).name, int(row["line"])))
        row = dict(row, kind="MoE" if _is_moe(row["model"]) else "dense",
                   version=m.version.split()[0] if m else "", excluded="")
        if m is None:
            row["excluded"] = "not a shipped row"
        elif row["status"] != "ok":
            row["excluded"] = f"chip2chat skipped it: {row['reason']}"
        elif m.table != "throughput_max_load":
            row["excluded"] = "online serving at an offered rate: aiconfigurator's static mode has no arrivals"
        elif aic is not None:
            settings = _settings(m, _model_id(row), row["hardware"])
            row["excluded"] = aic.unsupported(settings["model"], settings["hardware"]) or ""
            if not row["excluded"]:
                try:
                    row.update(aic.predict(m, settings))
                except Exception as exc:  # noqa: BLE001 - any aiconfigurator failure leaves the row out, named
                    first_line = (str(exc).splitlines() or [""])[0][:120]
                    row["excluded"] = f"aiconfigurator failed: {type(exc).__name__}: {first_line}"
        elif not _mapped(row):
            row["excluded"] = "no aiconfigurator counterpart (system or model config)"
        out.append(row)
    df = pd.DataFrame(out)
    for col, pred in (("aic_error_pct", "aic_predicted"), ("aic_uncapped_error_pct", "aic_uncapped_predicted"),
                      ("aic_best_error_pct", "aic_best_predicted")):
        df[col] = (df[pred] / df["measured"] - 1) * 100 if pred in df else math.nan
    return df


def _model_id(row: dict) -> str | None:
    return match_model(row["model"])


def _is_moe(name: str) -> bool:
    model_id = match_model(name)
    return model_id is not None and load_model(model_id).is_moe


def _mapped(row: dict) -> bool:
    return row["hardware"] in AIC_SYSTEM and _model_id(row) in AIC_MODEL


def summary(df: pd.DataFrame, tools: list[tuple[str, str]]) -> pd.DataFrame:
    """n, median and p90 |error| per tool for each group: GPU, dense/MoE, source, all."""
    kept = df[df["excluded"] == ""]
    groups = [(f"GPU {k}", g) for k, g in kept.groupby("hardware")]
    groups += [(f"{k} models", g) for k, g in kept.groupby("kind")]
    groups += [(f"TRT-LLM {k} max throughput", g) for k, g in kept.groupby("version")]
    groups += [(f"TRT-LLM {v}, {k} models", g) for (v, k), g in kept.groupby(["version", "kind"])]
    groups.append(("all rows", kept))
    table = []
    for label, g in groups:
        if g.empty:
            continue
        line = {"rows": label, "n": len(g)}
        for name, col in tools:
            err = g[col].abs()
            line[f"{name} median"] = np.median(err)
            line[f"{name} p90"] = np.percentile(err, 90)
        table.append(line)
    return pd.DataFrame(table)


def print_table(table: pd.DataFrame) -> None:
    cols = list(table.columns)
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in table.to_dict("records"):
        print("| " + " | ".join(f"{v:.1f}%" if isinstance(v, float) else str(v) for v in r.values()) + " |")


def print_excluded(df: pd.DataFrame) -> None:
    out = df[df["excluded"] != ""]
    if out.empty:
        return
    print(f"\nLeft out ({out[['file', 'line']].drop_duplicates().shape[0]} rows):")
    for reason, g in out.groupby("excluded"):
        rows = g.drop_duplicates(["file", "line"])
        print(f"- {reason}: {len(rows)} rows")
        for (model, gpu), h in rows.groupby(["model", "gpu"]):
            setups = h.groupby(["tp", "pp", "precision"]).size()
            print(f"    {model} on {gpu}: " + ", ".join(f"tp{t} pp{p} {prec} x{n}"
                                                     for (t, p, prec), n in setups.items()))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chip2chat-csv", help="chip2chat's rows from an earlier run (validate's columns, or --out)")
    p.add_argument("--out", help="write every row with both tools' predictions and the exclusion reason")
    p.add_argument("--workers", type=int, default=2, help="processes for chip2chat's validate")
    p.add_argument("--aic-version", default="current", help="aiconfigurator's TensorRT-LLM version (or slot)")
    args = p.parse_args(argv)

    start = time.perf_counter()
    rows = chip2chat_rows(args.chip2chat_csv, args.workers)
    rows = rows[rows["metric"] == "throughput_tok_s"]
    c2c_s = time.perf_counter() - start
    try:
        aic = Aiconfigurator(args.aic_version)
    except Exception as exc:  # noqa: BLE001 - absent (ImportError) or broken: chip2chat alone, the reason named
        aic = None
        print(INSTALL_HINT + ("" if isinstance(exc, ImportError) else f" ({type(exc).__name__}: {exc})"))
    start = time.perf_counter()
    df = compare(rows, aic)
    aic_s = time.perf_counter() - start
    tools = [("chip2chat", "error_pct")]
    if aic is not None:
        tools += [("aic engine batch", "aic_error_pct"), ("aic best batch", "aic_best_error_pct")]
        kept = df[df["excluded"] == ""]
        versions = ", ".join(f"{s} {v}" for s, v in sorted(set(zip(kept["aic_system"], kept["aic_version"]))))
        print(f"aiconfigurator-core {_aic_version()}, TensorRT-LLM tables: {versions}")
        capped = kept[kept["aic_bs"] < kept["aic_engine_bs"]]
        err = kept["aic_uncapped_error_pct"].abs()
        print(f"engine batch above what aiconfigurator's KV cache holds, run at the KV limit: {len(capped)} of "
              f"{len(kept)} rows (at the uncapped engine batch: median {np.median(err):.1f}%, "
              f"p90 {np.percentile(err, 90):.1f}%)")
    source = args.chip2chat_csv or f"chip2chat validate {c2c_s:.0f} s"
    if aic is not None:
        print(f"|error| of output throughput, the same rows for each tool ({source}, aiconfigurator {aic_s:.0f} s)\n")
    else:
        print(f"|error| of output throughput on the rows aiconfigurator could take ({source})\n")
    print_table(summary(df, tools))
    print_excluded(df)
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"\nrows written to {args.out}")


def _aic_version() -> str:
    from importlib.metadata import version

    return version("aiconfigurator-core")


if __name__ == "__main__":
    main()
