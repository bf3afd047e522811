"""The server's seal: what unlocks the root keys at startup (kms, file or shamir)."""

from strongroom.seal.manager import SEAL_TYPES, SealManager, SealStatus
from strongroom.seal.seals import FileSeal, KmsSeal, RekeyResult, Seal, ShamirSeal
from strongroom.seal.shamir import combine, split

__all__ = [
    "SEAL_TYPES",
    "FileSeal",
    "KmsSeal",
    "RekeyResult",
    "Seal",
    "SealManager",
    "SealStatus",
    "ShamirSeal",
    "combine",
    "split",
]
