"""The typed authentication records read what earlier versions stored, and store the same field
names (the stored format does not change)."""

from __future__ import annotations

import json

from strongroom.auth.records import AppRoleRecord, SecretIdRecord, TokenRoleRecord, UserRecord


def test_records_written_by_earlier_versions_still_load() -> None:
    role = TokenRoleRecord.from_bytes(b'{"allowed_policies": ["app"], "token_period": 0}')
    assert role.allowed_policies == ["app"] and role.renewable and role.token_ttl is None
    approle = AppRoleRecord.from_bytes(
        json.dumps(
            {
                "role_id": "r-1",
                "token_policies": ["app"],
                "token_ttl": 60,
                "token_max_ttl": None,
                "token_period": 0.0,
                "token_num_uses": 0,
                "bind_secret_id": True,
                "secret_id_ttl": None,
                "secret_id_num_uses": 3,
                "secret_id_bound_cidrs": [],
            }
        ).encode()
    )
    assert approle.token_ttl == 60.0 and approle.secret_id_num_uses == 3
    assert "role_id" not in approle.settings()
    secret_id = SecretIdRecord.from_bytes(
        b'{"accessor": "a", "created": 1, "expires": null, "num_uses": 0,'
        b' "cidr_list": [], "metadata": {"k": "v"}}'
    )
    assert secret_id.metadata == {"k": "v"} and secret_id.expires is None
    user = UserRecord.from_bytes(b'{"name": "alice", "hash": "$argon2id$x", "token_policies": []}')
    assert user.token_ttl is None and "hash" not in user.settings()


def test_the_stored_field_names_do_not_change() -> None:
    assert set(json.loads(TokenRoleRecord().to_bytes())) == {
        "allowed_policies",
        "disallowed_policies",
        "orphan",
        "renewable",
        "token_period",
        "token_explicit_max_ttl",
        "token_ttl",
        "token_num_uses",
    }
    assert set(json.loads(UserRecord("bob").to_bytes())) == {
        "name",
        "hash",
        "token_policies",
        "token_ttl",
        "token_max_ttl",
    }
    assert set(json.loads(SecretIdRecord("a", 1.0, None, 0).to_bytes())) == {
        "accessor",
        "created",
        "expires",
        "num_uses",
        "cidr_list",
        "metadata",
    }
