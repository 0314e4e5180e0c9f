"""The checkpointer's storage shape on its own (memos_lc.checkpoint.codec): no vault, no I/O."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from memos_lc.checkpoint import codec
from memos_lc.cube import MemCube, utcnow
from memos_lc.errors import VaultCorruptError

SERDE = JsonPlusSerializer(pickle_fallback=False)


def build(env: dict, kind: str = codec.CHECKPOINT) -> list[MemCube]:
    return codec.cubes_for(
        env,
        owner="alice",
        cube_id="00000000-0000-4000-8000-000000000001",
        namespace=codec.thread_namespace(env["thread"], env["ns"]),
        kind=kind,
        tags=(codec.tag("c", env["id"]),),
        key=codec.lookup_key(env["id"]),
        created=utcnow(),
        expires=utcnow() + timedelta(hours=1),
    )


def checkpoint_env(values: dict) -> dict:
    ckpt = empty_checkpoint()
    ckpt["channel_values"] = values
    ckpt["channel_versions"] = dict.fromkeys(values, 1)
    return codec.checkpoint_envelope(
        SERDE,
        thread_id="t\x00hread",
        ns="",
        parent_id=None,
        checkpoint=ckpt,
        metadata={"step": 3, "source": "loop"},
        new_versions=dict.fromkeys(values, 1),
    )


def test_a_checkpoint_round_trips_through_one_cube() -> None:
    env = checkpoint_env({"messages": ["hi", {"a": 1}], "n": 2})
    cubes = build(env)
    assert len(cubes) == 1 and cubes[0].payload.data is env  # the envelope, nothing around it
    assert MemCube.model_validate_json(cubes[0].model_dump_json()) == cubes[0]
    back = codec.decode(MemCube.from_json(cubes[0].model_dump_json()), {})
    assert back == env
    values = {ch: codec.load_value(SERDE, t, d) for ch, (_, t, d) in back["blobs"].items()}
    assert values == {"messages": ["hi", {"a": 1}], "n": 2}
    assert codec.load_value(SERDE, *back["metadata"]) == {"step": 3, "source": "loop"}
    assert codec.blob_refs(back, {"messages": 1, "n": 1, "other": 7}) == {
        "messages": [1, env["id"]],
        "n": [1, env["id"]],
    }


def test_a_large_envelope_is_chunked_and_checked() -> None:
    big = os.urandom(5_000_000)
    env = checkpoint_env({"blob": big})
    cubes = build(env)
    assert len(cubes) == 3 and [codec.kind_of(c) for c in cubes] == ["checkpoint", "chunk", "chunk"]
    assert [c.id for c in cubes[1:]] == codec.chunk_ids(cubes[0])
    for c in cubes:  # each within the vault's limits
        assert MemCube.model_validate(c.model_dump()) == c
    chunks = {c.id: c for c in cubes[1:]}
    back = codec.decode(cubes[0], chunks)
    _, type_, data = back["blobs"]["blob"]
    assert codec.load_value(SERDE, type_, data) == big
    with pytest.raises(VaultCorruptError, match="unreadable"):  # a chunk missing
        codec.decode(cubes[0], {cubes[1].id: cubes[1]})
    swapped = {cubes[1].id: cubes[2], cubes[2].id: cubes[1]}
    with pytest.raises(VaultCorruptError, match="do not match"):
        codec.decode(cubes[0], swapped)


def test_an_envelope_inline_is_under_the_limit_as_the_vault_measures_it(monkeypatch) -> None:
    """The size test measures compact JSON (pydantic's, as the header holds it) while the
    vault's limit counts ``json.dumps``'s spaces too: many small channels make those many.
    Near the limit the envelope is measured exactly, so one that fits is never chunked."""
    import json

    monkeypatch.setattr(codec, "CHUNK_CHARS", 20_000)
    for n in range(400, 1200, 40):  # compact JSON from under to over the limit
        env = checkpoint_env({f"c{i}": None for i in range(n)})
        cubes = build(env)
        spaced = len(json.dumps(env, ensure_ascii=False).encode())
        if len(cubes) == 1:
            assert spaced <= codec.CHUNK_CHARS
        else:
            assert spaced > codec.CHUNK_CHARS  # chunked only when it does not fit
            assert all(len(json.dumps(c.payload.data)) <= 2 * codec.CHUNK_CHARS for c in cubes)
            assert codec.decode(cubes[0], {c.id: c for c in cubes[1:]}) == env
    # both kinds were seen: the loop crossed the limit
    assert len(build(checkpoint_env({f"c{i}": None for i in range(400)}))) == 1
    assert len(build(checkpoint_env({f"c{i}": None for i in range(1160)}))) > 1


def test_writes_round_trip_merge_and_sort() -> None:
    first = codec.writes_entries(SERDE, [("a", 1), ("__error__", "boom")], "~p, t")
    again = codec.writes_entries(SERDE, [("a", 99), ("__error__", "later")], "~p, t")
    merged = codec.merge_writes(first, again)  # a regular write kept, a special one replaced
    env = codec.writes_envelope(
        thread_id="t", ns="", checkpoint_id="c1", task_id="t", entries=merged
    )
    cube = build(env, kind=codec.WRITES)[0]
    assert codec.describe(env).startswith("LangGraph pending writes of task 't'")
    back = codec.decode(MemCube.from_json(cube.model_dump_json()), {})
    other = codec.writes_envelope(
        thread_id="t",
        ns="",
        checkpoint_id="c1",
        task_id="s",
        entries=codec.writes_entries(SERDE, [("b", 2)], ""),
    )
    assert codec.pending_writes(SERDE, [back, other]) == [
        ("s", "b", 2),  # no task path sorts first
        ("t", "__error__", "later"),
        ("t", "a", 1),
    ]


def test_carried_writes_read_as_writes_envelopes() -> None:
    env = checkpoint_env({})
    env["parent"] = "p1"
    entries = codec.writes_entries(SERDE, [("x", "v")], "")
    env["carried_writes"] = [["task", sorted(entries.values())]]
    (carried,) = codec.carried_writes(env)
    assert carried["id"] == "p1" and carried["carried"] is True
    assert codec.pending_writes(SERDE, [carried]) == [("task", "x", "v")]


@pytest.mark.parametrize(
    "data",
    [{"b": "AAAA"}, {"format": 1, "t": "x"}, {"json": "{not json"}, {"json": 3}, None],
)
def test_unknown_or_broken_envelopes_are_typed_errors(data: object) -> None:
    cube = MemCube.model_validate(
        {
            "namespace": codec.ROOT,
            "memory_type": "checkpoint",
            "access": {"owner": "alice"},
            "tags": ["checkpoint"],
            "payload": {"kind": "plaintext", "text": "x", "data": data},
        }
    )
    with pytest.raises(VaultCorruptError):
        codec.decode(cube, {})


def test_pickle_is_refused_both_ways() -> None:
    class Pickler:
        def dumps_typed(self, value: object) -> tuple[str, bytes]:
            return "pickle", b"\x80\x04N."

    with pytest.raises(TypeError, match="never pickles"):
        codec.dump_value(Pickler(), None)  # type: ignore[arg-type]
    with pytest.raises(VaultCorruptError, match="unpickle"):
        codec.load_value(SERDE, "pickle", "gAROLg==")
    with pytest.raises(VaultCorruptError, match="unreadable"):
        codec.load_value(SERDE, "msgpack", "not base64!")


def test_names_are_clean_and_bounded() -> None:
    assert codec.tag("c", "x" * 200).startswith("c#") and len(codec.tag("c", "x" * 200)) < 128
    assert codec.thread_namespace("a\x00b")[-1].startswith("#")
    assert codec.lookup_key("k\x00") is None
    with pytest.raises(codec.CheckpointConfigError):
        codec.config_str("\ud800", "thread_id")
    assert codec.cube_id("o", "t", "", "checkpoint", "1") != codec.cube_id(
        "o", "t", "", "writes", "1"
    )
