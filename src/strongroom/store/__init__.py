"""Untrusted storage of envelopes and metadata. It never imports crypto."""

from strongroom.store.protocol import SecretRecord, Store, VersionRecord
from strongroom.store.sqlite import SqliteStore

__all__ = ["SecretRecord", "SqliteStore", "Store", "VersionRecord", "open_store"]


def open_store(url: str, *, exclusive: bool = False) -> Store:
    """``sqlite:///path/to/file.db`` or ``postgresql://…``. ``exclusive``: a server that is the
    only process on its SQLite file (store/sqlite.py); PostgreSQL is shared by design."""
    if url.startswith("sqlite://"):
        from pathlib import Path

        return SqliteStore(Path(url.removeprefix("sqlite://")), exclusive=exclusive)
    if url.startswith(("postgresql://", "postgres://")):
        from strongroom.store.postgres import PostgresStore

        return PostgresStore(url)
    from strongroom.errors import BadRequest

    raise BadRequest("store URL must start with sqlite:// or postgresql://")
