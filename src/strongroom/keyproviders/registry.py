"""Key providers built from URIs. The composition root makes one registry, registers the schemes
it knows (the production providers add theirs) and builds each configured provider once.

    local:<key file>?key=<key name>      the local KMS (a key file kept apart from the store)
    transit://<host:port>/<mount>/<key>?token_file=…   a Vault or OpenBao Transit key
    awskms:<key id, ARN or alias>?region=…               an AWS KMS key
    pkcs11:token=<label>;object=<label>?module-path=…    an AES key in an HSM (RFC 7512)
    gcpkms:projects/…/cryptoKeys/<key>                    a Google Cloud KMS key
    azurekv:https://<vault>.vault.azure.net/keys/<name>/<version>   an Azure Key Vault key

A provider URI comes from the server's own configuration only (``--key-provider NAME=URI``),
never from an API caller: a caller who chose a URI would choose where the server connects."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from strongroom.errors import BadRequest
from strongroom.keyproviders.bounded import bounded
from strongroom.keyproviders.local import LocalKeyFile
from strongroom.keyproviders.options import timeout_option
from strongroom.keyproviders.provider import KeyProvider

__all__ = [
    "DEFAULT_LOCAL_KEY",
    "Factory",
    "ProviderRegistry",
    "ProviderURI",
    "configured_provider",
    "local_provider",
    "parse_provider_uri",
    "transit_provider",
]

DEFAULT_LOCAL_KEY = "root"  # as --root-key-name


@dataclass(frozen=True)
class ProviderURI:
    scheme: str
    target: str  # what the scheme addresses: a file, a key ARN, a PKCS#11 token, an address
    params: Mapping[str, str] = field(default_factory=dict)


def parse_provider_uri(uri: str) -> ProviderURI:
    scheme, sep, rest = uri.partition(":")
    if not sep or not scheme.isidentifier() or not rest:
        raise BadRequest(f"a key provider is a URI such as local:/path/kms.key, not {uri!r}")
    # Split by hand: a target may itself hold colons (an AWS key ARN, a PKCS#11 URI's
    # attributes), which a URL parser would read as a scheme or a port.
    target, _, query = rest.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    return ProviderURI(scheme.lower(), target, params)


def local_provider(uri: ProviderURI) -> KeyProvider:
    if not uri.target:
        raise BadRequest("a local key provider names its key file: local:/path/kms.key")
    return LocalKeyFile(Path(uri.target)).provider(uri.params.get("key", DEFAULT_LOCAL_KEY))


Factory = Callable[[ProviderURI], KeyProvider]


def _lazy(module: str) -> Factory:
    """A factory that imports its provider's module on first use: each needs its own extra
    (boto3, python-pkcs11, a cloud SDK, httpx), and the core needs none of them."""

    def build(uri: ProviderURI) -> KeyProvider:
        try:
            loaded = importlib.import_module(f"strongroom.keyproviders.{module}")
        except ImportError as exc:
            raise BadRequest(
                f"the {uri.scheme} key provider needs its extra: "
                f"pip install 'strongroom[{_EXTRAS[uri.scheme]}]' ({exc.name} is missing)"
            ) from None
        factory: Factory = getattr(loaded, f"{module}_provider")
        return factory(uri)

    return build


# scheme -> the pyproject extra its module needs; the module is strongroom.keyproviders.<scheme>
_EXTRAS = {
    "transit": "transit",
    "awskms": "aws",
    "pkcs11": "pkcs11",
    "gcpkms": "gcp",
    "azurekv": "azure",
}
transit_provider = _lazy("transit")


def configured_provider(to: object, providers: Mapping[str, str], *, allow_root: bool) -> str:
    """The name of one of the server's ``--key-provider NAME=URI`` flags, given as its name,
    its exact URI, or (``allow_root``) ``root`` for the seal's own ("" is returned). Only
    configured providers: a caller who could pass any URI would choose where the server
    connects, and to whom it hands key material."""
    if allow_root and to == "root":
        return ""
    if isinstance(to, str) and to in providers:
        return to
    by_uri = [name for name, uri in providers.items() if uri == to]
    if by_uri:
        return by_uri[0]
    known = ", ".join([*(["root"] if allow_root else []), *sorted(providers)]) or "none"
    raise BadRequest(
        f"no key provider {to!r} on this server; use one of: {known} (or its URI as given "
        "to --key-provider NAME=URI)"
    )


class ProviderRegistry:
    def __init__(self, factories: Mapping[str, Factory] | None = None) -> None:
        defaults = {"local": local_provider, **{scheme: _lazy(scheme) for scheme in _EXTRAS}}
        self._factories: dict[str, Factory] = dict(factories or defaults)
        self._built: dict[str, KeyProvider] = {}
        self._lock = threading.Lock()

    def register(self, scheme: str, factory: Factory) -> None:
        self._factories[scheme.lower()] = factory

    @property
    def schemes(self) -> list[str]:
        return sorted(self._factories)

    def close(self) -> None:
        """Close every provider built (their connections and threads)."""
        with self._lock:
            built, self._built = list(self._built.values()), {}
        for provider in built:
            close = getattr(provider, "close", None)
            if callable(close):
                close()

    def build(self, uri: str) -> KeyProvider:
        """The provider of ``uri``, built once."""
        with self._lock:
            known = self._built.get(uri)
            if known is not None:
                return known
            parsed = parse_provider_uri(uri)
            factory = self._factories.get(parsed.scheme)
            if factory is None:
                raise BadRequest(
                    f"unknown key provider scheme {parsed.scheme!r}; this server knows: "
                    + ", ".join(self.schemes)
                )
            # Every provider's calls end within its timeout, whatever its SDK retries.
            provider = bounded(factory(parsed), timeout_option(parsed.params))
            self._built[uri] = provider
            return provider
