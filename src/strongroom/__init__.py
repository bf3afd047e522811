"""strongroom: a self-hosted secrets manager.

The core package needs only ``cryptography``. The server, client, CLI and database
backends live in optional extras (``pip install 'strongroom[server]'``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
