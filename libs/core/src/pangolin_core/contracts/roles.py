"""Client roles and the scopes each one grants (DESIGN.md, 'Who calls it')."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SINGLE_WINDOW = "single_window"
    CUSTOMS = "customs"
    MANAGEMENT_AUTHORITY = "management_authority"
    PARTNER = "partner"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.SINGLE_WINDOW: frozenset({"permits:verify", "permits:endorse", "species:read"}),
    Role.CUSTOMS: frozenset(
        {"risk:*", "intel:read", "intel:write", "permits:read", "species:read"}
    ),
    # species:read beside DESIGN.md's list: an MA reads the taxa it publishes about (ids,
    # listings, status) and checks what a publication changed.
    Role.MANAGEMENT_AUTHORITY: frozenset(
        {"permits:issue", "species:publish", "species:read", "intel:read"}
    ),
    Role.PARTNER: frozenset({"intel:federate", "permits:lookup"}),
    Role.ADMIN: frozenset({"admin"}),
}


def scopes_for(roles: frozenset[Role] | set[Role]) -> frozenset[str]:
    return frozenset().union(*(ROLE_SCOPES[r] for r in roles)) if roles else frozenset()


def scope_grants(granted: str, wanted: str) -> bool:
    """`risk:*` grants `risk:assess`; otherwise scopes match exactly."""
    if granted == wanted:
        return True
    if granted.endswith(":*"):
        return wanted.startswith(granted[:-1])
    return False
