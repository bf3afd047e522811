"""S021 acceptance: store and read secrets, and seal/open tokens end to end, through the local
(mock) KMS in-process and through a real running strongroom server, with the negative cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.apptokens import LocalKeySource, RemoteKeySource, TokenAccessDenied, TokenSealer
from strongroom.client import Client
from strongroom.errors import AccessDenied, DecryptionError, NotFound, Unauthenticated
from strongroom.keyproviders import LocalKeyFile
from tests.helpers import StrongroomServer

CTX = {"tenant": "acme", "user": "42", "purpose": "github-oauth"}


def test_secrets_api_stores_encrypted_and_reads_back(live_server: StrongroomServer) -> None:
    with Client(live_server.addr, live_server.root_token) as client:
        client.put("secret", "s021/db", {"password": "s021-db-password"})
        assert client.get("secret", "s021/db").data == {"password": "s021-db-password"}
    raw = b"".join(p.read_bytes() for p in live_server.data_dir.glob("strongroom.db*"))
    assert b"s021-db-password" not in raw


def test_tokens_through_the_local_mock_kms(tmp_path: Path) -> None:
    vault = TokenSealer(LocalKeySource(LocalKeyFile(tmp_path / "kms.key").provider("app")))
    sealed = vault.seal("gho_local", context=CTX)
    with pytest.raises(TokenAccessDenied):
        vault.worker(identity="w", purpose="github-oauth").open(sealed, context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", scope={"tenant": ["acme"]}) as worker:
        assert worker.open(sealed, context=CTX) == b"gho_local"
        with pytest.raises(DecryptionError):
            worker.open(sealed, context={**CTX, "tenant": "acme", "user": "1"})


def test_tokens_through_a_real_server_as_remote_kms(live_server: StrongroomServer) -> None:
    with Client(live_server.addr, live_server.root_token) as admin:
        admin.create_namespace("s021-tokens")
        for name, path in (
            ("s021-web", "sys/kms/encrypt/s021-tokens"),
            ("s021-worker", "sys/kms/decrypt/s021-tokens"),
            ("s021-other", "sys/kms/decrypt/secret"),
        ):
            admin.write_policy(name, f'path "{path}" {{ capabilities = ["update"] }}')
        web_token = admin.create_token(["s021-web"]).token
        worker_token = admin.create_token(["s021-worker"]).token
        other_token = admin.create_token(["s021-other"]).token

    with Client(live_server.addr, web_token) as web:
        web_vault = TokenSealer(RemoteKeySource(web, "s021-tokens"))
        sealed = web_vault.seal("gho_remote", context=CTX)
        # The web process may encrypt but the server refuses it a decrypt, even in a worker context.
        with (
            web_vault.worker(identity="web", purpose="github-oauth") as worker,
            pytest.raises(AccessDenied),
        ):
            worker.open(sealed, context=CTX)

    with Client(live_server.addr, worker_token) as worker_client:
        vault = TokenSealer(RemoteKeySource(worker_client, "s021-tokens"))
        with vault.worker(
            identity="worker", purpose="github-oauth", scope={"tenant": ["acme"]}, max_decrypts=2
        ) as w:
            assert w.open(sealed, context=CTX) == b"gho_remote"
            with pytest.raises(DecryptionError):
                w.open(sealed, context={**CTX, "user": "43"})
            with pytest.raises(TokenAccessDenied):
                w.open(sealed, context=CTX)  # budget of 2 spent
        with pytest.raises(TokenAccessDenied):
            vault.worker(identity="worker", purpose="github-oauth").open(sealed, context=CTX)
        with pytest.raises(AccessDenied):
            worker_client.generate_data_key("s021-tokens", CTX)  # decrypt-only cannot mint keys

    with Client(live_server.addr, other_token) as other:
        vault = TokenSealer(RemoteKeySource(other, "s021-tokens"))
        with (
            vault.worker(identity="other", purpose="github-oauth") as w,
            pytest.raises(AccessDenied),
        ):
            w.open(sealed, context=CTX)

    with Client(live_server.addr, "sr.not-a-token") as stranger, pytest.raises(Unauthenticated):
        stranger.generate_data_key("s021-tokens", CTX)


def test_remote_keys_are_not_secret_deks(live_server: StrongroomServer) -> None:
    """A decrypt right on the KMS endpoint cannot unwrap a stored secret's DEK."""
    import sqlite3

    from strongroom.crypto import parse_envelope

    with Client(live_server.addr, live_server.root_token) as admin:
        admin.put("secret", "s021/dek", {"v": "x"})
        # Read as someone with a copy of the database would: the server holds its store alone.
        database = sqlite3.connect(
            f"file:{live_server.data_dir / 'strongroom.db'}?mode=ro", uri=True
        )
        row = database.execute(
            "SELECT envelope FROM versions WHERE namespace = ? AND path = ? AND version = 1",
            ("secret", "s021/dek"),
        ).fetchone()
        database.close()
        assert row is not None and row[0] is not None
        envelope = parse_envelope(bytes(row[0]))
        with pytest.raises(DecryptionError):
            admin.decrypt_data_key(
                "secret",
                envelope.key_ref,
                envelope.wrapped_dek,
                {"namespace": "secret", "path": "s021/dek", "version": "1"},
            )
        with pytest.raises(NotFound):
            admin.get("secret", "s021/none")
