"""`risk.rpc.assess`: the same assessment as `POST /v1/risk/assessments`, over NATS."""

from __future__ import annotations

from typing import Any

from pangolin_core.contracts.risk import ASSESS_SUBJECT, AssessmentRequest, RiskAssessment
from pangolin_core.messaging.rpc import RpcEndpoint
from pangolin_core.service import ServiceRuntime
from risk_score.assessments import service
from risk_score.dependencies import state_of, writer_of

# Who asked over NATS: the bus is internal (permit-verify asks while verifying).
RPC_CLIENT = "nats:risk.rpc.assess"


def rpc_endpoints(runtime: ServiceRuntime) -> list[RpcEndpoint[Any, Any]]:
    async def handle(request: AssessmentRequest) -> RiskAssessment:
        return await service.assess(
            writer=writer_of(runtime),
            state=state_of(runtime),
            request=request,
            client_id=RPC_CLIENT,
        )

    return [RpcEndpoint(ASSESS_SUBJECT, AssessmentRequest, handle)]
