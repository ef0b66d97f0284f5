"""`/v1/risk/evaluation` and `/v1/risk/profiles/{id}/backtest`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_scope
from risk_score.dependencies import RiskStateDep
from risk_score.evaluation import service
from risk_score.evaluation.schemas import Backtest, Evaluation

router = APIRouter(prefix="/v1/risk", tags=["evaluation"])

Reader = Annotated[Caller, Depends(requires_scope("risk:read"))]
Analyst = Annotated[Caller, Depends(requires_scope("risk:profiles"))]
From = Annotated[date | None, Query(alias="from", description="First day (UTC), included")]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), included")]


@router.get("/evaluation", summary="Profiles' hit rates and lift, precision, recall, random sample")
async def evaluation(
    session: SessionDep, state: RiskStateDep, _: Reader, start: From = None, end: To = None
) -> Evaluation:
    return await service.evaluation(
        session=session,
        start=start,
        end=end,
        expected_lane_shares=state.settings.expected_lane_rates,
    )


@router.post(
    "/profiles/{profile_id}/backtest",
    summary="What a profile would have selected over past assessments, and their outcomes",
)
async def backtest(
    profile_id: Annotated[str, Path(max_length=36)],
    session: SessionDep,
    _: Analyst,
    start: From = None,
    end: To = None,
    version: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
) -> Backtest:
    return await service.backtest(
        session=session, profile_id=profile_id, version=version, start=start, end=end, limit=limit
    )
