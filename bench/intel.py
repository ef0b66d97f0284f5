"""Figures for intel-share, measured on this machine. A benchmark, not a test.

`match` (`pangolin_core.matching.EntityIndex`, behind `POST /v1/intel/match` and
`intel.rpc.match`):

1. Generate N entities (default 100,000; seeded, so every run holds the same ones): Vietnamese
   names with diacritics, Chinese names in Han with their pinyin as alias, Russian names in
   Cyrillic, and companies ("Golden Ivory Trading Co., Ltd.", "Công ty TNHH ...",
   "ООО «...»", GmbH, Sdn Bhd ...), with countries, some birth dates and passports.
2. Build the index: seconds, and the process's resident memory before and after.
3. Perturbed queries of known entities, as an officer would type them: no diacritics, Latin
   for Cyrillic, pinyin for Han (with and without spaces), family name last, another company
   form, capitals, a letter dropped. Throughput (queries/s, one query at a time, every entity
   visible) and accuracy: the entity is among the answers (default threshold 0.7), and it
   ranks first (a tie with an entity of the same name counts as first).
4. Unrelated names (generated with another seed, none in the index): the share that still
   gets an answer above the threshold (false alarms).

Other parts of intel-share add their figures as another `--only` choice (`BENCHMARKS`).

    uv run --frozen python bench/intel.py --only match
    uv run --frozen python bench/intel.py --only match --entities 20000 --queries 300
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from typing import Any

from rigour.text.translit import ascii_text

from pangolin_core.contracts.intel import MatchQuery
from pangolin_core.matching import EntityIndex, IndexedEntity


def words(text: str) -> list[str]:
    return text.split()


VN_FAMILY = words("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý")
VN_MIDDLE = words("Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Công Đình Kim Bảo Gia")
VN_GIVEN = words(
    "Hùng Minh Lan Hương Tuấn Dũng Hải Long Nam Phương Thảo Trang Anh Bình Cường Đạt Giang"
    " Hà Khánh Linh Mai Nga Phúc Quân Sơn Tâm Thắng Trung Vinh Yến Hiếu Khoa Lộc Nhân Tài"
    " Thịnh Toàn Việt Hòa Hạnh Huệ Loan Nhung Quyên Thúy Vân"
)
ZH_FAMILY = words("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐")
ZH_GIVEN = words(
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 华 建国"
    " 文 辉 玲 鹏 晓明 志强 海燕 建华 小红 德华 春梅 国庆 卫东 立新 红梅"
)
RU_GIVEN = words(
    "Иван Сергей Алексей Дмитрий Андрей Михаил Николай Владимир Павел Юрий Олег Артём"
    " Евгений Виктор Григорий Константин Роман Максим Денис Вадим Борис Фёдор"
    " Ольга Елена Наталья Анна Татьяна Ирина Светлана Мария Людмила Галина Ксения Дарья"
    " Вера Надежда Любовь Юлия Алина Полина Валентина Зоя"
)
RU_FAMILY = words(
    "Петров Иванов Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков Морозов Волков"
    " Соловьёв Васильев Зайцев Павлов Семёнов Голубев Виноградов Богданов Воробьёв"
    " Фёдоров Михайлов Беляев Тарасов Белов Комаров Орлов Киселёв Макаров Андреев"
    " Ковалёв Ильин Гусев Титов Кузьмин Кудрявцев Баранов Куликов Алексеев Степанов"
    " Яковлев Сорокин Сергеев Романов Захаров Борисов Королёв Герасимов Пономарёв"
    " Григорьев Лазарев Медведев Ершов Никитин Соболев Рябов Поляков Цветков Данилов Жуков"
)
RU_PATRONYMIC = words(
    "Иванович Сергеевич Петрович Николаевич Алексеевич Владимирович Андреевич Юрьевич"
    " Михайлович Дмитриевич Викторович Олегович"
)
CO_FIRST = words(
    "Golden Silver Jade Red Great Pacific Oriental Eastern Royal Lucky Dragon Phoenix Tiger"
    " Star Sun Ocean Green Blue Imperial Grand Prosperity Harmony Fortune Crystal Emerald"
    " Sapphire Diamond Lotus Bamboo Crane Panda Summit Horizon Atlas Coral Amber"
)
CO_GOODS = words(
    "Ivory Horn Timber Seafood Pharma Herbal Logistics Crafts Arts Shell Pearl Leather"
    " Exotic Pets Aquarium Orchid Wood Marine Medicine Jewellery Antiques Furniture Textile"
    " Agro Fisheries Freight Shipping Botanical Reptile Feather"
)
CO_PLACE = words(
    "Haiphong Lagos Mombasa Guangzhou Bangkok Saigon Hanoi Kunming Yangon Dar Entebbe"
    " Luanda Douala Kinshasa Jakarta Manila Penang Dubai Antwerp Hamburg Rotterdam Lome"
    " Maputo Beira Nairobi Harare Lusaka Accra Abidjan Dakar"
)
CO_ACTIVITY = ["Trading", "Import Export", "Holdings", "Industrial", "Enterprise", "Development"]
# Each form with another spelling of it, as a query would give it.
CO_FORMS = {
    "Co., Ltd.": "Company Limited",
    "Company Limited": "Co Ltd",
    "Ltd": "Limited",
    "Limited": "Ltd.",
    "LLC": "L.L.C.",
    "GmbH": "Gesellschaft mit beschränkter Haftung",
    "Sdn Bhd": "Sendirian Berhad",
    "Pte Ltd": "Private Limited",
    "Inc.": "Incorporated",
}
VN_CO_WORDS = words("Hải Long Phát Đạt Thành Công Minh Anh Hoàng Gia Phú Quý Việt Á Bảo Ngọc")


@dataclass(frozen=True, slots=True)
class Generated:
    entity: IndexedEntity
    # How an officer would type it: a few perturbed spellings.
    queries: tuple[str, ...]


def drop_letter(name: str, rng: random.Random) -> str:
    tokens = name.split()
    longest = max(range(len(tokens)), key=lambda n: len(tokens[n]))
    token = tokens[longest]
    if len(token) < 6:
        return name
    cut = rng.randrange(1, len(token) - 1)
    tokens[longest] = token[:cut] + token[cut + 1 :]
    return " ".join(tokens)


def vietnamese(rng: random.Random) -> tuple[list[str], list[str]]:
    family, given = rng.choice(VN_FAMILY), rng.choice(VN_GIVEN)
    middle = [rng.choice(VN_MIDDLE) for _ in range(rng.choice((1, 1, 2)))]
    name = " ".join([family, *middle, given])
    plain = ascii_text(name)
    queries = [plain, " ".join([given, family, *middle]), plain.upper(), drop_letter(plain, rng)]
    return [name], [ascii_text(q) for q in queries]


def chinese(rng: random.Random) -> tuple[list[str], list[str]]:
    family, given = rng.choice(ZH_FAMILY), rng.choice(ZH_GIVEN) + rng.choice(("", *ZH_GIVEN))
    name = family + given
    family_py, given_py = ascii_text(family).title(), ascii_text(given).replace(" ", "").title()
    pinyin = f"{family_py} {given_py}"
    return [name, pinyin], [pinyin, f"{given_py} {family_py}", f"{family_py}{given_py}"]


def russian(rng: random.Random) -> tuple[list[str], list[str]]:
    name = f"{rng.choice(RU_GIVEN)} {rng.choice(RU_PATRONYMIC)} {rng.choice(RU_FAMILY)}"
    latin = ascii_text(name)
    given, _patronymic, family = latin.split()
    return [name], [latin, f"{given} {family}", f"{family} {given}", drop_letter(latin, rng)]


def company(rng: random.Random) -> tuple[list[str], list[str]]:
    roll = rng.random()
    if roll < 0.15:
        core = " ".join(rng.sample(VN_CO_WORDS, 3))
        name = f"Công ty TNHH {core}"
        return [name, f"{ascii_text(core)} Co., Ltd."], [
            f"{ascii_text(core)} Company Limited",
            ascii_text(name).upper(),
        ]
    if roll < 0.25:
        chosen = rng.sample(["Золотой", "Северный", "Восток", "Тайга", "Амур", "Байкал"], 2)
        core = " ".join([*chosen, rng.choice(["Трейд", "Импорт", "Лес", "Меха"])])
        name = f"ООО «{core}»"
        return [name], [f"OOO {ascii_text(core)}", ascii_text(core)]
    form = rng.choice(list(CO_FORMS))
    parts = [rng.choice(CO_FIRST), rng.choice(CO_GOODS), rng.choice(CO_ACTIVITY)]
    if rng.random() < 0.6:
        parts.insert(rng.choice((0, 1)), rng.choice(CO_PLACE))
    core = " ".join(parts)
    name = f"{core} {form}"
    return [name], [
        f"{core} {CO_FORMS[form]}",
        name.upper(),
        f"{drop_letter(core, rng)} {form}",
    ]


Maker = Callable[[random.Random], tuple[list[str], list[str]]]
KINDS: tuple[tuple[str, Maker, str, float], ...] = (
    ("person", vietnamese, "VN", 0.30),
    ("person", chinese, "CN", 0.25),
    ("person", russian, "RU", 0.15),
    ("company", company, "HK", 0.30),
)


def generate(count: int, seed: int) -> list[Generated]:
    rng = random.Random(seed)
    out: list[Generated] = []
    for n in range(count):
        kind, make, country, _share = rng.choices(KINDS, weights=[k[3] for k in KINDS])[0]
        names, queries = make(rng)
        person = kind == "person"
        birth = date(rng.randrange(1950, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
        entity = IndexedEntity(
            entity_id=f"ent-{n}",
            record_id=f"rec-{n // 3}",
            kind="person" if person else "company",
            names=names,
            country=country if rng.random() < 0.8 else None,
            birth_date=birth if person and rng.random() < 0.5 else None,
            identifiers={"passport": f"{rng.randrange(10**8):08d}"}
            if person and rng.random() < 0.2
            else {},
        )
        out.append(Generated(entity, tuple(dict.fromkeys(q for q in queries if q))))
    return out


def rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_match(args: argparse.Namespace) -> dict[str, Any]:
    everyone: Callable[[object], bool] = lambda _access: True  # noqa: E731
    started = time.perf_counter()
    generated = generate(args.entities, args.seed)
    print(f"generated {len(generated):,} entities in {time.perf_counter() - started:.1f} s")
    # rigour loads its name tagger on first use (seconds): not part of building the index.
    EntityIndex([generated[0].entity])
    before = rss_mb()
    started = time.perf_counter()
    index = EntityIndex(
        (g.entity for g in generated), candidates=args.candidates, cutoff=args.cutoff
    )
    build_s = time.perf_counter() - started
    after = rss_mb()
    print(f"index build: {build_s:.1f} s; RSS {before:.0f} -> {after:.0f} MB")

    rng = random.Random(args.seed + 1)
    sample = rng.sample(generated, min(args.queries, len(generated)))
    queries = [(g, rng.choice(g.queries)) for g in sample]
    names_of = {g.entity.entity_id: g.entity.names[0] for g in generated}

    found = first = others = 0
    misses: Counter[str] = Counter()
    timings: list[float] = []
    for target, text in queries:
        query = MatchQuery(name=text, kind=target.entity.kind, limit=10)
        started = time.perf_counter()
        result = index.match(query, visible=everyone)
        timings.append(time.perf_counter() - started)
        answered = [m.entity_id for m in result.matches]
        others += sum(1 for m in result.matches if names_of[m.entity_id] != target.entity.names[0])
        # A homonym (same primary name) answered in the entity's place counts as found.
        same = [m for m in result.matches if names_of[m.entity_id] == target.entity.names[0]]
        if target.entity.entity_id in answered or same:
            found += 1
            if same and same[0].score >= result.matches[0].score:
                first += 1
        elif len(misses) < 12:
            misses[f"{text!r} -> {target.entity.names[0]!r}"] += 1
    total = sum(timings)
    n = len(queries)
    # The same queries again: the candidates' full name analysis is now cached (as it is for
    # entities asked about often), so this is the cost of blocking and scoring alone.
    started = time.perf_counter()
    for target, text in queries:
        index.match(MatchQuery(name=text, kind=target.entity.kind, limit=10), visible=everyone)
    warm_total = time.perf_counter() - started

    unrelated = generate(args.queries, args.seed + 7)
    known = {name for g in generated for name in g.entity.names}
    false_alarms = tried = 0
    for g in unrelated:
        if g.entity.names[0] in known:
            continue
        tried += 1
        query = MatchQuery(name=g.queries[0], kind=g.entity.kind)
        if index.match(query, visible=everyone).matches:
            false_alarms += 1

    figures = {
        "entities": len(index),
        "build_s": round(build_s, 1),
        "rss_before_mb": round(before),
        "rss_after_mb": round(after),
        "queries": n,
        "queries_per_s": round(n / total, 1),
        "queries_per_s_cached": round(n / warm_total, 1),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p99_ms": round(sorted(timings)[int(0.99 * (n - 1))] * 1000, 2),
        "found_share": round(found / n, 4),
        "first_share": round(first / n, 4),
        "other_answers_per_query": round(others / n, 2),
        "unrelated_queries": tried,
        "false_alarm_share": round(false_alarms / tried, 4) if tried else None,
    }
    print(
        f"match: {figures['queries_per_s']} queries/s (p50 {figures['p50_ms']} ms,"
        f" p99 {figures['p99_ms']} ms) over {len(index):,} entities, {n} perturbed queries;"
        f" asked again (name analyses cached): {figures['queries_per_s_cached']} queries/s"
    )
    print(
        f"accuracy: found {found / n:.1%}, ranked first {first / n:.1%},"
        f" other names answered {others / n:.2f} per query (limit 10);"
        f" unrelated names answered above the threshold: {figures['false_alarm_share']:.1%}"
        f" of {tried}"
    )
    for miss in misses:
        print(f"  missed: {miss}")
    return figures


BENCHMARKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {"match": bench_match}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000, help="perturbed queries")
    parser.add_argument("--candidates", type=int, default=40, help="scored precisely per query")
    parser.add_argument(
        "--cutoff", type=float, default=0.5, help="past `limit`, blocking score vs the best"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    print(
        f"python {platform.python_version()}, rigour {version('rigour')},"
        f" rapidfuzz {version('rapidfuzz')}, numpy {version('numpy')}"
    )
    figures = {name: BENCHMARKS[name](args) for name in args.only or sorted(BENCHMARKS)}
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
