"""Storage drivers behind :class:`~memos_lc.vault.memvault.MemVault`.

Both drivers speak the same small protocol (:class:`Driver`) over named collections of points
with an optional dense vector (``"dense"``, cosine), an optional sparse lexical vector
(``"lex"``, scored with Qdrant's IDF modifier) and a JSON payload. Filters use Qdrant's JSON
filter shape (``{"must": [{"key": "owner", "match": {"value": "alice"}}]}``) so one filter
serves both engines.

* :class:`EdgeDriver` - the default: Qdrant Edge (``qdrant-edge-py``), the Qdrant engine
  in-process over a directory, one shard per collection, WAL-backed.
* :class:`ClientDriver` - ``qdrant-client``: a Qdrant server or cluster by URL (with tenacity
  retries on transient errors), or ``":memory:"`` / a path for qdrant-client's local mode.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from memos_lc.errors import (
    BackendUnavailableError,
    InvalidInputError,
    InvalidVectorError,
    MemosError,
    VaultConfigError,
    VaultCorruptError,
    VaultError,
    VaultLockedError,
)

DENSE = "dense"
LEX = "lex"
IndexKind = Literal["keyword", "tenant", "float", "integer"]
Filter = dict[str, Any]
T = TypeVar("T")


@dataclass(slots=True)
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass(slots=True)
class StoredPoint:
    """A point as the vault sees it, independent of the engine."""

    id: str
    payload: dict[str, Any]
    dense: list[float] | None = None
    sparse: SparseVec | None = None
    score: float | None = None


@dataclass(slots=True)
class CollectionSpec:
    """What a collection holds: dense size (``None``: payload only), sparse, indexes."""

    dense_size: int | None = None
    sparse: bool = False
    indexes: Mapping[str, IndexKind] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DriverCapabilities:
    """What a driver's engine allows, for the layers that adapt to it (instead of asking
    which driver it is). Every driver is safe to call from several threads: one whose engine
    is not (qdrant-client's local mode) serializes its own calls."""

    directory: Path | None = None
    """The directory only this process uses for the data (an embedded engine under its
    lock), or ``None`` (a server others share, memory). There the vault keeps its journal of
    deferred writes, and caches of what is stored are exact."""
    fsync: bool = False
    """Writes are flushed to disk before they are acknowledged (survive power loss)."""
    lists_ids: bool = False
    """:meth:`Driver.point_ids` lists a collection's point ids."""

    @property
    def exclusive(self) -> bool:
        """Only this process reads and writes the data."""
        return self.directory is not None


def check_filter_text(f: Filter | None) -> None:
    """Raise :class:`InvalidInputError` if a string in filter ``f`` is not valid Unicode (a lone
    surrogate, e.g. from undecodable bytes): no stored value can hold one, and the engines
    cannot encode it."""
    stack: list[Any] = [f]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list | tuple | set):
            stack.extend(x)
        elif isinstance(x, str) and not x.isascii():
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInputError(
                    f"filter value {x!r:.80} is not valid Unicode (a lone surrogate)"
                ) from None


class Driver(ABC):
    """The storage protocol the vault runs on. Every write is durable on return
    against a process crash (see each driver for power-loss guarantees)."""

    @property
    def capabilities(self) -> DriverCapabilities:
        """What this driver's engine allows (see :class:`DriverCapabilities`)."""
        return DriverCapabilities()

    def point_ids(self, name: str) -> Iterator[str]:
        """Every point id in the collection (only where ``capabilities.lists_ids``)."""
        raise NotImplementedError(f"{type(self).__name__} does not list point ids")

    @abstractmethod
    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create the collection if missing; raise :class:`VaultConfigError` on mismatch."""

    @abstractmethod
    def upsert(self, name: str, points: Sequence[StoredPoint]) -> None: ...

    @abstractmethod
    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[StoredPoint]: ...

    @abstractmethod
    def delete(self, name: str, ids: Sequence[str]) -> None: ...

    @abstractmethod
    def set_payload(self, name: str, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Merge ``payload`` into the payload of each point."""

    @abstractmethod
    def query(
        self,
        name: str,
        *,
        dense: list[float] | None,
        sparse: SparseVec | None,
        filter: Filter | None,
        limit: int,
        offset: int = 0,
        prefetch_limit: int = 100,
        rrf_k: int = 60,
    ) -> list[StoredPoint]:
        """Nearest points by one vector, or both fused by reciprocal rank (RRF)."""

    @abstractmethod
    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None,
        limit: int,
        order_by: str | None = None,
        descending: bool = False,
    ) -> list[StoredPoint]:
        """Up to ``limit`` points matching ``filter``, ordered by a float payload field."""

    @abstractmethod
    def count(self, name: str, *, filter: Filter | None) -> int: ...

    def flush(self) -> None:
        """Make every acknowledged write durable against power loss."""

    def optimize(self) -> None:
        """Build pending search indexes (HNSW, payload indexes) now. Engines that index on
        their own (a Qdrant server) need nothing."""

    def close(self) -> None:
        """Release files, locks and connections."""


# ---------------------------------------------------------------------------------------
# Embedded: Qdrant Edge
# ---------------------------------------------------------------------------------------

_MARKER = "memos-vault.json"
_FORMAT = 1


class EdgeDriver(Driver):
    """Qdrant Edge over a directory: ``<path>/<collection>/`` is one shard each.

    One process at a time may open a directory (an exclusive lock; a second opener gets
    :class:`VaultLockedError`). A write is acknowledged once it is in the shard's WAL, which
    survives a crash of the process; with ``fsync=True`` every write is also flushed to disk,
    which survives power loss but costs a shard flush per write (tens to hundreds of ms).

    Qdrant Edge builds its HNSW index only when asked (:meth:`optimize`); until then search
    scans the new points exhaustively (still exact, slower as they pile up). With
    ``auto_optimize=N`` a background thread builds the index once N points were written since
    the last build and no write came for ``idle_seconds``. Searches keep running during a
    build; a write that arrives meanwhile waits for it (about 20 s per 30k new 384-d points
    on two cores), so bulk loaders should call :meth:`optimize` themselves after loading.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = False,
        auto_optimize: int | None = 10_000,
        idle_seconds: float = 5.0,
    ) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.path = Path(path).expanduser()
        self.fsync = fsync
        self.auto_optimize = auto_optimize
        self.idle_seconds = idle_seconds
        self._shards: dict[str, Any] = {}
        self._pending: dict[str, int] = {}
        self._last_write = time.monotonic()
        self._optimize_lock = threading.Lock()
        self._optimizer: threading.Thread | None = None
        self._closing = threading.Event()
        if self.path.exists() and not self.path.is_dir():
            raise VaultCorruptError(f"{self.path} exists and is not a directory")
        marker = self.path / _MARKER
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if not marker.exists() and any(p.name != ".lock" for p in self.path.iterdir()):
                raise VaultCorruptError(
                    f"{self.path} is not empty and is not a memos-lc vault (no {_MARKER})"
                )
            self._lock_file = open(self.path / ".lock", "a+")  # noqa: SIM115 - held for the lock
        except OSError as e:  # not creatable or not readable: a path under a file, permissions
            raise VaultError(f"cannot open vault directory {self.path}: {e.strerror}") from None
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise VaultLockedError(
                f"vault {self.path} is open in another process; close it there first"
            ) from None
        if marker.exists():
            try:
                meta = json.loads(marker.read_text())
                if meta.get("format") != _FORMAT:
                    raise VaultCorruptError(f"unsupported vault format {meta.get('format')!r}")
            except (OSError, ValueError, AttributeError) as e:
                self.close()
                raise VaultCorruptError(f"{marker} is unreadable: {e}") from None
        else:
            try:
                _atomic_write(marker, json.dumps({"format": _FORMAT, "engine": "qdrant-edge"}))
            except OSError as e:
                self.close()
                raise VaultError(f"cannot write {marker}: {e.strerror}") from None

    # -- collections ---------------------------------------------------------------------

    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        qe = self._qe
        shard_dir = self.path / name
        vectors = (
            {DENSE: qe.EdgeVectorParams(size=spec.dense_size, distance=qe.Distance.Cosine)}
            if spec.dense_size
            else None
        )
        # A shard needs at least one vector; payload-only collections get an unused sparse one.
        sparse = {LEX: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}
        try:
            if (shard_dir / "edge_config.json").exists():
                shard = qe.EdgeShard.load(str(shard_dir))
            else:
                config = qe.EdgeConfig(vectors=vectors, sparse_vectors=sparse)
                shard = qe.EdgeShard.create(str(shard_dir), config)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # the binding raises bare Exception, and Rust panics
            msg = str(e)
            if "WouldBlock" in msg:
                raise VaultLockedError(f"vault {self.path} is open in another process") from None
            raise VaultCorruptError(f"cannot open {shard_dir}: {msg}") from None
        have = shard.info().payload_schema
        configured = _edge_dense_size(shard_dir)
        if configured != spec.dense_size:
            shard.close()
            raise VaultConfigError(
                f"collection {name!r} stores {configured}-dim vectors but the vault's "
                f"embeddings produce {spec.dense_size}; open it with the embeddings it was "
                "created with"
            )
        for field_name, kind in spec.indexes.items():
            if field_name in have:
                continue
            shard.update(qe.UpdateOperation.create_field_index(field_name, self._index(kind)))
        self._shards[name] = shard

    def _index(self, kind: IndexKind) -> Any:
        qe = self._qe
        return {
            "keyword": qe.PayloadSchemaType.Keyword,
            "tenant": qe.KeywordIndexParams(is_tenant=True),
            "float": qe.PayloadSchemaType.Float,
            "integer": qe.PayloadSchemaType.Integer,
        }[kind]

    def _shard(self, name: str) -> Any:
        try:
            return self._shards[name]
        except KeyError:
            raise VaultError(f"collection {name!r} is not open (vault closed?)") from None

    def _write(self, name: str, op: Any, points: int = 0) -> None:
        shard = self._shard(name)
        with _engine_call():
            shard.update(op)
            if self.fsync:
                shard.flush()
        if points:
            self._last_write = time.monotonic()
            self._pending[name] = self._pending.get(name, 0) + points
            if (
                self.auto_optimize is not None
                and self._pending[name] >= self.auto_optimize
                and (self._optimizer is None or not self._optimizer.is_alive())
            ):
                self._optimizer = threading.Thread(
                    target=self._optimize_when_idle, name="memos-edge-optimizer", daemon=True
                )
                self._optimizer.start()

    def _optimize_when_idle(self) -> None:
        while not self._closing.wait(self.idle_seconds / 4):
            if time.monotonic() - self._last_write < self.idle_seconds:
                continue
            limit = self.auto_optimize or 0
            due = [n for n, count in self._pending.items() if count >= limit]
            if not due:
                return
            for name in due:
                self._optimize_one(name)

    def _optimize_one(self, name: str) -> None:
        with self._optimize_lock:
            shard = self._shards.get(name)
            if shard is None or self._closing.is_set():
                return
            self._pending[name] = 0
            shard.optimize()

    def optimize(self) -> None:
        for name in list(self._shards):
            self._optimize_one(name)

    # -- points --------------------------------------------------------------------------

    def _point(self, p: StoredPoint) -> Any:
        qe = self._qe
        vec: dict[str, Any] = {}
        if p.dense is not None:
            vec[DENSE] = p.dense
        if p.sparse is not None and p.sparse.indices:
            vec[LEX] = qe.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
        return qe.Point(p.id, vec, p.payload)

    def upsert(self, name: str, points: Sequence[StoredPoint]) -> None:
        if points:
            op = self._qe.UpdateOperation.upsert_points([self._point(p) for p in points])
            self._write(name, op, points=len(points))

    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if not ids:
            return []
        with _engine_call():
            recs = self._shard(name).retrieve(
                list(ids), with_payload=True, with_vector=with_vectors
            )
            return [_from_record(r) for r in recs]

    def delete(self, name: str, ids: Sequence[str]) -> None:
        if ids:
            self._write(name, self._qe.UpdateOperation.delete_points(list(ids)))

    def set_payload(self, name: str, ids: Sequence[str], payload: dict[str, Any]) -> None:
        if ids:
            self._write(name, self._qe.UpdateOperation.set_payload(list(ids), payload))

    def query(
        self,
        name: str,
        *,
        dense: list[float] | None,
        sparse: SparseVec | None,
        filter: Filter | None,
        limit: int,
        offset: int = 0,
        prefetch_limit: int = 100,
        rrf_k: int = 60,
    ) -> list[StoredPoint]:
        qe = self._qe
        check_filter_text(filter)
        f = edge_filter(qe, filter)
        queries = []
        if dense is not None:
            queries.append(qe.Query.Nearest(dense, using=DENSE))
        if sparse is not None and sparse.indices:
            queries.append(
                qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=LEX)
            )
        if not queries:
            return []
        if len(queries) == 1:
            req = qe.QueryRequest(
                limit=limit, offset=offset, query=queries[0], filter=f, with_payload=True
            )
        else:
            pl = max(prefetch_limit, limit + offset)
            req = qe.QueryRequest(
                limit=limit,
                offset=offset,
                prefetches=[qe.Prefetch(limit=pl, query=q, filter=f) for q in queries],
                query=qe.Fusion.Rrf(k=rrf_k),
                filter=f,
                with_payload=True,
            )
        with _engine_call():
            return [_from_record(r, r.score) for r in self._shard(name).query(req)]

    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None,
        limit: int,
        order_by: str | None = None,
        descending: bool = False,
    ) -> list[StoredPoint]:
        qe = self._qe
        check_filter_text(filter)
        order = None
        if order_by:
            direction = qe.Direction.Desc if descending else qe.Direction.Asc
            order = qe.OrderBy(order_by, direction=direction)
        req = qe.ScrollRequest(
            limit=limit, filter=edge_filter(qe, filter), with_payload=True, order_by=order
        )
        with _engine_call():
            recs, _ = self._shard(name).scroll(req)
            return [_from_record(r) for r in recs]

    @property
    def capabilities(self) -> DriverCapabilities:
        return DriverCapabilities(directory=self.path, fsync=self.fsync, lists_ids=True)

    def point_ids(self, name: str) -> Iterator[str]:
        """Every point id in the collection, in pages (ids only: no payloads cross over)."""
        qe, shard, offset = self._qe, self._shard(name), None
        while True:
            req = qe.ScrollRequest(offset=offset, limit=10_000, with_payload=False)
            with _engine_call():
                recs, offset = shard.scroll(req)
            yield from (str(r.id) for r in recs)
            if offset is None:
                return

    def count(self, name: str, *, filter: Filter | None) -> int:
        qe = self._qe
        check_filter_text(filter)
        with _engine_call():
            return self._shard(name).count(
                qe.CountRequest(filter=edge_filter(qe, filter), exact=True)
            )

    def flush(self) -> None:
        with _engine_call():
            for shard in self._shards.values():
                shard.flush()

    def close(self) -> None:
        # An index build cannot be interrupted: closing waits for a running one to finish.
        self._closing.set()
        if self._optimizer is not None and self._optimizer is not threading.current_thread():
            self._optimizer.join()
        with self._optimize_lock:
            for shard in self._shards.values():
                with contextlib.suppress(MemosError), _engine_call():  # panics too
                    shard.close()
            self._shards.clear()
        if not self._lock_file.closed:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()


def _edge_dense_size(shard_dir: Path) -> int | None:
    try:
        cfg = json.loads((shard_dir / "edge_config.json").read_text())
    except (OSError, ValueError) as e:
        raise VaultCorruptError(f"{shard_dir}/edge_config.json is unreadable: {e}") from None
    vectors = cfg.get("vectors") or {}
    dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
    return int(dense["size"]) if dense else None


# What the engine says when a page, a segment or its WAL cannot be read back
_DAMAGE = re.compile(r"decompress|corrupt|checksum|deseriali[sz]|malformed|wal entry|read", re.I)


def _edge_error(e: BaseException) -> MemosError:
    """An engine error as a typed one. The engine raises bare ``Exception`` objects, and Rust
    panics, which derive from ``BaseException`` (so they slip past ``except Exception``)."""
    msg = str(e)
    if "dimension" in msg.lower():
        return InvalidVectorError(msg)
    if not isinstance(e, Exception) or _DAMAGE.search(msg):
        return VaultCorruptError(f"qdrant-edge cannot read the vault (damaged?): {msg}")
    return VaultError(f"qdrant-edge: {msg}")


@contextlib.contextmanager
def _engine_call() -> Iterator[None]:
    """Map whatever the engine raises to :func:`_edge_error` (never an interrupt)."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemosError):
        raise
    except BaseException as e:
        raise _edge_error(e) from None


def _from_record(rec: Any, score: float | None = None) -> StoredPoint:
    """A qdrant-edge or qdrant-client record (same shape) as a StoredPoint."""
    dense = sparse = None
    vec = rec.vector
    if isinstance(vec, dict):
        d = vec.get(DENSE)
        dense = list(d) if d is not None else None
        s = vec.get(LEX)
        if s is not None:
            sparse = SparseVec(list(s.indices), list(s.values))
    return StoredPoint(
        id=str(rec.id), payload=dict(rec.payload or {}), dense=dense, sparse=sparse, score=score
    )


def edge_filter(qe: Any, f: Filter | None) -> Any:
    """Translate a Qdrant JSON filter into qdrant-edge objects."""
    if not f:
        return None
    return qe.Filter(
        must=[_edge_cond(qe, c) for c in f.get("must", [])] or None,
        should=[_edge_cond(qe, c) for c in f.get("should", [])] or None,
        must_not=[_edge_cond(qe, c) for c in f.get("must_not", [])] or None,
    )


def _edge_cond(qe: Any, c: dict[str, Any]) -> Any:
    if any(k in c for k in ("must", "should", "must_not")):
        return edge_filter(qe, c)
    if "is_empty" in c:
        return qe.IsEmptyCondition(c["is_empty"]["key"])
    if "is_null" in c:
        return qe.IsNullCondition(c["is_null"]["key"])
    if "has_id" in c:
        return qe.HasIdCondition(set(c["has_id"]))
    key = c["key"]
    if "match" in c:
        m = c["match"]
        if "value" in m:
            v = m["value"]
            if isinstance(v, bool):  # the binding reads bools as ints; we store flags as strings
                raise ValueError("boolean match is not supported; store flags as keywords")
            return qe.FieldCondition(key=key, match=qe.MatchValue(v))
        if "any" in m:
            return qe.FieldCondition(key=key, match=qe.MatchAny(list(m["any"])))
        if "except" in m:
            return qe.FieldCondition(key=key, match=qe.MatchExcept(list(m["except"])))
        raise ValueError(f"unsupported match {m!r}")
    if "range" in c:
        r = c["range"]
        return qe.FieldCondition(
            key=key,
            range=qe.RangeFloat(gt=r.get("gt"), gte=r.get("gte"), lt=r.get("lt"), lte=r.get("lte")),
        )
    raise ValueError(f"unsupported condition {c!r}")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------
# Server / cluster / local mode: qdrant-client
# ---------------------------------------------------------------------------------------


class ClientDriver(Driver):
    """qdrant-client over a Qdrant server or cluster, or its local mode.

    ``location`` is a URL (``http://qdrant:6333``), ``":memory:"``, or a path (qdrant-client's
    local mode). ``collection_prefix`` namespaces this vault's collections on a shared cluster.
    Transient failures (connection errors, 5xx, 429) are retried with exponential backoff;
    after ``retries`` attempts :class:`BackendUnavailableError` is raised. Writes use
    ``wait=True``: acknowledged means the server applied them to its WAL.

    Tenants: the ``owner`` field carries a tenant-keyed payload index (``is_tenant=True``),
    so a cluster co-locates each principal's cubes and filters by owner cheaply.
    """

    def __init__(
        self,
        location: str = ":memory:",
        *,
        api_key: str | None = None,
        collection_prefix: str = "memos",
        retries: int = 5,
        client: Any = None,
        **client_kwargs: Any,
    ) -> None:
        from qdrant_client import QdrantClient, models

        self._m = models
        self.prefix = collection_prefix
        self.retries = retries
        if client is not None:
            self.client = client
        elif location == ":memory:":
            self.client = QdrantClient(location=":memory:")
        elif location.startswith(("http://", "https://")):
            self.client = QdrantClient(url=location, api_key=api_key, **client_kwargs)
        else:
            self.client = QdrantClient(path=location, **client_kwargs)
        # qdrant-client's local mode (":memory:" or a path) is not thread-safe (a read during
        # a write corrupts its arrays): serialize it, a client passed in included
        opts = getattr(self.client, "init_options", None) or {}
        local = opts.get("location") == ":memory:" or opts.get("path") is not None
        self._local_lock = threading.Lock() if local else contextlib.nullcontext()

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential,
        )

        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.retries),
                wait=wait_exponential(multiplier=0.2, max=5),
                retry=retry_if_exception(_transient),
                reraise=False,
            ):
                with attempt, self._local_lock:
                    return fn(*args, **kwargs)
        except RetryError as e:
            raise BackendUnavailableError(
                f"Qdrant did not answer after {self.retries} attempts: {e.last_attempt.exception()}"
            ) from None
        raise AssertionError("unreachable")

    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        m = self._m
        cname = self._name(name)
        if self._call(self.client.collection_exists, cname):
            info = self._call(self.client.get_collection, cname)
            vecs = info.config.params.vectors
            size = vecs[DENSE].size if isinstance(vecs, dict) and DENSE in vecs else None
            if size != spec.dense_size:
                raise VaultConfigError(
                    f"collection {cname!r} stores {size}-dim vectors, the vault's embeddings "
                    f"produce {spec.dense_size}"
                )
            have = set((info.payload_schema or {}).keys())
        else:
            vectors = (
                {DENSE: m.VectorParams(size=spec.dense_size, distance=m.Distance.COSINE)}
                if spec.dense_size
                else {}
            )
            sparse = {LEX: m.SparseVectorParams(modifier=m.Modifier.IDF)} if spec.sparse else None
            self._call(
                self.client.create_collection,
                cname,
                vectors_config=vectors,
                sparse_vectors_config=sparse,
            )
            have = set()
        for field_name, kind in spec.indexes.items():
            if field_name in have:
                continue
            schema: Any = {
                "keyword": m.PayloadSchemaType.KEYWORD,
                "tenant": m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
                "float": m.PayloadSchemaType.FLOAT,
                "integer": m.PayloadSchemaType.INTEGER,
            }[kind]
            with _quiet_local_mode():
                self._call(self.client.create_payload_index, cname, field_name, schema)

    def _point(self, p: StoredPoint) -> Any:
        m = self._m
        vec: dict[str, Any] = {}
        if p.dense is not None:
            vec[DENSE] = p.dense
        if p.sparse is not None and p.sparse.indices:
            vec[LEX] = m.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
        return m.PointStruct(id=p.id, vector=vec, payload=p.payload)

    def _filter(self, f: Filter | None) -> Any:
        check_filter_text(f)
        return self._m.Filter.model_validate(f) if f else None

    def upsert(self, name: str, points: Sequence[StoredPoint]) -> None:
        if points:
            self._call(
                self.client.upsert,
                self._name(name),
                points=[self._point(p) for p in points],
                wait=True,
            )

    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if not ids:
            return []
        recs = self._call(
            self.client.retrieve,
            self._name(name),
            ids=list(ids),
            with_payload=True,
            with_vectors=with_vectors,
        )
        return [_from_record(r) for r in recs]

    def delete(self, name: str, ids: Sequence[str]) -> None:
        if ids:
            self._call(
                self.client.delete,
                self._name(name),
                points_selector=self._m.PointIdsList(points=list(ids)),
                wait=True,
            )

    def set_payload(self, name: str, ids: Sequence[str], payload: dict[str, Any]) -> None:
        if ids:
            self._call(
                self.client.set_payload,
                self._name(name),
                payload=payload,
                points=list(ids),
                wait=True,
            )

    def query(
        self,
        name: str,
        *,
        dense: list[float] | None,
        sparse: SparseVec | None,
        filter: Filter | None,
        limit: int,
        offset: int = 0,
        prefetch_limit: int = 100,
        rrf_k: int = 60,
    ) -> list[StoredPoint]:
        m = self._m
        f = self._filter(filter)
        queries: list[tuple[Any, str]] = []
        if dense is not None:
            queries.append((dense, DENSE))
        if sparse is not None and sparse.indices:
            queries.append((m.SparseVector(indices=sparse.indices, values=sparse.values), LEX))
        if not queries:
            return []
        if len(queries) == 1:
            q, using = queries[0]
            res = self._call(
                self.client.query_points,
                self._name(name),
                query=q,
                using=using,
                query_filter=f,
                limit=limit,
                offset=offset,
                with_payload=True,
            )
        else:
            pl = max(prefetch_limit, limit + offset)
            res = self._call(
                self.client.query_points,
                self._name(name),
                prefetch=[m.Prefetch(query=q, using=u, limit=pl, filter=f) for q, u in queries],
                query=m.RrfQuery(rrf=m.Rrf(k=rrf_k)),
                query_filter=f,
                limit=limit,
                offset=offset,
                with_payload=True,
            )
        return [_from_record(r, r.score) for r in res.points]

    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None,
        limit: int,
        order_by: str | None = None,
        descending: bool = False,
    ) -> list[StoredPoint]:
        m = self._m
        order = None
        if order_by:
            order = m.OrderBy(
                key=order_by, direction=m.Direction.DESC if descending else m.Direction.ASC
            )
        recs, _ = self._call(
            self.client.scroll,
            self._name(name),
            scroll_filter=self._filter(filter),
            limit=limit,
            with_payload=True,
            order_by=order,
        )
        return [_from_record(r) for r in recs]

    def count(self, name: str, *, filter: Filter | None) -> int:
        return self._call(
            self.client.count, self._name(name), count_filter=self._filter(filter), exact=True
        ).count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def _transient(e: BaseException) -> bool:
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(e, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    if isinstance(e, UnexpectedResponse):
        return e.status_code in (429, 502, 503, 504)
    try:
        import httpx

        if isinstance(e, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover - httpx ships with qdrant-client
        pass
    try:
        import grpc

        if isinstance(e, grpc.RpcError):
            return e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    except ImportError:  # pragma: no cover
        pass
    return False


@contextlib.contextmanager
def _quiet_local_mode() -> Any:
    # qdrant-client's local mode warns that payload indexes have no effect there.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield
