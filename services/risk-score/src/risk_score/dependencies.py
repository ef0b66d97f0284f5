"""What the lifespan opened for risk-score's routers, as `Annotated` dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from pangolin_core.service import ServiceRuntime
from risk_score.assessments.scoring import Thresholds
from risk_score.assessments.writer import AssessmentWriter
from risk_score.features.service import TradeHistoryFeatures
from risk_score.history.aggregate import TradeHistory
from risk_score.models.service import PromotedModel
from risk_score.profiles.active import ActiveProfiles
from risk_score.readmodels import ReadModels
from risk_score.settings import RiskScoreSettings
from risk_score.species.service import SpeciesIndex
from risk_score.watchlists.service import WatchlistIndex

RISK_STATE = "risk_state"
ASSESSMENT_WRITER = "assessment_writer"


@dataclass
class RiskState:
    """The in-memory side of risk-score, shared by HTTP, RPC and consumers."""

    settings: RiskScoreSettings
    profiles: ActiveProfiles
    watchlists: WatchlistIndex
    species: SpeciesIndex
    # The trade history (loaded by `history.lifespan`, kept current at commit and from
    # other replicas' rows); `features` reads it before a declaration joins it.
    history: TradeHistory
    features: TradeHistoryFeatures
    # The promoted learned model (its `view` is None until a model is promoted).
    model: PromotedModel
    read_models: ReadModels = field(default_factory=ReadModels)

    @property
    def thresholds(self) -> Thresholds:
        s = self.settings
        return Thresholds(blue_from=s.blue_from, yellow_from=s.yellow_from, red_from=s.red_from)


def state_of(runtime: ServiceRuntime) -> RiskState:
    """The runtime's risk state, made empty on first use: consumers and RPC endpoints are
    built before the lifespan, which then loads the read models into it."""
    state = runtime.extras.get(RISK_STATE)
    if state is None:
        settings = runtime.settings
        assert isinstance(settings, RiskScoreSettings)
        history = TradeHistory()
        state = RiskState(
            settings=settings,
            profiles=ActiveProfiles(),
            watchlists=WatchlistIndex(),
            species=SpeciesIndex(),
            history=history,
            features=TradeHistoryFeatures(history),
            model=PromotedModel(explain_from=settings.model_explain_from),
        )
        runtime.extras[RISK_STATE] = state
    assert isinstance(state, RiskState)
    return state


def writer_of(runtime: ServiceRuntime) -> AssessmentWriter:
    writer = runtime.extras.get(ASSESSMENT_WRITER)
    if writer is None:
        writer = AssessmentWriter(runtime.db)
        runtime.extras[ASSESSMENT_WRITER] = writer
    assert isinstance(writer, AssessmentWriter)
    return writer


async def assessment_writer(request: Request) -> AssessmentWriter:
    return writer_of(request.app.state.runtime)


async def risk_state(request: Request) -> RiskState:
    state: RiskState = request.app.state.runtime.extras[RISK_STATE]
    return state


RiskStateDep = Annotated[RiskState, Depends(risk_state)]
WriterDep = Annotated[AssessmentWriter, Depends(assessment_writer)]
