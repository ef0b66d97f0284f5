"""The verification rules without I/O: names, item matching, quotas, verdicts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pangolin_core.contracts.permits import Declaration, Finding
from pangolin_core.contracts.species import (
    ExportQuota,
    RequiredDocuments,
    RestrictionTaxon,
    SpeciesStatus,
    StatusQuery,
)
from permit_verify.permits.schemas import Party, PermitItemOut, PermitOut, PermitStatus, PermitType
from permit_verify.verifications.rules import (
    LineFacts,
    OtherDeclaration,
    declaration_verdict,
    line_findings,
    line_verdict,
    matched_item,
    name_similarity,
    normalised_name,
)
from permit_verify.verifications.service import RegistryFacts, status_queries

ON = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("Hanoi Pet Trading Co., Ltd.", "hanoi pet trading company limited"),
        ("HANOI PET TRADING COMPANY LIMITED", "hanoi pet trading company limited"),
        ("Société Générale d'Élevage & Cie", "societe generale d elevage and company"),
        ("  Savannah   Reptiles-Ltd ", "savannah reptiles limited"),
    ],
)
def test_names_are_normalised(name: str, normal: str) -> None:
    assert normalised_name(name) == normal


def test_name_similarity_ignores_word_order_and_company_forms() -> None:
    assert name_similarity("Reptiles Savannah Limited", "Savannah Reptiles Ltd") == 100
    assert name_similarity("Savannah Reptiles Ltd", "Nairobi Wildlife Traders") < 75


def _item(item_id: str = "A", **changes: Any) -> PermitItemOut:
    values: dict[str, Any] = {
        "item_id": item_id,
        "species": "Python regius",
        "taxon_id": None,
        "description": None,
        "term": "LIV",
        "appendix": "II",
        "source": "C",
        "quantity": Decimal(100),
        "unit": None,
        "origin_country": "KE",
        "origin_permit": None,
        "reexport_certificate": None,
        "balance": Decimal(100),
    }
    return PermitItemOut.model_validate(values | changes)


def _permit(*items: PermitItemOut, **changes: Any) -> PermitOut:
    values: dict[str, Any] = {
        "id": "p-1",
        "number": "KE/2026/E/1",
        "type": PermitType.EXPORT,
        "issuing_country": "KE",
        "issuing_authority": None,
        "security_stamp": None,
        "issued_on": date(2026, 11, 1),
        "valid_until": date(2027, 4, 30),
        "exporter": Party(name="Savannah Reptiles Ltd", country="KE"),
        "importer": Party(name="Hanoi Pet Trading Co", country="VN"),
        "purpose": "T",
        "special_conditions": None,
        "status": PermitStatus.VALID,
        "items": list(items) or [_item()],
        "signature": "not-checked-here",
        "signing_key_id": "k",
        "version": 1,
        "created_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    return PermitOut.model_validate(values | changes)


def _declaration(**line: Any) -> Declaration:
    return Declaration.model_validate(
        {
            "declaration_id": "D-1",
            "direction": "export",
            "declared_on": ON,
            "office": "KEMBA",
            "countries": {"export": "KE", "import": "VN", "origin": "KE"},
            "lines": [
                {
                    "line_no": 1,
                    "permit": None,
                    "species": "Python regius",
                    "term": "LIV",
                    "quantity": "60",
                    "source": "C",
                    "purpose": "T",
                }
                | line
            ],
        }
    )


def _status(**changes: Any) -> SpeciesStatus:
    values: dict[str, Any] = {
        "query": StatusQuery(name="Python regius"),
        "taxon_id": 5467,
        "full_name": "Python regius",
        "rank": "SPECIES",
        "match_type": "EXACT",
        "match_confidence": 100,
        "as_of": ON,
        "country": "KE",
        "listed": True,
        "appendix": "II",
        "determined_by": "single_listing",
        "reason": "one listing in force",
        "listings": [],
        "documents": RequiredDocuments(
            export_document="export_permit",
            export_document_options=["export_permit"],
            import_permit=False,
            appendix_iii_parties=[],
            determined=True,
            reason="Appendix II",
        ),
    }
    return SpeciesStatus.model_validate(values | changes)


def _quota(quota: str, units: list[str]) -> ExportQuota:
    return ExportQuota(
        id=7,
        taxon=RestrictionTaxon(name="Python regius", rank="SPECIES", taxon_id=5467),
        country="KE",
        start_date=date(2026, 1, 1),
        end_date=None,
        quota=Decimal(quota),
        units=units,
        terms=[],
        sources=[],
        purposes=[],
        quota_type=None,
        notes=None,
        source="test",
    )


def test_the_item_is_the_same_taxon_preferring_the_same_term() -> None:
    permit = _permit(_item("A", species="Boa regia"), _item("B", species="Boa regia", term="SKI"))
    line = _declaration(term="SKI").lines[0]
    taxa = {"Boa regia": 5467}
    item = matched_item(line, permit, _status(), taxa)
    assert item is not None and item.item_id == "B"
    # Without species-ref's taxa, the names differ: no item.
    assert matched_item(line, permit, None, {}) is None


@pytest.mark.parametrize(
    ("quota", "units", "quantity", "used", "fires"),
    [
        ("0", [], "1", {}, True),
        ("50", [], "60", {}, True),
        ("100", [], "60", {}, False),
        ("100", [], "60", {7: Decimal(40)}, False),  # exactly the quota
        ("100", [], "60", {7: Decimal(41)}, True),
        ("100", [], "60", {8: Decimal(99)}, False),  # another quota's use
        ("100", [], "60", None, False),  # use not counted: the line alone
        ("50", ["KIL"], "60", {}, False),  # another unit: not compared
    ],
)
def test_quotas(
    quota: str, units: list[str], quantity: str, used: dict[int, Decimal] | None, fires: bool
) -> None:
    declaration = _declaration(quantity=quantity)
    facts = LineFacts(
        index=0,
        line=declaration.lines[0],
        permit=None,
        import_permit=None,
        status=_status(quotas=[_quota(quota, units)]),
        species_answered=True,
        quota_used=used,
    )
    codes = {f.code for f in line_findings(declaration, facts, home_country="KE")}
    # No permit on the line: a listed species needs one.
    assert codes == ({"QUOTA_EXCEEDED"} if fires else set()) | {"PERMIT_MISSING"}


def test_an_endorsed_multi_use_certificate_is_not_in_use_elsewhere() -> None:
    declaration = _declaration(permit={"number": "KE/2026/E/1", "issuing_country": "KE"})
    others = [OtherDeclaration("D-0", endorsed=True), OtherDeclaration("D-2", endorsed=False)]

    def codes(document: PermitType) -> list[tuple[str, str]]:
        facts = LineFacts(
            index=0,
            line=declaration.lines[0],
            permit=_permit(type=document),
            import_permit=None,
            status=_status(),
            species_answered=True,
            other_declarations=others,
        )
        found = line_findings(declaration, facts, home_country="KE")
        return [(f.code, f.severity) for f in found if f.code == "PERMIT_IN_USE_ELSEWHERE"]

    assert codes(PermitType.EXPORT) == [
        ("PERMIT_IN_USE_ELSEWHERE", "error"),
        ("PERMIT_IN_USE_ELSEWHERE", "warning"),
    ]
    assert codes(PermitType.MUSICAL_INSTRUMENT) == [("PERMIT_IN_USE_ELSEWHERE", "warning")]


def _f(code: str, severity: str) -> Finding:
    return Finding.model_validate({"code": code, "severity": severity, "message": "m"})


def test_verdicts() -> None:
    assert line_verdict([]) == "valid"
    assert line_verdict([_f("X", "info")]) == "valid"
    assert line_verdict([_f("SPECIES_UNAVAILABLE", "warning")]) == "discrepancies"
    assert line_verdict([_f("PARTNER_UNAVAILABLE", "warning")]) == "unverifiable"
    assert line_verdict([_f("PARTNER_UNAVAILABLE", "warning"), _f("X", "error")]) == "invalid"
    assert declaration_verdict(["valid", "discrepancies"]) == "discrepancies"
    assert declaration_verdict(["discrepancies", "unverifiable", "valid"]) == "unverifiable"
    assert declaration_verdict(["unverifiable", "invalid"]) == "invalid"


def test_species_ref_is_asked_only_for_item_names_not_resolved_at_issue() -> None:
    """A permit item resolved when it was issued keeps its taxon; the others are asked in the
    declaration's one batch, as the trading State sees them (small answers)."""
    resolved = _item("A", species="Python regius", taxon_id=5467)
    unresolved = _item("B", species="Boa regia")
    registry = RegistryFacts({("KE", "KE/2026/E/1"): _permit(resolved, unresolved)}, {})
    assert registry.known_taxa() == {"Python regius": 5467}
    assert registry.item_species() == ["Boa regia"]

    queries = status_queries(_declaration(), registry.item_species())
    assert [q.name for q in queries] == ["Python regius", "Boa regia"]  # the line, then B
    item_query = queries[1]
    assert (item_query.country, item_query.direction, item_query.as_of) == ("KE", "export", ON)
