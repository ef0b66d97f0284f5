"""Name matching against the names of the real CITES checklist (2017-04-21)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from species_ref.checklist import ChecklistTaxon, read_checklist
from species_ref.matching import (
    MatchResult,
    MatchType,
    NameIndex,
    NameRecord,
    fold,
    normalise,
    records_from_checklist,
)

CHECKLIST = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "species"
    / "cites_checklist_2017-04-21.csv.gz"
)
PYTHON_REGIUS = 5467
PYTHON = 2425
LOXODONTA_AFRICANA = 4521
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def taxa() -> list[ChecklistTaxon]:
    return list(read_checklist(CHECKLIST))


@pytest.fixture(scope="module")
def records(taxa: list[ChecklistTaxon]) -> list[NameRecord]:
    return records_from_checklist(taxa)


@pytest.fixture(scope="module")
def index(records: list[NameRecord]) -> NameIndex:
    return NameIndex.build(records)


def misspell(name: str, rng: random.Random) -> str:
    """`name` with one or two random edits: substitution, insertion, deletion or swap.
    (The same generator as bench/species_matcher.py.)"""
    chars = list(name)
    for _ in range(rng.choice((1, 2))):
        position = rng.randrange(len(chars))
        operation = rng.choice(("substitute", "insert", "delete", "swap"))
        if operation == "substitute":
            chars[position] = rng.choice([c for c in LETTERS if c != chars[position].lower()])
        elif operation == "insert":
            chars.insert(position, rng.choice(LETTERS))
        elif operation == "delete" and len(chars) > 3:
            del chars[position]
        elif operation == "swap" and position + 1 < len(chars):
            chars[position], chars[position + 1] = chars[position + 1], chars[position]
    return "".join(chars)


def assert_match(
    result: MatchResult, match_type: MatchType, taxon_id: int | None, matched_name: str | None
) -> None:
    assert (result.match_type, result.taxon_id, result.matched_name) == (
        match_type,
        taxon_id,
        matched_name,
    ), result


# --- normal forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Loxodonta africana (Blumenbach, 1797)", "loxodonta africana"),
        ("  Loxodonta   AFRICANA ", "loxodonta africana"),
        ("Loxodonta AFRICANNA Blumenbach", "loxodonta africanna"),
        ("Python bellii Gray, 1842", "python bellii"),
        ("Cyathea bullata (Baker 1876) F.Rakotondrainibe", "cyathea bullata"),
        ("Encephalartos caffer L. f.", "encephalartos caffer"),
        ("Crocodylus raninus S. Müller & Schlegel, 1844", "crocodylus raninus"),
        ("Cercopithecus salongo Thys van Audenaerde, 1977", "cercopithecus salongo"),
        ("Bulbophyllum vöthii", "bulbophyllum vothii"),
        ("Panthera leo ssp. persica", "panthera leo persica"),
        ("Panthera leo subsp. persica", "panthera leo persica"),
        ("Aloe compressa var. paucituberculata", "aloe compressa paucituberculata"),
        ("Phyllomedusa (agalychnis) helenae Lutz, 1950", "phyllomedusa helenae"),
        ("× Aliceara", "aliceara"),
        (
            "Ornithoptera victoriae x ornithoptera priamus",
            "ornithoptera victoriae ornithoptera priamus",
        ),
        ("Python spp.", "python"),
        ("Python sp.", "python"),
        ('Dactylocnemis "North Cape"', "dactylocnemis north cape"),
        ("Cyathea o'donelliana Alston 1960", "cyathea odonelliana"),
        ("", ""),
    ],
)
def test_normalise(name: str, expected: str) -> None:
    assert normalise(name) == expected


def test_fold_keeps_every_word() -> None:
    assert fold("  Ball PYTHON ") == "ball python"
    assert fold("Pitón real") == "piton real"
    assert fold("Bourret’s Box Turtle") == fold("Bourret's box turtle") == "bourrets box turtle"
    assert fold("Salt-water Crocodile") == "salt water crocodile"


# --- records -----------------------------------------------------------------------------


def test_records_from_checklist(records: list[NameRecord]) -> None:
    kinds = {kind: [r for r in records if r.kind == kind] for kind in ("accepted", "synonym")}
    assert len(kinds["accepted"]) == 38_079
    python = next(r for r in kinds["accepted"] if r.taxon_id == PYTHON_REGIUS)
    assert python == NameRecord(
        "Python regius", PYTHON_REGIUS, "accepted", "SPECIES", "Animalia", (PYTHON_REGIUS,)
    )
    bellii = next(r for r in kinds["synonym"] if r.name == "Python bellii")
    assert (bellii.taxon_id, bellii.accepted_ids, bellii.rank) == (
        PYTHON_REGIUS,
        (PYTHON_REGIUS,),
        "SPECIES",
    )
    # Pro parte: one synonym listed under two accepted sturgeons.
    shyp = next(r for r in kinds["synonym"] if r.name == "Acipenser shyp")
    assert sorted(shyp.accepted_ids) == [6061, 9266]
    ball = [r for r in records if r.kind == "common" and r.taxon_id == PYTHON_REGIUS]
    assert [(r.name, r.language) for r in ball] == [
        ("Ball Python", "EN"),
        ("Royal Python", "EN"),
        ("Pitón real", "ES"),
        ("Python royal", "FR"),
    ]


# --- exact, synonym, common name ---------------------------------------------------------


def test_exact_accepted_name(index: NameIndex) -> None:
    result = index.match("Python regius")
    assert result == MatchResult(
        "Python regius", MatchType.EXACT, 100, PYTHON_REGIUS, "Python regius", "SPECIES"
    )
    assert_match(index.match("Python"), MatchType.EXACT, PYTHON, "Python")
    assert index.match("Felidae").rank == "FAMILY"
    assert index.match("Aloe compressa var. paucituberculata").rank == "VARIETY"


@pytest.mark.parametrize(
    "name",
    [
        "Loxodonta africana (Blumenbach, 1797)",
        "Loxodonta africana Blumenbach",
        "  loxodonta   AFRICANA ",
        "LOXODONTA AFRICANA",
        "Loxodónta africána",
        "loxodonta-africana",
    ],
)
def test_exact_despite_authors_spacing_case_and_diacritics(index: NameIndex, name: str) -> None:
    result = index.match(name)
    assert_match(result, MatchType.EXACT, LOXODONTA_AFRICANA, "Loxodonta africana")
    assert result.confidence == 100


def test_exact_with_diacritics_in_the_reference(index: NameIndex) -> None:
    result = index.match("Bulbophyllum vothii")
    assert (result.match_type, result.matched_name) == (MatchType.EXACT, "Bulbophyllum vöthii")
    assert index.match("Aloe compressa paucituberculata").match_type is MatchType.EXACT
    assert index.match('Dactylocnemis "North Cape"').match_type is MatchType.EXACT


def test_genus_with_spp_is_the_genus(index: NameIndex) -> None:
    assert_match(index.match("Python spp."), MatchType.EXACT, PYTHON, "Python")


def test_synonym_resolves_to_the_accepted_taxon(index: NameIndex) -> None:
    result = index.match("Python bellii")
    assert_match(result, MatchType.SYNONYM, PYTHON_REGIUS, "Python bellii")
    assert result.rank == "SPECIES"
    assert_match(index.match("Boa regia Shaw, 1802"), MatchType.SYNONYM, PYTHON_REGIUS, "Boa regia")
    assert_match(
        index.match("Loxodonta cyclotis"),
        MatchType.SYNONYM,
        LOXODONTA_AFRICANA,
        "Loxodonta cyclotis",
    )


def test_pro_parte_synonym_is_ambiguous(index: NameIndex) -> None:
    result = index.match("Acipenser shyp")
    assert (result.match_type, result.taxon_id, result.matched_name) == (
        MatchType.AMBIGUOUS,
        None,
        None,
    )
    assert {(c.taxon_id, c.name, c.kind) for c in result.alternatives} == {
        (9266, "Acipenser nudiventris", "synonym"),
        (6061, "Huso huso", "synonym"),
    }
    assert result.confidence < 100


@pytest.mark.parametrize("name", ["Ball Python", "ball  python", "ROYAL PYTHON", "Pitón real"])
def test_common_name(index: NameIndex, name: str) -> None:
    result = index.match(name)
    assert result.match_type is MatchType.COMMON_NAME
    assert result.taxon_id == PYTHON_REGIUS
    assert 0 < result.confidence < 100


def test_ambiguous_common_name(index: NameIndex) -> None:
    result = index.match("Russian Sturgeon")
    assert result.match_type is MatchType.AMBIGUOUS
    assert result.taxon_id is None
    assert {c.name for c in result.alternatives} == {"Acipenser gueldenstaedtii", "Huso huso"}
    assert {c.kind for c in result.alternatives} == {"common"}


def test_kingdom_filter(index: NameIndex) -> None:
    # "Baiji" is the Yangtze river dolphin, and (bai ji) the tuber of an orchid.
    assert index.match("Baiji").match_type is MatchType.AMBIGUOUS
    dolphin = index.match("Baiji", kingdom="Animalia")
    assert (dolphin.match_type, dolphin.taxon_id) == (MatchType.COMMON_NAME, 4061)
    orchid = index.match("baiji", kingdom="plantae")
    assert (orchid.match_type, orchid.taxon_id) == (MatchType.COMMON_NAME, 16905)
    assert index.match("Python regius", kingdom="Plantae").match_type is MatchType.NONE


def test_kingdom_filter_applies_to_fuzzy_matches(index: NameIndex) -> None:
    # Ansonia is a toad genus outside CITES; one letter away is the plant genus Sansonia.
    assert index.match("Ansonia sp.").matched_name == "Sansonia"
    assert index.match("Ansonia sp.", kingdom="Animalia").match_type is MatchType.NONE
    assert index.match("Pyhton regius", kingdom="Animalia").taxon_id == PYTHON_REGIUS
    assert index.match("Pyhton regius", kingdom="Plantae").match_type is MatchType.NONE


def test_rank_filter(index: NameIndex) -> None:
    assert index.match("Hawks").match_type is MatchType.AMBIGUOUS  # order and family
    family = index.match("Hawks", rank="FAMILY")
    assert (family.match_type, family.taxon_id, family.rank) == (
        MatchType.COMMON_NAME,
        186,
        "FAMILY",
    )
    assert index.match("Python", rank="SPECIES").taxon_id != PYTHON


# --- fuzzy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "edits"),
    [
        ("Pyhton regius", 1),  # swap
        ("Python regis", 1),  # deletion
        ("Pythn regious", 2),
        ("Pytohn reigus", 2),
        ("Pythonregius", 1),  # the space
        ("Pyhton regius Shaw, 1802", 1),  # the author goes before the fuzzy search
    ],
)
def test_misspelling_is_fuzzy_with_the_right_taxon(index: NameIndex, name: str, edits: int) -> None:
    result = index.match(name)
    assert_match(result, MatchType.FUZZY, PYTHON_REGIUS, "Python regius")
    assert 80 <= result.confidence < 100
    assert result.rank == "SPECIES"


def test_misspelt_common_name(index: NameIndex) -> None:
    result = index.match("Ball Pyhton")
    assert_match(result, MatchType.FUZZY, PYTHON_REGIUS, "Ball Python")


def test_one_edit_scores_higher_than_two(index: NameIndex) -> None:
    one = index.match("Loxodonta africanna")
    two = index.match("Loxodonta afrricanna")
    assert one.taxon_id == two.taxon_id == LOXODONTA_AFRICANA
    assert one.confidence > two.confidence


@pytest.mark.parametrize(
    "name",
    [
        "Bufo marinus",  # a toad, not Bubo (owls): the genus changed by a third
        "Bufo japonicus",  # not Buteo japonicus
        "Allobates sp.",  # a frog genus, two edits from the coral genus Allopathes
        "Cycloramphus sp.",  # a frog genus, two edits from the parakeets Cyanoramphus
    ],
)
def test_real_names_outside_cites_are_not_fuzzy_hits(index: NameIndex, name: str) -> None:
    result = index.match(name)
    assert result.match_type is MatchType.NONE, result
    assert result.taxon_id is None


def test_misspelling_accuracy_on_real_species(index: NameIndex, taxa: list[ChecklistTaxon]) -> None:
    """1-2 random character edits of 2,500 real species names (seeded): at least 98 % must
    resolve to the right taxon, and a FUZZY answer must almost never be wrong."""
    rng = random.Random(20261125)
    species = [taxon for taxon in taxa if taxon.rank == "SPECIES"]
    sample = rng.sample(species, 2_500)
    right = fuzzy = fuzzy_wrong = 0
    for taxon in sample:
        result = index.match(misspell(taxon.full_name, rng))
        hit = result.taxon_id == taxon.taxon_id
        right += hit and result.match_type in (MatchType.FUZZY, MatchType.EXACT, MatchType.SYNONYM)
        if result.match_type is MatchType.FUZZY:
            fuzzy += 1
            fuzzy_wrong += not hit
    assert right / len(sample) >= 0.98
    assert fuzzy_wrong / fuzzy <= 0.005


# --- higher rank and none ----------------------------------------------------------------


def test_unknown_species_of_a_known_genus_is_higher_rank(index: NameIndex) -> None:
    result = index.match("Python foobaricus")
    assert_match(result, MatchType.HIGHER_RANK, PYTHON, "Python")
    assert result.rank == "GENUS"
    assert result.confidence < 100
    # The closest species are offered, never matched.
    assert all(candidate.rank != "GENUS" for candidate in result.alternatives)
    assert PYTHON_REGIUS in {candidate.taxon_id for candidate in result.alternatives}


def test_unknown_subspecies_is_higher_rank_with_the_species(index: NameIndex) -> None:
    result = index.match("Python molurus foobaricus")
    assert (result.match_type, result.matched_name, result.rank) == (
        MatchType.HIGHER_RANK,
        "Python molurus",
        "SPECIES",
    )


@pytest.mark.parametrize("name", ["Xqzt vwkly", "qwrtpsdf", "", "   ", "12345", "!!"])
def test_gibberish_is_none(index: NameIndex, name: str) -> None:
    result = index.match(name)
    assert result == MatchResult(name, MatchType.NONE, 0, None, None, None)


def test_match_many_keeps_order_and_repeats(index: NameIndex) -> None:
    names = ["Python regius", "Xqzt vwkly", "Ball Python", "Python regius"]
    results = index.match_many(names)
    assert [r.query for r in results] == names
    assert [r.match_type for r in results] == [
        MatchType.EXACT,
        MatchType.NONE,
        MatchType.COMMON_NAME,
        MatchType.EXACT,
    ]
    assert index.match_many(["Baiji"], kingdom="Animalia")[0].taxon_id == 4061
