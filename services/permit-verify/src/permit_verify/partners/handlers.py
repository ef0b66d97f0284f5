"""NATS consumers of the partner exchange: confirming endorsements back to issuing partners."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.messaging.consumer import ConsumerSpec
from pangolin_core.service import ServiceRuntime
from permit_verify.dependencies import PARTNERS
from permit_verify.partners import service
from permit_verify.partners.client import PartnerDirectory

CONFIRMATIONS_DURABLE = "permit-verify-partner-confirmations"


def consumers(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    async def confirm_back(session: AsyncSession, event: CloudEvent) -> None:
        # Read at delivery: the lifespan opens the directory after the consumers start.
        directory: PartnerDirectory = runtime.extras[PARTNERS]
        await service.confirm_back(session, event, directory=directory)

    return [
        ConsumerSpec(
            durable=CONFIRMATIONS_DURABLE,
            stream="PERMITS",
            subjects=("permits.permit.endorsed",),
            handler=confirm_back,
            # A partner down for a while is retried for about an hour before the event is
            # terminated (and logged, `event_terminated`).
            max_deliver=20,
            backoff=(1.0, 2.0, 5.0, 15.0, 60.0, 300.0),
            batch=16,
        )
    ]
