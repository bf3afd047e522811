"""Conformance suites that every key provider and every store must pass.

Use them from a backend's tests::

    from strongroom.testing import kms_conformance, store_conformance
    kms_conformance.run_all(make_provider)
"""
