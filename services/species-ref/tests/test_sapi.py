"""The SAPI quota, suspension and reservation files, parsed row by row (pure, no I/O past
the read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from species_ref.codes.service import CodeLists, read_code_lists
from species_ref.sapi import (
    Direction,
    Parsed,
    Restriction,
    SapiRowError,
    parse_date,
    read_quotas,
    read_reservations,
    read_suspensions,
)

SAPI = Path(__file__).resolve().parents[4] / "shared" / "data" / "species" / "sapi"


@pytest.fixture(scope="module")
def codes() -> CodeLists:
    return read_code_lists()


@pytest.fixture(scope="module")
def quotas(codes: CodeLists) -> Parsed:
    return read_quotas(SAPI / "quotas.csv", codes)


@pytest.fixture(scope="module")
def suspensions(codes: CodeLists) -> Parsed:
    return read_suspensions(SAPI / "suspensions.csv", codes)


@pytest.fixture(scope="module")
def reservations(codes: CodeLists) -> Parsed:
    return read_reservations(SAPI / "reservations.csv", codes)


def at_row(parsed: Parsed, row: int) -> Restriction:
    return next(r for r in parsed.records if r.row == row)


def test_every_row_is_parsed_or_reported(
    quotas: Parsed, suspensions: Parsed, reservations: Parsed
) -> None:
    assert (len(quotas.records), quotas.errors) == (72, [])
    assert (len(reservations.records), reservations.errors) == (388, [])
    assert len(suspensions.records) == 274
    # The one row that lost cells: "A, C, D, F, I,Suspension for W only,added,,..."
    [error] = suspensions.errors
    assert (error.row, error.field) == (101, "Applies_to_import")
    assert "'added'" in str(error) and str(error).startswith("row 101, Applies_to_import")


def test_the_shipped_copies_are_the_reference_files(codes: CodeLists) -> None:
    shipped = Path(__file__).resolve().parents[1] / "src" / "species_ref" / "data"
    for name in ("quotas.csv", "suspensions.csv", "reservations.csv"):
        assert (shipped / name).read_bytes() == (SAPI / name).read_bytes()


def test_a_country_wide_suspension_has_no_taxon(suspensions: Parsed) -> None:
    afghanistan = at_row(suspensions, 2)
    assert afghanistan.country == "AF"
    assert (afghanistan.taxon_name, afghanistan.rank, afghanistan.taxon_concept_id) == (
        None,
        None,
        None,
    )
    assert (afghanistan.start_date, afghanistan.end_date) == (date(2005, 9, 19), None)
    # "Z, G, Q, S" spilled over four cells; they are the purposes exempted (a suspension
    # "for T", says the compilers' note), and the notes land back in their column.
    assert afghanistan.excluded_purposes == {"Z", "G", "Q", "S"}
    assert afghanistan.purposes == frozenset()
    assert afghanistan.notes == "The export of CITES-listed species for commercial purposes."
    assert afghanistan.direction is Direction.EXPORT


def test_the_iwc_suspension_of_balaena_mysticetus(suspensions: Parsed) -> None:
    bowhead = at_row(suspensions, 3)
    assert (bowhead.taxon_name, bowhead.rank, bowhead.taxon_concept_id) == (
        "Balaena mysticetus",
        "SPECIES",
        7903,
    )
    assert bowhead.country is None  # ALL
    assert (bowhead.start_date, bowhead.end_date) == (date(2012, 2, 2), date(2015, 4, 9))
    assert bowhead.notes is not None and "IWC" in bowhead.notes


def test_spilled_code_lists_are_rejoined_field_by_field(suspensions: Parsed) -> None:
    india = at_row(suspensions, 105)  # sources and purposes both spill, purposes lost a cell
    assert india.taxon_name is None and india.country == "IN"
    assert india.excluded_sources == {"A", "C", "D", "F", "I"}
    assert india.excluded_purposes == {"S", "H", "P", "M", "E", "N", "B", "L"}
    assert india.notes is not None and india.notes.startswith("Exports of wild-taken")
    elephant = at_row(suspensions, 250)  # 84 terms over 84 cells: the row is 100 cells wide
    assert elephant.taxon_name == "Elephas maximus" and elephant.country == "LA"
    assert len(elephant.excluded_terms) == 84 and "LIV" not in elephant.excluded_terms
    assert elephant.notes is not None and "live specimens" in elephant.notes
    rosewood = at_row(suspensions, 265)  # no taxon id at all
    assert (rosewood.taxon_name, rosewood.taxon_concept_id) == ("Dalbergia cochinchinensis", None)
    assert rosewood.excluded_terms == {"CAR", "WPR"}
    assert rosewood.excluded_purposes == {"Z", "G", "Q", "L"}


def test_exemptions_and_directions_read_from_the_notes(suspensions: Parsed) -> None:
    peccary = next(r for r in suspensions.records if r.taxon_name == "Pecari tajacu")
    assert peccary.excluded_terms == {"TRO"}
    assert peccary.notes is not None and "(except for trophies)" in peccary.notes
    pterocarpus = [r for r in suspensions.records if r.taxon_name == "Pterocarpus erinaceus"]
    both = [r for r in pterocarpus if r.direction is Direction.BOTH]
    assert len(both) == 7
    assert all("imports" in (r.notes or "") for r in both)


def test_a_zero_export_quota(quotas: Parsed) -> None:
    caiman = at_row(quotas, 2)
    assert (caiman.taxon_name, caiman.taxon_concept_id, caiman.country) == (
        "Melanosuchus niger",
        10978,
        "EC",
    )
    assert caiman.quota == Decimal(0)
    assert (caiman.start_date, caiman.end_date) == (date(1995, 2, 16), None)  # "Present"
    assert caiman.terms == caiman.sources == caiman.purposes == caiman.units == frozenset()
    assert caiman.quota_type == "Listing_annotations"
    assert caiman.notes is not None and "\n**II**" in caiman.notes  # a note spanning lines


def test_quota_code_sets_list_what_they_cover(quotas: Parsed) -> None:
    leopard_kenya = next(
        r for r in quotas.records if r.taxon_name == "Panthera pardus" and r.country == "KE"
    )
    assert leopard_kenya.quota == Decimal(80)
    assert leopard_kenya.terms == {"SKI", "TRO"}
    assert leopard_kenya.purposes == {"H", "P"}
    assert leopard_kenya.end_date == date(2023, 2, 23)
    all_countries = [r for r in quotas.records if r.country is None]
    assert len(all_countries) == 36  # "All"
    padded = [r for r in quotas.records if r.start_date == date(1975, 7, 1)]
    assert len(padded) == 3  # " 01/07/1975"


def test_a_reservation_on_a_family(reservations: Parsed) -> None:
    canada = at_row(reservations, 2)
    assert (canada.taxon_name, canada.rank, canada.taxon_concept_id, canada.country) == (
        "Platysternidae",
        "FAMILY",
        531,
        "CA",
    )
    assert (canada.start_date, canada.end_date) == (date(2013, 6, 12), date(2015, 5, 20))
    assert canada.notes is None  # " " in the file
    ranks = {r.rank for r in reservations.records}
    assert ranks == {"FAMILY", "GENUS", "SPECIES", "SUBSPECIES"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02/02/2012 00:00", date(2012, 2, 2)),
        (" 13/02/2003", date(2003, 2, 13)),
        ("Present", None),
        ("", None),
    ],
)
def test_dates(raw: str, expected: date | None) -> None:
    assert parse_date(raw, "end_date", required=False) == expected


@pytest.mark.parametrize("raw", ["2012-02-02", "31/02/2012", "Present", "12/2012"])
def test_bad_or_missing_start_dates_are_refused(raw: str) -> None:
    with pytest.raises(SapiRowError, match="start_date"):
        parse_date(raw, "start_date", required=True)


def test_bad_rows_are_reported_with_row_and_field(tmp_path: Path, codes: CodeLists) -> None:
    header = (SAPI / "reservations.csv").read_text(encoding="utf-8").splitlines()[0]
    bad = tmp_path / "reservations.csv"
    bad.write_text(
        "\n".join(
            [
                header,
                "12/06/2013,20/05/2015,Platysternidae,531,FAMILY,CA, ,",
                "12/06/2013,,Platysternidae,531,FAMILY,QQ, ,",
                "2013-06-12,,Platysternidae,531,FAMILY,CA, ,",
                "12/06/2013,,Platysternidae,x1,FAMILY,CA, ,",
                "12/06/2013,,Platysternidae,531,TRIBE,CA, ,",
                "12/06/2013,,ALL,ALL,ALL,CA, ,",
            ]
        ),
        encoding="utf-8",
    )
    parsed = read_reservations(bad, codes)
    assert [r.row for r in parsed.records] == [2]
    assert [(e.row, e.field) for e in parsed.errors] == [
        (3, "iso_code2"),
        (4, "start_date"),
        (5, "taxon_concept_id"),
        (6, "rank"),
        (7, "taxon_name"),
    ]


def test_unknown_codes_in_a_quota_are_reported(tmp_path: Path, codes: CodeLists) -> None:
    lines = (SAPI / "quotas.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0]
    row = "CoP_approved,09/06/1997,Present,Capra falconeri,3780,SPECIES,PK,12,All,TRO,All,H; Y,,x,"
    bad = tmp_path / "quotas.csv"
    bad.write_text(f"{header}\n{row}\n", encoding="utf-8")
    [error] = read_quotas(bad, codes).errors
    assert (error.row, error.field) == (2, "purpose")
    assert "Y" in error.message


def test_the_compilers_notes_travel_with_the_row(suspensions: Parsed, quotas: Parsed) -> None:
    beaked_whale = at_row(suspensions, 11)
    assert beaked_whale.taxon_name == "Berardius arnuxii"
    assert beaked_whale.internal_notes == "Not a great whale so not covered by IWC suspension"
    contradicted = [
        r for r in suspensions.records if (r.internal_notes or "").startswith("Not a great whale")
    ]
    assert len(contradicted) == 77
    assert at_row(suspensions, 2).internal_notes == "Country-level suspension for T"
    assert at_row(quotas, 2).internal_notes is None
