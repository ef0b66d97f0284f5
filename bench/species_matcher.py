"""Figures for species-ref's checklist parser and name index, measured on this machine.

1. Parse the real CITES checklist (38,079 rows) with `read_checklist`.
2. Build the `NameIndex` from its accepted names, synonyms and common names: build time, and
   the memory the index holds (tracemalloc, in a second build, since tracing slows building).
3. Exact names/s: every reference name as stored, shuffled (seeded), through `match`; and
   accepted names as people type them (in capitals, or followed by their author and year).
4. Fuzzy names/s: real species names with 1-2 random character edits (substitution,
   insertion, deletion, swap of neighbours; seeded), and the share resolved to the right
   taxon (FUZZY, or EXACT/SYNONYM when the edit undid itself).
5. Real-world unknowns: the genus + species pairs of the LEMIS amphibian imports (mostly
   species CITES does not list): how they are classified, and every FUZZY among them, since
   a FUZZY there is a likely false positive.

Timed figures are the median of `--runs` runs, each set beside /work/shared/MEASURED.md
(rapidfuzz `extractOne` over all names: 64 q/s with WRatio, 457 q/s with ratio). Loops are
bounded by count and by time. A benchmark, not a test:

    uv run --frozen python bench/species_matcher.py --help
"""

from __future__ import annotations

import argparse
import csv
import platform
import random
import shlex
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

from species_ref.checklist import ChecklistTaxon, read_checklist
from species_ref.matching import (
    MatchResult,
    MatchType,
    NameIndex,
    NameRecord,
    records_from_checklist,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHECKLIST = DATA / "species" / "cites_checklist_2017-04-21.csv.gz"
LEMIS = (
    DATA / "trade" / "lemis_amphibians_1999_2015.csv",
    DATA / "trade" / "lemis_amphibians_2016_2021.csv",
)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def misspell(name: str, rng: random.Random) -> str:
    """`name` with one or two random edits: substitution, insertion, deletion or swap."""
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


def timed_matches(
    index: NameIndex, queries: Sequence[str], max_seconds: float
) -> tuple[list[MatchResult], float]:
    """Match queries in order until done or `max_seconds` passed: (results, queries per s)."""
    results: list[MatchResult] = []
    started = time.perf_counter()
    deadline = started + max_seconds
    for query in queries:
        results.append(index.match(query))
        if len(results) % 500 == 0 and time.perf_counter() > deadline:
            break
    return results, len(results) / (time.perf_counter() - started)


def median_rate(
    index: NameIndex, queries: Sequence[str], args: argparse.Namespace
) -> tuple[list[MatchResult], str]:
    """`timed_matches` `args.runs` times: the last run's results, and "median (min-max)"."""
    rates = []
    for _ in range(args.runs):
        results, rate = timed_matches(index, queries, args.max_seconds)
        rates.append(rate)
    return (
        results,
        f"{statistics.median(rates):,.0f} names/s (runs {min(rates):,.0f}-{max(rates):,.0f})",
    )


def share(results: Sequence[MatchResult], predicate: Callable[[MatchResult], bool]) -> str:
    return f"{sum(map(predicate, results)) / max(1, len(results)):.2%}"


def lemis_names() -> list[str]:
    names: set[str] = set()
    for path in LEMIS:
        with path.open(encoding="utf-8", newline="") as text:
            for row in csv.DictReader(text):
                genus, species = row["genus"], row["species"]
                if genus not in ("NA", "Non-CITES entry") and species != "NA":
                    names.add(f"{genus} {species}")
    return sorted(names)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--exact", type=int, default=200_000, help="exact queries at most")
    parser.add_argument("--fuzzy", type=int, default=5_000, help="misspelt names")
    parser.add_argument("--runs", type=int, default=3, help="runs per timed figure")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="per timed run")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    print(f"command: uv run --frozen python {shlex.join(sys.argv)}")
    print(
        f"python {platform.python_version()}, rapidfuzz {version('rapidfuzz')},"
        f" numpy {version('numpy')}, {platform.machine()}"
    )

    started = time.perf_counter()
    taxa: list[ChecklistTaxon] = list(read_checklist(CHECKLIST))
    print(f"parse checklist: {len(taxa):,} taxa in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    records: list[NameRecord] = records_from_checklist(taxa)
    index = NameIndex.build(records)
    build_seconds = time.perf_counter() - started
    kinds = Counter(record.kind for record in records)
    print(
        f"build index: {len(records):,} names ({kinds['accepted']:,} accepted,"
        f" {kinds['synonym']:,} synonyms, {kinds['common']:,} common) in {build_seconds:.2f} s"
    )
    del index
    tracemalloc.start()
    index = NameIndex.build(records)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"index memory (tracemalloc): {held / 1e6:.1f} MB held, {peak / 1e6:.1f} MB peak")

    rng = random.Random(args.seed)
    stored = [record.name for record in records]
    rng.shuffle(stored)
    stored = (stored * (args.exact // len(stored) + 1))[: args.exact]
    results, rate = median_rate(index, stored, args)
    print(
        f"exact, names as stored: {rate} over {len(results):,} names,"
        f" {share(results, lambda r: r.match_type is not MatchType.NONE)} found"
        f"  [MEASURED.md: a bare dict lookup 7-16 M/s]"
    )
    typed = [
        f"{taxon.full_name.upper()} {taxon.author_year or ''}".strip()
        if number % 2
        else f"  {taxon.full_name} {taxon.author_year or ''}"
        for number, taxon in enumerate(rng.sample(taxa, min(args.exact, len(taxa))))
    ]
    results, rate = median_rate(index, typed, args)
    print(
        f"exact, accepted names in capitals or with their authors: {rate} over"
        f" {len(results):,} names, {share(results, lambda r: r.match_type is MatchType.EXACT)}"
        " EXACT"
    )

    species = [taxon for taxon in taxa if taxon.rank == "SPECIES"]
    sample = rng.sample(species, min(args.fuzzy, len(species)))
    misspelt = [misspell(taxon.full_name, rng) for taxon in sample]
    results, rate = median_rate(index, misspelt, args)
    pairs = list(zip(results, sample, strict=False))
    right = sum(
        result.taxon_id == taxon.taxon_id
        and result.match_type in (MatchType.FUZZY, MatchType.EXACT, MatchType.SYNONYM)
        for result, taxon in pairs
    )
    fuzzy = [(result, taxon) for result, taxon in pairs if result.match_type is MatchType.FUZZY]
    fuzzy_right = sum(result.taxon_id == taxon.taxon_id for result, taxon in fuzzy)
    print(
        f"fuzzy, 1-2 edit misspellings of species names: {rate} over {len(results):,} names;"
        f" {right / len(results):.2%} right; FUZZY precision {fuzzy_right / len(fuzzy):.2%};"
        f" types {dict(Counter(str(r.match_type) for r in results))}"
        f"  [MEASURED.md: extractOne ratio 457 q/s, 99.7 %; WRatio 64 q/s, 98.1 %]"
    )

    unknowns = lemis_names()
    lemis = [index.match(name) for name in unknowns]
    print(
        f"LEMIS amphibian names: {len(lemis):,},"
        f" types {dict(Counter(str(result.match_type) for result in lemis))}"
    )
    for result in lemis:
        if result.match_type is MatchType.FUZZY:
            print(f"  FUZZY {result.query!r} -> {result.matched_name!r} ({result.confidence})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(parse_args()))
