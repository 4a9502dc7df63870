"""Prompt prefixes that requests share: one system prompt, and the earlier turns of a session.

A voice assistant's LLM call reads the system prompt, the conversation so far and the user's words
(voice/scenario.py `prompt_tokens`). Engines with automatic prefix caching (vLLM V1 turns it on by
default) skip the prefill of prompt blocks that an earlier request left in the replica's cache, so
the serving simulation needs to know which prompts begin alike: `PrefixSharing.apply` gives a
workload the hash ids of its prompt blocks (Workload.prefix_hashes, Mooncake semantics: equal ids
are equal tokens).

- Every prompt begins with the same `shared_prefix_tokens` (the system prompt).
- Requests are grouped into sessions of `turns_per_session` turns (a mean: session j has
  floor((j + 1) t) - floor(j t) turns), a session's next turn taking the first arrival at least
  `turn_gap_s` after its previous one, so the arrival times stay those of the workload (Poisson).
  A later turn's conversation so far begins with the previous turn's prompt after the system
  prompt (the history grows by the last exchange), so it shares `shared_prefix_tokens +
  history_tokens` tokens with it: a hit wherever that turn's blocks are still cached (the same
  replica: a KV-aware router, serving/routers.py, sends it there). A session's first turn shares
  only the system prompt. The rest of each prompt is its own.
Only whole blocks of `block_tokens` are shared (vLLM hashes full 16-token KV blocks; see BLOCK_TOKENS).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass
from itertools import count

from chip2chat.errors import Chip2ChatError
from chip2chat.workload.workload import Workload

BLOCK_TOKENS = 64
"""Tokens per hashed block: four of vLLM's 16-token KV blocks (--block-size 16), so a prefix is shared to
within 64 tokens and the simulator looks up a quarter as many hashes."""


@dataclass(frozen=True)
class PrefixSharing:
    """Which prompt tokens requests share (see the module docstring)."""

    shared_prefix_tokens: int = 0
    """The system prompt every request starts with."""
    history_tokens: int = 0
    """Conversation so far that a later turn of a session shares with its previous turn."""
    turns_per_session: float = 1.0
    turn_gap_s: float = 30.0
    """Seconds from a session's turn to its next (the user listens to the answer, then speaks)."""
    block_tokens: int = BLOCK_TOKENS

    def __post_init__(self) -> None:
        for name in ("shared_prefix_tokens", "history_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise Chip2ChatError(f"{name} must be a whole number of tokens >= 0, got {value!r}")
        if not isinstance(self.block_tokens, int) or isinstance(self.block_tokens, bool) or self.block_tokens < 1:
            raise Chip2ChatError(f"block_tokens must be an integer >= 1, got {self.block_tokens!r}")
        for name in ("turns_per_session", "turn_gap_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise Chip2ChatError(f"{name} must be a finite number, got {value!r}")
        if self.turns_per_session < 1:
            raise Chip2ChatError(f"turns_per_session must be >= 1, got {self.turns_per_session!r}")
        if self.turn_gap_s < 0:
            raise Chip2ChatError(f"turn_gap_s must be >= 0 seconds, got {self.turn_gap_s!r}")

    def apply(self, workload: Workload, turn_gap_s: float | None = None) -> Workload:
        """`workload` with the hash ids of its prompt blocks (`turn_gap_s`: in place of the field's)."""
        gap = self.turn_gap_s if turn_gap_s is None else turn_gap_s
        b = self.block_tokens
        shared = tuple(range(self.shared_prefix_tokens // b))
        ids = count(len(shared))  # every other block gets a fresh id
        open_sessions: list[tuple[float, int, int, tuple[int, ...]]] = []  # (due, session, turns left, blocks)
        sessions = 0
        hashes = []
        for arrival, n_in in zip(workload.arrival_s.tolist(), workload.input_len.tolist()):
            blocks = n_in // b
            if open_sessions and open_sessions[0][0] <= arrival:
                _, session, left, previous = heapq.heappop(open_sessions)
                own = previous[:max(0, min(blocks, (self.shared_prefix_tokens + self.history_tokens) // b)
                                   - len(shared))]
            else:
                session, sessions = sessions, sessions + 1
                left = math.floor((session + 1) * self.turns_per_session) - math.floor(session * self.turns_per_session)
                own = ()
            own += tuple(next(ids) for _ in range(max(0, blocks - len(shared) - len(own))))
            hashes.append((shared + own)[:blocks])
            if left > 1:
                heapq.heappush(open_sessions, (arrival + gap, session, left - 1, own))
        text = (f"prefix sharing: {self.shared_prefix_tokens} system + {self.history_tokens} history tokens, "
                f"{self.turns_per_session:g} turns a session")
        return dataclasses.replace(workload, prefix_hashes=tuple(hashes), hash_block_size=b,
                                   source=f"{workload.source}; {text}" if workload.source else text)
