"""Single estimates per second in one process, pinned to one core.

Run: .venv/bin/python benchmarks/bench_estimate.py
Each call is a full `chip2chat.estimate(...)` with catalog names (the replica is cached after the
first call, as in a sweep): fit check, prefill steps, one decode step, power and energy.
"""

from __future__ import annotations

import os
import time

import chip2chat as c2c

CASES = [
    dict(model="llama-3.1-70b", hardware="h200", tp=8, batch=64, input_len=1024, output_len=256),
    dict(model="llama-3.1-8b", hardware="h100", tp=1, batch=1, input_len=512, output_len=128),
    dict(model="deepseek-v3", hardware="b200", tp=8, ep=8, batch=32, input_len=2048, output_len=512,
         weight_dtype="fp8"),
    dict(model="gpt-oss-120b", hardware="mi300x", tp=1, batch=16, input_len=4096, output_len=1024,
         weight_dtype="fp4"),
]


def main(seconds_per_case: float = 2.0) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    total_calls, total_time = 0, 0.0
    for case in CASES:
        c2c.estimate(**case)  # warm the replica cache
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds_per_case:
            for _ in range(100):
                c2c.estimate(**case)
            calls += 100
        elapsed = time.perf_counter() - start
        total_calls, total_time = total_calls + calls, total_time + elapsed
        label = f"{case['model']} on {case['hardware']} tp={case['tp']} batch={case['batch']}"
        print(f"{label:55s} {calls / elapsed:10,.0f} estimates/s  ({elapsed / calls * 1e6:6.1f} us each)")
    print(f"{'all cases, one core':55s} {total_calls / total_time:10,.0f} estimates/s")


if __name__ == "__main__":
    main()
