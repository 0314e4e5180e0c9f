"""memos-lc: the MemOS memory operating system for LLM agents, on LangGraph and Qdrant."""

from memos_lc.cube import (
    AccessControl,
    LifecycleStatus,
    MemCube,
    MemoryKind,
    MemoryType,
    Provenance,
    ScoredCube,
)
from memos_lc.governance import AuditEvent, Grant, Permission, Principal
from memos_lc.vault import CubeFilter, MemVault

__version__ = "0.1.0"
__all__ = [
    "AccessControl",
    "AuditEvent",
    "CubeFilter",
    "Grant",
    "LifecycleStatus",
    "MemCube",
    "MemVault",
    "MemoryKind",
    "MemoryType",
    "Permission",
    "Principal",
    "Provenance",
    "ScoredCube",
]
