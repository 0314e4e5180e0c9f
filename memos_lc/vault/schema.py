"""How the vault stores cubes, audit events and grants: the points' fields, their indexes,
and every filter over them, in one place (pure: no I/O).

A cube version is one point of the ``cubes`` collection: the header as one JSON string
(``cube``) next to flat, indexed copies of the fields filters use (``owner``, ``ns`` and
``ns_prefixes``, ``head``, ``status``, ``expires_ts``...). Filters are Qdrant's JSON shape,
which both drivers translate. The rest of the library asks this module (:class:`CubeFilter`,
:func:`read_filter`...) instead of naming stored fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from memos_lc.cube import (
    CHECKPOINT_NAMESPACE,
    ActivationPayload,
    LifecycleStatus,
    MemCube,
    MemoryKind,
    MemoryType,
    ParametricPayload,
    validate_namespace,
)
from memos_lc.errors import InvalidCubeError, InvalidInputError
from memos_lc.governance import (
    AuditEvent,
    Grant,
    Principal,
    namespace_key,
    namespace_prefixes,
)
from memos_lc.vault.drivers import Filter, SparseVec, StoredPoint

CUBES = "cubes"
AUDIT = "audit"
GRANTS = "grants"
NO_EXPIRY_TS = 253402300799.0  # 9999-12-31T23:59:59Z: "never" as a sortable float

CUBE_INDEXES = {
    "owner": "tenant",
    "cube_id": "keyword",
    "head": "keyword",
    "ns": "keyword",
    "ns_prefixes": "keyword",
    "key": "keyword",
    "kind": "keyword",
    "memory_type": "keyword",
    "status": "keyword",
    "acl_read": "keyword",
    "tags": "keyword",
    "role": "keyword",
    "indexed": "keyword",
    "blob": "keyword",
    "created_ts": "float",
    "updated_ts": "float",
    "expires_ts": "float",
    "priority": "float",
    "version": "integer",
}
AUDIT_INDEXES = {
    "principal": "keyword",
    "action": "keyword",
    "outcome": "keyword",
    "cube_ids": "keyword",
    "ts": "float",
}
GRANT_INDEXES = {"grantee": "keyword", "grantor": "keyword"}


# -- cubes -----------------------------------------------------------------------------------


def cube_point(
    cube: MemCube, dense: list[float] | None, sparse: SparseVec | None, *, head: bool
) -> StoredPoint:
    """The stored form of one version (``head``: the latest); ``dense=None`` stores it
    unindexed (no vectors: found by id, key and filters, never by similarity)."""
    acc = cube.access
    data = getattr(cube.payload, "data", None)
    try:
        # One JSON string crosses the engine binding far faster than a nested dict. The
        # structured ``data`` is in it too, exactly as written: the nested copy, there so
        # filters can reach its fields, goes through the engine's own JSON parsing, which
        # may move a float by one ULP (2.0117028875153223e+152 came back ...225e+152).
        header = cube.model_dump_json()
    except ValueError as e:  # e.g. a lone surrogate in a field no validator covers
        raise InvalidCubeError(f"cube {cube.id} cannot be stored as JSON: {e}") from None
    payload: dict[str, Any] = {
        "cube": header,
        "cube_id": cube.id,
        "version": cube.version,
        "head": "y" if head else "n",
        "ns": namespace_key(cube.namespace),
        "ns_prefixes": namespace_prefixes(cube.namespace),
        "kind": cube.kind.value,
        "memory_type": cube.memory_type,
        "status": cube.status.value,
        "owner": acc.owner,
        "tags": list(cube.tags),
        "created_ts": cube.created_at.timestamp(),
        "updated_ts": cube.updated_at.timestamp(),
        "expires_ts": cube.expires_at.timestamp() if cube.expires_at else NO_EXPIRY_TS,
        "priority": cube.priority,
        "indexed": "n" if dense is None else "y",
    }
    if acl_read := sorted({*acc.readers, *acc.writers}):  # an empty list matches nothing
        payload["acl_read"] = acl_read  # either, and costs the engine binding a conversion
    if data is not None and cube.memory_type != MemoryType.CHECKPOINT:
        # a checkpoint's data is the saver's envelope (memos_lc.checkpoint.codec), found by
        # tags and never filtered on: its copy would only double what the engine stores
        payload["data"] = data
    if cube.key is not None:
        payload["key"] = cube.key
    if cube.bookkeeping is not None:
        payload["role"] = cube.bookkeeping.role
    if isinstance(cube.payload, ActivationPayload | ParametricPayload):
        payload["blob"] = cube.payload.blob.sha256
    return StoredPoint(
        id=cube.version_id,
        payload=payload,
        dense=dense,
        sparse=None if dense is None else sparse,
    )


def cube_from_payload(payload: dict[str, Any]) -> MemCube:
    """The MemCube stored in a vault point's payload (its header JSON)."""
    return MemCube.from_json(payload["cube"], stored=True)


def audit_payload(event: AuditEvent) -> dict[str, Any]:
    """The stored form of an audit event: the event as one JSON string next to the fields
    :meth:`MemVault.audit_log` filters by. The engine binding converts each payload value
    on its own, and a string far faster than a list, so fewer values make every call cheaper."""
    fields: dict[str, Any] = {
        "principal": event.principal,
        "action": event.action,
        "outcome": event.outcome,
        "cube_ids": list(event.cube_ids),
    }
    try:
        doc = event.model_dump_json()
    except ValueError:  # hostile input (a lone surrogate in an id, label or message)
        full = event.model_dump(mode="json")
        for name, value in full.items():  # is logged escaped
            if isinstance(value, str) and not encodable(value):
                full[name] = _escaped(value)
            elif isinstance(value, list) and not all(map(encodable, value)):
                full[name] = [_escaped(x) for x in value]
        doc = json.dumps(full)
        fields = {name: full[name] for name in fields}
    ids = fields.pop("cube_ids")
    payload = {"event": doc, **fields, "ts": event.at.timestamp()}
    if ids:  # a keyword condition matches a value or any element of an array
        payload["cube_ids"] = ids[0] if len(ids) == 1 else ids
    return payload


def audit_event_from_payload(payload: dict[str, Any]) -> AuditEvent:
    """The AuditEvent stored in an audit point's payload."""
    return AuditEvent.model_validate_json(payload["event"])


def versions_of(cube: MemCube) -> Filter:
    """Every stored version of ``cube``: its id, among its owner's cubes."""
    return {"must": [match("owner", cube.access.owner), match("cube_id", cube.id)]}


class CubeFilter(BaseModel):
    """Which cubes a search, list or count considers. Every field narrows the result.

    ``namespace`` matches that namespace and everything below it. ``statuses`` defaults to
    active cubes only; pass ``None`` for every status. Expired cubes are excluded unless
    ``include_expired``. The checkpointer's cubes (memory type ``"checkpoint"``) are
    bookkeeping, not memories: they are excluded unless the filter asks for them (see
    ``include_internal``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: tuple[str, ...] | None = None
    namespace_exact: bool = False
    """Match ``namespace`` itself only, not the namespaces below it."""
    kinds: tuple[MemoryKind, ...] | None = None
    memory_types: tuple[str, ...] | None = None
    exclude_memory_types: tuple[str, ...] | None = None
    """Cubes of none of these memory types (e.g. a search that leaves preferences to their
    own tier)."""
    statuses: tuple[LifecycleStatus, ...] | None = (LifecycleStatus.ACTIVE,)
    tags: tuple[str, ...] | None = None
    """Cubes carrying any of these tags."""
    roles: tuple[str, ...] | None = None
    """Cubes whose :attr:`~memos_lc.cube.MemCube.bookkeeping` role is any of these."""
    indexed: bool | None = None
    """Cubes stored with (``True``) or without (``False``) vectors."""
    owner: str | None = None
    key: str | None = None
    keys: tuple[str, ...] | None = None
    """Cubes whose key is any of these (a batch lookup by key)."""
    keys_or_ids: tuple[str, ...] | None = None
    """Cubes whose key or id is any of these (a store's lookup of items, which are keyed by
    their cube's key, or its id when it has none)."""
    data: tuple[tuple[str, str], ...] | None = None
    """Plaintext cubes whose structured ``payload.data`` holds each string value at its dotted
    path of ASCII identifiers, e.g. ``(("type", "note"), ("meta.lang", "en"))``. Qdrant also matches
    an array holding the value."""
    created_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    updated_after: AwareDatetime | None = None
    updated_before: AwareDatetime | None = None
    include_expired: bool = False
    include_internal: bool = False
    """Match the checkpointer's cubes (memory type ``"checkpoint"``) too. Without it they
    are matched only when ``memory_types`` names their type or ``namespace`` lies in or above
    their space ``("langgraph", "checkpoints")``."""

    def _leaves_out_checkpoints(self) -> bool:
        if self.include_internal or self.memory_types is not None:
            return False  # asked for, or ``memory_types`` already says which types match
        ns, space = self.namespace, CHECKPOINT_NAMESPACE
        return ns is None or (ns[: len(space)] != space and space[: len(ns)] != ns)

    def conditions(self) -> list[dict[str, Any]]:
        """This filter as Qdrant JSON conditions (all must hold)."""
        must: list[dict[str, Any]] = []
        if self.namespace is not None:
            ns = namespace_key(validate_namespace(self.namespace))
            must.append(match("ns" if self.namespace_exact else "ns_prefixes", ns))
        for field_name, values in (
            ("kind", self.kinds),
            ("memory_type", self.memory_types),
            ("status", self.statuses),
            ("tags", self.tags),
            ("role", self.roles),
        ):
            if values is not None:
                must.append(match_any(field_name, (str(v) for v in values)))
        excluded = [str(v) for v in self.exclude_memory_types or ()]
        if self._leaves_out_checkpoints():
            excluded.append(MemoryType.CHECKPOINT.value)
        if excluded:
            must.append({"must_not": [match_any("memory_type", excluded)]})
        if self.owner is not None:
            must.append(match("owner", self.owner))
        if self.indexed is not None:
            must.append(match("indexed", "y" if self.indexed else "n"))
        if self.key is not None:
            must.append(match("key", self.key))
        if self.keys is not None:
            must.append(match_any("key", self.keys))
        if self.keys_or_ids is not None:
            wanted = self.keys_or_ids
            must.append({"should": [match_any("key", wanted), match_any("cube_id", wanted)]})
        for path, value in self.data or ():
            if not all(part.isascii() and part.isidentifier() for part in path.split(".")):
                raise InvalidInputError(f"data path {path!r}: not dotted ASCII identifiers")
            must.append(match(f"data.{path}", value))
        must += time_range("created_ts", self.created_after, self.created_before)
        must += time_range("updated_ts", self.updated_after, self.updated_before)
        return must


def as_cube_filter(
    filter: CubeFilter | Mapping[str, Any] | None, namespace: Sequence[str] | None
) -> CubeFilter:
    """``filter`` (a :class:`CubeFilter`, its fields as a dict, or ``None``) narrowed to
    ``namespace``; :class:`InvalidInputError` for anything else."""
    if isinstance(filter, Mapping):
        try:
            filter = CubeFilter.model_validate(filter)
        except ValidationError as e:
            raise InvalidInputError(f"invalid filter: {e}") from None
    elif filter is not None and not isinstance(filter, CubeFilter):
        raise InvalidInputError(
            f"filter must be a CubeFilter or a dict of its fields, got {type(filter).__name__}"
        )
    f = filter or CubeFilter()
    if namespace is not None:
        try:
            f = f.model_copy(update={"namespace": validate_namespace(namespace)})
        except ValidationError as e:  # pragma: no cover - validate_namespace raises first
            raise InvalidInputError(str(e)) from None
    return f


# -- conditions ------------------------------------------------------------------------------


def match(field: str, value: Any) -> dict[str, Any]:
    """``field`` equals ``value`` (or, for an array field, holds it)."""
    return {"key": field, "match": {"value": value}}


def match_any(field: str, values: Iterable[Any]) -> dict[str, Any]:
    """``field`` equals any of ``values``."""
    return {"key": field, "match": {"any": list(values)}}


def in_range(field: str, **bounds: float) -> dict[str, Any]:
    """``field`` within ``bounds`` (``gt``, ``gte``, ``lt``, ``lte``)."""
    return {"key": field, "range": bounds}


def time_range(
    field: str, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """``field`` (a timestamp) at or after ``since`` and before ``until``: no condition when
    neither is given."""
    bounds = {}
    if since is not None:
        bounds["gte"] = since.timestamp()
    if until is not None:
        bounds["lt"] = until.timestamp()
    return [in_range(field, **bounds)] if bounds else []


HEAD = match("head", "y")
"""The latest version of each cube."""


def heads_of(cube_ids: Sequence[str], owner: str | None = None) -> Filter:
    """The head versions of the cubes with these ids (of ``owner`` only, when given)."""
    must = [match_any("cube_id", cube_ids), HEAD]
    if owner is not None:
        must.append(match("owner", owner))
    return {"must": must}


def owned_ids(owner: str, cube_ids: Sequence[str]) -> Filter:
    """Every version of ``owner``'s cubes with these ids."""
    return {"must": [match("owner", owner), match_any("cube_id", cube_ids)]}


def blob_users(digest: str, also: Filter | None = None) -> Filter:
    """The versions naming blob ``digest`` (that also match ``also``)."""
    return {"must": [match("blob", digest), *([also] if also is not None else [])]}


def read_filter(principal: Principal, grants: Iterable[Grant] = ()) -> Filter | None:
    """The payload filter matching exactly the cubes ``principal`` may read (the rules of
    :func:`memos_lc.governance.can_read`). ``None`` for admins (no restriction)."""
    if principal.is_admin:
        return None
    should: list[dict[str, Any]] = [
        match("owner", principal.id),
        match_any("acl_read", principal.identities()),
    ]
    for g in grants:
        cond = [match("ns_prefixes", namespace_key(g.namespace))]
        if not g.all_owners:
            cond.append(match("owner", g.grantor))
        should.append({"must": cond})
    return {"should": should}


def expiry_filter(now: datetime) -> Filter:
    """Matches cubes that have not expired at ``now`` (``expires_ts`` is +inf when unset)."""
    return {"must": [in_range("expires_ts", gt=now.timestamp())]}


def due_to_expire(
    when: datetime,
    *,
    namespace: Sequence[str] | None = None,
    memory_types: Sequence[str] | None = None,
    owner: str | None = None,
) -> Filter:
    """Active head versions whose expiry has passed at ``when``."""
    must = [
        HEAD,
        match("status", LifecycleStatus.ACTIVE.value),
        in_range("expires_ts", lte=when.timestamp()),
    ]
    if namespace is not None:
        must.append(match("ns_prefixes", namespace_key(namespace)))
    if memory_types is not None:
        must.append(match_any("memory_type", memory_types))
    if owner is not None:
        must.append(match("owner", owner))
    return {"must": must}


# -- grants ----------------------------------------------------------------------------------


def grant_payload(grant: Grant) -> dict[str, Any]:
    """The stored form of a grant: the grant next to the fields its lookups filter by."""
    return {
        "grant": grant.model_dump(mode="json"),
        "grantee": grant.grantee,
        "grantor": grant.grantor,
    }


def grant_from_payload(payload: dict[str, Any]) -> Grant:
    return Grant.model_validate(payload["grant"])


def grants_to(principal: Principal) -> Filter:
    """The grants that give ``principal`` (or one of its roles) access."""
    return {"must": [match_any("grantee", principal.identities())]}


def grants_of(principal: Principal) -> Filter:
    """The grants issued by or to ``principal``."""
    return {
        "should": [match_any("grantee", principal.identities()), match("grantor", principal.id)]
    }


# -- audit events ----------------------------------------------------------------------------


def audit_filter(
    *,
    principal: str | None = None,
    action: str | None = None,
    cube_id: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Filter | None:
    """The audit events matching every given field; ``None`` when nothing is given."""
    must = [
        match(field, value)
        for field, value in (
            ("principal", principal),
            ("action", action),
            ("cube_ids", cube_id),
            ("outcome", outcome),
        )
        if value is not None
    ]
    must += time_range("ts", since, until)
    return {"must": must} if must else None


def encodable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
