"""The NATS consumer that keeps the trade history's traders: first seen on issued permits
(PERMITS).

Outcomes reach the history through the outcome endpoint, in the transaction that stores
the outcome (`outcomes.service.record`); other replicas read them from the shared tables
(`HistoryFollower`). risk-score is the only publisher of `risk.outcome.recorded`, so a
consumer of it here would only count each outcome a second time."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.permits import PermitIssued
from pangolin_core.messaging.consumer import ConsumerSpec, PoisonEvent
from risk_score.history import service

PERMITS_DURABLE = "risk-score-trade-history-permits"


async def on_permit_issued(session: AsyncSession, event: CloudEvent) -> None:
    try:
        permit = PermitIssued.from_event(event)
    except ValidationError as exc:
        raise PoisonEvent(f"not a permits.permit.issued v1 payload: {exc}") from exc
    await service.record_permit(session=session, permit=permit)


def permit_consumer() -> ConsumerSpec:
    return ConsumerSpec(
        durable=PERMITS_DURABLE,
        stream="PERMITS",
        subjects=("permits.permit.issued",),
        handler=on_permit_issued,
    )
