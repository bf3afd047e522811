"""Encryption as a service (Vault's Transit): named keys in a mount of kind ``transit``.

Policies are Vault's, on the request's path below the mount: ``<mount>/encrypt/<key>`` and
``<mount>/decrypt/<key>`` are separate, so a worker that may encrypt cannot decrypt.

Ciphertexts are ``vault:v<N>:<base64>`` (docs/transit-ciphertext.md). No operation takes a
caller's nonce, and convergent encryption is refused (Vault CVE-2023-4680).

The modules: ``models`` (ciphertexts, batches and their items, limits), ``core`` (the checks),
``keys`` (key management, backup and restore), ``operations`` (the cryptography; it holds
``TransitService``, the whole backend). The Vault surface's ``server/vault/transit.py`` is its
wire, in the envelope every Vault engine shares."""
