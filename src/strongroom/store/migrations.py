"""Versioned schema migrations, shared by both SQL backends. Append; never edit a published step."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

# Each step is a list of statements. {blob} and {text} are filled in per dialect.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE records (kind {text} NOT NULL, name {text} NOT NULL, value {blob} NOT NULL,"
        " PRIMARY KEY (kind, name))",
        "CREATE TABLE counters (kind {text} NOT NULL, name {text} NOT NULL,"
        " value BIGINT NOT NULL, PRIMARY KEY (kind, name))",
        "CREATE TABLE secrets (namespace {text} NOT NULL, path {text} NOT NULL,"
        " current_version INTEGER NOT NULL, created_time DOUBLE PRECISION NOT NULL,"
        " updated_time DOUBLE PRECISION NOT NULL, settings {text} NOT NULL,"
        " PRIMARY KEY (namespace, path))",
        "CREATE TABLE versions (namespace {text} NOT NULL, path {text} NOT NULL,"
        " version INTEGER NOT NULL, envelope {blob}, key_ref {text} NOT NULL,"
        " created_time DOUBLE PRECISION NOT NULL, deletion_time DOUBLE PRECISION,"
        " PRIMARY KEY (namespace, path, version))",
        "CREATE INDEX versions_by_key ON versions (namespace, key_ref)",
    ],
]
