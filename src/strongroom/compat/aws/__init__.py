"""AWS's APIs over strongroom: Secrets Manager, KMS and Parameter Store, each a package with its
operations and wire responses; ``sigv4`` (the signature), ``fields`` (request members) and
``stored_values`` are shared by the three (docs/compat-aws.md)."""
