"""A resource's metadata, one concept for the AWS APIs: its tags (key -> value, compat/aws/
tags.py) and its labels (label -> version, compat/aws/labels.py), kept in one record with the
resource and changed with compare-and-set, so a tag change and a label change made at once both
land. Secrets Manager keeps them in its secret's record (``tags``, ``custom_stages``), KMS a
key's tags in the key's record, and Parameter Store this record, one per parameter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

__all__ = ["ResourceMetadata"]


@dataclass(frozen=True)
class ResourceMetadata:
    tags: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps({"tags": dict(self.tags), "labels": dict(self.labels)}).encode()

    @classmethod
    def decode(cls, raw: bytes) -> ResourceMetadata:
        doc = json.loads(raw)
        return cls(dict(doc["tags"]), {k: int(v) for k, v in doc["labels"].items()})

    @staticmethod
    def decode_tags(raw: bytes) -> Mapping[str, str]:
        """A release before kept a parameter's tags in a record of their own: {key: value}."""
        return {str(k): str(v) for k, v in json.loads(raw).items()}

    @staticmethod
    def decode_labels(raw: bytes) -> Mapping[str, int]:
        """… and its labels in another: {label: version}."""
        return {str(k): int(v) for k, v in json.loads(raw).items()}

    @staticmethod
    def encode_map(value: Mapping[str, str] | Mapping[str, int]) -> bytes:
        return json.dumps(dict(value), sort_keys=True).encode()

    def with_tags(self, tags: Mapping[str, str]) -> ResourceMetadata:
        return replace(self, tags=dict(tags))

    def with_labels(self, labels: Mapping[str, int]) -> ResourceMetadata:
        return replace(self, labels=dict(labels))
