"""The criteria language: every operator on facts, and every kind of mistake refused at
compile (save) time with its path in the tree."""

from __future__ import annotations

from typing import Any

import pytest

from risk_score.assessments.facts import Facts
from risk_score.profiles.criteria import InvalidCriteria, compile_criteria

FACTS = Facts(
    direction="export",
    office="KEMBA",
    export_country="NG",
    import_country="VN",
    origin_country="CM",
    exporter_country="NG",
    importer_country="VN",
    transport_mode="sea",
    transit=frozenset({"AE", "SG"}),
    countries=frozenset({"NG", "VN", "CM", "AE", "SG"}),
    species=frozenset({"manis tricuspis"}),
    genera=frozenset({"manis"}),
    appendices=frozenset({"I"}),
    terms=frozenset({"SCA"}),
    sources=frozenset({"W"}),
    purposes=frozenset({"T"}),
    units=frozenset({"kg"}),
    hs_codes=frozenset({"080132"}),
    finding_codes=frozenset({"PERMIT_NOT_FOUND"}),
    watchlist=frozenset({"trader", "hub"}),
    descriptions="Cashew  NUTS, roasted\nspare-parts",
    lines=2,
    max_quantity=500.0,
    total_value=1200.0,
    features={"quantity_zscore": 4.2, "new_exporter": True, "lines": 2},
)
EMPTY = Facts(direction="import", office="KEMBA")


def holds(tree: Any, facts: Facts = FACTS) -> bool:
    return compile_criteria(tree)(facts)


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"field": "export_country", "in": ["ng", "CM"]}, True),
        ({"field": "export_country", "in": ["KE"]}, False),
        ({"field": "countries", "in": ["SG"]}, True),
        ({"field": "species", "in": ["Manis  Tricuspis"]}, True),
        ({"field": "genera", "in": ["python"]}, False),
        ({"field": "appendices", "in": ["i"]}, True),
        ({"field": "terms", "in": ["SCA", "SKI"]}, True),
        ({"field": "direction", "op": "==", "value": "EXPORT"}, True),
        ({"field": "office", "op": "!=", "value": "KEMBA"}, False),
        ({"field": "hs_codes", "prefix": ["0801"]}, True),
        ({"field": "hs_codes", "prefix": ["0106.20"]}, False),
        ({"field": "origin_country", "prefix": ["C"]}, True),
        ({"field": "max_quantity", "op": ">=", "value": 500}, True),
        ({"field": "max_quantity", "op": ">", "value": 500}, False),
        ({"field": "lines", "op": "<", "value": 3}, True),
        ({"field": "lines", "op": "<=", "value": 1}, False),
        ({"field": "total_value", "op": "==", "value": 1200}, True),
        ({"field": "features.quantity_zscore", "op": ">", "value": 3}, True),
        ({"field": "features.quantity_zscore", "op": "<", "value": 3}, False),
        ({"field": "features.new_exporter", "op": "==", "value": True}, True),
        ({"field": "features.lines", "in": [1, 2]}, True),
        ({"field": "features.unit_value_ratio", "op": ">", "value": 0}, False),  # no value
        ({"watchlist": "trader"}, True),
        ({"watchlist": ["vessel", "route"]}, False),
        ({"transit_through": ["ae"]}, True),
        ({"transit_through": ["HK"]}, False),
        ({"findings_any": ["PERMIT_NOT_FOUND", "PERMIT_EXPIRED"]}, True),
        ({"findings_any": ["SIGNATURE_INVALID"]}, False),
        ({"description_matches": ["cashew nuts"]}, True),  # any run of spaces, any case
        ({"description_matches": ["spare parts"]}, False),  # "spare-parts" is not two words
        ({"description_matches": ["nut"]}, False),  # whole words only
        ({"description_regex": r"spare[- ]parts?"}, True),
        ({"all": [{"transit_through": ["AE"]}, {"watchlist": "hub"}]}, True),
        ({"all": [{"transit_through": ["AE"]}, {"watchlist": "vessel"}]}, False),
        ({"any": [{"transit_through": ["HK"]}, {"watchlist": "hub"}]}, True),
        ({"any": [{"transit_through": ["HK"]}, {"watchlist": "vessel"}]}, False),
        ({"not": {"watchlist": "vessel"}}, True),
        ({"not": {"all": [{"watchlist": "hub"}]}}, False),
        (
            {
                "all": [
                    {"watchlist": "hub"},
                    {"field": "lines", "op": ">", "value": 1},
                    {"transit_through": ["SG"]},
                    {"field": "terms", "in": ["SCA"]},
                ]
            },
            True,
        ),
        (
            {
                "all": [
                    {"watchlist": "hub"},
                    {"field": "lines", "op": ">", "value": 1},
                    {"transit_through": ["SG"]},
                    {"field": "terms", "in": ["LIV"]},
                ]
            },
            False,
        ),
        (
            {
                "any": [
                    {"watchlist": "route"},
                    {"field": "lines", "op": ">", "value": 5},
                    {"transit_through": ["HK"]},
                    {"field": "terms", "in": ["SCA"]},
                ]
            },
            True,
        ),
        (
            {
                "any": [
                    {"watchlist": "route"},
                    {"field": "lines", "op": ">", "value": 5},
                    {"transit_through": ["HK"]},
                    {"field": "terms", "in": ["LIV"]},
                ]
            },
            False,
        ),
        (
            {
                "any": [
                    {"watchlist": "route"},
                    {"field": "lines", "op": ">", "value": 5},
                    {"watchlist": "hub"},
                ]
            },
            True,
        ),
        (
            {
                "all": [
                    {"watchlist": "hub"},
                    {"field": "lines", "op": ">", "value": 1},
                    {"watchlist": "route"},
                ]
            },
            False,
        ),
    ],
)
def test_each_operator(tree: dict[str, Any], expected: bool) -> None:
    assert holds(tree) is expected


@pytest.mark.parametrize(
    "tree",
    [
        {"field": "export_country", "in": ["NG"]},
        {"field": "max_quantity", "op": ">", "value": 0},
        {"field": "total_value", "op": ">", "value": 0},
        {"field": "hs_codes", "prefix": ["01"]},
        {"field": "features.quantity_zscore", "op": ">", "value": 0},
        {"description_matches": ["nuts"]},
        {"transit_through": ["AE"]},
        {"watchlist": "trader"},
    ],
)
def test_what_a_declaration_does_not_know_is_false_not_an_error(tree: dict[str, Any]) -> None:
    assert holds(tree, EMPTY) is False


def test_a_feature_of_the_wrong_type_is_false() -> None:
    facts = Facts(direction="export", office="X", features={"quantity_zscore": "high"})
    assert holds({"field": "features.quantity_zscore", "op": ">", "value": 1}, facts) is False
    facts = Facts(direction="export", office="X", features={"new_exporter": 1})
    assert holds({"field": "features.new_exporter", "op": "==", "value": True}, facts) is False


@pytest.mark.parametrize(
    ("tree", "path", "words"),
    [
        ([], "criteria", "expected an object"),
        ({}, "criteria", "expected an object"),
        ({"all": [], "any": []}, "criteria", "one operator"),
        ({"eval": "1"}, "criteria", "unknown operator"),
        ({"all": []}, "criteria.all", "non-empty list"),
        (
            {"all": [{"not": {"watchlist": "boat"}}]},
            "criteria.all[0].not.watchlist",
            "unknown kind",
        ),
        ({"field": "exporter_name", "in": ["x"]}, "criteria.field", "unknown field"),
        ({"field": "features.made_up", "op": ">", "value": 1}, "criteria.field", "unknown feature"),
        ({"field": "export_country", "in": []}, "criteria.in", "non-empty list"),
        ({"field": "export_country", "in": ["NG", 3]}, "criteria.in[1]", "non-empty text"),
        ({"field": "lines", "in": ["2"]}, "criteria.in", "is a number"),
        ({"field": "lines", "op": "~", "value": 2}, "criteria.op", "unknown comparison"),
        ({"field": "lines", "op": ">", "value": "2"}, "criteria.value", "compare it with a number"),
        (
            {"field": "lines", "op": ">", "value": True},
            "criteria.value",
            "compare it with a number",
        ),
        ({"field": "countries", "op": ">", "value": "A"}, "criteria.op", "compared with `in`"),
        ({"field": "lines", "prefix": ["1"]}, "criteria.prefix", "not a text field"),
        ({"field": "lines"}, "criteria", "a field test takes"),
        ({"field": "features.new_exporter", "op": ">", "value": True}, "criteria.op", "== or !="),
        ({"field": "features.lines", "op": ">", "value": [1]}, "criteria.value", "expected a num"),
        ({"description_regex": "spare(parts"}, "criteria.description_regex", "regular expression"),
        ({"description_regex": "a" * 501}, "criteria.description_regex", "longer than"),
        ({"description_matches": "nuts"}, "criteria.description_matches", "list of text"),
        ({"transit_through": [""]}, "criteria.transit_through[0]", "non-empty text"),
    ],
)
def test_mistakes_are_refused_with_their_path(tree: Any, path: str, words: str) -> None:
    with pytest.raises(InvalidCriteria) as raised:
        compile_criteria(tree)
    error = raised.value
    assert error.status == 422
    assert error.errors[0]["field"] == path
    assert words in error.errors[0]["message"]


def test_every_mistake_is_listed_at_once() -> None:
    tree = {
        "any": [{"watchlist": "boat"}, {"field": "nope", "in": ["x"]}, {"transit_through": ["AE"]}]
    }
    with pytest.raises(InvalidCriteria) as raised:
        compile_criteria(tree)
    assert [e["field"] for e in raised.value.errors] == [
        "criteria.any[0].watchlist",
        "criteria.any[1].field",
    ]


def test_trees_too_deep_or_too_big_are_refused() -> None:
    deep: dict[str, Any] = {"watchlist": "trader"}
    for _ in range(20):
        deep = {"not": deep}
    with pytest.raises(InvalidCriteria, match="deeper"):
        compile_criteria(deep)
    wide = {"any": [{"watchlist": "trader"}] * 400}
    with pytest.raises(InvalidCriteria, match="nodes"):
        compile_criteria(wide)
