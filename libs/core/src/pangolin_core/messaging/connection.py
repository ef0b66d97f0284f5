"""Connecting to NATS and declaring the JetStream streams."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import nats
import nats.js.errors
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    """A domain's stream. It lists the entities whose events it carries
    (`<domain>.<entity>.<event>`) instead of taking `<domain>.>`, because request-reply
    subjects (`<domain>.rpc.<verb>`) share the domain prefix: a stream on `species.>` would
    store every `species.rpc.match` request and answer it with a publish acknowledgement
    before the real responder could."""

    name: str
    domain: str
    entities: tuple[str, ...]
    description: str

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(f"{self.domain}.{entity}.>" for entity in self.entities)

    def carries(self, subject: str) -> bool:
        domain, _, rest = subject.partition(".")
        return domain == self.domain and rest.split(".", 1)[0] in self.entities


# One stream per domain; declared by every app at start-up (create or update, idempotent).
# A new kind of entity is added here before its first event (`enqueue` checks).
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        "SPECIES",
        "species",
        ("taxon", "listing", "quota", "suspension", "reservation", "guide", "publication"),
        "species-ref: taxa, listings, quotas, suspensions, guides, publications",
    ),
    StreamSpec(
        "PERMITS",
        "permits",
        ("permit", "verification", "endorsement"),
        "permit-verify: permits, verifications, endorsements",
    ),
    StreamSpec(
        "RISK",
        "risk",
        ("assessment", "outcome", "profile"),
        "risk-score: assessments, inspection outcomes, targeting profiles",
    ),
    StreamSpec(
        "INTEL",
        "intel",
        ("record", "watchlist", "sighting", "proposal"),
        "intel-share: records, revocations, watchlists, sightings",
    ),
)


def stream_for(subject: str) -> StreamSpec:
    """The stream that stores events on `subject`; a subject no stream carries is a bug."""
    for spec in STREAMS:
        if spec.carries(subject):
            return spec
    raise ValueError(
        f"no stream carries {subject!r}: add its entity to "
        "pangolin_core.messaging.connection.STREAMS"
    )


# The JetStream publish dedupe window: a relay restarting inside it never stores a duplicate.
# Beyond it the consumers' inbox still applies each event once.
DUPLICATE_WINDOW_SECONDS = 600.0


async def connect_nats(url: str, *, name: str, connect_timeout: float = 30.0) -> NATS:
    """Connect with unlimited reconnects and logged callbacks.

    nats-py does not retry a failed first connect, so we do, until `connect_timeout`.
    """

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=repr(exc), client=name)

    async def on_disconnected() -> None:
        log.warning("nats_disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats_reconnected", client=name, server=str(nc.connected_url))

    async def on_closed() -> None:
        log.info("nats_closed", client=name)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + connect_timeout
    delay = 0.1
    while True:
        nc = NATS()
        try:
            await nc.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=2,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
                closed_cb=on_closed,
            )
            log.info("nats_connected", client=name, server=str(nc.connected_url))
            return nc
        except (OSError, nats.errors.NoServersError, TimeoutError) as exc:
            if loop.time() + delay > deadline:
                raise ConnectionError(f"cannot reach NATS at {url}: {exc!r}") from exc
            log.info("nats_connect_retry", client=name, error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)  # backoff between connection attempts
            delay = min(delay * 2, 2.0)


async def ensure_streams(
    js: JetStreamContext,
    streams: tuple[StreamSpec, ...] = STREAMS,
    *,
    replicas: int = 1,
    timeout: float = 30.0,
) -> None:
    """Create or update the streams, retrying while JetStream is not yet able to (a new
    cluster still electing its meta leader answers with errors for a few seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.2
    while True:
        try:
            await _declare_streams(js, streams, replicas)
            return
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as exc:
            if loop.time() + delay > deadline:
                raise
            log.warning("streams_not_declared_yet", error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)  # backoff while JetStream becomes available
            delay = min(delay * 2, 2.0)


async def _declare_streams(
    js: JetStreamContext, streams: tuple[StreamSpec, ...], replicas: int
) -> None:
    for spec in streams:
        config = StreamConfig(
            name=spec.name,
            subjects=list(spec.subjects),
            description=spec.description,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        )
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream_created", stream=spec.name)
        else:
            await js.update_stream(config)
