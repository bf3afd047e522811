"""The ``strongroom`` command: a thin layer over the SDK (and the server launcher)."""
