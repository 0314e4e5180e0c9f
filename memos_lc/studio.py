"""Plug memos-lc into the LangGraph API server (``langgraph dev``, LangGraph Studio).

``langgraph.json`` points its ``store`` and ``checkpointer`` entries at :func:`store` and
:func:`checkpointer`, async context managers the server enters at start-up and exits at
shutdown. The embedded vault admits one process at a time, so both share ONE
:class:`~memos_lc.vault.MemVault` per server process, opened when the first of them is
entered and closed when the last is exited. The vault location is ``$MEMOS_LC_VAULT`` (a
directory, ``":memory:"`` or a Qdrant URL), else the user data dir.

Who acts in the store (:class:`ServerStore`), which keeps per-user ownership:

* in a run: the user the server authenticated (``langgraph_auth_user_id``, when the
  ``langgraph.json`` has an ``auth`` section), else the run's ``user_id`` (context or
  ``configurable``), else ``$MEMOS_LC_PRINCIPAL`` when it is set, else the run fails with
  :class:`~memos_lc.errors.PrincipalRequiredError` (Studio's run form asks for the user id:
  the graphs declare it in their run context, :class:`UserContext`);
* through the store API (``/store/...``: Studio's memory view, langgraph-sdk's
  ``client.store``): the request's authenticated user, so a user sees what their runs
  wrote and nobody else's; a request no user is authenticated for (``langgraph dev``
  without an ``auth`` section) or from a LangGraph Studio user (a developer of the
  deployment, signed in through LangSmith) acts as the **operator**: the server's principal
  with the roles ``$MEMOS_LC_STUDIO_ROLES`` lists (comma-separated). With
  ``MEMOS_LC_STUDIO_ROLES=admin`` the operator sees every user's memories; unset, it has no
  roles and sees only what it wrote itself. Runs never get these roles.

Checkpoints: the server reads thread state with the bare thread config (``GET
/threads/{id}/state`` carries no user id) and deletes threads by id alone, so a checkpoint
owned by the ``user_id`` of the run that wrote it would read as missing in Studio. Every
checkpoint is therefore owned by the server's principal; access to threads is the API
server's job (its auth handlers).

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
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

from memos_lc.checkpoint import MemCubeSaver
from memos_lc.errors import PermissionDeniedError
from memos_lc.governance import Principal, as_principal, default_principal, os_user_principal
from memos_lc.store import MemCubeStore
from memos_lc.vault.memvault import ENV_VAULT, MemVault, default_vault_path

if TYPE_CHECKING:
    from memos_lc.chat_models import ChatMemOS

ENV_STUDIO_ROLES = "MEMOS_LC_STUDIO_ROLES"
"""Roles of the operator, who the store API acts as when no user is authenticated (e.g.
``admin``: Studio's memory view shows every user's memories). Comma-separated; unset: none."""


class UserContext(TypedDict, total=False):
    """The run context of a graph served to Studio: who the run acts for. Declared as the
    graph's ``context_schema``, it makes Studio's run form ask for a user id."""

    user_id: Annotated[
        str,
        Field(description="Act as this user: the memories the run reads and writes are theirs."),
    ]


_guard = threading.Lock()
_shared: MemVault | None = None
_users = 0
_models: dict[MemVault | None, ChatMemOS] = {}  # see answering_model


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
            _models.pop(_shared, None)
            _shared.close()
            _shared = None


def operator_principal() -> Principal:
    """The server's principal (``$MEMOS_LC_PRINCIPAL``, else the OS user) with the roles
    ``$MEMOS_LC_STUDIO_ROLES`` lists: who the store API acts as when no user is
    authenticated."""
    roles = frozenset(
        r.strip() for r in os.environ.get(ENV_STUDIO_ROLES, "").split(",") if r.strip()
    )
    return Principal(os_user_principal().id, roles=roles)


def _request_user() -> Any:
    """The user of the request the LangGraph API server is serving; ``None`` when there is
    no user to act as: no request (or the server's in-process client, which bypasses auth),
    a server without an ``auth`` section, or not inside the server at all.

    langgraph-api keeps the user in a context variable for its handlers and has no public
    accessor; the store call made for a request runs in that request's context. Its modules
    are looked up, not imported: outside the server they fail to import (they read the
    server's configuration from the environment)."""
    server_utils = sys.modules.get("langgraph_api.utils")
    if server_utils is None:  # not inside the LangGraph API server
        return None
    ctx = server_utils.get_auth_ctx()
    noop = sys.modules.get("langgraph_api.auth.noop")  # the backend of a server without auth
    if ctx is None or (noop is not None and isinstance(ctx.user, noop.UnauthenticatedUser)):
        return None
    return ctx.user


def _server_has_auth() -> bool:
    """Whether the LangGraph API server this runs in authenticates requests (custom auth in
    ``langgraph.json``, or LangSmith's); ``langgraph dev`` without an ``auth`` section does
    not. Read from the server's configuration module, looked up as in :func:`_request_user`."""
    config = sys.modules.get("langgraph_api.config")
    if config is None:
        return False
    return bool(getattr(config, "LANGGRAPH_AUTH", None)) or (
        getattr(config, "LANGGRAPH_AUTH_TYPE", "noop") != "noop"
    )


class ServerStore(MemCubeStore):
    """The :class:`~memos_lc.store.MemCubeStore` the LangGraph API server calls: in a run it
    acts like any MemCubeStore (``principal`` is the default there); for a store API request
    it acts as the request's authenticated user, and as ``operator`` when no user is
    authenticated or a LangGraph Studio user asks (see the module docstring).

    Args:
        vault: The vault.
        operator: Who acts for a request no user is authenticated for, and for Studio users.
        **kwargs: :class:`~memos_lc.store.MemCubeStore` arguments.
    """

    def __init__(self, vault: MemVault, *, operator: Principal, **kwargs: Any) -> None:
        super().__init__(vault, **kwargs)
        self.operator = operator

    def principal_outside_run(self) -> Principal:
        """The request's authenticated user (its id, never roles), else the operator."""
        from langgraph_sdk.auth import is_studio_user

        user = _request_user()
        if user is None and _server_has_auth():
            # no request user on a server with auth: the in-process client (graph code
            # calling get_client()) bypasses auth, so it must not get the operator's roles
            return Principal(self.operator.id)
        if user is None or is_studio_user(user):
            return self.operator
        if not user.is_authenticated:  # the app's auth let an anonymous request through
            raise PermissionDeniedError(
                "a store API request without an authenticated user acts as nobody on a "
                "server with auth: authenticate it, or handle it in @auth.on.store"
            )
        return Principal(as_principal(user.identity).id)


def answering_model(vault: MemVault | None) -> ChatMemOS:
    """The chat model the served graphs answer with (``graphs/memory_chat.py``) and promote
    memory for (``graphs/consolidation.py``: activation and adapter cubes for these weights),
    one per vault, so a server holds one of it. Its weights load on first use, not when the
    server imports the graphs; the vault lets it read the cubes the scheduler places. The
    server's vault takes its model with it when it closes (a model kept for a closed vault
    would read nothing and keep the vault alive)."""
    from memos_lc.chat_models import ChatMemOS

    with _guard:
        model = _models.get(vault)
        if model is None:
            model = _models[vault] = ChatMemOS(max_new_tokens=96, vault=vault)
        return model


@asynccontextmanager
async def store() -> AsyncIterator[MemCubeStore]:
    """The server's long-term store: MemCubes with hybrid search over the bundled MiniLM."""
    vault = _acquire()
    try:
        # a run that names nobody acts as $MEMOS_LC_PRINCIPAL, set on purpose, or fails:
        # never as the OS user (two developers' runs would share its memories), and never
        # with the operator's roles (those are for the store API only)
        yield ServerStore(
            vault, index=True, principal=default_principal(), operator=operator_principal()
        )
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
