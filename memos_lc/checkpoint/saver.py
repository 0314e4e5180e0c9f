"""MemCubeSaver: a LangGraph checkpointer that keeps threads as governed MemCubes.

Every checkpoint, and every batch of pending writes, is one unindexed MemCube (memory type
``"checkpoint"``) in a :class:`~memos_lc.vault.MemVault`, so threads get what every
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

This module says what LangGraph's calls mean: each call reads cubes, asks a pure function of
:mod:`~memos_lc.checkpoint.reads`, :mod:`~memos_lc.checkpoint.threads` or
:mod:`~memos_lc.checkpoint.codec` what they hold or what to write, and writes it through
:mod:`~memos_lc.checkpoint.cubes` (the package docstring, :mod:`memos_lc.checkpoint`, lists
what each module holds).

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

import contextlib
import copy
import functools
import os
import random
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
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
from memos_lc.checkpoint.cache import SEEN_EMPTY, DeferredWrites, RefsCache, latest_ids
from memos_lc.checkpoint.codec import (
    CHECKPOINT,
    ROOT,
    WRITES,
    CheckpointConfigError,
    CheckpointKey,
    Stored,
    blob_refs,
    checkpoint_envelope,
    config_str,
    id_time,
    kind_of,
    lookup_key,
    merge_writes,
    tag,
    thread_namespace,
    writes_entries,
    writes_envelope,
)
from memos_lc.checkpoint.cubes import CheckpointCubes, envelope_cubes
from memos_lc.checkpoint.reads import (
    Related,
    checkpoint_config,
    checkpoint_tuple,
    find_blobs,
    list_scope,
    metadata_matches,
    related_tags,
    stored_blobs,
    thread_of,
)
from memos_lc.checkpoint.threads import (
    copied,
    created_by_runs,
    expired_threads,
    new_cubes,
    plan_drop,
    pruned,
    split_kinds,
)
from memos_lc.cube import MemCube, check_ttl, utcnow
from memos_lc.errors import ConflictError, InvalidInputError
from memos_lc.governance import (
    Principal,
    as_principal,
    default_principal,
    principal_from_configurable,
    require_principal,
)
from memos_lc.vault import MemVault
from memos_lc.vault.limits import MAX_LIMIT

__all__ = ["CheckpointConfigError", "MemCubeSaver"]

_PAGE = 64
# Deferred pending writes the next checkpoint may carry (see MemCubeSaver._carry): only small
# ones (how many: see memos_lc.checkpoint.cache.DeferredWrites).
_CARRY_BYTES = 64 * 1024


def _ttl(value: timedelta | float | int | None) -> timedelta | None:
    return None if value is None else check_ttl(value, "seconds")


# -- the saver --------------------------------------------------------------------------------


class MemCubeSaver(BaseCheckpointSaver[str]):
    """LangGraph checkpointer over a :class:`~memos_lc.vault.MemVault`.

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
        # the queries and writes of the saver's cubes; self.vault reads through to it
        self._io = CheckpointCubes(vault, exclusive=vault.driver.capabilities.exclusive)
        # None: every call names its principal in its config, else PrincipalRequiredError
        self.principal = default_principal() if principal is None else as_principal(principal)
        self.ttl = _ttl(ttl)
        self.principal_from_config = principal_from_config
        # what the saver remembers between calls (see memos_lc.checkpoint.cache)
        self._refs = RefsCache()
        self._deferred = DeferredWrites()  # the next checkpoint's put carries them
        self._latest_ids = latest_ids(vault)
        self._owns_vault = False

    @property
    def vault(self) -> MemVault:
        """The vault the checkpoints are in."""
        return self._io.vault

    @vault.setter
    def vault(self, vault: MemVault) -> None:
        # one vault for every call, e.g. a wrapper that counts them (benchmarks.checkpoint)
        self._io.vault = vault

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
        clone._io = copy.copy(self._io)  # its own: setting clone.vault leaves this saver's
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
        await self.aclose()

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

    _thread = staticmethod(thread_of)
    _ns = staticmethod(thread_namespace)

    # -- stored cubes (queries and writes: memos_lc.checkpoint.cubes) -------------------------

    def _decode(
        self, principal: Principal, cubes: Iterable[MemCube], pool: dict[str, MemCube]
    ) -> list[Stored]:
        """Decoded records (see :meth:`CheckpointCubes.decode`)."""
        return self._io.decode(principal, cubes, pool)

    def _carry(
        self, principal: Principal, thread_id: str, ns: str, parent_id: str
    ) -> dict[str, tuple[str, list[Any]]]:
        """The parent checkpoint's pending writes that are still deferred (not yet in the
        engine): the child's put carries them and withdraws their own cubes, so a graph step
        costs the engine one cube, not two. Reads find them by the child's ``w:`` tag."""
        mine = self._deferred.take((principal.id, thread_id, ns, parent_id))
        if not mine:
            return {}
        still = self.vault.waiting(principal, [cube_id for cube_id, _ in mine.values()])
        return {task: entry for task, entry in mine.items() if entry[0] in still}

    def _forget(self, owner: str, thread_id: str | None = None) -> None:
        """Drop what is cached about a thread (every thread of ``owner`` when ``None``)."""
        self._refs.forget(owner, thread_id)
        if self._latest_ids is not None:
            self._latest_ids.forget(owner, thread_id)

    # -- TTL -----------------------------------------------------------------------------------

    def _expiry(self, now: datetime) -> datetime | None:
        """When a cube written ``now`` expires: the saver's ``ttl`` after."""
        return now + self.ttl if self.ttl else None

    def _thread_alive(self, principal: Principal, thread_id: str) -> bool | None:
        """Whether the thread is live (its newest checkpoint has not expired); ``None`` when
        the principal has no such thread."""
        newest = self._io.newest(principal, self._ns(thread_id), exact=False, limit=1)
        if not newest:
            return None
        return not newest[0].is_expired(utcnow())

    # -- reads -------------------------------------------------------------------------------

    def _blobs(self, principal: Principal, main: Stored, related: Related) -> dict[str, Any]:
        """Each channel's blob of a checkpoint, from itself and the fetched checkpoints it
        refers to; a blob found nowhere (its checkpoint was deleted elsewhere) is searched
        for in the whole thread."""
        found, missing = stored_blobs(main, related.sources(main))
        if missing:
            elsewhere = self._thread_blobs(principal, main.env["thread"], main.env["ns"], missing)
            found.update((ch, entry) for ch, (_, entry) in elsewhere.items())
        return found

    def _thread_blobs(
        self, principal: Principal, thread_id: str, ns: str, wanted: dict[str, Any]
    ) -> dict[str, tuple[str, list[Any]]]:
        """The blobs of channel versions ``wanted`` wherever in the thread's ``ns`` they are
        (see :func:`~memos_lc.checkpoint.reads.find_blobs`)."""
        scope = self._ns(thread_id, ns)
        thread = self._io.find(principal, scope, exact=True, roles=(CHECKPOINT,), ordered=False)
        return find_blobs(wanted, self._decode(principal, thread, {}))

    def _related(
        self,
        principal: Principal,
        mains: Sequence[Stored],
        pool: dict[str, MemCube],
        scope: tuple[str, ...],
        *,
        have_writes: bool,
    ) -> Related:
        """Fetch, in one call, what the ``mains`` need beyond ``pool`` (see
        :func:`~memos_lc.checkpoint.reads.related_tags`), and index it with them."""
        if tags := related_tags(mains, pool, have_writes=have_writes):
            exact = len(scope) > len(ROOT) + 1
            for c in self._io.find(principal, scope, exact=exact, tags=tags, ordered=False):
                pool.setdefault(c.id, c)
        main_ids = {m.cube.id for m in mains}
        others = self._decode(principal, [c for c in pool.values() if c.id not in main_ids], pool)
        return Related.index(mains, others)

    def _assemble(
        self,
        principal: Principal,
        echo: dict[str, Any],
        mains: Sequence[Stored],
        related: Related,
    ) -> list[CheckpointTuple]:
        return [
            checkpoint_tuple(
                self.serde, m, self._blobs(principal, m, related), related.writes_of(m), echo
            )
            for m in mains
        ]

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
        mains: list[Stored] = []
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
                and not self._io.find(
                    principal, self._ns(thread_id), roles=(CHECKPOINT,), limit=1, ordered=False
                )
            )
            mains = [] if bare else self._latest(principal, scope, pool)
            if latest is not None:
                seen = (mains[0].cube.created_at, mains[0].id) if mains else SEEN_EMPTY
                latest.install(key, seen, epoch, bare=bare)
        if not mains:
            return None
        main = mains[0]
        if main.cube.is_expired(utcnow()) and not self._thread_alive(principal, thread_id):
            return None
        self._refs.put((*key, main.id), main.env["refs"])  # the next read fetches all in one call
        related = self._related(principal, [main], pool, scope, have_writes=have_writes)
        return self._assemble(principal, echo, [main], related)[0]

    def _by_id(
        self,
        principal: Principal,
        key: tuple[str, str, str],
        scope: tuple[str, ...],
        checkpoint_id: str,
    ) -> tuple[list[Stored], dict[str, MemCube]]:
        """Checkpoint ``checkpoint_id`` of ``scope`` (a list of at most one) and the pool of
        cubes fetched with it: its pending writes and, when its references are cached, the
        checkpoints they point at - all in one vault call."""
        tags = [tag("c", checkpoint_id), tag("w", checkpoint_id)]
        for _, origin in (self._refs.get((*key, checkpoint_id)) or {}).values():
            tags.append(tag("c", origin))
        cubes = self._io.find(principal, scope, exact=True, tags=tags, ordered=False)
        pool = {c.id: c for c in cubes}
        candidates = [c for c in cubes if kind_of(c) == CHECKPOINT and tags[0] in c.tags]
        mains = [m for m in self._decode(principal, candidates, pool) if m.id == checkpoint_id]
        return mains, pool

    def _latest(
        self, principal: Principal, scope: tuple[str, ...], pool: dict[str, MemCube]
    ) -> list[Stored]:
        """The checkpoint with the greatest id in ``scope``: ids are UUID v6, so the newest by
        creation time (ties, within a microsecond, are broken by id)."""
        limit = 2  # ids are unique to 100 ns and sorted by time: a tie needs the same microsecond
        cands = self._io.newest(principal, scope, exact=True, limit=limit)
        while True:
            if not cands:
                return []
            top = [c for c in cands if c.created_at == cands[0].created_at]
            if len(top) < len(cands) or len(cands) < limit or limit >= MAX_LIMIT:
                break
            limit = MAX_LIMIT
            cands = self._io.find(principal, scope, exact=True, roles=(CHECKPOINT,), limit=limit)
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
        scope, exact, only_id = list_scope(config)
        before_id = get_checkpoint_id(before) if before else None
        if limit is not None and limit <= 0:
            return
        remaining = limit
        cursor = None
        if before_id and (t := id_time(before_id)) is not None:
            cursor = t + timedelta(microseconds=1)
        alive: dict[str, bool] = {}
        now = utcnow()
        for page in self._io.pages(
            principal,
            scope,
            size=_PAGE,
            exact=exact,
            roles=(CHECKPOINT,),
            tags=None if only_id is None else (tag("c", only_id),),
            created_before=cursor,
        ):
            fresh = [c for c in page if kind_of(c) == CHECKPOINT]
            pool = {c.id: c for c in fresh}
            mains = [
                m
                for m in self._decode(principal, fresh, pool)
                if (only_id is None or m.id == only_id)
                and (before_id is None or m.id < before_id)
                and metadata_matches(self.serde, m, filter)
                and self._list_alive(principal, m, now, alive)
            ]
            mains.sort(key=lambda m: m.id, reverse=True)
            if remaining is not None:
                mains = mains[:remaining]
            if mains:
                related = self._related(principal, mains, pool, scope, have_writes=False)
                yield from self._assemble(principal, echo, mains, related)
                if remaining is not None:
                    remaining -= len(mains)
                    if remaining <= 0:
                        return

    def _list_alive(
        self, principal: Principal, m: Stored, now: datetime, alive: dict[str, bool]
    ) -> bool:
        thread_id = m.env["thread"]
        if thread_id not in alive:
            if not m.cube.is_expired(now):
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
        cubes = envelope_cubes(
            principal.id,
            env,
            kind=CHECKPOINT,
            tags=tuple(tags),
            key=lookup_key(cid),
            created=created,
            expires=self._expiry(now),
        )
        key = (principal.id, thread_id, ns)
        try:
            self._io.store(principal, cubes, withdraw=[cube_id for cube_id, _ in carried.values()])
        except BaseException:
            if latest is not None:
                latest.advance(key, None)  # written or not: no longer known
            raise
        if latest is not None:
            # a re-put keeps the first creation time: known only when the id carries it
            latest.advance(key, (created, cid) if created == when else None)
        self._refs.put((*key, cid), env["refs"])
        return checkpoint_config(thread_id, ns, cid, echo)

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
            cached = self._refs.get((principal.id, thread_id, ns, parent_id))
            if cached is None:
                scope = self._ns(thread_id, ns)
                found = self._io.find(
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
            for ch, (origin, _) in self._thread_blobs(principal, thread_id, ns, rest).items():
                refs[ch] = [rest[ch], origin]
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
            return envelope_cubes(
                principal.id,
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
                self._deferred.remember((principal.id, thread_id, ns, cid), task_id, main_id, w)
            return
        for _ in range(8):  # the task wrote before: merge, as a new version of its cube
            old = self._io.fetch(principal, [main_id])
            if not old:
                with contextlib.suppress(ConflictError):
                    self._io.store(principal, build(entries))
                    return
                continue
            stored = {w[0]: w for w in self._decode(principal, old, {})[0].env["writes"]}
            merged = merge_writes(entries, stored) if older else merge_writes(stored, entries)
            if merged == stored:
                return
            with contextlib.suppress(ConflictError):
                self._io.store_version(principal, old[0], build(merged))
                return
        raise ConflictError(f"pending writes of task {task_id} keep changing; try again")

    # -- thread lifecycle: read the thread, ask memos_lc.checkpoint.threads, write --------------

    def _thread_state(self, principal: Principal, thread_id: str) -> tuple[list[Stored], ...]:
        """All records of a thread: ``(checkpoints, writes)``."""
        cubes = self._io.all(principal, self._ns(thread_id))
        return split_kinds(self._decode(principal, cubes, {c.id: c for c in cubes}))

    def _purge_threads(self, principal: Principal, thread_ids: Iterable[str]) -> None:
        for thread_id in thread_ids:
            cubes = self._io.all(principal, self._ns(thread_id))
            if cubes:
                self.vault.purge_many(principal, [c.id for c in cubes])
            self._forget(principal.id, thread_id)

    def _drop(
        self,
        principal: Principal,
        thread_id: str,
        doomed: Callable[[list[Stored]], set[CheckpointKey]],
    ) -> None:
        """Delete the checkpoints of a thread that ``doomed`` picks from all of them, as
        :func:`~memos_lc.checkpoint.threads.plan_drop` says: rewrite the survivors, restore
        the writes the doomed carried, then purge (a crash between leaves a readable thread)."""
        checkpoints, writes = self._thread_state(principal, thread_id)
        if not (gone := doomed(checkpoints)):
            return
        plan = plan_drop(gone, checkpoints, writes)
        for keep, env in plan.rewrites:
            old = keep.cube
            cubes = envelope_cubes(
                principal.id,
                env,
                id_=old.id,
                namespace=old.namespace,
                kind=CHECKPOINT,
                tags=old.tags,
                key=old.key,
                created=old.created_at,
                expires=old.expires_at,
            )
            self._io.store_version(principal, old, cubes)
        for w in plan.restored:
            entries = {e[0]: e for e in w.env["writes"]}
            ns, task = w.env["ns"], w.env["task"]
            self._store_writes(principal, thread_id, ns, w.id, task, entries, older=True)
        self.vault.purge_many(principal, plan.purge)
        self._forget(principal.id, thread_id)

    def delete_thread(self, thread_id: str) -> None:
        """Hard-delete every checkpoint and write of the saver principal's thread (every
        version; the audit log keeps the fact). Unknown threads are a no-op."""
        self._purge_threads(self._own_principal(), [str(thread_id)])

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) that the given runs created, in every
        thread of the saver principal. Checkpoints that remain keep their values."""
        principal = self._own_principal()
        wanted = {str(r) for r in run_ids}
        if not wanted:
            return
        hits = self._io.find(principal, ROOT, tags=[tag("r", r) for r in wanted])
        mains = [c for c in hits if kind_of(c) == CHECKPOINT]
        for thread_id in sorted({m.env["thread"] for m in self._decode(principal, mains, {})}):
            self._drop(principal, thread_id, lambda cs: created_by_runs(self.serde, cs, wanted))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread of the saver
        principal (checkpoint ids, order and metadata preserved; the copy gets a fresh TTL).
        Checkpoints the target already has are kept. An unknown source copies nothing."""
        principal = self._own_principal()
        source, target = str(source_thread_id), str(target_thread_id)
        if source == target or self._thread_alive(principal, source) is not True:
            return
        expires = self._expiry(utcnow())
        records = [
            envelope_cubes(
                principal.id,
                env,
                kind=kind_of(d.cube),
                tags=d.cube.tags,
                key=d.cube.key,
                created=d.cube.created_at,
                expires=expires,
            )
            for d, env in copied(*self._thread_state(principal, source), target)
        ]
        have = {c.id for c in self._io.all(principal, self._ns(target))}
        try:
            for batch in new_cubes(records, have):
                self.vault.put(principal, batch, index=False)
        finally:
            self._forget(principal.id, target)

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
            self._drop(principal, thread_id, functools.partial(pruned, self.serde))

    def purge_expired(self) -> list[str]:
        """Hard-delete the saver principal's expired threads (a thread expires ``ttl`` after
        its last checkpoint). Returns their thread ids."""
        principal = self._own_principal()
        dead = expired_threads(self._io.all(principal, ROOT, roles=(CHECKPOINT,)), utcnow())
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

    def _list_all(self, config: RunnableConfig | None, **options: Any) -> list[CheckpointTuple]:
        """:meth:`list` read to the end (the worker thread hands its results over at once)."""
        return list(self.list(config, **options))

    _alist_all = async_twin(_list_all)
    aclose = async_twin(close)
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
        """Async twin of :meth:`list`: read in a worker thread, then yielded."""
        for item in await self._alist_all(config, filter=filter, before=before, limit=limit):
            yield item
