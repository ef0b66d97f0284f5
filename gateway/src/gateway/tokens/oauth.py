"""The OAuth 2.0 client credentials grant (RFC 6749 §4.4): how a token request is read, and its
errors (§5.2) - JSON `{"error", "error_description"}`, never problem+json."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_plus

from fastapi.responses import JSONResponse

from gateway.clients import rules

GRANT_TYPE = "client_credentials"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

ErrorCode = Literal["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"]


class OAuthError(Exception):
    def __init__(self, error: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        """400, or 401 with a Basic challenge for a client that failed to authenticate."""
        headers = dict(NO_STORE)
        status = 400
        if self.error == "invalid_client":
            status = 401
            headers["WWW-Authenticate"] = 'Basic realm="pangolin"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=status, headers=headers)


@dataclass(frozen=True)
class TokenRequest:
    client_id: str
    client_secret: str
    scopes: frozenset[str] | None  # None: all the client holds


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`(client_id, client_secret)` from `Authorization: Basic`, each form-urlencoded first
    (RFC 6749 §2.3.1); None when the header is absent or of another scheme."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "The Basic credentials are not valid base64.") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "The Basic credentials need `client_id:secret`.")
    return unquote_plus(client_id), unquote_plus(secret)


def read_token_request(
    *,
    authorization: str | None,
    grant_type: str | None,
    client_id: str | None,
    client_secret: str | None,
    scope: str | None,
) -> TokenRequest:
    """The request's parts, or the §5.2 error it deserves (checked before any secret is)."""
    if not grant_type:
        raise OAuthError("invalid_request", "The `grant_type` parameter is missing.")
    if grant_type != GRANT_TYPE:
        raise OAuthError(
            "unsupported_grant_type", f"Only `{GRANT_TYPE}` is supported, not `{grant_type}`."
        )
    basic = _basic_credentials(authorization)
    # The form may repeat the client_id of HTTP Basic, never carry a second secret.
    if basic is not None and (client_secret or (client_id and client_id != basic[0])):
        raise OAuthError(
            "invalid_request", "Authenticate the client one way: HTTP Basic or the form."
        )
    if basic is None:
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client",
                "Client authentication is required: HTTP Basic, or `client_id` and "
                "`client_secret` in the form.",
            )
        basic = (client_id, client_secret)
    scopes = frozenset(scope.split()) if scope and scope.strip() else None
    return TokenRequest(basic[0], basic[1], scopes)


def granted_scopes(held: Iterable[str], requested: frozenset[str] | None) -> frozenset[str]:
    """The scopes of the token: those requested, which the client must hold, else all."""
    held = frozenset(held)
    if requested is None:
        return held
    refused = rules.refused_scopes(held, requested)
    if refused:
        raise OAuthError(
            "invalid_scope", f"The client does not hold the scope(s): {', '.join(refused)}."
        )
    return requested
