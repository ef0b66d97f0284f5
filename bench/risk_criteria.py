"""Which criteria language for targeting profiles: a JSON tree compiled to Python closures
(risk_score.profiles.criteria) or CEL (`common-expression-language` 0.10.0, Rust-backed).

The same 200 generated profiles are written both ways and evaluated over the same generated
declaration facts; both must agree on every evaluation. Prints evaluations/s (one profile on
one declaration) and what that means for 200 profiles per assessment. CEL is not a dependency
of the service; run with it added for the comparison:

    uv run --frozen --with common-expression-language==0.10.0 python bench/risk_criteria.py

Without it installed, only the closures are measured."""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from risk_score.assessments.facts import Facts
from risk_score.profiles.criteria import compile_criteria

COUNTRIES = ["NG", "CM", "CD", "CG", "GH", "KE", "TZ", "UG", "ZA", "MZ", "VN", "CN", "TH", "MY"]
HUBS = ["AE", "SG", "HK", "QA", "TR", "ET", "MY"]
WORDS = ["nuts", "cashew nuts", "spare parts", "fish maw", "dried seafood", "handicrafts"]
TERMS = ["LIV", "SKI", "SCA", "BOD", "TUS", "MEA", "SHE"]
GENERA = ["manis", "python", "psittacus", "testudo", "crocodylus", "loxodonta", "varanus"]
FINDINGS = ["PERMIT_NOT_FOUND", "PERMIT_EXPIRED", "SPECIES_MISMATCH", "QUANTITY_EXCEEDS_BALANCE"]


def _cel_list(values: list[str]) -> str:
    return json.dumps(values)


def _words_regex(words: list[str]) -> str:
    # RE2 has no lookbehind: word edges as (^|\W) ... ($|\W)
    alternatives = "|".join(w.replace(" ", "\\\\s+") for w in words)
    return f"(?i)(^|\\\\W)({alternatives})($|\\\\W)"


def generate_profiles(rng: random.Random, count: int) -> list[tuple[dict[str, Any], str]]:
    """`count` profiles as (JSON criteria tree, the same criteria in CEL)."""
    out: list[tuple[dict[str, Any], str]] = []
    for n in range(count):
        kind = n % 5
        if kind == 0:
            c, w = rng.sample(COUNTRIES, 3), rng.sample(WORDS, 2)
            tree = {"all": [{"field": "export_country", "in": c}, {"description_matches": w}]}
            cel = f'export_country in {_cel_list(c)} && descriptions.matches("{_words_regex(w)}")'
        elif kind == 1:
            h, c = rng.sample(HUBS, 2), rng.sample(COUNTRIES, 2)
            tree = {
                "all": [
                    {"transit_through": h},
                    {"field": "appendices", "in": ["I"]},
                    {"field": "export_country", "in": c},
                ]
            }
            cel = (
                f'transit.exists(t, t in {_cel_list(h)}) && "I" in appendices'
                f" && export_country in {_cel_list(c)}"
            )
        elif kind == 2:
            z, t = rng.choice([2.0, 3.0, 4.0]), rng.sample(TERMS, 3)
            tree = {
                "all": [
                    {"field": "features.quantity_zscore", "op": ">", "value": z},
                    {"field": "terms", "in": t},
                ]
            }
            cel = (
                f"has(features.quantity_zscore) && features.quantity_zscore > {z}"
                f" && terms.exists(x, x in {_cel_list(t)})"
            )
        elif kind == 3:
            f = rng.sample(FINDINGS, 2)
            tree = {"all": [{"watchlist": "trader"}, {"findings_any": f}]}
            cel = f'"trader" in watchlist && finding_codes.exists(x, x in {_cel_list(f)})'
        else:
            g, q = rng.sample(GENERA, 2), rng.choice([10, 100, 1000])
            tree = {
                "all": [
                    {"field": "genera", "in": g},
                    {"not": {"field": "direction", "op": "==", "value": "import"}},
                    {"field": "max_quantity", "op": ">=", "value": q},
                ]
            }
            cel = (
                f'genera.exists(x, x in {_cel_list(g)}) && !(direction == "import")'
                f" && max_quantity >= {float(q)}"
            )
        out.append((tree, cel))
    return out


def generate_facts(rng: random.Random, count: int) -> list[Facts]:
    out = []
    for _ in range(count):
        genus = rng.choice(GENERA)
        features: dict[str, Any] = {}
        if rng.random() < 0.7:
            features["quantity_zscore"] = round(rng.uniform(-1, 6), 2)
        out.append(
            Facts(
                direction=rng.choice(["export", "import", "re_export"]),
                office="KEMBA",
                export_country=rng.choice(COUNTRIES),
                import_country=rng.choice(COUNTRIES),
                transit=frozenset(rng.sample(HUBS, rng.choice([0, 0, 1, 2]))),
                species=frozenset({f"{genus} example"}),
                genera=frozenset({genus}),
                appendices=frozenset(rng.choice([["I"], ["II"], ["II"], ["III"]])),
                terms=frozenset(rng.sample(TERMS, 2)),
                finding_codes=frozenset(rng.sample(FINDINGS, rng.choice([0, 0, 0, 1]))),
                watchlist=frozenset(rng.choice([[], [], [], [], ["trader"], ["hub"]])),
                descriptions=rng.choice(["live animals", "Cashew nuts", "spare  parts", "skins"]),
                max_quantity=float(rng.choice([1, 5, 50, 500, 5000])),
                features=features,
            )
        )
    return out


def cel_context_values(facts: Facts) -> dict[str, Any]:
    return {
        "direction": facts.direction,
        "export_country": facts.export_country or "",
        "transit": sorted(facts.transit),
        "genera": sorted(facts.genera),
        "appendices": sorted(facts.appendices),
        "terms": sorted(facts.terms),
        "finding_codes": sorted(facts.finding_codes),
        "watchlist": sorted(facts.watchlist),
        "descriptions": facts.descriptions,
        "max_quantity": facts.max_quantity,
        "features": dict(facts.features),
    }


def measure(label: str, run: Callable[[], int], seconds: float) -> float:
    evaluations, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        evaluations += run()
    rate = evaluations / (time.perf_counter() - started)
    print(f"{label:<44} {rate:>12,.0f} evaluations/s  {1e6 / rate:6.2f} us each")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--declarations", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rng = random.Random(6)
    profiles = generate_profiles(rng, args.profiles)
    facts = generate_facts(rng, args.declarations)

    started = time.perf_counter()
    closures = [compile_criteria(tree) for tree, _ in profiles]
    compile_us = (time.perf_counter() - started) / len(profiles) * 1e6
    print(
        f"{len(profiles)} profiles x {len(facts)} declarations;"
        f" compile: closures {compile_us:.0f} us per profile"
    )
    expected = [[p(f) for p in closures] for f in facts]
    fired = sum(map(sum, expected)) / len(facts)
    print(f"profiles firing per declaration: {fired:.1f}")

    def run_closures() -> int:
        for f in facts:
            for p in closures:
                p(f)
        return len(facts) * len(closures)

    rate = measure("JSON tree -> closures", run_closures, args.seconds)
    print(f"  = {rate / len(closures):,.0f} assessments/s (criteria of {len(closures)} profiles)")

    try:
        import cel  # type: ignore[import-not-found]
    except ImportError:
        print("CEL: not installed (see the module docstring)")
        return
    started = time.perf_counter()
    programs = [cel.compile(expr) for _, expr in profiles]
    compile_us = (time.perf_counter() - started) / len(profiles) * 1e6
    print(f"compile: CEL {compile_us:.0f} us per profile")
    contexts = [cel.Context(cel_context_values(f)) for f in facts]
    got = [[bool(p.execute(c)) for p in programs] for c in contexts]
    mismatches = sum(
        a != b
        for row_a, row_b in zip(expected, got, strict=True)
        for a, b in zip(row_a, row_b, strict=True)
    )
    print(f"CEL agrees with the closures: {mismatches == 0} ({mismatches} differences)")

    def run_cel() -> int:
        for c in contexts:
            for p in programs:
                p.execute(c)
        return len(contexts) * len(programs)

    cel_rate = measure("CEL (common-expression-language 0.10.0)", run_cel, args.seconds)
    print(
        f"  = {cel_rate / len(programs):,.0f} assessments/s (criteria of {len(programs)} profiles)"
    )

    def run_cel_with_context() -> int:
        for f in facts[:50]:
            c = cel.Context(cel_context_values(f))
            for p in programs:
                p.execute(c)
        return 50 * len(programs)

    measure("CEL, building the context per declaration", run_cel_with_context, args.seconds)
    print(f"closures / CEL: {rate / cel_rate:.1f}x")


if __name__ == "__main__":
    main()
