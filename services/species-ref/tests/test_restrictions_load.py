"""Loading the SAPI restrictions into a fresh database (SQLite and PostgreSQL): rows, one
event per record through the outbox, and a second load that changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from pangolin_core import migrations
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.species import QuotaPublished, SuspensionPublished
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from species_ref.app import DEFINITION
from species_ref.codes.service import read_code_lists
from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.restrictions.service import load_restrictions
from species_ref.sapi import RestrictionKind, read_quotas, read_reservations, read_suspensions
from species_ref.seed import RESTRICTION_FILES, RESTRICTION_SOURCES

pytestmark = pytest.mark.asyncio


async def test_load_once_with_events_then_leave_alone(database_url: str) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    codes = read_code_lists()
    parsed = {
        "quotas": read_quotas(RESTRICTION_FILES[RestrictionKind.QUOTA], codes).records,
        "suspensions": read_suspensions(
            RESTRICTION_FILES[RestrictionKind.SUSPENSION], codes
        ).records,
        "reservations": read_reservations(
            RESTRICTION_FILES[RestrictionKind.RESERVATION], codes
        ).records,
    }
    db = Database(database_url)
    try:
        async with db.session() as session:
            first = await load_restrictions(session=session, sources=RESTRICTION_SOURCES, **parsed)
        async with db.session() as session:
            again = await load_restrictions(session=session, sources=RESTRICTION_SOURCES, **parsed)
        async with db.session(write=False) as session:
            caiman = (
                await session.exec(
                    select(ExportQuota).where(ExportQuota.taxon_name == "Melanosuchus niger")
                )
            ).one()
            bowhead = (
                await session.exec(
                    select(TradeSuspension).where(
                        TradeSuspension.taxon_name == "Balaena mysticetus"
                    )
                )
            ).one()
            family = (
                await session.exec(select(Reservation).where(Reservation.rank == "FAMILY"))
            ).one()
            rows = (
                await session.exec(  # type: ignore[call-overload]
                    sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.created_at)
                )
            ).all()
    finally:
        await db.dispose()
    assert (first.quotas, first.suspensions, first.reservations, first.skipped) == (
        72,
        274,
        388,
        False,
    )
    assert again.skipped
    assert (caiman.quota, caiman.country, caiman.source) == (Decimal(0), "EC", "SAPI quotas.csv")
    assert (bowhead.end_date, bowhead.excluded_purposes) == (
        date(2015, 4, 9),
        ["G", "Q", "S", "Z"],
    )
    assert (family.taxon_name, family.country, family.source_row) == ("Platysternidae", "CA", 2)
    assert len(rows) == 72 + 274 + 388  # the second load wrote nothing
    events = {subject: [] for subject, _ in rows}  # type: dict[str, list[CloudEvent]]
    for subject, payload in rows:
        events[subject].append(CloudEvent.model_validate_json(payload))
    quota = QuotaPublished.from_event(
        next(e for e in events["species.quota.published"] if e.subject == "10978")
    )
    assert (quota.quota.quota, quota.quota.country) == (Decimal(0), "EC")
    suspension = SuspensionPublished.from_event(
        next(e for e in events["species.suspension.published"] if e.subject == "7903")
    )
    assert suspension.suspension.start_date == date(2012, 2, 2)
    assert sum(e.subject == "all" for e in events["species.suspension.published"]) == 22
