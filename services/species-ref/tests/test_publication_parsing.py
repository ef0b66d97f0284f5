"""The publication parsers, pure (no database, no network): what each format becomes, and
every error named by row (or JSON pointer) and field."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from species_ref.codes.service import CodeLists, read_code_lists
from species_ref.publications.parsing import ParseResult, parse
from species_ref.publications.schemas import PublicationFormat

CHECKLIST = Path(__file__).parents[3] / "../shared/data/species/cites_checklist_2017-04-21.csv.gz"
SOURCE = "publication test"


@pytest.fixture(scope="module")
def codes() -> CodeLists:
    return read_code_lists()


def pangolin(document: dict[str, Any], codes: CodeLists) -> ParseResult:
    return parse(
        json.dumps(document).encode(),
        PublicationFormat.PANGOLIN_JSON,
        codes=codes,
        source=SOURCE,
        max_records=100,
    )


def where(result: ParseResult) -> list[tuple[Any, str]]:
    return [(e["row"], e["field"]) for e in result.errors]


# The example of docs/architecture.md ("Publications"), with a real document.
DOCUMENTED: dict[str, Any] = {
    "taxa": [
        {
            "id": 5467, "full_name": "Python regius", "rank": "SPECIES", "kingdom": "Animalia",
            "family": "Pythonidae", "genus": "Python", "species": "regius",
            "synonyms": [{"name": "Boa regia", "author": "Shaw, 1802"}],
            "common_names": [{"name": "Ball python", "language": "EN"}],
            "listings": [
                {"appendix": "II", "effective_at": "1977-02-04"},
                {"appendix": "III", "party": "GH", "effective_at": "1976-02-26",
                 "is_current": False},
            ],
            "distributions": [{"country": "GH", "tags": ["native"]}],
        }
    ],
    "quotas": [
        {"taxon_name": "Python regius", "country": "GH", "start_date": "2026-01-01",
         "end_date": "2027-01-01", "quota": "1500", "terms": ["LIV"], "sources": ["W"]}
    ],
    "suspensions": [
        {"taxon_id": 5467, "country": "TG", "start_date": "2026-02-01", "direction": "export",
         "notes": "CITES Notif. No. 2026/001"}
    ],
    "reservations": [{"taxon_id": 5467, "party": "CH", "start_date": "2026-03-01"}],
    "guides": [
        {"taxon_name": "Python", "title": "Pythons of West Africa", "language": "en",
         "document": base64.b64encode(b"%PDF-1.4").decode(), "media_type": "application/pdf"},
        {"taxon_id": 5467, "title": "Ball python", "language": "fr",
         "url": "https://example.org/regius.pdf"},
    ],
}  # fmt: skip


def test_the_documented_pangolin_example_parses(codes: CodeLists) -> None:
    result = pangolin(DOCUMENTED, codes)

    assert result.errors == []
    parsed = result.publication
    assert parsed is not None and parsed.records == 6
    taxon = parsed.taxa[0]
    assert (taxon.concept["order_name"], taxon.concept["source"]) == (None, SOURCE)
    assert taxon.appendices is None  # those of the listings written: II (III is history)
    assert [(x["appendix"], x["party"]) for x in taxon.listings or []] == [
        ("II", None),
        ("III", "GH"),
    ]
    assert taxon.distributions == [{"taxon_id": 5467, "country": "GH", "tag": "native"}]
    assert [(r.path, r.taxon_id, r.taxon_name) for r in parsed.refs] == [
        ("/quotas/0", None, "Python regius"),
        ("/suspensions/0", 5467, None),
        ("/reservations/0", 5467, None),
        ("/guides/0", None, "Python"),
        ("/guides/1", 5467, None),
    ]
    assert parsed.guides[0][2] == b"%PDF-1.4"


def test_every_pangolin_error_is_named_by_path_and_field(codes: CodeLists) -> None:
    document = json.loads(json.dumps(DOCUMENTED))
    document["taxa"][0]["listings"][1] = {"appendix": "III"}
    document["taxa"][0]["distributions"][0]["country"] = "QQ"
    document["quotas"][0]["units"] = ["XYZ"]
    document["quotas"][0]["end_date"] = "2025-01-01"
    document["reservations"][0]["taxon_id"] = None
    document["guides"][0]["url"] = "https://example.org/both.pdf"
    document["guides"][1] = document["guides"][1] | {"url": None, "document": "not base64!",
                                                     "media_type": "application/pdf"}  # fmt: skip

    result = pangolin(document, codes)

    assert result.publication is None
    assert where(result) == [
        ("/taxa/0/listings/1", "party"),
        ("/taxa/0/distributions/0", "country"),
        ("/quotas/0", "units"),
        ("/quotas/0", "end_date"),
        ("/reservations/0", "taxon_id"),
        ("/guides/0", "url"),
        ("/guides/1", "document"),
    ]


def test_a_document_off_the_schema_names_the_members(codes: CodeLists) -> None:
    guide = DOCUMENTED["guides"][1] | {"taxon_id": 10**10}
    result = pangolin({"taxa": [{"id": 1}], "extra": 1, "quotas": [3], "guides": [guide]}, codes)

    found = where(result)
    assert ("/", "extra") in found
    assert ("/taxa/0", "full_name") in found
    assert ("/quotas/0", "item") in found
    assert ("/guides/0", "taxon_id") in found  # beyond what an id column holds


def test_an_empty_document_publishes_nothing_and_says_so(codes: CodeLists) -> None:
    assert where(pangolin({}, codes)) == [("/", "body")]


def test_too_many_records_is_refused_before_anything_else(codes: CodeLists) -> None:
    document = {"guides": [DOCUMENTED["guides"][1] | {"title": f"g{n}"} for n in range(101)]}
    result = pangolin(document, codes)
    assert where(result) == [("/", "taxa")]
    assert "at most 100" in result.errors[0]["message"]


def checklist(rows: list[dict[str, str]], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def pythons() -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(CHECKLIST, "rt", newline="") as text:
        reader = csv.DictReader(text)
        rows = [r for r in reader if r["Genus"] == "Python"]
        return list(reader.fieldnames or []), rows


def test_checklist_rows_become_taxa_over_their_history(
    codes: CodeLists, pythons: tuple[list[str], list[dict[str, str]]]
) -> None:
    header, rows = pythons
    result = parse(
        checklist(rows, header),
        PublicationFormat.CHECKLIST_CSV,
        codes=codes,
        source=SOURCE,
        max_records=100,
    )

    assert result.errors == []
    assert result.publication is not None
    regius = next(t for t in result.publication.taxa if t.taxon_id == 5467)
    assert (regius.appendices, regius.keep_history) == (["II"], True)
    assert [x["appendix"] for x in regius.listings or []] == ["II"]
    assert "updated_at" not in regius.concept


def test_checklist_errors_name_the_data_row_and_column(
    codes: CodeLists, pythons: tuple[list[str], list[dict[str, str]]]
) -> None:
    header, rows = pythons
    rows = [dict(r) for r in rows[:4]]
    rows[0]["Kingdom"] = "Fungi"
    rows[2]["TaxonId"] = rows[1]["TaxonId"]
    rows[3]["CurrentListing"] = "IV"

    result = parse(
        checklist(rows, header),
        PublicationFormat.CHECKLIST_CSV,
        codes=codes,
        source=SOURCE,
        max_records=100,
    )

    assert where(result) == [(1, "Kingdom"), (3, "TaxonId"), (4, "CurrentListing")]
    assert result.errors[1]["message"] == f"{rows[1]['TaxonId']} already in row 2"


def test_a_checklist_without_its_columns_is_refused_at_the_header(codes: CodeLists) -> None:
    result = parse(
        b"TaxonId,FullName\r\n1,Python\r\n",
        PublicationFormat.CHECKLIST_CSV,
        codes=codes,
        source=SOURCE,
        max_records=100,
    )
    assert where(result) == [(0, "header")]
    assert "Kingdom" in result.errors[0]["message"]


def test_a_value_longer_than_its_column_is_an_error_not_a_failed_write(
    codes: CodeLists,
) -> None:
    taxon = {
        "id": 1, "full_name": "Aus " + "b" * 300, "rank": "SPECIES", "name_status": "A",
        "updated_at": "2022-11-01T00:00:00Z", "higher_taxa": {"kingdom": "Animalia"},
    }  # fmt: skip
    bundle = json.dumps({"taxon_concepts": [taxon]}).encode()

    result = parse(
        bundle, PublicationFormat.SPECIESPLUS_JSON, codes=codes, source=SOURCE, max_records=10
    )

    assert where(result) == [("/taxon_concepts/0", "full_name"), ("/taxon_concepts/0", "species")]
    document = json.loads(json.dumps(DOCUMENTED))
    document["taxa"][0]["distributions"][0]["tags"] = ["native", "somewhere"]
    assert where(pangolin(document, codes)) == [("/taxa/0/distributions/0/tags/1", "item")]
