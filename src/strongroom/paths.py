"""Canonical secret paths and namespace names. A non-canonical path is refused, never repaired:
repairing is how path-traversal bugs (CVE-2026-3605) slip past policies."""

from __future__ import annotations

import re
import unicodedata

from strongroom.errors import BadRequest
from strongroom.limits import DEFAULT_LIMITS, Limits

__all__ = ["RESERVED_NAMESPACES", "check_namespace", "check_path", "check_prefix"]

_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FORBIDDEN_IN_SEGMENT = ("%", "\\")
# Policy paths put secrets at "<namespace>/<path>" and the system at "sys/…", "auth/…" and
# "identity/…" (identity tokens, as in Vault).
RESERVED_NAMESPACES = frozenset({"sys", "auth", "identity"})


def check_namespace(name: str, limits: Limits = DEFAULT_LIMITS) -> str:
    if not _NAMESPACE.fullmatch(name) or len(name) > limits.max_namespace_bytes:
        raise BadRequest(
            f"invalid namespace name: use 1-{limits.max_namespace_bytes} characters "
            "from a-z, 0-9, '-' and '_', starting with a letter or digit"
        )
    if name in RESERVED_NAMESPACES:
        raise BadRequest(f"namespace name {name!r} is reserved for system policy paths")
    return name


def _check_segments(path: str, limits: Limits) -> None:
    encoded = path.encode("utf-8", "surrogatepass")
    if len(encoded) > limits.max_path_bytes:
        raise BadRequest(f"path is longer than {limits.max_path_bytes} bytes")
    segments = path.split("/")
    if len(segments) > limits.max_path_segments:
        raise BadRequest(f"path has more than {limits.max_path_segments} segments")
    for segment in segments:
        if segment == "":
            raise BadRequest("path must not have empty segments, or a leading or trailing '/'")
        if segment in (".", ".."):
            raise BadRequest("path must not contain '.' or '..' segments")
        if len(segment.encode("utf-8", "surrogatepass")) > limits.max_segment_bytes:
            raise BadRequest(f"path segment is longer than {limits.max_segment_bytes} bytes")
        for char in segment:
            if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
                raise BadRequest("path must not contain control or format characters")
        if any(bad in segment for bad in _FORBIDDEN_IN_SEGMENT):
            raise BadRequest("path must not contain '%' or '\\' (encoded separators are refused)")
    if unicodedata.normalize("NFC", path) != path:
        raise BadRequest("path must be in Unicode NFC form")


# Plain ASCII paths without dot segments: the common case, checked with one regex.
_SIMPLE_PATH = re.compile(
    r"(?!\.\.?(?:/|$))[A-Za-z0-9_\-.@+=,:~]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_\-.@+=,:~]+)*"
)


def check_path(path: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Return ``path`` if it is canonical, else raise BadRequest saying why."""
    if not path:
        raise BadRequest("path must not be empty")
    if (
        len(path) <= limits.max_path_bytes
        and _SIMPLE_PATH.fullmatch(path)
        and path.count("/") < limits.max_path_segments
        and (
            len(path) <= limits.max_segment_bytes  # ASCII: no segment can be longer
            or all(len(segment) <= limits.max_segment_bytes for segment in path.split("/"))
        )
    ):
        return path
    _check_segments(path, limits)
    return path


def check_prefix(prefix: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """A listing prefix: empty, or a canonical path optionally followed by one '/'."""
    if prefix == "":
        return prefix
    check_path(prefix.removesuffix("/"), limits)
    return prefix.removesuffix("/")
