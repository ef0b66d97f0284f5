"""Assessing a declaration: facts from the in-memory read models, scoring, one insert.

The hot path reads no table: profiles, watchlists and species are held in memory
(`readmodels`); its only round trip is the insert of the assessment with its outbox event,
shared with concurrent calls (`writer`: group commit).
A declaration sent again is assessed again and stored as a new assessment (the current
profiles and intelligence apply to an amended declaration); the random draw is keyed on the
declaration id, so sending it again cannot move it into or out of the random sample."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.risk import (
    AssessmentCompleted,
    AssessmentRequest,
    RiskAssessment,
    RiskReason,
)
from pangolin_core.errors import NotFound
from pangolin_core.identity import Caller
from risk_score.assessments import repository
from risk_score.assessments.facts import Facts, derive_facts
from risk_score.assessments.models import Assessment
from risk_score.assessments.schemas import AssessmentOut
from risk_score.assessments.scoring import Scored, randomly_selected, score
from risk_score.assessments.writer import AssessmentWriter
from risk_score.audit import repository as audit
from risk_score.dependencies import RiskState

SOURCE = "risk-score"


class AssessmentNotFound(NotFound):
    code, title = "assessment_not_found", "No such assessment"


def evaluate(*, state: RiskState, request: AssessmentRequest) -> tuple[Facts, Scored]:
    """Everything but the storing: pure apart from reading the in-memory read models."""
    declaration, findings = request.declaration, request.findings
    on = declaration.declared_on
    hits = state.watchlists.match(declaration, on=on)
    # From the trade history as it stands: this declaration joins it only when its
    # assessment commits (no leakage).
    features = state.features.features_for(declaration, findings)
    facts = derive_facts(
        declaration,
        findings,
        appendices_of=state.species.appendices_of,
        watchlist_kinds=frozenset(h.kind for h in hits),
        features=features,
    )
    model = state.model.view(features)
    settings = state.settings
    random = randomly_selected(
        declaration.declaration_id,
        declaration.office,
        settings.random_rate_for(declaration.office),
    )
    scored = score(
        declaration_id=declaration.declaration_id,
        on=on,
        facts=facts,
        findings=findings,
        profiles=state.profiles.profiles,
        intel_hits=hits,
        model=model,
        model_points=settings.model_points,
        random=random,
        thresholds=state.thresholds,
    )
    return facts, scored


def without_intelligence(reason: RiskReason) -> RiskReason:
    """An intelligence hit as the caller and the event see it: its points, not the record.

    The answer travels to the single window, where the declarant's side must not learn it is
    on a watchlist (tipping-off) nor which partner's record said so (TLP); customs reads the
    full reason with the stored assessment (`GET /v1/risk/assessments/{id}`, `risk:read`)."""
    if reason.source != "intel":
        return reason
    kind = reason.title.split(":", 1)[0].removeprefix("Watchlist ").strip()
    return RiskReason.model_construct(
        source="intel",
        id=None,
        title=f"Intelligence hit ({kind})",
        points=reason.points,
        detail=None,
    )


async def assess(
    *, writer: AssessmentWriter, state: RiskState, request: AssessmentRequest, client_id: str
) -> RiskAssessment:
    """Score and store (through the group-commit writer: HTTP and RPC alike); the answer is
    returned once the assessment and its event are committed."""
    assessment_id = str(uuid4())
    facts, scored = evaluate(state=state, request=request)
    told = [without_intelligence(r) for r in scored.reasons]
    answer = RiskAssessment(
        assessment_id=assessment_id,
        score=scored.score,
        lane=scored.lane,
        controls=scored.controls,
        random=scored.random,
        reasons=told,
        model_version=scored.model_version,
        profile_versions=scored.profile_versions,
    )
    declaration = request.declaration
    now = datetime.now(UTC)
    reasons = [r.model_dump(mode="json") for r in scored.reasons]
    row = Assessment(
        id=assessment_id,
        declaration_id=declaration.declaration_id,
        office=declaration.office,
        direction=declaration.direction,
        declared_on=declaration.declared_on,
        created_at=now,
        score=scored.score,
        lane=scored.lane,
        random=scored.random,
        targeted=scored.targeted,
        controls=scored.controls,
        reasons=reasons,
        profile_versions=scored.profile_versions,
        model_version=scored.model_version,
        declaration=declaration.model_dump(mode="json", by_alias=True),
        findings=[f.model_dump(mode="json") for f in request.findings],
        facts=facts.to_json(),
        client_id=client_id,
    )
    event = AssessmentCompleted(
        assessment_id=assessment_id,
        declaration_id=declaration.declaration_id,
        office=declaration.office,
        direction=declaration.direction,
        declared_on=declaration.declared_on,
        score=scored.score,
        lane=scored.lane,
        random=scored.random,
        controls=scored.controls,
        reasons=told,
        profile_versions=scored.profile_versions,
        model_version=scored.model_version,
        assessed_at=now,
    )
    await writer.store(row, event.to_event(source=SOURCE, subject=assessment_id), declaration)
    return answer


def to_out(row: Assessment) -> AssessmentOut:
    return AssessmentOut.model_validate(
        {
            "assessment_id": row.id,
            "score": row.score,
            "lane": row.lane,
            "controls": row.controls,
            "random": row.random,
            "reasons": row.reasons,
            "model_version": row.model_version,
            "profile_versions": row.profile_versions,
            "declaration_id": row.declaration_id,
            "office": row.office,
            "assessed_at": row.created_at,
            "facts": row.facts,
        }
    )


async def read(*, session: AsyncSession, assessment_id: str, caller: Caller) -> AssessmentOut:
    """The stored assessment, its intelligence reasons in full: the read is audited."""
    row = await repository.get(session, assessment_id)
    if row is None:
        raise AssessmentNotFound(f"No assessment {assessment_id}.")
    audit.record(
        session,
        action="assessment_read",
        object_type="assessment",
        object_id=assessment_id,
        caller=caller,
    )
    return to_out(row)
