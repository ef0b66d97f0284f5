"""intel-share's TAXII server behind the real gateway: a partner country's instance gets an
OAuth token for its `partner` client (client credentials, `intel:federate`), pulls and pushes
through the gateway; the real taxii2-client discovers the API root at the gateway's URL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import requests
from taxii2client.v21 import Server

from gateway.app import DEFINITION as GATEWAY
from gateway.app import create_app as create_gateway
from gateway.clients.schemas import NewClient
from gateway.clients.service import IssuedCredentials, create_client
from gateway.settings import GatewaySettings
from intel_share.federation.service import Federation
from intel_share.records.schemas import RecordOut
from intel_share.settings import IntelShareSettings, TaxiiPartner
from intel_share.stix.mapping import to_stix
from intel_support import KE_CUSTOMS, VN_CUSTOMS, alert, seizure
from pangolin_core import migrations
from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.contracts.roles import Role
from taxii_support import served_intel, serving


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


async def test_a_partner_pulls_through_the_gateway_with_client_credentials(
    tmp_path: Path, nats_url: str
) -> None:
    gateway_sock = socket.socket()
    gateway_sock.bind(("127.0.0.1", 0))
    gateway_url = f"http://127.0.0.1:{gateway_sock.getsockname()[1]}"
    ke_settings = IntelShareSettings(
        database_url=f"sqlite:///{tmp_path / 'ke.db'}",
        nats_url=nats_url,
        country="KE",
        federation_interval=0,
        taxii_public_url=gateway_url,  # type: ignore[arg-type]
    )
    vn_settings = IntelShareSettings(
        database_url=f"sqlite:///{tmp_path / 'vn.db'}",
        nats_url=nats_url,
        country="VN",
        federation_interval=0,
    )
    gateway_db = f"sqlite:///{tmp_path / 'gateway.db'}"
    await migrations.upgrade(GATEWAY.migrations, gateway_db)
    async with served_intel(ke_settings) as ke:
        app = create_gateway(
            GatewaySettings(nats_url=nats_url, database_url=gateway_db, intel_share_url=ke.url)
        )
        async with serving(app, gateway_sock), served_intel(vn_settings) as vn:
            async with app.state.runtime.db.session() as session:
                issued: IssuedCredentials = await create_client(
                    session=session,
                    spec=NewClient(name="vn-intel-share", country="VN", roles=[Role.PARTNER]),
                )
            shared = await ke.intel.create(KE_CUSTOMS, seizure())
            vn_created = await vn.intel.create(VN_CUSTOMS, alert(title="Seen in Hai Phong"))
            vn_record = RecordOut.model_validate(vn_created)

            async with httpx.AsyncClient(timeout=10) as http:
                partner = TaxiiPartner(
                    api_root=f"{gateway_url}/taxii2/api/",  # type: ignore[arg-type]
                    client_id=issued.client.id,
                    client_secret=issued.client_secret,  # type: ignore[arg-type]
                )
                federation = Federation(
                    db=vn.intel.db,
                    settings=vn_settings.model_copy(update={"partners": {"KE": partner}}),
                    http=http,
                    codes=read_code_lists(),
                )
                report = await federation.pull_from("KE")
                assert report.outcomes() == {shared["id"]: "stored"}
                pushed = await federation.push_to("KE")
                assert (pushed.sent, pushed.failures) == (len(to_stix(vn_record).own), [])
                token = await federation.partners["KE"].authenticate()
            arrived = await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{shared['id']}")
            assert arrived.json()["originator"] == {"agency": "customs", "country": "KE"}
            at_ke = await ke.intel.get(KE_CUSTOMS, f"/v1/intel/records/{vn_created['id']}")
            assert at_ke.json()["originator"] == {"agency": "customs", "country": "VN"}
            assert at_ke.json()["distribution"]["country"] == "KE"

            def discover() -> tuple[str, list[str]]:
                bearer = token["Authorization"].removeprefix("Bearer ")
                server = Server(f"{gateway_url}/taxii2/", auth=BearerAuth(bearer))
                root = server.default
                return root.url, [c.title for c in root.collections]

            root_url, titles = await asyncio.to_thread(discover)
            assert root_url == f"{gateway_url}/taxii2/api/"
            assert titles == ["Community", "Country VN"]
