"""Compatibility backends: other products' APIs as views of strongroom's one data model, each in
the shape moto proved (models, the operations, filters, errors, and the responses on the wire).
They use the domain services (``service/``) and never the store (tests/test_layering.py)."""
