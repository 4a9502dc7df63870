"""A request's lifecycle inside the simulator, and its derived metrics (vidur-style properties)."""

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
    prefill_target: int = 0  # tokens to have in the KV before the next token can be produced
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

    @property
    def ttft_s(self) -> float:
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self) -> float:
        return self.finish_s - self.arrival_s

    @property
    def tpot_s(self) -> float:
        """Mean time per output token after the first (vLLM's TPOT); 0 for one-token outputs."""
        if self.output_len <= 1:
            return 0.0
        return (self.finish_s - self.first_token_s) / (self.output_len - 1)
