"""An AES key inside a PKCS#11 token (an HSM; SoftHSM2 in the tests) as a root of trust
(``pkcs11:`` provider URIs, RFC 7512; the ``pkcs11`` extra, python-pkcs11).

    pkcs11:token=strongroom;object=strongroom-root?module-path=/usr/lib/softhsm/libsofthsm2.so
        &pin-source=file:/etc/strongroom/hsm-pin        (or pin-source=env:HSM_PIN)
        [&timeout=10]

The token is chosen by ``token=`` (its label), ``serial=`` or ``slot-id=``; the key by
``object=`` (its label). A PIN in the URI itself (``pin-value``) is refused: the URI sits in
process arguments and service files, the PIN does not belong there.

Each version of the root key is an AES-256 secret key object with that label and a ``CKA_ID`` of
its version number (four bytes, big-endian), ``CKA_SENSITIVE`` and not ``CKA_EXTRACTABLE``.
A wrap is ``CKM_AES_GCM`` inside the token under the newest version, with a fresh 96-bit IV and
the canonical context as the associated data:

    0x01 ‖ u32 key version ‖ IV (12 bytes) ‖ ciphertext and 128-bit tag

``rotate`` makes a new version in the token; older versions keep unwrapping.

The module is loaded once per process. python-pkcs11 initializes it without locking arguments
(``C_Initialize(NULL)``), which promises the module that no two threads call it at once (SoftHSM2
crashes when they do), so every call into a module holds that module's lock. Each provider makes
its calls on a worker thread of its own, in a session that thread opened (the first one logged
in: PKCS#11 logs in an application, not a session), and the caller gives up after the timeout:
a network HSM that hangs does not hang the server. Keyring wraps are rare, so serial calls cost
nothing that matters. Errors never carry the PIN, a
PKCS#11 type or a return-value name: "no" about a ciphertext is the opaque DecryptionError,
everything else is KeyProviderUnavailable saying what to fix."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.mechanisms import GCMParams

from strongroom.config import environment_secret
from strongroom.crypto import NONCE_BYTES, new_nonce
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.options import DEFAULT_TIMEOUT, check_options, timeout_option
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["Pkcs11KeyProvider", "pkcs11_provider"]

_FORMAT = 1
_HEADER = 1 + 4 + NONCE_BYTES
_TAG_BYTES = 16
_MAX_WRAPPED = 64 * 1024
_T = TypeVar("_T")

_libraries: dict[str, tuple[Any, threading.Lock]] = {}
_libraries_lock = threading.Lock()
# path -> how many times the module was re-initialized: every session opened before is gone
_generations: dict[str, int] = {}


def _library(path: str) -> tuple[Any, threading.Lock]:
    """A PKCS#11 module, loaded and initialized once per process (C_Initialize twice fails),
    and the lock every call into it holds."""
    with _libraries_lock:
        if path not in _libraries:
            _libraries[path] = (pkcs11.lib(path), threading.Lock())
        return _libraries[path]


def _reinitialize(path: str, library: Any) -> None:
    """C_Finalize and C_Initialize again (the module's lock held): a module lists its tokens
    when it is initialized, so a token that went away and came back is seen only after this.
    Every session of the module, other providers' too, is then gone (the generation says so)."""
    with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
        library.reinitialize()
    _generations[path] = _generations.get(path, 0) + 1


class Pkcs11KeyProvider(KeyProviderBase):
    def __init__(
        self,
        module_path: str,
        key_label: str,
        pin: Callable[[], str],
        *,
        token_label: str | None = None,
        serial: str | None = None,
        slot_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._module_path = module_path
        self._key_label = key_label
        self._pin = pin
        self._token_label, self._serial, self._slot_id = token_label, serial, slot_id
        self._timeout = timeout
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pkcs11")
        # Touched by the worker thread only:
        self._session: Any = None  # open and logged in; None after a fault
        self._generation = 0  # the module's generation the session was opened in
        self._keys: dict[int, Any] = {}  # key objects of the session, by version

    def __repr__(self) -> str:
        return f"Pkcs11KeyProvider({self.key_ref!r})"

    @property
    def key_ref(self) -> str:
        return f"pkcs11:{self._token_label or self._serial or self._slot_id}/{self._key_label}"

    @property
    def _where(self) -> str:
        if self._token_label:
            return f"token {self._token_label!r}"
        return f"token serial {self._serial!r}" if self._serial else f"slot {self._slot_id}"

    # -- the session (on the worker thread)
    def _open(self, library: Any) -> Any:
        """The worker's session, opened and logged in on first use, after a fault, and after
        the module was re-initialized."""
        generation = _generations.get(self._module_path, 0)
        if self._session is not None and self._generation == generation:
            return self._session
        self._session, self._generation = None, generation
        token = self._find_token(library)
        try:
            session = token.open(rw=True, user_pin=self._pin())
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            session = token.open(rw=True)  # another provider of this process logged in
        except pkcs11.exceptions.PinIncorrect:
            raise KeyProviderUnavailable(
                f"the PKCS#11 {self._where} refused the PIN; check pin-source"
            ) from None
        self._session, self._keys = session, {}
        return session

    def _find_token(self, library: Any) -> Any:
        for slot in library.get_slots(token_present=True):
            token = slot.get_token()
            if self._token_label is not None and token.label != self._token_label:
                continue
            if self._serial is not None and _text(token.serial) != self._serial:
                continue
            if self._slot_id is not None and slot.slot_id != self._slot_id:
                continue
            return token
        raise _TokenMissing(
            f"no PKCS#11 {self._where} in {self._module_path}: check the token is present and "
            "initialized (softhsm2-util --show-slots lists SoftHSM's)"
        )

    def _run(self, what: str, work: Callable[[Any], _T]) -> _T:
        """``work(session)`` on the worker thread, holding the module's lock; given up after
        the timeout. A fault of the token (or a token not found) drops the session and
        re-initializes the module, then tries once more: a token back after an outage is used
        again at the next call, without a restart."""

        def attempt() -> _T:
            try:
                library, lock = _library(self._module_path)
            except pkcs11.exceptions.PKCS11Error:
                raise KeyProviderUnavailable(
                    f"cannot load the PKCS#11 module {self._module_path} for {self._where}: "
                    "check module-path and the module's own configuration"
                ) from None
            with lock:
                for last in (False, True):
                    try:
                        return work(self._open(library))
                    except (pkcs11.exceptions.PKCS11Error, _TokenMissing) as exc:
                        self._session = None
                        if last:
                            raise _unavailable(self._where, what, exc) from None
                        _reinitialize(self._module_path, library)
            raise AssertionError("unreachable")

        future = self._worker.submit(attempt)
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            future.cancel()  # if it has not started, it never will
            raise KeyProviderUnavailable(
                f"the PKCS#11 {self._where} did not answer {what} in {self._timeout:g} s"
            ) from None

    # -- keys
    def _versions(self, session: Any) -> dict[int, Any]:
        keys: dict[int, Any] = {}
        for key in session.get_objects(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.AES,
                Attribute.LABEL: self._key_label,
            }
        ):
            ident = bytes(key[Attribute.ID])
            if len(ident) == 4:
                keys[int.from_bytes(ident, "big")] = key
        return keys

    def _key(self, session: Any, version: int | None) -> tuple[int, Any]:
        """The key of ``version`` (the newest when None); cached per session."""
        keys = self._keys
        if version is None or version not in keys:
            keys.update(self._versions(session))
        if not keys:
            raise KeyProviderUnavailable(
                f"no AES key labelled {self._key_label!r} on the PKCS#11 {self._where}; "
                "create one (docs/kms.md)"
            )
        number = max(keys) if version is None else version
        if number not in keys:
            raise DecryptionError()
        return number, keys[number]

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        aad = canonical_context(context)

        def work(session: Any) -> bytes:
            version, key = self._key(session, None)
            iv = new_nonce()
            sealed = key.encrypt(
                plaintext_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad)
            )
            return bytes([_FORMAT]) + version.to_bytes(4, "big") + iv + bytes(sealed)

        return self._run("a wrap", work)

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        if not _HEADER + _TAG_BYTES <= len(wrapped) <= _MAX_WRAPPED or wrapped[0] != _FORMAT:
            raise DecryptionError()
        version = int.from_bytes(wrapped[1:5], "big")
        iv, sealed = wrapped[5:_HEADER], wrapped[_HEADER:]
        aad = canonical_context(context)

        def work(session: Any) -> bytes:
            _, key = self._key(session, version)
            try:
                opened = key.decrypt(
                    sealed, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad)
                )
            except pkcs11.exceptions.PKCS11Error:
                # Tokens differ in how they say "the tag does not match" (SoftHSM2 answers
                # CKR_GENERAL_ERROR); if the key still opens what it seals, the answer was no.
                if _round_trips(key):
                    raise DecryptionError() from None
                raise
            return bytes(opened)

        return self._run("an unwrap", work)

    def rotate(self) -> int:
        """A new AES-256 key version in the token, made there and never extractable."""

        def work(session: Any) -> int:
            versions = self._versions(session)
            number = max(versions, default=0) + 1
            session.generate_key(
                KeyType.AES,
                256,
                label=self._key_label,
                id=number.to_bytes(4, "big"),
                store=True,
                template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                    Attribute.SIGN: False,
                    Attribute.VERIFY: False,
                },
            )
            return number

        return self._run("a key generation", work)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


class _TokenMissing(KeyProviderUnavailable):
    """No token matches: perhaps gone for now (the module is re-initialized and asked again)."""


def _unavailable(where: str, what: str, exc: Exception) -> KeyProviderUnavailable:
    if isinstance(exc, KeyProviderUnavailable):
        return KeyProviderUnavailable(exc.message)
    return KeyProviderUnavailable(
        f"the PKCS#11 {where} failed {what} ({type(exc).__name__}); check the token is present"
    )


def _round_trips(key: Any) -> bool:
    """Whether ``key`` opens what it has just sealed: the token works."""
    iv, probe = new_nonce(), b"strongroom pkcs11 probe"
    params = GCMParams(iv, b"")
    try:
        sealed = key.encrypt(probe, mechanism=Mechanism.AES_GCM, mechanism_param=params)
        opened = key.decrypt(sealed, mechanism=Mechanism.AES_GCM, mechanism_param=params)
    except pkcs11.exceptions.PKCS11Error:
        return False
    return bytes(opened) == probe


def _text(value: Any) -> str:
    return value.decode().strip() if isinstance(value, bytes) else str(value).strip()


def _pin_reader(source: str) -> Callable[[], str]:
    """``file:/path`` or ``env:NAME``: read when the provider logs in, never stored."""
    kind, _, where = source.partition(":")
    if kind == "file" and where:
        path = Path(where.removeprefix("//"))

        def from_file() -> str:
            try:
                return path.read_text().strip()
            except OSError:
                raise KeyProviderUnavailable(f"cannot read the PKCS#11 PIN file {path}") from None

        return from_file
    if kind == "env" and where:

        def from_environment() -> str:
            value = environment_secret(where)
            if value is None:
                raise KeyProviderUnavailable(f"the PKCS#11 PIN variable {where} is not set")
            return value

        return from_environment
    raise BadRequest("pin-source is file:/path/to/pin or env:VARIABLE")


def pkcs11_provider(uri: Any) -> Pkcs11KeyProvider:
    """From a parsed ``pkcs11:`` URI (keyproviders/registry.py)."""
    params: Mapping[str, str] = uri.params
    if "pin-value" in params:
        raise BadRequest(
            "a PIN does not belong in the provider URI; use pin-source=file:/path or "
            "pin-source=env:VARIABLE"
        )
    check_options("pkcs11", params, ("module-path", "pin-source"))
    attributes: dict[str, str] = {}
    for part in str(uri.target).split(";"):
        name, equals, value = part.partition("=")
        if not equals or name not in ("token", "serial", "slot-id", "object"):
            raise BadRequest(
                f"unknown PKCS#11 URI attribute {part!r}; use token=, serial=, slot-id= and object="
            )
        attributes[name] = unquote(value)
    if not attributes.get("object"):
        raise BadRequest("a pkcs11 provider names its key: pkcs11:token=LABEL;object=KEY-LABEL")
    if not ({"token", "serial", "slot-id"} & set(attributes)):
        raise BadRequest("a pkcs11 provider chooses its token by token=, serial= or slot-id=")
    if not params.get("module-path") or not params.get("pin-source"):
        raise BadRequest("a pkcs11 provider needs module-path=… and pin-source=…")
    slot = attributes.get("slot-id")
    if slot is not None and not (slot.isascii() and slot.isdigit()):
        raise BadRequest("slot-id is a number")
    return Pkcs11KeyProvider(
        params["module-path"],
        attributes["object"],
        _pin_reader(params["pin-source"]),
        token_label=attributes.get("token"),
        serial=attributes.get("serial"),
        slot_id=int(slot) if slot is not None else None,
        timeout=timeout_option(params),
    )
