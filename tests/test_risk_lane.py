"""permit-verify and risk-score on one real nats-server: a verification gets its risk lane
from risk-score over `risk.rpc.assess`, with the targeting profile that fired and the
permit findings among the reasons, and risk-score stores the assessment."""

from __future__ import annotations

from pathlib import Path

from pangolin_core import migrations
from pangolin_core.testing import running_app
from permit_support import SW_KE
from permit_verify.app import DEFINITION as PERMIT_VERIFY
from permit_verify.app import create_app as create_permit_verify
from permit_verify.settings import PermitVerifySettings
from risk_score.app import DEFINITION as RISK_SCORE
from risk_score.app import create_app as create_risk_score
from risk_score.settings import RiskScoreSettings
from risk_support import ANALYST, READER, declaration, profile


async def test_a_verification_gets_its_lane_from_risk_score(tmp_path: Path, nats_url: str) -> None:
    permits_url = f"sqlite:///{tmp_path / 'permits.db'}"
    risk_url = f"sqlite:///{tmp_path / 'risk.db'}"
    await migrations.upgrade(PERMIT_VERIFY.migrations, permits_url)
    await migrations.upgrade(RISK_SCORE.migrations, risk_url)
    risk_app = create_risk_score(
        RiskScoreSettings(database_url=risk_url, nats_url=nats_url, random_rate=0.0)
    )
    permits_app = create_permit_verify(
        PermitVerifySettings(
            database_url=permits_url,
            nats_url=nats_url,
            species_check_at_issue=False,
            risk_rpc_timeout=5.0,
        )
    )
    async with running_app(risk_app) as risk, running_app(permits_app) as permits:
        hubs = profile(
            name="Reptiles through AE",
            criteria={"all": [{"transit_through": ["AE"]}, {"field": "genera", "in": ["python"]}]},
            points=30,
        )
        created = (await risk.post("/v1/risk/profiles", json=hubs, headers=ANALYST)).json()
        body = declaration(countries={"export": "KE", "import": "VN", "transit": ["AE"]})
        response = await permits.post("/v1/verifications", json=body, headers=SW_KE)
        assert response.status_code == 200, response.text
        answer = response.json()
        lane = answer["risk"]
        assert lane is not None, answer
        by_source = {(r["source"], r["id"]) for r in lane["reasons"]}
        assert ("profile", created["id"]) in by_source
        finding_codes = {f["code"] for line in answer["lines"] for f in line["findings"]}
        assert {
            ("finding", code) for code in finding_codes if code != "SPECIES_UNAVAILABLE"
        } <= by_source
        assert lane["lane"] in ("yellow", "red") and lane["score"] >= 30
        assert lane["profile_versions"] == {created["id"]: 1}
        stored = await risk.get(f"/v1/risk/assessments/{lane['assessment_id']}", headers=READER)
        assert stored.status_code == 200
        assert stored.json()["declaration_id"] == body["declaration_id"]
