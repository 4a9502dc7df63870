"""Paged KV cache of one replica: fixed-size blocks, and a prefix cache of hashed prompt blocks.

Blocks are counted, not tracked one by one: a running request holds ceil(tokens / block_size)
blocks, some of which may be borrowed from the prefix cache. Finished requests leave their
full prompt blocks in the prefix cache (keyed by the workload's hash ids), evictable in LRU
order when nobody uses them, as vLLM's automatic prefix caching does.
"""

from __future__ import annotations

from collections import OrderedDict


class BlockPool:
    def __init__(self, total_blocks: int, block_size: int, blocks_per_hash: int, prefix_caching: bool):
        self.total = total_blocks
        self.block_size = block_size
        self.blocks_per_hash = blocks_per_hash
        self.prefix_caching = prefix_caching
        self.owned = 0  # blocks held exclusively by running requests
        self._cache: OrderedDict[int, int] = OrderedDict()  # hash id -> users (LRU order, oldest first)
        self.cached = 0  # blocks held by the prefix cache (in use or evictable)
        self._pinned = 0  # cached blocks in use by running requests

    @property
    def free(self) -> int:
        return self.total - self.owned - self.cached

    @property
    def available(self) -> int:
        """Free blocks plus cached blocks nobody uses (evictable)."""
        return self.total - self.owned - self._pinned

    @property
    def used(self) -> int:
        return self.owned + self._pinned

    def blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.block_size)

    def allocate(self, n: int) -> bool:
        """Take n blocks for a running request, evicting unused cached prefixes if needed."""
        if n <= 0:
            return True
        if self.owned + self.cached + n > self.total:  # fewer free blocks than n
            if n > self.available:
                return False
            while self.free < n:
                self._evict_one()
        self.owned += n
        return True

    def release(self, n: int) -> None:
        self.owned -= n

    def _evict_one(self) -> None:
        for h, users in self._cache.items():
            if users == 0:
                del self._cache[h]
                self.cached -= self.blocks_per_hash
                return
        raise RuntimeError("no evictable block")  # guarded by `available`

    # --- prefix cache -------------------------------------------------------------------------
    def lookup(self, hashes: tuple[int, ...] | None) -> int:
        """Leading hash blocks of a prompt already cached."""
        if not self.prefix_caching or not hashes:
            return 0
        n = 0
        for h in hashes:
            if h not in self._cache:
                break
            n += 1
        return n

    def unpinned_blocks(self, hashes: tuple[int, ...] | None, n: int) -> int:
        """Blocks of the first n cached hash blocks that nobody uses (evictable today)."""
        return sum(self.blocks_per_hash for h in hashes[:n] if self._cache[h] == 0) if n else 0

    def pin(self, hashes: tuple[int, ...], n: int) -> None:
        for h in hashes[:n]:
            if self._cache[h] == 0:
                self._pinned += self.blocks_per_hash
            self._cache[h] += 1
            self._cache.move_to_end(h)

    def unpin(self, hashes: tuple[int, ...], n: int) -> None:
        for h in hashes[:n]:
            self._cache[h] -= 1
            if self._cache[h] == 0:
                self._pinned -= self.blocks_per_hash

    def insert(self, hashes: tuple[int, ...], first: int, last: int) -> None:
        """Keep a finishing request's hash blocks [first, last) in the cache, evictable.

        The caller then releases all the request's owned blocks: those kept here are counted in
        `cached` instead. A hash another request cached meanwhile is not kept twice.
        """
        for h in hashes[first:last]:
            if h not in self._cache:
                self._cache[h] = 0
                self.cached += self.blocks_per_hash
