"""`POST /oauth/token` (client credentials) and `GET /.well-known/jwks.json`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import JSONResponse

from gateway.auth import ClientAuthenticator, client_authenticator
from gateway.clients.service import client_with_secret
from gateway.tokens.oauth import NO_STORE, OAuthError, granted_scopes, read_token_request
from pangolin_core.db import database_of

router = APIRouter(tags=["oauth"])

AuthenticatorDep = Annotated[ClientAuthenticator, Depends(client_authenticator)]
FormField = Annotated[str | None, Form()]

_TOKEN_EXAMPLE = {
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9...",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "permits:verify species:read",
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


@router.post(
    "/oauth/token",
    summary="An access token for a client (OAuth 2.0 client credentials)",
    description=(
        "Authenticate with HTTP Basic (`client_id:client_secret`) or with `client_id` and "
        "`client_secret` in the form. `scope` (space-separated) narrows the token to a subset "
        "of the client's scopes. Errors follow RFC 6749 §5.2."
    ),
    response_model=None,
    responses={
        200: {"content": {"application/json": {"example": _TOKEN_EXAMPLE}}},
        400: {"content": {"application/json": {"schema": _ERROR_SCHEMA}}},
        401: {"content": {"application/json": {"schema": _ERROR_SCHEMA}}},
    },
)
async def issue_token(
    request: Request,
    authenticator: AuthenticatorDep,
    grant_type: FormField = None,
    client_id: FormField = None,
    client_secret: FormField = None,
    scope: FormField = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    try:
        wanted = read_token_request(
            authorization=authorization,
            grant_type=grant_type,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
        )
        async with database_of(request).session(write=False) as session:
            client = await client_with_secret(
                session=session, client_id=wanted.client_id, client_secret=wanted.client_secret
            )
        if client is None:
            raise OAuthError("invalid_client", "Client authentication failed.")
        authenticator.directory.apply([client])  # what was just read is the freshest view
        if not client.active:
            raise OAuthError("invalid_client", "The client is disabled.")
        scopes = granted_scopes(client.scopes, wanted.scopes)
    except OAuthError as error:
        return error.response()
    token = authenticator.tokens.issue(
        client_id=client.id,
        country=client.country,
        roles=client.roles,
        scopes=scopes,
        not_before_rotation=client.rotated_at.timestamp(),
    )
    body = {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
    }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/.well-known/jwks.json", summary="The public keys that sign access tokens")
async def jwks(authenticator: AuthenticatorDep) -> JSONResponse:
    return JSONResponse(
        authenticator.tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )
