"""Every limit strongroom enforces, in one place, so docs/limits.md and the code agree."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "MAX_INTEGER", "Limits", "is_version"]

# Every integer a request carries (versions, counts, limits, cas) fits a signed 32-bit column.
MAX_INTEGER = 2**31 - 1


def is_version(value: object) -> bool:
    """A version number: an int (not a bool) from 1 to MAX_INTEGER."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_INTEGER


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    max_value_bytes: int = 512 * 1024  # the encoded JSON of one version's data
    max_keys_per_secret: int = 1000
    max_path_bytes: int = 512
    max_path_segments: int = 32
    max_segment_bytes: int = 128
    max_namespace_bytes: int = 64
    default_max_versions: int = 10
    max_versions_limit: int = 1000
    max_custom_metadata_keys: int = 64
    max_custom_metadata_key_bytes: int = 128
    max_custom_metadata_value_bytes: int = 512
    max_list_page: int = 1000
    max_context_pairs: int = 16
    max_context_bytes: int = 1024


DEFAULT_LIMITS = Limits()
