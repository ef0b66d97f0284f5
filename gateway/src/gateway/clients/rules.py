"""The rules of clients, free of I/O: which scopes roles grant, which a request keeps, which
rate limit applies, and when a token is too old for its client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from gateway.settings import RatePolicy
from pangolin_core.contracts.roles import Role, scope_grants, scopes_for


def granted(scopes: Iterable[str], wanted: str) -> bool:
    """Whether one of `scopes` grants `wanted` (`risk:*` grants `risk:assess`)."""
    return any(scope_grants(scope, wanted) for scope in scopes)


def client_scopes(roles: Iterable[Role], requested: Iterable[str] | None) -> frozenset[str]:
    """The scopes a client holds: all its roles grant, or the requested subset of them.

    Raises ValueError naming each requested scope the roles do not grant."""
    allowed = scopes_for(set(roles))
    if requested is None:
        return allowed
    wanted = frozenset(requested)
    refused = sorted(scope for scope in wanted if not granted(allowed, scope))
    if refused:
        raise ValueError(
            f"not granted by the roles: {', '.join(refused)} "
            f"(they grant: {', '.join(sorted(allowed)) or 'nothing'})"
        )
    return wanted


def refused_scopes(held: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The requested scopes `held` does not grant (a token request may only narrow)."""
    held = frozenset(held)
    return sorted(scope for scope in set(requested) if not granted(held, scope))


def effective_scopes(token_scopes: Iterable[str], client_scopes: Iterable[str]) -> frozenset[str]:
    """What a token may do now: its scopes the client still holds (narrowing is at once)."""
    current = frozenset(client_scopes)
    return frozenset(scope for scope in token_scopes if granted(current, scope))


def rate_policy(
    *,
    rate: float | None,
    burst: int | None,
    roles: Iterable[str],
    defaults: Mapping[str, RatePolicy],
) -> RatePolicy:
    """The client's own limit when set, else the most generous default of its roles."""
    if rate is not None and burst is not None:
        return RatePolicy(rate=rate, burst=burst)
    candidates = [defaults[role] for role in roles if role in defaults]
    if not candidates:
        return min(defaults.values(), key=lambda p: (p.rate, p.burst))
    return max(candidates, key=lambda p: (p.rate, p.burst))


def issued_before_rotation(issued_at: float, rotated_at: datetime) -> bool:
    """A token older than the client's current credentials no longer counts."""
    return issued_at < rotated_at.timestamp()
