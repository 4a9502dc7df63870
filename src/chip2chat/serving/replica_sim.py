"""One replica over time: vLLM-style continuous batching with a paged KV cache.

The scheduler decides what a step computes (a SchedulerOutput); the cost model
(`Replica.fast_step`) says how long it takes; then the step's results are applied. When nothing
can change the batch (no prompt being prefilled, nobody waiting who could be admitted) the
replica is in a *decode run*: every running sequence gains one token per step until the next
event: a completion, the next arrival, or the KV cache filling up. The run's K steps are then
advanced in closed form: step times grow linearly with the keys attended to (the contexts
grow by one token per step), so their sum is K t0 + slope K(K-1)/2. `step_by_step=True`
advances one step at a time through the same code, for checking.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

from chip2chat.engine.replica import Replica, StepShape
from chip2chat.serving.config import SchedulerConfig
from chip2chat.serving.decode_run import blocks_needed, steps_to_cover, steps_until_blocks_run_out
from chip2chat.serving.kv_cache import BlockPool
from chip2chat.serving.request import FINISHED, REJECTED, RUNNING, WAITING, Request
from chip2chat.serving.stats import ReplicaStats


@dataclass(slots=True)
class SchedulerOutput:
    """What one step computes: prompt chunks and whether the running decodes advance."""

    prefill: list[tuple[Request, int]] = field(default_factory=list)
    decode: bool = False
    preempted: list[Request] = field(default_factory=list)


class ReplicaSim:
    def __init__(self, index: int, replica: Replica, cfg: SchedulerConfig, total_blocks: int,
                 hash_block_size: int, stats: ReplicaStats, step_by_step: bool = False,
                 role: str = "both", on_prefilled=None, energy_scale: float = 1.0):
        self.index, self.replica, self.cfg, self.stats = index, replica, cfg, stats
        self.role, self.on_prefilled, self.step_by_step = role, on_prefilled, step_by_step
        self.energy_scale = energy_scale  # chips per replica: stats hold whole-replica joules
        self.bs = cfg.block_size
        self.hash_block_size = hash_block_size
        bph = max(1, hash_block_size // cfg.block_size)
        self.pool = BlockPool(total_blocks, cfg.block_size, bph, cfg.enable_prefix_caching)
        self.clock = 0.0
        self.G = 0  # decode steps taken by the decode set
        self.waiting: deque[Request] | list = deque() if cfg.policy == "fcfs" else []
        self._seq = 0  # tie-breaker for heaps (deterministic)
        self.running: list[Request] = []  # admission order
        self.prefilling: list[Request] = []
        self.decoding: dict[int, Request] = {}
        self._agg = 0  # sum over decode set of (comp0 - join)
        self._counts = [0] * self.bs  # decode set by (comp0 - join) mod block_size
        self._finish_heap: list[tuple[int, int, Request]] = []
        self.assigned_tokens = 0  # forward-pass tokens of the requests sent here (recomputes included)
        self.processed_tokens = 0
        self.windows = replica.windows
        self.windowed = any(w is not None for w in self.windows)
        self.max_context = replica.model.spec.max_context
        self.reserve_full = cfg.kv_reservation == "full_request"
        self.host_per_seq = cfg.host_overhead_per_seq_s

    # --- admission ------------------------------------------------------------------------------
    def submit(self, req: Request) -> None:
        """Queue a request, or reject it with the reason when it can never run here."""
        req.replica = self.index
        total = req.input_len + req.output_len
        if total > self.max_context:
            return self._reject(req, f"input + output = {total} tokens exceeds the model context "
                                     f"of {self.max_context}")
        if self.pool.blocks_for(total) > self.pool.total:
            return self._reject(req, f"needs {self.pool.blocks_for(total)} KV blocks, the replica has "
                                     f"{self.pool.total}")
        if not self.cfg.enable_chunked_prefill and total > self.cfg.max_num_batched_tokens:
            return self._reject(req, f"input + output = {total} tokens exceeds max_num_batched_tokens "
                                     f"{self.cfg.max_num_batched_tokens} without chunked prefill")
        req.prefill_target = req.input_len + req.num_output
        self.assigned_tokens += req.input_len + req.output_len - 1
        self._enqueue(req)

    def submit_prefilled(self, req: Request) -> None:
        """Disaggregated decode: the prompt's KV arrives from a prefill replica."""
        req.replica = self.index
        if self.pool.blocks_for(req.input_len + req.output_len) > self.pool.total:
            return self._reject(req, "KV of the request does not fit the decode replica")
        req.prefill_target = req.num_computed = 0
        req.status = WAITING
        self.assigned_tokens += req.output_len - req.num_output
        self._enqueue(req)

    def _reject(self, req: Request, reason: str) -> None:
        req.status, req.reason = REJECTED, reason
        self.stats.rejected.append(req)

    def _enqueue(self, req: Request, front: bool = False) -> None:
        if self.cfg.policy == "fcfs":
            self.waiting.appendleft(req) if front else self.waiting.append(req)
        else:
            self._seq += 1
            heapq.heappush(self.waiting, (req.priority, req.arrival_s, self._seq, req))

    def _peek(self) -> Request:
        return self.waiting[0] if self.cfg.policy == "fcfs" else self.waiting[0][3]

    def _pop(self) -> Request:
        return self.waiting.popleft() if self.cfg.policy == "fcfs" else heapq.heappop(self.waiting)[3]

    @property
    def busy(self) -> bool:
        return bool(self.running or self.waiting)

    @property
    def outstanding_tokens(self) -> int:
        """Router signal: forward-pass tokens sent here and not yet processed."""
        return self.assigned_tokens - self.processed_tokens

    # --- the loop -------------------------------------------------------------------------------
    def advance_to(self, until: float) -> None:
        """Run steps while a step would start before `until` (math.inf: until idle)."""
        while self.clock < until:
            if not self.running and not self.waiting:
                if until != math.inf:
                    self.clock = until
                return
            if not self.prefilling and not self._admissible():
                if self._decode_run(until):
                    continue
            self._step()

    def _admissible(self) -> bool:
        """Could a waiting request start in the next step?"""
        if not self.waiting or len(self.running) >= self.cfg.max_num_seqs:
            return False
        req = self._peek()
        if req.prefill_target == 0 and req.num_output:  # disaggregated decode: whole KV at once
            return self.pool.blocks_for(self._reserved_tokens(req, req.input_len + req.num_output - 1)) \
                <= self.pool.available
        hit = self.pool.lookup(req.hashes)
        computed = min(hit * self.hash_block_size, req.prefill_target - 1)
        chunk = req.prefill_target - computed
        if self.cfg.enable_chunked_prefill:
            chunk = min(chunk, self.cfg.max_num_batched_tokens - len(self.decoding))
            if chunk <= 0:
                return False
        need = max(0, self.pool.blocks_for(self._reserved_tokens(req, computed + chunk))
                   - hit * self.pool.blocks_per_hash)
        # reused prefix blocks nobody else holds stop being evictable once pinned
        return need + self.pool.unpinned_blocks(req.hashes, hit) <= self.pool.available

    # --- one detailed step ----------------------------------------------------------------------
    def _schedule(self) -> SchedulerOutput:
        cfg, pool = self.cfg, self.pool
        out = SchedulerOutput()
        budget = cfg.max_num_batched_tokens
        if not cfg.enable_chunked_prefill and self._admissible():
            self._admit(out, budget, whole_prompts=True)  # vLLM V0: prefill-only step
            return out
        if self.decoding:
            need = self._counts[(-self.G) % self.bs] if not self.reserve_full else 0
            while need > pool.available and self.running:
                self._preempt(out)
                need = self._counts[(-self.G) % self.bs]
            if self.decoding:
                pool.allocate(need)
                out.decode = True
                budget -= len(self.decoding)
        if cfg.enable_chunked_prefill:
            for req in self.prefilling:
                if budget <= 0:
                    break
                chunk = min(req.prefill_target - req.num_computed, budget)
                if not self.reserve_full and not pool.allocate(
                        pool.blocks_for(req.num_computed + chunk) - pool.blocks_for(req.num_computed)):
                    break
                out.prefill.append((req, chunk))
                budget -= chunk
            self._admit(out, budget, whole_prompts=False)
        return out

    def _admit(self, out: SchedulerOutput, budget: int, whole_prompts: bool) -> None:
        pool = self.pool
        while self.waiting and budget > 0 and len(self.running) < self.cfg.max_num_seqs:
            req = self._peek()
            if req.prefill_target == 0 and req.num_output:  # KV arrived from a prefill replica
                if not pool.allocate(pool.blocks_for(self._reserved_tokens(req, req.input_len + req.num_output - 1))):
                    return
                self._pop()
                req.num_computed = req.input_len + req.num_output - 1
                req.status = RUNNING
                self.running.append(req)
                self._join_decode(req, self.G)
                continue
            hit = pool.lookup(req.hashes)
            computed = min(hit * self.hash_block_size, req.prefill_target - 1)
            chunk = req.prefill_target - computed
            if whole_prompts and chunk > budget:
                return
            chunk = min(chunk, budget)
            shared = hit * pool.blocks_per_hash
            if hit:  # pin before allocating, so that eviction cannot take the prefix we reuse
                pool.pin(req.hashes, hit)
            if not pool.allocate(max(0, pool.blocks_for(self._reserved_tokens(req, computed + chunk)) - shared)):
                if hit:
                    pool.unpin(req.hashes, hit)
                return
            self._pop()
            req.num_computed, req.shared_blocks, req.cached_hashes = computed, shared, hit
            req.status = RUNNING
            if req.scheduled_s < 0:
                req.scheduled_s = self.clock
            self.stats.prefix_hit_tokens += computed
            self.processed_tokens += computed
            self.running.append(req)
            self.prefilling.append(req)
            out.prefill.append((req, chunk))
            budget -= chunk

    def _step(self) -> None:
        out = self._schedule()
        if not out.prefill and not out.decode:
            # nothing fits although requests wait: only possible while blocks are held by a
            # prefill that cannot grow; preempt to make progress
            if self.running:
                self._preempt(out)
                return
            raise RuntimeError("scheduler stalled with no running request")  # guarded by submit()
        n_dec = len(self.decoding) if out.decode else 0
        shape = StepShape(prefill=tuple((r.num_computed, c) for r, c in out.prefill), decode_count=n_dec,
                          decode_keys=self._decode_keys(0) if n_dec else ())
        seconds, joules = self._timed(shape)
        start = self.clock
        self.clock += seconds
        self.stats.record(start, seconds, joules * self.energy_scale, self.pool.used / self.pool.total,
                          prefill_tokens=sum(c for _, c in out.prefill), decode_seqs=n_dec, steps=1,
                          running=len(self.running), waiting=len(self.waiting))
        if n_dec:
            self.stats.itl.add(seconds, seconds, n_dec)
        self.processed_tokens += sum(c for _, c in out.prefill) + n_dec
        joined = []
        for req, chunk in out.prefill:
            req.num_computed += chunk
            if req.num_computed >= req.prefill_target:
                self.prefilling.remove(req)
                req.num_output += 1
                self.stats.prefill_emitted_tokens += 1
                if req.first_token_s < 0:
                    req.first_token_s = self.clock
                joined.append(req)
        if out.decode:
            self.G += 1
            self._finish_due()
        for req in joined:
            if self.role == "prefill":
                self._hand_over(req)
            elif req.num_output >= req.output_len:
                self._finish(req)
            else:
                req.num_computed = req.input_len + req.num_output - 1
                self._join_decode(req, self.G)

    def _timed(self, shape: StepShape) -> tuple[float, float]:
        """(seconds, joules) of a step: the GPU's time (TDP-capped) or the host's, the longer."""
        seconds, joules = self._gpu_timed(shape)
        seconds = max(seconds, self.host_per_seq * (shape.decode_count + len(shape.prefill)))
        return seconds, joules + self._static_w * seconds

    def _gpu_timed(self, shape: StepShape) -> tuple[float, float]:
        """(seconds, dynamic joules) of a step on the chips, the TDP cap included."""
        seconds, joules = self.replica.fast_step(shape)
        dev = self.replica.device
        if dev.tdp_w is None:
            return seconds, 0.0
        return max(seconds, joules / (dev.tdp_w - dev.static_w)), joules

    @property
    def _static_w(self) -> float:
        dev = self.replica.device
        return 0.0 if dev.tdp_w is None else dev.static_w

    # --- decode set -----------------------------------------------------------------------------
    def _join_decode(self, req: Request, g: int) -> None:
        req.in_decode, req.dec_join, req.dec_comp0, req.dec_out0 = True, g, req.num_computed, req.num_output
        key = req.num_computed - g
        self._agg += key
        self._counts[key % self.bs] += 1
        self.decoding[req.id] = req
        self._seq += 1
        req.dec_seq = self._seq
        heapq.heappush(self._finish_heap, (g + req.output_len - req.num_output, self._seq, req))

    def _leave_decode(self, req: Request) -> None:
        """Take a request out of the decode set, materialising its progress."""
        req.in_decode = False
        steps = self.G - req.dec_join
        req.num_computed = req.dec_comp0 + steps
        req.num_output = req.dec_out0 + steps
        key = req.dec_comp0 - req.dec_join
        self._agg -= key
        self._counts[key % self.bs] -= 1
        del self.decoding[req.id]

    def _decode_keys(self, k: int) -> tuple[tuple[int | None, float], ...]:
        """Keys attended to by the decode set at its k-th next step, per attention window."""
        n = len(self.decoding)
        full = self._agg + n * (self.G + 1 + k)  # sum of (num_computed + 1)
        if not self.windowed:
            return ((None, float(full)),)
        keys = []
        for w in self.windows:
            if w is None:
                keys.append((None, float(full)))
            else:
                off = self.G + 1 + k
                keys.append((w, float(sum(min(r.dec_comp0 - r.dec_join + off, w) for r in self.decoding.values()))))
        return tuple(keys)

    def _finish_due(self) -> None:
        heap = self._finish_heap
        while heap and (heap[0][0] <= self.G or not _live(heap[0])):
            entry = heapq.heappop(heap)
            if _live(entry):
                self._leave_decode(entry[2])
                self._finish(entry[2])

    def _next_finish(self) -> int:
        heap = self._finish_heap
        while heap and not _live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] - self.G if heap else math.inf

    # --- closed-form decode run -------------------------------------------------------------------
    def _decode_run(self, until: float) -> bool:
        """Advance K pure-decode steps at once. False when a detailed step is needed instead."""
        n = len(self.decoding)
        if n == 0:
            return False
        k_fin = self._next_finish()
        k_kv = math.inf if self.reserve_full else steps_until_blocks_run_out(self._counts, self.G, self.pool.available)
        k_max = min(k_fin, k_kv, 1 if self.step_by_step else math.inf)
        if k_max < 1:
            return False
        g0, e0 = self._gpu_timed(StepShape(decode_count=n, decode_keys=self._decode_keys(0)))
        if k_max > 1:
            g1, e1 = self._gpu_timed(StepShape(decode_count=n, decode_keys=self._decode_keys(k_max - 1)))
            slope, eslope = (g1 - g0) / (k_max - 1), (e1 - e0) / (k_max - 1)
        else:
            slope = eslope = 0.0
        host = self.host_per_seq * n
        t0 = g0
        if host > g0:
            # host-bound: each step takes the host's time until the GPU's would overtake it; the run
            # ends there (the GPU's step time grows by `slope` a step)
            if k_max > 1 and g1 > host:
                k_max = math.floor((host - g0) / slope) + 1
            t0, slope = host, 0.0
        k = k_max
        if until != math.inf:
            k = min(k, steps_to_cover(until - self.clock, t0, slope))
        k = int(k)
        duration = k * t0 + slope * k * (k - 1) / 2
        energy = k * e0 + eslope * k * (k - 1) / 2 + self._static_w * duration
        blocks = 0 if self.reserve_full else blocks_needed(self._counts, self.G, k)
        used_before = self.pool.used
        self.pool.allocate(blocks)
        # mean over the run of the blocks in use after each step's allocation (as step by step records)
        used = used_before + (self.pool.used - used_before) * (k + 1) / (2 * k)
        start = self.clock
        self.stats.record(start, duration, energy * self.energy_scale, used / self.pool.total,
                          prefill_tokens=0, decode_seqs=n * k, steps=k, running=len(self.running),
                          waiting=len(self.waiting))
        self.stats.itl.add(t0, t0 + slope * (k - 1), n * k)
        self.clock += duration
        self.G += k
        self.processed_tokens += n * k
        self._finish_due()
        return True

    # --- leaving ----------------------------------------------------------------------------------
    def _preempt(self, out: SchedulerOutput) -> None:
        """Preempt by recompute: free the victim's KV; it restarts from its prompt + output so far."""
        if self.cfg.policy == "fcfs":
            victim = self.running[-1]
        else:
            victim = max(self.running, key=lambda r: (r.priority, r.arrival_s))
        self.running.remove(victim)
        if victim.in_decode:
            self._leave_decode(victim)
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
        self._enqueue(victim, front=True)

    def _reserved_tokens(self, req: Request, tokens: int) -> int:
        """Tokens whose blocks a request holds once it has `tokens` in the KV cache."""
        return req.input_len + req.output_len if self.reserve_full else tokens

    def _free_kv(self, req: Request, keep_prefix: bool) -> None:
        """Give back a request's blocks; with prefix caching its full prompt blocks stay cached."""
        pool = self.pool
        own = pool.blocks_for(self._reserved_tokens(req, req.num_computed)) - req.shared_blocks
        if keep_prefix and req.hashes and pool.prefix_caching:
            full = min(len(req.hashes), req.input_len // self.hash_block_size, req.num_computed // self.hash_block_size)
            pool.insert(req.hashes, req.cached_hashes, full)  # these blocks move from owned to cached
        if req.cached_hashes:
            pool.unpin(req.hashes, req.cached_hashes)
        pool.release(max(0, own))

    def _finish(self, req: Request) -> None:
        if req in self.prefilling:
            self.prefilling.remove(req)
        self.running.remove(req)
        self._free_kv(req, keep_prefix=True)
        req.status, req.finish_s = FINISHED, self.clock
        self.stats.finished.append(req)

    def _hand_over(self, req: Request) -> None:
        """Prefill-only replica: the first token is out; the KV leaves for a decode replica."""
        self.running.remove(req)
        self._free_kv(req, keep_prefix=True)
        self.assigned_tokens -= req.output_len - req.num_output  # decode work leaves with the KV
        req.num_computed = req.shared_blocks = req.cached_hashes = 0
        req.status = WAITING
        self.on_prefilled(req, self.clock)


def _live(entry: tuple[int, int, Request]) -> bool:
    """A finish-heap entry still describes its request (not left by preemption since)."""
    return entry[2].in_decode and entry[2].dec_seq == entry[1]
