"""Which appendix applies, on real split listings of the 2017 checklist."""

from __future__ import annotations

from datetime import date

import pytest

from species_ref.checklist import ChecklistTaxon, read_checklist
from species_ref.codes.service import CodeListName, read_code_lists
from species_ref.seed import CHECKLIST
from species_ref.status.rules import (
    Determination,
    Listing,
    applicable_appendix,
    in_force,
    population_rule,
)

COUNTRIES = frozenset(read_code_lists().lists[CodeListName.COUNTRIES])


@pytest.fixture(scope="module")
def checklist() -> dict[str, ChecklistTaxon]:
    wanted = {
        "Loxodonta africana",
        "Ursus arctos",
        "Crocodylus acutus",
        "Python regius",
        "Anodorhynchus hyacinthinus",
    }
    return {t.full_name: t for t in read_checklist(CHECKLIST) if t.full_name in wanted}


def snapshot_listings(taxon: ChecklistTaxon) -> list[Listing]:
    return [Listing(a, "addition", None, True, taxon.annotations.get(a)) for a in taxon.appendices]


@pytest.mark.parametrize(
    ("name", "country", "appendix", "determined_by"),
    [
        ("Python regius", None, "II", Determination.SINGLE_LISTING),
        ("Python regius", "GH", "II", Determination.SINGLE_LISTING),
        ("Loxodonta africana", "KE", "I", Determination.POPULATION_CODES),
        ("Loxodonta africana", "BW", "II", Determination.POPULATION_CODES),
        ("Loxodonta africana", "ZW", "II", Determination.POPULATION_CODES),
        ("Loxodonta africana", None, None, Determination.COUNTRY_NEEDED),
        ("Ursus arctos", "CN", "I", Determination.POPULATION_CODES),
        ("Ursus arctos", "RU", "II", Determination.POPULATION_CODES),
        ("Crocodylus acutus", "CU", "II", Determination.POPULATION_CODES),
        ("Crocodylus acutus", "MX", "I", Determination.POPULATION_CODES),
        ("Crocodylus acutus", "CO", None, Determination.UNDETERMINED),
        ("Anodorhynchus hyacinthinus", "BR", None, Determination.UNDETERMINED),
    ],
)
def test_the_appendix_that_applies_to_a_specimen(
    checklist: dict[str, ChecklistTaxon],
    name: str,
    country: str | None,
    appendix: str | None,
    determined_by: Determination,
) -> None:
    listings = snapshot_listings(checklist[name])
    answer = applicable_appendix(listings, country, COUNTRIES)
    assert (answer.appendix, answer.determined_by) == (appendix, determined_by), answer.reason


def test_population_codes_are_read_by_their_role() -> None:
    rule = population_rule("All populations except those of BW, NA, ZA, and ZW. ", COUNTRIES)
    assert rule.excluded == {"BW", "NA", "ZA", "ZW"}
    assert not rule.included
    rule = population_rule("Part of the population of CO, and the population of CU.", COUNTRIES)
    assert (rule.partial, rule.included) == ({"CO"}, {"CU"})
    assert population_rule("Included in Ursidae spp.", COUNTRIES) == population_rule(
        None, COUNTRIES
    )


def test_listing_changes_apply_from_their_date_and_end_with_a_deletion() -> None:
    changes = [
        Listing("II", "addition", date(2003, 2, 13), True, None),
        Listing("I", "addition", date(2027, 1, 1), True, None),  # adopted, not yet in force
        Listing("III", "addition", date(2010, 1, 1), False, None),
        Listing("III", "deletion", date(2015, 6, 1), False, None),
    ]
    assert [x.appendix for x in in_force(changes, date(2026, 11, 25))] == ["II"]
    assert sorted(x.appendix for x in in_force(changes, date(2012, 1, 1))) == ["II", "III"]
    assert [x.appendix for x in in_force(changes, date(2027, 1, 1))] == ["II", "I"]
    assert in_force(changes, date(2000, 1, 1)) == []


def test_a_reservation_does_not_change_what_is_listed() -> None:
    changes = [
        Listing("I", "addition", date(1990, 1, 18), True, None),
        Listing("I", "reservation", date(1990, 1, 18), True, None, party="ZW"),
        Listing("I", "reservation_withdrawal", date(1997, 9, 18), False, None, party="ZW"),
    ]
    assert [x.appendix for x in in_force(changes, date(2000, 1, 1))] == ["I"]
