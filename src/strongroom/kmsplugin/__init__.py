"""A Kubernetes KMS v2 plugin backed by a strongroom Transit key (``strongroom kms-plugin``):
kube-apiserver encrypts its data-encryption keys through it (docs/kubernetes.md)."""
