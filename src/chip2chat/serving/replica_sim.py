"""One replica over time: the clock, what each step costs, and the closed-form decode runs.

The scheduler (scheduler.py) decides what a step computes; the cost model (`Replica.fast_cost`)
says how long it takes and what it draws, capped by the chips' TDP and overlapped with the host's
time (engine/timing.py); the scheduler then applies the step. When nothing can change the batch (no prompt being
prefilled, nobody waiting who could be admitted) the replica is in a *decode run*: every running
sequence gains one token per step until the next event: a completion, the next arrival, or the KV
cache filling up. The run's K steps are then advanced in closed form: step times grow linearly
with the keys attended to (the contexts grow by one token per step), so their sum is
K t0 + slope K(K-1)/2. `step_by_step=True` takes runs of one step, for checking.

With vLLM V0's multi-step scheduling (`num_scheduler_steps` n > 1) a batch of decodes runs n
steps with nothing scheduled between them, whatever arrives or finishes meanwhile: requests wait
for the window's end, and a request whose last token comes early keeps its place (and its cost)
to the end, where its tokens reach the client n at a time (vLLM's LLMEngine.step returns outputs
at a multi-step batch's last step only). Prefill steps are single steps, their first tokens out
at once.

With vLLM V0's asynchronous output processing (`async_output_proc`) a step's tokens are turned
into responses while the next step runs (LLMEngine.step's async callback) and reach the client as
that step ends, or at once when no step follows: first-token and finish times move by the next
step's length, and the gaps between a request's tokens keep their lengths (each moves by its
next step; they are recorded as the steps run).

In a closed loop (a benchmark client's concurrency) a request sent as another completes reaches
the engine after the engine has launched its next step: the engine runs step after step and does
not wait for the client's round trip, so the request waits for that step, whatever the trip's
length below a step. Its TTFT counts from the send.

With CUDA-graph padding (`cuda_graph_batch_sizes`, TensorRT-LLM's enable_padding) a decode-only
step costs the captured batch size that holds it, per attention-DP rank and micro-batch
(`_padded_decodes`): the padded sequences run every operator but attention and yield no token.

Inter-token latencies are what a streaming client times between the chunks it receives: a chunk
per request per decode step (per window under multi-step), and the gap since the request's last
chunk includes the steps that emitted nothing for it (a prefill-only step of vLLM V0 or SGLang
stalls the running decodes).
"""

from __future__ import annotations

import bisect
import math
from typing import Callable

from chip2chat.engine.replica import Replica
from chip2chat.engine.timing import static_power_w, throttle, timed
from chip2chat.serving.decode_run import steps_to_cover
from chip2chat.serving.request import Request
from chip2chat.serving.scheduler import Scheduler
from chip2chat.serving.stats import ReplicaStats


class ReplicaSim:
    def __init__(self, index: int, replica: Replica, scheduler: Scheduler, stats: ReplicaStats, *,
                 host_overhead_per_seq_s: float, step_by_step: bool, energy_scale: float,
                 on_prefilled: Callable[[Request, float], None] | None = None,
                 cuda_graph_batch_sizes: tuple[int, ...] | None = None, max_num_seqs: int = 0):
        self.index, self.scheduler, self.stats = index, scheduler, stats
        self.fast_cost, self.device = replica.fast_cost, replica.device
        if cuda_graph_batch_sizes:
            self.fast_cost = _padded_decodes(replica.fast_cost, cuda_graph_batch_sizes,
                                             replica.plan.dp * replica.plan.pp, max_num_seqs)
        self.on_prefilled, self.step_by_step = on_prefilled, step_by_step
        self.host_per_seq = host_overhead_per_seq_s
        self.energy_scale = energy_scale  # chips per replica: stats hold whole-replica joules
        self.static_w = static_power_w(replica.device)
        self.clock = 0.0
        self.window = scheduler.num_scheduler_steps
        self._late: list[Request] = []  # async output processing: first/last tokens out of the last step
        self._late_at = 0.0  # ... which ended then
        self._gaps: list[tuple[float, int]] = []  # decode-set members by when their last token reached the client

    def submit(self, req: Request) -> None:
        req.replica = self.index
        self.scheduler.add_request(req)

    def submit_prefilled(self, req: Request) -> None:
        req.replica = self.index
        self.scheduler.add_prefilled(req)

    @property
    def outstanding_tokens(self) -> int:
        return self.scheduler.outstanding_tokens

    # --- the loop ----------------------------------------------------------------------------------
    def serve(self, events: list[tuple[float, Request]], prefilled: bool = False,
              progress: Callable[[int], None] | None = None, done: int = 0,
              concurrency: int | None = None) -> None:
        """Take these arrivals (sorted), each at its time, and run until idle; `progress` is told
        the arrivals taken every 4,096, counting from `done`. `concurrency`: a closed loop
        (workload/arrivals.py): a request waits for one of the `concurrency` in flight to finish,
        and its arrival time becomes the time it is sent (`_sent_on_completion`)."""
        add = self.scheduler.add_prefilled if prefilled else self.scheduler.add_request
        index = self.index
        if concurrency is not None:
            self._serve_closed_loop(events, add, progress, done, concurrency)
            return
        for i, (t, req) in enumerate(events):
            if self.clock < t:
                self.advance_to(t)
            req.replica = index
            add(req)
            if progress is not None and not i & 4095:
                progress(done + i)
        self.advance_to(math.inf)

    def _serve_closed_loop(self, events: list[tuple[float, Request]], add: Callable[[Request], None],
                           progress: Callable[[int], None] | None, done: int, concurrency: int) -> None:
        """`serve` with at most `concurrency` requests in flight."""
        i, n = 0, len(events)
        while i < n:
            t, req = events[i]
            batch = [req]
            self._until_in_flight_below(concurrency)
            if self.clock > t:  # it waited for a slot
                batch = self._sent_on_completion(events, i, concurrency - self.in_flight)
            elif self.clock < t:
                self.advance_to(t)
            for req in batch:
                req.replica = self.index
                add(req)
            if progress is not None and (i - 1) >> 12 != (i + len(batch) - 1) >> 12:
                progress(done + i)
            i += len(batch)
        self.advance_to(math.inf)

    @property
    def in_flight(self) -> int:
        return len(self.scheduler.running) + len(self.scheduler.waiting)

    def _sent_on_completion(self, events: list[tuple[float, Request]], i: int, free: int) -> list[Request]:
        """The requests (from events[i], at most `free`) that waited for a slot and are sent as the
        completions at the clock free them: sent at the clock, they reach the engine after it has
        started its next step (the engine does not wait for the client), so they join the step
        after that. Concurrency 1 finds the engine idle: nothing to wait for."""
        if self.scheduler.emitted is not None:  # the completion reaches the client as the next step ends
            self.advance_to(math.nextafter(self.clock, math.inf))
        sent = self.clock
        batch = []
        while i < len(events) and len(batch) < free and events[i][0] <= sent:
            req = events[i][1]
            req.arrival_s = sent
            batch.append(req)
            i += 1
        self.advance_to(math.nextafter(sent, math.inf))  # one step (or multi-step window) starts first
        return batch

    def advance_to(self, until: float) -> None:
        """Run steps while a step would start before `until` (math.inf: until idle)."""
        sched = self.scheduler
        running, waiting, prefilling = sched.running, sched.waiting, sched.prefilling
        while self.clock < until:
            if not running and not waiting:
                if until != math.inf:
                    self.clock = until
                return
            if not prefilling and not (waiting and sched.can_admit()) and self._decode(until):
                continue
            self._step()

    def _decode(self, until: float) -> bool:
        """Decode steps when nothing else is to be scheduled: a multi-step window, or a closed-form
        run until `until`. False when a detailed step is needed instead."""
        if self.window > 1 and self.scheduler.decode.members:
            self._decode_window()
            return True
        return self._decode_run(until)

    def _until_in_flight_below(self, limit: int) -> None:
        """Run steps (and closed-form decode runs, which stop at the next finish) until fewer than
        `limit` requests are queued or running."""
        sched = self.scheduler
        while self.in_flight >= limit:
            if not sched.prefilling and not (sched.waiting and sched.can_admit()) and self._decode(math.inf):
                continue
            self._step()

    def _step(self) -> None:
        sched = self.scheduler
        out = sched.schedule(self.clock)
        n_dec, prefill = out.num_decodes, out.prefill
        if not n_dec and not prefill:
            return  # the scheduler preempted to make room: nothing ran
        chunks = tuple([(r.num_computed, c) for r, c in prefill])
        seconds, joules = timed(*self.fast_cost(chunks, n_dec, sched.decode.window_keys(0) if n_dec else ()),
                                self.device, self.host_per_seq * (n_dec + len(chunks)))
        start = self.clock
        self.clock = now = start + seconds
        pool = sched.pool
        self.stats.record(start, seconds, joules * self.energy_scale, pool.used / pool.total, out.prefill_tokens,
                          n_dec, 1, len(sched.running), len(sched.waiting), seconds, seconds,
                          self._stalled(start, seconds, n_dec))
        sched.update_from_output(out, now)
        if sched.emitted is not None:
            self._async_outputs(seconds, now)
        if n_dec:
            self._emitted(now)
        elif sched.joined:  # a prefill-only step: its first tokens are out, the decodes' gaps go on
            self._gaps.append((now, sched.joined))
        if sched.handed_over:
            for req in sched.handed_over:
                self.on_prefilled(req, now)
            sched.handed_over.clear()

    # --- closed-form decode run ----------------------------------------------------------------------
    def _decode_run(self, until: float) -> bool:
        """Advance K pure-decode steps at once. False when a detailed step is needed instead."""
        sched = self.scheduler
        decode = sched.decode
        n = len(decode.members)
        if n == 0:
            return False
        k_max = sched.decode_run_limit()
        if self.step_by_step:
            k_max = min(k_max, 1)
        if k_max < 1:
            return False
        # the chips' time of the run's first step, and of its last when it has more than one (the
        # host's time is taken below)
        cost, dev = self.fast_cost, self.device
        g0, e0 = throttle(*cost((), n, decode.window_keys(0)), dev)
        host = self.host_per_seq * n
        t0 = host if host > g0 else g0
        start = self.clock
        slope = eslope = 0.0
        k = 1
        if k_max > 1 and until - start > t0:  # (else the run's first step reaches `until`)
            g1, e1 = throttle(*cost((), n, decode.window_keys(k_max - 1)), dev)
            slope, eslope = (g1 - g0) / (k_max - 1), (e1 - e0) / (k_max - 1)
            if host > g0:
                # host-bound: each step takes the host's time until the GPU's would overtake it; the
                # run ends there (the GPU's step time grows by `slope` a step)
                if g1 > host:
                    k_max = math.floor((host - g0) / slope) + 1
                slope = 0.0
            k = int(k_max if until == math.inf else min(k_max, steps_to_cover(until - start, t0, slope)))
        duration = k * t0 + slope * k * (k - 1) / 2
        energy = k * e0 + eslope * k * (k - 1) / 2 + self.static_w * duration
        pool = sched.pool
        running, waiting, used_before = len(sched.running), len(sched.waiting), pool.used
        self.clock = now = start + duration
        blocks = sched.advance_decode(k, now)
        if sched.emitted is not None:
            self._async_outputs(t0, now)
        # mean over the run of the blocks in use after each step's allocation (as step by step records)
        used = used_before + blocks * (k + 1) / (2 * k)
        self.stats.record(start, duration, energy * self.energy_scale, used / pool.total, 0, n * k, k, running, waiting,
                          t0, t0 + slope * (k - 1), self._stalled(start, t0, n))
        self._emitted(now)
        return True

    def _decode_window(self) -> None:
        """One multi-step window: `window` decode steps of the whole decode set, its KV blocks
        taken first (preempting while they are not there), its tokens out at its end (module)."""
        sched, k = self.scheduler, self.window
        sched.reserve_decode_window(k)
        decode = sched.decode
        n = len(decode.members)
        if n == 0:
            return  # everyone was preempted: they are waiting again
        cost, dev = self.fast_cost, self.device
        g0, e0 = throttle(*cost((), n, decode.window_keys(0)), dev)
        g1, e1 = throttle(*cost((), n, decode.window_keys(k - 1)), dev)
        host = self.host_per_seq * n
        # each step takes the longer of the host's time and the chips' (which grows linearly from g0 to g1)
        duration = sum(max(host, g0 + (g1 - g0) * i / (k - 1)) for i in range(k))
        energy = k * (e0 + e1) / 2 + self.static_w * duration
        pool = sched.pool
        running, waiting, used_before = len(sched.running), len(sched.waiting), pool.used
        start = self.clock
        self.clock = now = start + duration
        blocks = sched.advance_decode(k, now)
        if sched.emitted is not None:
            self._async_outputs(max(host, g0), now)
        used = used_before + blocks * (k + 1) / (2 * k)
        # a chunk of tokens per member, at the window's end
        self.stats.record(start, duration, energy * self.energy_scale, used / pool.total, 0, n * k, k, running, waiting,
                          duration, duration, self._stalled(start, duration, n), itl_chunks=n)
        self._emitted(now)

    # --- vLLM V0 async output processing ------------------------------------------------------------
    def _async_outputs(self, first_step_s: float, now: float) -> None:
        """A step (or run or window, its first step `first_step_s` long) ended at `now`: the first
        and last tokens held from the step before it reach the client as its first step ends (their
        times move by `first_step_s`; a request listed twice, first and last token in one step,
        moves once); those out of this one are turned into responses while the next step runs,
        or go out now when no step follows (nothing running or waiting)."""
        at = self._late_at
        for req in self._late:
            if req.first_token_s == at:
                req.first_token_s = at + first_step_s
            if req.finish_s == at:
                req.finish_s = at + first_step_s
        sched = self.scheduler
        self._late, sched.emitted = sched.emitted, self._late
        sched.emitted.clear()
        self._late_at = now
        if not sched.running and not sched.waiting:
            self._late.clear()

    def _stalled(self, start: float, first: float, n_dec: int) -> int:
        """Chunks of the decode emission starting at `start` whose gap began before it (steps ran
        since those requests' last tokens without emitting any: module). They are recorded here, at
        their gaps (since their last token, plus `first`, the emission's first step); the count is
        returned for `record` to leave out. Members are taken oldest first (a preemption takes the
        newest)."""
        recorded = counted = 0
        for t, count in self._gaps:
            count = min(count, n_dec - counted)
            if count <= 0:
                break
            counted += count
            if start - t > 1e-15:
                self.stats.itl.add(start - t + first, start - t + first, count)
                recorded += count
        return recorded

    def _emitted(self, now: float) -> None:
        self._gaps = [(now, len(self.scheduler.decode.members))]


def _padded_decodes(cost: Callable, sizes: tuple[int, ...], ranks: int, max_num_seqs: int) -> Callable:
    """`cost` (Replica.fast_cost) with a decode-only step of n sequences padded as an engine that
    captured CUDA graphs of `sizes` runs it: each of the `ranks` (attention-DP ranks x pipeline
    micro-batches) takes ceil(n / ranks) and runs the graph of the smallest size that holds it, so
    the step costs `ranks` x that size of sequences outside attention; the padded ones bring no
    KV keys, so attention stays the real sequences'. Sizes whose `ranks` copies exceed
    `max_num_seqs` are not captured; a step above the largest captured runs unpadded. A step
    with prompt chunks runs without a graph (TensorRT-LLM captures generation-only batches)."""
    captured = [s for s in sizes if not max_num_seqs or s * ranks <= max_num_seqs]
    if not captured:
        return cost

    def padded(prefill, decode_count, window_keys):
        if not prefill and decode_count:
            i = bisect.bisect_left(captured, -(-decode_count // ranks))
            if i < len(captured):
                decode_count = captured[i] * ranks
        return cost(prefill, decode_count, window_keys)

    return padded
