"""Serving-configuration search: the parallel plan, batching knobs, KV dtype and prefill/decode
split (on one chip or two) that serve a model best within an SLO, screened analytically and
verified by simulation, with the engine's launch files.

    from chip2chat.configure import configure
    result = configure("llama-3.1-70b", "h200", weight_dtype="fp8", gpus=8, slo_ttft_ms=300, slo_tpot_ms=30)
    result.best.candidate.label(), result.best.tokens_per_s_per_gpu
    result.front          # DataFrame: the simulated finalists, `pareto` marks the front
    result.launch()       # {file name: text}: vllm serve / sglang / trtllm-serve / Dynamo workers

`slo_capacity` (capacity.py) is the bisection on the request rate that sizes a deployment.
"""

from chip2chat.configure.capacity import Capacity, slo_capacity
from chip2chat.configure.result import ConfigureResult, Finalist
from chip2chat.configure.search import configure
from chip2chat.configure.space import Candidate, SearchSpace, Workers

__all__ = ["Candidate", "Capacity", "ConfigureResult", "Finalist", "SearchSpace", "Workers", "configure",
           "slo_capacity"]
