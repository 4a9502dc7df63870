"""The decode set: running sequences that gain one token per step, kept so that K steps cost O(1).

A member is not updated step by step. It records the global decode step `g` at which it joined
and its cached tokens then; its progress after the set has taken `step` steps is `step - g` more
tokens. What the closed-form decode run needs is kept as aggregates: the sum of (tokens at join -
join step) for the keys attended, counts of that quantity modulo the block size for the KV blocks
(see decode_run.py), and a heap of finishing steps.
"""

from __future__ import annotations

import heapq
import math

from chip2chat.serving.decode_run import steps_until_blocks_run_out
from chip2chat.serving.request import Request


class DecodeSet:
    def __init__(self, block_size: int, windows: tuple[int | None, ...]):
        self.block_size = block_size
        self.windows = windows
        self.windowed = any(w is not None for w in windows)
        self.step = 0  # decode steps the set has taken
        self.members: dict[int, Request] = {}
        self._agg = 0  # sum over members of (tokens at join - join step)
        self.counts = [0] * block_size  # members by (tokens at join - join step) mod block_size
        self._finish_heap: list[tuple[int, int, Request]] = []
        self._seq = 0  # tie-breaker and liveness mark of heap entries

    def __len__(self) -> int:
        return len(self.members)

    def join(self, req: Request) -> None:
        g = self.step
        req.in_decode, req.dec_join, req.dec_comp0, req.dec_out0 = True, g, req.num_computed, req.num_output
        key = req.num_computed - g
        self._agg += key
        self.counts[key % self.block_size] += 1
        self.members[req.id] = req
        self._seq += 1
        req.dec_seq = self._seq
        heapq.heappush(self._finish_heap, (g + req.output_len - req.num_output, self._seq, req))

    def leave(self, req: Request) -> None:
        """Take a request out, materialising its progress into num_computed and num_output."""
        req.in_decode = False
        steps = self.step - req.dec_join
        req.num_computed = req.dec_comp0 + steps
        req.num_output = req.dec_out0 + steps
        key = req.dec_comp0 - req.dec_join
        self._agg -= key
        self.counts[key % self.block_size] -= 1
        del self.members[req.id]

    def window_keys(self, k: int) -> tuple[float, ...]:
        """Keys the members attend to at their k-th next step, per attention window (`windows`)."""
        off = self.step + 1 + k
        full = float(self._agg + len(self.members) * off)  # sum of (num_computed + 1)
        if not self.windowed:
            return (full,)
        return tuple(full if w is None else
                     float(sum(min(r.dec_comp0 - r.dec_join + off, w) for r in self.members.values()))
                     for w in self.windows)

    # --- KV blocks ---------------------------------------------------------------------------------
    def blocks_next_step(self) -> int:
        """New KV blocks the members need before their next token."""
        return self.counts[(-self.step) % self.block_size]

    def steps_until_blocks_run_out(self, available: int, horizon: float = math.inf) -> float:
        """Steps whose new blocks `available` blocks provide; `horizon` when they last that long at
        least (no member needs more than one block per block_size steps)."""
        if horizon < math.inf and available >= len(self.members) * -(-horizon // self.block_size):
            return horizon
        return steps_until_blocks_run_out(self.counts, self.step, available)

    # --- finishing ---------------------------------------------------------------------------------
    def advance(self, k: int) -> list[Request]:
        """Take k steps; the members whose last token is out by then, in finishing order (they
        have left the set)."""
        self.step = step = self.step + k
        heap = self._finish_heap
        if not heap or heap[0][0] > step:
            return _NONE
        done = []
        while heap and heap[0][0] <= step:
            _, seq, req = heapq.heappop(heap)
            if req.in_decode and req.dec_seq == seq:  # not an entry left behind by a preemption
                self.leave(req)
                done.append(req)
        return done

    def steps_to_next_finish(self) -> float:
        heap = self._finish_heap
        while heap:
            _, seq, req = heap[0]
            if req.in_decode and req.dec_seq == seq:
                return heap[0][0] - self.step
            heapq.heappop(heap)  # left behind by a preemption
        return math.inf


_NONE: list[Request] = []  # (never appended to)
