"""The scheduler on its own, with no cost model: steps take no time, so every assertion is about what
a step computes (admission, chunking, preemption, KV blocks), as vLLM's scheduler tests do."""

import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.serving.config import SchedulerConfig
from chip2chat.serving.request import FINISHED, REJECTED, RUNNING, WAITING, Request
from chip2chat.serving.scheduler import SCHEDULERS
from chip2chat.serving.simulate import simulate
from chip2chat.serving.stats import ReplicaStats


def make(total_blocks: int = 1000, hash_block_size: int = 16, max_context: int = 100_000, **config):
    cfg = SchedulerConfig(**config)
    stats = ReplicaStats(bucket_s=1.0)
    return SCHEDULERS[cfg.scheduler](cfg, total_blocks, hash_block_size, max_context, (None,), stats)


def step(s, now: float = 0.0) -> tuple[list[tuple[int, int]], int, list[int]]:
    """Schedule and apply one step: (prompt chunks by request id, decodes, preempted ids)."""
    out = s.schedule(now)
    seen = ([(r.id, c) for r, c in out.prefill], out.num_decodes, [r.id for r in out.preempted])
    s.update_from_output(out, now)
    return seen


def requests(*lengths, priorities=None, hashes=None):
    """Requests arriving at 0, 1, 2 ... s with these (input, output) lengths."""
    priorities, hashes = priorities or [0] * len(lengths), hashes or [None] * len(lengths)
    return [Request(i, float(i), n_in, n_out, priorities[i], hashes[i]) for i, (n_in, n_out) in enumerate(lengths)]


def submit(s, reqs):
    for r in reqs:
        s.add_request(r)
    return reqs


def test_chunked_prefill_fills_the_token_budget_and_splits_the_last_prompt():
    s = make(max_num_batched_tokens=1000, max_num_seqs=8)
    submit(s, requests((400, 10), (400, 10), (400, 10)))
    assert step(s) == ([(0, 400), (1, 400), (2, 200)], 0, [])
    # next step: two decodes first, then the rest of request 2's prompt
    assert step(s) == ([(2, 200)], 2, [])


def test_without_chunked_prefill_whole_prompts_only_and_prefill_steps_stall_decodes():
    s = make(max_num_batched_tokens=1000, max_num_seqs=8, enable_chunked_prefill=False)
    a, b, c = submit(s, requests((400, 10), (400, 10), (400, 10)))
    assert step(s) == ([(0, 400), (1, 400)], 0, [])  # request 2 does not fit whole: it waits
    # vLLM V0: a request that can start takes a prefill-only step, the running decodes wait
    assert step(s) == ([(2, 400)], 0, [])
    assert step(s) == ([], 3, [])


def test_without_chunked_prefill_mixed_whole_prompts_join_the_decodes_within_the_budget_they_leave():
    # TensorRT-LLM's inflight batching with enable_chunked_context off: its micro-batch scheduler
    # takes the generation requests (a token each), then context requests whole while they fit
    s = make(max_num_batched_tokens=1000, max_num_seqs=8, enable_chunked_prefill=False, mixed_batches=True)
    submit(s, requests((400, 10), (400, 10), (400, 10), (998, 2)))
    assert step(s) == ([(0, 400), (1, 400)], 0, [])  # request 2 does not fit whole: it waits
    # two decodes leave 998 tokens: request 2 (400) joins them, request 3 (998) does not fit after it
    assert step(s) == ([(2, 400)], 2, [])
    assert s.waiting.peek().id == 3 and not s.can_admit()  # 997 left beside 3 decodes: never split
    for _ in range(8):  # requests 0 and 1 emit their 3rd to 10th (last) tokens
        assert step(s) == ([], 3, [])
    assert step(s) == ([(3, 998)], 1, [])  # one decode left: 999 tokens, room for request 3 whole


def test_without_chunked_prefill_prompts_mix_with_decodes_as_the_engine_batches_them():
    # unset, mixing follows the engine: vLLM V0 (the default) and SGLang prefill apart, TensorRT-LLM mixes
    from chip2chat.engine.engines import serving_engine

    off = SchedulerConfig(enable_chunked_prefill=False)
    assert not off.mixes and SchedulerConfig().mixes
    assert off.for_engine(serving_engine("trtllm")).mixes
    assert not off.for_engine(serving_engine("vllm")).mixes and not off.for_engine(serving_engine("sglang")).mixes
    assert not SchedulerConfig(enable_chunked_prefill=False, mixed_batches=False).for_engine(
        serving_engine("trtllm")).mixes  # written, it is kept


def test_admission_stops_at_max_num_seqs_until_a_request_finishes():
    s = make(max_num_seqs=2)
    reqs = submit(s, requests((10, 2), (10, 5), (10, 5)))
    assert step(s) == ([(0, 10), (1, 10)], 0, [])
    assert reqs[2].status == WAITING
    assert step(s) == ([], 2, [])  # request 0 emits its second (last) token
    assert reqs[0].status == FINISHED
    assert step(s) == ([(2, 10)], 1, [])


def test_admission_waits_for_kv_blocks():
    # 4 blocks of 16 tokens: a 40-token prompt takes 3, the next one cannot start
    s = make(total_blocks=4, max_num_seqs=8)
    reqs = submit(s, requests((40, 2), (40, 2)))
    assert step(s) == ([(0, 40)], 0, [])
    assert s.pool.used == 3 and reqs[1].status == WAITING and not s.can_admit()


def _run_until_preemption(s, limit=1000):
    for _ in range(limit):
        prefill, decodes, preempted = step(s)
        if preempted:
            return preempted
    raise AssertionError("no preemption")


def test_fcfs_preempts_the_request_admitted_last():
    # three 16-token prompts take 3 of 12 blocks; the decodes need 3 more every 16 tokens, so the
    # fourth round (token 49) finds none left
    s = make(total_blocks=12)
    reqs = submit(s, requests((16, 100), (16, 100), (16, 100)))
    assert _run_until_preemption(s) == [2]
    assert reqs[2].status == WAITING and reqs[2].preemptions == 1 and s.waiting.peek() is reqs[2]
    assert s.stats.recomputed_tokens == 16 + 48  # its prompt and the 48 tokens generated, to compute again


def test_priority_preempts_the_least_urgent_then_the_latest():
    s = make(total_blocks=12, policy="priority")
    submit(s, requests((16, 100), (16, 100), (16, 100), priorities=[1, 0, 1]))
    assert _run_until_preemption(s) == [2]  # priority 1, arrived after request 0
    s = make(total_blocks=12, policy="priority")
    submit(s, requests((16, 100), (16, 100), (16, 100), priorities=[1, 0, 0]))
    assert _run_until_preemption(s) == [0]


def test_full_request_reservation_admits_only_what_it_can_finish_and_never_preempts():
    # the same load that preempts under vLLM: each request reserves blocks for 16 + 100 tokens (8)
    s = make(total_blocks=20, scheduler="trtllm-guaranteed-no-evict")
    reqs = submit(s, requests((16, 100), (16, 100), (16, 100)))
    assert step(s) == ([(0, 16), (1, 16)], 0, [])  # 8 + 8 of 20 blocks; the third waits
    assert s.pool.used == 16
    for _ in range(300):
        if all(r.status == FINISHED for r in reqs):
            break
        assert step(s)[2] == []
    assert all(r.status == FINISHED for r in reqs) and s.stats.preemptions == 0 and s.pool.used == 0


def test_prefix_cache_blocks_are_pinned_while_used_and_evictable_after():
    # hash blocks of 32 tokens = 2 KV blocks each; request 0 leaves its two full prompt hash blocks cached
    s = make(total_blocks=10, hash_block_size=32, enable_prefix_caching=True)
    first, second = requests((70, 1), (70, 1), hashes=[(7, 8, 9), (7, 8, 5)])
    submit(s, [first])
    step(s)
    assert first.status == FINISHED and s.pool.cached == 4 and s.pool.available == 10  # cached, unused: evictable
    submit(s, [second])
    assert step(s) == ([(1, 70 - 64)], 0, [])  # the 64 cached prompt tokens are not computed again
    assert s.stats.prefix_hit_tokens == 64
    s2 = make(total_blocks=10, hash_block_size=32, enable_prefix_caching=True)
    submit(s2, [Request(0, 0.0, 70, 1, 0, (7, 8, 9))])
    step(s2)
    user = Request(1, 1.0, 70, 50, 0, (7, 8, 5))
    submit(s2, [user])
    step(s2)  # request 1 reuses the prefix and keeps running
    assert user.status == RUNNING and s2.pool.used == 4 + 1  # 4 pinned cached blocks + 1 of its own
    assert s2.pool.available == 10 - 5  # pinned blocks cannot be evicted for others


def test_requests_that_can_never_run_are_rejected_with_the_reason():
    s = make(total_blocks=4, max_context=1000)
    long, big, fine = submit(s, requests((990, 20), (100, 10), (10, 10)))
    assert long.status == REJECTED and "exceeds the model context of 1000" in long.reason
    assert big.status == REJECTED and "needs 7 KV blocks, the replica has 4" in big.reason
    assert fine.status == WAITING and len(s.waiting) == 1
    v0 = make(max_num_batched_tokens=512, max_num_seqs=8, enable_chunked_prefill=False)
    (r,) = submit(v0, requests((500, 20)))
    assert r.status == REJECTED and "without chunked prefill" in r.reason


def test_a_decode_run_in_closed_form_equals_its_steps():
    # the same state advanced k steps at once, or one step at a time
    def started():
        s = make(total_blocks=40)
        submit(s, requests((20, 60), (35, 90), (50, 45)))
        step(s)
        return s

    fast, slow = started(), started()
    k = fast.decode_run_limit()
    assert k == 44  # request 2 emits its 45th (last) token after 44 decode steps
    fast.advance_decode(k, 0.0)
    for _ in range(k):
        assert step(slow)[1] == 3
    assert fast.pool.used == slow.pool.used and len(fast.decode) == len(slow.decode) == 2
    assert [r.num_output for r in fast.running] == [r.num_output for r in slow.running]


def test_scheduler_names_are_checked_with_the_known_ones():
    with pytest.raises(Chip2ChatError, match="scheduler: Input should be 'vllm' or 'trtllm-guaranteed-no-evict'"):
        simulate(scheduler="sglang", num_requests=10)


def test_without_mixed_batches_prompt_chunks_take_steps_of_their_own():
    # SGLang's default (enable_mixed_chunk off): chunked prompts, but never in a step with decodes
    s = make(max_num_batched_tokens=1000, max_num_seqs=8, mixed_batches=False)
    submit(s, requests((400, 10), (400, 10), (1500, 10)))
    assert step(s) == ([(0, 400), (1, 400), (2, 200)], 0, [])
    assert step(s) == ([(2, 1000)], 0, [])  # the whole budget, the two decodes wait
    assert step(s) == ([(2, 300)], 0, [])
    assert step(s) == ([], 3, [])  # nothing left to prefill: the decodes run


def test_a_multi_step_window_takes_its_blocks_at_once_and_preempts_when_they_are_not_there():
    # vLLM V0 multi-step: the blocks of all k decode steps (its lookahead slots) before the window runs
    s = make(total_blocks=6, block_size=16, enable_chunked_prefill=False, num_scheduler_steps=10)
    a, b = submit(s, requests((32, 40), (32, 40)))
    step(s)  # both prompts: 2 blocks each, 2 of 6 left; the first output token is out
    s.reserve_decode_window(10)  # outputs 1..10 go to KV positions 33..42: a third block each
    assert len(s.decode) == 2 and s.pool.available == 2
    s.advance_decode(10, 1.0)
    assert s.pool.available == 0
    # positions 43..52 cross into a fourth block each: 2 needed, none free, so the request admitted
    # last is preempted (its 3 blocks back) and the other goes on
    s.reserve_decode_window(10)
    assert b.status == WAITING and b.preemptions == 1 and list(s.decode.members) == [a.id]
    assert s.pool.available == 3


def test_multi_step_needs_chunked_prefill_off():
    with pytest.raises(Chip2ChatError, match="num_scheduler_steps 10 needs enable_chunked_prefill off"):
        simulate(num_scheduler_steps=10, num_requests=10)
