"""Authentication and scopes for the gateway's own endpoints (admin API)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from gateway.principal import Principal
from gateway.state import gateway_state
from pangolin_core.errors import Forbidden


async def current_principal(request: Request) -> Principal:
    authenticator = gateway_state(request.app).authenticator
    principal = await authenticator.authenticate(
        request.headers.get("authorization"), request.headers.get("x-api-key")
    )
    request.state.principal = principal  # the audit middleware reads who it was
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def requires_gateway_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the authenticated caller must hold `scope` (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden(f"This call needs the scope: {scope}.", missing_scopes=[scope])
        return principal

    return check
