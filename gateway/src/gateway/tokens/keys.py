"""The Ed25519 keys of access tokens: one signs, every trusted one verifies and is published.

From settings: `token_signing_keys` (private PEMs; the first signs, all verify) and
`token_previous_public_keys` (retired keys, verify only, until their tokens expire). With no
signing key configured (development), one is generated at start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from jwt.algorithms import OKPAlgorithm

from gateway.settings import GatewaySettings
from pangolin_core.identity import key_id

ALGORITHM = "EdDSA"


def _private_key(pem: str) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("a token signing key is not an Ed25519 private key")
    return key


def _public_key(pem: str) -> Ed25519PublicKey:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("a previous token key is not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class TokenKeys:
    signing_key: Ed25519PrivateKey
    signing_kid: str
    verifying: dict[str, Ed25519PublicKey]  # by kid; the signing key's own included

    @classmethod
    def of(
        cls, signing: Iterable[Ed25519PrivateKey], previous: Iterable[Ed25519PublicKey] = ()
    ) -> TokenKeys:
        private = list(signing)
        if not private:
            raise ValueError("at least one token signing key is needed")
        publics = [key.public_key() for key in private] + list(previous)
        verifying = {key_id(key): key for key in publics}
        return cls(private[0], key_id(private[0].public_key()), verifying)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> TokenKeys:
        signing = [_private_key(pem.get_secret_value()) for pem in settings.token_signing_keys]
        if not signing:  # development: tokens die with the process
            signing = [Ed25519PrivateKey.generate()]
        return cls.of(signing, [_public_key(pem) for pem in settings.token_previous_public_keys])

    def verifying_key(self, kid: str) -> Ed25519PublicKey | None:
        return self.verifying.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON Web Key Set of every trusted key (RFC 7517, OKP keys per RFC 8037)."""
        keys = []
        for kid, key in self.verifying.items():
            jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}
