"""MemCubeStore: LangGraph's ``BaseStore`` on MemCubes in a :class:`~memos_lc.MemVault`.

Every store item is one plaintext MemCube: the item namespace and key are the cube's
``namespace`` and ``key``, the item value is ``payload.data`` and ``payload.text`` is the text
that was embedded (a JSON rendering of the value when nothing is indexed). Store writes
therefore get what every vault write gets: versions (an overwrite is a new version), provenance
(origin ``"store"``), access control and audit. ``get``/``put``/``search``/``delete``/
``list_namespaces`` and their async twins behave like LangGraph's ``InMemoryStore`` (same
validation, filter operators, ordering, offset/limit), which a differential test checks.

Design decisions:

* **Principal.** Taken from the running graph's config, ``config["configurable"]``:
  ``"principal"`` (a :class:`~memos_lc.Principal` object, or an id), else ``"user_id"``, else
  ``"langgraph_user_id"`` (LangMem's key), else the runtime context's ``principal`` /
  ``user_id``; outside a run, the store's own ``principal`` (default: ``$MEMOS_LC_PRINCIPAL``
  or the OS user, like the CLI). Ids from config never carry roles: pass a ``Principal``
  object to act with roles. Each principal sees only what the vault lets it read.
* **Deletes** are vault soft deletes (tombstone versions, history kept). A put after a delete
  stores a *new* cube under the same namespace/key, so LangGraph sees a fresh item (new
  ``created_at``) while the old cube's history stays in the vault.
* **Index.** ``index=None`` (default) is LangGraph's "no index": items are stored unindexed and
  search is filter-only (``score`` is ``None``; a query is ignored). ``index=True`` turns on the
  vault's embeddings (the bundled MiniLM unless the vault was opened with others) over the
  whole value; an :class:`~langgraph.store.base.IndexConfig` chooses ``fields`` (JSON paths,
  ``[*]`` wildcards) and optionally ``embed``. The texts at an item's paths are joined and
  embedded as one vector; a query runs the vault's hybrid search (dense + BM25, RRF).
* **Order.** Without a query: namespaces in the order they came into existence, items in
  insertion order within each (an overwrite keeps its place), as ``InMemoryStore`` does. A
  namespace exists while it holds an item (``InMemoryStore`` also lists emptied namespaces).
* **TTL.** ``ttl`` (minutes) sets the cube's ``expires_at``; reads refresh it in place when
  ``refresh_ttl`` (no new version). Expired items are never returned;
  :meth:`MemCubeStore.start_ttl_sweeper` moves them to status ``expired`` periodically.

Store bookkeeping is typed, in each item cube's :class:`~memos_lc.cube.Bookkeeping` (role
``"store_item"``): ``born`` (when the item's namespace came into existence) and
``ttl_minutes``; an item stored without vectors (``index=False``) is found by
``CubeFilter(indexed=False)``.

Limits beyond LangGraph's: keys are 1-1024 characters without control characters; namespaces
have at most 16 labels of at most 256 characters without control characters; values must be
JSON (no NaN), at most 4 MB.

Example:
    .. code-block:: python

        from memos_lc.store import MemCubeStore

        with MemCubeStore.from_path("/tmp/vault", index=True) as store:
            store.put(("alice", "prefs"), "drink", {"text": "Alice prefers tea over coffee"})
            store.get(("alice", "prefs"), "drink").value      # {'text': 'Alice prefers ...'}
            store.search(("alice",), query="what does she drink?", limit=1)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.config import get_config
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)
from langgraph.store.base import InvalidNamespaceError as LangGraphNamespaceError

from memos_lc.aio import async_twin
from memos_lc.cube import (
    MAX_LABEL_CHARS,
    MAX_NAMESPACE_DEPTH,
    MAX_TEXT_CHARS,
    MEMORY_TYPE_PATTERN,
    Bookkeeping,
    MemCube,
    MemoryKind,
    MemoryType,
    PlaintextPayload,
    check_data_limits,
    check_ttl,
    utcnow,
)
from memos_lc.errors import InvalidCubeError, InvalidInputError, PermissionDeniedError
from memos_lc.errors import InvalidNamespaceError as MemosNamespaceError
from memos_lc.governance import (
    Principal,
    as_principal,
    default_principal,
    principal_in_run,
    require_principal,
)
from memos_lc.vault.qdrant import MAX_LIMIT, MAX_QUERY_CHARS, CubeFilter, MemVault

__all__ = ["MemCubeStore", "StoreNamespaceError"]

logger = logging.getLogger(__name__)

ORIGIN = "store"
ROLE = "store_item"
"""The :class:`~memos_lc.cube.Bookkeeping` role of the store's item cubes."""
OWNER_LABEL = "{user_id}"
"""The label of ``owner_namespace`` that stands for the acting principal's id."""
MAX_KEY_CHARS = 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_PLAINTEXT = (MemoryKind.PLAINTEXT,)
SHOWN_MEMORY_TYPES = (MemoryType.EPISODIC.value, MemoryType.PREFERENCE.value)
"""What the memory nodes write (conversation windows, stated preferences): a store shows them
as items by default, so Studio's memory view and ``store.search`` find what a run wrote."""

Pair = tuple[tuple[str, ...], str]


class StoreNamespaceError(MemosNamespaceError, LangGraphNamespaceError):
    """A namespace LangGraph accepts but a MemCube cannot hold (too deep, a label too long or
    with a control character). Catchable as either library's ``InvalidNamespaceError``."""


class _Clock:
    """Strictly increasing UTC timestamps (microsecond steps), so items put in one batch or in
    quick succession keep their insertion order."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            us = (utcnow() - _EPOCH) // _US
            self._last = max(us, self._last + 1)
            return _EPOCH + self._last * _US


@dataclass(slots=True)
class _Write:
    """A prepared PutOp with a value: the payload and whether/what to embed."""

    op: PutOp
    payload: PlaintextPayload
    index_text: str | None


@dataclass(slots=True)
class _Plan:
    principal: Principal
    ops: list[Op]
    puts: dict[Pair, PutOp] = field(default_factory=dict)
    writes: dict[Pair, _Write] = field(default_factory=dict)
    queries: dict[str, list[float] | None] = field(default_factory=dict)
    doc_texts: dict[str, list[float] | None] = field(default_factory=dict)
    thread_id: str | None = None


class MemCubeStore(BaseStore):
    """A LangGraph store whose items are governed, versioned MemCubes in a MemVault.

    Args:
        vault: The vault the items live in (not closed by the store unless it opened it).
        index: ``None`` for filter-only search (LangGraph's default), ``True`` for the vault's
            embeddings over whole values, or an ``IndexConfig`` (``fields``, optional ``embed``
            and ``dims``, which must match the vault).
        ttl: A ``TTLConfig``: ``default_ttl`` (minutes), ``refresh_on_read``,
            ``sweep_interval_minutes``.
        principal: Who acts when the running graph's config names nobody.
        memory_type: The memory type of the cubes the store writes.
        show_memory_types: Other memory types the store shows as items: by default what the
            memory nodes write (:data:`SHOWN_MEMORY_TYPES`), so a run's memories are items
            under their namespace (``("memories", <user>)``), keyed by the cube's key or, when
            it has none, its id, with the value ``{"text", "memory_type"}``. A put of
            ``{"text": ...}`` on such an item writes its next version with that text (its
            type, tags and provenance kept), a delete tombstones it. ``()`` shows only the
            store's own items. The checkpointer's type cannot be shown.
        owner_namespace: A namespace template naming the owner, e.g. ``("users",
            "{user_id}")``. What a principal writes is always theirs; with a template, a put
            under ``("users", "bob", ...)`` by anyone but bob is refused
            (:class:`~memos_lc.errors.PermissionDeniedError`) instead of storing alice's cube
            where bob's are expected.

    Example:
        .. code-block:: python

            from langgraph.graph import StateGraph
            from memos_lc import MemVault
            from memos_lc.store import MemCubeStore

            store = MemCubeStore(MemVault.open(), index={"fields": ["text"]})
            graph = StateGraph(...).compile(store=store)
            graph.invoke(inputs, {"configurable": {"user_id": "alice"}})  # acts as alice
    """

    supports_ttl = True

    def __init__(
        self,
        vault: MemVault,
        *,
        index: IndexConfig | bool | None = None,
        ttl: TTLConfig | None = None,
        principal: Principal | str | None = None,
        memory_type: str = "long_term",
        owner_namespace: Sequence[str] | None = None,
        show_memory_types: Sequence[str] = SHOWN_MEMORY_TYPES,
    ) -> None:
        if owner_namespace is not None and (
            isinstance(owner_namespace, str) or list(owner_namespace).count(OWNER_LABEL) != 1
        ):
            raise InvalidInputError(f"owner_namespace must hold the label {OWNER_LABEL!r} once")
        self.owner_namespace = tuple(owner_namespace) if owner_namespace is not None else None
        if not isinstance(vault, MemVault):
            raise InvalidInputError(
                f"MemCubeStore takes a MemVault, got {type(vault).__name__}; to open a "
                "directory, ':memory:' or a URL use MemCubeStore.from_path(...)"
            )
        self.vault = vault
        # None: every call names its principal (config / context), else PrincipalRequiredError
        self.principal = as_principal(principal) if principal is not None else default_principal()
        self.memory_type = memory_type
        self.show_memory_types = _shown_types(show_memory_types, memory_type)
        if ttl and ttl.get("default_ttl") is not None:
            check_ttl(ttl["default_ttl"], "minutes")
        self.ttl_config = ttl
        self.index_config: IndexConfig | None = None
        self.embeddings: Embeddings | None = None
        self._fields: list[tuple[str, Any]] = []
        if index is not None and index is not False:
            cfg: dict[str, Any] = {} if index is True else dict(index)
            embed = cfg.get("embed")
            self.embeddings = ensure_embeddings(embed) if embed is not None else vault.embeddings
            dims = cfg.get("dims", vault.dims)
            if dims != vault.dims:
                raise InvalidInputError(
                    f"index dims {dims} differ from the vault's dense size {vault.dims}"
                )
            cfg.update(dims=dims, embed=self.embeddings)
            self.index_config = cfg  # type: ignore[assignment]
            self._fields = [
                (p, tokenize_path(p)) if p != "$" else (p, p) for p in (cfg.get("fields") or ["$"])
            ]
        self._owns_vault = False
        self._clock = _Clock()
        # one lock per vault, not per store: two stores over one vault must not both create
        # a cube for the same new key
        self._write_lock = _vault_lock(vault)
        self._sweeper: threading.Thread | None = None
        self._sweeper_stop = threading.Event()
        self._sweeper_future: concurrent.futures.Future[None] | None = None

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def from_path(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        index: IndexConfig | bool | None = None,
        ttl: TTLConfig | None = None,
        principal: Principal | str | None = None,
        embeddings: Embeddings | None = None,
        **vault_options: Any,
    ) -> MemCubeStore:
        """Open a vault (see :meth:`MemVault.open`: a directory, ``":memory:"``, a Qdrant URL
        or ``None`` for the default) and a store that closes it on :meth:`close` / exit, as
        :meth:`MemCubeSaver.from_path <memos_lc.checkpoint.MemCubeSaver.from_path>` does:
        use it in a ``with`` block, or keep it open and call :meth:`close`.

        Example:
            .. code-block:: python

                with MemCubeStore.from_path(":memory:", principal="alice") as store:
                    store.put(("docs",), "a", {"text": "hello"})

                store = MemCubeStore.from_path(":memory:", principal="alice")
                store.put(("docs",), "b", {"text": "hello again"})
                store.close()
        """
        vault = MemVault.open(location, embeddings=embeddings, **vault_options)
        try:
            store = cls(vault, index=index, ttl=ttl, principal=principal)
        except BaseException:
            vault.close()
            raise
        store._owns_vault = True
        return store

    def close(self) -> None:
        """Stop the TTL sweeper and close the vault if this store opened it (once: a
        ``with`` after an explicit close leaves a vault others share alone)."""
        self.stop_ttl_sweeper()
        if self._owns_vault:
            self._owns_vault = False
            self.vault.close()

    def __enter__(self) -> MemCubeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemCubeStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    # -- batch -----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` (reads see the state before the batch's writes, as in InMemoryStore)."""
        plan = self._plan(ops)
        if plan.queries:
            assert self.embeddings is not None
            for q in plan.queries:
                plan.queries[q] = self.embeddings.embed_query(q)
        if plan.doc_texts:
            assert self.embeddings is not None
            texts = list(plan.doc_texts)
            plan.doc_texts.update(zip(texts, self.embeddings.embed_documents(texts), strict=True))
        return self._run(plan)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of :meth:`batch`: embeds on the event loop, runs vault calls in the
        default executor."""
        plan = self._plan(ops)
        if plan.queries:
            assert self.embeddings is not None
            qs = list(plan.queries)
            vecs = await asyncio.gather(*(self.embeddings.aembed_query(q) for q in qs))
            plan.queries.update(zip(qs, vecs, strict=True))
        if plan.doc_texts:
            assert self.embeddings is not None
            texts = list(plan.doc_texts)
            vecs = await self.embeddings.aembed_documents(texts)
            plan.doc_texts.update(zip(texts, vecs, strict=True))
        return await asyncio.to_thread(self._run, plan)

    # -- planning (no vault calls) ---------------------------------------------------------

    def _plan(self, ops: Iterable[Op]) -> _Plan:
        principal, thread_id = self._context()
        plan = _Plan(principal=principal, ops=list(ops), thread_id=thread_id)
        for op in plan.ops:
            if isinstance(op, PutOp) and op.value is not None:
                _check_put_namespace(op.namespace)
            elif isinstance(op, GetOp | SearchOp | ListNamespacesOp | PutOp):
                validate_op_namespace(op)  # a delete where nothing can be stored is a no-op
            else:
                raise ValueError(f"Unknown operation type: {type(op)}")
            if isinstance(op, SearchOp) and op.query and self.embeddings is not None:
                if op.query.strip():
                    plan.queries[op.query[:MAX_QUERY_CHARS]] = None
            elif isinstance(op, PutOp):
                if op.value is not None and op.ttl is not None:
                    check_ttl(op.ttl, "minutes")  # before any write of the batch
                self._check_owner_namespace(principal, tuple(op.namespace))
                plan.puts[(tuple(op.namespace), op.key)] = op
        for pair, op in plan.puts.items():
            if op.value is None:
                continue
            _check_key(op.key)
            write = self._prepare(op)
            plan.writes[pair] = write
            if write.index_text is not None:
                plan.doc_texts[write.index_text] = None
        return plan

    def _prepare(self, op: PutOp) -> _Write:
        if not isinstance(op.value, Mapping):
            raise InvalidInputError(f"value must be a mapping, got {type(op.value).__name__}")
        try:
            check_data_limits(op.value)  # first: json.dumps recurses
            data = json.loads(json.dumps(dict(op.value), allow_nan=False))
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"value must be JSON-serializable (no NaN): {e}") from None
        index_text = None
        if self.embeddings is not None and op.index is not False:
            paths = (
                self._fields if op.index is None else [(ix, tokenize_path(ix)) for ix in op.index]
            )
            texts = [t for _, tokens in paths for t in get_text_at_path(data, tokens)]
            joined = _clean_text("\n".join(texts))
            index_text = joined if joined.strip() else None
        text = index_text or _clean_text(json.dumps(data, sort_keys=True, ensure_ascii=False))
        try:
            payload = PlaintextPayload(text=text, data=data)
        except ValueError as e:
            raise InvalidCubeError(f"invalid store value: {e}") from None
        return _Write(op=op, payload=payload, index_text=index_text)

    def _check_owner_namespace(self, principal: Principal, namespace: tuple[str, ...]) -> None:
        template = self.owner_namespace
        if template is None or len(namespace) < len(template):
            return
        at = template.index(OWNER_LABEL)
        others = [i for i in range(len(template)) if i != at]
        if any(namespace[i] != template[i] for i in others):
            return  # another part of the tree: not templated
        if namespace[at] != principal.id and not principal.is_admin:
            raise PermissionDeniedError(
                f"{'/'.join(namespace[: at + 1])} belongs to {namespace[at]!r}, and "
                f"{principal.id!r} is writing: a principal owns what it writes, so this "
                f"would be {principal.id!r}'s cube in another user's namespace"
            )

    def principal_outside_run(self) -> Principal:
        """Who acts in a call made outside a graph run: the store's ``principal``, else
        :class:`~memos_lc.errors.PrincipalRequiredError`. A store that a server calls for
        its clients' requests overrides this to act as the request's user
        (:class:`memos_lc.studio.ServerStore` does, for the LangGraph API server)."""
        return require_principal(self.principal, "MemCubeStore outside a graph run")

    def _context(self) -> tuple[Principal, str | None]:
        """The acting principal and thread id of the running graph, if any."""
        try:
            config = get_config()
        except RuntimeError:
            return self.principal_outside_run(), None
        conf = config.get("configurable") or {}
        thread_id = conf.get("thread_id")
        thread_id = thread_id if _valid_key(thread_id) else None
        return principal_in_run(config, default=self.principal), thread_id

    # -- execution (vault calls) -----------------------------------------------------------

    def _run(self, plan: _Plan) -> list[Result]:
        p = plan.principal
        results: list[Result] = [None] * len(plan.ops)
        lock = self._write_lock if plan.puts else contextlib.nullcontext()
        with lock:
            pairs = {
                (tuple(op.namespace), op.key) for op in plan.ops if isinstance(op, GetOp | PutOp)
            }
            current, twins = self._lookup(p, pairs)
            refresh: dict[str, MemCube] = {}
            namespaces: list[tuple[str, ...]] | None = None
            for i, op in enumerate(plan.ops):
                if isinstance(op, GetOp):
                    cube = current.get((tuple(op.namespace), op.key))
                    results[i] = _item(cube, self.memory_type) if cube is not None else None
                    if cube is not None and op.refresh_ttl:
                        refresh[cube.id] = cube
                elif isinstance(op, SearchOp):
                    hits = self._search(p, op, plan.queries)
                    results[i] = [_search_item(c, score, self.memory_type) for c, score in hits]
                    if op.refresh_ttl:
                        refresh.update((c.id, c) for c, _ in hits)
                elif isinstance(op, ListNamespacesOp):
                    if namespaces is None:
                        namespaces = self._namespaces(p, plan.ops)
                    results[i] = _list_namespaces(namespaces, op)
            self._refresh(p, refresh.values())
            if plan.puts:
                self._apply(plan, current, twins)
        return results

    def _filter(self, *, types: Sequence[str] | None = None, **kw: Any) -> CubeFilter:
        """Plaintext cubes of ``types``: by default every type the store shows as items."""
        types = tuple(types or (self.memory_type, *self.show_memory_types))
        return CubeFilter(kinds=_PLAINTEXT, memory_types=types, **kw)

    def _is_item(self, cube: MemCube) -> bool:
        """A cube is an item when the store wrote it (it has a key) or shows its type."""
        return cube.key is not None or cube.memory_type in self.show_memory_types

    def _lookup(
        self, p: Principal, pairs: set[Pair]
    ) -> tuple[dict[Pair, MemCube], dict[Pair, list[MemCube]]]:
        """The live cube of each (namespace, key) pair, in one vault call, and its twins: other
        live cubes of the same owner under the same pair (left by writers that raced on a new
        key from another process or server), which a put or delete of the pair retires."""
        pairs = {(ns, k) for ns, k in pairs if _storable(ns) and _valid_key(k)}
        if not pairs:
            return {}, {}
        nss = {ns for ns, _ in pairs}
        prefix = _common_prefix(nss)
        keys = tuple(sorted({k for _, k in pairs}))
        # a shown memory without a key is the item its id names: one query for both
        by = {"keys_or_ids": keys} if self.show_memory_types else {"keys": keys}
        flt = self._filter(namespace=prefix or None, namespace_exact=len(nss) == 1, **by)
        cubes = [
            c
            for c in self.vault.list(p, filter=flt, limit=MAX_LIMIT)
            if self._is_item(c) and _pair(c) in pairs
        ]
        current = _by_pair(cubes, p)
        twins: dict[Pair, list[MemCube]] = {}
        for c in cubes:
            pair = _pair(c)
            best = current[pair]
            if c.id != best.id and c.access.owner == best.access.owner:
                twins.setdefault(pair, []).append(c)
        return current, twins

    def _scan(
        self,
        p: Principal,
        prefix: Sequence[str],
        *,
        data: tuple[tuple[str, str], ...] | None = None,
        own_only: bool = False,
        **kw: Any,
    ) -> list[MemCube]:
        """Every live item under ``prefix``, in InMemoryStore's order. ``data`` equalities
        narrow the store's own items in the engine; a shown memory's value is not its
        ``data``, so shown types are scanned without them (the caller filters values)."""
        ns = tuple(prefix) or None
        own = (self.memory_type,)
        if data and self.show_memory_types and not own_only:
            filters = [
                self._filter(namespace=ns, types=own, data=data, **kw),
                self._filter(namespace=ns, types=self.show_memory_types, **kw),
            ]
        else:
            filters = [self._filter(namespace=ns, types=own if own_only else None, data=data, **kw)]
        cubes: list[MemCube] = []
        for flt in filters:
            start = len(cubes)
            while True:
                page = self.vault.list(
                    p, filter=flt, limit=MAX_LIMIT, offset=len(cubes) - start, newest_first=False
                )
                cubes.extend(page)
                if len(page) < MAX_LIMIT:
                    break
        return sorted(_by_pair(filter(self._is_item, cubes), p).values(), key=_order)

    def _search(
        self, p: Principal, op: SearchOp, queries: dict[str, list[float] | None]
    ) -> list[tuple[MemCube, float | None]]:
        prefix = tuple(op.namespace_prefix)
        if not _storable(prefix, prefix=True):
            return []
        qvec = queries.get(op.query[:MAX_QUERY_CHARS]) if op.query else None
        if qvec is None:  # filter-only, in insertion order
            scanned = self._scan(p, prefix, data=_pushdown(op.filter))
            matched = [c for c in scanned if _matches(op.filter, c, self.memory_type)]
            return [(c, None) for c in matched[op.offset : op.offset + op.limit]]
        assert op.query is not None
        need = max(op.offset + op.limit, 0)
        ranked = self._ranked(p, prefix, op, qvec, need) if need else []
        kept: list[tuple[MemCube, float | None]] = list(ranked[max(op.offset, 0) : need])
        if len(kept) < op.limit:
            # InMemoryStore fills a short page with matching unindexed items (score None)
            scoreless = [
                c
                for c in self._scan(
                    p, prefix, indexed=False, data=_pushdown(op.filter), own_only=True
                )
                if _matches(op.filter, c, self.memory_type)
            ]
            kept.extend((c, None) for c in scoreless[: op.limit - len(kept)])
        return kept

    def _ranked(
        self, p: Principal, prefix: tuple[str, ...], op: SearchOp, qvec: list[float], need: int
    ) -> list[tuple[MemCube, float]]:
        """Indexed items by hybrid score, best first, at least ``need`` if there are as many
        (fetching deeper while the value filter drops hits). RRF scores tie often and Qdrant
        orders ties differently for different limits, so a margin is fetched and ties are
        ordered by namespace and key: pages of one query are slices of one ranking."""
        assert op.query is not None
        want = need + 10 if not op.filter else max(4 * need, 64)
        while True:
            want = min(want, MAX_LIMIT)
            hits = self.vault.search(
                p,
                op.query[:MAX_QUERY_CHARS],
                # a shown memory's value is not its data: filter those values here, not there
                filter=self._filter(
                    namespace=prefix or None,
                    data=None if self.show_memory_types else _pushdown(op.filter),
                ),
                limit=want,
                query_vector=qvec,
            )
            best = _by_pair((h.cube for h in hits if self._is_item(h.cube)), p)
            ranked = [
                (h.cube, h.score)
                for h in hits
                if best.get(_pair(h.cube)) is h.cube
                and _matches(op.filter, h.cube, self.memory_type)
            ]
            if len(ranked) >= need or len(hits) < want or want >= MAX_LIMIT:
                ranked.sort(key=lambda x: (-x[1], *_pair(x[0])))
                return ranked
            want *= 4

    def _namespaces(self, p: Principal, ops: list[Op]) -> list[tuple[str, ...]]:
        """Namespaces holding a live item, scanning only under the literal prefix that every
        ListNamespacesOp of the batch requires."""
        scopes = []
        for op in ops:
            if isinstance(op, ListNamespacesOp):
                lead: tuple[str, ...] = ()
                for cond in op.match_conditions or ():
                    if cond.match_type == "prefix":
                        path = []
                        for label in cond.path:
                            if label == "*":
                                break
                            path.append(label)
                        lead = max(lead, tuple(path), key=len)
                scopes.append(lead)
        scope = _common_prefix(set(scopes))
        if not _storable(scope, prefix=True):
            return []
        return list(dict.fromkeys(c.namespace for c in self._scan(p, scope)))

    def _refresh(self, p: Principal, cubes: Iterable[MemCube]) -> None:
        """Extend the expiry of read items that carry a TTL (in place, no new version)."""
        now = utcnow()
        expiries = {}
        for c in cubes:
            ttl = _ttl(c)
            if ttl is not None and c.expires_at is not None:
                expiries[c.id] = now + timedelta(minutes=ttl)
        if expiries:
            self.vault.refresh_expiry(p, expiries)

    def _apply(
        self, plan: _Plan, current: dict[Pair, MemCube], twins: dict[Pair, list[MemCube]]
    ) -> None:
        """Apply the batch's PutOps: deletes, overwrites (new versions), new cubes."""
        p = plan.principal
        provenance: dict[str, Any] = {"origin": ORIGIN, "actor": p.id}
        if plan.thread_id is not None:
            provenance["thread_id"] = plan.thread_id
        deleted = {pair for pair, op in plan.puts.items() if op.value is None and pair in current}
        # A namespace keeps the time it came into existence while it holds items; one that held
        # an item before this batch still exists after it (InMemoryStore's namespace order).
        births = {pair[0]: _born(cube) for pair, cube in current.items()}
        for ns in {pair[0] for pair in plan.writes} - births.keys():
            flt = self._filter(namespace=ns, namespace_exact=True)
            for cube in self.vault.list(p, filter=flt, limit=8, newest_first=False):
                if self._is_item(cube):
                    births[ns] = _born(cube)
                    break
        new: list[tuple[MemCube, list[float] | None]] = []
        updates: list[tuple[MemCube, _Write]] = []
        for pair, write in plan.writes.items():
            cube = current.get(pair)
            if cube is not None:
                updates.append((cube, write))
                continue
            now = self._clock.now()
            born = births.setdefault(pair[0], now)
            new_cube = MemCube.model_validate(
                {
                    "namespace": pair[0],
                    "key": pair[1],
                    "memory_type": self.memory_type,
                    "created_at": now,
                    "updated_at": now,
                    "expires_at": _expiry(write.op, now),
                    "bookkeeping": _bookkeeping(born, write),
                    "provenance": provenance,
                    "payload": write.payload,
                }
            )
            vec = plan.doc_texts[write.index_text] if write.index_text is not None else None
            new.append((new_cube, vec))
        # a shown memory takes a new text only (checked for the whole batch before any write)
        texts = {
            cube.id: _shown_text(write.op.value, cube)
            for cube, write in updates
            if cube.memory_type != self.memory_type
        }
        # cube ids are per owner: each call names the owner of the very cube that was read
        for pair in deleted:
            gone = current[pair]
            self.vault.delete(p, gone.id, owner=gone.access.owner)
        for pair in plan.puts.keys() & twins.keys():  # retire raced duplicates of the pair
            for twin in twins[pair]:
                self.vault.delete(
                    p, twin.id, owner=twin.access.owner, reason="superseded by a concurrent write"
                )
        for cube, write in updates:
            if cube.id in texts:  # its tags, provenance and indexing stay; its turns are gone
                self.vault.update(p, cube.id, owner=cube.access.owner, text=texts[cube.id])
                continue
            vec = plan.doc_texts[write.index_text] if write.index_text is not None else None
            self.vault.update(
                p,
                cube.id,
                owner=cube.access.owner,
                payload=write.payload,
                bookkeeping=_bookkeeping(_born(cube), write),
                expires_at=_expiry(write.op, utcnow()),
                provenance=provenance,
                vector=vec,
                index=vec is not None,
            )
        indexed = [(c, v) for c, v in new if v is not None]
        if indexed:
            self.vault.put(p, [c for c, _ in indexed], vectors=[v for _, v in indexed])
        unindexed = [c for c, v in new if v is None]
        if unindexed:
            self.vault.put(p, unindexed, index=False)

    # -- TTL -------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Move the store's items past their expiry to status ``expired`` now (every
        principal's items of the store's memory type, nothing else in the vault); returns how
        many."""
        return len(self.vault.sweep_expired(memory_types=(self.memory_type,)))

    asweep_ttl = async_twin(sweep_ttl)

    def start_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every ``sweep_interval_minutes`` (default: the TTL config's
        ``sweep_interval_minutes``, else 5) in a daemon thread until :meth:`stop_ttl_sweeper`.
        Returns a future that completes when the sweeper stops."""
        if self._sweeper is not None and self._sweeper.is_alive():
            assert self._sweeper_future is not None
            return self._sweeper_future
        interval = sweep_interval_minutes or (self.ttl_config or {}).get("sweep_interval_minutes")
        seconds = float(interval or 5) * 60
        stop = self._sweeper_stop = threading.Event()
        future: concurrent.futures.Future[None] = concurrent.futures.Future()

        def loop() -> None:
            while not stop.wait(seconds):
                try:
                    self.sweep_ttl()
                except Exception:
                    logger.exception("TTL sweep failed")
            future.set_result(None)

        self._sweeper_future = future
        self._sweeper = threading.Thread(target=loop, name="memos-lc-ttl-sweeper", daemon=True)
        self._sweeper.start()
        return future

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper; True once it has stopped (or none was running)."""
        if self._sweeper is None:
            return True
        self._sweeper_stop.set()
        self._sweeper.join(timeout)
        stopped = not self._sweeper.is_alive()
        if stopped:
            self._sweeper = None
        return stopped


# -- helpers -------------------------------------------------------------------------------

_VAULT_LOCKS: weakref.WeakKeyDictionary[MemVault, threading.RLock] = weakref.WeakKeyDictionary()
_VAULT_LOCKS_GUARD = threading.Lock()


def _vault_lock(vault: MemVault) -> threading.RLock:
    """The write lock every store over ``vault`` in this process shares."""
    with _VAULT_LOCKS_GUARD:
        return _VAULT_LOCKS.setdefault(vault, threading.RLock())


def _storable(namespace: Sequence[str], *, prefix: bool = False) -> bool:
    """Whether a MemCube can carry ``namespace`` (or, as a search prefix, anything under it)."""
    return (
        (prefix or len(namespace) > 0)
        and len(namespace) <= MAX_NAMESPACE_DEPTH
        and all(_label_ok(x) for x in namespace)
    )


def _label_ok(label: Any) -> bool:
    return (
        isinstance(label, str)
        and 0 < len(label) <= MAX_LABEL_CHARS
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in label)
    )


def _check_put_namespace(namespace: tuple[str, ...]) -> None:
    if not namespace:
        raise LangGraphNamespaceError("Namespace cannot be empty.")
    validate_op_namespace(PutOp(namespace, "", None))
    if namespace[0] == "langgraph":
        raise LangGraphNamespaceError(
            f'Root label for namespace cannot be "langgraph". Got: {namespace}'
        )
    if len(namespace) > MAX_NAMESPACE_DEPTH:
        raise StoreNamespaceError(
            f"namespace {namespace!r} has {len(namespace)} labels; at most "
            f"{MAX_NAMESPACE_DEPTH} are allowed"
        )
    for label in namespace:
        if not _label_ok(label):
            raise StoreNamespaceError(
                f"namespace label {label!r} is longer than {MAX_LABEL_CHARS} characters or "
                "contains a control character"
            )


def _valid_key(key: Any) -> bool:
    return (
        isinstance(key, str)
        and 0 < len(key) <= MAX_KEY_CHARS
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in key)
    )


def _check_key(key: Any) -> None:
    if not _valid_key(key):
        raise InvalidInputError(
            f"store key must be 1-{MAX_KEY_CHARS} characters without control characters, "
            f"got {key!r}"[:300]
        )


def _clean_text(text: str) -> str:
    return text.replace("\x00", " ")[:MAX_TEXT_CHARS]


def _common_prefix(namespaces: set[tuple[str, ...]]) -> tuple[str, ...]:
    if not namespaces:
        return ()
    first, *rest = namespaces
    n = len(first)
    for ns in rest:
        n = min(n, len(ns))
        while n and ns[:n] != first[:n]:
            n -= 1
    return first[:n]


def _by_pair(cubes: Iterable[MemCube], p: Principal) -> dict[Pair, MemCube]:
    """One cube per (namespace, key): the principal's own, else the latest updated (two live
    cubes share a pair only across owners, e.g. for admins, or after concurrent writers)."""
    out: dict[Pair, MemCube] = {}
    for c in cubes:
        pair = _pair(c)
        old = out.get(pair)
        if old is None or (c.access.owner == p.id, c.updated_at) > (
            old.access.owner == p.id,
            old.updated_at,
        ):
            out[pair] = c
    return out


def _born(cube: MemCube) -> datetime:
    """When the item's namespace came into existence (a shown memory: when it was made)."""
    bk = cube.bookkeeping
    return bk.born if bk is not None and bk.born is not None else cube.created_at


def _order(cube: MemCube) -> tuple[datetime, datetime, str]:
    return _born(cube), cube.created_at, _pair(cube)[1]


def _ttl(cube: MemCube) -> float | None:
    return cube.bookkeeping.ttl_minutes if cube.bookkeeping is not None else None


def _expiry(op: PutOp, now: datetime) -> datetime | None:
    return None if op.ttl is None else now + timedelta(minutes=float(op.ttl))


def _bookkeeping(born: datetime, write: _Write) -> Bookkeeping:
    ttl = None if write.op.ttl is None else float(write.op.ttl)
    return Bookkeeping(role=ROLE, born=born, ttl_minutes=ttl)


def _shown_types(types: Sequence[str], own: str) -> tuple[str, ...]:
    if isinstance(types, str) or not all(
        isinstance(t, str) and MEMORY_TYPE_PATTERN.fullmatch(t) for t in types
    ):
        raise InvalidInputError("show_memory_types must be a sequence of memory types")
    if MemoryType.CHECKPOINT.value in types:
        raise InvalidInputError("the checkpointer's cubes cannot be store items")
    return tuple(dict.fromkeys(t for t in types if t != own))


def _shown_text(value: dict[str, Any] | None, cube: MemCube) -> str:
    """The new text a put gives a shown memory: its value is ``{"text"}`` (and, as read,
    its unchanged ``memory_type``)."""
    value = value or {}
    text = value.get("text")
    if (
        set(value) - {"text", "memory_type"}
        or value.get("memory_type", cube.memory_type) != cube.memory_type
        or not isinstance(text, str)
        or not text.strip()
    ):
        raise InvalidInputError(
            f"a {cube.memory_type} memory takes a value {{'text': <new text>}} only"
        )
    return text


def _pair(cube: MemCube) -> Pair:
    """The (namespace, key) item a cube is: its key, or its id for a memory without one."""
    return cube.namespace, cube.key if cube.key is not None else cube.id


def _value(cube: MemCube, own_type: str) -> dict[str, Any]:
    """An item's value: for the store's own memory type what it was given, for a shown
    memory (the memory nodes' windows keep their turns in ``data``) its text and type."""
    if cube.memory_type != own_type:
        return {"text": cube.text, "memory_type": cube.memory_type}
    payload = cube.payload
    if isinstance(payload, PlaintextPayload) and payload.data is not None:
        return payload.data
    return {"text": cube.text}


def _item(cube: MemCube, own_type: str) -> Item:
    return Item(
        namespace=cube.namespace,
        key=_pair(cube)[1],
        value=_value(cube, own_type),
        created_at=cube.created_at,
        updated_at=cube.updated_at,
    )


def _search_item(cube: MemCube, score: float | None, own_type: str) -> SearchItem:
    return SearchItem(
        namespace=cube.namespace,
        key=_pair(cube)[1],
        value=_value(cube, own_type),
        created_at=cube.created_at,
        updated_at=cube.updated_at,
        score=score,
    )


def _pushdown(flt: dict[str, Any] | None) -> tuple[tuple[str, str], ...] | None:
    """The string equalities of a value filter that Qdrant can apply first without changing the
    result: those Python evaluates before any condition that can raise (a range or unknown
    operator on a field that is missing or not a number), at paths of identifiers. The full
    filter still runs in Python on what Qdrant returns."""
    out: list[tuple[str, str]] = []
    for key, cond in (flt or {}).items():
        if _may_raise(cond):
            break
        out.extend(_equalities([key], cond))
    return tuple(out) or None


def _may_raise(cond: Any) -> bool:
    if isinstance(cond, dict):
        if any(k.startswith("$") for k in cond):
            return any(k not in ("$eq", "$ne") for k in cond)
        return any(_may_raise(v) for v in cond.values())
    if isinstance(cond, list | tuple):
        return any(_may_raise(v) for v in cond)
    return False


def _equalities(path: list[str], cond: Any) -> list[tuple[str, str]]:
    if not all(isinstance(p, str) and p.isascii() and p.isidentifier() for p in path):
        return []
    if isinstance(cond, str):  # a lone surrogate matches nothing stored: left to Python
        return [(".".join(path), cond)] if _encodable(cond) else []
    if isinstance(cond, dict):
        if any(k.startswith("$") for k in cond):
            eq = cond.get("$eq")
            return [(".".join(path), eq)] if isinstance(eq, str) and _encodable(eq) else []
        return [e for k, v in cond.items() for e in _equalities([*path, k], v)]
    return []


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _matches(flt: dict[str, Any] | None, cube: MemCube, own_type: str) -> bool:
    if not flt:
        return True
    value = _value(cube, own_type)
    return all(_compare_values(value.get(k), v) for k, v in flt.items())


# The filter semantics of langgraph.store.memory.InMemoryStore (JSONB-like), kept verbatim.


def _compare_values(item_value: Any, filter_value: Any) -> bool:
    if isinstance(filter_value, dict):
        if any(k.startswith("$") for k in filter_value):
            return all(
                _apply_operator(item_value, op_key, op_value)
                for op_key, op_value in filter_value.items()
            )
        if not isinstance(item_value, dict):
            return False
        return all(_compare_values(item_value.get(k), v) for k, v in filter_value.items())
    if isinstance(filter_value, list | tuple):
        return (
            isinstance(item_value, list | tuple)
            and len(item_value) == len(filter_value)
            and all(
                _compare_values(iv, fv) for iv, fv in zip(item_value, filter_value, strict=False)
            )
        )
    return bool(item_value == filter_value)


def _apply_operator(value: Any, operator: str, op_value: Any) -> bool:
    if operator == "$eq":
        return bool(value == op_value)
    if operator == "$gt":
        return float(value) > float(op_value)
    if operator == "$gte":
        return float(value) >= float(op_value)
    if operator == "$lt":
        return float(value) < float(op_value)
    if operator == "$lte":
        return float(value) <= float(op_value)
    if operator == "$ne":
        return bool(value != op_value)
    raise ValueError(f"Unsupported operator: {operator}")


def _does_match(cond: MatchCondition, key: tuple[str, ...]) -> bool:
    path = cond.path
    if len(key) < len(path):
        return False
    if cond.match_type == "prefix":
        pairs = zip(key, path, strict=False)
    elif cond.match_type == "suffix":
        pairs = zip(reversed(key), reversed(path), strict=False)
    else:
        raise ValueError(f"Unsupported match type: {cond.match_type}")
    return all(p == "*" or k == p for k, p in pairs)


def _list_namespaces(
    namespaces: list[tuple[str, ...]], op: ListNamespacesOp
) -> list[tuple[str, ...]]:
    if op.match_conditions:
        namespaces = [
            ns for ns in namespaces if all(_does_match(c, ns) for c in op.match_conditions)
        ]
    if op.max_depth is not None:
        namespaces = sorted({ns[: op.max_depth] for ns in namespaces})
    else:
        namespaces = sorted(namespaces)
    return namespaces[op.offset : op.offset + op.limit]
