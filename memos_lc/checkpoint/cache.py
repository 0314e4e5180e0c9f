"""What :class:`~memos_lc.checkpoint.MemCubeSaver` remembers between calls, so a graph step
costs the vault one round trip: three small caches, each a hint that a wrong or missing
entry only makes slower, never wrong.

* :class:`LatestIds`: the latest checkpoint id of each ``(owner, thread, ns)``, shared by every
  saver of one *embedded* vault (:func:`latest_ids`); ``get_tuple`` without a
  ``checkpoint_id`` then fetches the checkpoint by id in one call instead of two.
* :class:`RefsCache`: a checkpoint's channel references (``channel -> [version, checkpoint
  id that stored it]``) by ``(owner, thread, ns, checkpoint id)``, per saver. A put resolves
  its references from its parent's; a read fetches the checkpoints they point at together
  with the checkpoint itself.
* :class:`DeferredWrites`: pending writes put *deferred* (still in the vault's journal), by
  checkpoint, per saver: the put of the next checkpoint carries them in its own cube (see
  ``MemCubeSaver.put``).

Why they are safe:

* *across threads*: each has its own lock, held only around dictionary operations (never
  around a vault call); :class:`LatestIds` installs what a read found only if no write or
  delete ran meanwhile (its *epoch*), so a slow read never overwrites a newer put.
* *across processes*: :func:`latest_ids` answers ``None`` unless the vault's driver declares
  itself ``exclusive`` (an embedded engine, which only this process opens): a server may be
  written by others, whose checkpoints this process would not see. References never change
  once written except by this saver's thread lifecycle (``prune``, ``delete_for_runs``, which
  forget the thread); a reference that another process made stale points at a checkpoint the
  read does not find, and the read then looks for the value in the whole thread. A deferred
  write is carried only after the vault confirms it is still waiting (``MemVault.waiting``).
* *bounded*: each keeps at most a few thousand entries, least recently used first out.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from memos_lc.vault.memvault import MemVault

__all__ = ["SEEN_EMPTY", "DeferredWrites", "LatestIds", "RefsCache", "latest_ids"]

SEEN_EMPTY = (datetime(1970, 1, 1, tzinfo=UTC), "")
"""The :class:`LatestIds` entry of a scope seen with no checkpoint (below any real one)."""

_ENTRIES = 4096
# Deferred pending writes the next checkpoint may carry: only while a batch can still be
# waiting (the vault writes one every 128 cubes).
_CARRY_KEYS = 256

LatestKey = tuple[str, str, str]
"""``(owner, thread id, checkpoint ns)``."""
CheckpointRef = tuple[str, ...]
"""``(owner, thread id, checkpoint ns, checkpoint id)``."""


def _forget(entries: dict[Any, Any], owner: str, thread_id: str | None) -> None:
    for key in [k for k in entries if k[0] == owner and thread_id in (None, k[1])]:
        del entries[key]


class LatestIds:
    """The latest checkpoint of each ``(owner, thread, ns)``, for the savers of one embedded
    vault: only this process writes it, so once a thread was read or written here its latest
    checkpoint is known.

    Entries are ``(created_at, checkpoint id)``, the order ``MemCubeSaver`` picks the latest
    by. One is installed from a read only if no write or delete ran meanwhile (the epoch);
    puts advance it; deletes drop the thread's entries. :data:`SEEN_EMPTY` records a scope
    seen empty, so the first puts of a new thread are tracked too. A thread seen with no
    checkpoint in any namespace is *bare* until one is put: its first put has no expired
    thread to purge.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: OrderedDict[LatestKey, tuple[datetime, str]] = OrderedDict()
        self._bare: set[tuple[str, str]] = set()
        self._epoch = 0

    def get(self, key: LatestKey) -> str | None:
        """The latest checkpoint id of ``key`` when known."""
        with self._lock:
            entry = self._ids.get(key)
        if entry is None or not entry[1]:
            return None
        return entry[1]

    def bare(self, owner: str, thread_id: str) -> bool:
        """Whether the thread is known to have no checkpoint in any namespace."""
        with self._lock:
            return (owner, thread_id) in self._bare

    def epoch(self) -> int:
        """Advanced by every write and delete: take it before a read, pass it to
        :meth:`install`."""
        with self._lock:
            return self._epoch

    def install(
        self,
        key: LatestKey,
        entry: tuple[datetime, str],
        epoch: int,
        *,
        bare: bool = False,
    ) -> None:
        """Record what a read that started at ``epoch`` found, unless something was written
        or deleted since."""
        with self._lock:
            if epoch == self._epoch:
                self._ids[key] = entry
                self._ids.move_to_end(key)
                while len(self._ids) > _ENTRIES:
                    self._ids.popitem(last=False)
                if bare:
                    if len(self._bare) >= _ENTRIES:
                        self._bare.clear()
                    self._bare.add(key[:2])

    def advance(self, key: LatestKey, entry: tuple[datetime, str] | None) -> None:
        """A checkpoint was written under ``key``; ``None`` when its place in the order is
        not known (the entry is dropped)."""
        with self._lock:
            self._epoch += 1
            self._bare.discard(key[:2])
            if key not in self._ids:
                return
            if entry is None:
                del self._ids[key]
            else:
                self._ids[key] = max(self._ids[key], entry)

    def forget(self, owner: str, thread_id: str | None = None) -> None:
        """Drop what is known about a thread (every thread of ``owner`` when ``None``)."""
        with self._lock:
            self._epoch += 1
            _forget(self._ids, owner, thread_id)
            self._bare = {k for k in self._bare if k[0] != owner or thread_id not in (None, k[1])}


_LATEST: weakref.WeakKeyDictionary[MemVault, LatestIds] = weakref.WeakKeyDictionary()
_LATEST_GUARD = threading.Lock()


def latest_ids(vault: MemVault) -> LatestIds | None:
    """The shared :class:`LatestIds` of an embedded vault; ``None`` for a server, which other
    processes may write."""
    if not vault.driver.capabilities.exclusive:
        return None
    with _LATEST_GUARD:
        return _LATEST.setdefault(vault, LatestIds())


class RefsCache:
    """Channel references of checkpoints by ``(owner, thread, ns, checkpoint id)``, the most
    recently used :data:`_ENTRIES`. A cached value is shared, never modified: callers that
    change references store a new dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: OrderedDict[CheckpointRef, dict[str, list[Any]]] = OrderedDict()

    def get(self, key: CheckpointRef) -> dict[str, list[Any]] | None:
        with self._lock:
            refs = self._refs.get(key)
            if refs is not None:
                self._refs.move_to_end(key)
            return refs

    def put(self, key: CheckpointRef, refs: dict[str, list[Any]]) -> None:
        with self._lock:
            self._refs[key] = refs
            self._refs.move_to_end(key)
            while len(self._refs) > _ENTRIES:
                self._refs.popitem(last=False)

    def forget(self, owner: str, thread_id: str | None = None) -> None:
        """Drop the references of a thread (every thread of ``owner`` when ``None``)."""
        with self._lock:
            _forget(self._refs, owner, thread_id)


class DeferredWrites:
    """Pending writes put deferred, by the checkpoint they belong to: ``(owner, thread, ns,
    checkpoint id) -> task id -> (cube id, write entries)``, the most recent
    :data:`_CARRY_KEYS` checkpoints."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes: OrderedDict[CheckpointRef, dict[str, tuple[str, list[Any]]]] = OrderedDict()

    def remember(self, key: CheckpointRef, task_id: str, cube_id: str, entries: list) -> None:
        with self._lock:
            self._writes.setdefault(key, {})[task_id] = (cube_id, entries)
            self._writes.move_to_end(key)
            while len(self._writes) > _CARRY_KEYS:
                self._writes.popitem(last=False)

    def take(self, key: CheckpointRef) -> dict[str, tuple[str, list[Any]]]:
        """The writes remembered for checkpoint ``key``, forgotten here (each is carried by
        one child at most)."""
        with self._lock:
            return self._writes.pop(key, None) or {}
