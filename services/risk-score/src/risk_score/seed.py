"""What `pangolin up` loads into a fresh risk-score database: a few demonstration targeting
profiles built on the wildlife red flags (TRAFFIC, ROUTES, WCO), active at once. They load
only when no profile exists, so running it again changes nothing."""

from __future__ import annotations

from typing import Any

from pangolin_core.db import Database
from pangolin_core.identity import Caller
from pangolin_core.settings import ServiceSettings
from risk_score.profiles import repository
from risk_score.profiles.active import ActiveProfiles
from risk_score.profiles.schemas import ProfileIn
from risk_score.profiles.service import create

SEED_CALLER = Caller("risk-score-seed", "XX", frozenset(), frozenset({"risk:profiles"}))
OWNER = "Demonstration risk unit"

DEMO_PROFILES: list[dict[str, Any]] = [
    {
        "name": "Pangolin scales declared as nuts or seafood",
        "rationale": "Seizures of scales declared as cashew nuts, fish maw or dried seafood from"
        " West and Central Africa.",
        "instructions": "Open the consignment; take samples for laboratory identification.",
        "criteria": {
            "all": [
                {"field": "export_country", "in": ["NG", "CM", "CD", "CG", "GH", "CI", "GA"]},
                {"description_matches": ["nuts", "cashew nuts", "fish maw", "dried seafood"]},
            ]
        },
        "points": 50,
        "controls": ["physical_inspection", "sampling_for_lab_identification"],
    },
    {
        "name": "Appendix I specimens through transit hubs",
        "rationale": "Appendix I wildlife routed through air and sea hubs to hide its origin.",
        "instructions": "Check the route against the permit; scan the consignment.",
        "criteria": {
            "all": [
                {"field": "appendices", "in": ["I"]},
                {"transit_through": ["AE", "QA", "SG", "HK", "MY", "TR", "ET"]},
            ]
        },
        "points": 40,
        "controls": ["document_review", "non_intrusive_scan"],
    },
    {
        "name": "Permit documents in doubt",
        "rationale": "A lost, stolen or forged permit is the commonest laundering route.",
        "instructions": "Hold the consignment; contact the issuing Management Authority.",
        "criteria": {
            "findings_any": [
                "PERMIT_LOST_OR_STOLEN",
                "SIGNATURE_INVALID",
                "SECURITY_STAMP_MISMATCH",
                "PERMIT_CANCELLED",
            ]
        },
        "points": 20,
        "forced_lane": "red",
        "controls": ["document_review", "physical_inspection"],
    },
    {
        "name": "Trader or vessel on a watchlist",
        "rationale": "Intelligence from partners names the trader or the means of transport.",
        "instructions": "Read the intelligence reason in the assessment before inspecting.",
        "criteria": {"watchlist": ["trader", "vessel"]},
        "points": 30,
        "controls": ["document_review", "physical_inspection"],
    },
]


async def seed(settings: ServiceSettings) -> str:
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            if await repository.all_current(session):
                return "targeting profiles already present; none added"
            for body in DEMO_PROFILES:
                profile = ProfileIn.model_validate({**body, "owner": OWNER, "status": "active"})
                await create(
                    session=session, active=ActiveProfiles(), body=profile, caller=SEED_CALLER
                )
    finally:
        await db.dispose()
    return f"{len(DEMO_PROFILES)} demonstration targeting profiles, active"
