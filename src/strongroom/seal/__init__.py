"""The server's seal: what unlocks the root keys at startup (kms, file or shamir)."""

from strongroom.seal.barrier import Barrier, RekeyResult, SealStatus
from strongroom.seal.shamir import combine, split

__all__ = ["Barrier", "RekeyResult", "SealStatus", "combine", "split"]
