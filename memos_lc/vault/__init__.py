"""MemVault: versioned, governed MemCube storage on Qdrant."""

from memos_lc.vault.blobs import BlobStore
from memos_lc.vault.drivers import ClientDriver, Driver, DriverCapabilities, EdgeDriver
from memos_lc.vault.qdrant import CubeFilter, MemVault, default_vault_path

__all__ = [
    "BlobStore",
    "ClientDriver",
    "CubeFilter",
    "Driver",
    "DriverCapabilities",
    "EdgeDriver",
    "MemVault",
    "default_vault_path",
]
