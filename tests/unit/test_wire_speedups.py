"""The request path's cheaper parts keep their promises: answers encode every document (orjson,
or the standard library for what orjson refuses), and request ids stay unique and UUID-shaped,
in a forked child too."""

from __future__ import annotations

import json
import os
import re

from strongroom.server.json_out import encode_json
from strongroom.server.request_ids import new_request_id

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_every_document_encodes_to_the_same_json() -> None:
    docs = [
        {"data": {"password": "pässwörd", "n": 3, "f": 1.5, "none": None, "list": [True, False]}},
        {"huge": 10**40, "negative": -(10**30)},  # beyond orjson's 64 bits
        {"surrogate": "a\ud800b"},  # a lone surrogate from a caller's JSON
        [],
        "text",
    ]
    for doc in docs:
        encoded = encode_json(doc)
        assert json.loads(encoded) == json.loads(json.dumps(doc))
    assert encode_json({"a": 1, "b": [1, 2]}) == b'{"a":1,"b":[1,2]}'


def test_request_ids_are_unique_uuid_shaped_and_differ_in_a_forked_child() -> None:
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(_UUID.fullmatch(i) for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    parent_next = new_request_id()
    assert from_child[:18] != parent_next[:18]  # another process prefix
