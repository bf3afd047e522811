"""Key providers: where root keys live. They wrap and unwrap, and never store secrets."""

from strongroom.keyproviders.local import LocalKeyFile, LocalKeyProvider
from strongroom.keyproviders.provider import KeyProvider, KeyProviderBase

__all__ = ["KeyProvider", "KeyProviderBase", "LocalKeyFile", "LocalKeyProvider"]
