"""The exchange with partner countries over TAXII 2.1: a scheduled pull (their collections
this instance may read) and push (this country's records each partner may read).

- Pull: every collection the partner offers, the objects added since the last pull (less
  `federation_overlap` seconds: see `Federation._since`); each
  record is stored by `federation.intake` (originator kept, distribution downgraded, newer
  version wins, revocations propagate). The position advances only with a committed pull.
- Push: the objects of this country's own records that the partner may read by the access
  rule (as a viewer of its country with the `partner` role), through the same TAXII query
  as the server, so nothing organisation-only or TLP RED is ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.federation.client import (
    Authenticator,
    PartnerUnavailable,
    TaxiiPartnerClient,
    credentials_of,
)
from intel_share.federation.intake import Received, Sender, receive
from intel_share.federation.models import FederationCursor
from intel_share.settings import IntelShareSettings
from intel_share.stix.mapping import StixMappingError, from_stix, record_properties
from intel_share.taxii import repository
from intel_share.taxii.repository import ObjectFilters, StoredObject
from intel_share.taxii.service import COMMUNITY_ID
from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.contracts.roles import Role
from pangolin_core.db import Database
from pangolin_core.service import background_task

log = structlog.get_logger(__name__)

# `runtime.extras` key of the lifespan's `Federation`.
FEDERATION = "federation"


@dataclass(frozen=True)
class PullReport:
    partner: str
    received: list[Received]

    def outcomes(self) -> dict[str, str]:
        return {r.record_id: r.outcome for r in self.received}


@dataclass(frozen=True)
class PushReport:
    partner: str
    sent: int
    failures: list[dict[str, Any]]


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _cursor(
    session: AsyncSession, partner: str, direction: str, collection_id: str
) -> FederationCursor | None:
    return await session.get(FederationCursor, (partner, direction, collection_id))


def _advance(
    session: AsyncSession,
    held: FederationCursor | None,
    key: tuple[str, str, str],
    position: datetime,
) -> None:
    now = datetime.now(UTC)
    if held is None:
        partner, direction, collection_id = key
        held = FederationCursor(
            partner=partner,
            direction=direction,
            collection_id=collection_id,
            added_after=position,
            updated_at=now,
        )
    held.added_after = position
    held.updated_at = now
    session.add(held)


class Federation:
    """The partner directory's clients and the exchange with each (owned by the lifespan)."""

    def __init__(
        self,
        *,
        db: Database,
        settings: IntelShareSettings,
        http: httpx.AsyncClient,
        codes: CodeLists,
        authenticators: Mapping[str, Authenticator] | None = None,
    ) -> None:
        self.db = db
        self.codes = codes
        self.home = settings.country
        self.settings = settings
        self.partners: dict[str, TaxiiPartnerClient] = {}
        for country, partner in settings.partners.items():
            authenticate = (authenticators or {}).get(country) or credentials_of(partner, http)
            self.partners[country] = TaxiiPartnerClient(
                country=country,
                api_root=str(partner.api_root),
                http=http,
                authenticate=authenticate,
            )

    def _client(self, country: str) -> TaxiiPartnerClient:
        client = self.partners.get(country)
        if client is None:
            raise PartnerUnavailable(f"{country} is not in the partner directory")
        return client

    async def pull_from(self, country: str) -> PullReport:
        client = self._client(country)
        received: list[Received] = []
        sender = Sender(
            client_id=f"partner:{country}", country=country, agency="partner", is_partner=True
        )
        for collection in await client.collections():
            if not collection.get("can_read"):
                continue
            collection_id = str(collection["id"])
            async with self.db.session() as session:
                held = await _cursor(session, country, "pull", collection_id)
                after = self._since(held)
                pulled = await client.pull(
                    collection_id,
                    added_after=after.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if after else None,
                )
                try:
                    records = from_stix(pulled.objects)
                except StixMappingError as exc:
                    log.warning("federation_pull_unreadable", partner=country, error=str(exc))
                    continue
                for record in records:
                    received.append(
                        await receive(
                            session=session,
                            record=record,
                            sender=sender,
                            home_country=self.home,
                            codes=self.codes,
                        )
                    )
                if pulled.last_added:
                    key = (country, "pull", collection_id)
                    _advance(session, held, key, _stamp(pulled.last_added))
        log.info("federation_pulled", partner=country, records=len(received))
        return PullReport(country, received)

    async def push_to(self, country: str) -> PushReport:
        """Send this country's records that `country` may read, added since the last push."""
        client = self._client(country)
        viewer = Viewer(country=country, agency=Role.PARTNER.value)
        sent = 0
        failures: list[dict[str, Any]] = []
        collections: list[tuple[str, ColumnElement[bool]]] = [
            (COMMUNITY_ID, repository.community())
        ]
        async with self.db.session(write=False) as session:
            for group in await repository.groups_of(session, viewer):
                collections.append((group.id, repository.sharing_group(group.id)))
        for collection_id, distribution in collections:
            async with self.db.session() as session:
                held = await _cursor(session, country, "push", collection_id)
                rows = await self._unsent(session, viewer, distribution, held)
                try:
                    for batch in self._batches(rows):
                        status = await client.push(collection_id, batch)
                        sent += len(batch)
                        failures += status.get("failures", [])
                except PartnerUnavailable as exc:
                    if collection_id == COMMUNITY_ID:
                        raise
                    # A group the partner does not hold (yet): tried again next round.
                    log.warning("federation_push_group_skipped", partner=country, error=str(exc))
                    continue
                if rows:
                    key = (country, "push", collection_id)
                    _advance(session, held, key, _utc(rows[-1].date_added))
        log.info("federation_pushed", partner=country, objects=sent, failures=len(failures))
        return PushReport(country, sent, failures)

    async def _unsent(
        self,
        session: AsyncSession,
        viewer: Viewer,
        distribution: ColumnElement[bool],
        held: FederationCursor | None,
    ) -> list[StoredObject]:
        """Every object version the partner may read, added since the last push (all pages:
        a record's objects must travel together)."""
        rows: list[StoredObject] = []
        page = self.settings.taxii_page_max
        after: tuple[datetime, int] | None = None
        while True:
            filters = ObjectFilters(
                added_after=self._since(held),
                versions=("all",),
                after=after,
            )
            got = await repository.objects(
                session, viewer=viewer, distribution=distribution, filters=filters, limit=page
            )
            rows += got
            if len(got) < page:
                return rows
            last = got[-1]
            assert last.id is not None
            after = (_utc(last.date_added), last.id)

    def _since(self, held: FederationCursor | None) -> datetime | None:
        """Where the next exchange starts: a while before the last object taken, because an
        object's `date_added` is set before its transaction commits, so a slower transaction
        can commit an earlier `date_added` after a page was read. What is taken twice is
        ignored on arrival (version held already)."""
        if held is None:
            return None
        return _utc(held.added_after) - timedelta(seconds=self.settings.federation_overlap)

    def _batches(self, rows: list[StoredObject]) -> list[list[dict[str, Any]]]:
        """The objects of records this country originated (shared objects are not sent:
        the partner makes its own), in batches of at most a page, never splitting a
        record's objects."""
        by_record: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.record_id is None:
                continue
            body = json.loads(row.body)
            if (record_properties(body) or {}).get("originator_country") == self.home:
                by_record.setdefault(row.record_id, []).append(body)
        batches: list[list[dict[str, Any]]] = [[]]
        for objects in by_record.values():
            if batches[-1] and len(batches[-1]) + len(objects) > self.settings.taxii_page_max:
                batches.append([])
            batches[-1].extend(objects)
        return [b for b in batches if b]

    async def exchange(self) -> None:
        """One round with every partner; a partner that fails is logged and tried next time."""
        for country, partner in self.settings.partners.items():
            try:
                if partner.pull:
                    await self.pull_from(country)
                if partner.push:
                    await self.push_to(country)
            except PartnerUnavailable as exc:
                log.warning("federation_partner_unavailable", partner=country, error=str(exc))

    async def run(self) -> None:
        """Exchange every `federation_interval` seconds until cancelled."""
        interval = self.settings.federation_interval
        while True:
            try:
                async with asyncio.timeout(max(interval, 1.0) * 4):
                    await self.exchange()
            except TimeoutError:
                log.warning("federation_round_timed_out")
            except Exception:
                log.exception("federation_round_failed")
            await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def scheduled(federation: Federation) -> AsyncIterator[None]:
    """Run the exchange in the background for the duration of the block (when enabled)."""
    if not federation.partners or federation.settings.federation_interval <= 0:
        yield
        return
    async with background_task(federation.run(), name="intel-share-federation"):
        yield
