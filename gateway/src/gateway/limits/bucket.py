"""The token bucket, as pure functions over an immutable state and a clock passed in.

A bucket holds up to `policy.burst` tokens and gains `policy.rate` tokens per second; a
request takes one. A bucket nobody has touched is full. Both limiters (in memory and in NATS
KV) only store `BucketState` and call `take`, so the arithmetic lives here alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.settings import RatePolicy
from gateway.state import RateDecision

# Float arithmetic may leave 0.9999999999 tokens after exactly the advertised wait; this much
# short of a whole token still counts as one.
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class BucketState:
    tokens: float
    updated_at: float  # seconds, on the clock the limiter passes in


def full_bucket(policy: RatePolicy, now: float) -> BucketState:
    return BucketState(tokens=float(policy.burst), updated_at=now)


def refill(state: BucketState, policy: RatePolicy, now: float) -> BucketState:
    """The bucket at `now`. A clock behind `updated_at` (another replica's clock running
    ahead, or a clock stepped back) adds nothing and keeps the later time, so a skewed clock
    can only make the limiter stricter, never admit more."""
    elapsed = max(0.0, now - state.updated_at)
    tokens = min(float(policy.burst), state.tokens + elapsed * policy.rate)
    return BucketState(tokens=tokens, updated_at=max(now, state.updated_at))


def seconds_until_full(state: BucketState, policy: RatePolicy) -> float:
    return max(0.0, policy.burst - state.tokens) / policy.rate


def take(
    state: BucketState | None, policy: RatePolicy, now: float
) -> tuple[BucketState, RateDecision]:
    """Take one token if there is one: the bucket afterwards and the decision."""
    current = full_bucket(policy, now) if state is None else refill(state, policy, now)
    allowed = current.tokens + EPSILON >= 1.0
    after = (
        BucketState(tokens=max(0.0, current.tokens - 1.0), updated_at=current.updated_at)
        if allowed
        else current
    )
    decision = RateDecision(
        allowed=allowed,
        policy=policy,
        remaining=math.floor(after.tokens + EPSILON),
        reset_seconds=seconds_until_full(after, policy),
        retry_after_seconds=0.0 if allowed else (1.0 - after.tokens) / policy.rate,
    )
    return after, decision
