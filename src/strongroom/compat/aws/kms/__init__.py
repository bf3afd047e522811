"""AWS KMS over strongroom's named keys (the AWS surface's TrentService): keys of every spec,
aliases, key states, rotation, tags, key policies, and encrypt/decrypt/data keys with AWS's
encryption-context binding.

Where things live (per region, as in AWS):

- a key's material is a named key (the service Transit uses, service/named_keys.py) in the
  namespace ``aws-kms-<region>`` (kind ``aws-kms``, made on first use), named by the key's id;
  each rotation adds a version, and a CiphertextBlob names the version it was sealed with;
- its AWS metadata (description, state, on-demand rotations, tags) is the record
  ``aws-kms-key`` ``<region>/<key id>``; its automatic rotation period is the named key's only
  (the scheduler rotates by it); an alias is the record ``aws-kms-alias`` ``<region>/<alias>``.

Policy paths (docs/compat-aws.md), ``M`` being ``aws-kms-<region>``: ``create`` and ``list`` on
``M/keys``; ``read`` (describe), ``update`` (enable, disable, rotation, tags) and ``delete``
(schedule deletion) on ``M/keys/<key id>``; ``update`` on ``M/encrypt/<key id>``,
``M/decrypt/<key id>`` and ``M/datakey/<key id>``; ``create``/``update``/``delete`` on
``M/aliases/<name>`` (and ``update`` on the key it names), ``list`` on ``M/aliases``;
``update`` on ``M/random``; ``sudo`` on ``M/keys/<key id>`` to put a key policy.

A key's policy (``PutKeyPolicy``, ``CreateKey``'s ``Policy``) is enforced as AWS enforces it:
the default policy names the account, so strongroom's policies decide; a policy may name
callers directly (granting without them), deny, or leave the account out (refusing callers
strongroom's policies would let in). A refusal never tells whether a key exists; an alias that
does not exist is refused the same way unless the caller may read it.

The modules: ``models`` and ``errors``, ``core`` (key references, access, the key record),
``keys`` (key management), ``aliases``, ``operations`` (the cryptography; it holds
``KmsService``, the whole backend), and ``responses`` and ``routes`` (the wire)."""
