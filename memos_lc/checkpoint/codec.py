"""The checkpointer's storage shape, pure (no vault, no I/O): what a checkpoint, its metadata
and its pending writes become in the cubes :class:`~memos_lc.checkpoint.MemCubeSaver` stores,
and back. As the Postgres saver's ``base.py`` does for its rows, these functions are the one
home of the format; the saver only moves the cubes (vault calls, caches, locking).

A stored record (an *envelope*) is a plain JSON object in the cube's ``payload.data``:

* a checkpoint: ``{"format", "thread", "ns", "id", "parent", "checkpoint", "metadata",
  "blobs", "refs"[, "carried_writes"]}``. ``checkpoint`` is the checkpoint without its channel
  values, ``blobs`` the values of the channel versions it introduced (``channel -> [version,
  type, data]``, as the Postgres saver's blobs table), ``refs`` says for every channel it holds
  which checkpoint stored its value (``channel -> [version, checkpoint id]``), and
  ``carried_writes`` the parent's pending writes that rode in this cube (``[[task, writes]]``).
* a task's pending writes: ``{"format", "thread", "ns", "id", "task", "writes"}``, each write
  ``[idx, channel, type, data, task path]``.

Values pass one codec, LangGraph's serde (``dumps_typed``; pickle refused both ways), and
their bytes are kept base64 in the envelope; the cube header (JSON) carries the envelope to the
engine. An envelope too big for one cube (:data:`CHUNK_CHARS`) is stored as its JSON text split
over *chunk cubes*, checked by a SHA-256 of the whole on reading.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic_core
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    Checkpoint,
    PendingWrite,
    SerializerProtocol,
    writes_sort_key,
)

from memos_lc.cube import (
    CHECKPOINT_NAMESPACE,
    AccessControl,
    Bookkeeping,
    MemCube,
    MemoryType,
    Provenance,
    uuid5_str,
)
from memos_lc.errors import InvalidInputError, VaultCorruptError

__all__ = [
    "checkpoint_metadata",
    "CheckpointKey",
    "Stored",
    "carried",
    "CHECKPOINT",
    "CHUNK",
    "CHUNK_CHARS",
    "FORMAT",
    "ROOT",
    "WRITES",
    "CheckpointConfigError",
    "blob_refs",
    "carried_writes",
    "checkpoint_envelope",
    "chunk_ids",
    "config_str",
    "cube_id",
    "cubes_for",
    "decode",
    "dump_value",
    "id_time",
    "kind_of",
    "load_value",
    "lookup_key",
    "merge_writes",
    "pending_writes",
    "tag",
    "thread_namespace",
    "writes_entries",
    "writes_envelope",
]

ROOT = CHECKPOINT_NAMESPACE
"""Namespace prefix of every cube the saver writes."""

CHECKPOINT, WRITES, CHUNK = "checkpoint", "writes", "chunk"
"""The kinds of cube the saver writes (their :class:`~memos_lc.cube.Bookkeeping` role)."""
FORMAT = 2
"""Envelope format; format 1 (a msgpack envelope in base64) was never released."""
CHUNK_CHARS = 3_000_000
"""Characters of envelope JSON per cube; the vault accepts at most 4 MB of JSON ``data``."""

_ID_NS = uuid.UUID("9f6f8e2a-3c1b-4e0f-8a51-7c2d5b1e0a44")
_CLEAN = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]+")  # no control chars, no lone surrogates
_UUID_EPOCH = 0x01B21DD213814000  # 1582-10-15 -> 1970-01-01 in 100 ns ticks
# What every cube of the saver shares; cubes_for copies it with the rest filled in.
_PROTOTYPE = MemCube.model_validate(
    {
        "namespace": ROOT,
        "memory_type": MemoryType.CHECKPOINT.value,
        "access": {"owner": "prototype"},
        "provenance": {"origin": "langgraph"},
        "payload": {"kind": "plaintext", "text": "checkpoint"},
    }
)


class CheckpointConfigError(InvalidInputError, KeyError):
    """The config lacks a key the call needs (``thread_id``, ``checkpoint_id``) or names an
    invalid principal. A ``KeyError`` like LangGraph's own savers raise, and a ``ValueError``."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


# -- names: namespaces, tags, keys, ids ---------------------------------------------------------


def _label(value: str, prefix: str = "") -> str:
    """A namespace label for ``value``: itself when short and clean, else a digest."""
    text = prefix + value
    if len(text) <= 200 and _CLEAN.fullmatch(text) and not text.startswith("#"):
        return text
    return "#" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def thread_namespace(thread_id: str, checkpoint_ns: str | None = None) -> tuple[str, ...]:
    """The namespace of a thread's cubes (of one of its checkpoint namespaces when given)."""
    base = (*ROOT, _label(thread_id))
    return base if checkpoint_ns is None else (*base, _label(checkpoint_ns, "ns="))


def tag(kind: str, value: str) -> str:
    """A lookup tag: ``c:<checkpoint id>`` (the checkpoint), ``w:<checkpoint id>`` (its
    pending writes), ``r:<run id>``; a digest when the value is long or not clean."""
    text = f"{kind}:{value}"
    if len(text) <= 128 and _CLEAN.fullmatch(text):
        return text
    return f"{kind}#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def lookup_key(value: str) -> str | None:
    """``value`` as a cube key when it can be one (short and clean), else ``None``."""
    return value if len(value) <= 1024 and _CLEAN.fullmatch(value) else None


def config_str(value: Any, what: str) -> str:
    """``value`` as the string the saver stores, or :class:`CheckpointConfigError` when it
    cannot be (a lone surrogate has no UTF-8 form). Checked before anything is written:
    every string of a call is a cube's content, and an acknowledged cube must read back."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointConfigError(f"{what} holds a lone surrogate (not UTF-8)") from None
    return text


def cube_id(owner: str, thread_id: str, ns: str, kind: str, *parts: str) -> str:
    """The id of a cube of the saver: one per (owner, thread, ns, kind, checkpoint[, task])."""
    name = json.dumps([owner, thread_id, ns, kind, *parts])  # unambiguous for any ids
    return uuid5_str(_ID_NS, name)


def _chunk_id(main_id: str, digest: str, i: int) -> str:
    return uuid5_str(_ID_NS, f"{main_id}\x1f{digest}\x1f{i}")


def chunk_ids(cube: MemCube) -> list[str]:
    """The ids of the chunk cubes holding the rest of ``cube``'s envelope (none if it fits)."""
    data = cube.payload.data or {}
    n = data.get("chunks", 1)
    return [_chunk_id(cube.id, data.get("sha256", ""), i) for i in range(1, n)]


def id_time(checkpoint_id: str) -> datetime | None:
    """Creation time encoded in a LangGraph checkpoint id (a UUID v6), if it is one."""
    try:
        u = uuid.UUID(checkpoint_id)
    except (ValueError, TypeError, AttributeError):
        return None
    if u.version != 6:
        return None
    ticks = ((u.int >> 80) << 12 | ((u.int >> 64) & 0x0FFF)) - _UUID_EPOCH
    if ticks <= 0:
        return None
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
    return when if when.year >= 2000 else None


def kind_of(cube: MemCube) -> str:
    """Which kind of saver cube this is: :data:`CHECKPOINT`, :data:`WRITES` or :data:`CHUNK`."""
    return cube.bookkeeping.role if cube.bookkeeping is not None else ""


# -- values ------------------------------------------------------------------------------------


def dump_value(serde: SerializerProtocol, value: Any) -> list[str]:
    """``value`` as ``[type, base64 data]`` by LangGraph's serde; ``TypeError`` if it pickled."""
    type_, data = serde.dumps_typed(value)
    if type_.split("+")[0] == "pickle":  # also an encrypted pickle ("pickle+aes")
        raise TypeError("MemCubeSaver never pickles; the serializer returned pickle")
    return [type_, base64.b64encode(data).decode("ascii")]


def load_value(serde: SerializerProtocol, type_: str, data: str) -> Any:
    """The value :func:`dump_value` stored; :class:`VaultCorruptError` for a pickle or bad
    base64 (a stored value never unpickles)."""
    if type_.split("+")[0] == "pickle":
        raise VaultCorruptError("refusing to unpickle a checkpoint value")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError) as e:
        raise VaultCorruptError(f"a checkpoint value is unreadable: {e!r}") from None
    return serde.loads_typed((type_, raw))


# -- envelopes ---------------------------------------------------------------------------------


def checkpoint_envelope(
    serde: SerializerProtocol,
    *,
    thread_id: str,
    ns: str,
    parent_id: str | None,
    checkpoint: Checkpoint,
    metadata: Mapping[str, Any],
    new_versions: Mapping[str, Any],
) -> dict[str, Any]:
    """The envelope of a checkpoint, its blobs being the values of ``new_versions`` (every
    value serialized here: a value the serde rejects raises before anything is stored). Its
    ``refs`` are left to the saver, which may have to look them up."""
    c = dict(checkpoint)
    values: dict[str, Any] = c.pop("channel_values", None) or {}
    blobs = {
        ch: [ver, *dump_value(serde, values[ch])] if ch in values else [ver, None, None]
        for ch, ver in new_versions.items()
    }
    return {
        "format": FORMAT,
        "thread": thread_id,
        "ns": ns,
        "id": config_str(c["id"], "checkpoint id"),
        "parent": parent_id,
        "checkpoint": dump_value(serde, c),
        "metadata": dump_value(serde, dict(metadata)),
        "blobs": blobs,
        "refs": {},
    }


def blob_refs(env: Mapping[str, Any], channel_versions: Mapping[str, Any]) -> dict[str, Any]:
    """The refs a checkpoint makes to its own blobs; the channels it does not store are left
    out (the saver resolves them from the parent or the thread)."""
    blobs, cid = env["blobs"], env["id"]
    return {
        ch: [ver, cid]
        for ch, ver in channel_versions.items()
        if ch in blobs and blobs[ch][0] == ver
    }


def writes_entries(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_path: str
) -> dict[int, list[Any]]:
    """A task's writes by index (``WRITES_IDX_MAP`` for special channels), serialized."""
    entries: dict[int, list[Any]] = {}
    for idx, (channel, value) in enumerate(writes):
        i = WRITES_IDX_MAP.get(channel, idx)
        entries[i] = [i, config_str(channel, "channel"), *dump_value(serde, value), task_path]
    return entries


def writes_envelope(
    *, thread_id: str, ns: str, checkpoint_id: str, task_id: str, entries: dict[int, list[Any]]
) -> dict[str, Any]:
    """The envelope of a task's pending writes at a checkpoint."""
    return {
        "format": FORMAT,
        "thread": thread_id,
        "ns": ns,
        "id": checkpoint_id,
        "task": task_id,
        "writes": sorted(entries.values(), key=lambda w: w[0]),
    }


def merge_writes(first: dict[int, list[Any]], then: dict[int, list[Any]]) -> dict[int, list[Any]]:
    """A task's writes by index, ``then`` written after ``first``: a regular write keeps the
    first value stored under its index, a special channel (negative index) the last."""
    merged = dict(first)
    merged.update((i, w) for i, w in then.items() if i < 0 or i not in first)
    return merged


def carried_writes(env: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parent's pending writes a checkpoint envelope carries, as writes envelopes
    (marked ``carried``)."""
    return [
        {
            **writes_envelope(
                thread_id=env["thread"],
                ns=env["ns"],
                checkpoint_id=env["parent"],
                task_id=task,
                entries={e[0]: e for e in entries},
            ),
            "carried": True,
        }
        for task, entries in env.get("carried_writes") or ()
    ]


CheckpointKey = tuple[tuple[str, ...], str]
"""A checkpoint of a thread: ``(cube namespace, checkpoint id)``."""


class Stored:
    """A decoded cube of the saver: the cube and its envelope (see
    :mod:`memos_lc.checkpoint.codec`)."""

    __slots__ = ("cube", "env")

    def __init__(self, cube: MemCube, env: dict[str, Any]) -> None:
        self.cube = cube
        self.env = env

    @property
    def id(self) -> str:
        return self.env["id"]

    @property
    def key(self) -> CheckpointKey:
        return (self.cube.namespace, self.env["id"])


def carried(checkpoint: Stored) -> list[Stored]:
    """The parent's pending writes a checkpoint carries (``carried_writes``), as the writes
    records the readers expect."""
    return [Stored(checkpoint.cube, env) for env in carried_writes(checkpoint.env)]


def checkpoint_metadata(serde: SerializerProtocol, checkpoint: Stored) -> dict[str, Any]:
    """The metadata a stored checkpoint carries."""
    return load_value(serde, *checkpoint.env["metadata"]) or {}


def pending_writes(
    serde: SerializerProtocol, writes: Iterable[Mapping[str, Any]]
) -> list[PendingWrite]:
    """The pending writes of a checkpoint from its writes envelopes, in ``writes_sort_key``
    order. A task's writes may come twice (carried by the next checkpoint and in their own
    cube, written after or replayed after a crash): merged as ``put_writes`` merges them."""
    by_task: dict[str, dict[int, list[Any]]] = {}
    for w in sorted(writes, key=lambda w: not w.get("carried")):
        task = w["task"]
        by_task[task] = merge_writes(by_task.get(task, {}), {e[0]: e for e in w["writes"]})
    keyed: list[tuple[tuple[str, str, int], PendingWrite]] = []
    for task_id, merged in by_task.items():
        for idx, channel, type_, data, path in merged.values():
            keyed.append(
                (
                    writes_sort_key(path, task_id, idx),
                    (task_id, channel, load_value(serde, type_, data)),
                )
            )
    keyed.sort(key=lambda p: p[0])
    return [p for _, p in keyed]


def describe(env: Mapping[str, Any]) -> str:
    """What a cube says about itself (shown by ``memos-lc list``; never embedded)."""
    # repr and bounded: ids are the caller's strings (NUL, 70k characters...)
    thread, checkpoint = repr(env["thread"][:200]), repr(env["id"][:100])
    if "task" in env:
        return f"LangGraph pending writes of task {env['task'][:100]!r} at checkpoint {checkpoint}"
    return f"LangGraph checkpoint {checkpoint} of thread {thread}"


# -- cubes -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # immutable models: one per owner / thread is enough
def _access(owner: str) -> AccessControl:
    return _PROTOTYPE.access.model_copy(update={"owner": owner})


@functools.lru_cache(maxsize=8)
def _role(kind: str) -> Bookkeeping:
    return Bookkeeping(role=kind)


@functools.lru_cache(maxsize=1024)
def _provenance(thread_key: str | None) -> Provenance:
    return _PROTOTYPE.provenance.model_copy(update={"thread_id": thread_key})


def _fits_inline(env: dict[str, Any]) -> bool:
    """Whether ``env`` fits one cube as the vault measures data (``json.dumps`` with
    ``ensure_ascii=False``, UTF-8 bytes: the spaces after each "," and ":" count).

    Sized by pydantic's serializer, the one that writes it inline in the header (json.dumps
    was a fifth of a put). A separator follows at least one other character, so the spaces
    add at most half to compact JSON; only an envelope near the limit is measured exactly."""
    compact = len(pydantic_core.to_json(env))
    if compact * 3 // 2 <= CHUNK_CHARS:
        return True
    return (
        compact <= CHUNK_CHARS
        and len(json.dumps(env, ensure_ascii=False).encode("utf-8")) <= CHUNK_CHARS
    )


def cubes_for(
    env: dict[str, Any],
    *,
    owner: str,
    cube_id: str,
    namespace: tuple[str, ...],
    kind: str,
    tags: tuple[str, ...],
    key: str | None,
    created: datetime,
    expires: datetime | None,
) -> list[MemCube]:
    """The cube holding ``env`` (and the chunk cubes of an envelope too big for one), of role
    ``kind``; ``tags`` are its lookup tags, the first of which its chunks carry too.

    Copied from a prototype instead of validated (validation was a sixth of a put's CPU):
    every value is the saver's own and valid by construction. Labels, tags and keys come
    cleaned and bounded from :func:`thread_namespace`, :func:`tag` and :func:`lookup_key`,
    the owner is a validated principal's id, the text a ``repr``, the data an envelope or
    chunks under the vault's limit. ``tests/test_checkpoint_codec.py`` validates what this
    builds."""
    text = describe(env)
    parts: list[dict[str, Any]] = [env]
    if not _fits_inline(env):
        # ASCII, and at least as long as the envelope inline; a character of it is at most
        # 2 bytes in a chunk's string
        doc = json.dumps(env)
        escaped = doc.count('"') + doc.count("\\")  # what a chunk's JSON string doubles
        size = CHUNK_CHARS - min(escaped, CHUNK_CHARS // 2)
        pieces = [doc[i : i + size] for i in range(0, len(doc), size)]
        parts = [{"json": p} for p in pieces]
        sha256 = hashlib.sha256(doc.encode("ascii")).hexdigest()
        parts[0].update(format=FORMAT, chunks=len(pieces), sha256=sha256)
    header = {
        "namespace": namespace,
        "created_at": created,
        "updated_at": created,
        "expires_at": expires,
        "access": _access(owner),
        "provenance": _provenance(lookup_key(env["thread"])),
    }

    def cube(
        id_: str, role: str, key_: str | None, tags_: tuple[str, ...], text_: str, data_: Any
    ) -> MemCube:
        payload = _PROTOTYPE.payload.model_copy(update={"text": text_, "data": data_})
        return _PROTOTYPE.model_copy(
            update={
                **header,
                "id": id_,
                "key": key_,
                "tags": tags_,
                "bookkeeping": _role(role),
                "payload": payload,
            }
        )

    digest = parts[0].get("sha256", "")
    out = [cube(cube_id, kind, key, tags, text, parts[0])]
    for i, part in enumerate(parts[1:], start=1):
        chunk = _chunk_id(cube_id, digest, i)
        out.append(cube(chunk, CHUNK, None, tags[:1], f"chunk {i} of {text}", part))
    return out


def decode(cube: MemCube, chunks: Mapping[str, MemCube]) -> dict[str, Any]:
    """The envelope a checkpoint or writes cube holds, its chunk cubes taken from ``chunks``
    (by id); :class:`VaultCorruptError` when it is unreadable, a chunk is missing or does
    not match, or the format is unknown."""
    data = cube.payload.data
    try:
        if isinstance(data, dict) and "json" in data:
            doc = "".join(
                [data["json"], *(chunks[i].payload.data["json"] for i in chunk_ids(cube))]
            )
            if "sha256" in data and hashlib.sha256(doc.encode()).hexdigest() != data["sha256"]:
                raise VaultCorruptError(f"checkpoint cube {cube.id}: chunks do not match")
            data = json.loads(doc)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise VaultCorruptError(f"checkpoint cube {cube.id} is unreadable: {e!r}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise VaultCorruptError(f"checkpoint cube {cube.id} has an unknown format")
    return data
