"""Published measurements to validate against: reading and checking the CSV format.

A row is one benchmark run: its setup in columns and what it measured. Required columns: `table`
(throughput_max_load: every request queued at once; online_serving: a request rate or a fixed
concurrency), `model` (a catalog name, or a path to a Hugging Face config.json, relative to the
CSV's folder), `gpu`, `tp`, `precision`, `isl` and `osl` (mean input and output tokens) and
`source`; and at least one measured metric: `throughput_tok_s` (output tokens/s, whole system) or a
latency (a source that published latencies only, at a request rate, leaves the throughput empty).
Optional columns, each with its default when absent or empty (SETUP_COLUMNS lists them):

- `engine` (trtllm, vllm, sglang: engine/engines.py; trtllm) and `engine_version` (or the older
  `trtllm_version`), `num_gpus` (tp x pp), `pp` (1), `ep` (tp under attention DP, else 1),
  `attention_dp` (true/false; false), `kv_dtype` (the precision's: PRECISION_DTYPES),
  `kv_cache_fraction` (the engine's memory knob: TensorRT-LLM's kv_cache_free_gpu_mem_fraction,
  0.90, of the memory left after the weights; vLLM's gpu_memory_utilization, SGLang's
  mem_fraction_static, of the whole memory; the engine's default), `cuda_graphs` (true/false:
  whether the engine ran its steps in CUDA graphs; empty: the engine's default for its version,
  engine/engines.cuda_graphs_default: off for TensorRT-LLM's C++ runtime, 0.x, on otherwise);
- scheduling, as the engines name it (serving/config.SchedulerConfig): `enable_chunked_prefill`
  (true/false; empty: on; vLLM V0 ran without it up to a 32K context), `mixed_batches` (true/false:
  prompts, chunked or whole, share steps with the decodes; empty: the engine's, off for SGLang,
  whose --enable-mixed-chunk is off by default, and for vLLM V0 without chunked prefill, on for
  TensorRT-LLM's inflight batching with or without chunked context), `num_scheduler_steps` (vLLM V0's --num-scheduler-steps;
  empty: 1), `async_output_proc` (true/false: vLLM V0's asynchronous output processing, on by
  default in vLLM 0.6.x; empty: off, as every engine today), `cuda_graph_batch_sizes` (the sizes
  a decode-only step is padded up to, TensorRT-LLM's cuda_graph_config batch_sizes with
  enable_padding, e.g. "1 2 4 8 ... 8192"; empty: no padding);
- load: `offered_qps` (requests/s; "inf": all at once) and/or `concurrency` (requests in flight at
  most, a closed loop), `num_requests` (empty: simulated until steady state);
- lengths: `input_len_dist`, `output_len_dist` ("fixed", "uniform LOW HIGH", "lognormal CV";
  fixed at isl/osl) and `dataset` (its name, as the tool wrote it; the lengths say its shape);
- measured: `throughput_tok_s`, `req_per_s`, `mean_ttft_ms`, `mean_itl_ms`, `mean_tpot_ms`,
  `median_ttft_ms`, `median_itl_ms`, `median_tpot_ms` (a source that published medians: compared
  with the simulated medians, never put in the mean columns), `throughput_metric`,
  `total_token_tput_tok_s`.

The first shipped files (LEGACY_FILES) predate these columns and wrote part of their setup in
words; `_shipped_setup` turns those words into the columns once, here, at load, and nowhere else:
nothing downstream reads the `source` text. A bad file stops with the file, the row (1-based line
number), the column and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from chip2chat.catalog import CATALOG_DIR
from chip2chat.engine.engines import SERVING_ENGINES, cuda_graphs_default
from chip2chat.errors import Chip2ChatError
from chip2chat.models.dtypes import KV_DTYPES
from chip2chat.serving.config import parse_batch_sizes
from chip2chat.userfiles import csv_rows, number_cell

REQUIRED = ("table", "model", "gpu", "tp", "precision", "isl", "osl", "source")
SETUP_COLUMNS = ("engine", "engine_version", "trtllm_version", "num_gpus", "pp", "ep", "attention_dp", "kv_dtype",
                 "kv_cache_fraction", "cuda_graphs", "enable_chunked_prefill", "mixed_batches",
                 "num_scheduler_steps", "async_output_proc", "cuda_graph_batch_sizes", "offered_qps", "concurrency",
                 "num_requests", "input_len_dist", "output_len_dist", "dataset")
MEASURED_COLUMNS = ("throughput_tok_s", "req_per_s", "mean_ttft_ms", "mean_itl_ms", "mean_tpot_ms", "median_ttft_ms",
                    "median_itl_ms", "median_tpot_ms", "throughput_metric", "total_token_tput_tok_s")
LATENCY_COLUMNS = ("mean_ttft_ms", "mean_itl_ms", "mean_tpot_ms", "median_ttft_ms", "median_itl_ms", "median_tpot_ms")
"""The measured latencies (ms), each compared with the simulated metric of the same name."""
COLUMNS = REQUIRED + SETUP_COLUMNS + MEASURED_COLUMNS
"""Every column the format knows, in the order `write_measurements` writes them."""
TABLES = ("throughput_max_load", "online_serving")
PRECISIONS = ("FP16", "BF16", "FP8", "FP4", "NVFP4", "MXFP4", "INT8", "INT4")
PRECISION_DTYPES = {"FP16": ("bf16", "bf16"), "BF16": ("bf16", "bf16"), "FP8": ("fp8", "fp8"),
                    "FP4": ("fp4", "fp8"), "NVFP4": ("fp4", "fp8"), "MXFP4": ("fp4", "fp8"),
                    "INT8": ("int8", "bf16"), "INT4": ("int4", "bf16")}
"""(weights, KV cache) of a precision: FP8 rows are ModelOpt FP8 checkpoints with an FP8 KV cache,
FP4 rows FP4 weights with an FP8 KV cache; `kv_dtype` overrides the KV cache's."""
LENGTH_KINDS = {"fixed": 0, "uniform": 2, "lognormal": 1}
"""Length distributions and how many numbers follow the name."""
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0", "")
VALIDATION_DIR = CATALOG_DIR / "validation"
LEGACY_FILES = ("trtllm_perf.csv", "trtllm_perf_v1.csv")
"""Shipped files that wrote part of their setup in words (`_shipped_setup`)."""

# trtllm-bench's num_requests per (ISL, OSL), from the TensorRT-LLM performance overview's table
# (docs/source/performance/perf-overview.md, commits 258c7540c035 and 00f37686aa85)
_SHIPPED_NUM_REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (1000, 2000): 1500,
                         (2048, 128): 3000, (2048, 2048): 1500, (5000, 500): 1500, (1000, 1000): 3000,
                         (500, 2000): 3000, (20000, 2000): 1000}


V1_CUDA_GRAPH_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192)
"""The CUDA-graph batch sizes of TensorRT-LLM 1.0's performance overview, padded to
(`cuda_graph_config: enable_padding: true, batch_sizes: [...]` in the llm_options.yml it gives for
dense and MoE models alike; docs/source/performance/perf-overview.md, commit 00f37686aa85)."""


class ValidationDataError(Chip2ChatError):
    """A malformed validation CSV: names the file, the row and the column."""


@dataclass(frozen=True)
class Measurement:
    file: str
    line: int
    table: str
    version: str
    model: str
    """A catalog name, or the resolved path of a config.json."""
    gpu: str
    num_gpus: int
    tp: int
    pp: int
    precision: str
    isl: int
    osl: int
    offered_qps: float  # math.inf: all requests queued at once (or as fast as `concurrency` allows)
    throughput_tok_s: float | None
    """Output tokens/s, whole system; None: the source published latencies only."""
    req_per_s: float | None
    mean_ttft_ms: float | None
    mean_itl_ms: float | None
    source: str
    engine: str = "trtllm"
    """The serving engine that ran the row (engine/engines.py)."""
    ep: int | None = None
    """Expert-parallel size; None: tp under attention DP, else 1."""
    attention_dp: bool = False
    kv_dtype: str | None = None
    """None: the precision's (PRECISION_DTYPES)."""
    kv_cache_fraction: float | None = None
    """The engine's KV memory knob (see the module); None: the engine's default."""
    concurrency: int | None = None
    num_requests: int | None = None
    """None: simulate until steady state."""
    input_len_dist: tuple = ("fixed",)
    output_len_dist: tuple = ("fixed",)
    dataset: str = ""
    mean_tpot_ms: float | None = None
    cuda_graphs: bool = True
    """The engine ran its steps in CUDA graphs (the column, else the engine's default for its version)."""
    median_ttft_ms: float | None = None
    median_itl_ms: float | None = None
    median_tpot_ms: float | None = None
    enable_chunked_prefill: bool | None = None
    """None: the engine's default (on)."""
    mixed_batches: bool | None = None
    """None: the engine's default (engine/engines.py)."""
    num_scheduler_steps: int | None = None
    """None: 1 (every step scheduled)."""
    async_output_proc: bool | None = None
    """None: off (tokens out as their step ends)."""
    cuda_graph_batch_sizes: tuple[int, ...] | None = None
    """None: decode steps not padded to CUDA-graph sizes (serving/config.py)."""

    @property
    def scheduling(self) -> dict:
        """The SchedulerConfig fields the row sets (the others keep the engine's defaults)."""
        given = dict(enable_chunked_prefill=self.enable_chunked_prefill, mixed_batches=self.mixed_batches,
                     num_scheduler_steps=self.num_scheduler_steps, async_output_proc=self.async_output_proc,
                     cuda_graph_batch_sizes=self.cuda_graph_batch_sizes)
        return {k: v for k, v in given.items() if v is not None}

    @property
    def weight_dtype(self) -> str:
        return PRECISION_DTYPES[self.precision][0]

    @property
    def kv_cache_dtype(self) -> str:
        return self.kv_dtype or PRECISION_DTYPES[self.precision][1]

    @property
    def expert_parallel(self) -> int:
        return self.ep if self.ep is not None else (self.tp if self.attention_dp else 1)

    def length_spec(self, which: str):
        """The input ("isl") or output ("osl") lengths as simulate takes them (workload/synthetic.py)."""
        mean, (kind, *numbers) = (self.isl, self.input_len_dist) if which == "isl" else (self.osl, self.output_len_dist)
        if kind == "fixed":
            return mean
        if kind == "uniform":
            return ("uniform", int(numbers[0]), int(numbers[1]))
        return ("lognormal", float(mean), float(numbers[0]))


def shipped_files() -> list[Path]:
    return sorted(VALIDATION_DIR.glob("*.csv"))


def read_measurements(path: str | Path, setup: dict[str, str] | None = None) -> list[Measurement]:
    """The file's rows: a CSV in this format, or a benchmark tool's result file
    (validate/importers/: vllm bench serve, SGLang bench_serving, trtllm-bench, genai-perf).
    `setup`: columns set in every row (what a tool does not record, or overrides)."""
    from chip2chat.validate.importers import check_setup, detect, import_rows

    p = Path(path)
    setup = check_setup(dict(setup or {}))

    def error(problem: str, line: int | None, column: str | None) -> ValidationDataError:
        where = "" if line is None else f"row {line}: " + (f"column {column}: " if column else "")
        return ValidationDataError(f"{p}: {where}{problem}")

    tool = detect(p)
    if tool is not None:
        return [_row(p, number, raw) for number, raw in enumerate(import_rows(p, tool, setup), 1)]
    legacy = p.resolve() in {(VALIDATION_DIR / name).resolve() for name in LEGACY_FILES}
    rows = [_row(p, line, {**(_shipped_setup(raw) if legacy else raw), **setup}) for line, raw in
            csv_rows(p, "a validation CSV (catalog/validation/README.md)", REQUIRED, error=error)]
    if not rows:
        raise ValidationDataError(f"{p}: no measurement rows (only a header)")
    return rows


def _shipped_setup(raw: dict) -> dict:
    """A shipped row's setup as columns, from the words its file used before the columns existed:
    TensorRT-LLM 1.0's overview ran MoE models with enable_attention_dp (experts over EP = TP) and
    kv_cache_free_gpu_mem_fraction 0.95 (its source says both); the 0.17 GH200 rows 0.95 as well;
    the 0.14 online rows sent 500 requests; trtllm-bench sent the doc's num_requests per ISL/OSL;
    the 1.0 overview ran every model with `cuda_graph_config: enable_padding: true` and the batch
    sizes of V1_CUDA_GRAPH_BATCH_SIZES (its llm_options.yml, dense and MoE alike)."""
    from chip2chat.models.load import load_model
    from chip2chat.validate.names import match_model

    text = raw["source"].lower()
    setup = dict(raw)
    if not (raw.get("attention_dp") or "").strip():
        model = match_model(raw["model"].strip())
        moe = model is not None and load_model(model).is_moe
        multi = raw["tp"].strip() not in ("", "1")
        setup["attention_dp"] = "true" if "attention_dp" in text.replace(" ", "_") and moe and multi else "false"
    if not (raw.get("kv_cache_fraction") or "").strip() and ("0.95" in text or raw["gpu"].upper().startswith("GH200")):
        setup["kv_cache_fraction"] = "0.95"
    version = (raw.get("engine_version") or raw.get("trtllm_version") or "").strip()
    if not (raw.get("cuda_graph_batch_sizes") or "").strip() and version.startswith("1.0"):
        setup["cuda_graph_batch_sizes"] = " ".join(map(str, V1_CUDA_GRAPH_BATCH_SIZES))
    if not (raw.get("num_requests") or "").strip():
        if raw["table"].strip() == "throughput_max_load":
            lengths = (int(raw["isl"]), int(raw["osl"]))
            setup["num_requests"] = str(_SHIPPED_NUM_REQUESTS[lengths])
        elif "500 requests" in text:
            setup["num_requests"] = "500"
    return setup


def _row(p: Path, line: int, raw: dict) -> Measurement:
    def text(column: str) -> str:
        return (raw.get(column) or "").strip()

    def fail(column: str, problem: str):
        raise ValidationDataError(f"{p}: row {line}: column {column}: {problem}, got {raw.get(column)!r}")

    def integer(column: str, default: int | None = None) -> int | None:
        if not text(column) and default is not None:
            return default
        if not text(column) and column in SETUP_COLUMNS:
            return None
        try:
            value = int(text(column))
        except ValueError:
            fail(column, "expected a positive integer")
        if value < 1:
            fail(column, "expected a positive integer")
        return value

    def number(column: str, optional: bool = False) -> float | None:
        if not text(column) and optional:
            return None
        try:
            value = number_cell(raw.get(column) or "")
        except ValueError as exc:
            fail(column, str(exc))
        if not value > 0:
            fail(column, "expected a positive number")
        return value

    def choice(column: str, allowed, default: str) -> str:
        value = text(column).lower() or default
        if value not in allowed:
            fail(column, f"expected one of {', '.join(allowed)}" + (f" (empty: {default})" if default else ""))
        return value

    table = choice("table", TABLES, "")
    precision = text("precision").upper()
    if precision not in PRECISIONS:
        fail("precision", f"expected one of {', '.join(PRECISIONS)}")
    tp, pp = integer("tp"), integer("pp", 1)
    num_gpus = integer("num_gpus", tp * pp)
    if tp * pp != num_gpus:
        fail("num_gpus", f"expected tp x pp = {tp * pp}")
    for column in ("model", "gpu", "source"):
        if not text(column):
            fail(column, "must not be empty")
    engine = choice("engine", tuple(SERVING_ENGINES), "trtllm")
    attention_dp = text("attention_dp").lower()
    if attention_dp not in TRUE + FALSE:
        fail("attention_dp", "expected true or false (empty: false)")
    cuda_graphs = text("cuda_graphs").lower()
    if cuda_graphs not in TRUE + FALSE:
        fail("cuda_graphs", "expected true or false (empty: the engine's default for its version)")

    def switch(column: str) -> bool | None:
        value = text(column).lower()
        if value and value not in TRUE + FALSE:
            fail(column, "expected true or false (empty: the engine's default)")
        return (value in TRUE) if value else None
    version = text("engine_version") or text("trtllm_version")
    kv_dtype = text("kv_dtype").lower() or None
    if kv_dtype is not None and kv_dtype not in KV_DTYPES:
        fail("kv_dtype", f"expected one of {', '.join(KV_DTYPES)} (empty: the precision's)")
    fraction = number("kv_cache_fraction", optional=True)
    if fraction is not None and fraction > 1:
        fail("kv_cache_fraction", "expected a fraction in (0, 1]")
    concurrency = integer("concurrency")
    # "inf ..." (all requests queued at once) is the one infinite value the format allows
    if text("offered_qps").lower().startswith("inf") or (not text("offered_qps") and
                                                         (table == "throughput_max_load" or concurrency)):
        qps = math.inf
    elif not text("offered_qps"):
        fail("offered_qps", "an online_serving row needs its request rate (requests/s, or inf) or a concurrency")
    else:
        qps = number("offered_qps")
    measured = {column: number(column, True) for column in ("throughput_tok_s",) + LATENCY_COLUMNS}
    steps, chunked = integer("num_scheduler_steps"), switch("enable_chunked_prefill")
    if steps is not None and steps > 1 and chunked is not False:
        fail("num_scheduler_steps", "multi-step scheduling needs enable_chunked_prefill false (vLLM 0.6.0 and 0.6.1 "
                                    "refused both; multi-step chunked prefill is not modelled)")
    if all(value is None for value in measured.values()):
        fail("throughput_tok_s", "a row needs a measured metric: throughput_tok_s or one of " + ", ".join(LATENCY_COLUMNS))
    return Measurement(
        file=str(p), line=line, table=table, version=version,
        model=_model(p, text("model")), gpu=text("gpu"), num_gpus=num_gpus, tp=tp, pp=pp, precision=precision,
        isl=integer("isl"), osl=integer("osl"), offered_qps=qps, req_per_s=number("req_per_s", True),
        source=text("source"), engine=engine, ep=integer("ep"),
        attention_dp=attention_dp in TRUE, kv_dtype=kv_dtype, kv_cache_fraction=fraction, concurrency=concurrency,
        num_requests=integer("num_requests"), input_len_dist=_lengths(text("input_len_dist"), "input_len_dist", fail),
        output_len_dist=_lengths(text("output_len_dist"), "output_len_dist", fail), dataset=text("dataset"),
        **measured, enable_chunked_prefill=chunked, mixed_batches=switch("mixed_batches"), num_scheduler_steps=steps,
        async_output_proc=switch("async_output_proc"),
        cuda_graph_batch_sizes=_graph_sizes(text("cuda_graph_batch_sizes"), fail),
        cuda_graphs=cuda_graphs in TRUE if cuda_graphs else cuda_graphs_default(engine, version))


def _model(p: Path, name: str) -> str:
    """A config.json path resolved against the CSV's folder; a catalog name as written."""
    if name.lower().endswith(".json"):
        path = Path(name) if Path(name).is_absolute() else p.parent / name
        return str(path.resolve())
    return name


def _graph_sizes(text: str, fail) -> tuple[int, ...] | None:
    """"1 2 4 ... 512" (spaces or commas) -> the sizes, sorted (serving.config.parse_batch_sizes);
    empty -> None."""
    if not text:
        return None
    try:
        return parse_batch_sizes(text)
    except ValueError:
        fail("cuda_graph_batch_sizes", "expected batch sizes, whole numbers >= 1 separated by spaces or commas "
                                       "(e.g. \"1 2 4 8 16\"; empty: no padding)")


def _lengths(text: str, column: str, fail) -> tuple:
    words = text.lower().split() or ["fixed"]
    kind, numbers = words[0], words[1:]
    if kind not in LENGTH_KINDS or len(numbers) != LENGTH_KINDS[kind]:
        fail(column, "expected fixed, uniform LOW HIGH or lognormal CV (empty: fixed)")
    try:
        values = tuple(float(x) for x in numbers)
    except ValueError:
        fail(column, "expected numbers after the distribution's name")
    if any(not v > 0 or not math.isfinite(v) for v in values) or (kind == "uniform" and values[0] > values[1]):
        fail(column, "expected positive numbers (uniform: LOW <= HIGH)")
    return (kind, *values)


def write_measurements(rows: list[dict], path: str | Path) -> None:
    """Rows (column -> value, as importers make them) as a CSV in this format (COLUMNS order)."""
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
