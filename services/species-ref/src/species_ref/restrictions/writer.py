"""Writing restrictions from a source that owns their ids (the Species+ sync, a publication):
new rows are inserted, changed ones updated, unchanged ones left alone, and every row
written gets its `species.quota.published` / `species.suspension.published` /
`species.reservation.published` event. An id held by another source is reported, never
overwritten. Nothing is committed here."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.contracts.envelope import CloudEvent, EventData
from species_ref.restrictions import repository
from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.restrictions.service import quota_out, reservation_out, suspension_out
from species_ref.taxa.service import EVENT_SOURCE

_R = TypeVar("_R", ExportQuota, TradeSuspension, Reservation)


@dataclass
class RestrictionsWritten:
    rows: list[dict[str, Any]] = field(default_factory=list)  # as stored, for their events
    problems: list[str] = field(default_factory=list)


async def write_restrictions(
    session: AsyncSession,
    model: type[_R],
    rows: dict[int, dict[str, Any]],
    *,
    owns: Callable[[str], bool],
    ended: Collection[int] = (),
    today: date | None = None,
) -> RestrictionsWritten:
    """Insert new rows, update changed ones; end (at `today`, or at their start if later)
    the stored rows of `ended` that have no end yet. `owns(source)` says whether a stored
    row's source is the writer's own."""
    stored = await repository.restrictions_by_id(session, model, set(rows) | set(ended))
    written = RestrictionsWritten()
    inserts: list[dict[str, Any]] = []
    for restriction_id, row in sorted(rows.items()):
        old = stored.get(restriction_id)
        if old is None:
            inserts.append(row)
            continue
        if not owns(old.source):
            written.problems.append(
                f"{model.__tablename__} {restriction_id}: id held by {old.source!r}; not stored"
            )
            continue
        if all(getattr(old, name) == value for name, value in row.items() if name != "source"):
            continue
        await repository.update_restriction(session, model, restriction_id, row)
        written.rows.append(row)
    await repository.insert(session, model, inserts)
    written.rows.extend(inserts)
    for restriction_id in sorted(ended):
        old = stored.get(restriction_id)
        if old is None or not owns(old.source) or old.end_date is not None or today is None:
            continue
        end = max(today, old.start_date)
        await repository.update_restriction(session, model, restriction_id, {"end_date": end})
        written.rows.append(old.model_dump() | {"end_date": end})
    return written


def published_event(model: type[_R], row: dict[str, Any]) -> CloudEvent:
    """The `*.published` event of a restriction row as stored."""
    data: EventData
    if model is ExportQuota:
        data = contract.QuotaPublished(quota=quota_out(ExportQuota(**row)))
    elif model is TradeSuspension:
        data = contract.SuspensionPublished(suspension=suspension_out(TradeSuspension(**row)))
    else:
        data = contract.ReservationPublished(reservation=reservation_out(Reservation(**row)))
    subject = str(row["taxon_id"]) if row["taxon_id"] is not None else "all"
    return data.to_event(source=EVENT_SOURCE, subject=subject)
