"""Identity token keys (auth/oidc_keys.py): every algorithm signs what its published key
verifies, a key rotates on its period when next used, and a replaced key stays published for
its verification_ttl and no longer; a token's entity id is its login's."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest

from strongroom.auth import oidc_keys
from strongroom.auth.entities import entity_id
from strongroom.auth.oidc_keys import ALGORITHMS, DAY, IdentityKey, private_key
from strongroom.auth.tokens import TokenInfo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_signs_what_its_published_key_verifies(algorithm: str) -> None:
    key = IdentityKey.create(0.0, algorithm=algorithm)
    token = jwt.encode({"sub": "x"}, private_key(key.signing), algorithm=algorithm)
    (jwk,) = key.jwks(0.0)
    assert jwk["alg"] == algorithm and jwk["kid"] == key.signing.kid and "d" not in jwk
    verifier = jwt.PyJWK.from_dict(jwk)
    assert jwt.decode(token, verifier, algorithms=[algorithm])["sub"] == "x"


def test_a_replaced_key_is_published_for_its_verification_ttl_only() -> None:
    key = IdentityKey.create(0.0, rotation_period=DAY, verification_ttl=2 * DAY)
    first = key.signing.kid
    assert not key.due(DAY - 1) and key.due(DAY)
    key = key.rotated(DAY)
    assert key.signing.kid != first
    assert {v.kid for v in key.published(DAY + 1)} == {first, key.signing.kid}
    assert {v.kid for v in key.published(3 * DAY)} == {key.signing.kid}
    # a rotation forgets versions whose window has passed
    later = key.rotated(4 * DAY)
    assert first not in {v.kid for v in later.versions}


def test_a_record_round_trips() -> None:
    key = IdentityKey.create(5.0, algorithm="ES256", allowed_client_ids=("a", "b")).rotated(9.0)
    again = IdentityKey.decode(key.encode())
    assert again == key and again.allows("a") and not again.allows("c")
    assert IdentityKey.create(0.0, allowed_client_ids=("*",)).allows("anyone")


def test_the_public_keys_are_served_without_loading_a_private_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The JWKS is public: no anonymous request may make the server validate RSA keys."""
    key = IdentityKey.create(0.0).rotated(1.0)

    def refuse(pem: str) -> object:
        raise AssertionError("a private key was loaded to publish the public keys")

    monkeypatch.setattr(oidc_keys, "load_signing_key", refuse)
    assert [jwk["kid"] for jwk in key.jwks(2.0)] == [v.kid for v in key.versions]


def test_an_entity_id_is_the_logins_never_what_metadata_says() -> None:
    """Metadata is written by callers (an AppRole secret ID's): it cannot pick an entity."""
    login = TokenInfo(
        "acc", "approle-ci", ("default",), 0.0, None, None, 60.0, path="auth/approle/login"
    )
    other = replace(login, display_name="approle-admin")
    claimed = replace(login, meta={"alias": "approle-admin"})
    assert entity_id(claimed) == entity_id(login) != entity_id(other)
    assert entity_id(replace(login, path="auth/token/create")) == ""
