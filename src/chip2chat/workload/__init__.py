"""Workloads: requests over time for the serving simulation.

A `Workload` is arrays of arrival times and token lengths (plus optional priorities and Mooncake-style
prefix hashes). Build one from generators (`synthetic`, or the arrival and length functions
separately) or from a public trace (`read_trace`: Azure 2023, BurstGPT, Mooncake formats).

    from chip2chat.workload import synthetic, read_trace
    w = synthetic(100_000, rate_per_s=20, input_len=("lognormal", 1000, 1.0), output_len=250)
    w2 = read_trace("AzureLLMInferenceTrace_conv.csv", "azure").scaled(2.0)

Stage rule: this package imports only chip2chat.errors; serving imports it, never the reverse.
"""

from chip2chat.workload.arrivals import daily_curve_arrivals, gamma_arrivals, poisson_arrivals
from chip2chat.workload.errors import TraceError
from chip2chat.workload.lengths import constant_lengths, lognormal_lengths, uniform_lengths
from chip2chat.workload.synthetic import synthetic
from chip2chat.workload.traces import read_trace
from chip2chat.workload.workload import Workload

__all__ = [
    "TraceError",
    "Workload",
    "constant_lengths",
    "daily_curve_arrivals",
    "gamma_arrivals",
    "lognormal_lengths",
    "poisson_arrivals",
    "read_trace",
    "synthetic",
    "uniform_lengths",
]
