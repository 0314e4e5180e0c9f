"""Plug memos-lc into the LangGraph API server (``langgraph dev``, LangGraph Studio).

``langgraph.json`` points its ``store`` and ``checkpointer`` entries at :func:`store` and
:func:`checkpointer`, async context managers the server enters at start-up and exits at
shutdown. The embedded vault admits one process at a time, so both share ONE
:class:`~memos_lc.vault.qdrant.MemVault` per server process, opened when the first of them is
entered and closed when the last is exited. The vault location is ``$MEMOS_LC_VAULT`` (a
directory, ``":memory:"`` or a Qdrant URL), else the user data dir.

Who acts: the server reads thread state with the bare thread config (``GET
/threads/{id}/state`` carries no user id) and deletes threads by id alone, so a checkpoint
owned by the ``user_id`` of the run that wrote it would read as missing in Studio. Every
checkpoint is therefore owned by the server's principal (``$MEMOS_LC_PRINCIPAL``, else the OS
user); access to threads is the API server's job (its auth handlers). The store keeps per-user
ownership: in a run it acts as ``configurable.user_id``, through the store API
(``/store/...``, Studio's memory view) as the server's principal.

Example ``langgraph.json``:
    .. code-block:: json

        {
          "dependencies": ["."],
          "graphs": {"memory_notes": "./graphs/memory_notes.py:graph"},
          "store": {"path": "memos_lc.studio.store"},
          "checkpointer": {"backend": "custom", "path": "memos_lc.studio.checkpointer"}
        }
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from memos_lc.checkpoint import MemCubeSaver
from memos_lc.governance import os_user_principal
from memos_lc.store import MemCubeStore
from memos_lc.vault.qdrant import ENV_VAULT, MemVault, default_vault_path

_guard = threading.Lock()
_shared: MemVault | None = None
_users = 0


def _acquire() -> MemVault:
    global _shared, _users
    with _guard:
        if _shared is None:
            _shared = MemVault.open(os.environ.get(ENV_VAULT) or default_vault_path())
        _users += 1
        return _shared


def _release() -> None:
    global _shared, _users
    with _guard:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.close()
            _shared = None


@asynccontextmanager
async def store() -> AsyncIterator[MemCubeStore]:
    """The server's long-term store: MemCubes with hybrid search over the bundled MiniLM."""
    vault = _acquire()
    try:
        # the server acts as one principal on purpose: the local dev server is one user's
        yield MemCubeStore(vault, index=True, principal=os_user_principal())
    finally:
        _release()


@asynccontextmanager
async def checkpointer() -> AsyncIterator[MemCubeSaver]:
    """The server's checkpointer: threads stored as governed MemCubes, owned by the server's
    principal (see the module docstring)."""
    vault = _acquire()
    try:
        yield MemCubeSaver(vault, principal=os_user_principal(), principal_from_config=False)
    finally:
        _release()
