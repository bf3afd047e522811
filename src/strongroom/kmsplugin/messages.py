"""The KMS v2 messages (kms_v2.proto beside this file) as protobuf classes, built from a
descriptor in code: no generated files and no protoc at run time. The tests compile the .proto
file itself and check that both describe the same messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["PACKAGE", "SERVICE", "messages"]

PACKAGE = "v2"
SERVICE = f"{PACKAGE}.KeyManagementService"
_F = descriptor_pb2.FieldDescriptorProto
_STRING, _BYTES, _MESSAGE = _F.TYPE_STRING, _F.TYPE_BYTES, _F.TYPE_MESSAGE

# message -> its fields as (name, number, type); ANNOTATIONS marks map<string, bytes>
_ANNOTATIONS = -1
_MESSAGES: dict[str, tuple[tuple[str, int, Any], ...]] = {
    "StatusRequest": (),
    "StatusResponse": (("version", 1, _STRING), ("healthz", 2, _STRING), ("key_id", 3, _STRING)),
    "DecryptRequest": (
        ("ciphertext", 1, _BYTES),
        ("uid", 2, _STRING),
        ("key_id", 3, _STRING),
        ("annotations", 4, _ANNOTATIONS),
    ),
    "DecryptResponse": (("plaintext", 1, _BYTES),),
    "EncryptRequest": (("plaintext", 1, _BYTES), ("uid", 2, _STRING)),
    "EncryptResponse": (
        ("ciphertext", 1, _BYTES),
        ("key_id", 2, _STRING),
        ("annotations", 3, _ANNOTATIONS),
    ),
}


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="strongroom/kmsplugin/kms_v2.proto", package=PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind in fields:
            field = message.field.add(name=field_name, number=number, json_name=_json(field_name))
            if kind != _ANNOTATIONS:
                field.type, field.label = kind, _F.LABEL_OPTIONAL
                continue
            entry = message.nested_type.add(name="AnnotationsEntry")
            entry.options.map_entry = True
            entry.field.add(
                name="key", number=1, type=_STRING, label=_F.LABEL_OPTIONAL, json_name="key"
            )
            entry.field.add(
                name="value", number=2, type=_BYTES, label=_F.LABEL_OPTIONAL, json_name="value"
            )
            field.type, field.label = _MESSAGE, _F.LABEL_REPEATED
            field.type_name = f".{PACKAGE}.{name}.AnnotationsEntry"
    return file


def _json(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def messages() -> dict[str, Any]:
    """Each message's class by name, from a pool of its own (a client's generated classes of
    the same names may share the process)."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in _MESSAGES
    }
