"""Recording an inspection outcome: one per assessment (a second is a 409: an outcome is
evidence the evaluation counts, corrected by a supervisor outside this API, not overwritten),
stored with its `risk.outcome.recorded` event; an inspected one labels the declaration in the
trade history in the same transaction (the features and the next model's training read it)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.permits import Declaration
from pangolin_core.contracts.risk import OutcomeLine, OutcomeRecorded
from pangolin_core.errors import Conflict
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import enqueue
from risk_score.assessments import repository as assessments
from risk_score.assessments.service import SOURCE, AssessmentNotFound
from risk_score.audit import repository as audit
from risk_score.history import service as history
from risk_score.outcomes import repository
from risk_score.outcomes.models import Outcome
from risk_score.outcomes.schemas import OutcomeIn, OutcomeOut


class OutcomeAlreadyRecorded(Conflict):
    code, title = "outcome_already_recorded", "The outcome is already recorded"


def to_out(row: Outcome) -> OutcomeOut:
    return OutcomeOut.model_validate(row.model_dump())


async def record(
    *, session: AsyncSession, assessment_id: str, body: OutcomeIn, caller: Caller
) -> OutcomeOut:
    assessment = await assessments.get(session, assessment_id)
    if assessment is None:
        raise AssessmentNotFound(f"No assessment {assessment_id}.")
    if await repository.get(session, assessment_id) is not None:
        raise OutcomeAlreadyRecorded(f"Assessment {assessment_id} already has its outcome.")
    now = datetime.now(UTC)
    row = Outcome(
        assessment_id=assessment_id,
        inspected=body.inspected,
        result=body.result,
        controls_applied=list(body.controls_applied),
        notes=body.notes,
        recorded_at=now,
        recorded_by=caller.client_id,
    )
    await repository.add(session, row)
    audit.record(
        session,
        action="outcome_recorded",
        object_type="assessment",
        object_id=assessment_id,
        caller=caller,
        details={"result": body.result, "inspected": body.inspected},
    )
    declaration = Declaration.model_validate(assessment.declaration)
    if body.inspected:
        # Only an inspection says anything about compliance. The label goes on the
        # declaration (however many times it was assessed); a declaration assessed before
        # the history existed is not in it, and stays out.
        await history.record_outcome(
            session=session, declaration_id=declaration.declaration_id, result=body.result
        )
    event = OutcomeRecorded(
        assessment_id=assessment_id,
        declaration_id=declaration.declaration_id,
        office=declaration.office,
        direction=declaration.direction,
        declared_on=declaration.declared_on,
        exporter=declaration.exporter,
        importer=declaration.importer,
        countries=declaration.countries,
        lines=[
            OutcomeLine(
                line_no=line.line_no,
                species=line.species,
                term=line.term,
                unit=line.unit,
                quantity=line.quantity,
                value=line.value,
                source=line.source,
                purpose=line.purpose,
            )
            for line in declaration.lines
        ],
        lane=assessment.lane,
        random=assessment.random,
        profile_versions=assessment.profile_versions,
        inspected=body.inspected,
        result=body.result,
        controls_applied=list(body.controls_applied),
        recorded_at=now,
        recorded_by=caller.client_id,
    )
    await enqueue(session, event.to_event(source=SOURCE, subject=assessment_id))
    return to_out(row)


async def read(*, session: AsyncSession, assessment_id: str) -> OutcomeOut:
    row = await repository.get(session, assessment_id)
    if row is None:
        raise AssessmentNotFound(f"No outcome recorded for assessment {assessment_id}.")
    return to_out(row)
