"""Shared prompt prefixes (workload/sessions.py): the block ids say exactly what the module
docstring promises, worked out by hand on small workloads; arrivals and lengths never change."""

import numpy as np
import pytest

from chip2chat.errors import Chip2ChatError
from chip2chat.workload import Workload
from chip2chat.workload.sessions import PrefixSharing


def workload(arrivals, prompt=900):
    n = len(arrivals)
    return Workload(np.asarray(arrivals, dtype=float), np.full(n, prompt), np.full(n, 50), source="t")


def test_every_prompt_starts_with_the_system_prompt_and_nothing_else_is_shared_without_sessions():
    # reason: 600 system tokens are 9 whole 64-token blocks (576 tokens); one turn a session shares nothing more
    w = PrefixSharing(shared_prefix_tokens=600).apply(workload([0, 1, 2]))
    assert w.hash_block_size == 64 and all(len(h) == 900 // 64 for h in w.prefix_hashes)
    assert all(h[:9] == tuple(range(9)) for h in w.prefix_hashes)
    rest = [set(h[9:]) for h in w.prefix_hashes]
    assert not (rest[0] & rest[1]) and not (rest[1] & rest[2])


def test_a_later_turn_shares_the_system_prompt_and_the_history_with_the_turn_before():
    # reason: turns 30 s apart; request 1 (t=10) is too early to be session 0's next turn, so it
    # opens session 1; request 2 (t=31) is session 0's second turn, request 3 (t=45) session 1's
    sharing = PrefixSharing(shared_prefix_tokens=600, history_tokens=300, turns_per_session=2, turn_gap_s=30)
    h = sharing.apply(workload([0, 10, 31, 45], prompt=1000)).prefix_hashes  # 15 blocks
    shared = (600 + 300) // 64  # 14 blocks: system prompt and history
    assert h[2][:shared] == h[0][:shared] and h[2][shared] != h[0][shared]
    assert h[3][:shared] == h[1][:shared]
    assert h[1][:10] != h[0][:10] and h[1][:9] == h[0][:9]  # another session: the system prompt only


def test_sessions_end_after_their_turns_and_the_arrivals_stay_as_they_were():
    # reason: two turns a session, so a third request at the due time opens a new session
    w = workload([0, 5, 10, 15, 20, 25])
    out = PrefixSharing(shared_prefix_tokens=64, history_tokens=128, turns_per_session=2, turn_gap_s=5).apply(w)
    h = out.prefix_hashes
    assert h[1][:3] == h[0][:3] and h[2][:2] != h[0][:2] and h[3][:3] == h[2][:3]
    assert np.array_equal(out.arrival_s, w.arrival_s) and np.array_equal(out.input_len, w.input_len)


def test_a_fractional_number_of_turns_is_its_mean():
    # reason: session j has floor((j+1) t) - floor(j t) turns: 2.5 a session on average
    arrivals = np.arange(1000.0)
    h = PrefixSharing(shared_prefix_tokens=0, history_tokens=128, turns_per_session=2.5, turn_gap_s=0.5).apply(
        workload(arrivals)).prefix_hashes
    sessions = len({x[0] for x in h})
    assert sessions == pytest.approx(1000 / 2.5, abs=1)


@pytest.mark.parametrize("field, value", [("shared_prefix_tokens", -1), ("history_tokens", 1.5),
                                          ("turns_per_session", 0.5), ("turn_gap_s", float("nan"))])
def test_bad_sharing_is_one_line(field, value):
    with pytest.raises(Chip2ChatError, match=field):
        PrefixSharing(**{field: value})
