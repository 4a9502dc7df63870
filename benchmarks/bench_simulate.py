"""Simulator speed: a million requests, and what event skipping buys.

Run: .venv/bin/python benchmarks/bench_simulate.py [--requests 1000000]
Llama-3.1-8B (bf16) on one H100, 1,024 input and 256 output tokens, vLLM defaults. Capacity is
measured first (5,000 requests queued at once); the million then arrive as a Poisson stream at
80% of it. Pinned to one core.
"""

from __future__ import annotations

import argparse
import os
import time

from chip2chat.serving.simulate import simulate

SETUP = dict(model="llama-3.1-8b", hardware="h100", input_len=1024, output_len=256)


def timed(**kw):
    """(result, wall seconds, CPU seconds): on a shared machine the CPU time is the steadier figure."""
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate(**SETUP, **kw)
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    cap, _, _ = timed(num_requests=5000, arrival="all_at_once", rate_per_s=1.0)
    capacity = cap.summary["request_throughput"]
    rate = 0.8 * capacity
    print(f"capacity (all queued at once): {capacity:.2f} req/s; load: {rate:.2f} req/s (80%)")

    fast, t_fast, _ = timed(num_requests=20_000, rate_per_s=rate, seed=1)
    slow, t_slow, _ = timed(num_requests=20_000, rate_per_s=rate, seed=1, step_by_step=True)
    worst = max(abs(fast.summary[k] - v) / abs(v) for k, v in slow.summary.items()
                if isinstance(v, float) and v == v and v != 0)
    print(f"20,000 requests: event skipping {t_fast:.2f} s, step by step {t_slow:.2f} s, "
          f"speed-up {t_slow / t_fast:.1f}x over {slow.summary['engine_steps']:,} engine steps; "
          f"largest metric difference {worst:.3%}")

    big, t_big, cpu_big = timed(num_requests=args.requests, rate_per_s=rate, seed=2)
    s = big.summary
    print(f"{args.requests:,} requests: {t_big:.1f} s wall, {cpu_big:.1f} s CPU "
          f"({args.requests / t_big:,.0f} requests/s), "
          f"{s['duration_s'] / 3600:.1f} h simulated, {s['engine_steps']:,} engine steps; "
          f"p99 TTFT {s['p99_ttft_ms']:.0f} ms, p99 TPOT {s['p99_tpot_ms']:.1f} ms")


if __name__ == "__main__":
    main()
