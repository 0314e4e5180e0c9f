"""The decisions of a thread's lifecycle, pure (no vault, no I/O): which checkpoints a
``prune`` or ``delete_for_runs`` deletes, what the surviving ones take from them, what a
``copy_thread`` writes and which threads have expired.

:class:`~memos_lc.checkpoint.MemCubeSaver` reads a thread's cubes, asks these functions, then
writes and deletes what they answer: as LangGraph's ``BaseStore`` plans its ops before it
runs them. A checkpoint is known by its :data:`CheckpointKey` ``(cube namespace, checkpoint
id)``: the same id may exist in several checkpoint namespaces of a thread.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from langgraph.checkpoint.base import SerializerProtocol

from memos_lc.checkpoint.codec import (
    CHECKPOINT,
    ROOT,
    WRITES,
    CheckpointKey,
    Stored,
    carried,
    checkpoint_metadata,
    chunk_ids,
    kind_of,
)
from memos_lc.cube import MemCube

__all__ = [
    "Drop",
    "copied",
    "created_by_runs",
    "delta_ancestors",
    "expired_threads",
    "new_cubes",
    "plan_drop",
    "pruned",
    "split_kinds",
]


def split_kinds(decoded: Iterable[Stored]) -> tuple[list[Stored], list[Stored]]:
    """``(checkpoints, writes)`` of decoded cubes."""
    checkpoints: list[Stored] = []
    writes: list[Stored] = []
    for d in decoded:
        kind = kind_of(d.cube)
        if kind == CHECKPOINT:
            checkpoints.append(d)
        elif kind == WRITES:
            writes.append(d)
    return checkpoints, writes


# -- which checkpoints go --------------------------------------------------------------------


def delta_ancestors(
    serde: SerializerProtocol, latest: Stored, members: dict[str, Stored]
) -> list[str]:
    """Ancestors (ids, nearest first) a ``DeltaChannel`` of ``latest`` rebuilds from, among
    ``members`` (its namespace's checkpoints by id): back to the nearest one that holds a
    stored value for every delta channel (see ``get_delta_channel_history``)."""
    need = set(checkpoint_metadata(serde, latest).get("counters_since_delta_snapshot") or ())
    out: list[str] = []
    cur = latest
    while need and (parent := cur.env.get("parent")) in members:
        cur = members[parent]
        out.append(cur.id)
        for ch in list(need):
            ref = cur.env["refs"].get(ch)
            src = members.get(ref[1]) if ref else None
            entry = src.env["blobs"].get(ch) if src is not None else None
            if entry is not None and entry[1] is not None:
                need.discard(ch)
    return out


def pruned(serde: SerializerProtocol, checkpoints: Sequence[Stored]) -> set[CheckpointKey]:
    """The checkpoints a ``keep_latest`` prune deletes: all but the latest of each namespace
    (the greatest id) and the ancestors its delta channels rebuild from."""
    by_ns: dict[tuple[str, ...], dict[str, Stored]] = {}
    for c in checkpoints:
        by_ns.setdefault(c.cube.namespace, {})[c.id] = c
    keep: set[CheckpointKey] = set()
    for ns, members in by_ns.items():
        latest = members[max(members)]
        keep.add((ns, latest.id))
        keep.update((ns, anc) for anc in delta_ancestors(serde, latest, members))
    return {c.key for c in checkpoints} - keep


def created_by_runs(
    serde: SerializerProtocol, checkpoints: Iterable[Stored], run_ids: Collection[str]
) -> set[CheckpointKey]:
    """The checkpoints whose metadata names one of ``run_ids`` as its ``run_id``."""
    return {c.key for c in checkpoints if checkpoint_metadata(serde, c).get("run_id") in run_ids}


def expired_threads(checkpoint_cubes: Iterable[MemCube], now: datetime) -> list[MemCube]:
    """The newest checkpoint cube of each thread whose newest checkpoint has expired at
    ``now`` (a thread expires with its last checkpoint)."""
    newest: dict[tuple[str, ...], MemCube] = {}
    for c in checkpoint_cubes:
        thread = c.namespace[: len(ROOT) + 1]
        if thread not in newest or c.created_at > newest[thread].created_at:
            newest[thread] = c
    return [c for c in newest.values() if c.is_expired(now)]


# -- what deleting them rewrites ------------------------------------------------------------


class Drop(NamedTuple):
    """What deleting some checkpoints of a thread takes, in this order (each step leaves a
    readable thread should the next one not run)."""

    rewrites: list[tuple[Stored, dict[str, Any]]]
    """Surviving checkpoints and their new envelope: the values they took from a deleted
    checkpoint copied in, their references pointing at themselves."""
    restored: list[Stored]
    """Pending writes a deleted checkpoint carried for a surviving parent: back into their
    own writes cube (written as older than what that cube may hold)."""
    purge: list[str]
    """Cube ids to delete: the deleted checkpoints, their writes and their chunks."""


def _rewrite(
    keep: Stored, doomed: set[CheckpointKey], by_key: dict[CheckpointKey, Stored]
) -> dict[str, Any] | None:
    """``keep``'s envelope with the blobs it refers to in doomed checkpoints copied in, or
    ``None`` when it refers to none."""
    env, ns = keep.env, keep.cube.namespace
    moved = {ch: origin for ch, (_, origin) in env["refs"].items() if (ns, origin) in doomed}
    if not moved:
        return None
    blobs = dict(env["blobs"])
    refs = {ch: list(r) for ch, r in env["refs"].items()}
    for ch, origin in moved.items():
        entry = by_key[(ns, origin)].env["blobs"].get(ch)
        if entry is not None and entry[0] == refs[ch][0]:
            blobs[ch] = entry
            refs[ch] = [refs[ch][0], keep.id]
    return {**env, "blobs": blobs, "refs": refs}


def plan_drop(
    doomed: set[CheckpointKey], checkpoints: Sequence[Stored], writes: Sequence[Stored]
) -> Drop:
    """How to delete the ``doomed`` checkpoints of a thread (all its ``checkpoints`` and
    ``writes`` given) so that the others keep their values and pending writes."""
    by_key = {c.key: c for c in checkpoints}
    rewrites = []
    for keep in checkpoints:
        if keep.key not in doomed and (env := _rewrite(keep, doomed, by_key)) is not None:
            rewrites.append((keep, env))
    restored = [
        w
        for gone in checkpoints
        if gone.key in doomed
        and (parent := (gone.cube.namespace, gone.env.get("parent"))) in by_key
        and parent not in doomed
        for w in carried(gone)
    ]
    purge: list[str] = []
    for d in (*checkpoints, *writes):
        if d.key in doomed:
            purge.append(d.cube.id)
            purge.extend(chunk_ids(d.cube))
    return Drop(rewrites, restored, purge)


# -- copies -----------------------------------------------------------------------------------


def copied(
    checkpoints: Iterable[Stored], writes: Iterable[Stored], target: str
) -> list[tuple[Stored, dict[str, Any]]]:
    """Each checkpoint and writes record of a thread with its envelope under thread
    ``target`` (ids, parents and references unchanged: they are relative to the thread)."""
    return [(d, {**d.env, "thread": target}) for d in (*checkpoints, *writes)]


def new_cubes(
    records: Iterable[list[MemCube]], have: Collection[str], batch: int = 256
) -> list[list[MemCube]]:
    """The cubes of ``records`` (each a main cube and its chunks) to write, in batches of
    about ``batch``: a record whose main cube is in ``have`` is skipped whole (the target
    kept its own), a chunk already there is not written again."""
    out: list[list[MemCube]] = []
    pending: list[MemCube] = []
    for cubes in records:
        if cubes[0].id in have:
            continue
        pending.extend(c for c in cubes if c.id not in have)
        if len(pending) >= batch:
            out.append(pending)
            pending = []
    if pending:
        out.append(pending)
    return out
