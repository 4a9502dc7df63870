"""Design-sweep speed: the vectorised path, and simulation sweeps on the local and Ray backends.

Run: .venv/bin/python benchmarks/bench_sweep.py
1. Vectorised core: the silicon model and `estimate_many` on numpy arrays of designs (HBM stacks,
   SRAM, TDP, peak FLOP/s varied), Llama-3.1-70B FP8 at tp=2, batch 128, 1024/256 tokens.
2. The whole `vector` sweep backend on a 1,000,000-point spec, as run_sweep does it: expansion of
   the points, hashing, grouping, evaluation, storing every point in DuckDB, reading the results
   back into the frame run_sweep returns, its Pareto column and plot; on 2 cores (two processes,
   a sweep of 500,000 points each, into its own folder). A million points, because at 200,000
   points/s a smaller sweep mostly measures what does not grow with it (imports, opening a store).
3. A simulation sweep (`chip_sim`, 12 designs x 300 requests) on the local backend (2 workers)
   and on a local Ray started with 2 CPUs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import chip2chat.explore.chip  # noqa: F401  registers the chip evaluators
from chip2chat.catalog import CATALOG_DIR
from chip2chat.engine.vector import estimate_many
from chip2chat.explore.space import SweepSpec
from chip2chat.explore.sweep import run_sweep
from chip2chat.silicon.catalog import load_catalog
from chip2chat.silicon.design import load_design
from chip2chat.silicon.model import derive, evaluate, hbm_entry, to_accelerator

DESIGN = load_design(CATALOG_DIR / "designs" / "hbm4-custom.yaml")
SERVE = dict(tp=2, batch=128, input_len=1024, output_len=256, weight_dtype="fp8", kv_dtype="fp8")
SAMPLES_PER_PROCESS = 125_000  # x 4 HBM stack counts = 500,000 points per process


def core(n: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    stacks = rng.integers(2, 9, n).astype(float)
    sram = rng.uniform(32e6, 512e6, n)
    tdp = rng.uniform(700, 1600, n)
    scale = rng.uniform(0.5, 1.5, n)
    cat = load_catalog()
    reference = to_accelerator(DESIGN, evaluate(DESIGN))
    start = time.perf_counter()
    s = derive(cat, cat.nodes[DESIGN.process_node], DESIGN.hbm.generation, hbm_entry(DESIGN),
               bf16_flops=DESIGN.peak_flops["bf16"] * scale, clock_hz=DESIGN.clock_hz, sram_bytes=sram, stacks=stacks,
               sites=stacks, link_bandwidth=DESIGN.scale_up.bandwidth_bytes_per_s, dies=DESIGN.compute_dies, tdp_w=tdp)
    estimate_many("llama-3.1-70b", reference, **SERVE, peak_flops={d: p * scale for d, p in DESIGN.peak_flops.items()},
                  bandwidth_bytes_per_s=s["hbm_bandwidth_bytes_per_s"], capacity_bytes=s["hbm_capacity_bytes"],
                  tdp_w=tdp, static_power_w=s["static_power_w"])
    return time.perf_counter() - start


def _spec(samples: int, seed: int) -> SweepSpec:
    import yaml

    base = yaml.safe_load((CATALOG_DIR / "designs" / "hbm4-custom.yaml").read_text())
    return SweepSpec(name="bench", evaluator="chip",
                     base={"design": base, "serve": {"model": "llama-3.1-70b", **SERVE}},
                     grid={"design.hbm.stacks": [2, 4, 6, 8]},
                     random={"samples": samples, "seed": seed,
                             "params": {"design.sram": {"low": 32, "high": 512, "unit": "MB"},
                                        "design.tdp": {"low": 700, "high": 1600, "unit": "W"}}},
                     objectives={"usd_per_mtok": "min", "joules_per_token": "min"})


def _half(seed: int) -> int:
    out = tempfile.mkdtemp()
    try:
        return len(run_sweep(_spec(SAMPLES_PER_PROCESS, seed), out, backend="vector"))
    finally:
        shutil.rmtree(out)


def main() -> None:
    n = 1_000_000
    core(1000)  # warm caches
    seconds = core(n)
    print(f"vectorised core, one process: {n:,} designs in {seconds:.2f} s = {n / seconds:,.0f} designs/s")

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = sum(pool.map(_half, [1, 2]))
    seconds = time.perf_counter() - start
    print(f"vector sweep backend, 2 processes: {done:,} points expanded, evaluated, stored and read back in "
          f"{seconds:.2f} s = {done / seconds:,.0f} points/s")

    sim = _spec(3, 0).model_copy(update={"evaluator": "chip_sim", "base": {
        **_spec(3, 0).base, "serve": {"model": "llama-3.1-8b", "tp": 1, "num_requests": 300, "rate_per_s": 5,
                                      "input_len": 1024, "output_len": 128, "weight_dtype": "fp8", "kv_dtype": "fp8"}}})
    for backend, kw in (("local", {"workers": 2}), ("ray", {"num_cpus": 2})):
        out = Path(tempfile.mkdtemp())
        start = time.perf_counter()
        frame = run_sweep(sim, out, backend=backend, **kw)
        seconds = time.perf_counter() - start
        shutil.rmtree(out)
        print(f"simulation sweep on {backend}: {len(frame)} points in {seconds:.1f} s = {len(frame) / seconds:.2f} points/s"
              + (" (includes starting Ray)" if backend == "ray" else ""))


if __name__ == "__main__":
    main()
