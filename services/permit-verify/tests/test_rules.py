"""The registry's pure rules: validity per document type, codes, appendix-purpose-source,
when a permit can be endorsed and the status that follows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.contracts.species import ExportQuota, RestrictionTaxon
from permit_verify.permits.rules import (
    BACK_FILL_DAYS,
    IssuedQuantity,
    add_months,
    appendix_problems,
    as_back_filled_warnings,
    closed_reason,
    is_back_filled,
    issue_problems,
    quota_used,
    quota_year,
    status_after_endorsement,
)
from permit_verify.permits.schemas import PermitIn, PermitStatus, PermitType

CODES = read_code_lists()
TODAY = date(2026, 12, 6)


def permit(**changes: Any) -> PermitIn:
    item: dict[str, Any] = {
        "item_id": "A",
        "species": "Python regius",
        "term": "LIV",
        "appendix": "II",
        "source": "C",
        "quantity": "100",
        "origin_country": "KE",
    }
    item.update(changes.pop("item", {}))
    body: dict[str, Any] = {
        "number": "KE/2026/E/1",
        "type": "export",
        "issuing_country": "KE",
        "issued_on": "2026-11-01",
        "valid_until": "2027-04-30",
        "exporter": {"name": "Savannah Reptiles Ltd", "country": "KE"},
        "importer": {"name": "Hanoi Pet Trading Co", "country": "VN"},
        "purpose": "T",
        "items": [item],
    }
    body.update(changes)
    return PermitIn.model_validate(body)


def fields(permit_in: PermitIn) -> list[str]:
    return [p["field"] for p in issue_problems(permit_in, codes=CODES, today=TODAY)]


def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month() -> None:
    assert add_months(date(2026, 11, 1), 6) == date(2027, 5, 1)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 15), 36) == date(2029, 1, 15)


def test_the_issue_example_passes() -> None:
    assert fields(permit()) == []


@pytest.mark.parametrize(
    ("kind", "months", "purpose", "party"),
    [
        ("export", 6, "T", None),
        ("re_export", 6, "T", None),
        ("import", 12, "T", "VN"),
        ("certificate_of_origin", 12, "T", None),
        ("travelling_exhibition", 36, "Q", None),
        ("musical_instrument", 36, "P", None),
        ("personal_ownership", 36, "P", None),
    ],
)
def test_validity_up_to_the_maximum_of_the_document_type(
    kind: str, months: int, purpose: str, party: str | None
) -> None:
    issued = date(2026, 6, 15)
    last = add_months(issued, months)
    changes: dict[str, Any] = {"type": kind, "purpose": purpose, "issued_on": issued.isoformat()}
    if party:  # an import permit is the importer's country's
        changes["issuing_country"] = party
    assert fields(permit(**changes, valid_until=last.isoformat())) == []
    too_long = permit(**changes, valid_until=(last + timedelta(days=1)).isoformat())
    problems = issue_problems(too_long, codes=CODES, today=TODAY)
    assert [(p["field"], p["type"]) for p in problems] == [("valid_until", "validity_too_long")]
    assert f"at most {months} months" in problems[0]["message"]


def test_an_expired_back_filled_permit_keeps_its_dates() -> None:
    assert fields(permit(issued_on="2019-03-01", valid_until="2019-08-31")) == []


def test_dates_out_of_order_or_in_the_future() -> None:
    assert fields(permit(issued_on="2026-11-01", valid_until="2026-10-01")) == ["valid_until"]
    assert fields(permit(issued_on="2027-01-10", valid_until="2027-02-01")) == ["issued_on"]


def test_codes_outside_the_cites_lists_are_named() -> None:
    bad = permit(
        purpose="X",
        importer={"name": "x", "country": "QQ"},
        item={"term": "ZZZ", "source": "K", "unit": "XYZ", "origin_country": "QQ"},
    )
    assert sorted(fields(bad)) == sorted(
        [
            "importer.country",
            "purpose",
            "items[0].term",
            "items[0].source",
            "items[0].unit",
            "items[0].origin_country",
        ]
    )


def test_source_y_and_units_are_known_codes() -> None:
    assert fields(permit(item={"source": "Y", "unit": "KIL", "term": "TIM"})) == []


def test_appendix_i_wild_specimens_are_not_traded_for_commerce() -> None:
    problems = issue_problems(
        permit(item={"appendix": "I", "source": "W"}), codes=CODES, today=TODAY
    )
    assert [(p["field"], p["type"]) for p in problems] == [("purpose", "purpose_not_allowed")]
    assert "Appendix I" in problems[0]["message"] and "items[0]" in problems[0]["message"]
    # ... nor for commerce when of unknown origin; but for science, and when bred in captivity
    assert fields(permit(item={"appendix": "I", "source": "U"})) == ["purpose"]
    assert fields(permit(purpose="S", item={"appendix": "I", "source": "W"})) == []
    assert fields(permit(item={"appendix": "I", "source": "D"})) == []
    assert fields(permit(item={"appendix": "II", "source": "W"})) == []


def test_sources_bound_to_an_appendix_or_a_certificate() -> None:
    assert fields(permit(item={"appendix": "II", "source": "D"})) == ["items[0].source"]
    assert (
        appendix_problems(
            appendix="II",
            source="W",
            purpose="T",
            document=PermitType.PRE_CONVENTION,
            at="items[0]",
        )[0]["field"]
        == "items[0].source"
    )
    assert (
        fields(permit(type="pre_convention", item={"source": "O"}, valid_until="2027-04-30")) == []
    )


def test_document_rules_on_parties_purpose_and_items() -> None:
    assert fields(permit(exporter={"name": "x", "country": "TZ"})) == ["exporter.country"]
    assert fields(permit(type="import")) == ["importer.country"]
    assert fields(permit(type="personal_ownership", valid_until="2027-04-30")) == ["purpose"]
    assert fields(permit(type="re_export", item={"origin_country": None})) == [
        "items[0].origin_country"
    ]
    two = permit()
    two.items.append(two.items[0])
    assert fields(two) == ["items[1].item_id"]


def test_when_a_permit_can_be_endorsed() -> None:
    dates = {"issued_on": date(2026, 11, 1), "valid_until": date(2027, 4, 30)}
    assert closed_reason(status=PermitStatus.VALID, on=date(2027, 4, 30), **dates) is None
    assert closed_reason(status=PermitStatus.PARTIALLY_USED, on=date(2026, 11, 1), **dates) is None
    assert "expired on 2027-04-30" in str(
        closed_reason(status=PermitStatus.VALID, on=date(2027, 5, 1), **dates)
    )
    assert "valid from" in str(
        closed_reason(status=PermitStatus.VALID, on=date(2026, 10, 31), **dates)
    )
    for status in ("used", "cancelled", "lost", "stolen", "replaced"):
        reason = closed_reason(status=PermitStatus(status), on=date(2026, 12, 1), **dates)
        assert reason == f"the permit is {status}"


def test_the_status_that_follows_an_endorsement() -> None:
    some, none = [Decimal(0), Decimal("0.5")], [Decimal(0), Decimal(0)]
    assert status_after_endorsement(PermitType.EXPORT, some) is PermitStatus.USED
    assert status_after_endorsement(PermitType.IMPORT, some) is PermitStatus.USED
    exhibition = PermitType.TRAVELLING_EXHIBITION
    assert status_after_endorsement(exhibition, some) is PermitStatus.PARTIALLY_USED
    assert status_after_endorsement(exhibition, none) is PermitStatus.USED


def leopard_quota(**changes: Any) -> ExportQuota:
    fields: dict[str, Any] = {
        "id": 7,
        "taxon": RestrictionTaxon(name="Panthera pardus", rank="SPECIES", taxon_id=8619),
        "country": "TZ",
        "start_date": date(1997, 6, 11),
        "end_date": None,
        "quota": Decimal(500),
        "units": [],
        "terms": ["SKI", "TRO"],
        "sources": [],
        "purposes": ["H", "P"],
        "quota_type": "CoP_approved",
        "notes": None,
        "source": "sapi",
    }
    return ExportQuota.model_validate(fields | changes)


def test_a_quota_year_is_the_calendar_year_within_the_quota_s_dates() -> None:
    quota = leopard_quota()
    assert quota_year(quota, date(2026, 12, 6)) == (date(2026, 1, 1), date(2026, 12, 31))
    starts = leopard_quota(start_date=date(2026, 3, 1), end_date=date(2026, 10, 1))
    assert quota_year(starts, date(2026, 5, 1)) == (date(2026, 3, 1), date(2026, 9, 30))


def test_quota_use_counts_the_taxa_in_scope_in_the_year_in_the_quota_s_unit() -> None:
    def held(quantity: int, **changes: Any) -> IssuedQuantity:
        fields: dict[str, Any] = {
            "taxon_id": 8619,
            "term": "TRO",
            "source": "W",
            "purpose": "H",
            "unit": None,
            "issued_on": date(2026, 6, 1),
            "quantity": Decimal(quantity),
        }
        return IssuedQuantity(**(fields | changes))

    issued = [
        held(100),
        held(20, term="SKI"),
        held(1000, term="LIV"),  # outside the quota's terms
        held(1000, purpose="T"),  # outside its purposes
        held(1000, unit="KIL"),  # the quota counts specimens
        held(1000, issued_on=date(2025, 12, 31)),  # last year's
        held(1000, taxon_id=1),  # another taxon
    ]
    used = quota_used(leopard_quota(), taxa={8619}, issued=issued, on=date(2026, 12, 6))
    assert used == Decimal(120)


def test_back_filled_is_more_than_a_week_before_today_and_keeps_refusals_as_warnings() -> None:
    assert not is_back_filled(
        permit(issued_on=(TODAY - timedelta(days=BACK_FILL_DAYS)).isoformat()), today=TODAY
    )
    assert is_back_filled(
        permit(issued_on=(TODAY - timedelta(days=BACK_FILL_DAYS + 1)).isoformat()), today=TODAY
    )
    problem = {"field": "items[0]", "message": "a suspension", "type": "trade_suspended"}
    assert as_back_filled_warnings([problem]) == [
        {
            "code": "TRADE_SUSPENDED",
            "message": "back-filled permit stored as issued: a suspension",
            "field": "items[0]",
        }
    ]
