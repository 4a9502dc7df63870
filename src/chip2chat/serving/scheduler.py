"""What one replica computes next: the waiting queue, admission, the decode set and preemption.

As in vLLM v1, `schedule(now)` returns a `SchedulerOutput` (the prompt chunks and decodes of the
next step) and `update_from_output(out, now)` applies the step once it has run. The scheduler
never asks what a step costs: the replica loop (replica_sim.py) times it. For the closed-form
decode runs the scheduler says how far the decode set may go without an event
(`decode_run_limit`) and advances it (`advance_decode`).

Engines' policies are variants of `Scheduler`, chosen by name from `SCHEDULERS`
(`SchedulerConfig.scheduler`). A variant overrides the KV reservation hooks below; the queue
order and preemption victim are the waiting queue's (waiting.py, `SchedulerConfig.policy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chip2chat.serving.decode_run import blocks_needed
from chip2chat.serving.decode_set import DecodeSet
from chip2chat.serving.kv_cache import BlockPool
from chip2chat.serving.request import FINISHED, REJECTED, RUNNING, WAITING, Request
from chip2chat.serving.stats import ReplicaStats
from chip2chat.serving.waiting import POLICIES

if TYPE_CHECKING:
    from chip2chat.serving.config import SchedulerConfig


@dataclass(slots=True)
class SchedulerOutput:
    """What one step computes. One object per scheduler, refilled by each `schedule`."""

    prefill: list[tuple[Request, int]] = field(default_factory=list)
    """(request, new prompt tokens); the request's num_computed is the cached context."""
    prefill_tokens: int = 0
    num_decodes: int = 0
    """Running sequences that decode one token (the whole decode set, or none)."""
    preempted: list[Request] = field(default_factory=list)
    """Requests preempted while scheduling this step (their KV freed, back in the queue)."""


class Scheduler:
    """vLLM's scheduler: decodes first, then the prompts being prefilled, then new requests while
    the token budget, `max_num_seqs` and the KV cache allow; KV blocks are taken as tokens arrive,
    and when a decode needs a block that is not there the lowest-priority request is preempted by
    recompute. Without chunked prefill prompts are prefilled whole: beside the decodes, within the
    budget they leave (mixed batches: TensorRT-LLM's inflight batching), or in steps of their own,
    taking priority (vLLM V0); without mixed batches (SGLang's default) a step prefills prompt
    chunks (first) or decodes."""

    def __init__(self, cfg: SchedulerConfig, total_blocks: int, hash_block_size: int, max_context: int,
                 windows: tuple[int | None, ...], stats: ReplicaStats, prefill_only: bool = False):
        self.max_num_seqs, self.token_budget = cfg.max_num_seqs, cfg.max_num_batched_tokens
        self.chunked = cfg.enable_chunked_prefill
        self.mixed = cfg.mixes
        self.num_scheduler_steps = cfg.num_scheduler_steps
        # vLLM V0 async output processing: the requests whose first or last token came out of the
        # last step, for the replica to deliver when the next step ends (replica_sim.py)
        self.emitted: list[Request] | None = [] if cfg.async_output_proc else None
        self.hash_block_size, self.max_context = hash_block_size, max_context
        self.stats, self.prefill_only = stats, prefill_only
        self.pool = BlockPool(total_blocks, cfg.block_size, max(1, hash_block_size // cfg.block_size),
                              cfg.enable_prefix_caching)
        self.waiting = POLICIES[cfg.policy]()
        self.running: list[Request] = []  # admission order
        self.prefilling: list[Request] = []
        self.decode = DecodeSet(cfg.block_size, windows)
        self.receives_kv = False  # a decode replica of a disaggregated pair: prompts' KV arrives whole
        self.handed_over: list[Request] = []  # prefill_only: prompts done, KV to send, not yet collected
        self.assigned_tokens = 0  # forward-pass tokens of the requests sent here (recomputes included)
        self.processed_tokens = 0
        self._out = SchedulerOutput()
        self._prefilled: list[Request] = []  # scratch of update_from_output
        self.joined = 0  # requests the last update_from_output moved from prefill into the decode set

    # --- KV reservation: what variants change --------------------------------------------------------
    def reserved_tokens(self, req: Request, tokens: int) -> int:
        """Tokens whose blocks a request holds once it has `tokens` in the KV cache."""
        return tokens

    def decode_blocks_next_step(self) -> int:
        return self.decode.blocks_next_step()

    def decode_blocks(self, k: int) -> int:
        """New blocks the decode set takes over its next k steps."""
        return blocks_needed(self.decode.counts, self.decode.step, k)

    def decode_steps_until_kv_full(self, horizon: float) -> float:
        """Steps until the decode set needs a block that is not there (at least `horizon` is enough)."""
        return self.decode.steps_until_blocks_run_out(self.pool.available, horizon)

    # --- arrivals ------------------------------------------------------------------------------------
    def add_request(self, req: Request) -> None:
        """Queue a request, or reject it with the reason when it can never run here."""
        total = req.input_len + req.output_len
        if total > self.max_context:
            return self._reject(req, f"input + output = {total} tokens exceeds the model context "
                                     f"of {self.max_context}")
        if self.pool.blocks_for(total) > self.pool.total:
            return self._reject(req, f"needs {self.pool.blocks_for(total)} KV blocks, the replica has "
                                     f"{self.pool.total}")
        if not self.chunked and total > self.token_budget:
            return self._reject(req, f"input + output = {total} tokens exceeds max_num_batched_tokens "
                                     f"{self.token_budget} without chunked prefill")
        req.prefill_target = req.input_len + req.num_output
        self.assigned_tokens += req.input_len + req.output_len - 1
        self.waiting.push(req)

    def add_prefilled(self, req: Request) -> None:
        """Disaggregated decode: the prompt's KV arrives from a prefill replica."""
        if self.pool.blocks_for(req.input_len + req.output_len) > self.pool.total:
            return self._reject(req, "KV of the request does not fit the decode replica")
        req.prefill_target = req.num_computed = 0
        req.status = WAITING
        self.assigned_tokens += req.output_len - req.num_output
        self.receives_kv = True
        self.waiting.push(req)

    def _reject(self, req: Request, reason: str) -> None:
        req.status, req.reason = REJECTED, reason

    @property
    def outstanding_tokens(self) -> int:
        """Router signal: forward-pass tokens sent here and not yet processed."""
        return self.assigned_tokens - self.processed_tokens

    # --- admission: the one rule ------------------------------------------------------------------
    def _admission(self, req: Request, budget: int) -> tuple[int, int, int, int] | None:
        """How `req` would start now within `budget` tokens: (prefix-cache hits, tokens already
        computed, prompt chunk, new blocks), or None when it cannot. A request whose KV came from a
        prefill replica computes nothing (chunk 0) and takes the blocks of all its tokens."""
        pool = self.pool
        if not req.prefill_target:
            computed = req.input_len + req.num_output - 1
            blocks = pool.blocks_for(self.reserved_tokens(req, computed))
            return (0, computed, 0, blocks) if blocks <= pool.available else None
        target = req.prefill_target
        hit = pool.lookup(req.hashes) if req.hashes else 0
        computed = hit * self.hash_block_size
        if computed >= target:
            computed = target - 1
        chunk = target - computed
        if chunk > budget:
            if not self.chunked or budget <= 0:
                return None  # without chunked prefill a prompt is prefilled whole
            chunk = budget
        blocks = pool.blocks_for(self.reserved_tokens(req, computed + chunk)) - hit * pool.blocks_per_hash
        if blocks < 0:
            blocks = 0
        # reused prefix blocks nobody else holds stop being evictable once pinned
        if blocks + (pool.unpinned_blocks(req.hashes, hit) if hit else 0) > pool.available:
            return None
        return hit, computed, chunk, blocks

    def can_admit(self) -> bool:
        """Could the next waiting request start in the next step?"""
        if not self.waiting or len(self.running) >= self.max_num_seqs:
            return False
        budget = self.token_budget - len(self.decode.members) if self.chunked or self.mixed else self.token_budget
        return self._admission(self.waiting.peek(), budget) is not None

    def _admit(self, out: SchedulerOutput, budget: int, now: float) -> None:
        """Start prompts from the head of the queue while budget, max_num_seqs and KV blocks allow."""
        pool, waiting, running = self.pool, self.waiting, self.running
        while waiting and budget > 0 and len(running) < self.max_num_seqs:
            req = waiting.peek()
            admission = self._admission(req, budget) if req.prefill_target else None
            if admission is None:
                return  # a request whose KV arrives whole waits for the start of the next step
            hit, computed, chunk, blocks = admission
            waiting.take()
            if hit:  # pin before allocating, so that eviction cannot take the prefix we reuse
                pool.pin(req.hashes, hit)
            pool.allocate(blocks)
            req.num_computed, req.shared_blocks, req.cached_hashes = computed, hit * pool.blocks_per_hash, hit
            req.status = RUNNING
            if req.scheduled_s < 0:
                req.scheduled_s = now
            if computed:
                self.stats.prefix_hit_tokens += computed
                self.processed_tokens += computed
            running.append(req)
            self.prefilling.append(req)
            out.prefill.append((req, chunk))
            out.prefill_tokens += chunk
            budget -= chunk

    def _admit_prefilled(self) -> None:
        """Requests at the head of the queue whose KV came whole from a prefill replica join the
        decode set (no token to compute, no budget), before the step's decodes: they decode in it."""
        waiting = self.waiting
        while waiting and not waiting.peek().prefill_target and len(self.running) < self.max_num_seqs:
            req = waiting.peek()
            admission = self._admission(req, 0)
            if admission is None:
                return
            waiting.take()
            self.pool.allocate(admission[3])
            req.num_computed = admission[1]
            req.status = RUNNING
            self.running.append(req)
            self.decode.join(req)

    # --- one step --------------------------------------------------------------------------------
    def schedule(self, now: float) -> SchedulerOutput:
        """The next step. When nothing fits although requests run (a prefill holds blocks it cannot
        grow), one request is preempted instead and the output is empty: schedule again."""
        out = self._out
        out.prefill.clear()
        if out.preempted:
            out.preempted.clear()
        out.prefill_tokens = out.num_decodes = 0
        pool, decode = self.pool, self.decode
        budget = self.token_budget
        if self.receives_kv:
            self._admit_prefilled()
        if not self.chunked and not self.mixed and self.can_admit():
            self._admit(out, budget, now)  # vLLM V0: a prefill-only step
            return out
        if not self.mixed and (self.prefilling or self.can_admit()):
            self._prefill_chunks(out, budget, now)  # SGLang: prompt chunks in a step of their own
            if out.prefill:
                return out
        if decode.members:
            need = self.decode_blocks_next_step()
            while need > pool.available and self.running:
                self._preempt(out)
                need = self.decode_blocks_next_step()
            if decode.members:
                pool.allocate(need)
                out.num_decodes = len(decode.members)
                budget -= out.num_decodes
        if self.mixed:  # prompt chunks, or whole prompts without chunked prefill (TensorRT-LLM)
            self._prefill_chunks(out, budget, now)
        if not out.prefill and not out.num_decodes:
            if not self.running:
                raise RuntimeError("scheduler stalled with no running request")  # guarded by add_request
            self._preempt(out)
        return out

    def _prefill_chunks(self, out: SchedulerOutput, budget: int, now: float) -> None:
        """The prompts being prefilled take their next chunks, then new requests start, within `budget`."""
        pool = self.pool
        for req in self.prefilling:
            if budget <= 0:
                break
            chunk = min(req.prefill_target - req.num_computed, budget)
            grow = (pool.blocks_for(self.reserved_tokens(req, req.num_computed + chunk))
                    - pool.blocks_for(self.reserved_tokens(req, req.num_computed)))
            if not pool.allocate(grow):
                break
            out.prefill.append((req, chunk))
            out.prefill_tokens += chunk
            budget -= chunk
        self._admit(out, budget, now)

    def update_from_output(self, out: SchedulerOutput, now: float) -> None:
        """Apply a step that ended at `now`: prompt chunks are in the cache, a completed prompt
        emits its first token, the decodes one token each; finished requests leave."""
        self.processed_tokens += out.prefill_tokens + out.num_decodes
        self.joined = 0
        prefilled = self._prefilled
        prefilled.clear()
        for req, chunk in out.prefill:
            req.num_computed += chunk
            if req.num_computed >= req.prefill_target:
                self.prefilling.remove(req)
                req.num_output += 1
                self.stats.prefill_emitted_tokens += 1
                if req.first_token_s < 0:
                    req.first_token_s = now
                    if self.emitted is not None:
                        self.emitted.append(req)
                prefilled.append(req)
        if out.num_decodes:
            for req in self.decode.advance(1):
                self._finish(req, now)
        for req in prefilled:
            if self.prefill_only:
                self._hand_over(req)
            elif req.num_output >= req.output_len:
                self._finish(req, now)
            else:
                req.num_computed = req.input_len + req.num_output - 1
                self.decode.join(req)
                self.joined += 1

    # --- closed-form decode runs -----------------------------------------------------------------
    def decode_run_limit(self) -> float:
        """Steps the decode set may take with nothing else scheduled before an event: a request
        finishes or the KV cache cannot give the next step its blocks (0: none; inf: no limit).
        Only meaningful when nothing is prefilling and `can_admit()` is false."""
        k_finish = self.decode.steps_to_next_finish()
        k_kv = self.decode_steps_until_kv_full(k_finish)
        return k_finish if k_finish <= k_kv else k_kv

    def advance_decode(self, k: int, now: float) -> int:
        """Apply k decode steps that ended at `now`; the blocks taken. A closed-form run takes at
        most `decode_run_limit()`; a multi-step window takes its k whatever finishes inside it (a
        member whose last token came early finishes at the window's end, its extra steps counted
        in processed_tokens as the engine computed them)."""
        decode = self.decode
        blocks = self.decode_blocks(k)
        if blocks:
            self.pool.allocate(blocks)
        self.processed_tokens += len(decode.members) * k
        for req in decode.advance(k):
            self._finish(req, now)
        return blocks

    def reserve_decode_window(self, k: int) -> None:
        """Multi-step scheduling: blocks for k decode steps of the whole decode set taken at once (vLLM
        V0's lookahead slots), preempting as a step does while they are not there."""
        out = self._out
        out.preempted.clear()
        while self.decode.members and self.decode_blocks(k) > self.pool.available:
            self._preempt(out)

    # --- leaving ---------------------------------------------------------------------------------
    def _preempt(self, out: SchedulerOutput) -> None:
        """Preempt by recompute: free the victim's KV; it restarts from its prompt + output so far."""
        victim = self.waiting.victim(self.running)
        self.running.remove(victim)
        if victim.in_decode:
            self.decode.leave(victim)
        elif victim in self.prefilling:
            self.prefilling.remove(victim)
        self.assigned_tokens += victim.num_computed  # computed once, to be computed again
        self.stats.recomputed_tokens += victim.num_computed
        self._free_kv(victim, keep_prefix=False)
        victim.num_computed = victim.shared_blocks = victim.cached_hashes = 0
        victim.prefill_target = victim.input_len + victim.num_output
        victim.preemptions += 1
        victim.status = WAITING
        self.stats.preemptions += 1
        out.preempted.append(victim)
        self.waiting.push_front(victim)

    def _free_kv(self, req: Request, keep_prefix: bool) -> None:
        """Give back a request's blocks; with prefix caching its full prompt blocks stay cached."""
        pool = self.pool
        own = -(-self.reserved_tokens(req, req.num_computed) // pool.block_size) - req.shared_blocks  # blocks_for
        if req.hashes and keep_prefix and pool.prefix_caching:
            full = min(len(req.hashes), req.input_len // self.hash_block_size, req.num_computed // self.hash_block_size)
            pool.insert(req.hashes, req.cached_hashes, full)  # these blocks move from owned to cached
        if req.cached_hashes:
            pool.unpin(req.hashes, req.cached_hashes)
        if own > 0:
            pool.release(own)

    def _finish(self, req: Request, now: float) -> None:
        """A request's last token is out (it has left the prefilling list or the decode set)."""
        self.running.remove(req)
        self._free_kv(req, keep_prefix=True)
        req.status, req.finish_s = FINISHED, now
        if self.emitted is not None:
            self.emitted.append(req)

    def _hand_over(self, req: Request) -> None:
        """Prefill-only replica: the first token is out; the KV leaves for a decode replica."""
        self.running.remove(req)
        self._free_kv(req, keep_prefix=True)
        self.assigned_tokens -= req.output_len - req.num_output  # decode work leaves with the KV
        req.num_computed = req.shared_blocks = req.cached_hashes = 0
        req.status = WAITING
        self.handed_over.append(req)


class GuaranteedNoEvictScheduler(Scheduler):
    """TensorRT-LLM's default capacity policy (GUARANTEED_NO_EVICT): a request is admitted only
    when blocks for its whole prompt + output can be reserved, so a decode never waits for a
    block and nothing is ever preempted; the cache holds promises, so fewer requests run at once."""

    def reserved_tokens(self, req: Request, tokens: int) -> int:
        return req.input_len + req.output_len

    def decode_blocks_next_step(self) -> int:
        return 0

    def decode_blocks(self, k: int) -> int:
        return 0

    def decode_steps_until_kv_full(self, horizon: float) -> float:
        return math.inf


SCHEDULERS: dict[str, type[Scheduler]] = {
    "vllm": Scheduler,
    "trtllm-guaranteed-no-evict": GuaranteedNoEvictScheduler,
}
"""Scheduler variants by name (`SchedulerConfig.scheduler`). SGLang's radix-cache scheduler would
be one more entry: a subclass that orders the waiting queue by longest cached prefix."""
