"""Who is calling the gateway, once authenticated (by access token or API key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.settings import RatePolicy
from pangolin_core.contracts.roles import scope_grants
from pangolin_core.identity import Caller


@dataclass(frozen=True)
class Principal:
    client_id: str
    name: str
    country: str
    roles: frozenset[str]
    scopes: frozenset[str]  # what this request may do: the token's scopes, or the client's
    method: Literal["bearer", "api_key"]
    rate_policy: RatePolicy  # the client's own, else the most generous of its roles' defaults

    def has_scope(self, wanted: str) -> bool:
        return any(scope_grants(granted, wanted) for granted in self.scopes)

    def has_any_scope(self, wanted: frozenset[str]) -> bool:
        return any(self.has_scope(scope) for scope in wanted)

    def caller(self, request_id: str | None) -> Caller:
        """The identity forwarded to the services."""
        return Caller(self.client_id, self.country, self.roles, self.scopes, request_id)
