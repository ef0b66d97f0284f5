"""Scoring, as pure functions: which profiles fire on a declaration's facts, what the permit
findings, intelligence hits and the model add, the random draw, and the lane.

Aggregation: the score is the sum of every reason's points, capped at 100. A profile with a
forced lane sets a floor on the lane (the lane is the most demanding of the score's lane and
every forced one: green < blue < yellow < red). Random selection forces red."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from pangolin_core.contracts.permits import Finding
from pangolin_core.contracts.risk import Lane, RiskReason
from risk_score.assessments.facts import Facts
from risk_score.features.schemas import ModelView
from risk_score.profiles.criteria import Predicate

CONTROLS = (
    "document_review",
    "physical_inspection",
    "non_intrusive_scan",
    "sampling_for_lab_identification",
)
LANE_ORDER: Mapping[str, int] = {"green": 0, "blue": 1, "yellow": 2, "red": 3}
LANE_CONTROLS: Mapping[str, tuple[str, ...]] = {
    "green": (),
    "blue": (),  # post-clearance audit: nothing at the border
    "yellow": ("document_review",),
    "red": ("document_review", "physical_inspection"),
}

# Points of a permit finding: by code where the code says more than its severity, else by
# severity. RISK_UNAVAILABLE is about risk-score itself and gives none.
FINDING_POINTS_BY_CODE: Mapping[str, float] = {
    "PERMIT_NOT_FOUND": 45,
    "PERMIT_MISSING": 45,
    "PERMIT_LOST_OR_STOLEN": 60,
    "PERMIT_CANCELLED": 50,
    "PERMIT_ALREADY_USED": 45,
    "PERMIT_IN_USE_ELSEWHERE": 35,
    "SIGNATURE_INVALID": 60,
    "SECURITY_STAMP_MISMATCH": 45,
    "SPECIES_MISMATCH": 40,
    "QUANTITY_EXCEEDS_BALANCE": 40,
    "TRADE_SUSPENDED": 40,
    "QUOTA_EXCEEDED": 35,
    "PERMIT_EXPIRED": 30,
    "PARTNER_UNAVAILABLE": 10,
    "SPECIES_UNAVAILABLE": 5,
    "RISK_UNAVAILABLE": 0,
}
FINDING_POINTS_BY_SEVERITY: Mapping[str, float] = {"error": 30, "warning": 10, "info": 0}
# Points of an intelligence hit at full confidence; scaled by the record's confidence (0-100).
INTEL_POINTS: Mapping[str, float] = {
    "trader": 50,
    "vessel": 40,
    "route": 25,
    "hub": 15,
    "species": 20,
    "concealment": 30,
}


@dataclass(frozen=True)
class CompiledProfile:
    """An active profile version ready to score: its criteria compiled once."""

    profile_id: str
    version: int
    name: str
    points: float
    forced_lane: Lane | None
    controls: tuple[str, ...]
    selection_percentage: float  # 0-100: the share of matching declarations it selects
    offices: frozenset[str]  # empty: every office
    directions: frozenset[str]  # empty: every direction
    valid_from: date | None
    valid_until: date | None
    predicate: Predicate
    # No office, direction or validity limits: `applies` has nothing to check.
    everywhere: bool = field(init=False)

    def __post_init__(self) -> None:
        limits = (self.offices, self.directions, self.valid_from, self.valid_until)
        object.__setattr__(self, "everywhere", not any(limits))

    def applies(self, facts: Facts, on: date) -> bool:
        if self.everywhere:
            return True
        if self.offices and facts.office not in self.offices:
            return False
        if self.directions and facts.direction not in self.directions:
            return False
        if self.valid_from is not None and on < self.valid_from:
            return False
        return self.valid_until is None or on <= self.valid_until

    def fires(self, facts: Facts, *, on: date, declaration_id: str) -> bool:
        if not self.applies(facts, on) or not self.predicate(facts):
            return False
        if self.selection_percentage >= 100:
            return True
        return draw(declaration_id, self.profile_id) * 100 < self.selection_percentage


@dataclass(frozen=True)
class IntelHit:
    kind: str
    entry_id: str
    record_id: str
    title: str
    confidence: int
    detail: str


@dataclass(frozen=True)
class Thresholds:
    blue_from: float
    yellow_from: float
    red_from: float


@dataclass(frozen=True)
class Scored:
    score: float
    lane: Lane
    controls: list[str]
    random: bool
    # Selected by risk, the random draw aside: the lane would be yellow or red without it.
    targeted: bool
    reasons: list[RiskReason]
    profile_versions: dict[str, int]
    model_version: str | None


def draw(*keys: str) -> float:
    """A uniform number in [0, 1) from `keys`: the same keys always draw the same number."""
    digest = hashlib.sha256("\x1f".join(keys).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def randomly_selected(declaration_id: str, office: str, rate: float) -> bool:
    """The random programme's draw, keyed on the declaration id: a declaration sent again
    draws the same, so re-submitting cannot escape (or re-roll) the random sample."""
    return rate > 0 and draw("random", office, declaration_id) < rate


def finding_points(finding: Finding) -> float:
    return FINDING_POINTS_BY_CODE.get(
        finding.code, FINDING_POINTS_BY_SEVERITY.get(finding.severity, 0)
    )


def lane_for(score: float, thresholds: Thresholds) -> Lane:
    if score >= thresholds.red_from:
        return "red"
    if score >= thresholds.yellow_from:
        return "yellow"
    if score >= thresholds.blue_from:
        return "blue"
    return "green"


def strictest(lanes: Iterable[Lane]) -> Lane:
    return max(lanes, key=LANE_ORDER.__getitem__, default="green")


def score(
    *,
    declaration_id: str,
    on: date,
    facts: Facts,
    findings: Sequence[Finding],
    profiles: Sequence[CompiledProfile],
    intel_hits: Sequence[IntelHit],
    model: ModelView | None,
    model_points: float,
    random: bool,
    thresholds: Thresholds,
) -> Scored:
    reasons: list[RiskReason] = []
    forced: list[Lane] = []
    controls: set[str] = set()
    fired: dict[str, int] = {}
    for profile in profiles:
        if not profile.fires(facts, on=on, declaration_id=declaration_id):
            continue
        fired[profile.profile_id] = profile.version
        controls.update(profile.controls)
        if profile.forced_lane is not None:
            forced.append(profile.forced_lane)
        detail = f"version {profile.version}"
        if profile.forced_lane is not None:
            detail += f"; forces lane {profile.forced_lane}"
        reasons.append(
            RiskReason.model_construct(
                source="profile",
                id=profile.profile_id,
                title=profile.name,
                points=profile.points,
                detail=detail,
            )
        )
    for finding in findings:
        points = finding_points(finding)
        if points > 0:
            reasons.append(
                RiskReason.model_construct(
                    source="finding",
                    id=finding.code,
                    title=finding.message,
                    points=points,
                    detail=finding.field,
                )
            )
    for hit in intel_hits:
        points = round(INTEL_POINTS.get(hit.kind, 0) * hit.confidence / 100, 1)
        reasons.append(
            RiskReason.model_construct(
                source="intel",
                id=hit.entry_id,
                title=f"Watchlist {hit.kind}: {hit.title}",
                points=points,
                detail=hit.detail,
            )
        )
    if model is not None and model_points > 0:
        top = ", ".join(f"{name} {value:+.2f}" for name, value in model.contributions[:3])
        reasons.append(
            RiskReason.model_construct(
                source="model",
                id=model.model_version,
                title=f"Learned model: {model.probability:.0%} probability of non-compliance",
                points=round(model.probability * model_points, 1),
                detail=top or None,
            )
        )
    if random:
        reasons.append(
            RiskReason.model_construct(
                source="random",
                id=None,
                title="Random selection for compliance measurement",
                points=0,
                detail="the random sample is inspected physically so that it measures compliance",
            )
        )
    total = min(100.0, max(0.0, round(sum(r.points for r in reasons), 1)))
    risk_lane = strictest([lane_for(total, thresholds), *forced])
    lane = strictest([risk_lane, "red"]) if random else risk_lane
    controls.update(LANE_CONTROLS[lane])
    return Scored(
        score=total,
        lane=lane,
        controls=[c for c in CONTROLS if c in controls],
        random=random,
        targeted=LANE_ORDER[risk_lane] >= LANE_ORDER["yellow"],
        reasons=reasons,
        profile_versions=fired,
        model_version=model.model_version if model is not None else None,
    )
