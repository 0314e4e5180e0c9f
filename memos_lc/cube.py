"""MemCube: the unit of memory.

A MemCube is a header (identity, namespace, lifecycle, version, provenance, access control,
priority, expiry, usage) around exactly one payload:

* :class:`PlaintextPayload` - text (facts, preferences, episodes);
* :class:`ActivationPayload` - a precomputed KV cache, stored as a safetensors blob;
* :class:`ParametricPayload` - a LoRA adapter, stored as a safetensors blob.

Cubes are immutable values. A change is a *new version* of the same cube id
(:meth:`MemCube.next_version`); the vault keeps every version so history and rollback are
real. Headers serialize to JSON only.

Example:
    .. code-block:: python

        from memos_lc.cube import MemCube

        cube = MemCube.from_text("Alice prefers tea over coffee", namespace=("alice", "prefs"),
                                 memory_type="preference", tags=("drinks",))
        restored = MemCube.from_json(cube.to_json())
        assert restored == cube
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from memos_lc.errors import InvalidCubeError, InvalidInputError, InvalidNamespaceError

MAX_TEXT_CHARS = 64_000
"""Largest plaintext payload accepted, in characters (about 16k tokens)."""

MAX_DATA_BYTES = 4 * 1024 * 1024
"""Largest structured ``data`` value accepted, as JSON bytes."""

MAX_DATA_DEPTH = 64
"""Deepest nesting of objects and arrays accepted in ``data``. The engine's JSON parser stops
at 128 levels when it reads a point back, and a stored point wraps ``data`` a few levels
down: a deeper value would be accepted once and then make every read of it fail."""

MAX_TTL = timedelta(days=36_500)
"""Longest time to live accepted (a century): every ``expires_at`` stays a representable date."""

MAX_OFFSET = 2**53
"""Largest pagination offset accepted (the engine counts in 64 bits; JSON numbers in 53)."""

MAX_NAMESPACE_DEPTH = 16
MAX_LABEL_CHARS = 256
MAX_TAGS = 64
MAX_IDS = 1_000
NS_SEPARATOR = "\x1f"
"""Joins namespace labels in stored index fields; forbidden inside labels."""

_VERSION_NS = uuid.UUID("5b0c6f1e-6d1f-4a55-9a3e-2f0f3b1c7a10")
# control characters, and lone surrogates (not encodable as UTF-8, so not storable)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INT_RANGE = (-(2**63), 2**64 - 1)  # what a JSON engine (Qdrant) keeps exact
MEMORY_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""What a memory type may be: a lowercase identifier."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


CONTENT_FIELDS = (
    "namespace",
    "key",
    "memory_type",
    "status",
    "expires_at",
    "priority",
    "provenance",
    "tags",
    "bookkeeping",
    "confidence",
    "payload",
)
"""The header fields a version carries as its content: what a rollback restores and an
import replaces (identity, version links, access, timestamps and usage are the vault's)."""


def _check_sha256(v: str) -> str:
    if not _SHA256.match(v):
        raise ValueError("sha256 must be 64 lowercase hex characters")
    return v


Sha256 = Annotated[str, AfterValidator(_check_sha256)]
"""A lowercase hex sha256 digest."""


class MemoryKind(StrEnum):
    """Which payload a cube carries."""

    PLAINTEXT = "plaintext"
    ACTIVATION = "activation"
    PARAMETRIC = "parametric"


class MemoryType(StrEnum):
    """The memory types the library itself writes or treats specially.

    ``MemCube.memory_type`` is free-form: any lowercase identifier (``^[a-z][a-z0-9_]{0,63}$``,
    e.g. ``"recipe"``) is a valid type of your own, searched and filtered like these
    (``CubeFilter(memory_types=...)``); anything else is refused with
    :class:`~memos_lc.errors.InvalidCubeError`.
    """

    WORKING = "working"
    """Short-lived context for the task at hand; activation cubes (KV caches) default to it."""
    LONG_TERM = "long_term"
    """Lasting facts (the default; what :class:`~memos_lc.store.MemCubeStore` items are)."""
    USER = "user"
    """Facts about the user as a person (a profile); not written by the library."""
    PREFERENCE = "preference"
    """What a user states about themselves (likes, habits): the fast reader writes them and
    the scheduler recalls them as a tier of their own."""
    EPISODIC = "episodic"
    """What happened in a conversation: the reader's turn windows, chat history messages."""
    CHECKPOINT = "checkpoint"
    """LangGraph checkpoints (:class:`~memos_lc.checkpoint.MemCubeSaver`): bookkeeping, not
    memories. Consolidation skips them; a bundle imports them only when asked
    (``import_bundle(allow_checkpoints=True)``)."""


CHECKPOINT_NAMESPACE = ("langgraph", "checkpoints")
"""Namespace prefix of every cube :class:`~memos_lc.checkpoint.MemCubeSaver` writes (memory
type ``"checkpoint"``). A checkpoint is executable state to LangGraph: bundles import into
this space only when asked to (``import_bundle(allow_checkpoints=True)``)."""


class LifecycleStatus(StrEnum):
    """Where a cube is in its lifecycle. Only ``active`` cubes are recalled by default."""

    ACTIVE = "active"
    MERGED = "merged"
    ARCHIVED = "archived"
    EXPIRED = "expired"
    DELETED = "deleted"


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (every timestamp in a cube is aware)."""
    return datetime.now(UTC)


def validate_namespace(namespace: Any) -> tuple[str, ...]:
    """Return ``namespace`` as a tuple of labels, or raise :class:`InvalidNamespaceError`.

    A namespace is a non-empty sequence (at most 16) of non-empty strings without control
    characters, like LangGraph store namespaces: ``("users", "alice", "prefs")``.
    """
    if isinstance(namespace, str) or not isinstance(namespace, (tuple, list)):
        raise InvalidNamespaceError(
            f"namespace must be a tuple of strings, got {type(namespace).__name__}: {namespace!r}"
        )
    if not namespace:
        raise InvalidNamespaceError("namespace must have at least one label")
    if len(namespace) > MAX_NAMESPACE_DEPTH:
        raise InvalidNamespaceError(
            f"namespace has {len(namespace)} labels; at most {MAX_NAMESPACE_DEPTH} are allowed"
        )
    for label in namespace:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"namespace labels must be strings, got {type(label).__name__}: {label!r}"
            )
        if not label:
            raise InvalidNamespaceError(f"namespace labels must be non-empty: {namespace!r}")
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidNamespaceError(f"namespace label longer than {MAX_LABEL_CHARS} chars")
        if _CONTROL.search(label):
            raise InvalidNamespaceError(
                f"namespace label {label!r} contains a control character or a lone surrogate"
            )
    return tuple(namespace)


def check_ttl(value: Any, unit: str = "seconds") -> timedelta:
    """A time to live given as a ``timedelta`` or a number of ``unit`` (``"seconds"``,
    ``"minutes"``), as a ``timedelta``; :class:`InvalidInputError` unless it is positive,
    finite and at most :data:`MAX_TTL` (checked before any date arithmetic can overflow)."""
    if isinstance(value, timedelta):
        ttl = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        limit = MAX_TTL / timedelta(**{unit: 1})
        if not (math.isfinite(value) and 0 < value <= limit):
            raise InvalidInputError(f"ttl must be a positive number of {unit} up to {limit:g}")
        ttl = timedelta(**{unit: value})
    else:
        raise InvalidInputError(f"ttl must be a timedelta or a number of {unit}, got {value!r}")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidInputError(f"ttl must be positive and at most {MAX_TTL.days} days")
    return ttl


def check_data_limits(data: Any) -> None:
    """Raise ``ValueError`` if ``data`` nests deeper than :data:`MAX_DATA_DEPTH` or holds an
    integer a JSON engine cannot keep exactly. Iterative, so any depth gets this answer
    (never a ``RecursionError``), and run before anything recurses into ``data``."""
    stack = [(data, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, dict | list | tuple):
            if depth > MAX_DATA_DEPTH:
                raise ValueError(
                    f"data nests deeper than {MAX_DATA_DEPTH} levels of objects and arrays"
                )
            stack.extend((y, depth + 1) for y in (x.values() if isinstance(x, dict) else x))
        elif isinstance(x, int) and not _INT_RANGE[0] <= x <= _INT_RANGE[1]:
            raise ValueError(f"integer {x} does not fit in 64 bits; store it as a string")


def _check_token(value: str, what: str, max_len: int = MAX_LABEL_CHARS) -> str:
    if not value or len(value) > max_len or _CONTROL.search(value):
        raise ValueError(
            f"{what} must be 1-{max_len} chars without control characters or lone surrogates"
        )
    return value


def _unicode(v: Any) -> Any:
    """``v`` if every string in it encodes as UTF-8 (JSON, the engine): no lone surrogates.
    Fields checked by :func:`_check_token` or a pattern need not call this."""
    items = v.items() if isinstance(v, dict) else v if isinstance(v, tuple) else (v,)
    for x in items:
        for y in x if isinstance(x, tuple) else (x,):
            if isinstance(y, str) and not y.isascii() and _SURROGATE.search(y):
                raise ValueError("must be valid Unicode (it holds a lone surrogate)")
    return v


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class AccessControl(_Model):
    """Who may read and write a cube.

    Entries of ``readers``/``writers`` are principal ids or ``"role:<name>"``. The owner can
    always read and write; everyone else is denied unless listed here or granted the cube's
    namespace (see :mod:`memos_lc.governance`).
    """

    owner: str | None = None
    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()

    _owner = field_validator("owner")(_unicode)

    @field_validator("readers", "writers")
    @classmethod
    def _entries(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} entries")
        return tuple(_check_token(x, "ACL entry") for x in v)


class SourceRef(_Model):
    """One version of a cube another cube was built from: ``owner``'s cube ``id`` at
    ``version`` (cube ids are scoped per owner)."""

    id: str
    version: int = Field(ge=1)
    owner: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_token(v, "id", 1024)

    _owner = field_validator("owner")(_unicode)

    @classmethod
    def of(cls, cube: MemCube) -> SourceRef:
        """The reference to this version of ``cube``."""
        return cls(id=cube.id, version=cube.version, owner=cube.access.owner)


class Provenance(_Model):
    """Where a memory came from. ``source_ids`` carries external ids (e.g. LoCoMo turn ids)
    through every transformation; ``derived_from`` names the cubes a merged or compiled
    cube was made from, and ``derived_from_versions`` the exact version of each that a
    compiled (activation) or trained (parametric) cube was built from: once a source has a
    newer version, is deleted or expires, the derived cube is stale (the scheduler stops
    placing it and the next consolidation retires it; see
    :func:`memos_lc.lifecycle.stale_derived`)."""

    origin: str = "api"
    thread_id: str | None = None
    message_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    derived_from_versions: tuple[SourceRef, ...] = ()
    actor: str | None = None
    note: str | None = None

    @classmethod
    def built_from(cls, cubes: Sequence[MemCube], **fields: Any) -> Provenance:
        """The provenance of a cube built from ``cubes`` (these versions): their ids in
        ``derived_from``, their versions in ``derived_from_versions``; ``fields`` sets the
        rest (``origin``, ``actor``, ``note``...)."""
        refs = tuple(SourceRef.of(c) for c in cubes)
        return cls(derived_from=tuple(dict.fromkeys(r.id for r in refs)),
                   derived_from_versions=refs, **fields)  # fmt: skip

    @model_validator(mode="after")
    def _versions_named(self) -> Provenance:
        if len(self.derived_from_versions) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} derived_from_versions")
        if self.derived_from_versions and not {r.id for r in self.derived_from_versions} <= set(
            self.derived_from
        ):
            raise ValueError("every derived_from_versions id must be in derived_from")
        return self

    @field_validator("origin", "thread_id", "actor")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return None if v is None else _check_token(v, "provenance field", 1024)

    @field_validator("note")
    @classmethod
    def _note(cls, v: str | None) -> str | None:
        return None if v is None else _check_token(v, "provenance note", 4000)

    @field_validator("message_ids", "source_ids", "derived_from")
    @classmethod
    def _ids(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} ids")
        return tuple(_check_token(x, "id", 1024) for x in v)


class Usage(_Model):
    """How often and when a cube was recalled (maintained by the scheduler)."""

    hits: int = Field(default=0, ge=0)
    last_used_at: AwareDatetime | None = None


class BlobRef(_Model):
    """A content-addressed safetensors blob in the vault's blob store."""

    sha256: Sha256
    size: int = Field(ge=0)
    media_type: str = "application/vnd.safetensors"

    _media_type = field_validator("media_type")(_unicode)


class PlaintextPayload(_Model):
    """Text memory; ``data`` optionally carries a structured JSON value with it (a LangGraph
    store item's value, a checkpoint), while ``text`` is what search sees."""

    kind: Literal["plaintext"] = "plaintext"
    text: str
    data: dict[str, Any] | None = None

    @field_validator("data")
    @classmethod
    def _data(cls, v: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        # a header the vault stored had its data checked when the cube was made: reading it
        # back (MemCube.from_json(stored=True)) skips the walk, half of reading a checkpoint
        if v is None or (info.context or {}).get("stored"):
            return v
        check_data_limits(v)
        try:
            encoded = json.dumps(v, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as e:  # UnicodeEncodeError: a lone surrogate
            raise ValueError(f"data must be JSON-serializable (no NaN): {e}") from None
        if len(encoded) > MAX_DATA_BYTES:
            raise ValueError(f"data is {len(encoded)} bytes of JSON; at most {MAX_DATA_BYTES}")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be empty")
        if len(v) > MAX_TEXT_CHARS:
            raise ValueError(f"text is {len(v)} chars; at most {MAX_TEXT_CHARS} are allowed")
        if "\x00" in v:
            raise ValueError("text must not contain NUL characters")
        if not v.isascii() and _SURROGATE.search(v):
            raise ValueError("text must be valid Unicode (it holds a lone surrogate)")
        return v


class ActivationPayload(_Model):
    """A KV cache of a memory block, valid only for the model with ``model_fingerprint``.

    ``source_text`` is the block the cache was compiled from (what search sees) and
    ``prefix_token_ids_sha256`` lets the chat model verify a prompt starts with that prefix.
    """

    kind: Literal["activation"] = "activation"
    blob: BlobRef
    model_fingerprint: str
    prefix_tokens: int = Field(ge=1)
    prefix_token_ids_sha256: str
    source_text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)

    _strings = field_validator("model_fingerprint", "prefix_token_ids_sha256", "source_text")(
        _unicode
    )


class ParametricPayload(_Model):
    """A LoRA adapter distilled from plaintext cubes, for the model ``model_fingerprint``."""

    kind: Literal["parametric"] = "parametric"
    blob: BlobRef
    model_fingerprint: str
    base_model: str
    description: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    source_cube_ids: tuple[str, ...] = ()
    training: dict[str, float | int | str] = Field(default_factory=dict)

    _strings = field_validator(
        "model_fingerprint", "base_model", "description", "source_cube_ids", "training"
    )(_unicode)


Payload = Annotated[
    PlaintextPayload | ActivationPayload | ParametricPayload, Field(discriminator="kind")
]


class Bookkeeping(_Model):
    """What an integration records about its own cubes, typed and validated rather than
    parsed out of tag strings. The vault stores ``role`` flat and indexed
    (``CubeFilter(roles=...)``); memories written for people leave :attr:`MemCube.bookkeeping`
    ``None``.

    * :class:`~memos_lc.checkpoint.MemCubeSaver`: ``role`` is ``"checkpoint"``, ``"writes"``
      or ``"chunk"`` (its cubes' tags are lookup keys only);
    * :class:`~memos_lc.store.MemCubeStore`: ``role`` is ``"store_item"``, ``born`` when the
      item's namespace came into existence (the store's namespace order), ``ttl_minutes`` the
      item's time to live, refreshed when it is read.
    """

    role: str
    born: AwareDatetime | None = None
    ttl_minutes: float | None = Field(default=None, gt=0)

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if not MEMORY_TYPE_PATTERN.match(v):
            raise ValueError("role must be a lowercase identifier, e.g. 'checkpoint'")
        return v

    @field_validator("ttl_minutes")
    @classmethod
    def _ttl(cls, v: float | None) -> float | None:
        if v is not None:
            check_ttl(v, "minutes")
        return v


class MemCube(_Model):
    """A governed unit of memory: header plus one payload.

    ``id`` identifies the cube across versions among its owner's cubes: two owners may hold
    cubes with the same id (see :func:`version_id`). Each version is stored separately under
    :attr:`version_id`. ``replaces``/``superseded_by`` link versions; the head version has
    ``superseded_by is None``.
    """

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    namespace: tuple[str, ...]
    key: str | None = None
    memory_type: str = MemoryType.LONG_TERM
    """Free-form: one of :class:`MemoryType` or any lowercase identifier of your own."""
    status: LifecycleStatus = LifecycleStatus.ACTIVE
    version: int = Field(default=1, ge=1)
    replaces: str | None = None
    superseded_by: str | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    expires_at: AwareDatetime | None = None
    priority: float = Field(default=0.5, ge=0.0, le=1.0)
    access: AccessControl = Field(default_factory=AccessControl)
    provenance: Provenance = Field(default_factory=Provenance)
    tags: tuple[str, ...] = ()
    bookkeeping: Bookkeeping | None = None
    """Typed records of the integration that wrote the cube (see :class:`Bookkeeping`)."""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    usage: Usage = Field(default_factory=Usage)
    payload: Payload

    _links = field_validator("replaces", "superseded_by")(_unicode)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_token(v, "id", 128)

    @field_validator("namespace", mode="before")
    @classmethod
    def _namespace(cls, v: Any) -> tuple[str, ...]:
        try:
            return validate_namespace(v)
        except InvalidNamespaceError as e:
            raise ValueError(str(e)) from None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        return None if v is None else _check_token(v, "key", 1024)

    @field_validator("memory_type")
    @classmethod
    def _memory_type(cls, v: str) -> str:
        if not MEMORY_TYPE_PATTERN.match(str(v)):
            raise ValueError("memory_type must be a lowercase identifier, e.g. 'preference'")
        return str(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} tags")
        return tuple(_check_token(t, "tag", 128) for t in v)

    @field_validator("priority", "confidence")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be finite")
        return v

    @model_validator(mode="after")
    def _times(self) -> MemCube:
        if self.updated_at < self.created_at:
            raise ValueError("updated_at is before created_at")
        return self

    # -- derived -------------------------------------------------------------------------

    @property
    def kind(self) -> MemoryKind:
        """The payload kind."""
        return MemoryKind(self.payload.kind)

    @property
    def version_id(self) -> str:
        """Storage id of this version: a UUID derived from ``(owner, id, version)``."""
        return self.id_of_version(self.version)

    def id_of_version(self, version: int) -> str:
        """Storage id of version ``version`` of this cube. Raises :class:`InvalidCubeError`
        for a cube without an owner (the vault names one when it stores the cube)."""
        if self.access.owner is None:
            raise InvalidCubeError(f"cube {self.id} has no owner yet, so no storage id")
        return version_id(self.access.owner, self.id, version)

    @property
    def text(self) -> str:
        """The text this cube is found by: the plaintext, or what a blob was built from."""
        p = self.payload
        if isinstance(p, PlaintextPayload):
            return p.text
        if isinstance(p, ActivationPayload):
            return p.source_text
        return p.description

    def is_expired(self, now: datetime | None = None) -> bool:
        """True once ``expires_at`` has passed."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, namespace: tuple[str, ...] | list[str], **header: Any) -> MemCube:
        """Build a plaintext cube; ``header`` takes any other field."""
        return cls.model_validate(
            {"namespace": namespace, "payload": {"kind": "plaintext", "text": text}, **header}
        )

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> MemCube:  # type: ignore[override]
        """Validate like pydantic, raising :class:`InvalidCubeError` on bad input."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as e:
            raise InvalidCubeError(_describe(e)) from None

    def replace(self, **changes: Any) -> MemCube:
        """A validated copy with ``changes`` applied (same version)."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return MemCube.model_validate(data)

    def next_version(self, now: datetime | None = None, **changes: Any) -> MemCube:
        """The successor version of this cube with ``changes`` applied. It ``replaces`` this
        version's storage id; a cube without an owner has none yet, and gets its links when
        stored (``MemVault.put_history``)."""
        return self.replace(
            **{
                "updated_at": now or utcnow(),
                **changes,
                "version": self.version + 1,
                "replaces": self.version_id if self.access.owner is not None else None,
                "superseded_by": None,
            }
        )

    def to_json(self) -> str:
        """The cube as JSON (the only serialized form of a header)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes, *, stored: bool = False) -> MemCube:
        """Parse :meth:`to_json` output; raises :class:`InvalidCubeError` on bad input.

        ``stored=True`` is for a header the vault itself stored: its ``data`` was checked when
        the cube was made (depth, integer range, JSON size), so that walk is not run again;
        everything else is validated as always. Input from outside (a bundle, a file) is
        parsed with the default."""
        try:
            return super().model_validate_json(data, context={"stored": True} if stored else None)
        except ValidationError as e:
            raise InvalidCubeError(_describe(e)) from None


class ScoredCube(BaseModel):
    """A search hit: the cube, its fused score, and why it was found."""

    model_config = ConfigDict(frozen=True)

    cube: MemCube
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    matched_terms: tuple[str, ...] = ()


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID string (generated and derived cube ids are)."""
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def uuid5_str(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` in a third of the time (ids are derived on every
    write: a checkpointer's put derives several)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@functools.lru_cache(maxsize=4096)  # a write asks for the ids of its versions several times
def version_id(owner: str, cube_id: str, version: int) -> str:
    """Storage id of version ``version`` of ``owner``'s cube ``cube_id``.

    The owner is part of it, so a cube id is scoped per owner: whatever ids others hold, a put
    of a new id succeeds or fails alike, and nobody learns from it that another principal's
    cube has that id (#17 item 10). A cube id holds no control character, so the
    ``\x1f``-joined name, read from the right, is unambiguous."""
    return uuid5_str(_VERSION_NS, f"{owner}\x1f{cube_id}\x1f{version}")


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "cube"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid MemCube: " + "; ".join(parts)
