"""Scoring as pure functions: points add up (capped at 100), lanes follow the configurable
thresholds, forced lanes and the random draw set a floor, controls follow, profiles apply by
office, direction, validity window and selection percentage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from pangolin_core.contracts.permits import Finding
from risk_score.assessments.facts import Facts
from risk_score.assessments.scoring import (
    CompiledProfile,
    IntelHit,
    Scored,
    Thresholds,
    draw,
    finding_points,
    lane_for,
    randomly_selected,
    score,
)
from risk_score.features.schemas import ModelView
from risk_score.profiles.criteria import compile_criteria
from risk_score.settings import RiskScoreSettings

TODAY = date(2026, 12, 6)
THRESHOLDS = Thresholds(blue_from=20, yellow_from=35, red_from=60)
FACTS = Facts(direction="export", office="KEMBA", export_country="NG", transit=frozenset({"AE"}))


def profile(profile_id: str = "p1", points: float = 30, **changes: Any) -> CompiledProfile:
    base = CompiledProfile(
        profile_id=profile_id,
        version=1,
        name=f"profile {profile_id}",
        points=points,
        forced_lane=None,
        controls=(),
        selection_percentage=100,
        offices=frozenset(),
        directions=frozenset(),
        valid_from=None,
        valid_until=None,
        predicate=compile_criteria({"transit_through": ["AE"]}),
    )
    return replace(base, **changes)


def run(**kwargs: Any) -> Scored:
    args: dict[str, Any] = {
        "declaration_id": "D1",
        "on": TODAY,
        "facts": FACTS,
        "findings": [],
        "profiles": [],
        "intel_hits": [],
        "model": None,
        "model_points": 40,
        "random": False,
        "thresholds": THRESHOLDS,
    }
    args.update(kwargs)
    return score(**args)


@pytest.mark.parametrize(
    ("points", "lane"),
    [
        (0, "green"),
        (19.9, "green"),
        (20, "blue"),
        (34.9, "blue"),
        (35, "yellow"),
        (59.9, "yellow"),
        (60, "red"),
        (100, "red"),
    ],
)
def test_lane_thresholds(points: float, lane: str) -> None:
    assert lane_for(points, THRESHOLDS) == lane


def test_thresholds_come_from_settings_and_must_be_ordered() -> None:
    settings = RiskScoreSettings(blue_from=10, yellow_from=15, red_from=50)
    assert (
        lane_for(12, Thresholds(settings.blue_from, settings.yellow_from, settings.red_from))
        == "blue"
    )
    with pytest.raises(ValueError, match="blue_from <= yellow_from <= red_from"):
        RiskScoreSettings(yellow_from=70, red_from=60)


def test_points_add_up_and_the_score_is_capped_at_100() -> None:
    result = run(profiles=[profile("a", 30), profile("b", 25)])
    assert result.score == 55 and result.lane == "yellow"
    assert [r.id for r in result.reasons] == ["a", "b"]
    assert result.profile_versions == {"a": 1, "b": 1}
    assert result.controls == ["document_review"]
    capped = run(profiles=[profile("a", 80), profile("b", 80)])
    assert capped.score == 100 and capped.lane == "red"
    assert capped.controls == ["document_review", "physical_inspection"]
    assert capped.targeted


def test_a_profile_that_does_not_match_gives_nothing() -> None:
    other = replace(FACTS, transit=frozenset({"HK"}))
    result = run(facts=other, profiles=[profile()])
    assert result.score == 0 and result.lane == "green" and result.reasons == []
    assert not result.targeted


def test_a_forced_lane_is_a_floor_and_controls_are_the_profiles_plus_the_lanes() -> None:
    forced = profile(points=0, forced_lane="red", controls=("sampling_for_lab_identification",))
    result = run(profiles=[forced])
    assert result.score == 0 and result.lane == "red"
    assert result.controls == [
        "document_review",
        "physical_inspection",
        "sampling_for_lab_identification",
    ]
    assert result.reasons[0].detail == "version 1; forces lane red"
    # A lower forced lane never lowers the score's lane.
    result = run(profiles=[profile("a", 70), profile("b", 0, forced_lane="blue")])
    assert result.lane == "red"


def test_profiles_apply_by_office_direction_and_validity() -> None:
    assert not run(profiles=[profile(offices=frozenset({"KENBO"}))]).reasons
    assert run(profiles=[profile(offices=frozenset({"KEMBA"}))]).reasons
    assert not run(profiles=[profile(directions=frozenset({"import"}))]).reasons
    assert not run(profiles=[profile(valid_from=date(2026, 12, 7))]).reasons
    assert not run(profiles=[profile(valid_until=date(2026, 12, 5))]).reasons
    assert run(profiles=[profile(valid_from=TODAY, valid_until=TODAY)]).reasons


def test_selection_percentage_selects_that_share_reproducibly() -> None:
    half = profile(selection_percentage=50)
    fired = [bool(run(declaration_id=f"D{n}", profiles=[half]).reasons) for n in range(2000)]
    assert 900 < sum(fired) < 1100
    again = [bool(run(declaration_id=f"D{n}", profiles=[half]).reasons) for n in range(2000)]
    assert fired == again


def test_findings_points_by_code_then_by_severity() -> None:
    def finding(code: str, severity: str) -> Finding:
        return Finding(code=code, severity=severity, message=code)  # type: ignore[arg-type]

    assert finding_points(finding("PERMIT_LOST_OR_STOLEN", "error")) == 60
    assert finding_points(finding("SOMETHING_NEW", "error")) == 30
    assert finding_points(finding("SOMETHING_NEW", "warning")) == 10
    assert finding_points(finding("RISK_UNAVAILABLE", "warning")) == 0
    result = run(findings=[finding("PERMIT_EXPIRED", "error"), finding("X", "info")])
    assert [(r.source, r.id, r.points) for r in result.reasons] == [
        ("finding", "PERMIT_EXPIRED", 30)
    ]
    assert result.lane == "blue"


def test_intel_hits_are_weighted_by_confidence_and_the_model_by_probability() -> None:
    hit = IntelHit(
        kind="trader",
        entry_id="r1:trader:1",
        record_id="r1",
        title="Known broker",
        confidence=80,
        detail="exporter",
    )
    model = ModelView(model_version="m3", probability=0.5, contributions=(("new_exporter", 0.8),))
    result = run(intel_hits=[hit], model=model)
    assert [(r.source, r.points) for r in result.reasons] == [("intel", 40.0), ("model", 20.0)]
    assert result.score == 60 and result.lane == "red" and result.model_version == "m3"
    assert result.reasons[1].detail == "new_exporter +0.80"
    assert run(model=model, model_points=0).reasons == []


def test_random_selection_forces_red_without_points_and_is_not_targeting() -> None:
    result = run(random=True)
    assert result.lane == "red" and result.score == 0 and result.random
    assert result.reasons[0].source == "random"
    assert not result.targeted


def test_the_random_draw_is_keyed_on_the_declaration_and_has_the_rate() -> None:
    chosen = [randomly_selected(f"D{n}", "KEMBA", 0.02) for n in range(20000)]
    assert 320 < sum(chosen) < 480
    assert chosen == [randomly_selected(f"D{n}", "KEMBA", 0.02) for n in range(20000)]
    assert not any(randomly_selected(f"D{n}", "KEMBA", 0.0) for n in range(1000))
    assert all(randomly_selected(f"D{n}", "KEMBA", 1.0) for n in range(1000))
    assert 0 <= draw("a") < 1 and draw("a") != draw("b")
    assert RiskScoreSettings(random_rate_by_office={"KEMBA": 0.1}).random_rate_for("KEMBA") == 0.1
    assert RiskScoreSettings().random_rate_for("ELSE") == 0.02
