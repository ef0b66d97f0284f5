"""The route table: which service answers, and which scopes each call needs."""

from __future__ import annotations

import pytest

from gateway import routes
from pangolin_core.contracts.roles import ROLE_SCOPES, Role, scope_grants


@pytest.mark.parametrize(
    ("method", "path", "upstream", "scopes"),
    [
        ("GET", "/v1/species/status", "species-ref", {"species:read"}),
        ("GET", "/v1/species", "species-ref", {"species:read"}),
        ("POST", "/v1/species/match", "species-ref", {"species:read"}),
        ("POST", "/v1/species/publications", "species-ref", {"species:publish"}),
        ("GET", "/v1/species/publications/42", "species-ref", {"species:publish"}),
        ("DELETE", "/v1/species/taxa/1", "species-ref", {"species:publish"}),
        ("GET", "/v1/species/sync", "species-ref", {"admin"}),
        ("POST", "/v1/species/sync", "species-ref", {"admin"}),
        ("POST", "/v1/verifications", "permit-verify", {"permits:verify"}),
        ("POST", "/v1/permits", "permit-verify", {"permits:issue"}),
        ("POST", "/v1/permits/p-1/endorsements", "permit-verify", {"permits:endorse"}),
        ("POST", "/v1/permits/p-1/status", "permit-verify", {"permits:issue"}),
        ("POST", "/v1/permits/p-1/confirmations", "permit-verify", {"permits:lookup"}),
        ("GET", "/v1/permits/lookup", "permit-verify", {"permits:lookup", "permits:read"}),
        ("GET", "/v1/permits/jwks/KE", "permit-verify", {"permits:lookup", "permits:read", "permits:issue", "permits:endorse", "permits:verify"}),  # noqa: E501
        ("GET", "/v1/permits/p-1", "permit-verify", {"permits:read", "permits:issue", "permits:endorse", "permits:verify"}),  # noqa: E501
        ("POST", "/v1/risk/assessments", "risk-score", {"risk:assess"}),
        ("POST", "/v1/risk/assessments/a-1/outcome", "risk-score", {"risk:outcomes"}),
        ("GET", "/v1/risk/evaluation", "risk-score", {"risk:read"}),
        ("PUT", "/v1/risk/profiles/p-1", "risk-score", {"risk:profiles"}),
        ("GET", "/v1/risk/models", "risk-score", {"risk:models"}),
        ("GET", "/v1/risk/models/m-1", "risk-score", {"risk:models"}),
        ("POST", "/v1/risk/models/train", "risk-score", {"risk:models"}),
        ("GET", "/v1/intel/records", "intel-share", {"intel:read"}),
        ("POST", "/v1/intel/match", "intel-share", {"intel:read"}),
        ("POST", "/v1/intel/records", "intel-share", {"intel:write"}),
        ("GET", "/taxii2/", "intel-share", {"intel:read", "intel:federate"}),
        ("POST", "/taxii2/r/collections/c/objects/", "intel-share", {"intel:write", "intel:federate"}),  # noqa: E501
    ],
)  # fmt: skip
def test_a_call_goes_to_its_service_with_its_scopes(
    method: str, path: str, upstream: str, scopes: set[str]
) -> None:
    rule = routes.match(method, path)
    assert rule is not None
    assert rule.upstream == upstream
    assert rule.scopes == scopes


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/clients"),  # the gateway's own
        ("GET", "/v1/speciesx"),
        ("GET", "/internal/debug"),
        ("PUT", "/v1/verifications"),  # routed path, no rule for the method
        ("DELETE", "/v1/permits/p-1/endorsements"),
    ],
)
def test_nothing_undeclared_is_forwarded(method: str, path: str) -> None:
    assert routes.match(method, path) is None


def test_a_routed_path_knows_its_methods_for_405() -> None:
    assert routes.is_routed("/v1/verifications")
    assert routes.allowed_methods("/v1/verifications") == {"GET", "HEAD", "POST"}
    assert not routes.is_routed("/v1/admin/clients")
    assert not routes.allowed_methods("/nowhere")


def test_every_scope_a_route_needs_is_granted_by_some_role() -> None:
    """A scope no role grants would make a route unreachable by mistake (typo guard)."""
    granted = set().union(*ROLE_SCOPES.values())
    for scope in routes.all_scopes():
        assert any(scope_grants(g, scope) for g in granted), scope


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        (Role.SINGLE_WINDOW, "POST", "/v1/verifications", True),
        (Role.SINGLE_WINDOW, "POST", "/v1/permits", False),
        (Role.MANAGEMENT_AUTHORITY, "POST", "/v1/permits", True),
        (Role.MANAGEMENT_AUTHORITY, "POST", "/v1/verifications", False),
        (Role.CUSTOMS, "POST", "/v1/risk/assessments", True),
        (Role.PARTNER, "GET", "/v1/permits/lookup", True),
        (Role.PARTNER, "POST", "/v1/permits/p-1/confirmations", True),
        (Role.SINGLE_WINDOW, "POST", "/v1/permits/p-1/confirmations", False),
        (Role.PARTNER, "GET", "/v1/species/status", False),
        (Role.ADMIN, "GET", "/v1/species/status", False),
    ],
)
def test_roles_reach_what_the_design_says(
    role: Role, method: str, path: str, allowed: bool
) -> None:
    rule = routes.match(method, path)
    assert rule is not None
    assert any(scope_grants(g, w) for g in ROLE_SCOPES[role] for w in rule.scopes) is allowed


def test_permits_are_posted_as_json_or_citesepermit_xml_and_qr_tokens_are_routed() -> None:
    issue = routes.match("POST", "/v1/permits")
    assert issue is not None
    assert issue.content_types == {"application/json", "application/xml", "text/xml"}
    endorse = routes.match("POST", "/v1/permits/p-1/endorsements")
    assert endorse is not None and endorse.content_types == {"application/json"}
    verify_token = routes.match("POST", "/v1/permits/verify-token")
    assert verify_token is not None
    assert verify_token.scopes == {"permits:verify", "permits:read", "permits:lookup"}
    qr = routes.match("GET", "/v1/permits/p-1/qr")
    assert qr is not None and "permits:read" in qr.scopes
