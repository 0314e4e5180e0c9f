"""MemVault: versioned, governed MemCube storage (the class: memvault.py; Qdrant: drivers.py)."""

from memos_lc.vault.blobs import BlobStore
from memos_lc.vault.drivers import ClientDriver, Driver, DriverCapabilities, EdgeDriver
from memos_lc.vault.memvault import MemVault, default_vault_path
from memos_lc.vault.schema import CubeFilter

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
