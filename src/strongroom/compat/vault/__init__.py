"""Vault's secrets engines over strongroom: Transit (the KV engines are strongroom's own
secrets, served by ``service/`` and the Vault surface)."""
