"""Closed-form arithmetic of a decode run: KV blocks by residue class, and steps to cover a time.

In a decode run every running sequence gains one token per step. A sequence whose cached length
is a multiple of the block size needs a new block before its next token, so with `counts[r]`
sequences whose (tokens - global step) is r modulo the block size, the sequences needing a block
at global step g are counts[-g mod block_size]: the pattern repeats every block_size steps, in
which each sequence needs exactly one block.
"""

from __future__ import annotations

import math


def blocks_needed(counts: list[int], g: int, k: int) -> int:
    """New KV blocks the decode set needs over its next k steps from global step g."""
    bs = len(counts)
    full, rest = divmod(k, bs)
    need = full * sum(counts) if full else 0
    if rest:  # the residues needing a block at steps g, g+1, ... are (-g) mod bs, one less, ...
        hi = (-g) % bs + 1
        lo = hi - rest
        need += sum(counts[lo:hi]) if lo >= 0 else sum(counts[lo:]) + sum(counts[:hi])
    return need


def steps_until_blocks_run_out(counts: list[int], g: int, available: int) -> float:
    """Most steps from global step g whose new blocks `available` free blocks can provide."""
    bs, n = len(counts), sum(counts)
    if n == 0:
        return math.inf
    cycles = available // n  # each full cycle of block_size steps takes n blocks
    k, left = cycles * bs, available - cycles * n
    for j in range(bs):
        c = counts[(-(g + j)) % bs]
        if c > left:
            return k + j
        left -= c
    return math.inf  # unreachable: cycles was maximal, so some step of the next cycle overflows


def steps_to_cover(span: float, t0: float, slope: float) -> int:
    """Fewest steps k >= 1 whose total time k t0 + slope k(k-1)/2 reaches `span`."""
    if span <= t0:
        return 1
    if abs(slope) < 1e-15 * t0:
        return max(1, math.ceil(span / t0 - 1e-12))
    a, b = slope / 2, t0 - slope / 2
    disc = b * b + 4 * a * span
    if disc < 0:  # decreasing step times that never reach: cannot happen with slope >= 0
        return 1
    return max(1, math.ceil((-b + math.sqrt(disc)) / (2 * a) - 1e-9))
