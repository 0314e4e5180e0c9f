"""What :class:`~memos_lc.checkpoint.MemCubeSaver` asks the vault and how the answer becomes a
LangGraph ``CheckpointTuple``, pure (no vault, no I/O): the configs a call names and the ones
it answers, the filter of a query over checkpoint cubes, the tags a read fetches a
checkpoint's related records by, and the assembly of a tuple from the records fetched.

A checkpoint's channel values live in the checkpoints that introduced each version (its
``refs`` say which: see :mod:`memos_lc.checkpoint.codec`); :func:`related_tags` names them,
:class:`Related` indexes what came back, :func:`stored_blobs` picks each channel's value and
says which ones it could not find (their checkpoint deleted elsewhere), which the saver then
looks for in the whole thread with :func:`find_blobs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, SerializerProtocol, get_checkpoint_id

from memos_lc.checkpoint.codec import (
    CHECKPOINT,
    ROOT,
    CheckpointConfigError,
    CheckpointKey,
    Stored,
    carried,
    checkpoint_metadata,
    config_str,
    kind_of,
    load_value,
    pending_writes,
    tag,
    thread_namespace,
)
from memos_lc.cube import MemCube, MemoryType
from memos_lc.vault import CubeFilter

__all__ = [
    "Related",
    "checkpoint_config",
    "checkpoint_filter",
    "checkpoint_tuple",
    "find_blobs",
    "list_scope",
    "metadata_matches",
    "related_tags",
    "stored_blobs",
    "thread_of",
]


# -- configs ----------------------------------------------------------------------------------


def thread_of(config: RunnableConfig) -> tuple[str, str]:
    """``(thread_id, checkpoint_ns)`` a config names; :class:`CheckpointConfigError` without
    a thread id."""
    try:
        conf = config["configurable"]
        thread_id = conf["thread_id"]
    except (KeyError, TypeError):
        raise CheckpointConfigError("thread_id") from None
    if thread_id is None:
        raise CheckpointConfigError("thread_id")
    ns = conf.get("checkpoint_ns") or ""
    return config_str(thread_id, "thread_id"), config_str(ns, "checkpoint_ns")


def checkpoint_config(
    thread_id: str, ns: str, checkpoint_id: str, echo: Mapping[str, Any]
) -> RunnableConfig:
    """The config naming a checkpoint, with ``echo`` (the entry naming the principal)."""
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
            **echo,
        }
    }


def list_scope(config: RunnableConfig | None) -> tuple[tuple[str, ...], bool, str | None]:
    """What ``list(config)`` searches: the namespace, whether only that one (not below), and
    the one checkpoint id the config names."""
    if config is None:
        return ROOT, False, None
    thread_id, _ = thread_of(config)
    ns = config["configurable"].get("checkpoint_ns")
    return thread_namespace(thread_id, ns), ns is not None, get_checkpoint_id(config)


# -- queries ----------------------------------------------------------------------------------


def checkpoint_filter(
    owner: str,
    namespace: tuple[str, ...],
    *,
    exact: bool = False,
    tags: Iterable[str] | None = None,
    roles: tuple[str, ...] | None = None,
    created_before: datetime | None = None,
) -> CubeFilter:
    """The saver's cubes of ``owner`` under ``namespace`` (only in it when ``exact``), with
    any of ``tags``, of any of ``roles``, created before ``created_before``; expired ones
    included (the saver decides what an expired thread means)."""
    return CubeFilter(
        namespace=namespace,
        namespace_exact=exact,
        memory_types=(MemoryType.CHECKPOINT.value,),
        owner=owner,
        tags=tuple(tags) if tags is not None else None,
        roles=roles,
        statuses=None,
        include_expired=True,
        created_before=created_before,
    )


def related_tags(
    mains: Sequence[Stored], pool: Mapping[str, MemCube], *, have_writes: bool
) -> list[str]:
    """The tags of what the checkpoints ``mains`` need beyond the cubes of ``pool``: the
    checkpoints their references point at and (unless ``have_writes``) their pending writes."""
    pooled = {(c.namespace, t) for c in pool.values() if kind_of(c) == CHECKPOINT for t in c.tags}
    tags: list[str] = []
    for m in mains:
        if not have_writes:
            tags.append(tag("w", m.id))
        for _, origin in m.env["refs"].values():
            if (m.cube.namespace, tag("c", origin)) not in pooled:
                tags.append(tag("c", origin))
    return tags


class Related(NamedTuple):
    """Records fetched with some checkpoints: checkpoints by :data:`CheckpointKey`, pending
    writes by the namespace and id of their checkpoint (those a checkpoint carries too)."""

    checkpoints: dict[CheckpointKey, Stored]
    writes: dict[tuple[str, ...], list[Stored]]

    @classmethod
    def index(cls, mains: Sequence[Stored], others: Iterable[Stored]) -> Related:
        """Index the checkpoints ``mains`` and the records fetched with them."""
        others = list(others)
        checkpoints = {m.key: m for m in mains}
        writes: dict[tuple[str, ...], list[Stored]] = {}
        for d in others:
            if kind_of(d.cube) == CHECKPOINT:
                checkpoints.setdefault(d.key, d)
            else:
                writes.setdefault((*d.cube.namespace, d.id), []).append(d)
        for d in (*mains, *others):
            for w in carried(d) if kind_of(d.cube) == CHECKPOINT else ():
                writes.setdefault((*d.cube.namespace, w.id), []).append(w)
        return cls(checkpoints, writes)

    def sources(self, main: Stored) -> dict[str, Stored]:
        """The fetched checkpoints ``main``'s references point at, by id."""
        ns = main.cube.namespace
        return {
            origin: self.checkpoints[(ns, origin)]
            for _, origin in main.env["refs"].values()
            if (ns, origin) in self.checkpoints
        }

    def writes_of(self, main: Stored) -> list[Stored]:
        return self.writes.get((*main.cube.namespace, main.id), [])


# -- values and tuples ----------------------------------------------------------------------


def stored_blobs(
    main: Stored, sources: Mapping[str, Stored]
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """``(found, missing)``: each channel's blob (``[version, type, data]``) from ``main`` or
    the checkpoint its reference names among ``sources``, and the version of each channel
    whose blob is in neither."""
    found: dict[str, list[Any]] = {}
    missing: dict[str, Any] = {}
    for ch, (ver, origin) in main.env["refs"].items():
        src = main if origin == main.id else sources.get(origin)
        entry = src.env["blobs"].get(ch) if src is not None else None
        if entry is not None and entry[0] == ver:
            found[ch] = entry
        else:
            missing[ch] = ver
    return found, missing


def find_blobs(
    wanted: Mapping[str, Any], checkpoints: Iterable[Stored]
) -> dict[str, tuple[str, list[Any]]]:
    """``channel -> (checkpoint id, blob)`` for each channel version of ``wanted`` that one
    of ``checkpoints`` stores (the first that does)."""
    rest = dict(wanted)
    out: dict[str, tuple[str, list[Any]]] = {}
    for other in checkpoints:
        if not rest:
            break
        for ch, ver in list(rest.items()):
            entry = other.env["blobs"].get(ch)
            if entry is not None and entry[0] == ver:
                out[ch] = (other.id, entry)
                del rest[ch]
    return out


def checkpoint_tuple(
    serde: SerializerProtocol,
    main: Stored,
    blobs: Mapping[str, list[Any]],
    writes: Iterable[Stored],
    echo: Mapping[str, Any],
) -> CheckpointTuple:
    """The tuple LangGraph reads: ``main``'s checkpoint with the values of ``blobs``, its
    metadata, parent and pending writes."""
    env = main.env
    thread_id, ns, parent = env["thread"], env["ns"], env.get("parent")
    values = {ch: load_value(serde, e[1], e[2]) for ch, e in blobs.items() if e[1] is not None}
    return CheckpointTuple(
        config=checkpoint_config(thread_id, ns, env["id"], echo),
        checkpoint={**load_value(serde, *env["checkpoint"]), "channel_values": values},
        metadata=checkpoint_metadata(serde, main),
        parent_config=checkpoint_config(thread_id, ns, parent, echo) if parent else None,
        pending_writes=pending_writes(serde, (w.env for w in writes)),
    )


def metadata_matches(
    serde: SerializerProtocol, checkpoint: Stored, filter: Mapping[str, Any] | None
) -> bool:
    """Whether the checkpoint's metadata has every value of ``filter`` (``list``'s filter)."""
    if not filter:
        return True
    md = checkpoint_metadata(serde, checkpoint)
    return all(md.get(k) == v for k, v in filter.items())
