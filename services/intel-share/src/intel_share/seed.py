"""What `pangolin up` loads into a fresh intel-share database: a handful of demo intelligence
records that show matching and, through their events, risk-score's watchlists. A trafficking
network (an alert on its modus operandi and route), a Vietnamese trader and his company (with
Cyrillic and unaccented aliases) who are part of it, a seizure whose route goes through a hub,
and an alert on pangolin scales declared as "spare parts".

The records have fixed ids and are created through `records.service.create` (so their events
go through the outbox and are published when the service starts); one already there is left
alone, so running it again changes nothing. Dates are relative to the day of seeding, so the
alerts are in force in a demo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from intel_share.records import repository
from intel_share.records import service as records
from intel_share.records.schemas import RecordIn
from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.contracts.roles import Role
from pangolin_core.db import Database
from pangolin_core.identity import Caller
from pangolin_core.settings import ServiceSettings

# Who reports what: Kenya's customs (the demo clients are Kenyan) and Viet Nam's, a partner.
KE_CUSTOMS = Caller(
    client_id="demo-seed-customs-ke",
    country="KE",
    roles=frozenset({Role.CUSTOMS.value}),
    scopes=frozenset({"intel:read", "intel:write"}),
)
VN_CUSTOMS = Caller(
    client_id="demo-seed-customs-vn",
    country="VN",
    roles=frozenset({Role.CUSTOMS.value}),
    scopes=frozenset({"intel:read", "intel:write"}),
)


def demo_id(slug: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://pangolin.invalid/demo/intel/{slug}")


NETWORK, TRADER, COMPANY = demo_id("network"), demo_id("trader"), demo_id("company")
SEIZURE, SPARE_PARTS = demo_id("seizure-mombasa"), demo_id("alert-spare-parts")


def demo_records(today: date) -> list[tuple[Caller, dict[str, Any]]]:
    """The demo records in creation order (a record's relationships may name a later one)."""
    community = {"level": "community"}
    network = {
        "id": str(NETWORK),
        "type": "alert",
        "title": "Mekong Tusk network: ivory and scales from East Africa to Hai Phong",
        "description": (
            "A trafficking network buying raw ivory and pangolin scales in Kenya and Tanzania,"
            " consolidated in Mombasa and shipped to Hai Phong through Jebel Ali."
        ),
        "grading": {"scheme": "admiralty", "source": "B", "information": "2"},
        "tlp": "green",
        "distribution": community,
        "alert": {
            "modus_operandi": (
                "Front companies in Viet Nam import 'machinery' from Mombasa; containers are"
                " transshipped in Dubai to break the trail."
            ),
            "concealment_method": "machine parts",
            "routes": [{"from_country": "KE", "to_country": "VN", "via": ["AE"]}],
            "species": ["Loxodonta africana", "Manis temminckii"],
            "valid_from": (today - timedelta(days=90)).isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat(),
        },
    }
    trader = {
        "id": str(TRADER),
        "type": "entity",
        "title": "Nguyễn Văn Hùng, trader, Hai Phong",
        "description": "Buyer and financier of the Mekong Tusk network.",
        "grading": {"scheme": "admiralty", "source": "B", "information": "3"},
        "tlp": "amber",
        "distribution": community,
        "entity": {
            "kind": "person",
            "name": "Nguyễn Văn Hùng",
            "aliases": [
                {"name": "Nguyen Van Hung", "language": "vi", "script": "Latn"},
                {"name": "Нгуен Ван Хунг", "language": "ru", "script": "Cyrl"},
                {"name": "Hung Nguyen", "language": "en", "script": "Latn"},
            ],
            "identifiers": {"passport": "C4567821"},
            "birth_date": "1975-04-30",
            "country": "VN",
            "address": "Lê Hồng Phong, Ngô Quyền, Hải Phòng",
        },
        "relationships": [{"kind": "part_of_network", "target_id": str(NETWORK)}],
    }
    company = {
        "id": str(COMPANY),
        "type": "entity",
        "title": "Golden Ivory Trading Co., Ltd., Hai Phong",
        "description": "Importer of record of the network's containers.",
        "grading": {"scheme": "admiralty", "source": "B", "information": "2"},
        "tlp": "amber",
        "distribution": community,
        "entity": {
            "kind": "company",
            "name": "Golden Ivory Trading Co., Ltd.",
            "aliases": [
                {"name": "Công ty TNHH Thương mại Ngà Vàng", "language": "vi", "script": "Latn"},
                {"name": "GOLDEN IVORY TRADING COMPANY LIMITED", "language": "en"},
            ],
            "identifiers": {"tax_id": "0201234567"},
            "country": "VN",
        },
        "relationships": [
            {"kind": "part_of_network", "target_id": str(NETWORK)},
            {"kind": "owned_by", "target_id": str(TRADER)},
        ],
    }
    seizure = {
        "id": str(SEIZURE),
        "type": "seizure",
        "title": "Ivory and pangolin scales in machine parts, Mombasa",
        "description": "Two containers declared as used machine parts, bound for Hai Phong.",
        "grading": {"scheme": "admiralty", "source": "A", "information": "1"},
        "tlp": "green",
        "distribution": community,
        "seizure": {
            "seized_on": (today - timedelta(days=30)).isoformat(),
            "place": "Kilindini port, Mombasa",
            "office": "KEMBA",
            "agency": "Kenya Revenue Authority, Customs and Border Control",
            "detection_method": "x-ray",
            "specimens": [
                {
                    "species": "Loxodonta africana",
                    "term": "TUS",
                    "quantity": "412",
                    "unit": "KIL",
                    "value": "620000",
                    "currency": "USD",
                },
                {"species": "Manis temminckii", "term": "SCA", "quantity": "1300", "unit": "KIL"},
            ],
            "concealment": "machine parts",
            "transport_mode": "sea",
            "origin_countries": ["TZ"],
            "export_countries": ["KE"],
            "transit_countries": ["AE"],
            "destination_countries": ["VN"],
            "offenders": [str(TRADER)],
            "legal_outcome": "prosecution pending",
            "disposal": "held as evidence",
        },
        "relationships": [
            {"kind": "shipped_by", "target_id": str(COMPANY)},
            {"kind": "part_of_network", "target_id": str(NETWORK)},
        ],
    }
    spare_parts = {
        "id": str(SPARE_PARTS),
        "type": "alert",
        "title": "Pangolin scales declared as vehicle spare parts",
        "description": "Air cargo from Lagos declared as spare parts, transiting Addis Ababa.",
        "grading": {"scheme": "5x5x5", "source": "B", "information": "3"},
        "handling_code": "1",
        "tlp": "green",
        "distribution": community,
        "alert": {
            "modus_operandi": (
                "Bags of scales packed in crates of used vehicle spare parts, consigned to"
                " freight forwarders; documents name a different consignee at each leg."
            ),
            "concealment_method": "spare parts",
            "routes": [{"from_country": "NG", "to_country": "CN", "via": ["ET"]}],
            "species": ["Manis tricuspis", "Manis gigantea"],
            "valid_from": (today - timedelta(days=14)).isoformat(),
            "valid_until": (today + timedelta(days=180)).isoformat(),
        },
    }
    return [
        (VN_CUSTOMS, network),
        (VN_CUSTOMS, trader),
        (VN_CUSTOMS, company),
        (KE_CUSTOMS, seizure),
        (KE_CUSTOMS, spare_parts),
    ]


async def seed(settings: ServiceSettings) -> str:
    codes = read_code_lists()
    wanted = demo_records(datetime.now(UTC).date())
    created = 0
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            for caller, body in wanted:
                if await repository.exists(session, str(body["id"])):
                    continue
                request = RecordIn.model_validate(body)
                await records.create(session=session, request=request, caller=caller, codes=codes)
                created += 1
    finally:
        await db.dispose()
    if not created:
        return "demo intelligence records already there; none added"
    return (
        f"added {created} demo intelligence records"
        " (a network, a trader, a company, a seizure, an alert)"
    )
