"""The demonstration profiles `pangolin up` loads: valid, active, loaded once; they score."""

from __future__ import annotations

from pathlib import Path

from pangolin_core import migrations
from risk_score.app import DEFINITION
from risk_score.seed import DEMO_PROFILES, seed
from risk_score.settings import RiskScoreSettings
from risk_support import RiskService, declaration


async def test_the_seed_loads_active_profiles_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'risk.db'}"
    await migrations.upgrade(DEFINITION.migrations, url)
    settings = RiskScoreSettings(database_url=url)
    assert await seed(settings) == f"{len(DEMO_PROFILES)} demonstration targeting profiles, active"
    assert await seed(settings) == "targeting profiles already present; none added"


async def test_the_seeded_profiles_score(risk: RiskService) -> None:
    await seed(RiskScoreSettings(database_url=risk.db.url))
    await risk.state().profiles.load(risk.db)  # what the revision poll would do
    scales = declaration(
        countries={"export": "NG", "import": "VN", "transit": []},
        line={"description": "Cashew nuts"},
    )
    answer = await risk.assess(scales)
    assert [r["title"] for r in answer["reasons"]] == [
        "Pangolin scales declared as nuts or seafood"
    ]
    assert answer["controls"] == [
        "document_review",
        "physical_inspection",
        "sampling_for_lab_identification",
    ]
    doubtful = await risk.assess(
        declaration(), findings=[{"code": "SIGNATURE_INVALID", "severity": "error", "message": "x"}]
    )
    assert doubtful["lane"] == "red"
