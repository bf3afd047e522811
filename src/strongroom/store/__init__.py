"""Untrusted storage of envelopes and metadata. It never imports crypto."""

from strongroom.store.protocol import SecretRecord, Store, VersionRecord
from strongroom.store.sqlite import SqliteStore

__all__ = ["SecretRecord", "SqliteStore", "Store", "VersionRecord", "open_store"]


def open_store(url: str) -> Store:
    """``sqlite:///path/to/file.db`` or ``postgresql://…``."""
    if url.startswith("sqlite://"):
        from pathlib import Path

        return SqliteStore(Path(url.removeprefix("sqlite://")))
    if url.startswith(("postgresql://", "postgres://")):
        from strongroom.store.postgres import PostgresStore

        return PostgresStore(url)
    from strongroom.errors import BadRequest

    raise BadRequest("store URL must start with sqlite:// or postgresql://")
