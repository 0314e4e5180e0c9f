"""Former home of :class:`~memos_lc.vault.memvault.MemVault`, kept as a re-export.

The vault is engine-agnostic, so the name misled: the class now lives in
:mod:`memos_lc.vault.memvault`, the Qdrant code in :mod:`memos_lc.vault.drivers` and the stored
shape in :mod:`memos_lc.vault.schema`. Every name importable from here before the split still
is (``from memos_lc.vault.qdrant import MemVault, MAX_LIMIT, CubeFilter`` and the like); new
code imports from the modules above, or from :mod:`memos_lc.vault`.
"""

from memos_lc.vault.limits import MAX_LIMIT, MAX_QUERY_CHARS
from memos_lc.vault.memvault import (
    DEFER_BATCH,
    ENV_VAULT,
    ID_FILTER_MAX,
    JOURNAL,
    MemVault,
    default_vault_path,
)
from memos_lc.vault.schema import (
    AUDIT,
    CUBES,
    GRANTS,
    NO_EXPIRY_TS,
    CubeFilter,
    audit_event_from_payload,
    cube_from_payload,
)

__all__ = [
    "AUDIT",
    "CUBES",
    "DEFER_BATCH",
    "ENV_VAULT",
    "GRANTS",
    "ID_FILTER_MAX",
    "JOURNAL",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "NO_EXPIRY_TS",
    "CubeFilter",
    "MemVault",
    "audit_event_from_payload",
    "cube_from_payload",
    "default_vault_path",
]
