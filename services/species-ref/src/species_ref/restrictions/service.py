"""Rules of the restrictions domain: loading the SAPI files, and the quotas, suspensions and
reservations that bind a taxon (on it, on a higher taxon, or country-wide) at a date.

Rows come back from SQL by taxon and country; dates, direction and code scope are then
decided by the pure rules in `restrictions.rules`, on `sapi.Restriction` values, so the
loader, the API and the status share one definition of "in force".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.contracts.envelope import CloudEvent, EventData
from pangolin_core.messaging.outbox import enqueue_many
from species_ref.restrictions import repository, rules
from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.sapi import Direction, Restriction, RestrictionKind
from species_ref.taxa.models import TaxonConcept
from species_ref.taxa.service import EVENT_SOURCE

QuotaRow = ExportQuota
SuspensionRow = TradeSuspension
ReservationRow = Reservation


@dataclass(frozen=True)
class RestrictionLoad:
    quotas: int
    suspensions: int
    reservations: int
    skipped: bool = False


def lineage_of(taxon: TaxonConcept) -> rules.Lineage:
    return rules.lineage(
        taxon_id=taxon.id,
        rank=taxon.rank,
        full_name=taxon.full_name,
        kingdom=taxon.kingdom,
        phylum=taxon.phylum,
        class_name=taxon.class_name,
        order=taxon.order_name,
        family=taxon.family,
        genus=taxon.genus,
        species=taxon.species,
    )


def _base_row(record: Restriction, *, id: int, source: str) -> dict[str, Any]:
    return {
        "id": id,
        "taxon_name": record.taxon_name,
        "rank": record.rank,
        "taxon_id": record.taxon_concept_id,
        "country": record.country,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "notes": record.notes,
        "internal_notes": record.internal_notes,
        "source": source,
        "source_row": record.row,
    }


def restriction_row(record: Restriction, *, id: int, source: str) -> dict[str, Any]:
    """The table row of one parsed record (pure)."""
    row = _base_row(record, id=id, source=source)
    if record.kind is RestrictionKind.QUOTA:
        row |= {
            "quota": record.quota,
            "units": sorted(record.units),
            "terms": sorted(record.terms),
            "sources": sorted(record.sources),
            "purposes": sorted(record.purposes),
            "quota_type": record.quota_type,
        }
    elif record.kind is RestrictionKind.SUSPENSION:
        row |= {
            "direction": record.direction.value,
            "excluded_terms": sorted(record.excluded_terms),
            "excluded_sources": sorted(record.excluded_sources),
            "excluded_purposes": sorted(record.excluded_purposes),
        }
    return row


def _taxon(row: QuotaRow | SuspensionRow | ReservationRow) -> contract.RestrictionTaxon:
    return contract.RestrictionTaxon(name=row.taxon_name, rank=row.rank, taxon_id=row.taxon_id)


def _plain(quantity: Decimal) -> Decimal:
    """80.000 (as the column stores it) is 80; 2.5 stays 2.5."""
    if quantity == quantity.to_integral_value():
        return quantity.quantize(Decimal(1))
    return quantity.normalize()


def quota_out(row: QuotaRow) -> contract.ExportQuota:
    return contract.ExportQuota(
        id=row.id,
        taxon=_taxon(row),
        country=row.country,
        start_date=row.start_date,
        end_date=row.end_date,
        quota=_plain(Decimal(row.quota)),
        units=row.units,
        terms=row.terms,
        sources=row.sources,
        purposes=row.purposes,
        quota_type=row.quota_type,
        notes=row.notes,
        internal_notes=row.internal_notes,
        source=row.source,
    )


def suspension_out(row: SuspensionRow) -> contract.TradeSuspension:
    return contract.TradeSuspension(
        id=row.id,
        taxon=_taxon(row),
        country=row.country,
        start_date=row.start_date,
        end_date=row.end_date,
        direction=Direction(row.direction).value,
        excluded_terms=row.excluded_terms,
        excluded_sources=row.excluded_sources,
        excluded_purposes=row.excluded_purposes,
        notes=row.notes,
        internal_notes=row.internal_notes,
        source=row.source,
    )


def reservation_out(row: ReservationRow) -> contract.Reservation:
    assert row.country is not None  # the parser refuses a reservation without a party
    return contract.Reservation(
        id=row.id,
        taxon=_taxon(row),
        party=row.country,
        start_date=row.start_date,
        end_date=row.end_date,
        notes=row.notes,
        internal_notes=row.internal_notes,
        source=row.source,
    )


def as_rule(row: QuotaRow | SuspensionRow | ReservationRow) -> Restriction:
    """A stored row as the value the rules decide on."""
    common: dict[str, Any] = {
        "row": row.source_row or 0,
        "taxon_name": row.taxon_name,
        "rank": row.rank,
        "taxon_concept_id": row.taxon_id,
        "country": row.country,
        "start_date": row.start_date,
        "end_date": row.end_date,
    }
    if isinstance(row, ExportQuota):
        return Restriction(
            kind=RestrictionKind.QUOTA,
            units=frozenset(row.units),
            terms=frozenset(row.terms),
            sources=frozenset(row.sources),
            purposes=frozenset(row.purposes),
            **common,
        )
    if isinstance(row, TradeSuspension):
        return Restriction(
            kind=RestrictionKind.SUSPENSION,
            direction=Direction(row.direction),
            excluded_terms=frozenset(row.excluded_terms),
            excluded_sources=frozenset(row.excluded_sources),
            excluded_purposes=frozenset(row.excluded_purposes),
            **common,
        )
    return Restriction(kind=RestrictionKind.RESERVATION, direction=Direction.BOTH, **common)


def _subject(record: Restriction) -> str:
    if record.taxon_concept_id is not None:
        return str(record.taxon_concept_id)
    return record.taxon_name or "all"


async def load_restrictions(
    *,
    session: AsyncSession,
    quotas: Sequence[Restriction],
    suspensions: Sequence[Restriction],
    reservations: Sequence[Restriction],
    sources: dict[RestrictionKind, str],
) -> RestrictionLoad:
    """Load parsed SAPI records into empty restriction tables, with a `*.published` event
    per record. Tables that already hold restrictions are left alone (`skipped`)."""
    if await repository.count_restrictions(session):
        return RestrictionLoad(0, 0, 0, skipped=True)
    events: list[CloudEvent] = []
    for model, records, kind in (
        (ExportQuota, quotas, RestrictionKind.QUOTA),
        (TradeSuspension, suspensions, RestrictionKind.SUSPENSION),
        (Reservation, reservations, RestrictionKind.RESERVATION),
    ):
        rows = [
            restriction_row(record, id=n, source=sources[kind])
            for n, record in enumerate(records, start=1)
        ]
        await repository.insert(session, model, rows)
        for record, row in zip(records, rows, strict=True):
            events.append(
                _event(model(**row)).to_event(source=EVENT_SOURCE, subject=_subject(record))
            )
    await enqueue_many(session, events)
    return RestrictionLoad(len(quotas), len(suspensions), len(reservations))


def _event(row: QuotaRow | SuspensionRow | ReservationRow) -> EventData:
    if isinstance(row, ExportQuota):
        return contract.QuotaPublished(quota=quota_out(row))
    if isinstance(row, TradeSuspension):
        return contract.SuspensionPublished(suspension=suspension_out(row))
    return contract.ReservationPublished(reservation=reservation_out(row))


async def quotas_of(
    *, session: AsyncSession, taxon: TaxonConcept, year: int | None, country: str | None
) -> list[contract.ExportQuota]:
    """Export quotas on the taxon or a higher taxon, in force at some time of `year` (any
    year if None), of `country` or of every country."""
    lineage = lineage_of(taxon)
    rows = await repository.restrictions_for(
        session, ExportQuota, taxon_id=taxon.id, names=lineage.names(), country=country
    )
    return [
        quota_out(row)
        for row in rows
        if rules.applies_to_taxon(as_rule(row), lineage)
        and (
            year is None
            or rules.in_force_during(as_rule(row), date(year, 1, 1), date(year, 12, 31))
        )
    ]


async def suspensions_of(
    *, session: AsyncSession, taxon: TaxonConcept, as_of: date | None, country: str | None
) -> list[contract.TradeSuspension]:
    """Suspensions on the taxon, a higher taxon or every taxon, in force on `as_of` (all of
    them if None), concerning `country` (any if None)."""
    lineage = lineage_of(taxon)
    rows = await repository.restrictions_for(
        session, TradeSuspension, taxon_id=taxon.id, names=lineage.names(), country=country
    )
    return [
        suspension_out(row)
        for row in rows
        if rules.applies_to_taxon(as_rule(row), lineage)
        and (as_of is None or rules.in_force(as_rule(row), as_of))
    ]
