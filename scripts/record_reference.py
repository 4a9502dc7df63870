"""Record the results a refactor must not change: every validation prediction, the `simulate`
metrics of the README examples (and of each scheduler and cluster path), and the default plan's
results.csv. tests/test_reference.py recomputes them and compares to 1e-9 relative.

Run: .venv/bin/python scripts/record_reference.py
Re-record only for a change that is meant to move numbers, and say why in the commit message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference"
TRACES = Path(__file__).resolve().parent.parent / "src" / "chip2chat" / "catalog" / "traces"

# (name, simulate keyword arguments): the README's examples and one case per scheduler/cluster path
SIMULATIONS = [
    ("readme_python", dict(model="llama-3.1-8b", hardware="h100", rate_per_s=15, num_requests=100_000, seed=0,
                           slo_ttft_ms=200, slo_tpot_ms=30)),
    ("two_replicas_least_outstanding", dict(model="llama-3.1-8b", hardware="h100", num_replicas=2, rate_per_s=30,
                                            num_requests=3000, router="least_outstanding_tokens",
                                            input_len=("lognormal", 1024, 0.5), output_len=("lognormal", 256, 0.8))),
    ("no_chunked_prefill", dict(model="llama-3.1-8b", hardware="h100", rate_per_s=12, num_requests=2000,
                                enable_chunked_prefill=False)),
    ("vllm_v0_multi_step", dict(model="llama-3.1-8b", hardware="a100-sxm-80gb", engine="vllm", rate_per_s=4,
                                num_requests=1200, input_len=202, output_len=194, enable_chunked_prefill=False,
                                num_scheduler_steps=10)),
    ("sglang_prefill_apart", dict(model="llama-3.1-8b", hardware="h100", engine="sglang", rate_per_s=12,
                                  num_requests=2000)),
    ("disaggregated_1_3", dict(model="llama-3.1-8b", hardware="h100", rate_per_s=30, num_requests=2000,
                               disaggregate=(1, 3))),
    ("prefix_caching_trace", dict(model="llama-3.1-8b", hardware="h100", trace=str(TRACES / "mooncake_sample.jsonl"),
                                  trace_format="mooncake", enable_prefix_caching=True,
                                  router="prefix_affinity", num_replicas=2)),
    ("small_cache_preemption", dict(model="llama-3.1-70b", hardware="h100", tp=4, rate_per_s=0.8, num_requests=1500,
                                    input_len=4096, output_len=1024, gpu_memory_utilization=0.6)),
    ("guaranteed_no_evict_pp2", dict(model="llama-3.1-70b", hardware="h200", tp=2, pp=2, weight_dtype="fp8",
                                     kv_dtype="fp8", arrival="all_at_once", num_requests=1500,
                                     scheduler="trtllm-guaranteed-no-evict", host_overhead_per_seq_s=29.4e-6)),
    ("moe_attention_dp", dict(model="qwen3-30b-a3b", hardware="b200", tp=4, ep=4, attention_dp=True,
                              weight_dtype="fp8", kv_dtype="fp8", rate_per_s=40, num_requests=2000)),
    ("priority_gamma", dict(model="mistral-7b", hardware="l40s", rate_per_s=3, num_requests=1500, arrival="gamma",
                            cv=3.0, policy="fcfs", seed=7)),
    # the serving engine's kernels, scheduler and host time; and a chip without kernel tables (roofline)
    ("trtllm_engine", dict(model="llama-3.1-70b", hardware="h200", tp=4, engine="trtllm", weight_dtype="fp8",
                           kv_dtype="fp8", rate_per_s=6, num_requests=1500)),
    ("roofline_mi300x", dict(model="mixtral-8x7b", hardware="mi300x", rate_per_s=10, num_requests=1500)),
]


def simulations() -> dict:
    from chip2chat.serving.simulate import simulate

    out = {}
    for name, kwargs in SIMULATIONS:
        summary = simulate(**kwargs).summary
        out[name] = {k: v for k, v in summary.items() if not isinstance(v, str) or k in ("model", "hardware")}
    return out


def validation():
    from chip2chat.validate.run import validate

    df = validate(workers=2)
    return df[["file", "line", "metric", "status", "predicted"]].assign(file=df["file"].map(lambda f: Path(f).name))


def plan_table():
    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.datacenter.plan import plan
    from chip2chat.datacenter.scenario import load_scenario

    return plan(load_scenario(CATALOG_DIR / "scenarios" / "voice-assistant.yaml")).table


def main() -> None:
    REFERENCE.mkdir(parents=True, exist_ok=True)
    which = set(sys.argv[1:]) or {"simulate", "validation", "plan"}
    if "simulate" in which:
        (REFERENCE / "simulate.json").write_text(json.dumps(simulations(), indent=1, sort_keys=True) + "\n")
    if "validation" in which:
        validation().to_csv(REFERENCE / "validation.csv", index=False, float_format="%.17g")
    if "plan" in which:
        plan_table().to_csv(REFERENCE / "plan_results.csv", index=False, float_format="%.17g")
    print(f"recorded {', '.join(sorted(which))} in {REFERENCE}")


if __name__ == "__main__":
    main()
