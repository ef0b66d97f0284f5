"""Rate limits held in this process: the default, and the KV limiter's fallback."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.limits.bucket import BucketState, seconds_until_full, take
from gateway.settings import RatePolicy
from gateway.state import RateDecision


class InMemoryRateLimiter:
    """One token bucket per key, in a dict.

    Memory stays bounded by the keys active lately: a bucket left alone until it is full again
    is the same as no bucket (a new one starts full), so a sweep drops it. The sweep runs
    after `sweep_every` acquisitions or as many as there are buckets, whichever is more, which
    keeps its cost per acquisition constant.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 1024
    ) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        # key -> (bucket, clock time at which it is full again)
        self._buckets: dict[str, tuple[BucketState, float]] = {}
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._buckets)

    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision:
        return self.take(key, policy)

    def take(self, key: str, policy: RatePolicy) -> RateDecision:
        """`acquire` without the coroutine, for callers already on the event loop."""
        now = self._clock()
        held = self._buckets.get(key)
        state, decision = take(held[0] if held else None, policy, now)
        self._buckets[key] = (state, state.updated_at + seconds_until_full(state, policy))
        self._since_sweep += 1
        if self._since_sweep >= max(self._sweep_every, len(self._buckets)):
            self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        full = [key for key, (_, full_at) in self._buckets.items() if full_at <= now]
        for key in full:
            del self._buckets[key]
