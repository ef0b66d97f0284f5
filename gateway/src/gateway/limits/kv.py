"""Rate limits shared by every gateway replica, in a NATS JetStream KV bucket.

Each key holds one `BucketState` (tokens and wall-clock time, since replicas share it),
written with optimistic concurrency: read the entry and its revision, take tokens with the pure
bucket functions, then `update(last=revision)` (or `create` for a new key). A replica that
lost the race to another re-reads and tries again, so together they never admit more than the
budget.

Concurrent requests of one client on one replica are settled together: while one read-update
round trip is in flight, the next requests for that key queue up, and the next round trip
takes tokens for all of them at once. A busy client thus costs two round trips per batch, not
per request, and a replica never races itself.

When NATS or the bucket does not answer, the limiter fails open to an in-memory limiter (each
replica then enforces the budget alone) and logs a warning: the border stays open during a
NATS outage. It goes back to the shared budget once NATS answers again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BucketNotFoundError,
    InvalidBucketNameError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from gateway.limits.bucket import BucketState, take
from gateway.limits.memory import InMemoryRateLimiter
from gateway.settings import RatePolicy
from gateway.state import RateDecision

log = structlog.get_logger(__name__)

# What "NATS does not answer" looks like: every nats-py error (timeouts, no responders, a
# closed connection, JetStream API errors), plus socket errors.
UNAVAILABLE = (nats.errors.Error, TimeoutError, OSError)

# A key used as it is (client ids are uuids); anything else is hashed. No plain key contains a
# dot, so a plain key never equals a hashed one.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")


def kv_key(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return key
    return "sha256." + hashlib.sha256(key.encode()).hexdigest()


def encode_state(state: BucketState) -> bytes:
    return json.dumps(
        {"tokens": state.tokens, "updated_at": state.updated_at}, separators=(",", ":")
    ).encode()


def decode_state(value: bytes | None) -> BucketState | None:
    """The stored bucket, or None (a full bucket) for a value this code cannot read."""
    try:
        raw = json.loads(value or b"")
        return BucketState(tokens=float(raw["tokens"]), updated_at=float(raw["updated_at"]))
    except (ValueError, TypeError, KeyError):
        return None


def take_batch(
    state: BucketState | None, policies: Sequence[RatePolicy], now: float
) -> tuple[BucketState | None, list[RateDecision]]:
    """One token for each request, in arrival order, at one instant."""
    decisions = []
    for policy in policies:
        state, decision = take(state, policy, now)
        decisions.append(decision)
    return state, decisions


@dataclass(eq=False)
class _Waiter:
    policy: RatePolicy
    decision: asyncio.Future[RateDecision]


@dataclass(eq=False)
class _KeyQueue:
    """The requests for one key on this replica: one batch at a time holds `lock`."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: list[_Waiter] = field(default_factory=list)
    users: int = 0


class NatsKvRateLimiter:
    def __init__(
        self,
        nc: NATS,
        *,
        bucket: str,
        ttl_seconds: float = 300.0,
        replicas: int = 1,
        timeout: float = 0.5,
        retry_seconds: float = 1.0,
        max_attempts: int = 10,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        fallback: InMemoryRateLimiter | None = None,
    ) -> None:
        """`ttl_seconds`: how long an untouched key stays in the bucket (set when this
        limiter creates the bucket); it must be at least the longest time a policy takes to
        refill (burst / rate), or a quiet client's bucket comes back full too early.
        `timeout`: for each KV call, so a NATS that does not answer costs a request at most
        this much before the limiter fails open. `retry_seconds`: while failed open, how often
        one batch tries NATS again. `max_attempts`: read-update rounds lost to other replicas
        before a batch is refused (contention that heavy means the budget is being spent)."""
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
        self._bucket_name = bucket
        self._ttl = ttl_seconds
        self._replicas = replicas
        self._retry_seconds = retry_seconds
        self._max_attempts = max_attempts
        self._clock = clock
        self._monotonic = monotonic
        self._fallback = fallback or InMemoryRateLimiter(clock=monotonic)
        self._kv: KeyValue | None = None
        self._opening = asyncio.Lock()
        self._queues: dict[str, _KeyQueue] = {}
        self._retry_at: float | None = None  # set while failed open
        self._checked_policies: set[tuple[float, int]] = set()

    @property
    def degraded(self) -> bool:
        """True while decisions come from the local fallback, not the shared bucket."""
        return self._retry_at is not None

    async def open(self) -> None:
        """Open (or create) the bucket now rather than on the first request; a NATS that
        does not answer is logged and the limiter starts failed open. A bucket name NATS
        cannot take is a configuration error, raised."""
        try:
            await self._bucket()
        except InvalidBucketNameError:
            raise
        except UNAVAILABLE as exc:
            self._fail_open(exc)

    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _KeyQueue()
        waiter = _Waiter(policy, asyncio.get_running_loop().create_future())
        queue.waiting.append(waiter)
        queue.users += 1
        try:
            async with queue.lock:
                if not waiter.decision.done():
                    await self._settle_waiting(key, queue)
            return waiter.decision.result()
        finally:
            waiter.decision.cancel()  # a no-op once decided; a cancelled caller leaves the queue
            queue.users -= 1
            if queue.users == 0:
                del self._queues[key]

    async def _settle_waiting(self, key: str, queue: _KeyQueue) -> None:
        batch = [w for w in queue.waiting if not w.decision.done()]
        queue.waiting.clear()
        try:
            decisions = await self._decide(key, [w.policy for w in batch])
        except BaseException:
            queue.waiting[:0] = batch  # the next holder of the lock settles them
            raise
        for waiter, decision in zip(batch, decisions, strict=True):
            if not waiter.decision.done():
                waiter.decision.set_result(decision)

    async def _decide(self, key: str, policies: list[RatePolicy]) -> list[RateDecision]:
        if not self._nc.is_connected:
            # Reconnecting: a KV call would only wait for its timeout.
            self._fail_open(ConnectionError("not connected to NATS"))
            return self._decide_locally(key, policies)
        if self._retry_at is not None and self._monotonic() < self._retry_at:
            return self._decide_locally(key, policies)
        try:
            decisions = await self._decide_shared(key, policies)
        except UNAVAILABLE as exc:
            self._fail_open(exc)
            return self._decide_locally(key, policies)
        if self._retry_at is not None:
            self._retry_at = None
            log.info("rate_limits_shared_again", bucket=self._bucket_name)
        return decisions

    def _decide_locally(self, key: str, policies: list[RatePolicy]) -> list[RateDecision]:
        return [self._fallback.take(key, policy) for policy in policies]

    async def _decide_shared(self, key: str, policies: list[RatePolicy]) -> list[RateDecision]:
        kv = await self._bucket()
        self._check_ttl(policies)
        stored_key = kv_key(key)
        decisions: list[RateDecision] = []
        for _ in range(self._max_attempts):
            try:
                entry = await kv.get(stored_key)
            except KeyNotFoundError:
                state, revision = None, None
            else:
                state, revision = decode_state(entry.value), entry.revision
                if state is None:
                    log.warning("rate_limit_state_unreadable", key=stored_key)
            new_state, decisions = take_batch(state, policies, self._clock())
            assert new_state is not None  # policies is never empty
            try:
                if revision is None:
                    await kv.create(stored_key, encode_state(new_state))
                else:
                    await kv.update(stored_key, encode_state(new_state), last=revision)
            except KeyWrongLastSequenceError:
                continue  # another replica wrote first: read its state and take again
            return decisions
        log.warning("rate_limit_contention", key=stored_key, attempts=self._max_attempts)
        return [_refused(decision) for decision in decisions]

    def _check_ttl(self, policies: list[RatePolicy]) -> None:
        """Say once per policy when a key may expire before its bucket is full again: a
        client quiet for the TTL then finds a full bucket, more than it earned."""
        for policy in policies:
            seen = (policy.rate, policy.burst)
            if seen in self._checked_policies:
                continue
            self._checked_policies.add(seen)
            if policy.burst / policy.rate > self._ttl:
                log.warning(
                    "rate_limit_policy_outlives_bucket_ttl",
                    bucket=self._bucket_name,
                    rate=policy.rate,
                    burst=policy.burst,
                    ttl_seconds=self._ttl,
                )

    async def _bucket(self) -> KeyValue:
        if self._kv is not None:
            return self._kv
        async with self._opening:
            if self._kv is None:
                try:
                    kv = await self._js.key_value(self._bucket_name)
                    # Another replica (or an earlier configuration) may have set another TTL.
                    self._ttl = (await kv.status()).ttl or math.inf
                    self._kv = kv
                except BucketNotFoundError:
                    self._kv = await self._js.create_key_value(
                        KeyValueConfig(
                            bucket=self._bucket_name,
                            description="gateway rate limits: one token bucket per client",
                            history=1,
                            ttl=self._ttl,
                            storage=StorageType.FILE,
                            replicas=self._replicas,
                        )
                    )
                    log.info("rate_limit_bucket_created", bucket=self._bucket_name)
            return self._kv

    def _fail_open(self, exc: BaseException) -> None:
        if self._retry_at is None:
            log.warning(
                "rate_limits_fail_open",
                bucket=self._bucket_name,
                error=repr(exc),
                detail="NATS KV does not answer; each replica enforces the limits alone",
            )
        self._kv = None  # opened again (created if lost) on the next try
        self._retry_at = self._monotonic() + self._retry_seconds


def _refused(decision: RateDecision) -> RateDecision:
    """A request refused because other replicas kept winning the race for its bucket: retry
    when its token is due, or in a second if the bucket still had one."""
    return RateDecision(
        allowed=False,
        policy=decision.policy,
        remaining=0,
        reset_seconds=decision.reset_seconds,
        retry_after_seconds=max(decision.retry_after_seconds, 1.0),
    )
