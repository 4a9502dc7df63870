"""The closed-form decode-run arithmetic against step-by-step counting."""

import math

from hypothesis import given
from hypothesis import strategies as st

from chip2chat.serving.decode_run import blocks_needed, steps_to_cover, steps_until_blocks_run_out


def _by_hand(tokens: list[int], k: int, bs: int) -> int:
    """Step by step: a sequence holding a multiple of bs tokens needs a block before its next token."""
    need = 0
    for t in tokens:
        for step in range(k):
            need += (t + step) % bs == 0
    return need


@given(tokens=st.lists(st.integers(1, 200), min_size=1, max_size=20), g=st.integers(0, 50), k=st.integers(0, 70))
def test_blocks_needed_equals_counting_step_by_step(tokens, g, k):
    bs = 16
    counts = [0] * bs
    for t in tokens:  # a sequence with t tokens at global step g has key (t - g) mod bs
        counts[(t - g) % bs] += 1
    assert blocks_needed(counts, g, k) == _by_hand(tokens, k, bs)


def test_steps_until_blocks_run_out_by_hand():
    # 3 sequences with 16, 17 and 31 tokens (block size 16) at step 0: block needs at steps 0 (16),
    # 1 (31 -> 32), 15 (17 -> 32), then every 16 steps each
    counts = [0] * 16
    for t in (16, 17, 31):
        counts[t % 16] += 1
    assert steps_until_blocks_run_out(counts, 0, 0) == 0
    assert steps_until_blocks_run_out(counts, 0, 1) == 1
    assert steps_until_blocks_run_out(counts, 0, 2) == 15
    assert steps_until_blocks_run_out(counts, 0, 3) == 16
    assert steps_until_blocks_run_out([0] * 16, 0, 0) == math.inf


def test_steps_to_cover_by_hand():
    assert steps_to_cover(0.05, 0.01, 0.0) == 5  # 5 steps of 10 ms
    assert steps_to_cover(0.005, 0.01, 0.0) == 1
    # t0 = 10 ms growing 1 ms a step: 10 + 11 + 12 = 33 ms covers 0.032 s in 3 steps
    assert steps_to_cover(0.032, 0.010, 0.001) == 3
    assert steps_to_cover(0.033, 0.010, 0.001) == 3
    assert steps_to_cover(0.0331, 0.010, 0.001) == 4
