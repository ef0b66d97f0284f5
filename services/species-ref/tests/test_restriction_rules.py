"""When a quota, suspension or reservation binds a specimen (pure rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from species_ref.restrictions.rules import (
    applicable,
    applies_to_taxon,
    concerns,
    covers,
    in_force,
    in_force_during,
    lineage,
)
from species_ref.sapi import Direction, Restriction, RestrictionKind

SUSPENSION = Restriction(
    kind=RestrictionKind.SUSPENSION,
    row=1,
    taxon_name="Balaena mysticetus",
    rank="SPECIES",
    taxon_concept_id=7903,
    country=None,
    start_date=date(2012, 2, 2),
    end_date=date(2015, 4, 9),
    excluded_purposes=frozenset({"Z", "G", "Q", "S"}),
)
BOWHEAD = lineage(
    taxon_id=7903,
    rank="SPECIES",
    full_name="Balaena mysticetus",
    class_name="Mammalia",
    order="Cetacea",
    family="Balaenidae",
    genus="Balaena",
    species="mysticetus",
)


def test_in_force_from_the_start_date_until_the_day_before_the_end_date() -> None:
    assert not in_force(SUSPENSION, date(2012, 2, 1))
    assert in_force(SUSPENSION, date(2012, 2, 2))
    assert in_force(SUSPENSION, date(2015, 4, 8))
    assert not in_force(SUSPENSION, date(2015, 4, 9))  # the successor's first day
    assert in_force(replace(SUSPENSION, end_date=None), date(2099, 1, 1))


def test_a_future_dated_restriction_is_not_in_force_yet() -> None:
    future = replace(SUSPENSION, start_date=date(2030, 1, 1), end_date=None)
    assert not in_force(future, date(2026, 11, 25))
    assert in_force(future, date(2030, 1, 1))


def test_in_force_during_a_year() -> None:
    assert in_force_during(SUSPENSION, date(2015, 1, 1), date(2015, 12, 31))
    assert not in_force_during(SUSPENSION, date(2016, 1, 1), date(2016, 12, 31))
    assert not in_force_during(SUSPENSION, date(2011, 1, 1), date(2011, 12, 31))


def test_a_suspension_covers_every_purpose_but_the_exempted() -> None:
    assert covers(SUSPENSION, purpose="T")
    assert not covers(SUSPENSION, purpose="Z")
    assert covers(SUSPENSION)  # nothing asked: nothing narrows
    ranched_exempt = replace(SUSPENSION, excluded_sources=frozenset({"R"}))
    assert covers(ranched_exempt, source="W")
    assert not covers(ranched_exempt, source="R")


def test_a_quota_covers_only_what_it_lists() -> None:
    trophies = replace(
        SUSPENSION,
        kind=RestrictionKind.QUOTA,
        excluded_purposes=frozenset(),
        terms=frozenset({"SKI", "TRO"}),
        sources=frozenset({"W"}),
    )
    assert covers(trophies, term="TRO", source="W")
    assert not covers(trophies, term="LIV")
    assert not covers(trophies, source="C")


def test_higher_taxa_and_country_wide_restrictions_reach_the_species() -> None:
    on_order = replace(SUSPENSION, taxon_name="Cetacea", rank="ORDER", taxon_concept_id=None)
    on_genus_of_another = replace(SUSPENSION, taxon_name="Balaenoptera", rank="GENUS")
    on_nothing = replace(SUSPENSION, taxon_name=None, rank=None, taxon_concept_id=None)
    by_name_only = replace(SUSPENSION, taxon_concept_id=None)
    assert applies_to_taxon(on_order, BOWHEAD)
    assert applies_to_taxon(on_nothing, BOWHEAD)
    assert applies_to_taxon(by_name_only, BOWHEAD)
    assert not applies_to_taxon(replace(on_genus_of_another, taxon_concept_id=1), BOWHEAD)
    # a name at the wrong rank does not match (a genus and a family can share a stem)
    assert not applies_to_taxon(replace(on_order, rank="FAMILY"), BOWHEAD)


def test_a_subspecies_inherits_its_species_restrictions() -> None:
    yacare = lineage(
        taxon_id=55214,
        rank="SUBSPECIES",
        full_name="Caiman crocodilus yacare",
        genus="Caiman",
        species="crocodilus",
    )
    on_species = replace(
        SUSPENSION, taxon_name="Caiman crocodilus", rank="SPECIES", taxon_concept_id=1
    )
    assert applies_to_taxon(on_species, yacare)


def test_country_and_direction() -> None:
    madagascar_export = replace(SUSPENSION, country="MG")
    assert concerns(madagascar_export, country="MG", direction=Direction.EXPORT)
    assert not concerns(madagascar_export, country="KE", direction=Direction.EXPORT)
    assert not concerns(madagascar_export, country="MG", direction=Direction.IMPORT)
    assert concerns(madagascar_export, country=None, direction=None)
    both = replace(madagascar_export, direction=Direction.BOTH)
    assert concerns(both, country="MG", direction=Direction.IMPORT)
    assert concerns(SUSPENSION, country="JP", direction=Direction.EXPORT)  # every country


def test_applicable_combines_date_taxon_country_and_scope() -> None:
    kwargs = {"taxon": BOWHEAD, "country": "JP", "direction": Direction.EXPORT}
    assert applicable([SUSPENSION], as_of=date(2013, 1, 1), **kwargs) == [SUSPENSION]
    assert applicable([SUSPENSION], as_of=date(2016, 1, 1), **kwargs) == []
    assert applicable([SUSPENSION], as_of=date(2013, 1, 1), purpose="S", **kwargs) == []


def test_a_restriction_on_a_kingdom_applies_to_every_taxon_in_it() -> None:
    """Species+ places suspensions on Animalia (taxon 23), e.g. for the Philippines."""
    on_animals = replace(SUSPENSION, taxon_name="Animalia", rank="KINGDOM", taxon_concept_id=23)
    python = lineage(
        taxon_id=5467,
        rank="SPECIES",
        full_name="Python regius",
        kingdom="Animalia",
        phylum="Chordata",
        class_name="Reptilia",
        genus="Python",
    )
    orchid = lineage(taxon_id=1, rank="GENUS", full_name="Cattleya", kingdom="Plantae")
    assert applies_to_taxon(on_animals, python)
    assert not applies_to_taxon(on_animals, orchid)
