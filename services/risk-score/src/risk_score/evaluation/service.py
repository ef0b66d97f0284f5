"""Evaluation of targeting and backtests of a profile over stored assessments.

Definitions (docs/risk-score.md keeps them for officers):
- an inspection is an outcome with `inspected: true`; a hit is an inspection whose result is
  `non_compliant` or `seizure`;
- per profile: selections (assessments it fired on), inspections, hits, hit rate =
  hits / inspections, share of detections = hits / all hits, lift = hit rate / the random
  sample's hit rate;
- the random sample (assessments with `random: true`) estimates non-compliance with a Wilson
  95 % interval;
- precision = hits / inspections among targeted assessments (lane yellow or red without the
  random draw); recall = targeted hits / (targeted hits + q x untargeted assessments), where
  q is the hit rate of the random sample's untargeted inspections (the estimate of what went
  through unseen)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import BadRequest
from risk_score.assessments import repository as assessments
from risk_score.assessments.facts import Facts
from risk_score.evaluation.schemas import (
    Backtest,
    Evaluation,
    Interval,
    Overall,
    ProfileFigures,
    RandomSample,
)
from risk_score.profiles import repository as profiles
from risk_score.profiles.active import compile_version
from risk_score.profiles.service import ProfileNotFound

HIT_RESULTS = frozenset({"non_compliant", "seizure"})
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Case:
    """One assessment as the evaluation sees it."""

    assessment_id: str
    random: bool
    targeted: bool
    lane: str
    fired: frozenset[str]
    inspected: bool
    hit: bool


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    status: str
    review_date: date | None


def wilson(hits: int, n: int, z: float = Z_95) -> Interval | None:
    if n == 0:
        return None
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(low=round(max(0.0, centre - half), 6), high=round(min(1.0, centre + half), 6))


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def evaluate(
    cases: Sequence[Case],
    profiles_known: Mapping[str, ProfileInfo],
    *,
    today: date,
    expected_lane_shares: Mapping[str, float],
    start: date | None = None,
    end: date | None = None,
) -> Evaluation:
    inspected = [c for c in cases if c.inspected]
    hits_total = sum(c.hit for c in inspected)
    random_inspected = [c for c in inspected if c.random]
    random_hits = sum(c.hit for c in random_inspected)
    random_rate = _ratio(random_hits, len(random_inspected))
    targeted = [c for c in cases if c.targeted]
    targeted_inspected = [c for c in targeted if c.inspected]
    targeted_hits = sum(c.hit for c in targeted_inspected)
    untargeted_random = [c for c in random_inspected if not c.targeted]
    recall = None
    if untargeted_random:
        q = sum(c.hit for c in untargeted_random) / len(untargeted_random)
        missed = q * (len(cases) - len(targeted))
        recall = _ratio(targeted_hits, targeted_hits + missed)
    lanes = ("green", "blue", "yellow", "red")
    overall = Overall(
        assessments=len(cases),
        inspections=len(inspected),
        inspection_rate=_ratio(len(inspected), len(cases)),
        hits=hits_total,
        targeted=len(targeted),
        targeted_inspections=len(targeted_inspected),
        targeted_hits=targeted_hits,
        precision=_ratio(targeted_hits, len(targeted_inspected)),
        recall=recall,
        lane_shares={
            lane: _ratio(sum(c.lane == lane for c in cases), len(cases)) or 0.0 for lane in lanes
        }
        if cases
        else {},
        expected_lane_shares=dict(expected_lane_shares),
    )
    figures: list[ProfileFigures] = []
    fired_ids = {p for c in cases for p in c.fired}
    for profile_id in sorted(
        fired_ids | {p for p, i in profiles_known.items() if i.status == "active"}
    ):
        mine = [c for c in cases if profile_id in c.fired]
        mine_inspected = [c for c in mine if c.inspected]
        hits = sum(c.hit for c in mine_inspected)
        hit_rate = _ratio(hits, len(mine_inspected))
        lift = _ratio(hit_rate, random_rate) if hit_rate is not None and random_rate else None
        info = profiles_known.get(profile_id)
        flags = []
        if lift is not None and lift < 1:
            flags.append("worse_than_random")
        if not mine:
            flags.append("never_fired")
        if info is not None and info.review_date is not None and info.review_date < today:
            flags.append("past_review_date")
        figures.append(
            ProfileFigures(
                profile_id=profile_id,
                name=info.name if info else None,
                status=info.status if info else None,
                selections=len(mine),
                inspections=len(mine_inspected),
                hits=hits,
                hit_rate=hit_rate,
                share_of_detections=_ratio(hits, hits_total),
                lift=lift,
                flags=flags,
            )
        )
    return Evaluation(
        start=start,
        end=end,
        overall=overall,
        random_sample=RandomSample(
            selections=sum(c.random for c in cases),
            inspections=len(random_inspected),
            hits=random_hits,
            non_compliance_rate=random_rate,
            confidence_95=wilson(random_hits, len(random_inspected)),
        ),
        profiles=figures,
    )


def window(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """`start` and `end` are whole UTC days, both included."""
    if start is not None and end is not None and end < start:
        raise BadRequest("`to` is before `from`.")
    low = datetime.combine(start, time(), UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
    return low, high


async def evaluation(
    *,
    session: AsyncSession,
    start: date | None,
    end: date | None,
    expected_lane_shares: Mapping[str, float],
) -> Evaluation:
    low, high = window(start, end)
    rows = await assessments.with_outcomes(session, start=low, end=high)
    cases = [
        Case(
            assessment_id=a.id,
            random=a.random,
            targeted=a.targeted,
            lane=a.lane,
            fired=frozenset(a.profile_versions),
            inspected=bool(o is not None and o.inspected),
            hit=bool(o is not None and o.inspected and o.result in HIT_RESULTS),
        )
        for a, o in rows
    ]
    known = {
        r.profile_id: ProfileInfo(name=r.name, status=r.status, review_date=r.review_date)
        for r in await profiles.all_current(session)
    }
    return evaluate(
        cases,
        known,
        today=datetime.now(UTC).date(),
        expected_lane_shares=expected_lane_shares,
        start=start,
        end=end,
    )


async def backtest(
    *,
    session: AsyncSession,
    profile_id: str,
    version: int | None,
    start: date | None,
    end: date | None,
    limit: int,
) -> Backtest:
    """What the profile (its current version, or `version`) would have selected among the
    assessments of the window, from their stored facts, and what their outcomes were."""
    row = (
        await profiles.current(session, profile_id)
        if version is None
        else await profiles.version(session, profile_id, version)
    )
    if row is None:
        raise ProfileNotFound(f"No targeting profile {profile_id} (version {version}).")
    compiled = compile_version(row)
    low, high = window(start, end)
    rows = await assessments.with_outcomes(session, start=low, end=high)
    selected = [
        (a, o)
        for a, o in rows
        if compiled.fires(
            Facts.from_json(a.facts), on=a.declared_on, declaration_id=a.declaration_id
        )
    ]
    inspected = [o for _, o in selected if o is not None and o.inspected]
    hits = sum(o.result in HIT_RESULTS for o in inspected)
    return Backtest(
        profile_id=profile_id,
        version=row.version,
        start=start,
        end=end,
        assessments=len(rows),
        selected=len(selected),
        with_outcome=sum(o is not None for _, o in selected),
        inspected=len(inspected),
        hits=hits,
        hit_rate=_ratio(hits, len(inspected)),
        selected_ids=[a.id for a, _ in selected[:limit]],
        truncated=len(selected) > limit,
    )
