"""MemVault: versioned, governed storage of MemCubes, the API class over a storage driver.

The class is engine-agnostic: it speaks to Qdrant (embedded Edge or a server) through a
:class:`~memos_lc.vault.drivers.Driver` and asks :mod:`memos_lc.vault.schema` for the stored
shape of everything it writes and every filter it runs.

Every version of a cube is its own Qdrant point (id :func:`~memos_lc.cube.version_id`), with
the cube's header as JSON in the payload next to flat, indexed fields the filters use.
An update never overwrites: it writes the successor version and marks the old one superseded
in the same upsert, so history and rollback are real and a crash never leaves a cube half
updated. Search is hybrid: a dense vector (MiniLM or any LangChain ``Embeddings``) and a
BM25 sparse vector scored with Qdrant's IDF modifier, fused by reciprocal rank (RRF) inside
Qdrant, under payload filters for access, namespace prefix, kind, type, status, expiry, tags
and time. Every call takes the acting principal (a :class:`~memos_lc.governance.Principal`,
or its id: ``"alice"`` is ``Principal(id="alice")``, without roles) and is audited.

Deferred puts (``put(deferred=True)``) wait in a :class:`~memos_lc.vault.deferred.DeferredPuts`
(their journal, batches and rules); the vault only writes them to the engine. ``JOURNAL``,
``DEFER_BATCH`` and ``ID_FILTER_MAX`` moved there with it and are re-exported here.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal

        alice = Principal(id="alice")
        with MemVault.open("/tmp/vault") as vault:
            cube = vault.add(alice, "Alice is allergic to peanuts", namespace=("alice",))
            hits = vault.search(alice, "what food allergies?", namespace=("alice",))
            vault.update(alice, cube.id, text="Alice is allergic to peanuts and shellfish")
            assert [c.version for c in vault.history(alice, cube.id)] == [1, 2]
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos_lc.aio import async_twin
from memos_lc.cube import (
    CONTENT_FIELDS,
    ActivationPayload,
    BlobRef,
    LifecycleStatus,
    MemCube,
    ParametricPayload,
    ScoredCube,
    Usage,
    utcnow,
    validate_namespace,
)
from memos_lc.embeddings import (
    BUNDLED_EMBEDDING_DIMS,
    LexicalEncoder,
    check_vector,
    default_embeddings,
)
from memos_lc.errors import (
    AmbiguousCubeError,
    BlobNotFoundError,
    ConflictError,
    CubeNotFoundError,
    InvalidCubeError,
    InvalidInputError,
    PermissionDeniedError,
    VaultConfigError,
    VersionNotFoundError,
)
from memos_lc.governance import (
    AuditEvent,
    AuditOutcome,
    Grant,
    Permission,
    Principal,
    as_principal,
    can_move,
    can_read,
    can_read_version,
    can_write,
)
from memos_lc.vault.audit import audited_call
from memos_lc.vault.audit import read_log as read_audit_log
from memos_lc.vault.blobs import BlobStore
from memos_lc.vault.deferred import DEFER_BATCH as DEFER_BATCH
from memos_lc.vault.deferred import ID_FILTER_MAX as ID_FILTER_MAX
from memos_lc.vault.deferred import JOURNAL, DeferredPuts
from memos_lc.vault.drivers import (
    ClientDriver,
    CollectionSpec,
    Driver,
    EdgeDriver,
    Filter,
    StoredPoint,
)
from memos_lc.vault.grants import GrantBook
from memos_lc.vault.limits import MAX_LIMIT, check_limit
from memos_lc.vault.purge import delete_unused_blobs, delete_versions
from memos_lc.vault.schema import (
    AUDIT,
    AUDIT_INDEXES,
    CUBE_INDEXES,
    CUBES,
    GRANT_INDEXES,
    GRANTS,
    HEAD,
    CubeFilter,
    as_cube_filter,
    audit_payload,
    blob_users,
    cube_from_payload,
    cube_point,
    due_to_expire,
    expiry_filter,
    heads_of,
    match_any,
    owned_ids,
    read_filter,
    versions_of,
)
from memos_lc.vault.search import EXPLAIN_DEPTH, check_query, explained, scored
from memos_lc.vault.versions import first_version, linked_history, with_owner

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

ENV_VAULT = "MEMOS_LC_VAULT"

# Fields a caller may change with update(); the rest is maintained by the vault.
_UPDATABLE = {*CONTENT_FIELDS, "access"}

# Embedded vaults open in this process, by resolved directory: one directory is one vault per
# process (its lock keeps other processes out), shared by every open() of it and closed by
# the last close(). So a store and a saver opened on one path just work together.
_SHARED: dict[Path, MemVault] = {}
_SHARED_LOCK = threading.Lock()


def default_vault_path() -> Path:
    """``$MEMOS_LC_VAULT``, else ``<user data dir>/memos-lc/vault``."""
    if env := os.environ.get(ENV_VAULT):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("memos-lc")) / "vault"


class MemVault:
    """Versioned, governed MemCube storage on Qdrant (embedded Edge or a server/cluster).

    Use :meth:`open` rather than the constructor. All methods are thread-safe; every
    method has an ``a``-prefixed async twin.

    Args:
        driver: The storage engine (:class:`EdgeDriver` or :class:`ClientDriver`).
        embeddings: Dense embeddings; the bundled MiniLM when ``None`` (loaded on first use).
        dims: Size of the dense vectors; probed from ``embeddings`` when not given.
        blobs: Blob store for activation/parametric payloads.
        lexical: BM25 sparse encoder.
    """

    def __init__(
        self,
        driver: Driver,
        *,
        embeddings: Embeddings | None = None,
        dims: int | None = None,
        blobs: BlobStore | None = None,
        lexical: LexicalEncoder | None = None,
    ) -> None:
        self.driver = driver
        self._embeddings = embeddings
        if dims is None:
            dims = (
                BUNDLED_EMBEDDING_DIMS
                if embeddings is None
                else len(embeddings.embed_query("dimension probe"))
            )
        self.dims = dims
        self.lexical = lexical or LexicalEncoder()
        self._blobs = blobs
        self._scratch_blobs: tempfile.TemporaryDirectory[str] | None = None
        # Digests each principal gave the bytes of (put_blob), in this process: a cube may name
        # a blob only its principal holds or reads through another cube (see _check_blobs)
        self._held_blobs: dict[str, set[str]] = {}
        self._write_lock = threading.RLock()
        self._opens = 1  # open() calls sharing this vault (see _SHARED); close() counts down
        self._shared_as: Path | None = None
        # One process owns an embedded vault, so its grant cache is exact; a server may be
        # shared, so there a grant made elsewhere takes effect within a second.
        self._grant_book = GrantBook(driver, ttl=math.inf if driver.capabilities.exclusive else 1.0)
        driver.ensure_collection(CUBES, CollectionSpec(dims, True, CUBE_INDEXES))
        driver.ensure_collection(AUDIT, CollectionSpec(None, False, AUDIT_INDEXES))
        driver.ensure_collection(GRANTS, CollectionSpec(None, False, GRANT_INDEXES))
        # Deferred puts (see put(deferred=True)): acknowledged cubes not yet in the engine,
        # and audit events likewise (a read then costs no engine write), kept in the journal
        # until flushed. Only an embedded vault defers: its directory holds the journal next
        # to the engine's WAL and only this process reads it. A server is shared, and
        # ":memory:" is served as well by writing through. Set once the journal is replayed:
        # until then the vault writes through (audit events included).
        self._deferred: DeferredPuts | None = None
        caps = driver.capabilities
        if caps.directory is not None:
            deferred = DeferredPuts(caps.directory / JOURNAL, fsync=caps.fsync)
            try:
                self._write_deferred(deferred, replay=True)  # acknowledged before a crash
            except BaseException:
                deferred.close()
                raise
            self._deferred = deferred

    def flush(self) -> None:
        """Write deferred cubes into the engine: one upsert and one audit event (naming the
        cube ids) per principal and up to :data:`DEFER_BATCH` cubes, then the audit events
        waiting (one upsert). Every other vault call does this first when cubes wait, so
        reads always see acknowledged puts."""
        deferred = self._deferred
        if deferred is not None and deferred.pending:
            self._write_deferred(deferred, replay=False)

    def _write_deferred(self, deferred: DeferredPuts, *, replay: bool) -> None:
        """Write what ``deferred`` holds into the engine, then empty its journal (at open,
        ``replay``: what it held then, some of which may be in already)."""
        with self._write_lock:
            while (batch := deferred.next_batch()) is not None:
                part = batch.cubes
                with self._audited(
                    batch.principal, "put", part[0].namespace, flush=False, event_id=batch.event_id
                ) as ids:
                    ids.extend(c.id for c in part)
                    if replay:  # some may be in already, flushed before the crash
                        there = self.driver.retrieve(CUBES, [c.version_id for c in part])
                        done = {(p.payload["owner"], p.payload["cube_id"]) for p in there}
                        part = [c for c in part if (c.access.owner, c.id) not in done]
                    # otherwise none is: puts check the engine and waiting ids alike
                    self.driver.upsert(CUBES, [self._point(c, None, True) for c in part])
                deferred.written(batch)
            if events := deferred.events:  # with the batches' own events, just recorded
                self.driver.upsert(AUDIT, [StoredPoint(id=i, payload=p) for i, p in events])
                deferred.events_written(len(events))
            deferred.clear()  # also drops a torn record, at open

    @property
    def deferred(self) -> DeferredPuts | None:
        """What deferred puts left waiting for the engine (see ``put(deferred=True)``), for
        inspection: ``None`` where puts write through (:attr:`defers` is false). The vault
        alone changes it, under its write lock."""
        return self._deferred

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        embeddings: Embeddings | None = None,
        api_key: str | None = None,
        blobs: str | os.PathLike[str] | None = None,
        fsync: bool = False,
        auto_optimize: int | None = 10_000,
        collection_prefix: str = "memos",
    ) -> MemVault:
        """Open (creating if needed) a vault.

        ``location`` is a directory (embedded Qdrant Edge, the default: ``$MEMOS_LC_VAULT``
        or the user data dir), ``":memory:"`` (qdrant-client in memory), or a Qdrant URL
        (``http://host:6333``, a server or cluster; ``api_key`` for Qdrant Cloud). Blobs live
        in ``<dir>/blobs`` for the embedded engine; with a server, pass ``blobs`` (a shared
        directory) or a temporary one is used. ``fsync`` and ``auto_optimize`` (new points
        that trigger a background index build once writes pause; ``None``: only
        :meth:`optimize`) apply to the embedded engine.
        """
        if location is not None and not isinstance(location, str | os.PathLike):
            raise InvalidInputError(
                "location must be a directory, ':memory:' or a Qdrant URL, got "
                f"{type(location).__name__}"
            )
        loc = str(location) if location is not None else str(default_vault_path())
        remote = loc == ":memory:" or loc.startswith(("http://", "https://"))
        # an embedded directory is shared in the process (see _SHARED); a server is not
        key = None if remote else Path(loc).expanduser().resolve()
        with _SHARED_LOCK if key is not None else contextlib.nullcontext():
            if key is not None and key in _SHARED:
                shared: MemVault = _SHARED[key]
                return shared._share(embeddings)
            driver: Driver = (
                ClientDriver(loc, api_key=api_key, collection_prefix=collection_prefix)
                if remote
                else EdgeDriver(loc, fsync=fsync, auto_optimize=auto_optimize)
            )
            try:
                where = blobs if remote else blobs or Path(loc) / "blobs"
                blob_store = BlobStore(where) if where else None
                vault = cls(driver, embeddings=embeddings, blobs=blob_store)
            except BaseException:
                driver.close()
                raise
            if key is not None:
                vault._shared_as = key
                _SHARED[key] = vault
            return vault

    def _share(self, embeddings: Embeddings | None) -> MemVault:
        """This vault for one more open() of its directory (under ``_SHARED_LOCK``)."""
        if embeddings is not None and self._embeddings is not None:
            if embeddings is not self._embeddings:
                raise VaultConfigError(
                    "this vault is already open in this process with other embeddings; "
                    "open it with the same Embeddings object, or none"
                )
        elif embeddings is not None:
            if len(embeddings.embed_query("dimension probe")) != self.dims:
                raise VaultConfigError(f"the embeddings' size differs from the vault's {self.dims}")
            self._embeddings = embeddings
        self._opens += 1
        return self

    def optimize(self) -> None:
        """Build the search indexes for everything written so far (blocking).

        The embedded engine indexes only when asked: call this after a bulk load. It also
        runs by itself once ``auto_optimize`` new points were written and writes paused (see
        :class:`~memos_lc.vault.drivers.EdgeDriver`). A Qdrant server indexes on its own."""
        self.flush()
        self.driver.optimize()

    def close(self) -> None:
        """Flush and release the storage (the directory lock, for the embedded engine). A
        vault that several open() calls share closes with the last of their close() calls;
        the others flush."""
        with _SHARED_LOCK:
            if self._opens > 1:
                self._opens -= 1
                self.flush()
                return
            self._opens = 0
            if self._shared_as is not None and _SHARED.get(self._shared_as) is self:
                del _SHARED[self._shared_as]
        with self._write_lock:
            with contextlib.suppress(Exception):  # what fails stays in the journal
                self.flush()
            with contextlib.suppress(Exception):
                self.driver.flush()
            self.driver.close()
            if self._deferred is not None:
                self._deferred.close()
            if self._scratch_blobs is not None:
                self._scratch_blobs.cleanup()

    def __enter__(self) -> MemVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def blobs(self) -> BlobStore:
        """Where KV caches and adapters live. Without a blob directory (a server or
        ``":memory:"``), a scratch directory made at the first use, removed on close and at
        exit: a vault that never holds a blob leaves nothing behind, even when killed."""
        if self._blobs is None:
            with self._write_lock:
                if self._blobs is None:
                    self._scratch_blobs = tempfile.TemporaryDirectory(prefix="memos-blobs-")
                    self._blobs = BlobStore(Path(self._scratch_blobs.name))
        return self._blobs

    @property
    def embeddings(self) -> Embeddings:
        """The dense embeddings (the bundled MiniLM unless another was given)."""
        if self._embeddings is None:
            self._embeddings = default_embeddings()
        return self._embeddings

    # -- audit -----------------------------------------------------------------------------

    def _record(self, event: AuditEvent) -> None:
        payload = audit_payload(event)
        if self._deferred is None:
            self.driver.upsert(AUDIT, [StoredPoint(id=event.id, payload=payload)])
            return
        with self._write_lock:  # journaled: written to the engine with the next batch
            self._deferred.add_event(event.id, payload)

    def audited(
        self, principal: Principal | str, action: str, namespace: Sequence[str] | None = None
    ) -> contextlib.AbstractContextManager[list[str]]:
        """Audit an operation composed of this vault's calls (a bundle import) as one event
        of ``action``: the block fills the yielded list with the cube ids it touched; the
        event's outcome is the block's (``ok``, or the typed error it raised)."""
        return self._audited(as_principal(principal), action, namespace)

    def _audited(
        self,
        principal: Principal,
        action: str,
        namespace: Sequence[str] | None = None,
        *,
        flush: bool = True,
        record_ok: bool = True,
        event_id: str | None = None,
    ) -> contextlib.AbstractContextManager[list[str]]:
        """Audit one call (see :func:`~memos_lc.vault.audit.audited_call`). Deferred puts are
        flushed first (unless ``flush=False``), so the call sees them; a deferred put itself is
        recorded when flushed (``record_ok=False``), and here only if it fails."""
        if not isinstance(principal, Principal):
            raise InvalidInputError(
                f"principal must be a memos_lc.Principal, got {type(principal).__name__}"
            )
        if flush and self._deferred is not None and self._deferred.due:
            self.flush()
        return audited_call(
            self._record, principal, action, namespace, record_ok=record_ok, event_id=event_id
        )

    def audit_log(
        self,
        principal: Principal | str,
        *,
        who: str | None = None,
        action: str | None = None,
        cube_id: str | None = None,
        outcome: AuditOutcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Audit events, newest first. Admins see everyone's; others only their own."""
        principal = as_principal(principal)
        self.flush()  # events still waiting for the engine, too
        with self._audited(principal, "audit"):
            check_limit(limit)
            return read_audit_log(
                self.driver,
                principal,
                who=who,
                action=action,
                cube_id=cube_id,
                outcome=outcome,
                since=since,
                until=until,
                limit=limit,
            )

    # -- grants ----------------------------------------------------------------------------

    def grant(
        self,
        principal: Principal | str,
        namespace: Sequence[str],
        grantee: str,
        permission: Permission | str = Permission.READ,
    ) -> Grant:
        """Share ``namespace`` (and below) with ``grantee`` (a principal id or ``role:<r>``).

        A principal shares the cubes it owns there; an admin's grant covers every owner's.
        """
        principal = as_principal(principal)
        with self._audited(principal, "grant", namespace):
            return self._grant_book.issue(principal, namespace, grantee, permission)

    def revoke(self, principal: Principal | str, grant_id: str) -> None:
        """Withdraw a grant (its grantor or an admin)."""
        principal = as_principal(principal)
        with self._audited(principal, "revoke"):
            self._grant_book.revoke(principal, grant_id)

    def grants(self, principal: Principal | str) -> list[Grant]:
        """Grants issued by or to ``principal`` (all grants, for an admin)."""
        principal = as_principal(principal)
        with self._audited(principal, "grants"):
            return self._grant_book.listing(principal)

    # -- storage helpers -------------------------------------------------------------------

    def _point(self, cube: MemCube, dense: list[float] | None, head: bool) -> StoredPoint:
        sparse = None if dense is None else self.lexical.encode_document(cube.text)
        return cube_point(cube, dense, sparse, head=head)

    def _successor_dense(self, base: StoredPoint, new: MemCube) -> list[float] | None:
        """The dense vector of ``new``, a successor of the version stored as ``base``: reused
        when the text is unchanged, re-embedded when it changed, none if ``base`` is
        unindexed. ``base`` must have been retrieved with its vectors."""
        if base.payload.get("indexed") == "n":
            return None
        if base.dense is not None and cube_from_payload(base.payload).text == new.text:
            return base.dense
        return self._embed([new.text])[0]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.embeddings.embed_documents(texts)
        return [check_vector(v, self.dims) for v in vectors]

    def _heads(
        self,
        cube_ids: Sequence[str],
        *,
        owner: str | None = None,
        with_vectors: bool = False,
    ) -> list[StoredPoint]:
        """The head (latest) version point of each cube with one of ``cube_ids`` (of every
        owner that holds one, or of ``owner`` only), in no particular order."""
        if not cube_ids:
            return []
        # an id may be held by several owners: the limit bounds them, not the ids asked for
        pts = self.driver.scroll(CUBES, filter=heads_of(cube_ids, owner), limit=MAX_LIMIT)
        best: dict[tuple[str, str], StoredPoint] = {}
        for p in pts:  # after a torn write on a cluster two heads can exist: newest wins
            at = (p.payload["owner"], p.payload["cube_id"])
            if at not in best or p.payload["version"] > best[at].payload["version"]:
                best[at] = p
        if with_vectors and best:
            return self.driver.retrieve(CUBES, [p.id for p in best.values()], with_vectors=True)
        return list(best.values())

    def _resolved(
        self,
        principal: Principal,
        cube_ids: Sequence[str],
        *,
        owner: str | None = None,
        strict: bool = True,
        with_vectors: bool = False,
    ) -> list[tuple[MemCube, StoredPoint]]:
        """The head each id names for ``principal``, for the ids that name a cube it may read.

        Cube ids are scoped per owner, so an id may name cubes of several owners. It names, in
        this order: ``owner``'s cube when given; the principal's own; the only one it may
        read. Several readable cubes of other owners and none its own is ambiguous:
        :class:`AmbiguousCubeError` when ``strict``, else the id is left out. Cubes the
        principal may not read never count, so the answer is the same whether they exist
        or not (no existence oracle)."""
        grants = self._grant_book.held_by(principal)
        readable: dict[str, list[tuple[MemCube, StoredPoint]]] = {}
        for p in self._heads(cube_ids, owner=owner, with_vectors=with_vectors):
            cube = cube_from_payload(p.payload)
            if can_read(principal, cube, grants):
                readable.setdefault(cube.id, []).append((cube, p))
        out = []
        for cube_id, found in readable.items():
            if len(found) > 1:
                found = [(c, p) for c, p in found if c.access.owner == principal.id]
            if len(found) == 1:
                out.append(found[0])
            elif strict:
                raise AmbiguousCubeError(
                    f"{principal.id} may read cubes {cube_id} of several owners: pass owner="
                )
        return out

    def _visible_head(
        self,
        principal: Principal,
        cube_id: str,
        *,
        owner: str | None = None,
        write: bool = False,
        include_expired: bool = False,
        with_vectors: bool = False,
        touched: list[str] | None = None,
    ) -> tuple[MemCube, StoredPoint]:
        if not isinstance(cube_id, str) or not cube_id:
            raise InvalidInputError("cube id must be a non-empty string")
        if owner is not None and (not isinstance(owner, str) or not owner):
            raise InvalidInputError("owner must be a non-empty string (a principal id)")
        if touched is not None:
            touched.append(cube_id)
        found = self._resolved(principal, [cube_id], owner=owner, with_vectors=with_vectors)
        if not found:  # none, or none the principal may read: the same answer
            raise CubeNotFoundError(f"no cube {cube_id}")
        cube, point = found[0]
        if not include_expired and cube.is_expired():
            raise CubeNotFoundError(f"cube {cube_id} has expired")
        if write and not can_write(principal, cube, self._grant_book.held_by(principal)):
            raise PermissionDeniedError(f"{principal.id} may read but not change cube {cube_id}")
        return cube, point

    def put_blob(self, principal: Principal | str, data: bytes) -> BlobRef:
        """Store ``data`` (safetensors bytes: a KV cache, an adapter) for cubes ``principal``
        will put, and return its reference. Blobs are shared by content, so a cube may name a
        blob only when its principal gave the bytes (here, in this process) or may read a cube
        that already names it: knowing a digest is not enough to read someone's blob."""
        principal = as_principal(principal)
        with self._audited(principal, "put_blob"):
            ref = self.blobs.put_bytes(data)
            self._held_blobs.setdefault(principal.id, set()).add(ref.sha256)
            return ref

    def _check_blobs(self, principal: Principal, cubes: Sequence[MemCube]) -> None:
        held = self._held_blobs.get(principal.id, set())
        wanted = {
            c.payload.blob.sha256
            for c in cubes
            if isinstance(c.payload, ActivationPayload | ParametricPayload)
        } - held
        if not wanted:
            return
        acl = read_filter(principal, self._grant_book.held_by(principal))
        for digest in sorted(wanted):
            if not self.driver.count(CUBES, filter=blob_users(digest, acl)):
                # the same answer whether the blob exists or not: no existence oracle
                raise BlobNotFoundError(
                    f"no blob {digest} that {principal.id} may use: store its bytes with "
                    "put_blob() first"
                )

    def _check_move(self, principal: Principal, head: MemCube, new: MemCube) -> None:
        if not can_move(principal, head, new, self._grant_book.held_by(principal)):
            raise PermissionDeniedError(
                f"{principal.id} may not move cube {head.id} to namespace "
                f"{'/'.join(new.namespace)}: no write grant covers it"
            )

    def _base_filter(self, principal: Principal, f: CubeFilter, *, heads: bool = True) -> Filter:
        must = f.conditions()
        if heads:
            must.append(HEAD)
        if not f.include_expired:
            must.extend(expiry_filter(utcnow())["must"])
        acl = read_filter(principal, self._grant_book.held_by(principal))
        if acl is not None:
            must.append(acl)
        return {"must": must}

    def _visible(
        self, principal: Principal, pts: Sequence[StoredPoint], f: CubeFilter
    ) -> list[tuple[MemCube, StoredPoint]]:
        # Defence in depth: re-check what the engine returned against the Python rules.
        grants = self._grant_book.held_by(principal)
        now = utcnow()
        out = []
        for p in pts:
            cube = cube_from_payload(p.payload)
            if can_read(principal, cube, grants) and (
                f.include_expired or not cube.is_expired(now)
            ):
                out.append((cube, p))
        return out

    def _commit_version(self, old: StoredPoint, new: MemCube, dense: list[float] | None) -> None:
        """Write ``new`` as head and mark ``old`` superseded, in one atomic upsert."""
        old_cube = cube_from_payload(old.payload).replace(superseded_by=new.version_id)
        old_point = self._point(old_cube, old.dense, head=False)
        self.driver.upsert(CUBES, [old_point, self._point(new, dense, head=True)])

    # -- writes ----------------------------------------------------------------------------

    def put(
        self,
        principal: Principal | str,
        cubes: MemCube | Sequence[MemCube],
        *,
        vectors: Sequence[Sequence[float]] | None = None,
        index: bool = True,
        deferred: bool = False,
        withdraw: Sequence[str] = (),
    ) -> list[MemCube]:
        """Store new cubes (version 1). The principal becomes the owner unless the cube names
        one (only admins may store cubes for others). ``vectors`` supplies precomputed dense
        vectors instead of embedding the texts; ``index=False`` stores the cubes without
        vectors (found by id, key and filters only; their versions stay unindexed).
        Returns the stored cubes.

        ``deferred=True`` (with ``index=False``, on an embedded vault; elsewhere it writes
        through) checks and acknowledges the put at once but writes the cubes to the engine
        later, with others, in one batch: they go to the vault's journal file (replayed when
        the vault is next opened, so a crash loses no acknowledged put) and into the engine
        at the next other vault call (which therefore sees them), after
        :data:`DEFER_BATCH` cubes, or on :meth:`flush` / :meth:`close`. Small unindexed puts
        in a stream (checkpoints) then cost a fraction of an engine write each.

        ``withdraw`` (with a deferred put) names deferred cubes of the principal, still
        waiting (see :meth:`waiting`), that the new cubes make redundant: once the new
        cubes are journaled, those leave the batch, and are never written to the engine nor
        audited on their own. Their journal records stay until the next flush, so a crash
        before it replays them as well: the caller must read such duplicates as one."""
        principal = as_principal(principal)
        batch = [cubes] if isinstance(cubes, MemCube | Mapping) else list(cubes)
        defer = deferred and not index and self.defers
        with self._audited(
            principal,
            "put",
            batch[0].namespace if batch and isinstance(batch[0], MemCube) else None,
            flush=not defer,
            record_ok=not defer,
        ) as touched:
            if not batch:
                return []
            if not all(isinstance(c, MemCube) for c in batch):
                raise InvalidCubeError("put() takes MemCube objects; build them with MemCube(...)")
            if len({c.id for c in batch}) != len(batch):
                raise InvalidCubeError("duplicate cube ids in one put()")
            now = utcnow()
            stored = [first_version(principal, c, now) for c in batch]
            self._check_blobs(principal, stored)
            dense = self._put_vectors(stored, vectors, index=index)
            with self._write_lock:
                self._check_new(stored, deferred=defer)
                if defer:
                    assert self._deferred is not None
                    if self._deferred.add(principal, stored, withdraw):  # acknowledged
                        # whatever the flush meets: what fails stays waiting, and the next
                        # call's flush raises it
                        with contextlib.suppress(Exception):
                            self.flush()
                else:
                    self.driver.upsert(
                        CUBES,
                        [self._point(c, d, True) for c, d in zip(stored, dense, strict=True)],
                    )
            touched.extend(c.id for c in stored)
            return stored

    def _put_vectors(
        self,
        cubes: Sequence[MemCube],
        vectors: Sequence[Sequence[float]] | None,
        *,
        index: bool,
    ) -> list[list[float] | None]:
        """The dense vector of each new cube: none unindexed, the given ones checked, else
        embedded."""
        if not index:
            if vectors is not None:
                raise InvalidInputError("vectors given for cubes stored with index=False")
            return [None] * len(cubes)
        if vectors is not None:
            if len(vectors) != len(cubes):
                raise InvalidInputError(f"{len(vectors)} vectors for {len(cubes)} cubes")
            return [check_vector(v, self.dims) for v in vectors]
        return list(self._embed([c.text for c in cubes]))

    @property
    def defers(self) -> bool:
        """Whether ``put(deferred=True)`` defers here (an embedded vault, with its journal)
        rather than writing through (a server, ``":memory:"``)."""
        return self._deferred is not None

    def waiting(self, principal: Principal | str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are the principal's deferred puts still waiting for the engine
        (see ``put(deferred=True)``). Not audited: it reads only what the principal wrote."""
        principal = as_principal(principal)
        if self._deferred is None:
            return set()
        with self._write_lock:
            return self._deferred.waiting(principal, ids)

    def _check_new(self, cubes: Sequence[MemCube], *, deferred: bool = False) -> None:
        """Raise :class:`ConflictError` if any of ``cubes`` exists, deferred or stored (under
        the write lock: a deferred cube counts as stored), as its owner's: the storage id of
        version 1 names the owner, so another owner's cube with the same id never conflicts.
        The engine is asked only about ids the :class:`~memos_lc.vault.deferred.IdFilter` may
        have seen, once a deferred put built it (a deferred put runs on a checkpointer's
        background thread, where an engine call is dear)."""
        ids = [c.version_id for c in cubes]  # version 1: a cube that exists has it
        deferred_puts = self._deferred
        if deferred_puts is not None:
            for c, point_id in zip(cubes, ids, strict=True):
                if point_id in deferred_puts:
                    raise ConflictError(f"cube {c.id} already exists; use update()")
            if deferred and deferred_puts.id_filter is None and self.driver.capabilities.lists_ids:
                stored = self.driver.count(CUBES, filter=None)
                point_ids = functools.partial(self.driver.point_ids, CUBES)
                deferred_puts.build_id_filter(stored, point_ids)
            ids = deferred_puts.may_be_stored(ids)
        existing = self.driver.retrieve(CUBES, ids) if ids else []
        if existing:
            raise ConflictError(
                f"cube {existing[0].payload['cube_id']} already exists; use update()"
            )

    def add(
        self,
        principal: Principal | str,
        text: str,
        *,
        namespace: Sequence[str],
        **header: Any,
    ) -> MemCube:
        """Store one plaintext memory; ``header`` sets any other MemCube field."""
        principal = as_principal(principal)
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a string, got {type(text).__name__}")
        cube = MemCube.from_text(text, namespace=namespace, **header)
        return self.put(principal, cube)[0]

    def put_history(
        self, principal: Principal | str, versions: Sequence[MemCube], *, index: bool = True
    ) -> list[MemCube]:
        """Store new cubes together with their version history (e.g. imported from a bundle).

        ``versions`` holds, for each cube id, versions ``1..n`` (in any order). The vault links
        them (``replaces`` / ``superseded_by``), makes version ``n`` the head and writes every
        version in one upsert. Owner, timestamp and ``index`` rules are those of :meth:`put`;
        an id its owner already holds raises :class:`ConflictError`. Returns the stored
        versions, oldest first per cube."""
        principal = as_principal(principal)
        batch = list(versions)
        first = batch[0].namespace if batch and isinstance(batch[0], MemCube) else None
        with self._audited(principal, "put_history", first) as touched:
            if not all(isinstance(c, MemCube) for c in batch):
                raise InvalidCubeError("put_history() takes MemCube objects")
            stored = linked_history(principal, batch, utcnow())
            chains = dict.fromkeys((c.access.owner, c.id) for c in stored)  # ids are per owner
            self._check_blobs(principal, stored)
            vectors: dict[str, list[float]] = {}
            if index:
                texts = sorted({c.text for c in stored})
                vectors = dict(zip(texts, self._embed(texts), strict=True))
            with self._write_lock:
                self._check_new(stored)
                for owner in {o for o, _ in chains}:
                    ids = [cid for o, cid in chains if o == owner]
                    if heads := self._heads(ids, owner=owner):
                        raise ConflictError(
                            f"cube {heads[0].payload['cube_id']} already exists; use update()"
                        )
                points = [
                    self._point(c, vectors.get(c.text), c.superseded_by is None) for c in stored
                ]
                if points:
                    self.driver.upsert(CUBES, points)
            touched.extend(dict.fromkeys(cid for _, cid in chains))
            return stored

    def update(
        self,
        principal: Principal | str,
        cube_id: str,
        *,
        text: str | None = None,
        expected_version: int | None = None,
        vector: Sequence[float] | None = None,
        index: bool | None = None,
        owner: str | None = None,
        **changes: Any,
    ) -> MemCube:
        """Write a new version of a cube with ``changes`` (and/or new ``text``).

        The previous version is kept, marked superseded. ``expected_version`` makes the update
        conditional: :class:`ConflictError` if the head moved on. Only the owner or an admin
        may change ``access``, and nobody its owner: the owner is part of the cube's identity.
        ``vector`` supplies the new version's dense vector (no embedding); ``index=False``
        stores the new version unindexed, ``index=True`` indexes it even when the previous one
        was not; ``None`` keeps the previous version's choice. ``owner`` says whose cube
        ``cube_id`` names when the principal may read several (see :meth:`get`).
        """
        principal = as_principal(principal)
        with self._audited(principal, "update") as touched:
            if vector is not None:
                if index is False:
                    raise InvalidInputError("vector given for a version stored with index=False")
                vector = check_vector(vector, self.dims)
            bad = set(changes) - _UPDATABLE
            if bad:
                raise InvalidInputError(
                    f"cannot update {sorted(bad)}; updatable: {sorted(_UPDATABLE)}"
                )
            if text is not None:
                if "payload" in changes:
                    raise InvalidInputError("pass text or payload, not both")
                changes["payload"] = {"kind": "plaintext", "text": text}
            with self._write_lock:
                head, point = self._visible_head(
                    principal, cube_id, owner=owner, touched=touched, write=True, with_vectors=True
                )
                if expected_version is not None and head.version != expected_version:
                    raise ConflictError(
                        f"cube {cube_id} is at version {head.version}, expected {expected_version}"
                    )
                if "access" in changes and not (
                    principal.is_admin or head.access.owner == principal.id
                ):
                    raise PermissionDeniedError("only the owner or an admin may change access")
                if "access" in changes:
                    changes["access"] = with_owner(changes["access"], head.access.owner)
                new = head.next_version(**changes)
                if new.access.owner != head.access.owner:
                    # its storage ids derive from the owner: a new owner is a new cube
                    raise InvalidInputError(
                        "a cube's owner cannot change; store a copy under the new owner"
                    )
                self._check_move(principal, head, new)
                if "payload" in changes:
                    self._check_blobs(principal, [new])
                dense: list[float] | None
                if index is False:
                    dense = None
                elif vector is not None:
                    dense = list(vector)
                elif index and point.payload.get("indexed") == "n":
                    dense = self._embed([new.text])[0]
                else:
                    dense = self._successor_dense(point, new)
                self._commit_version(point, new, dense)
                return new

    def delete(
        self,
        principal: Principal | str,
        cube_id: str,
        *,
        reason: str | None = None,
        owner: str | None = None,
    ) -> MemCube:
        """Soft-delete: a tombstone version with status ``deleted`` (history and rollback keep
        working; search and list skip it). ``owner`` as for :meth:`get`."""
        principal = as_principal(principal)
        with self._audited(principal, "delete") as touched, self._write_lock:
            head, point = self._visible_head(
                principal,
                cube_id,
                owner=owner,
                touched=touched,
                write=True,
                include_expired=True,
                with_vectors=True,
            )
            if head.status is LifecycleStatus.DELETED:
                return head  # already a tombstone: deleting again changes nothing
            prov = (
                head.provenance.model_copy(update={"note": reason}) if reason else head.provenance
            )
            new = head.next_version(status=LifecycleStatus.DELETED, provenance=prov)
            self._commit_version(point, new, self._successor_dense(point, new))
            return new

    def rollback(
        self,
        principal: Principal | str,
        cube_id: str,
        version: int,
        *,
        owner: str | None = None,
    ) -> MemCube:
        """Restore the content of ``version`` as a new head version (history stays linear).
        ``owner`` as for :meth:`get`."""
        principal = as_principal(principal)
        with self._audited(principal, "rollback") as touched, self._write_lock:
            head, point = self._visible_head(
                principal,
                cube_id,
                owner=owner,
                touched=touched,
                write=True,
                include_expired=True,
                with_vectors=True,
            )
            if not isinstance(version, int) or version < 1:
                raise InvalidInputError("version must be a positive integer")
            old = self.driver.retrieve(CUBES, [head.id_of_version(version)], with_vectors=True)
            target = cube_from_payload(old[0].payload) if old else None
            if target is None or not can_read_version(
                principal, head, target, self._grant_book.held_by(principal)
            ):
                raise VersionNotFoundError(f"cube {cube_id} has no version {version}")
            restored = {f: getattr(target, f) for f in CONTENT_FIELDS}
            new = head.next_version(**restored)
            self._check_move(principal, head, new)
            self._commit_version(point, new, self._successor_dense(old[0], new))
            return new

    def purge(self, principal: Principal | str, cube_id: str, *, owner: str | None = None) -> int:
        """Hard-delete every version of a cube (and blobs no other cube uses). Returns the
        number of versions removed. Irreversible; the audit log keeps the fact. ``owner`` as
        for :meth:`get`."""
        principal = as_principal(principal)
        with self._audited(principal, "purge") as touched, self._write_lock:
            head, _ = self._visible_head(
                principal, cube_id, owner=owner, touched=touched, write=True, include_expired=True
            )
            removed, digests = delete_versions(self.driver, versions_of(head))
            delete_unused_blobs(self.driver, self.blobs, digests)
            return removed

    def record_use(self, principal: Principal | str, cube_ids: Sequence[str]) -> None:
        """Count a recall of each cube (hits, last_used_at) without making a new version. An
        id naming cubes of several owners the principal reads, none its own, is skipped."""
        principal = as_principal(principal)
        with self._audited(principal, "use") as touched, self._write_lock:
            now = utcnow()
            named = self._resolved(principal, list(cube_ids), strict=False)
            visible = self._visible(principal, [p for _, p in named], CubeFilter())
            for cube, point in visible:
                usage = Usage(hits=cube.usage.hits + 1, last_used_at=now)
                header = self._point(cube.model_copy(update={"usage": usage}), None, head=True)
                self.driver.set_payload(CUBES, [point.id], {"cube": header.payload["cube"]})
                touched.append(cube.id)

    def refresh_expiry(
        self, principal: Principal | str, expiries: dict[str, datetime]
    ) -> list[str]:
        """Set ``expires_at`` of each cube's head version in place, without a new version (a
        TTL refresh on read, like :meth:`record_use`). Cubes that are not active, have already
        expired or that the principal may not change are skipped, as is an id naming cubes of
        several owners the principal reads, none its own. Returns the ids changed."""
        principal = as_principal(principal)
        with self._audited(principal, "refresh_expiry") as touched:
            for when in expiries.values():
                if not isinstance(when, datetime) or when.tzinfo is None:
                    raise InvalidInputError("expiry times must be timezone-aware datetimes")
            with self._write_lock:
                now = utcnow()
                grants = self._grant_book.held_by(principal)
                points = []
                for cube, p in self._resolved(
                    principal, list(expiries), strict=False, with_vectors=True
                ):
                    if (
                        cube.status is not LifecycleStatus.ACTIVE
                        or cube.is_expired(now)
                        or not can_write(principal, cube, grants)
                    ):
                        continue
                    new = cube.replace(expires_at=expiries[cube.id])
                    dense = None if p.payload.get("indexed") == "n" else p.dense
                    points.append(self._point(new, dense, head=True))
                    touched.append(cube.id)
                self.driver.upsert(CUBES, points)
            return list(touched)

    def sweep_expired(
        self,
        now: datetime | None = None,
        *,
        principal: Principal | str | None = None,
        namespace: Sequence[str] | None = None,
        memory_types: Sequence[str] | None = None,
    ) -> list[str]:
        """Move every active cube whose ``expires_at`` has passed to status ``expired`` (as a
        new version). Returns the cube ids moved.

        Without ``principal`` the sweep covers every cube, by the system principal. With one,
        it covers only the cubes that principal owns (every owner's, for an admin), under
        ``namespace`` when given, so one user's consolidation never touches another's cubes.
        ``memory_types`` narrows it to cubes of those memory types (a store sweeps its own)."""
        actor = as_principal(principal) if principal is not None else Principal.system()
        with self._audited(actor, "sweep", namespace) as touched:
            when = now or utcnow()
            types = None
            if memory_types is not None:
                types = [] if isinstance(memory_types, str) else list(memory_types)
                if not types or not all(isinstance(t, str) for t in types):
                    raise InvalidInputError("memory_types must be a non-empty list of strings")
            flt = due_to_expire(
                when,
                namespace=validate_namespace(namespace) if namespace is not None else None,
                memory_types=types,
                # Owned cubes only: the owner may always change them, so every page scrolled
                # is moved out of the filter and the loop below ends.
                owner=None if actor.is_admin else actor.id,
            )
            with self._write_lock:
                while pts := self.driver.scroll(CUBES, filter=flt, limit=256):
                    full = self.driver.retrieve(CUBES, [p.id for p in pts], with_vectors=True)
                    for p in full:
                        cube = cube_from_payload(p.payload)
                        new = cube.next_version(
                            max(when, cube.updated_at), status=LifecycleStatus.EXPIRED
                        )
                        self._commit_version(p, new, self._successor_dense(p, new))
                        touched.append(cube.id)
            return list(touched)

    # -- reads -----------------------------------------------------------------------------

    def get(
        self,
        principal: Principal | str,
        cube_id: str,
        *,
        version: int | None = None,
        include_expired: bool = False,
        owner: str | None = None,
    ) -> MemCube:
        """The head version of a cube (or ``version``). Raises :class:`CubeNotFoundError` if it
        does not exist, has expired, or the principal may not read it.

        Cube ids are scoped per owner: two owners may each hold a cube with the same id, and a
        cube the principal may not read never shows, not even as a clash. ``cube_id`` names
        ``owner``'s cube when ``owner`` is given, else the principal's own, else the one cube
        with that id it may read; when it may read several and none is its own,
        :class:`AmbiguousCubeError` asks for ``owner``. The same holds for every call that
        takes a cube id."""
        principal = as_principal(principal)
        with self._audited(principal, "get") as touched:
            head, _ = self._visible_head(
                principal, cube_id, owner=owner, touched=touched, include_expired=include_expired
            )
            if version is None or version == head.version:
                return head
            pts = (
                self.driver.retrieve(CUBES, [head.id_of_version(version)])
                if isinstance(version, int) and version >= 1
                else []
            )
            old = cube_from_payload(pts[0].payload) if pts else None
            if old is None or not can_read_version(
                principal, head, old, self._grant_book.held_by(principal)
            ):
                raise VersionNotFoundError(f"cube {cube_id} has no version {version}")
            return old

    def history(
        self, principal: Principal | str, cube_id: str, *, owner: str | None = None
    ) -> list[MemCube]:
        """Every version of a cube the principal may read, oldest first (the head's owner
        and admins read all; others, the versions whose own header lets them read: see
        :func:`~memos_lc.governance.can_read_version`). ``owner`` as for :meth:`get`."""
        principal = as_principal(principal)
        with self._audited(principal, "history") as touched:
            head, _ = self._visible_head(
                principal, cube_id, owner=owner, touched=touched, include_expired=True
            )
            pts = self.driver.scroll(
                CUBES, filter=versions_of(head), limit=MAX_LIMIT, order_by="version"
            )
            grants = self._grant_book.held_by(principal)
            versions = [cube_from_payload(p.payload) for p in pts]
            return [v for v in versions if can_read_version(principal, head, v, grants)]

    def vectors(
        self, principal: Principal | str, cube_ids: Sequence[str]
    ) -> dict[str, list[float]]:
        """The stored dense vector of each cube's head version, by cube id: compare memories
        without embedding them again. Ids that do not exist, have expired, that the principal
        may not read or whose head is stored unindexed are left out, and so is an id naming
        cubes of several owners the principal reads, none its own."""
        principal = as_principal(principal)
        with self._audited(principal, "vectors") as touched:
            ids = list(dict.fromkeys(cube_ids))
            if not all(isinstance(i, str) and i for i in ids):
                raise InvalidInputError("cube ids must be non-empty strings")
            now = utcnow()
            out: dict[str, list[float]] = {}
            for start in range(0, len(ids), 256):
                part = ids[start : start + 256]
                for cube, p in self._resolved(principal, part, strict=False, with_vectors=True):
                    if p.dense is not None and not cube.is_expired(now):
                        out[cube.id] = list(p.dense)
            touched.extend(out)
            return out

    def search(
        self,
        principal: Principal | str,
        query: str,
        *,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        query_vector: Sequence[float] | None = None,
        mode: str = "hybrid",
        explain: bool = False,
    ) -> list[ScoredCube]:
        """Cubes relevant to ``query``, best first: dense + BM25 fused by RRF in Qdrant.

        ``mode`` is ``"hybrid"`` (default), ``"dense"`` or ``"lexical"``. ``query_vector``
        skips embedding the query. ``explain`` adds each hit's dense and lexical rank and the
        query terms it matched.
        """
        principal = as_principal(principal)
        with self._audited(principal, "search", namespace) as touched:
            f = as_cube_filter(filter, namespace)
            check_query(query, mode)
            check_limit(limit, offset)
            flt = self._base_filter(principal, f)
            dense = None
            if mode != "lexical":
                dense = (
                    check_vector(query_vector, self.dims)
                    if query_vector is not None
                    else check_vector(self.embeddings.embed_query(query), self.dims)
                )
            sparse = self.lexical.encode_query(query) if mode != "dense" else None
            pts = self.driver.query(
                CUBES, dense=dense, sparse=sparse, filter=flt, limit=limit, offset=offset
            )
            hits = self._visible(principal, pts, f)
            out = (
                explained(
                    self.driver,
                    self.lexical,
                    query,
                    hits,
                    flt=flt,
                    dense=dense,
                    sparse=sparse,
                    depth=max(EXPLAIN_DEPTH, limit + offset),
                )
                if explain and hits
                else scored(hits)
            )
            touched.extend(h.cube.id for h in out)
            return out

    def list(
        self,
        principal: Principal | str,
        *,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | Mapping[str, Any] | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[MemCube]:
        """Head versions matching the filter, ordered by ``updated_at``."""
        principal = as_principal(principal)
        with self._audited(principal, "list", namespace) as touched:
            f = as_cube_filter(filter, namespace)
            check_limit(limit, offset)
            pts = self.driver.scroll(
                CUBES,
                filter=self._base_filter(principal, f),
                limit=offset + limit,
                order_by="updated_ts",
                descending=newest_first,
            )[offset:]
            cubes = [c for c, _ in self._visible(principal, pts, f)]
            touched.extend(c.id for c in cubes)
            return cubes

    def count(
        self,
        principal: Principal | str,
        *,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | Mapping[str, Any] | None = None,
    ) -> int:
        """How many head versions match the filter (and the principal may read)."""
        principal = as_principal(principal)
        with self._audited(principal, "count", namespace):
            return self.driver.count(
                CUBES, filter=self._base_filter(principal, as_cube_filter(filter, namespace))
            )

    # -- batch helpers (one engine round trip, one audit event) ----------------------------

    def find(
        self,
        principal: Principal | str,
        *,
        cube_ids: Sequence[str] | None = None,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | Mapping[str, Any] | None = None,
        limit: int = 100,
        order_by: str | None = "updated",
        newest_first: bool = True,
    ) -> list[MemCube]:
        """Head versions matching the filter in one engine query, ordered by ``"created"`` or
        ``"updated"`` time, or in no particular order with ``order_by=None`` (cheaper: the
        engine answers from the filter's most selective index; an ordered query walks the time
        index, slow on the embedded engine right after writes). With ``cube_ids`` it is a batch
        :meth:`get`: ids that do not exist, do not match or that the principal may not read
        are skipped, never an error (the checkpointer's cubes are not left out: ids name
        what they want). Ids are scoped per owner, so an id the principal reads in several
        owners' cubes returns each of them (``owner`` in the filter picks one)."""
        principal = as_principal(principal)
        with self._audited(principal, "find", namespace) as touched:
            f = as_cube_filter(filter, namespace)
            if cube_ids is not None:  # ids name their cubes, as for get(): none is left out
                f = f.model_copy(update={"include_internal": True})
            check_limit(limit)
            if order_by not in ("created", "updated", None):
                raise InvalidInputError("order_by must be 'created', 'updated' or None")
            flt = self._base_filter(principal, f)
            if cube_ids is not None:
                ids = list(cube_ids)
                if not all(isinstance(i, str) and i for i in ids):
                    raise InvalidInputError("cube ids must be non-empty strings")
                if not ids:
                    return []
                flt["must"].append(match_any("cube_id", ids))
            pts = self.driver.scroll(
                CUBES,
                filter=flt,
                limit=limit,
                order_by=f"{order_by}_ts" if order_by else None,
                descending=newest_first,
            )
            cubes = [c for c, _ in self._visible(principal, pts, f)]
            touched.extend(c.id for c in cubes)
            return cubes

    def purge_many(self, principal: Principal | str, cube_ids: Sequence[str]) -> int:
        """Hard-delete every version of several cubes (and blobs no other cube uses) in one
        call. Ids that do not exist or that the principal may not read are skipped; if it may
        read but not change one of them, :class:`PermissionDeniedError` is raised, and if an
        id names cubes of several owners it reads, none its own, :class:`AmbiguousCubeError`
        (see :meth:`get`): either way nothing is deleted. Returns the number of versions
        removed."""
        principal = as_principal(principal)
        with self._audited(principal, "purge") as touched, self._write_lock:
            ids = list(dict.fromkeys(cube_ids))
            if not all(isinstance(i, str) and i for i in ids):
                raise InvalidInputError("cube ids must be non-empty strings")
            grants = self._grant_book.held_by(principal)
            found: dict[str, MemCube] = {}
            for start in range(0, len(ids), 256):
                for cube, _ in self._resolved(principal, ids[start : start + 256]):
                    if not can_write(principal, cube, grants):
                        raise PermissionDeniedError(
                            f"{principal.id} may read but not purge cube {cube.id}"
                        )
                    found[cube.id] = cube
            doomed: dict[str, list[str]] = {}  # ids by owner, in the order asked
            for i in ids:
                if i in found:
                    doomed.setdefault(found[i].access.owner or "", []).append(i)
            removed = 0
            digests: set[str] = set()
            for owner, owned in doomed.items():
                for start in range(0, len(owned), 256):
                    n, named = delete_versions(
                        self.driver, owned_ids(owner, owned[start : start + 256])
                    )
                    removed += n
                    digests |= named
            delete_unused_blobs(self.driver, self.blobs, digests)
            touched.extend(i for i in ids if i in found)
            return removed

    # -- async twins -----------------------------------------------------------------------
    # The engines are synchronous (Qdrant Edge is in-process); the async API runs each call
    # in the default executor so an event loop is never blocked.

    aput = async_twin(put)
    aput_blob = async_twin(put_blob)
    aput_history = async_twin(put_history)
    aadd = async_twin(add)
    aupdate = async_twin(update)
    adelete = async_twin(delete)
    arollback = async_twin(rollback)
    apurge = async_twin(purge)
    arecord_use = async_twin(record_use)
    arefresh_expiry = async_twin(refresh_expiry)
    asweep_expired = async_twin(sweep_expired)
    aget = async_twin(get)
    ahistory = async_twin(history)
    avectors = async_twin(vectors)
    asearch = async_twin(search)
    alist = async_twin(list)
    acount = async_twin(count)
    agrant = async_twin(grant)
    agrants = async_twin(grants)
    arevoke = async_twin(revoke)
    aaudit_log = async_twin(audit_log)
    aclose = async_twin(close)
    aflush = async_twin(flush)
    awaiting = async_twin(waiting)
    aoptimize = async_twin(optimize)
    afind = async_twin(find)
    apurge_many = async_twin(purge_many)
