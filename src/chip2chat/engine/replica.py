"""One serving replica: a model on `tp x pp` chips. Costs one engine step of a batch.

A step processes prefill chunks (new prompt tokens after some cached context) and decode
tokens (one per running sequence) together, as vLLM's continuous batching does. Its time is
the sum over layers of the operator costs on one chip (all chips of a stage work in lockstep),
plus the pipeline: with pp stages the batch is split into pp micro-batches that fill the pipe,
so a token's step takes pp x stage time plus the sends between stages.

With speculative decoding (engine/speculative.py) a decode-only step verifies k + 1 query tokens
per sequence (the body's GEMMs over (k + 1) x the tokens; attention reads each context once), runs
k draft passes of about one decoder layer each (k/L of the step), and emits a tokens per sequence
on average: its time and energy are charged per emitted token, (1 + k/L) / a of the verify step,
so that a simulator emitting one token per sequence and step keeps the right TPOT and throughput
(the bursts of accepted tokens in the inter-token latency are not drawn). Steps carrying prefill
chunks decode without drafts.

With attention data parallel (plan.attention_dp) each chip runs the non-expert operators of its
own sequences with whole weights, and attention over them with their whole KV, and the ranks meet
at every MoE layer, so a step takes as long as its busiest rank. Decoding sequences spread evenly
(1/dp each); a prompt chunk is not split between ranks: with n chunks in the step the busiest rank
prefills ceil(n/dp) of them (TensorRT-LLM and SGLang give each rank its own requests and its own
scheduler). `_prefill_weight` is that rank's prefill work over the even share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chip2chat.costs.collectives import collective
from chip2chat.costs.device import Device
from chip2chat.costs.fidelity import AttentionLayer, MoeLayer
from chip2chat.costs.operators import Accumulator, StepCost, StepTotal, attention, elementwise, gemm, moe_experts
from chip2chat.engine.expert_load import busiest_rank_factor
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.speculative import Speculative
from chip2chat.models.config import LayerKind
from chip2chat.models.dtypes import COMPUTE_DTYPE, dtype_bytes
from chip2chat.models.transformer import HIGH_PRECISION_BYTES, Transformer, attention_pairs

ACT = 2.0  # activations in bf16


@dataclass(frozen=True, slots=True)
class StepShape:
    """What one engine step computes.

    prefill: (cached context, new tokens) per sequence being prefilled this step.
    decode_count: sequences that decode one token this step.
    decode_keys: keys the decode tokens attend to in total, per attention window
        (None = full attention): sum over sequences of min(context, window).
    """

    prefill: tuple[tuple[int, int], ...] = ()
    decode_count: int = 0
    decode_keys: tuple[tuple[int | None, float], ...] = ()

    @staticmethod
    def uniform_decode(count: int, context: int, windows: tuple[int | None, ...]) -> "StepShape":
        keys = tuple((w, count * (context if w is None else min(context, w))) for w in windows)
        return StepShape(decode_count=count, decode_keys=keys)

    @property
    def tokens(self) -> int:
        if not self.prefill:  # most steps of a simulation decode only: skip building the sum
            return self.decode_count
        return sum(n for _, n in self.prefill) + self.decode_count


@dataclass(frozen=True, slots=True)
class _LayerPlan:
    """Per-chip shapes of one kind of layer under the plan, precomputed."""

    count: int  # layers of this kind on one pipeline stage
    kind: LayerKind
    heads: int  # attention heads per chip
    qkv_out: int  # columns of the fused QKV (or MLA down/up) projections per chip
    attn_in: int  # rows of the output projection per chip
    kv_bytes_per_token: float  # KV bytes one cached token of the replica costs one chip in this layer
    window: int | None
    prefill_flops_per_pair: float  # attention FLOP per (query, key) pair on this chip
    decode_flops_per_pair: float  # the same in decode (MLA absorbed)
    qo_bytes_per_query: float  # query read + output write per token on this chip
    busiest_rank: float  # token-expert pairs on the busiest EP rank over the mean (1 without MoE or EP)
    attn: AttentionLayer  # the attention kernel's shape on this chip (what measured tables look up)
    moe: MoeLayer | None  # the routed experts (None for a dense MLP)


class Replica:
    """A model served on a parallel plan, with its chip's achievable rates."""

    def __init__(self, model: Transformer, device: Device, plan: ParallelPlan,
                 weight_dtype: str = "bf16", kv_dtype: str = "bf16", speculative: Speculative | None = None):
        plan.validate(model)
        self.model, self.device, self.plan = model, device, plan
        self.speculative = speculative
        k = speculative.num_speculative_tokens if speculative else 0
        self._queries = k + 1  # query tokens per decoding sequence in a decode-only step
        self._per_token = (1.0 + k / model.num_layers) / speculative.acceptance_length if speculative else 1.0
        self.weight_dtype, self.kv_dtype = weight_dtype, kv_dtype
        self.w_bytes = dtype_bytes(weight_dtype, "weight dtype")
        self.kv_bytes = dtype_bytes(kv_dtype, "KV dtype")
        # the dtype the GEMMs are asked for: the weights' (int4 stays int4, so measured tables take its
        # weight-only kernels; the Device knows the rate each runs at), bf16 for fp16/fp32 weights
        self.gemm_dtype = "int4" if weight_dtype == "int4" else COMPUTE_DTYPE[weight_dtype]
        self.model_weight_bytes = model.weight_bytes(weight_dtype) * (1.0 + (1.0 / model.num_layers if k else 0.0))
        """All the model's weights (every chip's share together), in bytes; a draft adds about one
        decoder layer's."""
        self.windows = tuple(sorted({k.attention.window for _, k in model.layers}, key=lambda w: w or 0))
        self._layers = tuple(self._plan_layer(count, kind) for count, kind in model.layers)
        self._layer_windows = tuple((lp, self.windows.index(lp.window)) for lp in self._layers)
        self._body_memo: dict[tuple[float, float], tuple[float, float]] = {}
        self._decode_body_memo: dict[float, tuple[float, float]] = {}  # (tokens = logits = decode count)
        self._attention_rates = (device.times.attention, 0.0 if device.times.launch_included else device.launch_s,
                                 device.energy_per_flop["attention"], device.energy_per_byte)
        self._prefill_memo: dict[tuple, tuple[tuple[float, float], ...]] = {}

    def _plan_layer(self, count: int, kind: LayerKind) -> _LayerPlan:
        a, tp, dp = kind.attention, self.plan.attention_tp, self.plan.dp
        heads = a.num_heads // tp
        if a.kind == "mla":
            # the compressed latent is replicated on every TP rank (vLLM's MLA)
            kv_per_token = (a.kv_lora_rank + a.qk_rope_head_dim) * self.kv_bytes
            qkv_out = heads * a.head_dim + a.kv_lora_rank + a.qk_rope_head_dim
            kv_heads = heads  # every head reads the one latent (no measured table: the roofline times it)
        else:
            kv_heads = max(1, a.num_kv_heads // tp)  # replicated when tp > kv heads
            kv_per_token = kv_heads * (a.head_dim + a.v_head_dim) * self.kv_bytes
            qkv_out = (heads + 2 * kv_heads) * a.head_dim
        m, plan = kind.mlp, self.plan
        moe = MoeLayer(self.model.hidden, m.intermediate, m.top_k, m.num_experts, plan.tp // plan.ep, plan.ep,
                       m.gated, self.gemm_dtype) if m.is_moe else None
        # with attention DP a chip holds 1/dp of the sequences: on average 1/dp of each token's work
        return _LayerPlan(count=count / self.plan.pp, kind=kind, heads=heads, qkv_out=qkv_out,
                          attn_in=heads * a.v_head_dim, kv_bytes_per_token=kv_per_token / dp, window=a.window,
                          prefill_flops_per_pair=self.model.attention_flops_per_pair(a, absorbed=False) / tp / dp,
                          decode_flops_per_pair=self.model.attention_flops_per_pair(a, absorbed=True) / tp / dp,
                          qo_bytes_per_query=heads * (a.head_dim + a.v_head_dim) * ACT / dp,
                          busiest_rank=busiest_rank_factor(self.plan.ep, kind.mlp.num_experts / self.plan.ep)
                          if kind.mlp.is_moe else 1.0,
                          attn=AttentionLayer(heads, kv_heads, a.head_dim, self.kv_dtype, latent=a.kind == "mla"),
                          moe=moe)

    # --- one step ---------------------------------------------------------------------------
    def step_cost(self, shape: StepShape, detail: bool = False) -> StepCost:
        """Cost of one engine step on one chip, the pipeline included, before any TDP cap, split by
        what bounds each operator (and every operator with `detail`)."""
        return self._step(StepCost(ops=[] if detail else None), shape)

    def step_total(self, shape: StepShape) -> StepTotal:
        """Time and dynamic energy of one engine step on one chip, before any TDP cap: floats, or
        arrays when the replica's Device stands for many chips (a vectorised sweep)."""
        return self._step(StepTotal(), shape)

    def _step(self, acc: Accumulator, shape: StepShape) -> Accumulator:
        """= body (every operator but attention; depends only on the token and logit counts)
        + attention (depends on the contexts), for one pipeline micro-batch, times pp."""
        pp = self.plan.pp
        micro = shape if pp == 1 else _split(shape, pp)
        q = 1 if micro.prefill or not micro.decode_count else self._queries  # k + 1 verified per sequence
        w = self._prefill_weight(len(micro.prefill))
        new = micro.tokens - micro.decode_count
        self._body(acc, micro.tokens * q, (micro.decode_count + len(micro.prefill)) * q,
                   micro.decode_count * q + new * w, micro.decode_count * q + len(micro.prefill) * w)
        self._attention_all(acc, micro)
        acc = self._finish(acc, micro.tokens * q)
        if q > 1:
            acc.scale(self._per_token)
        return acc

    def fast_step(self, shape: StepShape) -> tuple[float, float]:
        """(seconds, dynamic joules per chip) of a step, equal to step_cost's, with the body memoised.

        The serving simulator calls this millions of times (through `fast_cost`): the body depends
        only on (tokens, logits), so it is computed once per pair; so is the prefill attention of
        each set of chunks; the decode attention is costed each time.
        """
        keys = dict(shape.decode_keys)
        return self.fast_cost(shape.prefill, shape.decode_count, tuple(keys.get(w, 0.0) for w in self.windows))

    def fast_cost(self, prefill: tuple[tuple[int, int], ...], decode_count: int,
                  window_keys: tuple[float, ...]) -> tuple[float, float]:
        """`fast_step` of StepShape(prefill, decode_count, decode keys) without building the shape:
        `window_keys` are the decode keys per attention window of `self.windows`, in its order.
        Attention is what `_attention_all` adds to a StepTotal, without the operator calls."""
        pp, dev = self.plan.pp, self.device
        if pp > 1:  # one of pp equal micro-batches
            f = 1.0 / pp
            prefill = tuple((c, new * f) for c, new in prefill)
            decode_count = decode_count * f
            window_keys = tuple(k * f for k in window_keys)
        if not prefill:
            tokens = decode_count * self._queries
            body = self._decode_body_memo.get(tokens)
            if body is None:
                body = self._decode_body_memo[tokens] = self._body_cost(tokens, tokens)
            att_s, att_j = self._decode_terms(decode_count, window_keys) if decode_count else (0.0, 0.0)
        else:
            new = sum([n for _, n in prefill])
            tokens, w = new + decode_count, self._prefill_weight(len(prefill))
            key = (tokens, decode_count + len(prefill), decode_count + new * w, decode_count + len(prefill) * w)
            body = self._body_memo.get(key)
            if body is None:
                body = self._body_memo[key] = self._body_cost(*key)
            att_s, att_j = self._decode_terms(decode_count, window_keys) if decode_count else (0.0, 0.0)
            for pre_s, pre_j in self._prefill_terms(prefill):
                att_s += pre_s
                att_j += pre_j
        seconds = (body[0] + att_s) * pp + dev.step_overhead_s
        joules = (body[1] + att_j) * pp
        if pp > 1:
            send = StepTotal()
            collective(send, "pp_send", "send", tokens * self.model.hidden * ACT, 2, dev, count=pp - 1)
            seconds, joules = seconds + send.time_s, joules + send.dynamic_energy_j
        if not prefill and decode_count and self._queries > 1:
            return seconds * self._per_token, joules * self._per_token
        return seconds, joules

    def _finish(self, acc: Accumulator, micro_tokens: float) -> Accumulator:
        pp = self.plan.pp
        if pp > 1:
            # every micro-batch passes all pp stages; the pipe is full, so the step is pp stage times
            acc.scale(pp)
            collective(acc, "pp_send", "send", micro_tokens * self.model.hidden * ACT, 2, self.device,
                       count=pp - 1)
        acc.add_overhead(self.device.step_overhead_s)
        return acc

    def _prefill_weight(self, chunks: int) -> float:
        """The busiest attention-DP rank's prompt work over an even 1/dp share of it: dp x
        ceil(n/dp) / n for n chunks (1 without attention DP or prompts)."""
        dp = self.plan.dp
        return dp * -(-chunks // dp) / chunks if dp > 1 and chunks else 1.0

    def _body(self, acc: Accumulator, t: float, logits: float, rank_t: float | None = None,
              rank_logits: float | None = None) -> None:
        """Every operator of one stage except attention: projections, MLP/MoE, norms, collectives.
        `t` tokens enter the experts; the busiest attention-DP rank runs `rank_t` / dp of them
        outside the experts and samples `rank_logits` / dp (both `t` and `logits` by default)."""
        dev, tp, h = self.device, self.plan.attention_tp, self.model.hidden
        rank_t = t if rank_t is None else rank_t
        for lp in self._layers:
            self._layer(acc, lp, t, dev, tp, h, rank_t)
        # embedding gather on the first stage, lm_head on the last: one of each per pipeline pass
        share, dp = 1.0 / self.plan.pp, self.plan.dp
        t, logits = rank_t / dp, (logits if rank_logits is None else rank_logits) / dp
        elementwise(acc, "embedding", t * h * ACT * 2, dev, count=share)
        gemm(acc, "lm_head", logits, self.model.vocab / tp, h, "bf16", HIGH_PRECISION_BYTES, dev, count=share)
        if tp > 1:
            collective(acc, "logits_all_gather", "all_gather", logits * self.model.vocab * 4.0, tp, dev,
                       count=share)
        # sampling reads every sequence's fp32 logits over the whole vocabulary (softmax, top-k/p)
        elementwise(acc, "sampling", logits * self.model.vocab * 4.0, dev, count=share)

    def _attention_all(self, acc: Accumulator, shape: StepShape) -> None:
        dev, keys_by_window, dp = self.device, dict(shape.decode_keys), self.plan.dp
        count, w = shape.decode_count, self._prefill_weight(len(shape.prefill))
        for lp in self._layers:
            if shape.prefill:
                flops, nbytes, length = _prefill_work(lp, shape.prefill)
                attention(acc, "prefill_attention", flops * w, nbytes * w, dev, lp.count, layer=lp.attn,
                          batch=len(shape.prefill) * w / dp, length=length, decode=False)
            if count:
                keys = keys_by_window.get(lp.window, 0.0)
                attention(acc, "decode_attention", *_decode_work(lp, count, keys), dev, lp.count, layer=lp.attn,
                          batch=count / dp, length=keys / count)

    def _decode_terms(self, count: float, window_keys: tuple[float, ...]) -> tuple[float, float]:
        """Every layer's decode attention (seconds, joules): what `_attention_all` adds, without
        the operator calls (the simulator's hot path). `count` > 0 sequences."""
        time_of, launch, e_flop, e_byte = self._attention_rates
        dev, batch = self.device, count / self.plan.dp
        att_s = att_j = 0.0
        for lp, w in self._layer_windows:
            keys = window_keys[w]
            flops, nbytes = _decode_work(lp, count, keys)
            att_s += (time_of(flops, nbytes, dev, lp.attn, batch, keys / count, True)[0] + launch) * lp.count
            att_j += (flops * e_flop + nbytes * e_byte) * lp.count
        return att_s, att_j

    def _body_cost(self, tokens: float, logits: float, rank_t: float | None = None,
                   rank_logits: float | None = None) -> tuple[float, float]:
        acc = StepCost()
        self._body(acc, tokens, logits, rank_t, rank_logits)
        return acc.time_s, acc.dynamic_energy_j

    def _prefill_terms(self, prefill) -> tuple[tuple[float, float], ...]:
        """Each layer's prefill attention (seconds, joules), memoised by the chunks: a simulation
        meets the same few (cached, new) sets again and again."""
        terms = self._prefill_memo.get(prefill)
        if terms is None:
            if len(self._prefill_memo) >= 4096:  # lengths drawn from a distribution rarely repeat
                self._prefill_memo.clear()
            w = self._prefill_weight(len(prefill))
            dev, batch = self.device, len(prefill) * w / self.plan.dp
            time_of, launch, e_flop, e_byte = self._attention_rates
            terms = []
            for lp in self._layers:
                flops, nbytes, length = _prefill_work(lp, prefill)
                flops, nbytes = flops * w, nbytes * w
                terms.append(((time_of(flops, nbytes, dev, lp.attn, batch, length, False)[0] + launch) * lp.count,
                              (flops * e_flop + nbytes * e_byte) * lp.count))
            terms = self._prefill_memo[prefill] = tuple(terms)
        return terms

    def _layer(self, acc: Accumulator, lp: _LayerPlan, t_step: float, dev: Device, tp: int, h: int,
               rank_t: float) -> None:
        """One layer on one chip: `t_step` tokens in the step (`rank_t` of them as the busiest
        attention-DP rank sees it, see _body), `tp` the split outside the experts."""
        a, m, n = lp.kind.attention, lp.kind.mlp, lp.count
        cd, wb = self.gemm_dtype, self.w_bytes
        t = rank_t / self.plan.dp  # tokens this chip runs outside the routed experts
        elementwise(acc, "input_norm", 2 * t * h * ACT, dev, n)
        # --- attention ---
        if a.kind == "mla":
            q_in = a.q_lora_rank or h
            if a.q_lora_rank:
                gemm(acc, "q_a_proj", t, a.q_lora_rank, h, cd, wb, dev, n)
            gemm(acc, "q_b_proj", t, lp.heads * a.head_dim, q_in, cd, wb, dev, n)
            gemm(acc, "kv_a_proj", t, a.kv_lora_rank + a.qk_rope_head_dim, h, cd, wb, dev, n)
            # kv_b up-projection: applied to the new tokens (prefill) or absorbed into q/out (decode)
            gemm(acc, "kv_b_proj", t, lp.heads * (a.head_dim - a.qk_rope_head_dim + a.v_head_dim),
                 a.kv_lora_rank, cd, wb, dev, n)
        else:
            gemm(acc, "qkv_proj", t, lp.qkv_out, h, cd, wb, dev, n)
        gemm(acc, "o_proj", t, h, lp.attn_in, cd, wb, dev, n)
        collective(acc, "attn_all_reduce", "all_reduce", t * h * ACT, tp, dev, n)
        elementwise(acc, "post_attn_norm", 2 * t * h * ACT, dev, n)
        # --- MLP ---
        if not m.is_moe:
            self._mlp(acc, "mlp", t, m.intermediate / tp, m.gated, dev, n)
            collective(acc, "mlp_all_reduce", "all_reduce", t * h * ACT, tp, dev, n)
            return
        ep = self.plan.ep
        gemm(acc, "router", t, m.num_experts, h, "bf16", HIGH_PRECISION_BYTES, dev, n)
        if m.shared_intermediate:
            self._mlp(acc, "shared_expert", t, m.shared_intermediate / tp, m.gated, dev, n)
        moe_experts(acc, lp.moe, t_step, t, lp.busiest_rank, wb, dev, n)
        if self.plan.attention_dp:
            # each rank's tokens are all-gathered to every rank, each runs its experts on the tokens
            # routed to them, and the partial outputs are reduce-scattered back to their ranks: the
            # single-node path of TensorRT-LLM and of vLLM's naive all2all (an all-to-all moving only
            # the routed copies needs DeepEP-style or multi-node NVLink kernels)
            step_bytes = t_step * h * ACT
            collective(acc, "moe_all_gather", "all_gather", step_bytes, ep, dev, n)
            collective(acc, "moe_reduce_scatter", "reduce_scatter", step_bytes, ep, dev, n)
        else:
            # every TP rank holds all tokens after the attention all-reduce; each computes its experts
            # (or expert columns) and one all-reduce sums the partial outputs, as for a dense MLP
            collective(acc, "moe_all_reduce", "all_reduce", t * h * ACT, tp, dev, n)

    def _mlp(self, acc: Accumulator, name: str, t: int, cols: float, gated: bool, dev: Device, n: float) -> None:
        cd, wb, h = self.gemm_dtype, self.w_bytes, self.model.hidden
        gemm(acc, f"{name}_gate_up", t, (2 if gated else 1) * cols, h, cd, wb, dev, n)
        elementwise(acc, f"{name}_act", 3 * t * cols * ACT, dev, n)
        gemm(acc, f"{name}_down", t, h, cols, cd, wb, dev, n)


def _prefill_work(lp: _LayerPlan, prefill) -> tuple[float, float, float]:
    """(FLOP, bytes, length) of one layer's prefill attention: causal pairs of each chunk against
    its cached context (capped by the window), reading the cached KV once; `length` is the prompt
    length of as many fresh prompts with as many (query, key) pairs (s^2 / 2 each), how a measured
    table of fresh causal prompts is read for chunks after a cached prefix."""
    w = lp.window
    pairs = cached = new = 0
    for c, n in prefill:
        pairs += attention_pairs(c, n, w)
        cached += c if w is None or c < w else w
        new += n
    return (pairs * lp.prefill_flops_per_pair, (cached + new) * lp.kv_bytes_per_token + new * lp.qo_bytes_per_query,
            math.sqrt(2.0 * pairs / len(prefill)))


def _decode_work(lp: _LayerPlan, count: float, keys: float) -> tuple[float, float]:
    """(FLOP, bytes) of one layer's decode attention: one query per sequence over its context."""
    return keys * lp.decode_flops_per_pair, keys * lp.kv_bytes_per_token + count * lp.qo_bytes_per_query


def _split(shape: StepShape, parts: int) -> StepShape:
    """One of `parts` equal micro-batches of a step (for pipeline parallelism)."""
    f = 1.0 / parts
    return StepShape(
        prefill=tuple((c, new * f) for c, new in shape.prefill),
        decode_count=shape.decode_count * f,
        decode_keys=tuple((w, k * f) for w, k in shape.decode_keys),
    )
