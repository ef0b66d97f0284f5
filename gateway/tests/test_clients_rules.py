"""The rules of clients and of their credentials, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gateway.clients import rules, secrets
from gateway.clients.schemas import NewClient
from gateway.settings import DEFAULT_ROLE_RATE_LIMITS, RatePolicy
from gateway.tokens.oauth import OAuthError, granted_scopes, read_token_request
from pangolin_core.contracts.roles import Role


def test_a_client_holds_what_its_roles_grant_unless_narrowed() -> None:
    roles = [Role.CUSTOMS, Role.SINGLE_WINDOW]

    assert rules.client_scopes(roles, None) >= {"risk:*", "permits:verify", "species:read"}
    assert rules.client_scopes(roles, ["risk:assess", "species:read"]) == {
        "risk:assess",
        "species:read",
    }
    with pytest.raises(ValueError, match="not granted by the roles: admin, intel:federate"):
        rules.client_scopes(roles, ["admin", "intel:federate", "species:read"])


def test_a_wildcard_is_granted_only_by_a_wildcard() -> None:
    assert rules.refused_scopes({"risk:*"}, {"risk:*", "risk:models"}) == []
    assert rules.refused_scopes({"risk:assess"}, {"risk:*"}) == ["risk:*"]


def test_a_token_keeps_only_what_the_client_still_holds() -> None:
    token = {"risk:assess", "intel:read", "admin"}

    assert rules.effective_scopes(token, {"risk:*", "intel:read"}) == {"risk:assess", "intel:read"}
    assert rules.effective_scopes(token, {"intel:read"}) == {"intel:read"}
    assert rules.effective_scopes(token, set()) == frozenset()


def test_the_rate_is_the_clients_own_else_the_most_generous_of_its_roles() -> None:
    defaults = DEFAULT_ROLE_RATE_LIMITS

    own = rules.rate_policy(rate=3, burst=4, roles=["single_window"], defaults=defaults)
    mixed = rules.rate_policy(rate=None, burst=None, roles=["admin", "customs"], defaults=defaults)
    unknown = rules.rate_policy(rate=None, burst=None, roles=["ghost"], defaults=defaults)

    assert own == RatePolicy(rate=3, burst=4)
    assert mixed == defaults["customs"]
    assert unknown == min(defaults.values(), key=lambda p: p.rate)


def test_a_token_issued_before_the_rotation_no_longer_counts() -> None:
    rotated = datetime(2026, 11, 25, 10, 0, 0, 500_000, tzinfo=UTC)

    assert rules.issued_before_rotation(rotated.timestamp() - 0.001, rotated)
    assert not rules.issued_before_rotation(rotated.timestamp(), rotated)
    assert not rules.issued_before_rotation((rotated + timedelta(seconds=1)).timestamp(), rotated)


def test_new_client_validation_sorts_and_checks() -> None:
    spec = NewClient(name=" ke-sw ", country="KE", roles=["single_window", "single_window"])

    assert spec.name == "ke-sw"
    assert spec.roles == [Role.SINGLE_WINDOW]
    assert spec.granted_scopes() == {"permits:verify", "permits:endorse", "species:read"}
    with pytest.raises(ValidationError, match="set `rate` and `burst` together"):
        NewClient(name="x", country="KE", roles=["admin"], burst=3)


def test_api_keys_carry_their_id_and_parse_back() -> None:
    api_key, key_id, secret = secrets.new_api_key()

    assert api_key == f"pgk_{key_id}_{secret}"
    assert secrets.parse_api_key(api_key) == (key_id, secret)
    for malformed in ("", "pgk_", "pgk_abc", "pgk__secret", "Bearer x", f"xyz_{key_id}_{secret}"):
        assert secrets.parse_api_key(malformed) is None


def test_secrets_are_stored_as_argon2_hashes() -> None:
    secret = secrets.new_secret()
    stored = secrets.hash_secret(secret)

    assert stored.startswith("$argon2id$")
    assert secret not in stored
    assert secrets.secret_matches(stored, secret)
    assert not secrets.secret_matches(stored, secret + "x")
    assert not secrets.secret_matches("not a hash", secret)


async def test_an_unknown_client_costs_a_verification_and_fails() -> None:
    assert not await secrets.verify_secret(None, "anything")
    stored = secrets.hash_secret("s3cret")
    assert await secrets.verify_secret(stored, "s3cret")


def test_the_api_key_cache_forgets_a_key_once_its_client_rotates() -> None:
    cache = secrets.ApiKeyCache()
    before = datetime(2026, 1, 1, tzinfo=UTC)
    after = before + timedelta(seconds=1)
    cache.remember("pgk_a_b", client_id="c1", rotated_at=before)

    assert cache.lookup("pgk_a_b", client_id="c1", rotated_at=before)
    assert not cache.lookup("pgk_a_x", client_id="c1", rotated_at=before)
    assert not cache.lookup("pgk_a_b", client_id="c1", rotated_at=after)
    assert len(cache) == 0  # the stale entry went
    assert not cache.lookup("pgk_a_b", client_id="c1", rotated_at=before)


def test_the_api_key_cache_is_bounded() -> None:
    cache = secrets.ApiKeyCache(max_entries=3)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(5):
        cache.remember(f"pgk_{n}_s", client_id="c", rotated_at=at)

    assert len(cache) <= 3
    assert cache.lookup("pgk_4_s", client_id="c", rotated_at=at)


def _request(**values: str | None) -> object:
    defaults: dict[str, str | None] = {
        "authorization": None,
        "grant_type": "client_credentials",
        "client_id": "id",
        "client_secret": "secret",
        "scope": None,
    }
    return read_token_request(**{**defaults, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"grant_type": None}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "unsupported_grant_type"),
        ({"client_secret": None}, "invalid_client"),
        ({"client_id": None, "client_secret": None}, "invalid_client"),
        ({"authorization": "Basic aWQ6c2VjcmV0"}, "invalid_request"),  # and a form secret
        ({"authorization": "Basic bm9jb2xvbg==", "client_secret": None}, "invalid_client"),
    ],
)
def test_token_requests_get_the_rfc_6749_error(values: dict[str, str | None], error: str) -> None:
    with pytest.raises(OAuthError) as refused:
        _request(**values)

    assert refused.value.error == error
    assert refused.value.response().status_code == (401 if error == "invalid_client" else 400)


def test_basic_credentials_may_repeat_the_client_id_in_the_form() -> None:
    wanted = _request(authorization="Basic aWQ6c2VjcmV0", client_secret=None, scope=" a  b ")

    assert wanted == read_token_request(
        authorization=None, grant_type="client_credentials", client_id="id",
        client_secret="secret", scope="b a",
    )  # fmt: skip


def test_a_token_gets_the_requested_scopes_or_all_the_client_holds() -> None:
    held = {"risk:*", "intel:read"}

    assert granted_scopes(held, None) == held
    assert granted_scopes(held, frozenset({"risk:assess"})) == {"risk:assess"}
    with pytest.raises(OAuthError, match="intel:write"):
        granted_scopes(held, frozenset({"intel:write"}))
