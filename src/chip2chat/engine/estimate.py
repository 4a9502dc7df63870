"""`estimate`: one static batch of identical requests on one replica, in closed form.

TTFT is the time to prefill the whole batch (all prompts arrive together; prompts are packed
into steps of max_num_batched_tokens, long ones chunked), so with batch=1 it is one request's
prefill time. TPOT is the decode step time at the mean context (input + output/2); attention
cost is linear in context under the roofline, so this equals the mean over the decode (nearly so
under measured tables, whose efficiency changes slowly with the context). E2E = TTFT + (O-1) x TPOT.
Power: each step is timed under the chip's TDP cap (engine/timing.py); a step takes the longer of
that and the serving engine's host time for its sequences (engine/engines.py).

`static_batch` does the arithmetic for one chip (`estimate`) and for arrays of chips alike
(`engine.vector.estimate_many`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from chip2chat import args
from chip2chat.costs.operators import Accumulator
from chip2chat.engine.defaults import ENGINE, GPU_MEMORY_UTILIZATION, INPUT_LEN, MAX_NUM_BATCHED_TOKENS, OUTPUT_LEN
from chip2chat.engine.engines import serving_engine
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import MemoryBudget, kv_bytes_per_sequence, largest_batch, memory_budget
from chip2chat.engine.replica import Replica, StepShape
from chip2chat.engine.speculative import Speculative
from chip2chat.engine.timing import timed
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.dtypes import KV_DTYPES, WEIGHT_DTYPES
from chip2chat.models.transformer import Transformer


@dataclass(frozen=True)
class Estimate:
    """Result of `estimate`. Seconds, bytes, watts, joules; per device unless the name says replica."""

    model: str
    hardware: str
    """The chip's display name (the same whether it was given by name, object or file)."""
    calibration: str
    """The calibration profile that set the chip's efficiencies (see Accelerator.calibration)."""
    engine: str
    """The serving engine (engine/engines.py) whose kernels time the operators."""
    fidelity: str
    """How the operators were timed: "measured" (the chip's kernel tables under the engine) or
    "roofline" (the analytic model)."""
    speculative: str
    """The speculative decoding setup ("method k=.. a=..") or "none"; TPOT is per emitted token."""
    tp: int
    pp: int
    ep: int
    num_devices: int
    batch: int
    input_len: int
    output_len: int
    weight_dtype: str
    kv_dtype: str
    fits: bool
    max_batch: int
    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float
    """Whole replica."""
    output_tokens_per_s_per_device: float
    decode_bound: str
    """What takes most of a decode step: compute, memory, communication or overhead."""
    prefill_bound: str
    weights_bytes_per_device: float
    kv_bytes_per_token: float
    """Whole model, every layer keeping the token (e.g. 327,680 for Llama-3.1-70B in bf16)."""
    kv_bytes_per_device: float
    """KV cache of the whole batch at full length (input + output) on one device."""
    activation_bytes_per_device: float
    memory_needed_bytes_per_device: float
    memory_available_bytes_per_device: float
    """HBM capacity x gpu_memory_utilization."""
    power_w: float | None
    """Whole replica while decoding; None when the chip's TDP is unpublished."""
    power_w_per_device: float | None
    energy_per_output_token_j: float | None
    """Prefill and decode energy of the batch over its output tokens, whole replica."""
    decode_breakdown_s: dict = field(default_factory=dict)
    """Decode step time by bound: compute_s, memory_s, communication_s, overhead_s."""
    cuda_graphs: bool = True
    """The engine ran its steps in CUDA graphs (engine/engines.py; False: costs/measured.py)."""

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(model: str | Transformer = "llama-3.1-8b", hardware: str | Accelerator = "h100-sxm", *,
             tp: int = 1, pp: int = 1, ep: int = 1, batch: int = 1, input_len: int = INPUT_LEN,
             output_len: int = OUTPUT_LEN, weight_dtype: str = "bf16", kv_dtype: str = "bf16",
             gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION, max_num_batched_tokens: int = MAX_NUM_BATCHED_TOKENS,
             profile: CalibrationProfile | None = None, attention_dp: bool = False, engine: str = ENGINE,
             fidelity: str | None = None, speculative: Speculative | None = None,
             cuda_graphs: bool | None = None) -> Estimate:
    """Estimate one static batch of `batch` requests of input_len + output_len tokens.

    `attention_dp`: attention data parallel over the tp chips (MoE with ep = tp; see ParallelPlan).
    `engine`: the serving engine whose measured kernels time the operators where the chip has
    tables (engine/engines.py); `fidelity`: None for the chip's, or "roofline" / "measured";
    `speculative`: speculative decoding (engine/speculative.py), or None; `cuda_graphs`: whether
    the engine runs its steps in CUDA graphs (None: the engine's default, engine/engines.py)."""
    for name, value in (("batch", batch), ("input_len", input_len), ("output_len", output_len),
                        ("max_num_batched_tokens", max_num_batched_tokens)):
        args.positive_int(name, value)
    args.number("gpu_memory_utilization", gpu_memory_utilization, low=0, high=1, low_open=True)
    if weight_dtype not in WEIGHT_DTYPES:
        raise Chip2ChatError(f"weight dtype {weight_dtype!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    if kv_dtype not in KV_DTYPES:
        raise Chip2ChatError(f"KV dtype {kv_dtype!r} is not one of {', '.join(KV_DTYPES)}")
    if speculative is not None:
        args.instance("speculative", speculative, (Speculative,), "a Speculative or None")
    replica = get_replica(model, hardware, tp, pp, ep, weight_dtype, kv_dtype, profile, attention_dp, engine, fidelity,
                          speculative, cuda_graphs)
    m = replica.model
    if input_len + output_len > m.spec.max_context:
        raise Chip2ChatError(f"input_len + output_len = {input_len + output_len} exceeds {m.name}'s context "
                             f"of {m.spec.max_context} tokens (max_position_embeddings)")
    run = static_batch(replica, batch, input_len, output_len, gpu_memory_utilization, max_num_batched_tokens,
                       replica.step_cost, serving_engine(engine).host_overhead_per_seq_s)
    dev, n_dev, decode = replica.device, replica.plan.num_devices, run.decode
    bounds: dict[str, float] = {}
    for seconds, cost in run.prefill:
        bounds[cost.bound()] = bounds.get(cost.bound(), 0.0) + seconds
    return Estimate(
        model=m.name, hardware=dev.hw.name, calibration=dev.calibration, engine=engine, fidelity=dev.fidelity,
        speculative=speculative.label if speculative else "none",
        tp=tp, pp=pp, ep=ep, num_devices=n_dev, batch=batch,
        input_len=input_len, output_len=output_len, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
        fits=run.fits, max_batch=int(run.max_batch),
        ttft_s=run.ttft_s, tpot_s=run.tpot_s, e2e_s=run.e2e_s,
        output_tokens_per_s=run.output_tokens_per_s,
        output_tokens_per_s_per_device=run.output_tokens_per_s_per_device,
        decode_bound=decode.bound(), prefill_bound=max(bounds, key=bounds.__getitem__),
        weights_bytes_per_device=run.budget.weights_bytes,
        kv_bytes_per_token=m.kv_bytes_per_token(kv_dtype),
        kv_bytes_per_device=run.kv_bytes,
        activation_bytes_per_device=run.budget.activation_bytes,
        memory_needed_bytes_per_device=run.needed_bytes,
        memory_available_bytes_per_device=run.budget.usable_bytes,
        power_w=run.power_w,
        power_w_per_device=run.power_w_per_device,
        energy_per_output_token_j=run.energy_per_output_token_j,
        decode_breakdown_s={"compute_s": decode.compute_s, "memory_s": decode.memory_s,
                            "communication_s": decode.communication_s, "overhead_s": decode.overhead_s},
        cuda_graphs=dev.cuda_graphs,
    )


@dataclass
class StaticBatch:
    """What `static_batch` works out: per device unless the name says otherwise; floats for one
    chip, arrays for a Device of many."""

    budget: MemoryBudget
    kv_bytes: float
    """KV cache of the whole batch at full length on one device."""
    needed_bytes: float
    fits: bool
    max_batch: int
    prefill: list
    """(seconds, step cost) of each kind of prefill step, all its repeats together."""
    decode: Accumulator
    """The decode step at the mean context, before the TDP cap."""
    ttft_s: float
    prefill_j: float
    tpot_s: float
    decode_j: float
    e2e_s: float
    output_tokens_per_s: float
    """Whole replica."""
    output_tokens_per_s_per_device: float
    power_w_per_device: float | None
    """While decoding; None where the TDP is unknown (as for the two below)."""
    power_w: float | None
    energy_per_output_token_j: float | None
    """Prefill and decode energy of the batch over its output tokens, whole replica."""


def static_batch(replica: Replica, batch: int, input_len: int, output_len: int, gpu_memory_utilization: float,
                 max_num_batched_tokens: int, step: Callable[[StepShape], Accumulator],
                 host_per_seq_s: float = 0.0) -> StaticBatch:
    """One static batch on `replica`, each step costed by `step` (replica.step_cost or step_total)
    and timed under the TDP cap, or by the engine's host time (`host_per_seq_s` per sequence in the
    step) where that is longer: prefill of every prompt, then decode at the mean context."""
    dev, n_dev = replica.device, replica.plan.num_devices
    budget = memory_budget(replica, gpu_memory_utilization, max_num_batched_tokens, batch)
    kv_batch = batch * kv_bytes_per_sequence(replica, input_len + output_len)
    needed = budget.fixed_bytes + kv_batch
    ttft = prefill_j = 0.0
    prefill = []
    for times, shape in prefill_steps(batch, input_len, max_num_batched_tokens):
        cost = step(shape)
        t, j = timed(cost.time_s, cost.dynamic_energy_j, dev, host_per_seq_s * len(shape.prefill))
        ttft, prefill_j = ttft + times * t, prefill_j + times * j
        prefill.append((times * t, cost))
    decode = step(StepShape.uniform_decode(batch, input_len + output_len // 2, replica.windows))
    tpot, decode_j = timed(decode.time_s, decode.dynamic_energy_j, dev, host_per_seq_s * batch)
    e2e = ttft + (output_len - 1) * tpot
    has_power = dev.tdp_w is not None
    power_dev = decode_j / tpot if has_power else None
    return StaticBatch(
        budget=budget, kv_bytes=kv_batch, needed_bytes=needed, fits=needed <= budget.usable_bytes,
        max_batch=largest_batch(replica, budget.usable_bytes, gpu_memory_utilization, max_num_batched_tokens,
                                input_len + output_len),
        prefill=prefill, decode=decode, ttft_s=ttft, prefill_j=prefill_j, tpot_s=tpot, decode_j=decode_j, e2e_s=e2e,
        output_tokens_per_s=batch * output_len / e2e, output_tokens_per_s_per_device=batch * output_len / e2e / n_dev,
        power_w_per_device=power_dev, power_w=power_dev * n_dev if has_power else None,
        energy_per_output_token_j=(prefill_j + (output_len - 1) * decode_j) * n_dev / (batch * output_len)
        if has_power else None)


def prefill_steps(batch: int, input_len: int, budget: int) -> list[tuple[float, StepShape]]:
    """(how many times, step) that prefill `batch` prompts of `input_len` tokens.

    Prompts are packed whole into steps of `budget` tokens (the last step may be partial: its cost
    is scaled by its share of tokens); a prompt longer than the budget is chunked.
    """
    if input_len <= budget:
        per_step = max(1, min(batch, budget // input_len))
        return [(batch / per_step, StepShape(prefill=((0, input_len),) * per_step))]
    return [(float(batch), StepShape(prefill=((start, min(budget, input_len - start)),)))
            for start in range(0, input_len, budget)]
