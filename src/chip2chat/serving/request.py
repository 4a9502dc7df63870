"""A request's lifecycle inside the simulator: its progress and timestamps.

Latencies derived from the timestamps (TTFT, TPOT, E2E) are computed for all requests at once, in
metrics.request_table (a million requests are columns, not a million property calls)."""

from __future__ import annotations

from dataclasses import dataclass

WAITING, RUNNING, FINISHED, REJECTED = "waiting", "running", "finished", "rejected"


@dataclass(slots=True, eq=False)
class Request:
    id: int
    arrival_s: float
    input_len: int
    output_len: int
    priority: int = 0
    hashes: tuple[int, ...] | None = None
    replica: int = -1
    status: str = WAITING
    reason: str = ""
    # progress
    num_computed: int = 0  # tokens whose KV is in the cache (prompt and generated)
    num_output: int = 0  # tokens generated so far
    prefill_target: int = 0  # tokens to have in the KV before the next token (0: KV arrives from a prefill replica)
    shared_blocks: int = 0  # KV blocks borrowed from the prefix cache
    cached_hashes: int = 0  # leading hash blocks found in the prefix cache at admission
    preemptions: int = 0
    # timestamps (seconds)
    scheduled_s: float = -1.0
    first_token_s: float = -1.0
    finish_s: float = -1.0
    # decode-run bookkeeping (closed-form advance): values when the request joined the decode set
    dec_join: int = 0
    dec_comp0: int = 0
    dec_out0: int = 0
    dec_seq: int = 0  # identifies the request's live entry in the finish heap
    in_decode: bool = False
