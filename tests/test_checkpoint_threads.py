"""The thread lifecycle's decisions on their own (memos_lc.checkpoint.threads): plain
envelopes and cubes, no vault, no model. The saver's own tests (test_checkpoint.py) run the
same decisions against a vault and real graphs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from memos_lc.checkpoint import codec, threads
from memos_lc.checkpoint.codec import CheckpointKey, Stored, carried
from memos_lc.checkpoint.cubes import envelope_cubes
from memos_lc.cube import utcnow

SERDE = JsonPlusSerializer(pickle_fallback=False)
OWNER = "alice"
NOW = utcnow()


def stored(
    env: dict[str, Any],
    kind: str,
    tag: str,
    *,
    created: datetime = NOW,
    expires: datetime | None = None,
) -> Stored:
    """``env`` as the saver stores it (its main cube; chunks left out)."""
    key = env["id"] if kind == codec.CHECKPOINT else None
    cubes = envelope_cubes(
        OWNER, env, kind=kind, tags=(tag,), key=key, created=created, expires=expires
    )
    return Stored(cubes[0], env)


def checkpoint(
    cid: str,
    parent: str | None,
    *,
    values: dict[str, Any] | None = None,
    deltas: tuple[str, ...] = (),
    refs: dict[str, tuple[str, str]] | None = None,
    metadata: dict[str, Any] | None = None,
    ns: str = "",
    thread: str = "t",
    carried: dict[str, list[list[Any]]] | None = None,
    expires_in: timedelta | None = timedelta(hours=1),
    age: timedelta = timedelta(0),
) -> Stored:
    """A stored checkpoint: ``values`` are the blobs it introduces (version ``v-<cid>``),
    ``deltas`` channels it introduces a version of without storing a value (a DeltaChannel
    between snapshots), ``refs`` what it takes from others (channel -> (version, origin))."""
    values = values or {}
    ckpt = {**empty_checkpoint(), "id": cid, "channel_values": values}
    versions = {ch: f"v-{cid}" for ch in (*values, *deltas)}
    env = codec.checkpoint_envelope(
        SERDE,
        thread_id=thread,
        ns=ns,
        parent_id=parent,
        checkpoint=ckpt,
        metadata=metadata or {},
        new_versions=versions,
    )
    env["refs"] = {ch: [ver, cid] for ch, ver in versions.items()}
    env["refs"].update({ch: list(r) for ch, r in (refs or {}).items()})
    if carried:
        env["carried_writes"] = [[task, entries] for task, entries in carried.items()]
    expires = None if expires_in is None else NOW - age + expires_in
    return stored(env, codec.CHECKPOINT, codec.tag("c", cid), created=NOW - age, expires=expires)


def writes(cid: str, task: str, entries: list[list[Any]], ns: str = "") -> Stored:
    env = codec.writes_envelope(
        thread_id="t", ns=ns, checkpoint_id=cid, task_id=task, entries={e[0]: e for e in entries}
    )
    return stored(env, codec.WRITES, codec.tag("w", cid))


def entry(idx: int, channel: str, value: Any, task: str) -> list[Any]:
    return [idx, channel, *codec.dump_value(SERDE, value), f"~p, {task}"]


def keys(*stored: Stored) -> set[CheckpointKey]:
    return {s.key for s in stored}


def test_keep_latest_keeps_the_latest_of_each_namespace() -> None:
    c1 = checkpoint("c01", None, values={"a": 1})
    c2 = checkpoint("c02", "c01", values={"b": 2}, refs={"a": ("v-c01", "c01")})
    c3 = checkpoint("c03", "c02", refs={"a": ("v-c01", "c01"), "b": ("v-c02", "c02")})
    s1 = checkpoint("c01", None, values={"x": 1}, ns="sub")  # the same id in a subgraph
    s2 = checkpoint("c02", "c01", values={"x": 2}, ns="sub")
    assert threads.pruned(SERDE, [c1, c2, c3, s1, s2]) == keys(c1, c2, s1)
    assert threads.pruned(SERDE, [c3]) == set()
    assert threads.pruned(SERDE, []) == set()


def test_keep_latest_keeps_what_a_delta_channel_rebuilds_from() -> None:
    """``log`` is a DeltaChannel: c02 holds a snapshot, c03 and c04 only deltas, so the
    latest (c05) needs c04, c03 and c02 to rebuild it; c01 goes."""
    c1 = checkpoint("c01", None, values={"log": ["a"]})
    c2 = checkpoint("c02", "c01", values={"log": ["a", "b"]})
    c3 = checkpoint("c03", "c02", deltas=("log",))
    c4 = checkpoint("c04", "c03", deltas=("log",))
    md = {"counters_since_delta_snapshot": {"log": 2}}
    c5 = checkpoint("c05", "c04", refs={"log": ("v-c04", "c04")}, metadata=md)
    members = {c.id: c for c in (c1, c2, c3, c4, c5)}
    assert threads.delta_ancestors(SERDE, c5, members) == ["c04", "c03", "c02"]
    assert threads.pruned(SERDE, list(members.values())) == keys(c1)
    # a snapshot pruned away already: keep what is there, stop at the oldest
    del members["c02"], members["c01"]
    assert threads.delta_ancestors(SERDE, c5, members) == ["c04", "c03"]


def test_runs_pick_their_checkpoints_by_metadata() -> None:
    c1 = checkpoint("c01", None, metadata={"run_id": "r1"})
    c2 = checkpoint("c02", "c01", metadata={"run_id": "r2"})
    c3 = checkpoint("c03", "c02", metadata={})
    assert threads.created_by_runs(SERDE, [c1, c2, c3], {"r2", "r9"}) == keys(c2)
    assert threads.created_by_runs(SERDE, [c1, c2, c3], set()) == set()


def test_a_drop_moves_the_values_the_survivors_take_from_the_doomed() -> None:
    c1 = checkpoint("c01", None, values={"a": 1, "b": 2})
    c2 = checkpoint("c02", "c01", values={"b": 3}, refs={"a": ("v-c01", "c01")})
    c3 = checkpoint("c03", "c02", refs={"a": ("v-c01", "c01"), "b": ("v-c02", "c02")})
    w1 = writes("c01", "task", [entry(0, "a", 5, "task")])
    plan = threads.plan_drop(keys(c1), [c1, c2, c3], [w1])
    rewritten = dict((s.id, env) for s, env in plan.rewrites)
    assert sorted(rewritten) == ["c02", "c03"]  # both referred to c01's `a`
    for cid, env in rewritten.items():
        assert env["refs"]["a"] == ["v-c01", cid]
        assert env["blobs"]["a"] == c1.env["blobs"]["a"]
    assert rewritten["c03"]["refs"]["b"] == ["v-c02", "c02"]  # c02 stays: unchanged
    assert rewritten["c02"]["blobs"]["b"] == c2.env["blobs"]["b"]
    assert c2.env["refs"]["a"] == ["v-c01", "c01"]  # the input is not modified
    assert plan.restored == []
    assert sorted(plan.purge) == sorted([c1.cube.id, w1.cube.id])
    assert threads.plan_drop(set(), [c1, c2, c3], [w1]) == threads.Drop([], [], [])


def test_a_drop_restores_the_writes_a_doomed_checkpoint_carried() -> None:
    """c02 carries c01's pending writes; deleting c02 (not c01) writes them back to c01."""
    task_writes = [entry(0, "a", 7, "t1")]
    c1 = checkpoint("c01", None, values={"a": 1})
    c2 = checkpoint("c02", "c01", refs={"a": ("v-c01", "c01")}, carried={"t1": task_writes})
    plan = threads.plan_drop(keys(c2), [c1, c2], [])
    assert [(w.id, w.env["task"], w.env["writes"]) for w in plan.restored] == [
        ("c01", "t1", task_writes)
    ]
    assert plan.rewrites == [] and plan.purge == [c2.cube.id]
    # with its parent gone too, nothing to restore
    assert threads.plan_drop(keys(c1, c2), [c1, c2], []).restored == []


def test_a_drop_purges_the_chunks_of_a_big_checkpoint() -> None:
    big = checkpoint("c01", None, values={"a": "x" * (codec.CHUNK_CHARS + 10)})
    cubes = envelope_cubes(
        OWNER,
        big.env,
        kind=codec.CHECKPOINT,
        tags=big.cube.tags,
        key="c01",
        created=NOW,
        expires=None,
    )
    assert len(cubes) > 1 and cubes[0].id == big.cube.id
    c2 = checkpoint("c02", "c01", values={"b": 1})
    plan = threads.plan_drop(keys(big), [big, c2], [])
    assert plan.purge == [c.id for c in cubes]


def test_a_copy_rewrites_the_thread_and_skips_what_the_target_has() -> None:
    c1 = checkpoint("c01", None, values={"a": 1})
    c2 = checkpoint("c02", "c01", refs={"a": ("v-c01", "c01")})
    w1 = writes("c01", "task", [entry(0, "a", 5, "task")])
    copies = threads.copied([c1, c2], [w1], "target")
    assert [(s.id, env["thread"]) for s, env in copies] == [(s.id, "target") for s in (c1, c2, w1)]
    assert all(env["refs"] == s.env["refs"] for s, env in copies[:2])  # relative to the thread
    assert c1.env["thread"] == "t"
    records = [
        [s.cube.model_copy(update={"id": i})] for i, s in (("id-1", c1), ("id-2", c2), ("id-3", w1))
    ]
    assert threads.new_cubes(records, have=set()) == [[r[0] for r in records]]
    assert threads.new_cubes(records, have={"id-2"}) == [[records[0][0], records[2][0]]]
    assert threads.new_cubes(records, have={"id-1", "id-2", "id-3"}) == []
    assert [len(b) for b in threads.new_cubes(records, have=set(), batch=2)] == [2, 1]


def test_a_thread_expires_with_its_newest_checkpoint() -> None:
    hour = timedelta(hours=1)
    old_dead = checkpoint("c01", None, thread="a", age=2 * hour, expires_in=hour)
    new_live = checkpoint("c02", "c01", thread="a", expires_in=hour)
    only_dead = checkpoint("c01", None, thread="b", age=2 * hour, expires_in=hour)
    forever = checkpoint("c01", None, thread="c", age=2 * hour, expires_in=None)
    cubes = [s.cube for s in (old_dead, new_live, only_dead, forever)]
    assert threads.expired_threads(cubes, NOW) == [only_dead.cube]
    assert threads.expired_threads(cubes, NOW + 2 * hour) == [new_live.cube, only_dead.cube]
    assert not forever.cube.is_expired(NOW + 1000 * hour)


def test_records_split_by_kind_and_carried_writes_read_as_writes() -> None:
    c1 = checkpoint("c01", None)
    c2 = checkpoint("c02", "c01", carried={"t1": [entry(0, "a", 7, "t1")]})
    w1 = writes("c01", "t0", [entry(0, "a", 1, "t0")])
    assert threads.split_kinds([w1, c1, c2]) == ([c1, c2], [w1])
    (back,) = carried(c2)
    assert back.id == "c01" and back.env["task"] == "t1" and back.env["carried"] is True
    assert back.cube is c2.cube
    assert carried(c1) == []
