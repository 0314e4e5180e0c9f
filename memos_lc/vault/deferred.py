"""What a deferred put (``MemVault.put(..., deferred=True)``) stands on, in an embedded vault:
the journal file that acknowledges it, and the filter of stored ids that lets its existence
check skip the engine.

A checkpointer puts a small cube per graph step from LangGraph's background thread while the
graph runs Python on the main one. There, every call that lets go of the GIL (a ``write()``,
an engine lookup) hands the interpreter to the other thread and back across cores, which
costs far more than the call itself: so the journal appends into a memory map, and an id
the filter has never seen is new without asking the engine.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from memos_lc.cube import MemCube
from memos_lc.errors import InvalidCubeError, VaultCorruptError, VaultError
from memos_lc.governance import Principal

_MAP_BYTES = 1 << 20  # the journal's first mapped size; doubled when a record needs more


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
