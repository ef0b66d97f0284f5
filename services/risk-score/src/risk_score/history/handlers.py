"""NATS consumers that keep the trade history: traders first seen on issued permits
(PERMITS), and inspection outcomes (RISK, `risk.outcome.recorded`)."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.permits import PermitIssued
from pangolin_core.messaging.consumer import ConsumerSpec, PoisonEvent
from pangolin_core.service import ServiceRuntime
from risk_score.history import service
from risk_score.history.schemas import OutcomeRecorded

PERMITS_DURABLE = "risk-score-trade-history-permits"
OUTCOMES_DURABLE = "risk-score-trade-history-outcomes"


async def on_permit_issued(session: AsyncSession, event: CloudEvent) -> None:
    try:
        permit = PermitIssued.from_event(event)
    except ValidationError as exc:
        raise PoisonEvent(f"not a permits.permit.issued v1 payload: {exc}") from exc
    await service.record_permit(session=session, permit=permit)


async def on_outcome_recorded(session: AsyncSession, event: CloudEvent) -> None:
    try:
        outcome = OutcomeRecorded.model_validate(event.data)
    except ValidationError as exc:
        raise PoisonEvent(f"not a risk.outcome.recorded payload: {exc}") from exc
    if not outcome.inspected or outcome.result is None:
        return  # not inspected: says nothing about compliance
    # An outcome for a declaration assessed elsewhere (before this history existed) is
    # not a label of anything here: acknowledged and skipped.
    await service.record_outcome(
        session=session, declaration_id=outcome.declaration_id, result=outcome.result
    )


def consumers(_runtime: ServiceRuntime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            durable=PERMITS_DURABLE,
            stream="PERMITS",
            subjects=("permits.permit.issued",),
            handler=on_permit_issued,
        ),
        ConsumerSpec(
            durable=OUTCOMES_DURABLE,
            stream="RISK",
            subjects=("risk.outcome.recorded",),
            handler=on_outcome_recorded,
        ),
    ]
