"""Deferred puts (``MemVault.put(..., deferred=True)``) in an embedded vault: what waits for
the engine and the rules it follows, in :class:`DeferredPuts`, which the vault composes and
drives under its write lock (the vault alone does the I/O: writing a batch to the engine and
auditing it). Under it: the journal file that acknowledges a put, and the filter of stored ids
that lets its existence check skip the engine.

A checkpointer puts a small cube per graph step from LangGraph's background thread while the
graph runs Python on the main one. There, every call that lets go of the GIL (a ``write()``,
an engine lookup) hands the interpreter to the other thread and back across cores, which
costs far more than the call itself: so the journal appends into a memory map, and an id
the filter has never seen is new without asking the engine.

``JOURNAL``, ``DEFER_BATCH`` and ``ID_FILTER_MAX`` live here; :mod:`memos_lc.vault.memvault`
(and :mod:`memos_lc.vault.qdrant`) re-export them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import mmap
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from memos_lc.cube import MemCube, uuid5_str
from memos_lc.errors import InvalidCubeError, VaultCorruptError, VaultError
from memos_lc.governance import Principal

JOURNAL = "journal.jsonl"
"""File of deferred puts not yet in the engine, in an embedded vault's directory."""
DEFER_BATCH = 128
"""Deferred cubes that trigger a flush (an audit event names at most 200 cube ids)."""
ID_FILTER_MAX = 500_000
"""Stored points up to which an embedded vault keeps the :class:`IdFilter` that spares a
deferred put its engine lookup (built at the first deferred put: about 3 s per million)."""

_MAP_BYTES = 1 << 20  # the journal's first mapped size; doubled when a record needs more
_FLUSH_EVENTS = uuid.UUID("5b0f3d4e-8a61-4c2e-9d7a-2f1e6c8b9a03")  # ids of a flush's events


class Journal:
    """The write-ahead file of what an embedded vault acknowledged but has not yet written to
    its engine, one JSON line per record, emptied once the engine holds it all: deferred puts
    ``{"p": principal, "c": [cube, ...]}`` and audit events ``{"e": [id, stored payload]}``.

    Records are written into a shared memory map of the file: in the OS page cache once
    written, so they survive a crash of the process (like the engine's own WAL, which does not
    fsync a write either unless the vault was opened with ``fsync=True``). The bytes after the
    last record are zeros, and a record's first byte is written last: a process killed in the
    middle of an append leaves a zero where its record starts, and :func:`read_journal` stops
    there. JSON never holds a raw zero byte."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._map: mmap.mmap | None = None  # mapped at the first append, after the replay
        self._end = 0  # where the next record goes; every byte from here on is zero
        self._principals: dict[Principal, bytes] = {}  # their JSON, in every record

    def append(self, principal: Principal, cubes: Sequence[MemCube]) -> None:
        """Journal a deferred put."""
        try:
            docs = [c.model_dump_json().encode() for c in cubes]
        except ValueError as e:  # e.g. a lone surrogate in a field no validator covers
            raise InvalidCubeError(f"cube cannot be stored as JSON: {e}") from None
        who = self._principals.get(principal)
        if who is None:
            if len(self._principals) >= 1024:
                self._principals.clear()
            who = self._principals[principal] = principal.model_dump_json().encode()
        self._write(b'{"p":%s,"c":[%s]}\n' % (who, b",".join(docs)))

    def append_event(self, event_id: str, payload: dict[str, Any]) -> None:
        """Journal an audit event, in the form the audit collection stores (JSON-safe)."""
        self._write(b'{"e":%s}\n' % json.dumps([event_id, payload]).encode())

    def _write(self, record: bytes) -> None:
        start, end = self._end, self._end + len(record)
        mm = self._room(end)
        mm[start + 1 : end] = memoryview(record)[1:]
        mm[start] = record[0]  # the record exists from here on
        self._end = end
        if self.fsync:
            page = start - start % mmap.PAGESIZE
            mm.flush(page, end - page)

    def _room(self, end: int) -> mmap.mmap:
        """The map, grown to hold ``end`` bytes and a zero after them."""
        if self._map is None:
            if os.fstat(self._fd).st_size:  # records not replayed yet: never write over them
                raise VaultError(f"{self.path} must be replayed and cleared before appending")
            os.ftruncate(self._fd, _MAP_BYTES)  # zeros all along
            self._map = mmap.mmap(self._fd, _MAP_BYTES)
        if end >= len(self._map):
            size = len(self._map)
            while size <= end:
                size *= 2
            self._map.resize(size)  # the file grows too, with zeros
            if self.fsync:
                os.fsync(self._fd)
        return self._map

    def read(self) -> Journaled:
        return read_journal(self.path)

    def clear(self) -> None:
        mm = self._map
        if mm is None:  # nothing mapped yet: the replay at open empties the file
            os.ftruncate(self._fd, 0)
            if self.fsync:
                os.fsync(self._fd)
            return
        if self._end:
            mm[0] = 0  # empty from here on; then zero the rest for the next records
            mm[1 : self._end] = bytes(self._end - 1)
            if self.fsync:
                mm.flush(0, self._end)
            self._end = 0

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self._map is not None:
                self._map.close()
                self._map = None
                if not self._end:
                    os.ftruncate(self._fd, 0)  # leave no empty map behind on disk
        with contextlib.suppress(OSError):
            os.close(self._fd)


class Journaled(NamedTuple):
    """What a journal file holds, in the order it was written."""

    puts: list[tuple[Principal, list[MemCube]]]
    events: list[tuple[str, dict[str, Any]]]


def read_journal(path: Path) -> Journaled:
    """The records in a journal file. A torn last record (a crash mid-append, in a file
    written by ``write()`` before the journal was mapped) is left out; a bad record before it
    is corruption."""
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\0", 1)[0].split(b"\n")
    out = Journaled([], [])
    for n, line in enumerate(lines):
        if not line:
            continue
        try:
            doc = json.loads(line)
            if "e" in doc:
                event_id, payload = doc["e"]
                if not isinstance(event_id, str) or not isinstance(payload, dict):
                    raise TypeError("an audit event record is [id, payload]")
                out.events.append((event_id, payload))
                continue
            principal = Principal.model_validate(doc["p"])
            cubes = [MemCube.model_validate(c) for c in doc["c"]]
        except (ValueError, KeyError, TypeError) as e:
            if n == len(lines) - 1:  # no newline after it: the append was cut short
                break
            raise VaultCorruptError(f"{path}: record {n + 1} is unreadable: {e}") from None
        out.puts.append((principal, cubes))
    return out


class IdFilter:
    """A Bloom filter of stored point ids: a key it was never given is reported absent
    (``key not in f``) unless it collides (one in several hundred keys, at capacity). It grows
    by layers, each twice the last, so adding never needs the ids again.

    Keys hash with Python's ``hash`` (salted per process): the filter lives in memory only,
    built by the vault that holds the directory lock, from every point id stored and every
    id it writes since."""

    _BITS_PER_ID = 16
    _PROBES = 4

    def __init__(self, ids: Iterable[str] = (), capacity: int = 1 << 16) -> None:
        self._layers: list[tuple[bytearray, int]] = []  # (bits, mask of a bit index)
        self._room = 0
        self._grow(1 << max(capacity - 1, 1).bit_length())  # a power of two: probes mask
        for key in ids:
            self.add(key)

    def _grow(self, capacity: int) -> None:
        nbits = capacity * self._BITS_PER_ID
        self._layers.append((bytearray(nbits // 8), nbits - 1))
        self._room = capacity

    def add(self, key: str) -> bool:
        """Add ``key``; whether it may have been there already."""
        there = key in self
        if not self._room:
            self._grow((self._layers[-1][1] + 1) // self._BITS_PER_ID * 2)
        bits, mask = self._layers[-1]
        h = hash(key)
        step = (h >> 32) | 1  # double hashing: probes h, h + step, h + 2 step, ...
        for i in range(self._PROBES):
            bit = (h + i * step) & mask
            bits[bit >> 3] |= 1 << (bit & 7)
        self._room -= 1
        return there

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        h = hash(key)
        step = (h >> 32) | 1
        for bits, mask in self._layers:
            for i in range(self._PROBES):
                bit = (h + i * step) & mask
                if not bits[bit >> 3] >> (bit & 7) & 1:
                    break
            else:
                return True
        return False


class Batch(NamedTuple):
    """Deferred cubes of one principal that go to the engine in one upsert, audited by one
    event of id ``event_id``."""

    principal: Principal
    cubes: list[MemCube]
    event_id: str


class DeferredPuts:
    """What an embedded vault acknowledged but has not yet written to its engine, and the
    rules it follows: deferred cubes by principal (their storage ids: owner, id and version
    1), audit events, the :class:`Journal` that holds both until the engine does, and the
    :class:`IdFilter` of stored ids.

    Made at open with the journal's records, which the vault then writes to the engine
    (:meth:`next_batch` / :meth:`written`, :attr:`events` / :meth:`events_written`) before
    :meth:`clear` empties the file; only then does it defer. Not thread-safe: its vault
    calls it under its write lock, and nothing else changes it (read it through
    ``MemVault.deferred``)."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        try:
            journal = Journal(path, fsync=fsync)
        except OSError as e:  # replaced by a directory, unreadable...
            raise VaultCorruptError(f"cannot open the vault's journal: {e}") from None
        self._journal = journal
        self._cubes: dict[Principal, list[MemCube]] = {}
        self._ids: set[str] = set()  # the storage ids of the cubes waiting
        self._events: list[tuple[str, dict[str, Any]]] = []
        # stored point ids, once the first deferred put asked (see may_be_stored); False:
        # too many to keep
        self._stored: IdFilter | bool | None = None
        try:
            journaled = journal.read()  # acknowledged before a crash: to write first
        except BaseException:
            journal.close()
            raise
        for principal, cubes in journaled.puts:
            self._batch(principal, cubes)
        self._events.extend(journaled.events)

    def add(self, principal: Principal, cubes: list[MemCube], withdraw: Sequence[str] = ()) -> bool:
        """Journal a put (acknowledged from then on), then batch it for the engine, less the
        principal's waiting cubes named by ``withdraw`` (their records stay in the journal
        until :meth:`clear`). Whether a batch is due (:data:`DEFER_BATCH` cubes wait)."""
        self._journal.append(principal, cubes)
        self._batch(principal, cubes)
        if dropped := set(withdraw):
            own = self._cubes[principal]
            self._ids.difference_update(c.version_id for c in own if c.id in dropped)
            if kept := [c for c in own if c.id not in dropped]:
                self._cubes[principal] = kept  # keeps its place: batches go in put order
            else:
                del self._cubes[principal]
        return len(self._ids) >= DEFER_BATCH

    def _batch(self, principal: Principal, cubes: list[MemCube]) -> None:
        self._cubes.setdefault(principal, []).extend(cubes)
        self._ids.update(c.version_id for c in cubes)

    def add_event(self, event_id: str, payload: dict[str, Any]) -> None:
        """Journal an audit event (its stored payload), written with the next batch."""
        self._journal.append_event(event_id, payload)
        self._events.append((event_id, payload))

    def __len__(self) -> int:
        """Cubes waiting for the engine."""
        return len(self._ids)

    def __contains__(self, point_id: object) -> bool:
        """Whether a cube of this storage id waits for the engine (it counts as stored)."""
        return point_id in self._ids

    @property
    def pending(self) -> bool:
        """Whether anything (cubes or audit events) waits for the engine."""
        return bool(self._ids or self._events)

    @property
    def due(self) -> bool:
        """Whether a vault call must write what waits first: cubes wait (so that it sees
        them), or a batch of audit events does."""
        return bool(self._ids) or len(self._events) >= DEFER_BATCH

    def waiting(self, principal: Principal, ids: Sequence[str]) -> set[str]:
        """Which of the cube ``ids`` are the principal's, still waiting."""
        own = self._cubes.get(principal)
        if not own:
            return set()
        wanted = set(ids)
        return {c.id for c in own if c.id in wanted}

    def next_batch(self) -> Batch | None:
        """The first :data:`DEFER_BATCH` cubes waiting of one principal, if any. Batches are
        cut alike when the journal is replayed, so a batch's audit event has the same id
        then: a crash between the cubes and their event, or after both, leaves exactly one
        event naming every cube of the batch."""
        first = next(iter(self._cubes.items()), None)
        if first is None:
            return None
        principal, own = first
        part = own[:DEFER_BATCH]
        event_id = uuid5_str(_FLUSH_EVENTS, f"{principal.id}\x1f{part[0].version_id}")
        return Batch(principal, part, event_id)

    def written(self, batch: Batch) -> None:
        """``batch`` (the last :meth:`next_batch`) is in the engine: it waits no more."""
        own = self._cubes[batch.principal]
        del own[: len(batch.cubes)]
        if not own:
            del self._cubes[batch.principal]
        self._ids.difference_update(c.version_id for c in batch.cubes)

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """The audit events waiting, as ``(id, stored payload)``, oldest first (a copy)."""
        return list(self._events)

    def events_written(self, count: int) -> None:
        """The first ``count`` of :attr:`events` are in the engine."""
        del self._events[:count]

    def clear(self) -> None:
        """Empty the journal: only once the engine holds everything it acknowledged."""
        if self.pending:  # what the journal alone holds would be lost in a crash
            raise VaultError("the journal still holds puts or audit events the engine lacks")
        self._journal.clear()

    @property
    def id_filter(self) -> IdFilter | bool | None:
        """The :class:`IdFilter` of stored ids: ``None`` until the first deferred put built it
        (:meth:`build_id_filter`), ``False`` when there were more than
        :data:`ID_FILTER_MAX` then (every put asks the engine)."""
        return self._stored

    def build_id_filter(self, stored: int, point_ids: Callable[[], Iterable[str]]) -> None:
        """Build the filter from the ``stored`` ids ``point_ids()`` lists (when at most
        :data:`ID_FILTER_MAX`) and the ids waiting. From then on every new id a put writes
        must pass :meth:`may_be_stored`, so the filter sees it."""
        self._stored = stored <= ID_FILTER_MAX and IdFilter(
            itertools.chain(point_ids(), self._ids),
            capacity=max(2 * (stored + len(self._ids)), 1 << 16),
        )

    def may_be_stored(self, point_ids: list[str]) -> list[str]:
        """Those of new ``point_ids``, about to be written, that the engine may already hold
        (all of them without a filter), adding them to the filter: added before the write,
        at worst a false maybe."""
        if isinstance(self._stored, IdFilter):
            return [i for i in point_ids if self._stored.add(i)]
        return point_ids

    def close(self) -> None:
        self._journal.close()
