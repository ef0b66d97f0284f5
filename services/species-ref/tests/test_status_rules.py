"""Which listings are in force on a date, which appendix applies (on real split listings of the
2017 checklist) and which documents a shipment needs."""

from __future__ import annotations

from datetime import date

import pytest

from species_ref.checklist import ChecklistTaxon, read_checklist
from species_ref.codes.service import CodeListName, read_code_lists
from species_ref.seed import CHECKLIST
from species_ref.status.rules import (
    Applicable,
    Determination,
    DocumentsRequired,
    ExportDocument,
    Listing,
    Movement,
    applicable_appendix,
    documents_required,
    in_force,
    population_rule,
)

COUNTRY_LIST = read_code_lists().lists[CodeListName.COUNTRIES]
COUNTRIES = frozenset(COUNTRY_LIST)


@pytest.fixture(scope="module")
def checklist() -> dict[str, ChecklistTaxon]:
    wanted = {
        "Loxodonta africana",
        "Ursus arctos",
        "Crocodylus acutus",
        "Python regius",
        "Anodorhynchus hyacinthinus",
        "Antilocapra americana",
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


def test_country_names_are_read_when_the_code_list_gives_them() -> None:
    text = "Except the populations of Botswana, Namibia, South Africa and Zimbabwe, which are"
    rule = population_rule(text, COUNTRY_LIST)
    assert (rule.excluded, rule.included) == ({"BW", "NA", "ZA", "ZW"}, frozenset())
    assert population_rule(text, COUNTRIES) == population_rule(None, COUNTRIES)
    # The short form of "Bolivia, Plurinational State of"; "Africa" alone is no country.
    rule = population_rule("Populations of Bolivia and Peru; all others in Africa", COUNTRY_LIST)
    assert rule.included == {"BO", "PE"}


def d(text: str) -> date:
    return date.fromisoformat(text)


def add(appendix: str, on: str | None, current: bool = False, party: str | None = None) -> Listing:
    return Listing(appendix, "addition", on and d(on), current, None, party=party)


def delete(appendix: str, on: str, current: bool = False, party: str | None = None) -> Listing:
    return Listing(appendix, "deletion", d(on), current, None, party=party)


TRANSFERS = [add("II", "1977-02-04"), add("I", "1990-01-18"), add("II", "2000-07-19", True)]
SPLIT = [add("II", "1977-02-04"), add("I", "1997-09-18", True), add("II", "1997-09-18", True)]
DELETED = [add("I", "1976-01-01"), add("II", "1976-01-01"), delete("I", "1985-05-01", True)]
DELISTED = [add("II", "1979-01-01"), delete("II", "1995-01-01", True)]
APPENDIX_III = [
    add("III", "2000-01-01", party="CO"),
    add("III", "2005-01-01", party="PE"),
    delete("III", "2010-01-01", party="CO"),
    add("III", "2012-01-01", True, party="PE"),  # PE's listing renewed (a new annotation)
    add("III", "2014-01-01", True, party="BO"),
]
III_ENDED_BY_II = [add("III", "1976-02-26", party="GH"), add("II", "1977-02-04", True)]
III_KEPT_BESIDE_I = [add("III", "2016-10-01", True, party="US"), add("I", "2019-11-26", True)]
RENEWED_ANNOTATION = [
    add("I", "2017-01-02", True),
    add("II", "2017-01-02"),
    add("II", "2019-11-26", True),
]
ADOPTED = [add("II", "2003-02-13", True), add("I", "2027-01-01")]  # adopted, not yet in force
SNAPSHOT = [add("I", None, True), add("II", None, True), add("III", None)]


@pytest.mark.parametrize(
    ("changes", "on", "expected"),
    [
        (TRANSFERS, "1977-02-03", []),
        (TRANSFERS, "1977-02-04", [("II", None, "1977-02-04")]),
        (TRANSFERS, "1990-01-17", [("II", None, "1977-02-04")]),
        (TRANSFERS, "1990-01-18", [("I", None, "1990-01-18")]),  # "+ I" ends the II listing
        (TRANSFERS, "2000-07-19", [("II", None, "2000-07-19")]),
        (SPLIT, "1997-09-17", [("II", None, "1977-02-04")]),
        (SPLIT, "1997-09-18", [("I", None, "1997-09-18"), ("II", None, "1997-09-18")]),
        (DELETED, "1985-04-30", [("I", None, "1976-01-01"), ("II", None, "1976-01-01")]),
        (DELETED, "1985-05-01", [("II", None, "1976-01-01")]),
        (DELISTED, "1994-12-31", [("II", None, "1979-01-01")]),
        (DELISTED, "1995-01-01", []),
        (APPENDIX_III, "1999-12-31", []),
        (APPENDIX_III, "2006-01-01", [("III", "CO", "2000-01-01"), ("III", "PE", "2005-01-01")]),
        (APPENDIX_III, "2010-01-01", [("III", "PE", "2005-01-01")]),
        (APPENDIX_III, "2012-01-01", [("III", "PE", "2012-01-01")]),
        (APPENDIX_III, "2020-01-01", [("III", "BO", "2014-01-01"), ("III", "PE", "2012-01-01")]),
        (III_ENDED_BY_II, "1977-02-03", [("III", "GH", "1976-02-26")]),
        (III_ENDED_BY_II, "1977-02-04", [("II", None, "1977-02-04")]),
        (III_KEPT_BESIDE_I, "2019-11-26", [("I", None, "2019-11-26"), ("III", "US", "2016-10-01")]),
        (RENEWED_ANNOTATION, "2019-11-25", [("I", None, "2017-01-02"), ("II", None, "2017-01-02")]),
        (RENEWED_ANNOTATION, "2019-11-26", [("I", None, "2017-01-02"), ("II", None, "2019-11-26")]),
        (ADOPTED, "2026-12-31", [("II", None, "2003-02-13")]),
        (ADOPTED, "2027-01-01", [("I", None, "2027-01-01")]),
        (SNAPSHOT, "1900-01-01", [("I", None, None), ("II", None, None)]),
        (SNAPSHOT, "2026-11-25", [("I", None, None), ("II", None, None)]),
    ],
)
def test_the_listings_in_force_on_a_date(
    changes: list[Listing], on: str, expected: list[tuple[str, str | None, str | None]]
) -> None:
    found = in_force(changes, d(on))
    assert [
        (x.appendix, x.party, x.effective_at and x.effective_at.isoformat()) for x in found
    ] == expected


def test_a_reservation_does_not_change_what_is_listed() -> None:
    changes = [
        Listing("I", "addition", date(1990, 1, 18), True, None),
        Listing("I", "reservation", date(1990, 1, 18), True, None, party="ZW"),
        Listing("I", "reservation_withdrawal", date(1997, 9, 18), False, None, party="ZW"),
    ]
    assert [x.appendix for x in in_force(changes, date(2000, 1, 1))] == ["I"]


PERMIT = ExportDocument.EXPORT_PERMIT
RE_CERT = ExportDocument.RE_EXPORT_CERTIFICATE
ORIGIN_CERT = ExportDocument.CERTIFICATE_OF_ORIGIN
APP_I, APP_II, NC = add("I", None, True), add("II", None, True), add("NC", None, True)
III_US = add("III", "2016-10-01", True, party="US")
III_UNKNOWN = add("III", None, True)  # the checklist snapshot names no party
EXPORT, IMPORT, RE_EXPORT = Movement.EXPORT, Movement.IMPORT, Movement.RE_EXPORT
NOT_SETTLED = Applicable(None, Determination.COUNTRY_NEEDED, "split listing: a country decides")
NOT_LISTED = Applicable(None, Determination.NOT_LISTED, "no CITES listing in force")
OUTSIDE = Applicable(None, Determination.POPULATION_CODES, "the NC annotation names MX")


def settled(appendix: str) -> Applicable:
    return Applicable(appendix, Determination.SINGLE_LISTING, "one listing in force")


# (listings in force, what applies, movement, origin, exporter) ->
# (export document, its options, import permit, Appendix III parties, determined)
# fmt: off
DOCUMENT_CASES = [
    # Appendix I (Article III): an export permit or re-export certificate, and an import permit
    ([APP_I], settled("I"), EXPORT, "KE", None, (PERMIT, (PERMIT,), True, (), True)),
    ([APP_I], settled("I"), RE_EXPORT, "KE", "BE", (RE_CERT, (RE_CERT,), True, (), True)),
    ([APP_I], settled("I"), IMPORT, "KE", "KE", (PERMIT, (PERMIT,), True, (), True)),
    ([APP_I], settled("I"), IMPORT, "KE", "BE", (RE_CERT, (RE_CERT,), True, (), True)),
    ([APP_I], settled("I"), IMPORT, "KE", None, (None, (PERMIT, RE_CERT), True, (), False)),
    # Appendix II (Article IV): no import permit
    ([APP_II], settled("II"), EXPORT, "GH", None, (PERMIT, (PERMIT,), False, (), True)),
    ([APP_II], settled("II"), RE_EXPORT, "GH", "FR", (RE_CERT, (RE_CERT,), False, (), True)),
    ([APP_II], settled("II"), IMPORT, None, None, (None, (PERMIT, RE_CERT), False, (), False)),
    # Appendix III (Article V): the listing party exports on a permit, others certify origin
    ([III_US], settled("III"), EXPORT, "US", None, (PERMIT, (PERMIT,), False, ("US",), True)),
    ([III_US], settled("III"), EXPORT, "CA", None,
     (ORIGIN_CERT, (ORIGIN_CERT,), False, ("US",), True)),
    ([III_US], settled("III"), EXPORT, "CA", "US", (PERMIT, (PERMIT,), False, ("US",), True)),
    ([III_US], settled("III"), IMPORT, "US", "US", (PERMIT, (PERMIT,), False, ("US",), True)),
    ([III_US], settled("III"), RE_EXPORT, "US", "JP",
     (RE_CERT, (RE_CERT,), False, ("US",), True)),
    ([III_US], settled("III"), EXPORT, None, None,
     (None, (PERMIT, ORIGIN_CERT), False, ("US",), False)),
    ([III_UNKNOWN], settled("III"), EXPORT, "CO", None,
     (None, (PERMIT, ORIGIN_CERT), False, (), False)),
    ([III_UNKNOWN], settled("III"), RE_EXPORT, "CO", "US", (RE_CERT, (RE_CERT,), False, (), True)),
    # A split listing not settled: each appendix in force is a case
    ([APP_I, APP_II], NOT_SETTLED, EXPORT, None, None, (None, (PERMIT,), None, (), False)),
    ([APP_I, APP_II], NOT_SETTLED, RE_EXPORT, None, None, (None, (RE_CERT,), None, (), False)),
    ([APP_II, NC], NOT_SETTLED, EXPORT, "CO", None, (None, (PERMIT,), False, (), False)),
    ([APP_I, APP_II], settled("II"), EXPORT, "BW", None, (PERMIT, (PERMIT,), False, (), True)),
    # Not listed, or a population outside the listing
    ([], NOT_LISTED, EXPORT, "KE", None, (None, (), False, (), True)),
    ([NC], OUTSIDE, IMPORT, None, None, (None, (), False, (), True)),
    ([APP_I, NC], OUTSIDE, EXPORT, "US", None, (None, (), False, (), True)),
]
# fmt: on


@pytest.mark.parametrize(
    ("listings", "applicable", "movement", "origin", "exporter", "expected"), DOCUMENT_CASES
)
def test_the_documents_a_shipment_needs(
    listings: list[Listing],
    applicable: Applicable,
    movement: Movement,
    origin: str | None,
    exporter: str | None,
    expected: tuple[
        ExportDocument | None, tuple[ExportDocument, ...], bool | None, tuple[str, ...], bool
    ],
) -> None:
    needed = documents_required(
        listings, applicable, movement=movement, origin=origin, exporter=exporter
    )
    found = (
        needed.export_document,
        needed.export_document_options,
        needed.import_permit,
        needed.appendix_iii_parties,
        needed.determined,
    )
    assert found == expected, needed.reason


def test_an_unknown_appendix_iii_party_is_said_with_what_each_case_needs() -> None:
    needed = documents_required([III_UNKNOWN], settled("III"), movement=EXPORT, origin="CO")
    assert needed == DocumentsRequired(
        export_document=None,
        export_document_options=(PERMIT, ORIGIN_CERT),
        import_permit=False,
        appendix_iii_parties=(),
        determined=False,
        reason="the Appendix III listing party is not known: if CO listed it: an export permit; "
        "if another State listed it: a certificate of origin",
    )


def test_the_reason_names_the_article_or_the_cases() -> None:
    assert documents_required([APP_I], settled("I"), movement=EXPORT, origin="KE").reason == (
        "Appendix I (Article III): an export permit and an import permit"
    )
    assert documents_required(
        [APP_I, APP_II], NOT_SETTLED, movement=EXPORT, origin=None
    ).reason == (
        "split listing I/II not settled: if Appendix I applies: an export permit and an import "
        "permit; if Appendix II applies: an export permit"
    )
    assert documents_required([APP_II], settled("II"), movement=IMPORT, origin="GH").reason == (
        "if exported from its origin: an export permit; if re-exported: a re-export certificate"
    )


@pytest.mark.parametrize(
    ("name", "country", "document", "import_permit", "determined"),
    [
        ("Loxodonta africana", "KE", PERMIT, True, True),
        ("Loxodonta africana", "BW", PERMIT, False, True),
        ("Loxodonta africana", None, None, None, False),
        ("Antilocapra americana", "MX", PERMIT, True, True),  # "Only the population of MX"
        ("Antilocapra americana", "US", None, False, True),  # the other populations: NC
        ("Python regius", "TG", PERMIT, False, True),
    ],
)
def test_the_documents_of_checklist_specimens(
    checklist: dict[str, ChecklistTaxon],
    name: str,
    country: str | None,
    document: ExportDocument | None,
    import_permit: bool | None,
    determined: bool,
) -> None:
    """From the listings in force through the appendix that applies to the documents."""
    listings = in_force(snapshot_listings(checklist[name]), date(2026, 11, 25))
    applicable = applicable_appendix(listings, country, COUNTRIES)
    needed = documents_required(listings, applicable, movement=EXPORT, origin=country)
    found = (needed.export_document, needed.import_permit, needed.determined)
    assert found == (document, import_permit, determined), needed.reason
