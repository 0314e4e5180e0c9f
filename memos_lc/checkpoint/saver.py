"""MemCubeSaver: a LangGraph checkpointer that keeps threads as governed MemCubes.

Every checkpoint, and every batch of pending writes, is one unindexed MemCube (memory type
``"checkpoint"``) in a :class:`~memos_lc.vault.qdrant.MemVault`, so threads get what every
memory gets: an owner (principal isolation, deny by default), an expiry (TTL), versions and an
audit trail of every read and write.

Layout (cubes under the namespace ``("langgraph", "checkpoints", <thread>, <checkpoint ns>)``):

* a **checkpoint cube** per checkpoint: the checkpoint without its channel values, its
  metadata, its parent id, the values of the channel versions *this* checkpoint introduced
  (``new_versions``; one blob per channel version, as in the Postgres saver's blobs table)
  and, for every channel it holds, a reference ``channel -> (version, checkpoint that stored
  it)``. Unchanged channels are never stored twice; reading a checkpoint fetches it and the
  few checkpoints its references point at.
* a **writes cube** per ``put_writes(task_id)``: the task's pending writes keyed by
  ``(task_id, idx)`` (``WRITES_IDX_MAP`` for special channels), with each write's task path.
  On an embedded vault, writes still waiting in the journal when the next checkpoint is put
  ride in that checkpoint's cube instead (tagged ``w:<parent id>``, their own cube withdrawn
  from the batch): a graph step then costs the engine one cube, not two. Reads merge both
  places as ``put_writes`` merges a task's writes; deleting the carrier first moves them
  back into a writes cube of their checkpoint.
* **chunk cubes** when a cube's serialized bytes exceed what one cube holds (4 MB of JSON).

The storage shape (the envelopes, their chunking, ids, tags and values through LangGraph's
serde) is :mod:`memos_lc.checkpoint.codec`, pure and tested on its own; this module only
moves cubes: vault calls, the caches of references and latest ids, thread lifecycle.

One ``put`` or ``put_writes`` is one vault call, and a cheap one: a *deferred* put that the
vault acknowledges once it is in its journal file and writes to the engine in batches (see
``MemVault.put(deferred=True)``); any other vault call, e.g. the next read, writes the batch
first, so reads see every acknowledged write. ``get_tuple`` is one when the saver knows the
checkpoint's references (it wrote or read it) and, without a ``checkpoint_id``, the thread's
latest id (an embedded vault, which only this process writes); else two.

Example:
    .. code-block:: python

        from memos_lc.checkpoint import MemCubeSaver

        with MemCubeSaver.from_path("/tmp/vault") as saver:
            graph = builder.compile(checkpointer=saver)
            graph.invoke(inputs, {"configurable": {"thread_id": "t-1", "user_id": "alice"}})
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import random
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    SerializerProtocol,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from memos_lc.aio import async_twin
from memos_lc.checkpoint.codec import (
    CHECKPOINT,
    ROOT,
    WRITES,
    CheckpointConfigError,
    blob_refs,
    carried_writes,
    checkpoint_envelope,
    chunk_ids,
    config_str,
    cube_id,
    cubes_for,
    decode,
    id_time,
    kind_of,
    load_value,
    lookup_key,
    merge_writes,
    pending_writes,
    tag,
    thread_namespace,
    writes_entries,
    writes_envelope,
)
from memos_lc.cube import MemCube, MemoryType, check_ttl, utcnow
from memos_lc.errors import ConflictError, InvalidInputError
from memos_lc.governance import (
    Principal,
    as_principal,
    default_principal,
    principal_from_configurable,
    require_principal,
)
from memos_lc.vault.qdrant import MAX_LIMIT, CubeFilter, MemVault

__all__ = ["CheckpointConfigError", "MemCubeSaver"]

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE = 64
_REFS_CACHE = 4096
# Deferred pending writes the next checkpoint may carry (see MemCubeSaver._carry): only small
# ones, and only while a batch can still be waiting (the vault writes one every 128 cubes).
_CARRY_BYTES = 64 * 1024
_CARRY_KEYS = 256


def _ttl(value: timedelta | float | int | None) -> timedelta | None:
    return None if value is None else check_ttl(value, "seconds")


class _Stored:
    """A decoded cube: the cube and its envelope."""

    __slots__ = ("cube", "env")

    def __init__(self, cube: MemCube, env: dict[str, Any]) -> None:
        self.cube = cube
        self.env = env

    @property
    def id(self) -> str:
        return self.env["id"]


class _Latest:
    """The latest checkpoint of each ``(owner, thread, ns)``, for the savers of one embedded
    vault: only this process writes it, so once a thread was read or written here its latest
    checkpoint is known, and ``get_tuple`` fetches it by id in one round trip instead of two.

    Entries are ``(created_at, checkpoint id)``, the order :meth:`MemCubeSaver._latest` picks
    by. One is installed from a read only if no write or delete ran meanwhile (the epoch);
    puts advance it; deletes drop the thread's entries. ``(_NEVER, "")`` records a scope seen
    empty, so the first puts of a new thread are tracked too. A thread seen with no checkpoint
    in any namespace is *bare* until one is put: its first put has no expired thread to purge.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: OrderedDict[tuple[str, str, str], tuple[datetime, str]] = OrderedDict()
        self._bare: set[tuple[str, str]] = set()
        self._epoch = 0

    def get(self, key: tuple[str, str, str]) -> str | None:
        """The latest checkpoint id of ``key`` when known."""
        with self._lock:
            entry = self._ids.get(key)
        if entry is None or not entry[1]:
            return None
        return entry[1]

    def bare(self, owner: str, thread_id: str) -> bool:
        """Whether the thread is known to have no checkpoint in any namespace."""
        with self._lock:
            return (owner, thread_id) in self._bare

    def epoch(self) -> int:
        with self._lock:
            return self._epoch

    def install(
        self,
        key: tuple[str, str, str],
        entry: tuple[datetime, str],
        epoch: int,
        *,
        bare: bool = False,
    ) -> None:
        with self._lock:
            if epoch == self._epoch:
                self._ids[key] = entry
                self._ids.move_to_end(key)
                while len(self._ids) > _REFS_CACHE:
                    self._ids.popitem(last=False)
                if bare:
                    if len(self._bare) >= _REFS_CACHE:
                        self._bare.clear()
                    self._bare.add(key[:2])

    def advance(self, key: tuple[str, str, str], entry: tuple[datetime, str] | None) -> None:
        """A checkpoint was written under ``key``; ``None`` when its place in the order is
        not known (the entry is dropped)."""
        with self._lock:
            self._epoch += 1
            self._bare.discard(key[:2])
            if key not in self._ids:
                return
            if entry is None:
                del self._ids[key]
            else:
                self._ids[key] = max(self._ids[key], entry)

    def forget(self, owner: str, thread_id: str | None = None) -> None:
        with self._lock:
            self._epoch += 1
            for key in [k for k in self._ids if k[0] == owner and thread_id in (None, k[1])]:
                del self._ids[key]
            self._bare = {k for k in self._bare if k[0] != owner or thread_id not in (None, k[1])}


_LATEST: weakref.WeakKeyDictionary[MemVault, _Latest] = weakref.WeakKeyDictionary()
_LATEST_GUARD = threading.Lock()


def _latest_ids(vault: MemVault) -> _Latest | None:
    """The shared :class:`_Latest` of an embedded vault; ``None`` for a server, which other
    processes may write."""
    if not vault.driver.capabilities.exclusive:
        return None
    with _LATEST_GUARD:
        return _LATEST.setdefault(vault, _Latest())


# -- the saver --------------------------------------------------------------------------------


class MemCubeSaver(BaseCheckpointSaver[str]):
    """LangGraph checkpointer over a :class:`~memos_lc.vault.qdrant.MemVault`.

    Sync and async methods live on this one class (like ``InMemorySaver``): use it with
    ``graph.invoke`` and ``graph.ainvoke`` alike.

    Args:
        vault: The vault to keep checkpoints in (embedded, ``":memory:"`` or a cluster).
        serde: LangGraph serializer. By default ``JsonPlusSerializer`` without pickle and
            in strict msgpack mode: it revives LangGraph's safe types and those of the
            graph's state schema, nothing else (a value naming any other type reads back
            as its raw data; nothing is imported or called). To allow more, pass
            ``JsonPlusSerializer(allowed_msgpack_modules=[...])``. A serializer that pickles
            is refused.
        principal: Who acts when a config names nobody (``config["configurable"]`` keys
            ``principal``, ``user_id`` or ``langgraph_auth_user_id`` name the principal of a
            call), and for ``delete_thread``, ``delete_for_runs``, ``copy_thread``, ``prune``
            and :meth:`purge_expired`. Default: ``$MEMOS_LC_PRINCIPAL``, else the OS user.
        ttl: Default time to live of a thread (a ``timedelta`` or seconds): a thread expires
            ``ttl`` after its last checkpoint. ``None`` keeps threads until deleted.
        principal_from_config: Whether config keys name the principal of a call. ``False``
            makes every thread belong to ``principal`` whatever the config says: for the
            LangGraph API server, which reads thread state without a user id and guards
            threads with its own auth (see :mod:`memos_lc.studio`).

    Every thread belongs to the principal that wrote it: another principal sees no such
    thread (``get_tuple`` answers ``None``, ``list`` nothing) and writing under the same
    ``thread_id`` starts its own, separate thread. Every vault call is audited.
    """

    def __init__(
        self,
        vault: MemVault,
        *,
        serde: SerializerProtocol | None = None,
        principal: Principal | str | None = None,
        ttl: timedelta | float | int | None = None,
        principal_from_config: bool = True,
    ) -> None:
        if serde is None:
            # strict msgpack: only LangGraph's safe types and those the graph's state schema
            # names (LangGraph adds them through with_allowlist when it compiles); a stored
            # value never names a callable to import and run.
            serde = JsonPlusSerializer(pickle_fallback=False, allowed_msgpack_modules=None)
        if getattr(serde, "pickle_fallback", False):
            raise InvalidInputError("MemCubeSaver never pickles: pass pickle_fallback=False")
        super().__init__(serde=serde)
        if not isinstance(vault, MemVault):
            raise InvalidInputError(f"vault must be a MemVault, got {type(vault).__name__}")
        self.vault = vault
        # None: every call names its principal in its config, else PrincipalRequiredError
        self.principal = default_principal() if principal is None else as_principal(principal)
        self.ttl = _ttl(ttl)
        self.principal_from_config = principal_from_config
        self._refs: OrderedDict[tuple[str, ...], dict[str, list[Any]]] = OrderedDict()
        self._refs_lock = threading.Lock()
        # Pending writes put deferred, by checkpoint, so the put of the next checkpoint can
        # carry them (see put): (owner, thread, ns, checkpoint id) -> task -> (cube id, entries)
        self._unflushed: OrderedDict[tuple[str, ...], dict[str, tuple[str, list[Any]]]] = (
            OrderedDict()
        )
        self._latest_ids = _latest_ids(vault)
        self._owns_vault = False

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        serde: SerializerProtocol | None = None,
        principal: Principal | str | None = None,
        ttl: timedelta | float | int | None = None,
        **vault_options: Any,
    ) -> MemCubeSaver:
        """Open a vault (see :meth:`MemVault.open`: a directory, ``":memory:"``, a Qdrant URL
        or ``None`` for the default) and a saver that closes it on :meth:`close` / exit, as
        :meth:`MemCubeStore.from_path <memos_lc.store.MemCubeStore.from_path>` does:
        use it in a ``with`` block (as LangGraph's ``SqliteSaver.from_conn_string``), or
        keep it open and call :meth:`close`.

        Example:
            .. code-block:: python

                with MemCubeSaver.from_path("/tmp/vault") as saver:
                    graph = builder.compile(checkpointer=saver)

                saver = MemCubeSaver.from_path("/tmp/vault")
                graph = builder.compile(checkpointer=saver)
                saver.close()
        """
        vault = MemVault.open(path, **vault_options)
        try:
            saver = cls(vault, serde=serde, principal=principal, ttl=ttl)
        except BaseException:
            vault.close()
            raise
        saver._owns_vault = True
        return saver

    from_conn_string = from_path
    """LangGraph's name for :meth:`from_path` (``SqliteSaver.from_conn_string``)."""

    def close(self) -> None:
        """Close the vault if this saver opened it (:meth:`from_path`); once."""
        if self._owns_vault:
            self._owns_vault = False
            self.vault.close()

    def _own_principal(self) -> Principal:
        """The saver's principal, for calls whose config names nobody."""
        return require_principal(self.principal, "MemCubeSaver")

    def with_principal(self, principal: Principal | str) -> MemCubeSaver:
        """A saver over the same vault acting as ``principal`` by default."""
        clone: MemCubeSaver = copy.copy(self)
        clone.principal = as_principal(principal)
        clone._owns_vault = False
        return clone

    def __enter__(self) -> MemCubeSaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemCubeSaver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    # -- config ------------------------------------------------------------------------------

    def _acting(self, config: RunnableConfig | None) -> tuple[Principal, dict[str, Any]]:
        """The principal of a call and the configurable entry naming it (echoed in configs)."""
        if not self.principal_from_config:
            return self._own_principal(), {}
        conf = (config or {}).get("configurable") or {}
        try:
            found = principal_from_configurable(conf)
        except InvalidInputError as e:
            raise CheckpointConfigError(str(e)) from None
        if found:
            key, principal = found
            return principal, {key: conf[key]}
        return self._own_principal(), {}

    @staticmethod
    def _thread(config: RunnableConfig) -> tuple[str, str]:
        try:
            conf = config["configurable"]
            thread_id = conf["thread_id"]
        except (KeyError, TypeError):
            raise CheckpointConfigError("thread_id") from None
        if thread_id is None:
            raise CheckpointConfigError("thread_id")
        ns = conf.get("checkpoint_ns") or ""
        return config_str(thread_id, "thread_id"), config_str(ns, "checkpoint_ns")

    _ns = staticmethod(thread_namespace)
    _cube_id = staticmethod(cube_id)

    def _config(
        self, thread_id: str, ns: str, checkpoint_id: str, echo: dict[str, Any]
    ) -> RunnableConfig:
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
                **echo,
            }
        }

    # -- stored cubes ------------------------------------------------------------------------

    def _loads(self, entry: Sequence[str]) -> Any:
        return load_value(self.serde, *entry)

    def _cubes(
        self,
        principal: Principal,
        env: dict[str, Any],
        *,
        kind: str,
        tags: tuple[str, ...],
        key: str | None,
        created: datetime,
        expires: datetime | None,
        namespace: tuple[str, ...] | None = None,
        id_: str | None = None,
    ) -> list[MemCube]:
        """The cubes holding ``env`` (see :func:`~memos_lc.checkpoint.codec.cubes_for`), under
        its own id and namespace unless given."""
        thread_id, ns = env["thread"], env["ns"]
        if id_ is None:
            parts = (env["id"],) if kind == CHECKPOINT else (env["id"], env["task"])
            id_ = cube_id(principal.id, thread_id, ns, kind, *parts)
        return cubes_for(
            env,
            owner=principal.id,
            cube_id=id_,
            namespace=namespace or thread_namespace(thread_id, ns),
            kind=kind,
            tags=tags,
            key=key,
            created=created,
            expires=expires,
        )

    def _decode(
        self, principal: Principal, cubes: Iterable[MemCube], pool: dict[str, MemCube]
    ) -> list[_Stored]:
        """Decode main cubes, fetching any chunk cubes missing from ``pool`` in one call."""
        mains = [c for c in cubes if kind_of(c) in (CHECKPOINT, WRITES)]
        missing = [i for c in mains for i in chunk_ids(c) if i not in pool]
        if missing:
            for c in self.vault.find(
                principal,
                cube_ids=missing,
                filter=self._filter(principal, ROOT),
                limit=min(MAX_LIMIT, len(missing)),
                order_by=None,
            ):
                pool[c.id] = c
        return [_Stored(c, decode(c, pool)) for c in mains]

    # -- vault access ------------------------------------------------------------------------

    @staticmethod
    def _filter(
        principal: Principal,
        namespace: tuple[str, ...],
        *,
        exact: bool = False,
        tags: Iterable[str] | None = None,
        roles: tuple[str, ...] | None = None,
        created_before: datetime | None = None,
    ) -> CubeFilter:
        return CubeFilter(
            namespace=namespace,
            namespace_exact=exact,
            memory_types=(MemoryType.CHECKPOINT.value,),
            owner=principal.id,
            tags=tuple(tags) if tags is not None else None,
            roles=roles,
            statuses=None,
            include_expired=True,
            created_before=created_before,
        )

    def _find(
        self,
        principal: Principal,
        namespace: tuple[str, ...],
        *,
        exact: bool = False,
        tags: Iterable[str] | None = None,
        roles: tuple[str, ...] | None = None,
        limit: int = MAX_LIMIT,
        created_before: datetime | None = None,
        ordered: bool = True,
    ) -> list[MemCube]:
        """Cubes under ``namespace`` (with any of ``tags``, of any of ``roles``: see
        :class:`~memos_lc.cube.Bookkeeping`), oldest first when ``ordered``;
        lookups that need no order skip it (the engine then answers from its tag index)."""
        tags = list(dict.fromkeys(tags)) if tags is not None else None
        if tags is not None and not tags:
            return []
        return self.vault.find(
            principal,
            filter=self._filter(
                principal,
                namespace,
                exact=exact,
                tags=tags,
                roles=roles,
                created_before=created_before,
            ),
            limit=limit,
            order_by="created" if ordered else None,
        )

    def _newest(
        self, principal: Principal, scope: tuple[str, ...], *, exact: bool, limit: int
    ) -> list[MemCube]:
        """Up to ``limit`` checkpoint cubes of ``scope``, newest first. On the embedded engine
        an ordered query right after writes costs milliseconds, so an unordered probe answers
        first for an empty scope: a new thread, as at the start of every new run."""
        if self._latest_ids is not None and not self._find(
            principal, scope, exact=exact, roles=(CHECKPOINT,), limit=1, ordered=False
        ):
            return []
        return self._find(principal, scope, exact=exact, roles=(CHECKPOINT,), limit=limit)

    def _store(
        self, principal: Principal, cubes: list[MemCube], withdraw: Sequence[str] = ()
    ) -> None:
        """Write a cube and its chunks in one vault call (deferred: see ``MemVault.put``,
        which also drops the ``withdraw`` cubes it makes redundant); when the cube exists
        already (a checkpoint put again), write it as a new version instead."""
        try:
            self.vault.put(principal, cubes, index=False, deferred=True, withdraw=withdraw)
            return
        except ConflictError:
            pass
        ids = [c.id for c in cubes]
        have = {
            c.id: c
            for c in self.vault.find(
                principal,
                cube_ids=ids,
                filter=self._filter(principal, ROOT),
                limit=len(ids),
                order_by=None,
            )
        }
        if cubes[0].id in have:
            self._store_version(principal, have[cubes[0].id], cubes)
        else:  # only chunks were there (an interrupted write): add what is missing
            self.vault.put(principal, [c for c in cubes if c.id not in have], index=False)

    def _carry(
        self, principal: Principal, thread_id: str, ns: str, parent_id: str
    ) -> dict[str, tuple[str, list[Any]]]:
        """The parent checkpoint's pending writes that are still deferred (not yet in the
        engine): the child's put carries them and withdraws their own cubes, so a graph step
        costs the engine one cube, not two. Reads find them by the child's ``w:`` tag."""
        with self._refs_lock:
            mine = self._unflushed.pop((principal.id, thread_id, ns, parent_id), None)
        if not mine:
            return {}
        still = self.vault.waiting(principal, [cube_id for cube_id, _ in mine.values()])
        return {task: entry for task, entry in mine.items() if entry[0] in still}

    def _unflushed_put(self, key: tuple[str, ...], task_id: str, cube_id: str, w: list) -> None:
        with self._refs_lock:
            self._unflushed.setdefault(key, {})[task_id] = (cube_id, w)
            self._unflushed.move_to_end(key)
            while len(self._unflushed) > _CARRY_KEYS:
                self._unflushed.popitem(last=False)

    @staticmethod
    def _carried(checkpoint: _Stored) -> list[_Stored]:
        """The parent's pending writes a checkpoint carries (see :meth:`_carry`), as the
        writes records the readers expect."""
        return [_Stored(checkpoint.cube, env) for env in carried_writes(checkpoint.env)]

    def _refs_get(self, key: tuple[str, ...]) -> dict[str, list[Any]] | None:
        with self._refs_lock:
            refs = self._refs.get(key)
            if refs is not None:
                self._refs.move_to_end(key)
            return refs

    def _refs_put(self, key: tuple[str, ...], refs: dict[str, list[Any]]) -> None:
        with self._refs_lock:
            self._refs[key] = refs
            self._refs.move_to_end(key)
            while len(self._refs) > _REFS_CACHE:
                self._refs.popitem(last=False)

    def _refs_forget(self, owner: str, thread_id: str | None = None) -> None:
        """Drop what is cached about a thread (every thread of ``owner`` when ``None``)."""
        with self._refs_lock:
            for key in [k for k in self._refs if k[0] == owner and thread_id in (None, k[1])]:
                del self._refs[key]
        if self._latest_ids is not None:
            self._latest_ids.forget(owner, thread_id)

    # -- TTL -----------------------------------------------------------------------------------

    def _expiry(self, now: datetime) -> datetime | None:
        """When a cube written ``now`` expires: the saver's ``ttl`` after."""
        return now + self.ttl if self.ttl else None

    @staticmethod
    def _alive(cube: MemCube, now: datetime) -> bool:
        return cube.expires_at is None or cube.expires_at > now

    def _thread_alive(self, principal: Principal, thread_id: str) -> bool | None:
        """Whether the thread is live (its newest checkpoint has not expired); ``None`` when
        the principal has no such thread."""
        newest = self._newest(principal, self._ns(thread_id), exact=False, limit=1)
        if not newest:
            return None
        return self._alive(newest[0], utcnow())

    # -- reads -------------------------------------------------------------------------------

    def _values(
        self,
        principal: Principal,
        main: _Stored,
        sources: dict[str, _Stored],
    ) -> dict[str, Any]:
        """Channel values of a checkpoint from its own blobs and the checkpoints it refers to;
        a blob found nowhere (its checkpoint was deleted elsewhere) is searched for in the
        whole thread."""
        env = main.env
        found: dict[str, list[Any]] = {}
        missing: dict[str, Any] = {}
        for ch, (ver, origin) in env["refs"].items():
            src = main if origin == main.id else sources.get(origin)
            entry = src.env["blobs"].get(ch) if src is not None else None
            if entry is not None and entry[0] == ver:
                found[ch] = entry
            else:
                missing[ch] = ver
        if missing:
            scope = self._ns(env["thread"], env["ns"])
            thread = self._find(principal, scope, exact=True, roles=(CHECKPOINT,), ordered=False)
            for other in self._decode(principal, thread, {}):
                for ch, ver in list(missing.items()):
                    entry = other.env["blobs"].get(ch)
                    if entry is not None and entry[0] == ver:
                        found[ch] = entry
                        del missing[ch]
        return {
            ch: load_value(self.serde, entry[1], entry[2])
            for ch, entry in found.items()
            if entry[1] is not None
        }

    def _tuple(
        self,
        principal: Principal,
        echo: dict[str, Any],
        main: _Stored,
        sources: dict[str, _Stored],
        writes: Iterable[_Stored],
    ) -> CheckpointTuple:
        env = main.env
        thread_id, ns, cid = env["thread"], env["ns"], env["id"]
        checkpoint: Checkpoint = self._loads(env["checkpoint"])
        parent = env.get("parent")
        return CheckpointTuple(
            config=self._config(thread_id, ns, cid, echo),
            checkpoint={**checkpoint, "channel_values": self._values(principal, main, sources)},
            metadata=self._loads(env["metadata"]),
            parent_config=self._config(thread_id, ns, parent, echo) if parent else None,
            pending_writes=pending_writes(self.serde, (w.env for w in writes)),
        )

    def _related(
        self,
        principal: Principal,
        mains: Sequence[_Stored],
        pool: dict[str, MemCube],
        scope: tuple[str, ...],
        *,
        have_writes: bool,
    ) -> tuple[dict[tuple[tuple[str, ...], str], _Stored], dict[tuple[str, ...], list[_Stored]]]:
        """Fetch, in one call, what the ``mains`` need beyond ``pool``: the checkpoints their
        references point at and (unless ``have_writes``) their pending writes. Returns the
        checkpoints by (namespace, id) and the writes by (namespace + checkpoint id)."""
        pooled = {
            (c.namespace, t) for c in pool.values() if kind_of(c) == CHECKPOINT for t in c.tags
        }
        tags: list[str] = []
        for m in mains:
            if not have_writes:
                tags.append(tag("w", m.id))
            for _, origin in m.env["refs"].values():
                if (m.cube.namespace, tag("c", origin)) not in pooled:
                    tags.append(tag("c", origin))
        if tags:
            exact = len(scope) > len(ROOT) + 1
            for c in self._find(principal, scope, exact=exact, tags=tags, ordered=False):
                pool.setdefault(c.id, c)
        decoded = self._decode(
            principal, [c for c in pool.values() if c.id not in {m.cube.id for m in mains}], pool
        )
        checkpoints = {(m.cube.namespace, m.id): m for m in mains}
        writes: dict[tuple[str, ...], list[_Stored]] = {}
        for d in decoded:
            if kind_of(d.cube) == CHECKPOINT:
                checkpoints.setdefault((d.cube.namespace, d.id), d)
            else:
                writes.setdefault((*d.cube.namespace, d.id), []).append(d)
        for d in (*mains, *decoded):
            for w in self._carried(d) if kind_of(d.cube) == CHECKPOINT else ():
                writes.setdefault((*d.cube.namespace, w.id), []).append(w)
        return checkpoints, writes

    def _assemble(
        self,
        principal: Principal,
        echo: dict[str, Any],
        mains: Sequence[_Stored],
        checkpoints: dict[tuple[tuple[str, ...], str], _Stored],
        writes: dict[tuple[str, ...], list[_Stored]],
    ) -> list[CheckpointTuple]:
        out = []
        for m in mains:
            sources = {
                origin: checkpoints[(m.cube.namespace, origin)]
                for _, origin in m.env["refs"].values()
                if (m.cube.namespace, origin) in checkpoints
            }
            out.append(
                self._tuple(principal, echo, m, sources, writes.get((*m.cube.namespace, m.id), []))
            )
        return out

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (its ``checkpoint_id``, else the thread's latest
        in ``checkpoint_ns``), with its pending writes in ``writes_sort_key`` order; ``None``
        when the principal has no such checkpoint or the thread has expired."""
        thread_id, ns = self._thread(config)
        principal, echo = self._acting(config)
        checkpoint_id = get_checkpoint_id(config)
        scope = self._ns(thread_id, ns)
        key = (principal.id, thread_id, ns)
        latest = self._latest_ids
        pool: dict[str, MemCube] = {}
        mains: list[_Stored] = []
        if checkpoint_id:
            mains, pool = self._by_id(principal, key, scope, checkpoint_id)
        elif latest is not None and (known := latest.get(key)):
            mains, pool = self._by_id(principal, key, scope, known)
        have_writes = bool(mains)  # fetched by id: with its writes
        if not mains and not checkpoint_id:
            epoch = latest.epoch() if latest is not None else 0
            pool = {}
            # a new thread (no checkpoint in any namespace) is known as such until its first
            # put, which then need not look for an expired thread to purge
            bare = (
                latest is not None
                and ns == ""
                and not self._find(
                    principal, self._ns(thread_id), roles=(CHECKPOINT,), limit=1, ordered=False
                )
            )
            mains = [] if bare else self._latest(principal, scope, pool)
            if latest is not None:
                seen = (mains[0].cube.created_at, mains[0].id) if mains else (_NEVER, "")
                latest.install(key, seen, epoch, bare=bare)
        if not mains:
            return None
        main = mains[0]
        if not self._alive(main.cube, utcnow()) and not self._thread_alive(principal, thread_id):
            return None
        self._refs_put((*key, main.id), main.env["refs"])  # the next read fetches all in one call
        checkpoints, writes = self._related(principal, [main], pool, scope, have_writes=have_writes)
        return self._assemble(principal, echo, [main], checkpoints, writes)[0]

    def _by_id(
        self,
        principal: Principal,
        key: tuple[str, str, str],
        scope: tuple[str, ...],
        checkpoint_id: str,
    ) -> tuple[list[_Stored], dict[str, MemCube]]:
        """Checkpoint ``checkpoint_id`` of ``scope`` (a list of at most one) and the pool of
        cubes fetched with it: its pending writes and, when its references are cached, the
        checkpoints they point at - all in one vault call."""
        tags = [tag("c", checkpoint_id), tag("w", checkpoint_id)]
        for _, origin in (self._refs_get((*key, checkpoint_id)) or {}).values():
            tags.append(tag("c", origin))
        cubes = self._find(principal, scope, exact=True, tags=tags, ordered=False)
        pool = {c.id: c for c in cubes}
        candidates = [c for c in cubes if kind_of(c) == CHECKPOINT and tags[0] in c.tags]
        mains = [m for m in self._decode(principal, candidates, pool) if m.id == checkpoint_id]
        return mains, pool

    def _latest(
        self, principal: Principal, scope: tuple[str, ...], pool: dict[str, MemCube]
    ) -> list[_Stored]:
        """The checkpoint with the greatest id in ``scope``: ids are UUID v6, so the newest by
        creation time (ties, within a microsecond, are broken by id)."""
        limit = 2  # ids are unique to 100 ns and sorted by time: a tie needs the same microsecond
        cands = self._newest(principal, scope, exact=True, limit=limit)
        while True:
            if not cands:
                return []
            top = [c for c in cands if c.created_at == cands[0].created_at]
            if len(top) < len(cands) or len(cands) < limit or limit >= MAX_LIMIT:
                break
            limit = MAX_LIMIT
            cands = self._find(principal, scope, exact=True, roles=(CHECKPOINT,), limit=limit)
        if len(top) == 1:
            best = top[0]
        else:
            keyed = [c for c in top if c.key is not None]
            if len(keyed) == len(top):
                best = max(top, key=lambda c: c.key or "")
            else:
                best = max(self._decode(principal, top, pool), key=lambda s: s.id).cube
        pool[best.id] = best
        return self._decode(principal, [best], pool)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints, newest first: of the config's thread (and ``checkpoint_ns`` when the
        config has one; only its ``checkpoint_id`` when it names one), or of every thread of
        the principal when ``config`` is ``None``. ``filter`` matches metadata values,
        ``before`` keeps ids below that checkpoint's, ``limit`` caps the count."""
        principal, echo = self._acting(config)
        scope, exact, only_id = self._list_scope(config)
        before_id = get_checkpoint_id(before) if before else None
        if limit is not None and limit <= 0:
            return
        remaining = limit
        cursor = None
        if before_id and (t := id_time(before_id)) is not None:
            cursor = t + timedelta(microseconds=1)
        seen: set[str] = set()
        alive: dict[str, bool] = {}
        now = utcnow()
        while True:
            page = self._find(
                principal,
                scope,
                exact=exact,
                roles=(CHECKPOINT,),
                tags=None if only_id is None else (tag("c", only_id),),
                limit=_PAGE,
                created_before=cursor,
            )
            fresh = [c for c in page if c.id not in seen and kind_of(c) == CHECKPOINT]
            if not fresh:
                return
            seen.update(c.id for c in fresh)
            pool = {c.id: c for c in fresh}
            mains = [
                m
                for m in self._decode(principal, fresh, pool)
                if (only_id is None or m.id == only_id)
                and (before_id is None or m.id < before_id)
                and self._metadata_matches(m, filter)
                and self._list_alive(principal, m, now, alive)
            ]
            mains.sort(key=lambda m: m.id, reverse=True)
            if remaining is not None:
                mains = mains[:remaining]
            if mains:
                checkpoints, writes = self._related(
                    principal, mains, pool, scope, have_writes=False
                )
                yield from self._assemble(principal, echo, mains, checkpoints, writes)
                if remaining is not None:
                    remaining -= len(mains)
                    if remaining <= 0:
                        return
            if len(page) < _PAGE:
                return
            cursor = page[-1].created_at + timedelta(microseconds=1)

    def _list_scope(
        self, config: RunnableConfig | None
    ) -> tuple[tuple[str, ...], bool, str | None]:
        """What :meth:`list` searches: the namespace, whether only that one (not below), and
        the one checkpoint id the config names."""
        if config is None:
            return ROOT, False, None
        thread_id, _ = self._thread(config)
        ns = config["configurable"].get("checkpoint_ns")
        return self._ns(thread_id, ns), ns is not None, get_checkpoint_id(config)

    def _metadata_matches(self, m: _Stored, filter: dict[str, Any] | None) -> bool:
        if not filter:
            return True
        md = self._loads(m.env["metadata"])
        return all(md.get(k) == v for k, v in filter.items())

    def _list_alive(
        self, principal: Principal, m: _Stored, now: datetime, alive: dict[str, bool]
    ) -> bool:
        thread_id = m.env["thread"]
        if thread_id not in alive:
            if self._alive(m.cube, now):
                alive[thread_id] = True
            else:
                alive[thread_id] = bool(self._thread_alive(principal, thread_id))
        return alive[thread_id]

    # -- writes ------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint with the values of its ``new_versions`` (one vault call).
        Everything is serialized before anything is written: a value the serializer rejects
        raises its ``TypeError`` and stores nothing."""
        thread_id, ns = self._thread(config)
        principal, echo = self._acting(config)
        parent_id = config["configurable"].get("checkpoint_id")
        if parent_id is not None:
            parent_id = config_str(parent_id, "checkpoint_id")
        md = get_checkpoint_metadata(config, metadata)
        env = checkpoint_envelope(
            self.serde,
            thread_id=thread_id,
            ns=ns,
            parent_id=parent_id,
            checkpoint=checkpoint,
            metadata=md,
            new_versions=new_versions,
        )
        cid = env["id"]
        latest = self._latest_ids
        if (
            parent_id is None
            and ns == ""
            and not (latest is not None and latest.bare(principal.id, thread_id))
            and self._thread_alive(principal, thread_id) is False
        ):
            self._purge_threads(principal, [thread_id])  # an expired thread starts afresh
        env["refs"] = self._resolve_refs(principal, env, checkpoint.get("channel_versions") or {})
        now = utcnow()
        tags = [tag("c", cid)]
        if isinstance(run_id := md.get("run_id"), str) and run_id:
            tags.append(tag("r", run_id))
        carried = self._carry(principal, thread_id, ns, parent_id) if parent_id else {}
        if carried:
            env["carried_writes"] = [[task, entries] for task, (_, entries) in carried.items()]
            tags.append(tag("w", parent_id))
        when = id_time(cid)
        created = min(when or now, now)
        cubes = self._cubes(
            principal,
            env,
            kind=CHECKPOINT,
            tags=tuple(tags),
            key=lookup_key(cid),
            created=created,
            expires=self._expiry(now),
        )
        key = (principal.id, thread_id, ns)
        try:
            self._store(principal, cubes, withdraw=[cube_id for cube_id, _ in carried.values()])
        except BaseException:
            if latest is not None:
                latest.advance(key, None)  # written or not: no longer known
            raise
        if latest is not None:
            # a re-put keeps the first creation time: known only when the id carries it
            latest.advance(key, (created, cid) if created == when else None)
        self._refs_put((*key, cid), env["refs"])
        return self._config(thread_id, ns, cid, echo)

    def _resolve_refs(
        self, principal: Principal, env: dict[str, Any], channel_versions: dict[str, Any]
    ) -> dict[str, list[Any]]:
        """``channel -> [version, checkpoint id that stored it]`` for every channel."""
        thread_id, ns, parent_id = env["thread"], env["ns"], env["parent"]
        refs = blob_refs(env, channel_versions)
        rest = {ch: ver for ch, ver in channel_versions.items() if ch not in refs}
        if not rest:
            return refs
        inherited: dict[str, list[Any]] = {}
        if parent_id:
            cached = self._refs_get((principal.id, thread_id, ns, parent_id))
            if cached is None:
                scope = self._ns(thread_id, ns)
                found = self._find(
                    principal, scope, exact=True, tags=(tag("c", parent_id),), ordered=False
                )
                for p in self._decode(
                    principal, [c for c in found if kind_of(c) == CHECKPOINT], {}
                ):
                    if p.id == parent_id:
                        cached = p.env["refs"]
            inherited = cached or {}
        for ch, ver in list(rest.items()):
            ref = inherited.get(ch)
            if ref is not None and ref[0] == ver:
                refs[ch] = [ver, ref[1]]
                del rest[ch]
        if rest:  # not from the parent: look for the blob anywhere in the thread
            thread = self._find(
                principal, self._ns(thread_id, ns), exact=True, roles=(CHECKPOINT,), ordered=False
            )
            for other in self._decode(principal, thread, {}):
                for ch, ver in list(rest.items()):
                    entry = other.env["blobs"].get(ch)
                    if entry is not None and entry[0] == ver:
                        refs[ch] = [ver, other.id]
                        del rest[ch]
        return refs

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes for the config's checkpoint (one vault call).
        Idempotent: a write already stored under ``(task_id, idx)`` is kept; special channels
        (``WRITES_IDX_MAP``: errors, interrupts, resumes) are replaced."""
        thread_id, ns = self._thread(config)
        principal, _ = self._acting(config)
        cid = config["configurable"].get("checkpoint_id")
        if not cid:
            raise CheckpointConfigError("checkpoint_id")
        cid = config_str(cid, "checkpoint_id")
        task_id = config_str(task_id, "task_id")
        entries = writes_entries(self.serde, writes, config_str(task_path, "task_path"))
        if entries:
            self._store_writes(principal, thread_id, ns, cid, task_id, entries, track=True)

    def _store_writes(
        self,
        principal: Principal,
        thread_id: str,
        ns: str,
        cid: str,
        task_id: str,
        entries: dict[int, list[Any]],
        *,
        track: bool = False,
        older: bool = False,
    ) -> None:
        """Store serialized writes of a task (``put_writes`` after serializing); ``track``
        remembers a deferred put for the next checkpoint to carry; ``older``: ``entries``
        were written before what the task's cube may hold (carried writes moving back)."""
        now = utcnow()

        def build(merged: dict[int, list[Any]]) -> list[MemCube]:
            env = writes_envelope(
                thread_id=thread_id, ns=ns, checkpoint_id=cid, task_id=task_id, entries=merged
            )
            key = lookup_key(f"{cid}/{task_id}")
            return self._cubes(
                principal,
                env,
                kind=WRITES,
                tags=(tag("w", cid),),
                key=key,
                created=now,
                expires=self._expiry(now),
            )

        cubes = build(entries)
        main_id = cubes[0].id
        try:
            self.vault.put(principal, cubes, index=False, deferred=True)
        except ConflictError:
            pass
        else:
            small = sum(len(e[3] or "") for e in entries.values()) <= _CARRY_BYTES
            if track and small and self.vault.defers:  # _carry checks it is still waiting
                w = sorted(entries.values(), key=lambda w: w[0])
                self._unflushed_put((principal.id, thread_id, ns, cid), task_id, main_id, w)
            return
        for _ in range(8):  # the task wrote before: merge, as a new version of its cube
            old = self.vault.find(
                principal,
                cube_ids=[main_id],
                filter=self._filter(principal, ROOT),
                limit=1,
                order_by=None,
            )
            if not old:
                with contextlib.suppress(ConflictError):
                    self._store(principal, build(entries))
                    return
                continue
            stored = {w[0]: w for w in self._decode(principal, old, {})[0].env["writes"]}
            merged = merge_writes(entries, stored) if older else merge_writes(stored, entries)
            if merged == stored:
                return
            with contextlib.suppress(ConflictError):
                self._store_version(principal, old[0], build(merged))
                return
        raise ConflictError(f"pending writes of task {task_id} keep changing; try again")

    def _store_version(self, principal: Principal, old: MemCube, cubes: list[MemCube]) -> None:
        """Replace ``old`` by a new version holding ``cubes[0]``: new chunks first, then the
        cube (one atomic upsert), then the chunks only the old version used - a crash at any
        point leaves a readable cube."""
        main, chunks = cubes[0], cubes[1:]
        if chunks:
            have = {
                c.id
                for c in self.vault.find(
                    principal,
                    cube_ids=[c.id for c in chunks],
                    filter=self._filter(principal, ROOT),
                    limit=len(chunks),
                    order_by=None,
                )
            }
            if missing := [c for c in chunks if c.id not in have]:
                self.vault.put(principal, missing, index=False)
        self.vault.update(
            principal,
            main.id,
            payload=main.payload,
            tags=main.tags,
            key=main.key,
            expires_at=main.expires_at,
            expected_version=old.version,
        )
        stale = set(chunk_ids(old)) - {c.id for c in chunks}
        if stale:
            self.vault.purge_many(principal, sorted(stale))

    # -- thread lifecycle --------------------------------------------------------------------

    def _all(
        self, principal: Principal, scope: tuple[str, ...], roles: tuple[str, ...] | None = None
    ) -> list[MemCube]:
        """Every cube under ``scope`` (of any role, or of any of ``roles``), paging past the
        vault's query limit."""
        out: list[MemCube] = []
        seen: set[str] = set()
        cursor = None
        while True:
            page = self._find(principal, scope, roles=roles, limit=MAX_LIMIT, created_before=cursor)
            fresh = [c for c in page if c.id not in seen]
            if not fresh:
                return out
            seen.update(c.id for c in fresh)
            out.extend(fresh)
            if len(page) < MAX_LIMIT:
                return out
            cursor = page[-1].created_at + timedelta(microseconds=1)

    def _purge_threads(self, principal: Principal, thread_ids: Iterable[str]) -> None:
        for thread_id in thread_ids:
            cubes = self._all(principal, self._ns(thread_id))
            if cubes:
                self.vault.purge_many(principal, [c.id for c in cubes])
            self._refs_forget(principal.id, thread_id)

    def delete_thread(self, thread_id: str) -> None:
        """Hard-delete every checkpoint and write of the saver principal's thread (every
        version; the audit log keeps the fact). Unknown threads are a no-op."""
        self._purge_threads(self._own_principal(), [str(thread_id)])

    def _thread_state(
        self, principal: Principal, thread_id: str
    ) -> tuple[dict[str, MemCube], list[_Stored], list[_Stored]]:
        """All cubes of a thread: (pool by id, checkpoints, writes)."""
        cubes = self._all(principal, self._ns(thread_id))
        pool = {c.id: c for c in cubes}
        decoded = self._decode(principal, cubes, pool)
        checkpoints = [d for d in decoded if kind_of(d.cube) == CHECKPOINT]
        writes = [d for d in decoded if kind_of(d.cube) == WRITES]
        return pool, checkpoints, writes

    def _drop(
        self,
        principal: Principal,
        thread_id: str,
        doomed: set[tuple[tuple[str, ...], str]],
        pool: dict[str, MemCube],
        checkpoints: list[_Stored],
        writes: list[_Stored],
    ) -> None:
        """Delete the checkpoints ``doomed`` (by namespace and id) with their writes and
        chunks, after copying into each surviving checkpoint the blobs it took from them."""
        if not doomed:
            return
        by_key = {(c.cube.namespace, c.id): c for c in checkpoints}
        for keep in checkpoints:
            key = (keep.cube.namespace, keep.id)
            if key in doomed:
                continue
            env = keep.env
            moved = {
                ch: origin
                for ch, (_, origin) in env["refs"].items()
                if (keep.cube.namespace, origin) in doomed
            }
            if not moved:
                continue
            stored = dict(env["blobs"])
            refs = {ch: list(r) for ch, r in env["refs"].items()}
            for ch, origin in moved.items():
                entry = by_key[(keep.cube.namespace, origin)].env["blobs"].get(ch)
                if entry is not None and entry[0] == refs[ch][0]:
                    stored[ch] = entry
                    refs[ch] = [refs[ch][0], keep.id]
            cubes = self._cubes(
                principal,
                {**env, "blobs": stored, "refs": refs},
                id_=keep.cube.id,
                namespace=keep.cube.namespace,
                kind=CHECKPOINT,
                tags=keep.cube.tags,
                key=keep.cube.key,
                created=keep.cube.created_at,
                expires=keep.cube.expires_at,
            )
            self._store_version(principal, keep.cube, cubes)
        for gone in checkpoints:  # writes a doomed checkpoint carries for a kept parent
            parent = (gone.cube.namespace, gone.env.get("parent"))
            if (
                (gone.cube.namespace, gone.id) in doomed
                and parent in by_key
                and parent not in doomed
            ):
                for w in self._carried(gone):
                    entries = {e[0]: e for e in w.env["writes"]}
                    self._store_writes(
                        principal,
                        thread_id,
                        w.env["ns"],
                        w.id,
                        w.env["task"],
                        entries,
                        older=True,
                    )
        ids: list[str] = []
        for d in (*checkpoints, *writes):
            if (d.cube.namespace, d.id) in doomed:
                ids.append(d.cube.id)
                ids.extend(chunk_ids(d.cube))
        self.vault.purge_many(principal, ids)
        self._refs_forget(principal.id, thread_id)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) that the given runs created, in every
        thread of the saver principal. Checkpoints that remain keep their values."""
        principal = self._own_principal()
        wanted = {str(r) for r in run_ids}
        if not wanted:
            return
        hits = self._find(principal, ROOT, tags=[tag("r", r) for r in wanted])
        threads = {
            m.env["thread"]
            for m in self._decode(principal, [c for c in hits if kind_of(c) == CHECKPOINT], {})
        }
        for thread_id in sorted(threads):
            pool, checkpoints, writes = self._thread_state(principal, thread_id)
            doomed = set()
            for c in checkpoints:
                if self._loads(c.env["metadata"]).get("run_id") in wanted:
                    doomed.add((c.cube.namespace, c.id))
            self._drop(principal, thread_id, doomed, pool, checkpoints, writes)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread of the saver
        principal (checkpoint ids, order and metadata preserved; the copy gets a fresh TTL).
        Checkpoints the target already has are kept. An unknown source copies nothing."""
        principal = self._own_principal()
        source, target = str(source_thread_id), str(target_thread_id)
        if source == target or self._thread_alive(principal, source) is not True:
            return
        _, checkpoints, writes = self._thread_state(principal, source)
        expires = self._expiry(utcnow())
        batches: list[list[MemCube]] = []
        for d in (*checkpoints, *writes):
            batches.append(
                self._cubes(
                    principal,
                    {**d.env, "thread": target},
                    kind=kind_of(d.cube),
                    tags=d.cube.tags,
                    key=d.cube.key,
                    created=d.cube.created_at,
                    expires=expires,
                )
            )
        have = {c.id for c in self._all(principal, self._ns(target))}
        todo = [b for b in batches if b[0].id not in have]
        batch: list[MemCube] = []
        try:
            for cubes in todo:
                batch.extend(c for c in cubes if c.id not in have)
                if len(batch) >= 256:
                    self.vault.put(principal, batch, index=False)
                    batch = []
            if batch:
                self.vault.put(principal, batch, index=False)
        finally:
            self._refs_forget(principal.id, target)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``"keep_latest"``: keep only the latest checkpoint of each namespace of each thread
        (with its pending writes; its values are copied into it first). A thread using a
        ``DeltaChannel`` also keeps the ancestors back to the snapshot its delta channels
        rebuild from. ``"delete"``: delete the threads."""
        principal = self._own_principal()
        if strategy == "delete":
            self._purge_threads(principal, [str(t) for t in thread_ids])
            return
        if strategy != "keep_latest":
            raise InvalidInputError(f"unknown prune strategy {strategy!r}")
        for thread_id in dict.fromkeys(str(t) for t in thread_ids):
            pool, checkpoints, writes = self._thread_state(principal, thread_id)
            by_ns: dict[tuple[str, ...], dict[str, _Stored]] = {}
            for c in checkpoints:
                by_ns.setdefault(c.cube.namespace, {})[c.id] = c
            keep: set[tuple[tuple[str, ...], str]] = set()
            for ns, members in by_ns.items():
                latest = members[max(members)]
                keep.add((ns, latest.id))
                for anc in self._delta_ancestors(latest, members):
                    keep.add((ns, anc))
            doomed = {(c.cube.namespace, c.id) for c in checkpoints} - keep
            self._drop(principal, thread_id, doomed, pool, checkpoints, writes)

    def _delta_ancestors(self, latest: _Stored, members: dict[str, _Stored]) -> list[str]:
        """Ancestors a DeltaChannel of ``latest`` rebuilds from: back to the nearest one that
        holds a stored value for every delta channel (see ``get_delta_channel_history``)."""
        md = self._loads(latest.env["metadata"])
        need = set((md or {}).get("counters_since_delta_snapshot") or ())
        out: list[str] = []
        cur = latest
        while need and (parent := cur.env.get("parent")) in members:
            cur = members[parent]
            out.append(cur.id)
            for ch in list(need):
                ref = cur.env["refs"].get(ch)
                src = members.get(ref[1]) if ref else None
                entry = src.env["blobs"].get(ch) if src is not None else None
                if entry is not None and entry[1] is not None:
                    need.discard(ch)
        return out

    def purge_expired(self) -> list[str]:
        """Hard-delete the saver principal's expired threads (a thread expires ``ttl`` after
        its last checkpoint). Returns their thread ids."""
        principal = self._own_principal()
        now = utcnow()
        newest: dict[tuple[str, ...], MemCube] = {}
        for c in self._all(principal, ROOT, roles=(CHECKPOINT,)):
            thread = c.namespace[: len(ROOT) + 1]
            if thread not in newest or c.created_at > newest[thread].created_at:
                newest[thread] = c
        dead = [c for c in newest.values() if not self._alive(c, now)]
        names = [s.env["thread"] for s in self._decode(principal, dead, {})]
        self._purge_threads(principal, names)
        return names

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Monotonic string versions with a random suffix (as the Postgres/SQLite savers), so
        forks of a thread never reuse a channel version."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # -- async twins ---------------------------------------------------------------------------
    # The vault is synchronous; each async method runs its twin in a worker thread.

    aget_tuple = async_twin(get_tuple)
    aput = async_twin(put)
    aput_writes = async_twin(put_writes)
    adelete_thread = async_twin(delete_thread)
    adelete_for_runs = async_twin(delete_for_runs)
    acopy_thread = async_twin(copy_thread)
    aprune = async_twin(prune)
    apurge_expired = async_twin(purge_expired)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        items = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in items:
            yield item
