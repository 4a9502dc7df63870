"""Measured kernel rows -> compact efficiency grids, and their error on held-back shapes.

Each family turns aiconfigurator's rows into (variant, three shape axes, ideal seconds, measured
seconds) with the ideal times of hardware/kernels.py, which the reader uses too. A grid cell is
the median log(efficiency) of the rows on it; cells no row reaches take the mean of their filled
neighbours, repeatedly, so that a table also answers beyond the measured shapes with the nearest
measured level. What is checked is what ships:

- GEMM, decode and context attention: the rows on the grid's nodes build the table; every other
  row (an off-grid m, n, k, batch, kv length, prompt length or a group of 3, 5, 6, 12 ...) is held
  back and predicted by the shipped table. GEMM times are cleaned first: a bigger GEMM never takes
  less time, so a node slower than a larger neighbour takes that neighbour's time (noise).
- MoE: rows are binned to the nearest node (model shapes sit between nodes). Held back are model
  shapes: five folds, each predicted by a table built without its shapes; the table that ships is
  built from every shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from chip2chat.hardware.kernels import (QUANT_LEVELS, context_attention_ideal_s, decode_attention_ideal_s, dequantise,
                                        gemm_ideal_s, interpolate, moe_axes, moe_ideal_s)

FORMATS = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "fp4", "int8_wo": "int8_wo",
           "int4_wo": "int4_wo", "w4a16_mxfp4": "mxfp4_w4a16", "w4a8_mxfp4_mxfp8": "mxfp4_w4a8"}
"""aiconfigurator's weight formats -> chip2chat's (hardware/kernels.py WEIGHT_FORMATS); A100's 'sq'
(SmoothQuant) is left out."""
ATTENTION_DTYPES = {"bfloat16": "bf16", "fp8": "fp8"}
MOE_ROUTING = ("balanced", "power_law_1.01")
NONGATED = {(1024, 2688, 512, 22), (2048, 5120, 512, 22), (2688, 1856, 128, 6), (4096, 2688, 512, 22),
            (8192, 5120, 512, 22)}
"""MoE shapes (hidden, inter, experts, topk) whose experts have two matrices, not three (Nemotron 3,
squared-ReLU experts): TensorRT-LLM times them with kernel_source 'moe_torch_flow_nongated'."""
MOE_MIN_LATENCY = "moe_torch_flow_min_latency"
"""TensorRT-LLM's min-latency MoE path (B200/GB200 NVFP4 rows of its tables): run only with
`enable_min_latency`, default False ("If true, enable min-latency mode. Currently only used for
Llama4.", tensorrt_llm/llmapi/llm_args.py); aiconfigurator keeps these rows apart as a low-latency
twin of its MoE table (sdk/operations/moe.py). Its timings are not what a default engine runs, so
they are left out, not taken as the fastest kernel of a shape."""
MOE_FOLDS = 5
ROOFLINE_SLACK = 1.05
"""How much faster than its ideal time a measured kernel may run before it counts as faster than
the chip can go (a clock above the catalog's, timer resolution)."""
BEYOND_CACHE = 4.0
"""Rows whose ideal time is that of streaming this many times the chip's on-chip cache at full
memory bandwidth: data no cache holds between calls, so the roofline binds them."""
UNPUBLISHED_CACHE_BYTES = 128e6
"""The cache assumed where the catalog has no size (B200, GB200, B300, GB300): the largest of the
measured chips' L2 (RTX PRO 6000, 128 MB), so the test errs towards keeping a table."""
MAX_FASTER_THAN_CHIP = 0.10
"""A table with more than this share of its beyond-cache rows faster than the chip can go is not a
measurement of the kernel as named (a smaller KV dtype than its label, a kernel that skipped
work): it is left out, and the same chip's table of another engine stands in (kernel_tables.py)."""
AXIS_COLUMNS = ("a0", "a1", "a2")


@dataclass(frozen=True)
class Grid:
    """One table: uint8 steps of log(efficiency) between lo and hi, on its family's axes."""

    q: np.ndarray
    lo: float
    hi: float
    exact: np.ndarray | None = field(default=None, compare=False, repr=False)
    """log(efficiency) before quantising (not stored; what the round-trip test compares with)."""

    def log_efficiency(self) -> np.ndarray:
        return dequantise(self.q, self.lo, self.hi)


@dataclass(frozen=True)
class Family:
    name: str
    axes: dict[str, np.ndarray]
    """Axis name -> node values (the reader's axes, in this order)."""
    prepare: Callable[[pd.DataFrame, dict], pd.DataFrame]
    """aiconfigurator rows, chip peaks -> variant, a0, a1, a2, ideal, t (seconds), shape."""
    nearest: bool = False
    monotone: bool = False
    bounded: bool = True
    """Its ideal time is a lower bound no kernel can beat (not MoE's: it routes tokens evenly, and
    a skewed routing touches fewer experts, so moves fewer weights, than the ideal counts)."""


def faster_than_chip(rows: pd.DataFrame, cache_bytes: float, bandwidth: float) -> float:
    """Share of the rows beyond the cache (BEYOND_CACHE) that beat their ideal time by more than
    ROOFLINE_SLACK (0 when there are none)."""
    beyond = rows.ideal.to_numpy() >= BEYOND_CACHE * cache_bytes / bandwidth
    if not beyond.any():
        return 0.0
    efficiency = rows.ideal.to_numpy()[beyond] / rows.t.to_numpy()[beyond]
    return float(np.mean(efficiency > ROOFLINE_SLACK))


def quantise(log_efficiency: np.ndarray) -> Grid:
    """uint8 steps between the lowest and highest value: each within half a step of its value."""
    lo, hi = float(log_efficiency.min()), float(log_efficiency.max())
    step = (hi - lo) / QUANT_LEVELS or 1.0
    q = np.round((log_efficiency - lo) / step).astype(np.uint8)
    return Grid(q, lo, hi, log_efficiency)


def build(family: Family, rows: pd.DataFrame) -> dict[str, Grid]:
    """variant -> its table, from the rows given."""
    axes = list(family.axes.values())
    grids = {}
    for variant, g in rows.groupby("variant"):
        idx, keep = _cells(g, axes, family.nearest)
        g = g[keep]
        if family.monotone:  # one row a cell: clean the times, then divide
            t = _monotone(_cell_median(idx, keep, g.t.to_numpy(), axes))
            log_eff = np.log(_cell_median(idx, keep, g.ideal.to_numpy(), axes) / t)
        else:
            log_eff = _cell_median(idx, keep, np.log(g.ideal.to_numpy() / g.t.to_numpy()), axes)
        if np.isnan(log_eff).all():
            continue
        grids[variant] = quantise(fill_missing(log_eff))
    return grids


def predict(family: Family, grids: dict[str, Grid], rows: pd.DataFrame) -> np.ndarray:
    """Seconds each row's shape takes by its variant's table (NaN where no table)."""
    out = np.full(len(rows), np.nan)
    axes = list(family.axes.values())
    for variant, positions in rows.groupby("variant").indices.items():
        if variant in grids:
            g = rows.iloc[positions]
            eff = interpolate(axes, grids[variant].log_efficiency(), *(g[c].to_numpy() for c in AXIS_COLUMNS))
            out[positions] = g.ideal.to_numpy() / eff
    return out


def check(family: Family, rows: pd.DataFrame) -> tuple[dict[str, Grid], dict[str, np.ndarray]]:
    """(the tables that ship, variant -> relative errors |predicted / measured - 1| of the held-back rows)."""
    if family.nearest:
        return build(family, rows), _fold_errors(family, rows)
    on = _cells(rows, list(family.axes.values()), nearest=False)[1]
    grids = build(family, rows[on])
    held = rows[~on]
    return grids, _errors_by_variant(held, predict(family, grids, held))


def _fold_errors(family: Family, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    shapes = sorted(set(rows["shape"]))
    order = np.random.default_rng(0).permutation(len(shapes))
    parts = []
    for fold in range(MOE_FOLDS):
        test = {shapes[i] for i in order[fold::MOE_FOLDS]}
        held = rows["shape"].isin(test).to_numpy()
        part = rows[held]
        parts.append(part.assign(predicted=predict(family, build(family, rows[~held]), part)))
    held = pd.concat(parts)
    return _errors_by_variant(held, held.predicted.to_numpy())


def _errors_by_variant(rows: pd.DataFrame, predicted: np.ndarray) -> dict[str, np.ndarray]:
    err = np.abs(predicted / rows.t.to_numpy() - 1.0)
    return {v: err[i][~np.isnan(err[i])] for v, i in rows.groupby("variant").indices.items()}


def _cells(rows: pd.DataFrame, axes: list[np.ndarray], nearest: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """Each row's node index per axis (the nearest in log), and which rows sit on a node (all, when
    binning to the nearest)."""
    idx, keep = [], np.ones(len(rows), bool)
    for column, axis in zip(AXIS_COLUMNS, axes):
        v = rows[column].to_numpy(dtype=float)
        i = np.abs(np.log(v)[:, None] - np.log(axis)[None, :]).argmin(axis=1)
        idx.append(i)
        if not nearest:
            keep &= np.isclose(v, axis[i], rtol=1e-9, atol=0)
    return idx, keep


def _cell_median(idx: list[np.ndarray], keep: np.ndarray, values: np.ndarray, axes: list[np.ndarray]) -> np.ndarray:
    shape = [len(a) for a in axes]
    flat = np.ravel_multi_index([i[keep] for i in idx], shape)
    out = np.full(int(np.prod(shape)), np.nan)
    series = pd.Series(values).groupby(flat).median()
    out[series.index.to_numpy()] = series.to_numpy()
    return out.reshape(shape)


def fill_missing(log_values: np.ndarray, rounds: int = 200) -> np.ndarray:
    """Empty cells take the mean of their filled neighbours along every axis, round after round."""
    v = log_values.copy()
    for _ in range(rounds):
        empty = np.isnan(v)
        if not empty.any():
            break
        total, count = np.zeros_like(v), np.zeros_like(v)
        for axis in range(v.ndim):
            for shift in (1, -1):
                neighbour = np.roll(v, shift, axis=axis)
                edge = [slice(None)] * v.ndim
                edge[axis] = 0 if shift == 1 else -1
                neighbour[tuple(edge)] = np.nan  # no wrapping round
                ok = ~np.isnan(neighbour)
                total[ok] += neighbour[ok]
                count[ok] += 1
        fill = empty & (count > 0)
        v[fill] = total[fill] / count[fill]
    return np.where(np.isnan(v), np.nanmean(v), v)


def _monotone(t: np.ndarray) -> np.ndarray:
    """Along each axis, a cell takes the least time of itself and every larger cell (NaN stays)."""
    for axis in range(t.ndim):
        flipped = np.flip(t, axis=axis)
        least = np.minimum.accumulate(np.where(np.isnan(flipped), np.inf, flipped), axis=axis)
        t = np.flip(np.where(np.isnan(flipped), np.nan, least), axis=axis)
    return t


# ---- the families: aiconfigurator's columns -> variant, axes, ideal, measured -----------------

def _with_ideal(rows: pd.DataFrame, ideal: Callable[[str, pd.DataFrame], np.ndarray]) -> pd.DataFrame:
    out = np.zeros(len(rows))
    for variant, positions in rows.groupby("variant").indices.items():
        out[positions] = ideal(variant, rows.iloc[positions])
    return rows.assign(ideal=out, t=rows.latency * 1e-3).reset_index(drop=True)  # latency: milliseconds


def _gemm(df: pd.DataFrame, peaks: dict) -> pd.DataFrame:
    d = df[df.gemm_dtype.isin(list(FORMATS)) & (df.m <= GEMM["m"][-1])]
    d = d.groupby(["gemm_dtype", "m", "n", "k"], as_index=False).latency.min()  # the engine's best kernel
    d = d.assign(variant=d.gemm_dtype.map(FORMATS), a0=d.m, a1=d.n, a2=d.k, shape="")
    return _with_ideal(d, lambda v, g: gemm_ideal_s(peaks, v, g.m, g.n, g.k))


def _attention(df: pd.DataFrame, dtype_column: str, extra: list[str]) -> pd.DataFrame:
    d = df[df[dtype_column].isin(list(ATTENTION_DTYPES))]
    if "window_size" in d:
        d = d[d.window_size == 0]  # full attention only
    keys = ["batch_size", "num_heads", "num_key_value_heads", "head_dim", dtype_column] + extra
    d = d.groupby(keys, as_index=False).latency.min()
    variant = d[dtype_column].map(ATTENTION_DTYPES) + "_d" + d.head_dim.astype(str)
    return d.assign(variant=variant, dtype=d[dtype_column].map(ATTENTION_DTYPES), shape="")


def _decode(df: pd.DataFrame, peaks: dict) -> pd.DataFrame:
    d = _attention(df, "kv_cache_dtype", ["step"])
    d = d.assign(kv_len=d.step + 1)  # step = tokens already cached; the new one is read too
    d = d.assign(a0=d.batch_size * d.num_key_value_heads, a1=d.kv_len, a2=d.num_heads / d.num_key_value_heads)
    return _with_ideal(d, lambda v, g: decode_attention_ideal_s(peaks, g.dtype.iloc[0], g.head_dim, g.batch_size,
                                                                g.kv_len, g.num_heads, g.num_key_value_heads))


def _context(df: pd.DataFrame, peaks: dict) -> pd.DataFrame:
    d = _attention(df[df.isl >= CONTEXT["seq_len"][0]], "attn_dtype", ["isl"])
    d = d.assign(a0=d.batch_size * d.num_heads, a1=d.isl, a2=d.num_heads / d.num_key_value_heads)
    return _with_ideal(d, lambda v, g: context_attention_ideal_s(peaks, g.dtype.iloc[0], g.head_dim, g.batch_size,
                                                                 g.isl, g.num_heads, g.num_key_value_heads))


def _moe(df: pd.DataFrame, peaks: dict) -> pd.DataFrame:
    d = df[df.moe_dtype.isin(list(FORMATS)) & df.distribution.isin(MOE_ROUTING)]
    if "kernel_source" in d:
        d = d[d.kernel_source != MOE_MIN_LATENCY]
    d = d[(d.moe_ep_size <= d.num_experts) & (d.inter_size / d.moe_tp_size >= 64)]
    keys = ["moe_dtype", "distribution", "num_tokens", "hidden_size", "inter_size", "topk", "num_experts",
            "moe_tp_size", "moe_ep_size"]
    d = d.groupby(keys, as_index=False).latency.min()
    shape = list(zip(d.hidden_size, d.inter_size, d.num_experts, d.topk))
    gated = np.array([s not in NONGATED for s in shape])
    args = (d.num_tokens, d.hidden_size, d.inter_size, d.topk, d.num_experts, d.moe_tp_size, d.moe_ep_size)
    a0, a1, a2 = moe_axes(*args, gated=gated)
    d = d.assign(variant=d.moe_dtype.map(FORMATS) + "_" + d.distribution, a0=a0, a1=a1, a2=a2, gated=gated,
                 shape=["x".join(map(str, s)) for s in shape])
    return _with_ideal(d, lambda v, g: moe_ideal_s(peaks, FORMATS[g.moe_dtype.iloc[0]], g.num_tokens, g.hidden_size,
                                                   g.inter_size, g.topk, g.num_experts, g.moe_tp_size,
                                                   g.moe_ep_size, g.gated))


GEMM = {"m": 2.0 ** np.arange(0, 16),  # tokens: 1 .. 32768
        "n": np.array([32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536], float),
        "k": np.array([32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536], float)}
DECODE = {"batch_kv_heads": 2.0 ** np.arange(0, 18),  # 1 .. 131072
          "kv_len": 2.0 * 4.0 ** np.arange(0, 9),  # 2 .. 131072; every other measured length (the rest held back)
          "group": 2.0 ** np.arange(0, 8)}  # query heads per KV head: 1 .. 128
CONTEXT = {"batch_heads": 2.0 ** np.arange(0, 15),  # 1 .. 16384
           "seq_len": 2.0 ** np.arange(4, 15),  # 16 .. 16384 (1536, 3072, 6144, 10240, 12288 held back)
           "group": 2.0 ** np.arange(0, 7)}  # 1 .. 64
MOE = {"tokens_per_expert": 4.0 ** np.arange(-3, 7),  # 1/64 .. 4096
       "expert_elems": 2.0 ** np.arange(20, 28),  # one local expert's weights: 1M .. 128M elements
       "local_experts": 2.0 ** np.arange(0, 10)}  # 1 .. 512
FAMILIES = {
    "gemm": Family("gemm", GEMM, _gemm, monotone=True),
    "decode_attention": Family("decode_attention", DECODE, _decode),
    "context_attention": Family("context_attention", CONTEXT, _context),
    "moe": Family("moe", MOE, _moe, nearest=True, bounded=False),
}
