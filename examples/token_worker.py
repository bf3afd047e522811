"""A web process seals users' OAuth tokens into the app's own database; a worker process opens
them only inside a worker context. Runs with the local KMS in-process, or with a strongroom
server as the remote KMS (set STRONGROOM_ADDR, and a token with encrypt or decrypt rights).

    python examples/token_worker.py web --db app.db --keys kms.key     # seals and stores
    python examples/token_worker.py worker --db app.db --keys kms.key  # opens and "uses"
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from strongroom.apptokens import KeySource, LocalKeySource, RemoteKeySource, TokenSealer
from strongroom.apptokens.sqlalchemy import SealedToken


class Base(DeclarativeBase):
    pass


class Connection(Base):
    """One user's connection to GitHub; the token column holds only sealed bytes."""

    __tablename__ = "connections"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    github_token: Mapped[bytes] = mapped_column(SealedToken())


def context_of(row: Connection) -> dict[str, str]:
    # The seal is bound to who the token belongs to and what it is for.
    return {"tenant": row.tenant, "user": row.user_id, "purpose": "github-oauth"}


def key_source(args: argparse.Namespace) -> KeySource:
    addr = os.environ.get("STRONGROOM_ADDR")
    if addr:
        from strongroom.client import Client

        return RemoteKeySource(Client(addr, os.environ.get("STRONGROOM_TOKEN")), args.namespace)
    from strongroom.keyproviders import LocalKeyFile

    return LocalKeySource(LocalKeyFile(Path(args.keys)).provider("app-tokens"))


def web(args: argparse.Namespace) -> None:
    vault = TokenSealer(key_source(args))
    engine = create_engine(f"sqlite:///{args.db}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for user_id, token in [("1", "gho_alice_example"), ("2", "gho_bob_example")]:
            row = Connection(tenant="acme", user_id=user_id, github_token=b"")
            row.github_token = vault.seal(token, context=context_of(row))
            session.add(row)
        session.commit()
    engine.dispose()
    print("web: sealed 2 tokens")


def worker(args: argparse.Namespace) -> None:
    vault = TokenSealer(key_source(args))
    engine = create_engine(f"sqlite:///{args.db}")
    opened = 0
    with (
        Session(engine) as session,
        vault.worker(
            identity="github-sync",
            purpose="github-oauth",
            scope={"tenant": ["acme"]},
            ttl=60,
            max_decrypts=10,
        ) as ctx,
    ):
        for row in session.scalars(select(Connection)):
            token = ctx.open(row.github_token, context=context_of(row))
            opened += 1
            print(f"worker: user {row.user_id} token ends in ...{token[-4:].decode()}")
    engine.dispose()
    print(f"worker: opened {opened} tokens")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("role", choices=["web", "worker"])
    parser.add_argument("--db", default="app.db", help="the application's own database")
    parser.add_argument("--keys", default="kms.key", help="local KMS key file (without a server)")
    parser.add_argument(
        "--namespace", default="app-tokens", help="server namespace used as the KMS key"
    )
    args = parser.parse_args()
    (web if args.role == "web" else worker)(args)


if __name__ == "__main__":
    main()
