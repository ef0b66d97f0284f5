"""The criteria language of targeting profiles: a small JSON tree, checked and compiled once
per profile version into nested Python closures over `Facts` (never `eval`ed).

Every mistake is found at save time and reported with its path in the tree
(`criteria.all[1].in`); a compiled criterion cannot fail at scoring time: a feature without a
value, or a field the declaration does not know (None), is simply false.
docs/risk-score.md is the reference; bench/risk_criteria.py compares this with CEL."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pangolin_core.errors import InvalidInput
from risk_score.assessments.facts import Facts
from risk_score.features.schemas import FEATURE_CATALOGUE

Predicate = Callable[[Facts], bool]
FieldKind = Literal["set", "str", "num"]
Case = Literal["upper", "lower", "asis", "digits"]


@dataclass(frozen=True)
class FieldSpec:
    kind: FieldKind
    case: Case
    doc: str


FIELDS: Mapping[str, FieldSpec] = {
    "direction": FieldSpec("str", "lower", "export, import, re_export or transit"),
    "office": FieldSpec("str", "asis", "The customs office declared"),
    "export_country": FieldSpec("str", "upper", "Country of export"),
    "import_country": FieldSpec("str", "upper", "Country of import"),
    "origin_country": FieldSpec("str", "upper", "Country of origin"),
    "exporter_country": FieldSpec("str", "upper", "The exporter's country"),
    "importer_country": FieldSpec("str", "upper", "The importer's country"),
    "transport_mode": FieldSpec("str", "lower", "air, sea, road, rail, post, other"),
    "transit": FieldSpec("set", "upper", "Transit countries"),
    "countries": FieldSpec("set", "upper", "Every country the declaration names"),
    "species": FieldSpec("set", "lower", "Species names of the lines (lower case)"),
    "genera": FieldSpec("set", "lower", "Genera of the lines (first word of the name)"),
    "appendices": FieldSpec("set", "upper", "Current CITES appendices of the lines' taxa"),
    "terms": FieldSpec("set", "upper", "CITES term codes of the lines"),
    "sources": FieldSpec("set", "upper", "CITES source codes of the lines"),
    "purposes": FieldSpec("set", "upper", "CITES purpose codes of the lines"),
    "units": FieldSpec("set", "lower", "Units of the lines"),
    "hs_codes": FieldSpec("set", "digits", "HS codes of the lines, digits only"),
    "finding_codes": FieldSpec("set", "upper", "Codes of the permit findings"),
    "watchlist": FieldSpec("set", "lower", "Kinds of watchlist entries hit"),
    "lines": FieldSpec("num", "asis", "Number of lines"),
    "max_quantity": FieldSpec("num", "asis", "Largest quantity of a line"),
    "total_value": FieldSpec("num", "asis", "Sum of the lines' declared amounts"),
}
WATCHLIST_KINDS = frozenset({"trader", "vessel", "route", "hub", "species", "concealment"})
COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
MAX_DEPTH = 12
MAX_NODES = 300
MAX_LIST = 1000
MAX_PATTERN = 500


class InvalidCriteria(InvalidInput):
    code, title = "invalid_criteria", "Invalid targeting criteria"


def compile_criteria(tree: Any, *, path: str = "criteria") -> Predicate:
    """Check `tree` and compile it; `InvalidCriteria` lists every mistake with its path."""
    compiler = _Compiler()
    predicate = compiler.node(tree, path, 0)
    if compiler.errors:
        raise InvalidCriteria(
            f"The criteria have {len(compiler.errors)} mistake(s): {compiler.errors[0]['field']}:"
            f" {compiler.errors[0]['message']}",
            errors=compiler.errors,
        )
    return predicate


def _never(_facts: Facts) -> bool:
    return False


# Two and three parts are the common case: a plain `and` / `or` chain costs a third of the
# generator that `all()` / `any()` would run (bench/risk_criteria.py).
def _all(parts: tuple[Predicate, ...]) -> Predicate:
    match parts:
        case (a,):
            return a
        case (a, b):
            return lambda f: a(f) and b(f)
        case (a, b, c):
            return lambda f: a(f) and b(f) and c(f)
    return lambda f: all(p(f) for p in parts)


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    match parts:
        case (a,):
            return a
        case (a, b):
            return lambda f: a(f) or b(f)
        case (a, b, c):
            return lambda f: a(f) or b(f) or c(f)
    return lambda f: any(p(f) for p in parts)


class _Compiler:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.nodes = 0

    def fail(self, path: str, message: str) -> Predicate:
        self.errors.append({"field": path, "message": message})
        return _never

    def node(self, tree: Any, path: str, depth: int) -> Predicate:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            return self.fail(path, f"the criteria have more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            return self.fail(path, f"the criteria nest deeper than {MAX_DEPTH} levels")
        if not isinstance(tree, dict) or not tree:
            return self.fail(path, 'expected an object such as {"all": [...]}')
        if "field" in tree:
            return self.leaf(tree, path)
        if len(tree) != 1:
            return self.fail(path, f"expected one operator, got {sorted(tree)}")
        ((op, arg),) = tree.items()
        sub = f"{path}.{op}"
        match op:
            case "all" | "any":
                if not isinstance(arg, list) or not arg:
                    return self.fail(sub, "expected a non-empty list of criteria")
                parts = tuple(self.node(t, f"{sub}[{i}]", depth + 1) for i, t in enumerate(arg))
                return _all(parts) if op == "all" else _any(parts)
            case "not":
                inner = self.node(arg, sub, depth + 1)
                return lambda f: not inner(f)
            case "watchlist":
                kinds = self.words(arg, sub, allowed=WATCHLIST_KINDS)
                return lambda f: not kinds.isdisjoint(f.watchlist)
            case "transit_through":
                hubs = self.codes(arg, sub, "upper")
                return lambda f: not hubs.isdisjoint(f.transit)
            case "findings_any":
                codes = self.codes(arg, sub, "upper")
                return lambda f: not codes.isdisjoint(f.finding_codes)
            case "description_matches":
                words = self.strings(arg, sub)
                if not words:
                    return _never
                # Whole words, case-insensitive, any run of spaces between the words.
                alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
                return self.search(rf"(?<!\w)(?:{alternatives})(?!\w)", sub)
            case "description_regex":
                if not isinstance(arg, str) or not arg:
                    return self.fail(sub, "expected a regular expression")
                return self.search(arg, sub)
            case _:
                return self.fail(
                    path,
                    f"unknown operator {op!r}: use all, any, not, watchlist, transit_through,"
                    " findings_any, description_matches, description_regex or a field test",
                )

    def search(self, pattern: str, path: str) -> Predicate:
        if len(pattern) > MAX_PATTERN:
            return self.fail(path, f"the pattern is longer than {MAX_PATTERN} characters")
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            return self.fail(path, f"not a valid regular expression: {exc}")
        find = compiled.search
        return lambda f: find(f.descriptions) is not None if f.descriptions else False

    def leaf(self, tree: dict[str, Any], path: str) -> Predicate:
        name = tree["field"]
        tests = [k for k in tree if k != "field"]
        if not isinstance(name, str):
            return self.fail(f"{path}.field", "expected a field name")
        if name.startswith("features."):
            feature = name.removeprefix("features.")
            if feature not in FEATURE_CATALOGUE:
                return self.fail(
                    f"{path}.field",
                    f"unknown feature {feature!r}: known are"
                    f" {', '.join(sorted(FEATURE_CATALOGUE))}",
                )
            spec = FieldSpec("str", "asis", "")
        elif name in FIELDS:
            feature = None
            spec = FIELDS[name]
        else:
            return self.fail(
                f"{path}.field",
                f"unknown field {name!r}: use features.<name> or one of {', '.join(FIELDS)}",
            )
        if tests == ["in"]:
            return self.membership(name, feature, spec, tree["in"], f"{path}.in")
        if tests == ["prefix"]:
            if spec.kind == "num" or feature is not None:
                return self.fail(f"{path}.prefix", f"{name} is not a text field")
            prefixes = tuple(sorted(self.codes(tree["prefix"], f"{path}.prefix", spec.case)))
            attr = operator.attrgetter(name)
            if spec.kind == "set":
                return lambda f: any(v.startswith(prefixes) for v in attr(f))
            return lambda f: (v := attr(f)) is not None and v.startswith(prefixes)
        if sorted(tests) == ["op", "value"]:
            return self.comparison(name, feature, spec, tree["op"], tree["value"], path)
        return self.fail(path, "a field test takes `in`, `prefix`, or `op` with `value`")

    def membership(
        self, name: str, feature: str | None, spec: FieldSpec, arg: Any, path: str
    ) -> Predicate:
        if feature is not None:
            if not isinstance(arg, list) or not arg or len(arg) > MAX_LIST:
                return self.fail(path, "expected a non-empty list of values")
            if not all(isinstance(v, str | int | float | bool) for v in arg):
                return self.fail(path, "expected text, numbers or booleans")
            values = frozenset(arg)
            return lambda f: (v := f.features.get(feature)) is not None and v in values
        if spec.kind == "num":
            return self.fail(path, f"{name} is a number: compare it with `op` and `value`")
        codes = self.codes(arg, path, spec.case)
        attr = operator.attrgetter(name)
        if spec.kind == "set":
            return lambda f: not codes.isdisjoint(attr(f))
        return lambda f: attr(f) in codes

    def comparison(
        self, name: str, feature: str | None, spec: FieldSpec, op: Any, value: Any, path: str
    ) -> Predicate:
        compare = COMPARISONS.get(op) if isinstance(op, str) else None
        if compare is None:
            return self.fail(
                f"{path}.op", f"unknown comparison {op!r}: use {', '.join(COMPARISONS)}"
            )
        if feature is not None:
            if isinstance(value, bool | str):
                if op not in ("==", "!="):
                    return self.fail(f"{path}.op", "text and booleans compare with == or != only")
            elif not isinstance(value, int | float):
                return self.fail(f"{path}.value", "expected a number, text or a boolean")

            def feature_test(f: Facts) -> bool:
                v = f.features.get(feature)
                if v is None or isinstance(v, bool) != isinstance(value, bool):
                    return False
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if not isinstance(v, int | float):
                        return False
                elif type(v) is not type(value):
                    return False
                return compare(v, value)

            return feature_test
        if spec.kind == "num":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return self.fail(f"{path}.value", f"{name} is a number: compare it with a number")
            attr = operator.attrgetter(name)
            return lambda f: (v := attr(f)) is not None and compare(v, value)
        if spec.kind == "str" and op in ("==", "!=") and isinstance(value, str):
            expected = _case(value, spec.case)
            attr = operator.attrgetter(name)
            return lambda f: (v := attr(f)) is not None and compare(v, expected)
        return self.fail(f"{path}.op", f"{name} is compared with `in` (or == / != on text)")

    def strings(self, arg: Any, path: str) -> list[str]:
        if not isinstance(arg, list) or not arg or len(arg) > MAX_LIST:
            self.fail(path, "expected a non-empty list of text values")
            return []
        bad = [i for i, v in enumerate(arg) if not isinstance(v, str) or not v.strip()]
        for i in bad:
            self.fail(f"{path}[{i}]", "expected non-empty text")
        return [v.strip() for v in arg if isinstance(v, str) and v.strip()]

    def codes(self, arg: Any, path: str, case: Case) -> frozenset[str]:
        return frozenset(_case(v, case) for v in self.strings(arg, path))

    def words(self, arg: Any, path: str, *, allowed: frozenset[str]) -> frozenset[str]:
        values = self.codes([arg] if isinstance(arg, str) else arg, path, "lower")
        unknown = sorted(values - allowed)
        if unknown:
            self.fail(path, f"unknown kind(s) {unknown}: use {', '.join(sorted(allowed))}")
        return values


def _case(value: str, case: Case) -> str:
    value = " ".join(value.split())
    if case == "upper":
        return value.upper()
    if case == "lower":
        return value.lower()
    if case == "digits":
        return value.replace(".", "").replace(" ", "")
    return value
