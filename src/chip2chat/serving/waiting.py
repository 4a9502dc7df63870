"""The waiting queue of one replica, by scheduling policy (vLLM `--scheduling-policy`).

A policy is the order in which waiting requests are admitted and the running request preempted
first when the KV cache runs out. Each queue is the container itself (a deque or a heap list), so
that `if queue:` and `len(queue)` cost what they cost on the container.
"""

from __future__ import annotations

import heapq
from collections import deque

from chip2chat.serving.request import Request


class FcfsQueue(deque):
    """Arrival order. A preempted request goes back to the front; the victim is the request
    admitted last (vLLM: `self.running.pop()`)."""

    push = deque.append
    push_front = deque.appendleft
    take = deque.popleft

    def peek(self) -> Request:
        return self[0]

    @staticmethod
    def victim(running: list[Request]) -> Request:
        return running[-1]


class PriorityQueue(list):
    """(priority, arrival) with lower first, for admission and (reversed) for the victim."""

    def __init__(self):
        super().__init__()
        self._seq = 0  # ties keep insertion order (deterministic)

    def push(self, req: Request) -> None:
        self._seq += 1
        heapq.heappush(self, (req.priority, req.arrival_s, self._seq, req))

    push_front = push  # a preempted request takes its place by priority

    def take(self) -> Request:
        return heapq.heappop(self)[3]

    def peek(self) -> Request:
        return self[0][3]

    @staticmethod
    def victim(running: list[Request]) -> Request:
        return max(running, key=lambda r: (r.priority, r.arrival_s))


POLICIES = {"fcfs": FcfsQueue, "priority": PriorityQueue}
