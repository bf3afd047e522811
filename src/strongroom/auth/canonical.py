"""One canonical form for login names, so that case, whitespace and Unicode variants of a name
are one identity (CVE-2025-6004: lockout bypassed by case and space permutations)."""

from __future__ import annotations

import unicodedata

__all__ = ["canonical_name"]


def canonical_name(name: str) -> str:
    """NFKC, case-folded (twice, as folding can de-normalize), inner whitespace collapsed,
    outer whitespace and format characters (zero-width joiners …) removed."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))
    text = unicodedata.normalize("NFKC", text.casefold()).casefold()
    return " ".join(text.split())
