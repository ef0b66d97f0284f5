"""The checklist parser against the real CITES checklist export (2017-04-21, 38,079 taxa)."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest

from species_ref.checklist import (
    COLUMNS,
    NAME_PARTICLES,
    ChecklistRowError,
    ChecklistTaxon,
    CommonName,
    Distribution,
    Synonym,
    parse_row,
    read_checklist,
    read_country_codes,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CHECKLIST = DATA / "species" / "cites_checklist_2017-04-21.csv.gz"
PARTIES = DATA / "codes" / "cites_parties.tsv"


@pytest.fixture(scope="module")
def taxa() -> list[ChecklistTaxon]:
    return list(read_checklist(CHECKLIST))


@pytest.fixture(scope="module")
def by_name(taxa: list[ChecklistTaxon]) -> dict[str, ChecklistTaxon]:
    return {taxon.full_name: taxon for taxon in taxa}


@pytest.fixture(scope="module")
def raw_rows() -> list[dict[str, str]]:
    with gzip.open(CHECKLIST, "rt", encoding="utf-8", newline="") as text:
        return list(csv.DictReader(text))


def test_every_row_parses(taxa: list[ChecklistTaxon]) -> None:
    assert len(taxa) == 38_079
    assert len({taxon.taxon_id for taxon in taxa}) == 38_079
    assert {taxon.kingdom for taxon in taxa} == {"Animalia", "Plantae"}
    assert {taxon.rank for taxon in taxa} == {
        "SPECIES",
        "GENUS",
        "FAMILY",
        "ORDER",
        "SUBSPECIES",
        "VARIETY",
        "SUBFAMILY",
    }
    assert sum(taxon.cites_accepted for taxon in taxa) == 16_392


def test_species_of_appendix_ii(by_name: dict[str, ChecklistTaxon]) -> None:
    python = by_name["Python regius"]
    assert python.taxon_id == 5467
    assert (python.kingdom, python.class_name, python.order, python.family) == (
        "Animalia",
        "Reptilia",
        "Serpentes",
        "Pythonidae",
    )
    assert (python.genus, python.species, python.subspecies) == ("Python", "regius", None)
    assert python.author_year == "(Shaw, 1802)"
    assert python.rank == "SPECIES"
    assert python.appendices == ("II",)
    assert python.annotations == {"II": "Included in Pythonidae spp."}
    assert python.full_annotations == {}  # "Appendix II: " only: empty texts are dropped
    assert python.cites_accepted


def test_species_of_appendices_i_and_ii_with_annotations(
    by_name: dict[str, ChecklistTaxon],
) -> None:
    lion = by_name["Panthera leo"]
    assert lion.appendices == ("I", "II")
    assert lion.annotations == {"II": "Included in Felidae spp."}
    full = lion.full_annotations["II"]
    assert full.startswith("For Panthera leo (African populations): a zero annual export quota")
    assert "<i>" not in full

    elephant = by_name["Loxodonta africana"]
    assert elephant.appendices == ("I", "II")
    assert elephant.annotations == {
        "I": "All populations except those of BW, NA, ZA, and ZW.",
        "II": "Populations of BW, NA, ZA, ZW",
    }
    assert "\xa0" not in elephant.full_annotations["I"]
    assert elephant.full_annotations["I"].startswith("Included in Appendix I, except the")
    paragraphs = elephant.full_annotations["II"]
    assert "<p>" not in paragraphs
    assert "\na) trade in hunting trophies for non-commercial purposes;\nb) trade" in paragraphs
    assert "\ni) only registered government-owned stocks" in paragraphs  # indentation gone


def test_species_of_appendix_iii_and_repeated_annotations(
    by_name: dict[str, ChecklistTaxon],
) -> None:
    ratel = by_name["Mellivora capensis"]
    assert ratel.appendices == ("III",)
    assert ratel.rank == "SPECIES"

    cedar = by_name["Cedrela odorata"]
    assert cedar.appendices == ("III",)
    # One App. III entry per listing party, joined; the repeated #5 texts collapse to two.
    assert cedar.annotations == {
        "III": "Population of GT.\n\nPopulation of CO.\n\nPopulation of PE."
    }
    assert cedar.hash_annotations == {
        "III": "#5 Logs, sawn wood and veneer sheets"
        "\n\n#5 Designates logs, sawn wood and veneer sheets"
    }
    assert not cedar.cites_accepted


def test_listing_tokens(by_name: dict[str, ChecklistTaxon], taxa: list[ChecklistTaxon]) -> None:
    assert by_name["Cervus elaphus"].appendices == ("I", "II", "III", "NC")
    assert by_name["Agapornis roseicollis"].appendices == ("NC",)
    assert sum(taxon.appendices == () for taxon in taxa) == 33


def test_hash_annotation_carries_its_symbol(by_name: dict[str, ChecklistTaxon]) -> None:
    text = by_name["Aa"].hash_annotations["II"]
    assert text.startswith("#4 All parts and derivatives, except:\na) seeds")
    # A "#Annotation" text without a symbol is a note, kept as it is.
    assert by_name["Salvator merianae"].hash_annotations == {
        "II": "Originally listed as Tupinambis, from which Salvator was split in 2017,"
        " following taxonomic changes adopted at CoP17."
    }


def test_image_in_full_annotation_becomes_its_address(by_name: dict[str, ChecklistTaxon]) -> None:
    text = by_name["Vicugna vicugna"].full_annotations["II"]
    assert "<img" not in text
    assert "[image: https://www.dropbox.com/s/kzwv8tfy6pzo6m3/" in text


def test_synonyms_with_authors(by_name: dict[str, ChecklistTaxon]) -> None:
    assert by_name["Python regius"].synonyms == (
        Synonym("Python bellii", "Gray, 1842"),
        Synonym("Enygrus regius", "(Shaw, 1802)"),
        Synonym("Boa regia", "Shaw, 1802"),
        Synonym("Cenchris regia", "(Shaw, 1802)"),
        Synonym("Hortulia regia", "(Shaw, 1802)"),
    )
    assert by_name["Loxodonta africana"].synonyms == (
        Synonym("Loxodonta cyclotis", "(Matschie, 1900)"),
    )


def test_synonyms_whose_authors_hold_commas(by_name: dict[str, ChecklistTaxon]) -> None:
    frog = by_name["Andinobates daleswansoni"].synonyms
    assert frog[0] == Synonym(
        "Ranitomeya daleswansoni", "(Rueda-Almonacid, Rada, Sánchez-Pacheco, et al., 2006)"
    )
    assert frog[-1].name == "Andinobates daleswansoni"
    assert frog[-1].author is not None
    assert frog[-1].author.startswith("Brown, Twomey, Amézquita, Barbosa de Souza, Caldwell,")
    assert frog[-1].author.endswith("Sanchez-Rodriguez & Summers, 2011")

    assert by_name["Penkimia"].synonyms == (
        Synonym("Chenorchis", "Z.J.Liu, K.W.Liu & L.J.Chen"),  # a genus: a uninomial synonym
    )
    fern = by_name["Cyathea bullata"].synonyms
    assert Synonym("Cyathea melanotricha", "(Tardieu 1941) Tindale 1956") in fern


def test_synonyms_without_author_and_odd_names(by_name: dict[str, ChecklistTaxon]) -> None:
    assert by_name["Caracara lutosa"].synonyms == (
        Synonym("Caracara lutosus", "(Ridgway, 1876)"),
        Synonym("Polyborus lutosus", "Ridgway, 1876"),
        Synonym("Caracara plancus lutosus", None),
        Synonym("Polyborus plancus lutosus", None),
    )
    assert Synonym("Phyllomedusa (agalychnis) helenae", "Lutz, 1950") in (
        by_name["Agalychnis callidryas"].synonyms
    )
    assert Synonym("Dendrobates tinctorius var. daudini", "Steindachner, 1864") in (
        by_name["Dendrobates tinctorius"].synonyms
    )
    assert Synonym("Ornithoptera priamos poseidon x ornithoptera rothschildi", None) in (
        by_name["Ornithoptera akakeae"].synonyms
    )
    assert Synonym("Cercopithecus salongo", "Thys van Audenaerde, 1977") in (
        by_name["Cercopithecus dryas"].synonyms
    )


def test_synonym_split_over_all_rows(taxa: list[ChecklistTaxon]) -> None:
    synonyms = [synonym for taxon in taxa for synonym in taxon.synonyms]
    assert len(synonyms) > 33_000
    assert sum(synonym.author is None for synonym in synonyms) < 400
    # A synonym name is a capitalised genus and lower-case words: nothing of an author.
    odd = [s for s in synonyms if not s.name[0].isupper() or any(c.isdigit() for c in s.name)]
    assert odd == []
    # No author holds ", Genus epithet": a missed split. (Two synonyms the export marks as
    # doubtful, "Broughtonia nonchinensis?" and "Siredon spec.?", stay in the author before.)
    binomial = re.compile(r"(?:^|, )[A-Z][a-z]+ ([a-z][a-z-]+)(?=[ ,]|$)")
    missed = [
        s.name
        for s in synonyms
        if s.author and any(m.group(1) not in NAME_PARTICLES for m in binomial.finditer(s.author))
    ]
    assert missed == []


def test_common_names_in_three_languages(by_name: dict[str, ChecklistTaxon]) -> None:
    assert by_name["Python regius"].common_names == (
        CommonName("Ball Python", "EN"),
        CommonName("Royal Python", "EN"),
        CommonName("Pitón real", "ES"),
        CommonName("Python royal", "FR"),
    )
    french = [c.name for c in by_name["Loxodonta africana"].common_names if c.language == "FR"]
    assert french == ["Eléphant africain", "Eléphant d'Afrique"]


def test_distributions_with_tags(by_name: dict[str, ChecklistTaxon]) -> None:
    elephant = by_name["Loxodonta africana"].distributions
    assert Distribution("KE", "native") in elephant
    assert Distribution("BI", "extinct") in elephant
    # Swaziland is both: the elephant was exterminated there and reintroduced.
    assert [d.tag for d in elephant if d.country == "SZ"] == ["reintroduced", "extinct"]
    assert [d.country for d in elephant][:3] == ["AO", "BJ", "BW"]  # in the file's order

    lion = {d.country: d.tag for d in by_name["Panthera leo"].distributions}
    assert (lion["CI"], lion["GW"], lion["IN"]) == ("extinct_uncertain", "uncertain", "native")
    deer = {(d.country, d.tag) for d in by_name["Cervus elaphus"].distributions}
    assert {("AR", "introduced"), ("BY", "reintroduced"), ("BY", "extinct")} <= deer


def test_country_names_with_commas(by_name: dict[str, ChecklistTaxon]) -> None:
    crocodile = by_name["Crocodylus porosus"].distributions
    assert Distribution("HK", "native") in crocodile  # "Hong Kong, SAR"
    assert Distribution("TH", "extinct_uncertain") in crocodile
    assert len({d.country for d in crocodile}) == 21


def test_codes_and_names_are_aligned(
    raw_rows: list[dict[str, str]], taxa: list[ChecklistTaxon]
) -> None:
    """Every listed code is tagged, and the codes the parser derived from the tagged full
    names agree with the CITES party list wherever the name is spelt the same."""
    party_code = read_country_codes(PARTIES)
    disagreements = []
    for row, taxon in zip(raw_rows, taxa, strict=True):
        codes = [code for code in row["All_DistributionISOCodes"].split(", ") if code]
        assert {d.country for d in taxon.distributions} == set(codes)
        for name in row["NativeDistributionFullNames"].split(", "):
            if name in party_code and party_code[name] not in codes:
                disagreements.append((taxon.full_name, name))
    assert disagreements == []


def test_species_column_repaired(by_name: dict[str, ChecklistTaxon]) -> None:
    assert by_name["Salvator merianae"].species == "merianae"  # file: "salvator merianae"
    assert by_name["Rhampholeon gorongosae"].species == "gorongosae"  # file: ""
    assert by_name['Dactylocnemis "North Cape"'].species == '"north cape"'  # informal, as is


def _row(**changes: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        TaxonId="1",
        Kingdom="Animalia",
        Genus="Python",
        Species="regius",
        FullName="Python regius",
        RankName="SPECIES",
        CurrentListing="II",
        CitesAccepted="true",
        All_DistributionISOCodes="BJ, TW",
        All_DistributionFullNames="Benin, Taiwan, Province of China",
        NativeDistributionFullNames="Benin, Taiwan, Province of China",
    )
    row.update(changes)
    return row


def test_a_well_formed_row() -> None:
    taxon = parse_row(_row())
    assert taxon.distributions == (Distribution("BJ", "native"), Distribution("TW", "native"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"TaxonId": "12a"}, "TaxonId"),
        ({"RankName": "CLADE"}, "RankName"),
        ({"CurrentListing": "II/IV"}, "CurrentListing"),
        ({"Kingdom": "Fungi"}, "Kingdom"),
        ({"CitesAccepted": "yes"}, "CitesAccepted"),
        ({"FullName": " "}, "FullName"),
        ({"All_DistributionISOCodes": "BJ"}, "All_DistributionFullNames"),
        ({"Extinct_Distribution": "Atlantis"}, "Extinct_Distribution"),
        ({"NativeDistributionFullNames": "Benin"}, "All_DistributionISOCodes"),
        ({"AnnotationEnglish": "stray text Appendix II: x"}, "AnnotationEnglish"),
    ],
)
def test_a_malformed_row_names_its_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(ChecklistRowError) as raised:
        parse_row(_row(**changes))
    assert raised.value.field == field
    assert raised.value.message
    assert raised.value.row is None


def test_the_error_carries_the_row_number(tmp_path: Path) -> None:
    path = tmp_path / "checklist.csv"
    with path.open("w", encoding="utf-8", newline="") as text:
        writer = csv.DictWriter(text, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow(_row())
        writer.writerow(_row(TaxonId="2", RankName="CLADE"))
    reader = read_checklist(path)
    assert next(reader).taxon_id == 1
    with pytest.raises(ChecklistRowError, match="row 2, RankName") as raised:
        next(reader)
    assert (raised.value.row, raised.value.field) == (2, "RankName")
    assert isinstance(raised.value, ValueError)


def test_a_name_missing_from_the_row_falls_back_to_the_party_list() -> None:
    row = _row(Introduced_Distribution="Cape Verde")
    with pytest.raises(ChecklistRowError):
        parse_row(row)
    taxon = parse_row(row, country_codes=read_country_codes(PARTIES))
    assert Distribution("CV", "introduced") in taxon.distributions
