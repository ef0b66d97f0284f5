"""Features from a small fixed trade history: exact values, smoothing, no leakage."""

from __future__ import annotations

import math
from datetime import date

import pytest

from risk_history_support import declaration
from risk_score.features.schemas import FEATURE_CATALOGUE
from risk_score.features.service import PRIOR_WEIGHT, TradeHistoryFeatures, smoothed_rate
from risk_score.history.aggregate import TradeHistory
from risk_score.history.schemas import TradeRecord, normalised_name, trader_key
from risk_score.models.training import replay


def add(history: TradeHistory, decl_id: str, *, label: bool | None = None, **kw: object) -> None:
    history.add_declaration(TradeRecord.from_declaration(declaration(decl_id, **kw)))  # type: ignore[arg-type]
    if label is not None:
        history.add_outcome(decl_id, non_compliant=label)


@pytest.fixture
def history() -> TradeHistory:
    """Six past declarations: five by Savannah Reptiles (one non-compliant), one by another
    exporter of another species; quantities 10, 12, 10, 14, 10 of Python regius from KE."""
    h = TradeHistory()
    for i, quantity in enumerate(["10", "12", "10", "14", "10"]):
        add(h, f"D{i}", on=date(2026, 1, 1 + i), quantity=quantity, label=(i == 1), value_usd="100")
    add(
        h,
        "X1",
        on=date(2026, 1, 3),
        species="Testudo graeca",
        exporter="Other Co",
        origin="TZ",
        label=False,
    )
    return h


def test_every_catalogue_feature_has_its_exact_value(history: TradeHistory) -> None:
    features = TradeHistoryFeatures(history).features_for(
        declaration("NEW", on=date(2026, 1, 20), quantity="100", value_usd="50"), []
    )
    assert set(features) == set(FEATURE_CATALOGUE)
    prior = (1 + 1) / (6 + 2)  # 1 non-compliant of 6 labelled, Laplace-smoothed
    assert features["exporter_declarations"] == 5
    assert features["exporter_first_seen_days"] == 19
    assert features["exporter_non_compliance_rate"] == pytest.approx(
        (1 + PRIOR_WEIGHT * prior) / (5 + PRIOR_WEIGHT)
    )
    assert features["importer_declarations"] == 6
    assert features["new_exporter"] is False
    assert features["new_importer"] is False
    assert features["new_route"] is False
    assert features["new_species_for_trader"] is False
    assert features["new_species"] is False
    assert features["species_declarations"] == 5
    assert features["species_non_compliance_rate"] == pytest.approx((1 + 10 * prior) / 15)
    # the office saw all six, one non-compliant
    assert features["office_non_compliance_rate"] == pytest.approx((1 + 10 * prior) / 16)
    # log quantities: median log 10, MAD of (0, log 1.2, 0, log 1.4, 0) = 0
    # -> spread floored at 0.05: z = log(100 / 10) / 0.05
    assert features["quantity_zscore"] == pytest.approx(math.log(10) / 0.05)
    # unit values 10, 8.33, 10, 7.14, 10 USD -> median 10; this one 0.5 USD
    assert features["unit_value_ratio"] == pytest.approx(0.05)
    assert features["lines"] == 1
    assert features["total_value_usd"] == 50.0


def test_a_new_trader_species_and_route_read_as_new(history: TradeHistory) -> None:
    features = TradeHistoryFeatures(history).features_for(
        declaration(
            "NEW", exporter="Unknown Exports", species="Chamaeleo calyptratus", origin="MG"
        ),
        [],
    )
    assert features["exporter_declarations"] == 0
    assert features["exporter_first_seen_days"] is None
    assert features["new_exporter"] is True
    assert features["new_route"] is True
    assert features["new_species"] is True
    assert features["new_species_for_trader"] is True
    assert features["quantity_zscore"] is None  # no history of that taxon
    prior = 2 / 8
    assert features["exporter_non_compliance_rate"] == pytest.approx(prior)  # the prior alone


def test_an_unnamed_exporter_gives_unknown_not_new() -> None:
    features = TradeHistoryFeatures(TradeHistory()).features_for(
        declaration("A", exporter=None), []
    )
    assert features["new_exporter"] is None
    assert features["exporter_declarations"] is None
    assert features["new_importer"] is True


def test_smoothing_pulls_a_thin_history_toward_the_global_rate() -> None:
    prior = 0.05
    assert smoothed_rate(0, 0, prior) == prior
    one_bad = smoothed_rate(1, 1, prior)
    assert prior < one_bad < 0.2  # one seizure is not a 100 % rate
    many_bad = smoothed_rate(100, 100, prior)
    assert many_bad > 0.9
    assert smoothed_rate(1, 1, prior, weight=0) == 1.0


def test_features_are_computed_before_the_declaration_joins_the_history() -> None:
    """Replay: the first declaration of a trader reads as new, and a seizure's own outcome
    never raises its own rates."""
    records = [
        (TradeRecord.from_declaration(declaration("A", on=date(2026, 1, 1))), True),
        (TradeRecord.from_declaration(declaration("B", on=date(2026, 1, 2))), False),
    ]
    history = TradeHistory()
    rows = replay(records, history)
    assert rows[0].features["new_exporter"] is True
    assert rows[0].features["exporter_declarations"] == 0
    assert rows[0].features["exporter_non_compliance_rate"] == pytest.approx(0.5)  # prior only
    assert rows[1].features["exporter_declarations"] == 1
    # B sees A's seizure: (1 + 10 * 2/3) / (1 + 10)
    assert rows[1].features["exporter_non_compliance_rate"] == pytest.approx((1 + 10 * 2 / 3) / 11)
    # the history holds both only now
    assert history.tally("exporter", trader_key("Savannah Reptiles Ltd", "KE") or "").labelled == 2


def test_adding_and_correcting_outcomes_is_idempotent() -> None:
    history = TradeHistory()
    record = TradeRecord.from_declaration(declaration("A"))
    assert history.add_declaration(record) is True
    assert history.add_declaration(record) is False
    assert history.add_outcome("A", non_compliant=True) is True
    assert history.add_outcome("A", non_compliant=False) is True  # corrected
    assert (history.labelled, history.non_compliant) == (1, 0)
    assert history.add_outcome("unknown", non_compliant=True) is False


def test_names_are_normalised() -> None:
    assert normalised_name("  Savannah  Reptiles LTD. ") == "savannah reptiles"
    assert normalised_name("Société Exotique S.A.") == "societe exotique s a"
    assert trader_key("Savannah Reptiles Ltd", "KE") == trader_key("SAVANNAH reptiles", "KE")
    assert trader_key("Ltd", "KE") is None


def test_an_outcome_read_late_never_replaces_one_recorded_after_it() -> None:
    """A replica's refresh can read A2's first outcome after this replica applied A2's
    correction at commit: the correction stays (the label goes by when it was recorded)."""
    from datetime import UTC, datetime, timedelta

    history = TradeHistory()
    record = TradeRecord.from_declaration(declaration("A2"))
    history.add_declaration(record)
    first = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    history.add_outcome("A2", non_compliant=True, recorded_at=first + timedelta(seconds=1))
    history.add_outcome("A2", non_compliant=False, recorded_at=first.replace(tzinfo=None))
    assert (history.labelled, history.non_compliant) == (1, 1)
    history.add_outcome("A2", non_compliant=False, recorded_at=first + timedelta(seconds=2))
    assert (history.labelled, history.non_compliant) == (1, 0)
