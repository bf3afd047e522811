"""The server's seal: what unlocks the root keys at startup (kms, file or shamir)."""

from strongroom.seal.barrier import Barrier, SealStatus
from strongroom.seal.shamir import combine, split

__all__ = ["Barrier", "SealStatus", "combine", "split"]
