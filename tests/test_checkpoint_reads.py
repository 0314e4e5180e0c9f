"""How a read is planned and assembled (memos_lc.checkpoint.reads) and what the saver
remembers between calls (memos_lc.checkpoint.cache), on their own: no vault, no model."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.base import ERROR
from test_checkpoint_threads import NOW, SERDE, checkpoint, entry, writes

from memos_lc.checkpoint import ROOT, CheckpointConfigError, codec, reads
from memos_lc.checkpoint.cache import SEEN_EMPTY, DeferredWrites, LatestIds, RefsCache


def test_a_config_names_a_thread_or_fails_typed() -> None:
    conf = {"configurable": {"thread_id": 7, "checkpoint_ns": None}}
    assert reads.thread_of(conf) == ("7", "")
    for bad in ({}, {"configurable": {}}, {"configurable": {"thread_id": None}}, None):
        with pytest.raises(CheckpointConfigError, match="thread_id"):
            reads.thread_of(bad)  # type: ignore[arg-type]
    with pytest.raises(CheckpointConfigError, match="surrogate"):
        reads.thread_of({"configurable": {"thread_id": "\ud800"}})
    echo = {"user_id": "alice"}
    assert reads.checkpoint_config("t", "", "c01", echo) == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c01", **echo}
    }
    assert reads.list_scope(None) == (ROOT, False, None)
    assert reads.list_scope({"configurable": {"thread_id": "t"}}) == (
        codec.thread_namespace("t"),
        False,
        None,
    )
    assert reads.list_scope(
        {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c9"}}
    ) == (codec.thread_namespace("t", ""), True, "c9")


def test_a_read_fetches_only_what_it_lacks() -> None:
    c1 = checkpoint("c01", None, values={"a": 1})
    c2 = checkpoint("c02", "c01", values={"b": 2}, refs={"a": ("v-c01", "c01")})
    assert reads.related_tags([c2], {}, have_writes=False) == ["w:c02", "c:c02", "c:c01"]
    assert reads.related_tags([c2], {c1.cube.id: c1.cube}, have_writes=True) == ["c:c02"]
    # a checkpoint of the same id in another namespace is not the one referred to
    other_ns = checkpoint("c01", None, values={"a": 1}, ns="sub")
    assert "c:c01" in reads.related_tags([c2], {"x": other_ns.cube}, have_writes=True)


def test_related_records_index_by_checkpoint_with_carried_writes() -> None:
    c1 = checkpoint("c01", None, values={"a": 1})
    c2 = checkpoint(
        "c02", "c01", refs={"a": ("v-c01", "c01")}, carried={"t1": [entry(0, "a", 7, "t1")]}
    )
    w1 = writes("c01", "t0", [entry(0, "a", 5, "t0")])
    related = reads.Related.index([c2], [c1, w1])
    assert set(related.checkpoints) == {c1.key, c2.key}
    assert related.sources(c2) == {"c01": c1}
    assert related.writes_of(c2) == []
    assert sorted(w.env["task"] for w in related.writes_of(c1)) == ["t0", "t1"]


def test_blobs_come_from_the_referred_checkpoint_else_from_the_thread() -> None:
    c1 = checkpoint("c01", None, values={"a": 1, "b": 2})
    c2 = checkpoint("c02", "c01", refs={"a": ("v-c01", "c01"), "b": ("v-c01", "c01")})
    found, missing = reads.stored_blobs(c2, {"c01": c1})
    assert found == {"a": c1.env["blobs"]["a"], "b": c1.env["blobs"]["b"]} and missing == {}
    found, missing = reads.stored_blobs(c2, {})  # c01 not fetched (deleted elsewhere)
    assert found == {} and missing == {"a": "v-c01", "b": "v-c01"}
    copy = checkpoint("c03", None, values={"a": 1})  # holds the same version of `a`?
    assert reads.find_blobs(missing, [copy]) == {}  # no: its own version
    assert reads.find_blobs(missing, [c2, c1]) == {
        "a": ("c01", c1.env["blobs"]["a"]),
        "b": ("c01", c1.env["blobs"]["b"]),
    }


def test_a_tuple_is_assembled_from_blobs_and_writes() -> None:
    c1 = checkpoint("c01", None, values={"a": [1, 2]}, metadata={"step": 1, "run_id": "r"})
    c2 = checkpoint(
        "c02",
        "c01",
        values={"b": {"x": 1}},
        deltas=("d",),  # a version without a value: not a channel value
        refs={"a": ("v-c01", "c01")},
        metadata={"step": 2},
    )
    w = writes("c02", "t1", [entry(1, "b", "later", "t1"), entry(-1, ERROR, "boom", "t1")])
    found, _ = reads.stored_blobs(c2, {"c01": c1})
    echo = {"user_id": "alice"}
    tup = reads.checkpoint_tuple(SERDE, c2, found, [w], echo)
    assert tup.checkpoint["id"] == "c02"
    assert tup.checkpoint["channel_values"] == {"a": [1, 2], "b": {"x": 1}}
    assert tup.metadata == {"step": 2}
    assert tup.config["configurable"]["checkpoint_id"] == "c02"
    assert tup.parent_config == reads.checkpoint_config("t", "", "c01", echo)
    assert tup.pending_writes == [("t1", ERROR, "boom"), ("t1", "b", "later")]
    assert reads.checkpoint_tuple(SERDE, c1, {}, [], {}).parent_config is None
    assert reads.metadata_matches(SERDE, c1, {"run_id": "r"})
    assert reads.metadata_matches(SERDE, c1, None)
    assert not reads.metadata_matches(SERDE, c2, {"run_id": "r"})


def test_checkpoint_filter_is_the_owners_checkpoints_expired_included() -> None:
    f = reads.checkpoint_filter("alice", ROOT, exact=True, tags=["c:1"], roles=("checkpoint",))
    assert f.owner == "alice" and f.namespace == ROOT and f.namespace_exact
    assert f.memory_types == ("checkpoint",) and f.tags == ("c:1",)
    assert f.include_expired and f.statuses is None


# -- cache ------------------------------------------------------------------------------------


def test_latest_ids_install_only_what_no_write_overtook() -> None:
    latest, key = LatestIds(), ("alice", "t", "")
    epoch = latest.epoch()
    latest.advance(key, (NOW, "c02"))  # a put ran while a read was out
    latest.install(key, (NOW, "c01"), epoch)  # what that read found: stale, ignored
    assert latest.get(key) is None
    latest.install(key, SEEN_EMPTY, latest.epoch(), bare=True)
    assert latest.get(key) is None and latest.bare("alice", "t")
    latest.advance(key, (NOW, "c02"))
    assert latest.get(key) == "c02" and not latest.bare("alice", "t")
    latest.advance(key, (NOW, "c01"))  # an older one put again: the latest stays
    assert latest.get(key) == "c02"
    latest.advance(key, None)  # its place unknown: forgotten
    assert latest.get(key) is None
    latest.install(key, (NOW, "c03"), latest.epoch())
    latest.install(("bob", "t", ""), (NOW, "b1"), latest.epoch())
    latest.forget("alice")
    assert latest.get(key) is None and latest.get(("bob", "t", "")) == "b1"


def test_refs_are_forgotten_by_thread_and_deferred_writes_carried_once() -> None:
    refs = RefsCache()
    refs.put(("alice", "t", "", "c01"), {"a": ["v", "c01"]})
    refs.put(("alice", "u", "", "c01"), {"a": ["v", "c01"]})
    refs.forget("alice", "t")
    assert refs.get(("alice", "t", "", "c01")) is None
    assert refs.get(("alice", "u", "", "c01")) == {"a": ["v", "c01"]}
    refs.forget("alice")
    assert refs.get(("alice", "u", "", "c01")) is None
    deferred = DeferredWrites()
    deferred.remember(("alice", "t", "", "c01"), "task", "cube-1", [[0]])
    assert deferred.take(("alice", "t", "", "c01")) == {"task": ("cube-1", [[0]])}
    assert deferred.take(("alice", "t", "", "c01")) == {}  # carried once
