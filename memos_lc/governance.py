"""Access control, namespace grants, TTL and the audit record.

Access is deny-by-default across principals. A principal may read a cube when it

* owns it, or is listed in its ``access.readers`` / ``access.writers`` (by id or by
  ``"role:<name>"``), or
* holds a :class:`Grant` on a prefix of the cube's namespace issued by the cube's owner
  (or by an admin, which covers every owner), or
* has the ``admin`` role.

Writing follows the same rules with ``writers`` and ``write`` grants. The vault turns these
rules into a Qdrant payload filter (:func:`memos_lc.vault.schema.read_filter`) so search never
even scores a cube the caller may not read, and re-checks every returned cube in Python
(:func:`can_read`).

Example:
    .. code-block:: python

        from memos_lc.governance import Principal

        alice = Principal(id="alice")
        ops = Principal(id="ops", roles=frozenset({"admin"}))
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from memos_lc.cube import NS_SEPARATOR, MemCube, utcnow, validate_namespace
from memos_lc.errors import InvalidInputError, PermissionDeniedError, PrincipalRequiredError

ENV_PRINCIPAL = "MEMOS_LC_PRINCIPAL"
CONFIG_PRINCIPAL_KEYS = ("principal", "user_id", "langgraph_user_id", "langgraph_auth_user_id")
"""``config["configurable"]`` keys naming the acting principal, first match wins (LangMem
uses ``langgraph_user_id``; LangGraph Platform sets ``langgraph_auth_user_id``), except that
an authenticated identity always wins: see :func:`principal_from_configurable`."""
AUTH_PRINCIPAL_KEY = "langgraph_auth_user_id"
"""The key LangGraph Platform sets to the user its auth handler authenticated; the client
cannot set it."""
ADMIN_ROLE = "admin"
SYSTEM_PRINCIPAL_ID = "memos:system"
_PRINCIPAL_ID = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]{1,256}$")  # no lone surrogates


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"


class Principal(BaseModel):
    """Who is acting: an id and a set of roles. Passed to every vault call."""

    model_config = ConfigDict(frozen=True)

    id: str
    roles: frozenset[str] = frozenset()

    def __init__(self, id: str | None = None, /, **data: Any) -> None:
        """``Principal("alice")`` and ``Principal(id="alice")`` alike."""
        if id is not None:
            data["id"] = id
        super().__init__(**data)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _PRINCIPAL_ID.match(v) or v.startswith("role:"):
            raise ValueError("principal id must be 1-256 chars, no control chars, not 'role:*'")
        return v

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def identities(self) -> list[str]:
        """The ACL entries that name this principal: its id and ``role:<r>`` per role."""
        return [self.id, *(f"role:{r}" for r in sorted(self.roles))]

    @classmethod
    def system(cls) -> Principal:
        """The internal principal used by sweeps and consolidation (an admin)."""
        return cls(id=SYSTEM_PRINCIPAL_ID, roles=frozenset({ADMIN_ROLE}))


def default_principal() -> Principal | None:
    """The default principal the application configured: ``$MEMOS_LC_PRINCIPAL``, or
    ``None``. Library code never falls back to the OS user (two callers who forget a user id
    would share one memory pool); :func:`os_user_principal` is the CLI's default."""
    pid = os.environ.get(ENV_PRINCIPAL)
    return as_principal(pid) if pid else None


def os_user_principal() -> Principal:
    """``$MEMOS_LC_PRINCIPAL``, else the OS user name (``"local"`` where there is none): who
    runs a ``memos-lc`` command, or a local tool that is one user's on purpose."""
    if (configured := default_principal()) is not None:
        return configured
    try:
        pid = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no passwd entry, e.g. in some containers
        pid = "local"
    return as_principal(pid)


def require_principal(principal: Principal | None, where: str) -> Principal:
    """``principal``, or :class:`~memos_lc.errors.PrincipalRequiredError` saying how to name
    one when it is ``None``."""
    if principal is None:
        raise PrincipalRequiredError(
            f"{where}: no principal is named. Pass config['configurable']['user_id'] (or a "
            f"run context with user_id), principal= to the component, or set ${ENV_PRINCIPAL} "
            "for an application-wide default"
        )
    return principal


def as_principal(value: Any) -> Principal:
    """``value`` (a Principal or an id) as a Principal; :class:`InvalidInputError` otherwise.

    An id never carries roles: ids arrive from configs a client controls, so a role there
    would let a client make itself admin."""
    if isinstance(value, Principal):
        return value
    if isinstance(value, str):
        try:
            return Principal(id=value)
        except ValueError as e:
            raise InvalidInputError(f"invalid principal id {value!r}: {e}") from None
    raise InvalidInputError(
        f"principal must be a memos_lc.Principal or an id string, got {type(value).__name__}"
    )


OptionalPrincipal = Annotated[
    Principal | None, BeforeValidator(lambda v: None if v is None else as_principal(v))
]
"""A pydantic field holding a :class:`Principal`, given as one or as its id, or ``None``."""


def principal_from_configurable(conf: Mapping[str, Any]) -> tuple[str, Principal] | None:
    """The first of :data:`CONFIG_PRINCIPAL_KEYS` set in ``conf``, with its principal.

    When the platform authenticated a user (:data:`AUTH_PRINCIPAL_KEY`), that user acts,
    with no roles a client could have added; a client-set key naming anyone else raises
    :class:`~memos_lc.errors.PermissionDeniedError` rather than letting the client choose
    whose memories it reads."""
    claimed = [(k, conf[k]) for k in CONFIG_PRINCIPAL_KEYS if conf.get(k) not in (None, "")]
    if not claimed:
        return None
    auth = conf.get(AUTH_PRINCIPAL_KEY)
    if auth in (None, ""):
        key, value = claimed[0]
        return key, as_principal(value)
    authenticated = Principal(id=as_principal(auth).id)
    for key, value in claimed:
        _check_not_impersonating(authenticated, as_principal(value), f"config key {key!r}")
    return AUTH_PRINCIPAL_KEY, authenticated


def _check_not_impersonating(authenticated: Principal, claimed: Principal, where: str) -> None:
    if claimed.id != authenticated.id:
        raise PermissionDeniedError(
            f"the platform authenticated {authenticated.id!r}, but {where} names "
            f"{claimed.id!r}: an authenticated caller acts only as itself"
        )


def principal_in_run(
    config: Mapping[str, Any] | None = None, *, default: Principal | None = None
) -> Principal:
    """Who acts in the current LangGraph run or LangChain call.

    In order: a :data:`CONFIG_PRINCIPAL_KEYS` entry of ``config["configurable"]`` (``config``
    or, when ``None``, the running graph's config), then the runtime context's ``principal``
    / ``user_id`` (a mapping or an object), then ``default``, else :func:`default_principal`;
    :class:`~memos_lc.errors.PrincipalRequiredError` when none of them names anybody.
    """
    if config is None:
        from langgraph.config import get_config

        try:
            config = get_config()
        except RuntimeError:  # not inside a runnable
            config = {}
    conf = config.get("configurable") or {}
    found = principal_from_configurable(conf) if isinstance(conf, Mapping) else None
    from langgraph.runtime import get_runtime

    try:
        ctx = getattr(get_runtime(), "context", None)
    except (KeyError, RuntimeError):  # a runnable outside a graph has no runtime
        ctx = None
    in_context = None
    for name in ("principal", "user_id"):
        value = ctx.get(name) if isinstance(ctx, Mapping) else getattr(ctx, name, None)
        if value is not None:
            in_context = as_principal(value)
            break
    if found is not None:
        if found[0] == AUTH_PRINCIPAL_KEY and in_context is not None:
            # a run's context comes from the client too
            _check_not_impersonating(found[1], in_context, "the run's context")
        return found[1]
    if in_context is not None:
        return in_context
    return require_principal(default if default is not None else default_principal(), "run")


class Grant(BaseModel):
    """Shares a namespace subtree: ``grantee`` may ``permission`` the cubes that
    ``grantor`` owns under ``namespace`` (every owner's, when an admin granted it)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    grantor: str
    grantee: str
    """A principal id or ``"role:<name>"``."""
    namespace: tuple[str, ...]
    permission: Permission = Permission.READ
    all_owners: bool = False
    """True when an admin issued the grant: it covers cubes of every owner."""
    created_at: AwareDatetime = Field(default_factory=utcnow)

    @field_validator("grantee")
    @classmethod
    def _grantee(cls, v: str) -> str:
        name = v.removeprefix("role:")
        if not _PRINCIPAL_ID.match(name) or name.startswith("role:"):
            raise ValueError("grantee must be a principal id or 'role:<name>'")
        return v

    @field_validator("namespace", mode="before")
    @classmethod
    def _ns(cls, v: Any) -> tuple[str, ...]:
        return validate_namespace(v)

    def covers(self, cube: MemCube) -> bool:
        n = len(self.namespace)
        return cube.namespace[:n] == self.namespace and (
            self.all_owners or cube.access.owner == self.grantor
        )


def namespace_key(namespace: Sequence[str]) -> str:
    """The stored, indexable form of a namespace (labels joined by a reserved separator)."""
    return NS_SEPARATOR.join(namespace)


def namespace_prefixes(namespace: Sequence[str]) -> list[str]:
    """Every prefix of ``namespace`` as :func:`namespace_key` strings, shortest first."""
    return [namespace_key(namespace[: i + 1]) for i in range(len(namespace))]


def _names(principal: Principal, entries: Iterable[str]) -> bool:
    ids = set(principal.identities())
    return any(e in ids for e in entries)


def can_read(principal: Principal, cube: MemCube, grants: Iterable[Grant] = ()) -> bool:
    """Whether ``principal`` may read ``cube`` (write access implies read access)."""
    if principal.is_admin or cube.access.owner == principal.id:
        return True
    if _names(principal, cube.access.readers) or _names(principal, cube.access.writers):
        return True
    return any(g.covers(cube) for g in grants)


def can_read_version(
    principal: Principal, head: MemCube, version: MemCube, grants: Iterable[Grant] = ()
) -> bool:
    """Whether ``principal``, who may read the cube's ``head``, may read an older
    ``version`` of it: the head's owner and admins read every version; anyone else reads a
    version its own header (readers, writers, owner, namespace) lets them read, with today's
    grants. So a reader added at v2 does not see v1, which may be what v2 redacted (and one
    removed at v2 no longer reads the head, so reads none)."""
    if principal.is_admin or head.access.owner == principal.id:
        return True
    return can_read(principal, version, grants)


def can_write(principal: Principal, cube: MemCube, grants: Iterable[Grant] = ()) -> bool:
    """Whether ``principal`` may change ``cube``."""
    if principal.is_admin or cube.access.owner == principal.id:
        return True
    if _names(principal, cube.access.writers):
        return True
    return any(g.permission == Permission.WRITE and g.covers(cube) for g in grants)


def can_move(
    principal: Principal, head: MemCube, moved: MemCube, grants: Iterable[Grant] = ()
) -> bool:
    """Whether ``principal``, who may change ``head``, may write it as ``moved`` (another
    namespace, perhaps). The owner and admins may move a cube anywhere; anyone else only
    into a subtree a write grant gives them, so a grant never reaches past its subtree (and
    a cube-level writer cannot move a cube to where other readers see it)."""
    if moved.namespace == head.namespace or principal.is_admin:
        return True
    if head.access.owner == principal.id:
        return True
    return any(g.permission == Permission.WRITE and g.covers(moved) for g in grants)


AuditOutcome = Literal["ok", "denied", "not_found", "invalid", "error"]

# The channel a server names for the vault calls it makes on a client's behalf (a context
# variable: each request's calls carry their own, whatever thread runs them)
_AUDIT_CHANNEL: ContextVar[str | None] = ContextVar("memos_lc_audit_channel", default=None)


@contextlib.contextmanager
def audit_channel(channel: str) -> Iterator[None]:
    """Audit events made inside the block name ``channel`` (e.g. ``"mcp:http"``): how the
    call reached the vault, next to who made it. Servers set it around the vault calls they
    make for a client; direct calls leave it unset."""
    token = _AUDIT_CHANNEL.set(channel)
    try:
        yield
    finally:
        _AUDIT_CHANNEL.reset(token)


class AuditEvent(BaseModel):
    """One entry of the append-only audit log: who did what to which cubes, and how it went."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    at: AwareDatetime = Field(default_factory=utcnow)
    principal: str
    roles: tuple[str, ...] = ()
    action: str
    cube_ids: tuple[str, ...] = ()
    namespace: tuple[str, ...] | None = None
    outcome: AuditOutcome = "ok"
    detail: str | None = None
    channel: str | None = None
    """How the call reached the vault, when a server named it with :func:`audit_channel`
    (``"mcp:stdio"``, ``"mcp:http"``); ``None`` for direct calls."""

    def __init__(self, **data: Any) -> None:
        # taken when the event is made, not when a stored one is read back (model_validate
        # does not call __init__), so an old event never takes on the reader's channel
        if "channel" not in data and (channel := _AUDIT_CHANNEL.get()) is not None:
            data["channel"] = channel
        super().__init__(**data)
