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

# The LangGraph integrations import langgraph; load them on first use so `memos-lc` commands
# and plain vault users start fast.
_LAZY = {
    "MemCubeStore": "memos_lc.store",
    "MemCubeSaver": "memos_lc.checkpoint",
    "export_bundle": "memos_lc.bundles",
    "import_bundle": "memos_lc.bundles",
    "read_bundle": "memos_lc.bundles",
    "MemoryNodes": "memos_lc.nodes",
    "MemScheduler": "memos_lc.scheduler",
    "MemReader": "memos_lc.reader",
    "MemCubeRetriever": "memos_lc.retrievers",
    "MemCubeChatMessageHistory": "memos_lc.retrievers",
    "LifecyclePolicy": "memos_lc.lifecycle",
    "ConsolidationReport": "memos_lc.lifecycle",
    "consolidate": "memos_lc.lifecycle",
    "aconsolidate": "memos_lc.lifecycle",
    "ChatMemOS": "memos_lc.chat_models",
    "ActivationMemory": "memos_lc.activation",
    "AdapterRegistry": "memos_lc.parametric",
    "AdapterTrainingConfig": "memos_lc.parametric",
    "consolidate_to_adapter": "memos_lc.parametric",
    "aconsolidate_to_adapter": "memos_lc.parametric",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'memos_lc' has no attribute {name!r}")


__all__ = [
    "AccessControl",
    "ActivationMemory",
    "AdapterRegistry",
    "AdapterTrainingConfig",
    "AuditEvent",
    "ChatMemOS",
    "ConsolidationReport",
    "CubeFilter",
    "Grant",
    "LifecyclePolicy",
    "LifecycleStatus",
    "MemCube",
    "MemCubeChatMessageHistory",
    "MemCubeRetriever",
    "MemCubeSaver",
    "MemCubeStore",
    "MemVault",
    "MemReader",
    "MemScheduler",
    "MemoryKind",
    "MemoryNodes",
    "MemoryType",
    "Permission",
    "Principal",
    "Provenance",
    "ScoredCube",
    "aconsolidate",
    "aconsolidate_to_adapter",
    "consolidate",
    "consolidate_to_adapter",
    "export_bundle",
    "import_bundle",
    "read_bundle",
]
