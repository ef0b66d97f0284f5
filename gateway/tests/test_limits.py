"""Rate limits: the token bucket's arithmetic, the in-memory limiter, the NATS KV limiter shared
by replicas on a real nats-server (and failing open when it stops), and the headers."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import pytest
import structlog
from nats.aio.client import Client as NATS
from nats.js.errors import InvalidBucketNameError
from nats.js.kv import KeyValue

from gateway.limits import bucket_ttl_seconds, open_rate_limiter, rate_limit_headers
from gateway.limits.bucket import BucketState, refill, take
from gateway.limits.kv import NatsKvRateLimiter, decode_state, encode_state, kv_key
from gateway.limits.memory import InMemoryRateLimiter
from gateway.settings import GatewaySettings, RatePolicy
from gateway.state import RateDecision
from pangolin_core.messaging.connection import connect_nats
from pangolin_core.natsserver import NatsServer
from pangolin_core.service import ServiceRuntime
from pangolin_core.testing import eventually

BUCKET = "test_rate_limits"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -------------------------------------------------------------------------------------------
# The bucket


def test_a_new_bucket_admits_the_burst_then_refuses_until_a_token_is_due() -> None:
    policy = RatePolicy(rate=2, burst=5)
    state: BucketState | None = None
    decisions = []
    for _ in range(6):
        state, decision = take(state, policy, 100.0)
        decisions.append(decision)

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert [d.reset_seconds for d in decisions] == [0.5, 1.0, 1.5, 2.0, 2.5, 2.5]
    assert [d.retry_after_seconds for d in decisions] == [0, 0, 0, 0, 0, 0.5]
    assert state == BucketState(tokens=0.0, updated_at=100.0)
    assert decisions[0].policy is policy


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    policy = RatePolicy(rate=2, burst=5)
    empty = BucketState(tokens=0.0, updated_at=100.0)

    # Half a token: still refused, the rest of the token is due in 0.25 s.
    state, decision = take(empty, policy, 100.25)
    assert not decision.allowed
    assert decision.retry_after_seconds == 0.25
    assert state == BucketState(tokens=0.5, updated_at=100.25)

    state, decision = take(empty, policy, 100.5)
    assert decision.allowed
    assert (decision.remaining, decision.reset_seconds) == (0, 2.5)

    state, decision = take(empty, policy, 101.75)  # 3.5 tokens, one taken
    assert decision.allowed
    assert (decision.remaining, decision.reset_seconds) == (2, 1.25)
    assert state.tokens == 2.5

    _, decision = take(empty, policy, 10_000.0)  # never more than the burst
    assert (decision.remaining, decision.reset_seconds) == (4, 0.5)


def test_waiting_exactly_the_retry_after_is_enough_whatever_the_rate() -> None:
    for rate in (0.001, 0.1, 0.3, 1 / 3, 3, 7, 1_000):
        policy = RatePolicy(rate=rate, burst=1)
        state, _ = take(None, policy, 0.0)
        state, refused = take(state, policy, 0.0)
        assert not refused.allowed
        _, decision = take(state, policy, refused.retry_after_seconds)
        assert decision.allowed, rate


def test_a_clock_behind_the_stored_time_adds_nothing() -> None:
    policy = RatePolicy(rate=10, burst=5)
    ahead = BucketState(tokens=1.0, updated_at=100.0)  # written by a replica whose clock is ahead
    assert refill(ahead, policy, 90.0) == ahead
    _, decision = take(ahead, policy, 90.0)
    assert decision.allowed
    assert decision.remaining == 0


def test_a_lower_burst_caps_a_bucket_filled_under_a_higher_one() -> None:
    state, _ = take(None, RatePolicy(rate=1, burst=100), 0.0)
    _, decision = take(state, RatePolicy(rate=1, burst=10), 0.0)
    assert decision.remaining == 9


# -------------------------------------------------------------------------------------------
# In memory


async def test_in_memory_limiter_per_key_with_an_injected_clock() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(clock=clock)
    policy = RatePolicy(rate=10, burst=3)

    assert [(await limiter.acquire("a", policy)).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert (await limiter.acquire("b", policy)).remaining == 2  # keys are independent

    refused = await limiter.acquire("a", policy)
    assert refused.retry_after_seconds == pytest.approx(0.1)
    clock.advance(0.1)
    assert (await limiter.acquire("a", policy)).allowed
    assert not (await limiter.acquire("a", policy)).allowed


async def test_in_memory_limiter_forgets_buckets_once_they_are_full_again() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(clock=clock, sweep_every=1)
    quick = RatePolicy(rate=10, burst=1)  # full again 0.1 s after a request
    slow = RatePolicy(rate=0.01, burst=1)  # full again after 100 s
    for n in range(100):
        await limiter.acquire(f"client-{n}", quick)
    await limiter.acquire("slow", slow)
    assert len(limiter) == 101

    clock.advance(1.0)
    await limiter.acquire("client-0", quick)
    # Only the one just used and the one still refilling are left.
    assert len(limiter) == 2
    assert not (await limiter.acquire("slow", slow)).allowed


async def test_open_rate_limiter_in_memory_by_default() -> None:
    runtime = cast(ServiceRuntime, SimpleNamespace(settings=GatewaySettings()))
    async with open_rate_limiter(runtime) as limiter:
        assert isinstance(limiter, InMemoryRateLimiter)


# -------------------------------------------------------------------------------------------
# NATS KV


@pytest.fixture
async def connections(nats_url: str) -> AsyncIterator[list[NATS]]:
    """Two connections, as two gateway replicas would have."""
    opened = [await connect_nats(nats_url, name=f"gateway-{n}") for n in range(2)]
    yield opened
    for nc in opened:
        if not nc.is_closed:
            await nc.close()


def test_kv_keys_are_valid_and_distinct() -> None:
    client_id = "0b9d2c4e-5f1a-4e8b-9c3d-7a6b5e4f3d2c"
    assert kv_key(client_id) == client_id
    odd = ["a.b", "a b", ".", "", "ключ", "a" * 200, "sha256.x", "*", ">"]
    keys = [kv_key(k) for k in odd]
    assert len(set(keys)) == len(odd)
    for key in keys:
        assert key.startswith("sha256.")
        assert len(key) == len("sha256.") + 64


def test_kv_state_round_trips_and_unreadable_state_is_a_full_bucket() -> None:
    state = BucketState(tokens=2.5, updated_at=1_764_050_000.125)
    assert decode_state(encode_state(state)) == state
    assert decode_state(b"not json") is None
    assert decode_state(b'{"tokens": 1}') is None
    assert decode_state(None) is None


async def test_replicas_sharing_the_kv_bucket_admit_exactly_the_burst(
    connections: list[NATS],
) -> None:
    replicas = [NatsKvRateLimiter(nc, bucket=BUCKET) for nc in connections]
    policy = RatePolicy(rate=0.001, burst=20)

    decisions = await asyncio.gather(
        *(replicas[n % 2].acquire("client-1", policy) for n in range(200))
    )

    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 20
    # No two admissions saw the same bucket.
    assert sorted(d.remaining for d in allowed) == list(range(20))
    refused = [d for d in decisions if not d.allowed]
    assert all(d.retry_after_seconds > 0 for d in refused)
    assert not any(r.degraded for r in replicas)


class Interloper:
    """The limiter's KV bucket, where another replica writes the key right after each of the
    first `times` reads, so the update that follows is made against a stale revision."""

    def __init__(self, kv: KeyValue, other: KeyValue, times: int) -> None:
        self._kv, self._other, self.times = kv, other, times

    async def get(self, key: str) -> KeyValue.Entry:
        entry = await self._kv.get(key)
        if self.times:
            self.times -= 1
            await self._other.put(key, entry.value or b"")
        return entry

    def __getattr__(self, name: str) -> object:
        return getattr(self._kv, name)


async def test_a_replica_that_loses_the_race_reads_again_a_bounded_number_of_times(
    connections: list[NATS],
) -> None:
    policy = RatePolicy(rate=0.001, burst=5)
    limiter = NatsKvRateLimiter(connections[0], bucket=BUCKET, max_attempts=3)
    assert (await limiter.acquire("client-1", policy)).remaining == 4
    other = await connections[1].jetstream().key_value(BUCKET)
    interloper = Interloper(await limiter._bucket(), other, times=2)
    limiter._kv = cast(KeyValue, interloper)

    # Two lost races, then the third round wins on the state the other replica wrote.
    assert (await limiter.acquire("client-1", policy)).remaining == 3

    interloper.times = 3
    with structlog.testing.capture_logs() as logs:
        refused = await limiter.acquire("client-1", policy)
    assert not refused.allowed
    assert refused.retry_after_seconds == 1.0  # the bucket still has tokens: soon
    assert [e["event"] for e in logs] == ["rate_limit_contention"]
    assert not limiter.degraded  # contention is not an outage
    assert (await limiter.acquire("client-1", policy)).remaining == 2


async def test_replicas_see_each_others_spending_and_the_refill(
    connections: list[NATS],
) -> None:
    clock = Clock(1_764_050_000.0)  # wall-clock time, shared by both replicas
    first, second = (NatsKvRateLimiter(nc, bucket=BUCKET, clock=clock) for nc in connections)
    policy = RatePolicy(rate=2, burst=3)

    assert (await first.acquire("client-1", policy)).remaining == 2
    assert (await second.acquire("client-1", policy)).remaining == 1
    assert (await first.acquire("client-1", policy)).remaining == 0
    refused = await second.acquire("client-1", policy)
    assert not refused.allowed
    assert refused.retry_after_seconds == 0.5
    assert (await second.acquire("other-client", policy)).remaining == 2

    clock.advance(0.5)
    assert (await first.acquire("client-1", policy)).allowed
    assert not (await second.acquire("client-1", policy)).allowed


async def test_the_bucket_is_created_with_history_one_and_a_ttl(connections: list[NATS]) -> None:
    limiter = NatsKvRateLimiter(connections[0], bucket=BUCKET, ttl_seconds=240)
    await limiter.open()
    await limiter.acquire("a key with spaces.and.dots", RatePolicy(rate=1, burst=2))
    # A second replica opens the same bucket and learns its TTL: a policy taking longer than
    # that to refill is reported (once), since a quiet client's key would expire too early.
    second = NatsKvRateLimiter(connections[1], bucket=BUCKET, ttl_seconds=10_000)
    await second.open()
    with structlog.testing.capture_logs() as logs:
        for _ in range(2):
            await second.acquire("client-1", RatePolicy(rate=0.1, burst=25))  # 250 s
            await second.acquire("client-1", RatePolicy(rate=1, burst=100))
    assert [(e["event"], e["burst"]) for e in logs] == [
        ("rate_limit_policy_outlives_bucket_ttl", 25)
    ]

    kv = await connections[1].jetstream().key_value(BUCKET)
    status = await kv.status()
    assert status.history == 1
    assert status.ttl == 240
    entry = await kv.get(kv_key("a key with spaces.and.dots"))
    assert json.loads(entry.value or b"")["tokens"] == 1.0


async def test_a_bucket_name_nats_cannot_take_stops_the_start(connections: list[NATS]) -> None:
    with pytest.raises(InvalidBucketNameError):
        await NatsKvRateLimiter(connections[0], bucket="rate limits").open()


def test_the_bucket_ttl_covers_the_slowest_refill() -> None:
    assert bucket_ttl_seconds([RatePolicy(rate=200, burst=400)]) == 300
    assert bucket_ttl_seconds([RatePolicy(rate=0.01, burst=40)]) == 4_000


async def test_kv_limiter_fails_open_while_nats_is_down_and_comes_back(
    nats_server: NatsServer, connections: list[NATS]
) -> None:
    limiter = NatsKvRateLimiter(connections[0], bucket=BUCKET, retry_seconds=0)
    policy = RatePolicy(rate=0.001, burst=2)
    assert [(await limiter.acquire("client-1", policy)).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]

    nats_server.stop()
    try:
        with structlog.testing.capture_logs() as logs:
            during = [await limiter.acquire("client-1", policy) for _ in range(3)]
        # The local fallback knows nothing of the shared bucket: a fresh budget on this
        # replica alone, rather than a closed border.
        assert [d.allowed for d in during] == [True, True, False]
        assert limiter.degraded
        warnings = [e for e in logs if e["event"] == "rate_limits_fail_open"]
        assert len(warnings) == 1  # once per outage, not once per request
        assert warnings[0]["log_level"] == "warning"
    finally:
        nats_server.start()

    async def back_on_kv() -> bool:
        await limiter.acquire("probe", policy)
        return not limiter.degraded

    with structlog.testing.capture_logs() as logs:
        await eventually(back_on_kv)
    assert [e["event"] for e in logs if e["event"].startswith("rate_limits_")] == [
        "rate_limits_shared_again"
    ]
    # The shared bucket outlived the outage: client-1 spent its budget there before it.
    assert not (await limiter.acquire("client-1", policy)).allowed


async def test_open_rate_limiter_on_nats(connections: list[NATS]) -> None:
    settings = GatewaySettings(rate_limit_backend="nats", rate_limit_bucket=BUCKET)
    runtime = cast(ServiceRuntime, SimpleNamespace(settings=settings, nc=connections[0]))
    async with open_rate_limiter(runtime) as limiter:
        assert isinstance(limiter, NatsKvRateLimiter)
        assert (await limiter.acquire("client-1", RatePolicy(rate=1, burst=1))).allowed
    kv = await connections[1].jetstream().key_value(BUCKET)
    assert (await kv.status()).ttl == bucket_ttl_seconds(settings.role_rate_limits.values())


async def test_a_cancelled_request_takes_no_token(connections: list[NATS]) -> None:
    limiter = NatsKvRateLimiter(connections[0], bucket=BUCKET)
    policy = RatePolicy(rate=0.001, burst=2)
    first = asyncio.create_task(limiter.acquire("client-1", policy))
    queued = asyncio.create_task(limiter.acquire("client-1", policy))
    await asyncio.sleep(0)  # both queued; the first holds the key's turn
    queued.cancel()
    assert (await first).remaining == 1
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert (await limiter.acquire("client-1", policy)).remaining == 0


# -------------------------------------------------------------------------------------------
# Headers


def test_headers_of_an_admitted_request() -> None:
    decision = RateDecision(
        allowed=True,
        policy=RatePolicy(rate=50, burst=100),
        remaining=41,
        reset_seconds=1.18,
        retry_after_seconds=0.0,
    )
    assert rate_limit_headers(decision) == {
        "RateLimit-Policy": '"default";q=100;w=2',
        "RateLimit": '"default";r=41;t=2',
    }


def test_headers_of_a_refused_request() -> None:
    decision = RateDecision(
        allowed=False,
        policy=RatePolicy(rate=0.5, burst=3),
        remaining=0,
        reset_seconds=5.2,
        retry_after_seconds=1.2,
    )
    assert rate_limit_headers(decision) == {
        "Retry-After": "2",
        "RateLimit-Policy": '"default";q=3;w=6',
        "RateLimit": '"default";r=0;t=2',
    }


def test_retry_after_is_at_least_one_second_and_the_window_never_zero() -> None:
    _, refused = take(BucketState(0.999, 0.0), RatePolicy(rate=1_000, burst=1_000), 0.0)
    headers = rate_limit_headers(refused)
    assert headers["Retry-After"] == "1"
    assert headers["RateLimit"] == '"default";r=0;t=1'
    assert headers["RateLimit-Policy"] == '"default";q=1000;w=1'


def test_headers_follow_the_bucket() -> None:
    policy = RatePolicy(rate=200, burst=400)
    _, decision = take(None, policy, 0.0)
    headers = rate_limit_headers(decision)
    assert headers == {
        "RateLimit-Policy": '"default";q=400;w=2',
        "RateLimit": f'"default";r=399;t={math.ceil(1 / 200)}',
    }
