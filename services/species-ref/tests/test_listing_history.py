"""The listings in force on a date, from the real Species+ recordings through the mapping the
sync uses: the African elephant's full history (scope all, French), its current legislation
(English), a hummingbird listed with its family, a taxon with no listing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from species_ref.codes.service import CodeListName, read_code_lists
from species_ref.speciesplus import mapping
from species_ref.speciesplus.client import CitesLegislation, TaxonConceptPage
from species_ref.status.rules import Determination, Listing, applicable_appendix, in_force

RECORDINGS = Path(__file__).parents[3] / "../shared/data/species/speciesplus-recordings"
COUNTRIES = read_code_lists().lists[CodeListName.COUNTRIES]
LOXODONTA_AFRICANA = 4521
AMAZILIA_VERSICOLOR = 3210  # listed with Trochilidae spp.
NO_LISTING = 8094  # its recorded legislation lists nothing
RECORDED_ON = date(2022, 11, 1)  # the recordings are of November 2022


def body(cassette: str, index: int = 0) -> Any:
    interaction = json.loads((RECORDINGS / cassette).read_text())["http_interactions"][index]
    return json.loads(interaction["response"]["body"]["string"])


def as_listings(rows: list[dict[str, Any]]) -> list[Listing]:
    return [
        Listing(
            appendix=row["appendix"],
            change_type=row["change_type"],
            effective_at=row["effective_at"],
            is_current=row["is_current"],
            annotation=row["annotation"],
            party=row["party"],
            hash_annotation=row["hash_annotation"],
            source=row["source"],
        )
        for row in rows
    ]


def legislation(cassette: str, taxon_id: int, index: int = 0) -> list[Listing]:
    recorded = CitesLegislation.model_validate(body(cassette, index))
    return as_listings(mapping.listing_rows(taxon_id, recorded))


@pytest.fixture(scope="module")
def elephant_history() -> list[Listing]:
    """`cites_legislation?scope=all&language=fr`: every change since 1976."""
    return legislation("spp_cites_legislation_sco.json", LOXODONTA_AFRICANA)


@pytest.fixture(scope="module")
def elephant_current() -> list[Listing]:
    """`cites_legislation` (the API's default scope: the current changes), English."""
    return legislation("spp_cites_legislation_def.json", LOXODONTA_AFRICANA)


def forced(listings: list[Listing], on: str) -> list[tuple[str, str | None, str | None]]:
    return [
        (x.appendix, x.party, x.effective_at and x.effective_at.isoformat())
        for x in in_force(listings, date.fromisoformat(on))
    ]


@pytest.mark.parametrize(
    ("on", "listings"),
    [
        ("1975-07-01", []),  # CITES in force, the elephant not listed
        ("1976-02-25", []),
        ("1976-02-26", [("III", "GH", "1976-02-26")]),  # Ghana's Appendix III listing
        ("1977-02-03", [("III", "GH", "1976-02-26")]),
        # "+ II" for the species, no "- III" recorded: Ghana's listing ends with it.
        ("1977-02-04", [("II", None, "1977-02-04")]),
        ("1978-07-03", [("II", None, "1977-02-04")]),  # a reservation withdrawn: no change
        ("1990-01-17", [("II", None, "1977-02-04")]),
        ("1990-01-18", [("I", None, "1990-01-18")]),  # transfer to I: only "+ I"
        ("1991-03-18", [("I", None, "1990-01-18")]),  # Namibia's reservation: no change
        ("1997-09-17", [("I", None, "1990-01-18")]),
        ("1997-09-18", [("I", None, "1997-09-18"), ("II", None, "1997-09-18")]),  # split
        ("2000-07-18", [("I", None, "1997-09-18"), ("II", None, "1997-09-18")]),
        ("2000-07-19", [("I", None, "2000-07-19"), ("II", None, "2000-07-19")]),
        ("2003-02-13", [("I", None, "2003-02-13"), ("II", None, "2003-02-13")]),
        ("2005-01-12", [("I", None, "2005-01-12"), ("II", None, "2005-01-12")]),
        ("2007-09-12", [("I", None, "2005-01-12"), ("II", None, "2005-01-12")]),
        ("2007-09-13", [("I", None, "2007-09-13"), ("II", None, "2007-09-13")]),
        ("2017-01-01", [("I", None, "2007-09-13"), ("II", None, "2007-09-13")]),
        ("2017-01-02", [("I", None, "2017-01-02"), ("II", None, "2017-01-02")]),
        ("2019-11-25", [("I", None, "2017-01-02"), ("II", None, "2017-01-02")]),
        # CoP18 renewed only the Appendix II annotation: the CoP17 "+ I" is still current.
        ("2019-11-26", [("I", None, "2017-01-02"), ("II", None, "2019-11-26")]),
        ("2022-11-01", [("I", None, "2017-01-02"), ("II", None, "2019-11-26")]),
        ("2030-01-01", [("I", None, "2017-01-02"), ("II", None, "2019-11-26")]),
    ],
)
def test_the_elephant_s_listings_through_its_history(
    elephant_history: list[Listing], on: str, listings: list[tuple[str, str | None, str]]
) -> None:
    assert forced(elephant_history, on) == listings


def test_the_listings_in_force_now_are_those_species_plus_marks_current(
    elephant_history: list[Listing],
) -> None:
    now = in_force(elephant_history, RECORDED_ON)
    current = [x for x in elephant_history if x.is_current and x.change_type == "addition"]
    assert now == current


@pytest.mark.parametrize(
    ("on", "country", "appendix", "determined_by"),
    [
        ("1976-06-01", "KE", "III", Determination.SINGLE_LISTING),
        ("1980-01-01", "BW", "II", Determination.SINGLE_LISTING),
        ("1995-01-01", "BW", "I", Determination.SINGLE_LISTING),
        ("1995-01-01", "ZA", "I", Determination.SINGLE_LISTING),
        # From 1997 the listing is split, and the annotations name the countries in French,
        # which the rules do not read: left undetermined, not guessed.
        ("1998-01-01", "BW", None, Determination.UNDETERMINED),
        ("1998-01-01", None, None, Determination.COUNTRY_NEEDED),
    ],
)
def test_the_appendix_of_a_specimen_through_the_history(
    elephant_history: list[Listing],
    on: str,
    country: str | None,
    appendix: str | None,
    determined_by: Determination,
) -> None:
    answer = applicable_appendix(
        in_force(elephant_history, date.fromisoformat(on)), country, COUNTRIES
    )
    assert (answer.appendix, answer.determined_by) == (appendix, determined_by), answer.reason


@pytest.mark.parametrize(
    ("on", "country", "appendix", "determined_by"),
    [
        ("2019-11-26", "KE", "I", Determination.POPULATION_CODES),
        ("2019-11-26", "BW", "II", Determination.POPULATION_CODES),
        ("2019-11-26", "NA", "II", Determination.POPULATION_CODES),
        ("2019-11-26", "ZA", "II", Determination.POPULATION_CODES),
        ("2019-11-26", "ZW", "II", Determination.POPULATION_CODES),
        ("2019-11-26", "TZ", "I", Determination.POPULATION_CODES),
        ("2022-11-01", "CD", "I", Determination.POPULATION_CODES),
        ("2022-11-01", None, None, Determination.COUNTRY_NEEDED),
    ],
)
def test_the_current_split_listing_is_settled_by_the_countries_the_annotations_name(
    elephant_current: list[Listing],
    on: str,
    country: str | None,
    appendix: str | None,
    determined_by: Determination,
) -> None:
    """English annotations name the countries ("Except the populations of Botswana, Namibia,
    South Africa and Zimbabwe"); the code list's names read them."""
    answer = applicable_appendix(
        in_force(elephant_current, date.fromisoformat(on)), country, COUNTRIES
    )
    assert (answer.appendix, answer.determined_by) == (appendix, determined_by), answer.reason


def test_the_current_legislation_alone_starts_each_listing_at_its_date(
    elephant_current: list[Listing],
) -> None:
    """Without the history (the API's default scope), the CoP18 "+ II" is not in force the
    day before its date, and nothing is known before the CoP17 "+ I"."""
    assert forced(elephant_current, "2019-11-25") == [("I", None, "2017-01-02")]
    assert forced(elephant_current, "2019-11-26") == [
        ("I", None, "2017-01-02"),
        ("II", None, "2019-11-26"),
    ]
    assert forced(elephant_current, "2017-01-01") == []


def test_the_listings_a_taxon_page_embeds_give_the_same_state_now(
    elephant_history: list[Listing],
) -> None:
    """A list-only sync stores the listings `taxon_concepts` embeds as current additions."""
    page = TaxonConceptPage.model_validate(body("spp_taxonconcept_def.json"))
    elephant = next(x for x in page.taxon_concepts if x.id == LOXODONTA_AFRICANA)
    embedded = as_listings(mapping.current_listing_rows(elephant))
    key = [(x.appendix, x.effective_at, x.party) for x in in_force(embedded, RECORDED_ON)]
    assert key == [
        (x.appendix, x.effective_at, x.party) for x in in_force(elephant_history, RECORDED_ON)
    ]


@pytest.mark.parametrize(
    ("on", "listings"),
    [
        ("1987-10-21", []),
        ("1987-10-22", [("II", None, "1987-10-22")]),
        ("2022-11-01", [("II", None, "1987-10-22")]),
    ],
)
def test_a_hummingbird_listed_with_its_family(
    on: str, listings: list[tuple[str, str | None, str]]
) -> None:
    history = legislation("spp_cites_legislation_bat.json", AMAZILIA_VERSICOLOR, index=1)
    assert forced(history, on) == listings
    answer = applicable_appendix(in_force(history, date.fromisoformat(on)), "MX", COUNTRIES)
    assert answer.appendix == (listings[0][0] if listings else None)


def test_a_taxon_without_listing_changes_is_never_listed() -> None:
    history = legislation("spp_cites_legislation_bat.json", NO_LISTING, index=2)
    assert history == []
    answer = applicable_appendix(in_force(history, RECORDED_ON), "BR", COUNTRIES)
    assert (answer.appendix, answer.determined_by) == (None, Determination.NOT_LISTED)


def test_every_recording_of_the_elephant_s_current_legislation_agrees(
    elephant_current: list[Listing],
) -> None:
    for cassette in ("spp_cites_legislation_raw.json", "spp_cites_legislation_bat.json"):
        recorded = legislation(cassette, LOXODONTA_AFRICANA)
        assert in_force(recorded, RECORDED_ON) == in_force(elephant_current, RECORDED_ON)
