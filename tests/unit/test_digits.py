"""Every number a caller sends is ASCII digits: "²".isdigit() and "٣".isdigit() are True in
Python, and int() or float() of the first raises ValueError, a 500. The fuzzer found one in a
duration; each parser of the class is held here."""

from __future__ import annotations

import pytest

from strongroom.compat.vault.transit.fields import parse_ciphertext
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.keys.term import parse_term_ref
from strongroom.server.vault.fields import vault_int, vault_versions

NOT_ASCII = ["²", "٣", "\uff11", "1²"]  # superscript two, Arabic-Indic three, fullwidth one


@pytest.mark.parametrize("text", NOT_ASCII)
def test_unicode_digits_are_a_bad_request_everywhere(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_duration(text, "ttl")
    with pytest.raises(BadRequest):
        vault_int({"n": text}, "n")
    with pytest.raises(BadRequest):
        vault_versions({"versions": [text]})
    with pytest.raises(BadRequest):
        parse_ciphertext(f"vault:v{text}:AAAA")
    assert parse_term_ref(f"ns:secret#{text}") is None
