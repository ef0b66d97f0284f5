"""Species+ payloads (the recorded responses) mapped to species-ref rows: pure, no I/O."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from species_ref.speciesplus import mapping
from species_ref.speciesplus.client import (
    CitesLegislation,
    CurrentListing,
    DistributionRecord,
    TaxonConceptPage,
)

RECORDINGS = Path(__file__).parents[3] / "../shared/data/species/speciesplus-recordings"


def body(cassette: str, index: int = 0) -> Any:
    interaction = json.loads((RECORDINGS / cassette).read_text())["http_interactions"][index]
    return json.loads(interaction["response"]["body"]["string"])


@pytest.fixture(scope="module")
def elephant_page() -> TaxonConceptPage:
    return TaxonConceptPage.model_validate(body("spp_taxonconcept_def.json"))


@pytest.fixture(scope="module")
def history() -> CitesLegislation:
    return CitesLegislation.model_validate(body("spp_cites_legislation_sco.json"))


def test_a_taxon_concept_row(elephant_page: TaxonConceptPage) -> None:
    row = mapping.concept_row(elephant_page.taxon_concepts[0])

    assert row == row | {
        "id": 4521,
        "full_name": "Loxodonta africana",
        "author_year": "(Blumenbach, 1797)",
        "rank": "SPECIES",
        "kingdom": "Animalia",
        "phylum": "Chordata",
        "class_name": "Mammalia",
        "order_name": "Proboscidea",
        "family": "Elephantidae",
        "genus": "Loxodonta",
        "species": "africana",
        "subspecies": None,
        "cites_accepted": True,
        "source": mapping.SOURCE,
    }


def test_genus_and_subspecies_names_split_by_rank() -> None:
    page = TaxonConceptPage.model_validate(body("spp_taxonconcept_pag.json"))
    rows = {t.full_name: mapping.concept_row(t) for t in page.taxon_concepts}

    solitaria = rows["Nasua nasua solitaria"]
    assert (solitaria["genus"], solitaria["species"], solitaria["subspecies"]) == (
        "Nasua",
        "nasua",
        "solitaria",
    )
    assert (rows["Nasua"]["genus"], rows["Nasua"]["species"]) == ("Nasua", None)
    assert rows["Procyonidae"]["genus"] is None and rows["Procyonidae"]["rank"] == "FAMILY"


def test_synonyms_and_common_names_with_their_language(elephant_page: TaxonConceptPage) -> None:
    taxon = elephant_page.taxon_concepts[0]
    rows = mapping.name_rows(taxon)

    synonyms = [(r["name"], r["author"]) for r in rows if r["kind"] == "synonym"]
    assert synonyms == [("Loxodonta cyclotis", "(Matschie, 1900)")]
    common = [(r["name"], r["language"]) for r in rows if r["kind"] == "common"]
    assert len(common) == len(taxon.common_names) == 52
    assert ("African Elephant", "EN") in common and ("Éléphant d'Afrique", "FR") in common
    assert ("Slon", "RU") in common and ("Slon", "HR") in common  # one name, two languages


def test_listing_changes_with_types_parties_and_dates(
    history: CitesLegislation, elephant_page: TaxonConceptPage
) -> None:
    rows = mapping.listing_rows(4521, history, elephant_page.taxon_concepts[0].cites_listings)

    assert len(rows) == 42
    assert rows[0] == rows[0] | {
        "appendix": "III",
        "change_type": "addition",
        "effective_at": date(1976, 2, 26),
        "is_current": False,
        "party": "GH",
        "annotation": None,
    }
    withdrawal = next(r for r in rows if r["effective_at"] == date(2021, 1, 26))
    assert (withdrawal["change_type"], withdrawal["party"], withdrawal["appendix"]) == (
        "reservation_withdrawal",
        "MW",
        "I",
    )
    hong_kong = next(r for r in rows if r["effective_at"] == date(1977, 2, 4) and r["party"])
    assert (hong_kong["change_type"], hong_kong["party"], hong_kong["annotation"]) == (
        "reservation",
        "GB",
        "Au nom de Hong Kong.",
    )
    # Windows line ends of the recorded annotations become plain line breaks.
    assert all("\r" not in (r["annotation"] or "") for r in rows)
    assert [r["effective_at"] for r in rows] == sorted(r["effective_at"] for r in rows)


def test_hash_annotations_come_from_the_embedded_listings(history: CitesLegislation) -> None:
    embedded = [
        CurrentListing.model_validate(
            {"id": 30115, "appendix": "II", "hash_annotation": {"symbol": "#2", "full_note": "x"}}
        )
    ]

    rows = mapping.listing_rows(4521, history, embedded)

    hashed = [r for r in rows if r["hash_annotation"]]
    assert [(r["appendix"], r["hash_annotation"]) for r in hashed] == [("II", "#2 x")]
    assert mapping.hash_annotation_text("#4 All parts") == "#4 All parts"


def test_an_unknown_change_type_is_refused(history: CitesLegislation) -> None:
    listing = history.cites_listings[0].model_copy(update={"change_type": "?"})

    with pytest.raises(mapping.MappingError, match="unknown type"):
        mapping.listing_rows(4521, CitesLegislation(cites_listings=[listing]))


def test_distributions_one_row_per_country_and_tag() -> None:
    records = [DistributionRecord.model_validate(x) for x in body("spp_distributions_def.json")]

    rows = mapping.distribution_rows(4521, records)

    assert len({r["country"] for r in rows}) == 42 and len(rows) == 43
    assert {(r["country"], r["tag"]) for r in rows if r["country"] == "SZ"} == {
        ("SZ", "extinct"),
        ("SZ", "reintroduced"),
    }
    assert mapping.distribution_tag("Introduced (?)") == "introduced_uncertain"
    assert mapping.distribution_tag("Distribution uncertain") == "uncertain"


def test_current_quotas_as_export_quota_rows(history: CitesLegislation) -> None:
    quotas = mapping.quotas(history)

    assert len(quotas) == 713
    current = [q for q in quotas if q.is_current]
    assert len(current) == 38 and all(mapping.quota_problem(q) is None for q in current)
    assert len({q.country for q in current}) == 38  # one current quota per country
    cameroon = next(q for q in current if q.id == 27025)
    taxon = mapping.RestrictionTaxon(4521, "Loxodonta africana", "SPECIES")
    row = mapping.quota_row(cameroon, taxon)
    assert row == row | {
        "id": 27025,
        "taxon_name": "Loxodonta africana",
        "rank": "SPECIES",
        "taxon_id": 4521,
        "country": "CM",
        "start_date": date(2022, 2, 1),
        "end_date": None,
        "quota": Decimal("0"),
        "units": [],
        "terms": [],
        "source": mapping.SOURCE,
    }
    assert row["notes"].startswith("Tusks as part of elephant hunting trophies")
    no_quantity = next(q for q in quotas if q.id == 6681)
    assert mapping.quota_problem(no_quantity) == "quota 6681: no quantity"
    with pytest.raises(mapping.MappingError):
        mapping.quota_row(no_quantity, taxon)


def test_suspensions_including_country_wide_ones(history: CitesLegislation) -> None:
    suspensions = {s.id: s for s in mapping.suspensions(history)}

    assert len(suspensions) == 31
    djibouti = suspensions[15983]
    assert (djibouti.taxon_concept_id, djibouti.country, djibouti.is_current) == (None, "DJ", True)
    row = mapping.suspension_row(djibouti, None)
    assert (row["taxon_name"], row["taxon_id"], row["direction"]) == (None, None, "export")
    assert row["start_date"] == date(2011, 1, 19)
    us = suspensions[17621]
    assert us.applies_to_import and us.notification is not None
    assert us.notification.startswith("CITES Notif. No. 2014/037 (2014-08-11)")
    assert (
        mapping.suspension_row(us, mapping.RestrictionTaxon(4521, "Loxodonta africana", "SPECIES"))[
            "direction"
        ]
        == "both"
    )


def test_philippines_country_wide_suspension_for_another_taxon() -> None:
    legislation = CitesLegislation.model_validate(body("spp_cites_legislation_bat.json", 2))

    found = {s.id: s for s in mapping.suspensions(legislation)}

    assert found[15978].taxon_concept_id is None and found[15978].country == "PH"
    assert found[15839].taxon_concept_id == 23  # Animalia: needs the taxon's name to be stored
    assert legislation.cites_listings == [] and legislation.cites_quotas == []
