"""Predict every published measurement with the simulator and report the error.

Each row's setup is rebuilt from its columns (validate/data.py), as its engine ran it. The row's
serving engine brings the measured kernels that time the operators where the chip has tables,
its scheduler and its host time (engine/engines.py). TensorRT-LLM rows: its engine limits come
from trtllm-bench's own build heuristic (`trtllm_engine_limits` below: max batch size and max
tokens per step from the KV memory left after the weights); its scheduler is the default
GUARANTEED_NO_EVICT (whole requests reserved in the KV cache, never preempted) with chunked
context; the KV cache gets the row's `kv_cache_fraction` of the memory left after weights
(`kv_cache_free_gpu_mem_fraction`, default 0.90). Rows of TensorRT-LLM's PyTorch backend (1.0)
pay its Python host time per sequence and step (catalog/calibration/engines.yaml), overlapped
with the GPU; the C++ runtime rows (0.14, 0.17) do not. Rows of another engine run with its
scheduler and host time and chip2chat's default engine knobs (engine/defaults.py), the row's
memory fraction as its gpu_memory_utilization. The load is the row's: every request queued at
once (maximum throughput), a Poisson stream at the offered rate, or a closed loop of `concurrency`
requests in flight; `num_requests` of them, or until steady state (serving/steady.py). Output
throughput, mean TTFT, ITL and TPOT are compared where the row measured them. Nothing here is
fitted: predictions come from the catalog specs, the calibration profiles and the measured
kernel tables only.
"""

from __future__ import annotations

import math
import multiprocessing
import signal

import numpy as np
import pandas as pd

from chip2chat.engine.engines import host_overhead_default, serving_engine
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import memory_budget
from chip2chat.errors import Chip2ChatError
from chip2chat.models.load import load_model
from chip2chat.validate.data import LATENCY_COLUMNS, Measurement, read_measurements, shipped_files
from chip2chat.validate.names import match_hardware, match_model

METRIC_COLUMNS = ["file", "line", "source", "engine", "table", "model", "architecture", "gpu", "hardware",
                  "num_gpus", "tp", "pp", "precision", "isl", "osl", "offered_qps", "metric", "measured", "predicted",
                  "error_pct", "status", "reason"]


def source_label(m: Measurement) -> str:
    """A short name for the row's source, for per-source summaries."""
    return f"{serving_engine(m.engine).label} {m.version} {m.table}"


TRTLLM_KV_FRACTION = 0.90
"""TensorRT-LLM's default kv_cache_free_gpu_mem_fraction (its KvCacheConfig)."""


def _kv_fraction(m: Measurement) -> float:
    """The TensorRT-LLM row's kv_cache_free_gpu_mem_fraction: its column, else the default."""
    return TRTLLM_KV_FRACTION if m.kv_cache_fraction is None else m.kv_cache_fraction


def trtllm_engine_limits(total_params: float, weight_bytes_per_param: float, kv_bytes_per_token_per_head: float,
                         layers: int, kv_heads: int, tp: int, pp: int, device_gib: float, isl: int,
                         osl: int) -> tuple[int, int]:
    """(max batch size, max tokens per step) as trtllm-bench sets them for a dataset.

    The heuristic of TensorRT-LLM's `tensorrt_llm/bench/build/tuning.py` (calc_engine_setting and
    finetune_setting): requests that fit the KV memory left after the weights (95% of it, GiB
    units, at least one KV head per TP rank), capped at 4,096 and divided by pp; tokens per step
    = batch x (1 + ISL/OSL) capped at 32,768; both rounded up to coarse steps.
    """
    engine_gib = total_params * weight_bytes_per_param / 2**30
    per_token_gib = layers * max(tp, kv_heads) * kv_bytes_per_token_per_head / 2**30
    requests = (device_gib * tp * pp - engine_gib) * 0.95 / (per_token_gib * (isl + osl))
    raw_bs = min(requests, 4096) / pp
    raw_tokens = min(raw_bs * (1 + isl / osl), 32768)
    max_bs = max(64, _ceil_to(raw_bs, 32)) if raw_bs < 256 else _ceil_to(raw_bs, 128 if raw_bs < 1024 else 256)
    max_tokens = max(2048, _ceil_to(raw_tokens, 256)) if raw_tokens < 4096 else \
        _ceil_to(raw_tokens, 512 if raw_tokens < 8192 else 1024)
    return max_bs, max_tokens


def _ceil_to(value: float, step: int) -> int:
    return step * math.ceil(value / step)


def _engine_limits(m: Measurement, replica) -> tuple[int, int]:
    model = replica.model
    attn = model.layers[0][1].attention
    weight_bytes = {"FP8": 1.0, "FP4": 0.5, "NVFP4": 0.5, "MXFP4": 0.5}.get(m.precision, 2.0)
    kv_bytes = replica.kv_bytes * (attn.head_dim + attn.v_head_dim)  # K and V of one head, one token
    return trtllm_engine_limits(model.total_params, weight_bytes, kv_bytes, model.num_layers, attn.num_kv_heads,
                                m.tp, m.pp, replica.device.hw.memory.capacity_bytes / 2**30, m.isl, m.osl)


def _settings(m: Measurement, model_id: str, hw_id: str) -> dict:
    """simulate's keywords for the row's setup, every part from its columns (validate/data.py)."""
    weight_dtype, kv_dtype, ep = m.weight_dtype, m.kv_cache_dtype, m.expert_parallel
    replica = get_replica(model_id, hw_id, m.tp, m.pp, ep, weight_dtype, kv_dtype, attention_dp=m.attention_dp,
                          engine=m.engine, cuda_graphs=m.cuda_graphs)
    # the engine's scheduler; each attention-DP rank runs its own host loop over its 1/dp of the sequences
    common = dict(model=model_id, hardware=hw_id, engine=m.engine, cuda_graphs=m.cuda_graphs, tp=m.tp, pp=m.pp, ep=ep,
                  attention_dp=m.attention_dp, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                  input_len=m.length_spec("isl"), output_len=m.length_spec("osl"),
                  host_overhead_per_seq_s=host_overhead_default(m.engine, m.version) / replica.plan.dp, **m.scheduling)
    if m.engine != "trtllm":
        # chip2chat's default engine knobs (engine/defaults.py); the row's memory fraction is the
        # engine's gpu_memory_utilization (vLLM) or mem_fraction_static (SGLang): of the whole memory
        return common if m.kv_cache_fraction is None else dict(common, gpu_memory_utilization=m.kv_cache_fraction)
    max_seqs, max_tokens = _engine_limits(m, replica)
    # TRT-LLM's limits hold per pipeline micro-batch (pp of them are in flight) and, under attention
    # DP, per rank (each runs its own scheduler); ours are per step of the whole replica
    ranks = m.pp * replica.plan.dp
    max_seqs, max_tokens = max_seqs * ranks, max_tokens * ranks
    # TRT-LLM gives the KV cache a fraction of the memory left after weights, activations and runtime;
    # express that as the gpu_memory_utilization our engine model takes
    budget = memory_budget(replica, 1.0, max_tokens, max_seqs)
    fixed = budget.fixed_bytes
    free = budget.capacity_bytes - fixed
    if free <= 0:
        raise Chip2ChatError(f"weights do not fit: {budget.weights_bytes / 1e9:.0f} GB per device of "
                             f"{budget.capacity_bytes / 1e9:.0f} GB")
    gmu = (fixed + _kv_fraction(m) * free) / budget.capacity_bytes
    return dict(common, gpu_memory_utilization=gmu, max_num_seqs=max_seqs,
                max_num_batched_tokens=max(max_tokens, max_seqs))


def _load(m: Measurement) -> dict:
    """simulate's workload keywords: all at once, a closed loop or a Poisson stream; the row's
    num_requests, or until steady state (serving/steady.py) where it has none."""
    if m.concurrency is not None:
        load = dict(arrival="all_at_once" if math.isinf(m.offered_qps) else "poisson", concurrency=m.concurrency,
                    rate_per_s=1.0 if math.isinf(m.offered_qps) else m.offered_qps)
    elif m.table == "throughput_max_load" or math.isinf(m.offered_qps):
        load = dict(arrival="all_at_once", rate_per_s=1.0)
    else:
        load = dict(arrival="poisson", rate_per_s=m.offered_qps)
    return dict(load, num_requests=m.num_requests, seed=0)


def predict(m: Measurement) -> list[dict]:
    """Comparison rows (one per metric) for one measurement, or one skipped row with the reason."""
    from chip2chat.serving.simulate import simulate

    base = dict(file=m.file, line=m.line, source=source_label(m), engine=m.engine, table=m.table, model=m.model,
                architecture="", gpu=m.gpu, num_gpus=m.num_gpus, tp=m.tp, pp=m.pp, precision=m.precision, isl=m.isl,
                osl=m.osl, offered_qps=m.offered_qps)
    model_id = hw_id = None

    def skipped(reason: str) -> list[dict]:
        return [dict(base, hardware=hw_id or "", metric="throughput_tok_s", measured=m.throughput_tok_s,
                     predicted=float("nan"), error_pct=float("nan"), status="skipped", reason=reason)]

    try:  # a row naming two chips (a mixed cluster) is skipped with the reason, not the whole run
        model_id, hw_id = match_model(m.model), match_hardware(m.gpu)
    except Chip2ChatError as exc:
        return skipped(str(exc))

    if model_id is None and m.model.endswith(".json"):
        model_id = m.model  # a config.json (validate/data.py resolved its path)
    if model_id is None:
        return skipped(f"unknown model {m.model!r}")
    if hw_id is None:
        return skipped(f"unknown GPU {m.gpu!r}")
    try:
        base["architecture"] = "moe" if load_model(model_id).is_moe else "dense"
        sim = simulate(**_settings(m, model_id, hw_id), **_load(m))
    except Chip2ChatError as exc:
        return skipped(str(exc))
    s = sim.summary
    if s["completed"] == 0:
        return skipped("no request completed: " + (sim.requests["reason"].iloc[0] or "rejected"))
    # each measured latency against the simulated metric of the same name (medians against medians)
    predicted = {"throughput_tok_s": s["output_throughput"], **{c: s[c] for c in LATENCY_COLUMNS}}
    measured = {"throughput_tok_s": m.throughput_tok_s, **{c: getattr(m, c) for c in LATENCY_COLUMNS}}
    rows = []
    for metric, value in measured.items():
        if value is None:
            continue
        rows.append(dict(base, hardware=hw_id, metric=metric, measured=value, predicted=predicted[metric],
                         error_pct=(predicted[metric] / value - 1) * 100, status="ok", reason=""))
    return rows


def validate(paths: list[str] | None = None, workers: int = 2, setup: dict[str, str] | None = None) -> pd.DataFrame:
    """Every row of the given files (default: the shipped ones), predicted and compared. A file is a
    CSV in the format of validate/data.py or a benchmark tool's result (validate/importers/).

    With workers > 1 the rows run in a process pool. Only this process handles Ctrl-C: the workers
    ignore SIGINT (a terminal sends it to them too), and an interrupt or error here terminates them
    at once instead of waiting for the rows in flight (explore.backends.run_local does the same for
    sweeps, whose results are flat dicts, not lists of rows).
    """
    files = [str(p) for p in (paths or shipped_files())]
    # all files checked before any run; `setup`: columns set in every row of the given files
    measurements = [m for f in files for m in read_measurements(f, setup if paths else None)]
    if workers > 1 and len(measurements) > 20:
        # SIGINT stays blocked while the workers are forked, so none can get it before it ignores it
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pool = multiprocessing.Pool(workers, initializer=_ignore_interrupts)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        with pool:  # leaving it, by an interrupt or not, terminates the workers
            results = pool.map(predict, measurements, chunksize=8)
    else:
        results = [predict(m) for m in measurements]
    return pd.DataFrame([row for rows in results for row in rows], columns=METRIC_COLUMNS)


def _ignore_interrupts() -> None:
    """Pool initializer: Ctrl-C is the parent's to handle (it terminates the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


SLOS = {"server": (2000.0, 200.0), "interactive": (450.0, 40.0)}
"""Latency limits (mean TTFT ms, mean ITL or TPOT ms) under which `summarize` compares the
throughput a sweep of rates carries: server-style and interactive limits as issue 14 states them."""
SWEEP = ["file", "source", "model", "gpu", "tp", "pp", "precision", "isl", "osl"]
"""Rows that differ only in their load form one sweep (a rate or concurrency sweep)."""


def within_slo(df: pd.DataFrame) -> pd.DataFrame:
    """Per sweep and SLO (SLOS), the most output throughput among its rows whose latencies meet the
    SLO, measured and predicted (each by its own latencies), and the error; sweeps whose measured
    rows never meet it are left out, and a prediction that never meets it is -100%."""
    ok = df[(df["status"] == "ok") & (df["table"] == "online_serving")]
    if ok.empty:
        return pd.DataFrame(columns=["source", "slo", "measured", "predicted", "error_pct"])
    wide = ok.pivot_table(index=SWEEP + ["line"], columns="metric", values=["measured", "predicted"], aggfunc="first")
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    rows = []
    for key, sweep in wide.groupby(SWEEP, dropna=False):
        for slo, (ttft_ms, token_ms) in SLOS.items():
            best = {}
            for side in ("measured", "predicted"):
                token = sweep.get(f"{side}_mean_itl_ms", sweep.get(f"{side}_mean_tpot_ms"))
                ttft = sweep.get(f"{side}_mean_ttft_ms")
                if token is None or ttft is None:
                    break
                meets = (ttft <= ttft_ms) & (token <= token_ms)
                best[side] = float(sweep.loc[meets, f"{side}_throughput_tok_s"].max()) if meets.any() else 0.0
            if len(best) == 2 and best["measured"] > 0:
                rows.append(dict(source=key[1], slo=slo, measured=best["measured"], predicted=best["predicted"],
                                 error_pct=(best["predicted"] / best["measured"] - 1) * 100))
    return pd.DataFrame(rows, columns=["source", "slo", "measured", "predicted", "error_pct"])


def summarize(df: pd.DataFrame) -> dict:
    """Median and p90 absolute error: overall, per metric, per hardware, per source and per engine;
    per source and metric apart (TTFT, ITL, TPOT, throughput); the throughput a sweep carries within
    an SLO (`within_slo`), per source and SLO; and on the maximum-throughput rows
    (throughput_max_load, the aim's measure), overall, dense and MoE models apart, and per hardware."""
    ok = df[df["status"] == "ok"]

    def stats(frame: pd.DataFrame) -> dict:
        err = frame["error_pct"].abs()
        return {"n": int(len(frame)), "median_abs_error_pct": float(np.median(err)) if len(err) else float("nan"),
                "p90_abs_error_pct": float(np.percentile(err, 90)) if len(err) else float("nan"),
                "mean_signed_error_pct": float(frame["error_pct"].mean()) if len(err) else float("nan")}

    thr = ok[ok["metric"] == "throughput_tok_s"]
    peak = thr[thr["table"] == "throughput_max_load"]
    return {
        "overall": stats(ok),
        "per_metric": {k: stats(g) for k, g in ok.groupby("metric")},
        "throughput_per_hardware": {k: stats(g) for k, g in thr.groupby("hardware")},
        "per_source": {k: stats(g) for k, g in ok.groupby("source")},
        "per_source_metric": {f"{source} / {metric}": stats(g) for (source, metric), g in
                              ok.groupby(["source", "metric"])},
        "throughput_within_slo": {f"{source} / {slo}": stats(g) for (source, slo), g in
                                  within_slo(df).groupby(["source", "slo"])},
        "per_engine": {k: stats(g) for k, g in ok.groupby("engine")},
        "max_throughput": stats(peak),
        "max_throughput_per_architecture": {k: stats(g) for k, g in peak.groupby("architecture")},
        "max_throughput_per_hardware": {k: stats(g) for k, g in peak.groupby("hardware")},
        "skipped": int((df["status"] == "skipped").sum()),
    }
