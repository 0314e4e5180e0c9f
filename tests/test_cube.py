"""MemCube: validation, JSON round trip, versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memos_lc.cube import (
    MAX_TEXT_CHARS,
    LifecycleStatus,
    MemCube,
    MemoryKind,
    validate_namespace,
    version_id,
)
from memos_lc.errors import InvalidCubeError, InvalidNamespaceError


def test_plaintext_cube_round_trips_through_json() -> None:
    cube = MemCube.from_text(
        "Caroline went to the support group",
        namespace=("locomo", "conv-1"),
        memory_type="episodic",
        tags=("event",),
        provenance={
            "origin": "reader",
            "thread_id": "t1",
            "message_ids": ("m1",),
            "source_ids": ("D1:3",),
        },
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    restored = MemCube.from_json(cube.to_json())
    assert restored == cube
    assert restored.kind is MemoryKind.PLAINTEXT
    assert restored.provenance.source_ids == ("D1:3",)
    assert restored.status is LifecycleStatus.ACTIVE


def test_activation_payload_is_discriminated_by_kind() -> None:
    cube = MemCube.model_validate(
        {
            "namespace": ("a",),
            "payload": {
                "kind": "activation",
                "blob": {"sha256": "ab" * 32, "size": 10},
                "model_fingerprint": "smollm2:abc",
                "prefix_tokens": 12,
                "prefix_token_ids_sha256": "cd" * 32,
                "source_text": "memory block",
            },
        }
    )
    assert cube.kind is MemoryKind.ACTIVATION
    assert cube.text == "memory block"
    assert MemCube.from_json(cube.to_json()) == cube


@pytest.mark.parametrize(
    "namespace",
    [(), "alice", ("a", ""), ("a", 1), ("a\x1fb",), ("x",) * 17, None, ("a" * 300,)],
)
def test_bad_namespaces_raise_typed_error(namespace) -> None:
    with pytest.raises(InvalidNamespaceError):
        validate_namespace(namespace)
    with pytest.raises(InvalidCubeError):
        MemCube.from_text("text", namespace=namespace)


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_TEXT_CHARS + 1), "nul\x00byte"])
def test_bad_text_raises_typed_error(text: str) -> None:
    with pytest.raises(InvalidCubeError):
        MemCube.from_text(text, namespace=("a",))


@pytest.mark.parametrize(
    "header",
    [
        {"priority": float("nan")},
        {"priority": 2.0},
        {"confidence": -0.1},
        {"memory_type": "Not An Identifier"},
        {"created_at": datetime(2024, 1, 1)},  # naive datetimes are ambiguous
        {"tags": ("",)},
        {"version": 0},
        {"unknown_field": 1},
        {"bookkeeping": {"role": "Not An Identifier"}},
        {"bookkeeping": {"role": "store_item", "ttl_minutes": 0}},
        {"bookkeeping": {"role": "store_item", "ttl_minutes": float("inf")}},
        {"bookkeeping": {"role": "store_item", "born": datetime(2024, 1, 1)}},
        {"bookkeeping": {"role": "store_item", "extra": 1}},
    ],
)
def test_bad_header_fields_raise_typed_error(header) -> None:
    with pytest.raises(InvalidCubeError):
        MemCube.from_text("text", namespace=("a",), **header)


def test_bookkeeping_is_typed_stored_flat_and_filterable() -> None:
    from memos_lc.vault.schema import CubeFilter, cube_from_payload, cube_point

    born = datetime(2026, 1, 2, tzinfo=UTC)
    bk = {"role": "store_item", "born": born, "ttl_minutes": 5}
    cube = MemCube.from_text("text", namespace=("a",), bookkeeping=bk, access={"owner": "al"})
    assert cube.bookkeeping.born == born and cube.bookkeeping.ttl_minutes == 5.0
    point = cube_point(cube, None, None, head=True)
    assert point.payload["role"] == "store_item" and point.payload["indexed"] == "n"
    assert cube_from_payload(point.payload) == cube
    conditions = CubeFilter(roles=("store_item",), indexed=False).conditions()
    assert {"key": "role", "match": {"any": ["store_item"]}} in conditions
    assert {"key": "indexed", "match": {"value": "n"}} in conditions


def test_invalid_cube_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        MemCube.from_json("{not json")


def test_custom_memory_types_are_allowed() -> None:
    assert MemCube.from_text("x", namespace=("a",), memory_type="skill").memory_type == "skill"


def test_next_version_links_versions() -> None:
    v1 = MemCube.from_text("old", namespace=("a",), access={"owner": "alice"})
    v2 = v1.next_version(payload={"kind": "plaintext", "text": "new"})
    assert (v2.id, v2.version, v2.replaces) == (v1.id, 2, v1.version_id)
    assert v2.version_id == version_id("alice", v1.id, 2) != v1.version_id
    assert v2.created_at == v1.created_at and v2.updated_at >= v1.updated_at


def test_storage_ids_are_scoped_per_owner() -> None:
    """#17 item 10: the same cube id under two owners is two cubes, stored apart."""
    mine = MemCube.from_text("x", namespace=("a",), id="shared", access={"owner": "alice"})
    theirs = mine.replace(access={"owner": "bob"})
    assert mine.version_id != theirs.version_id
    assert mine.version_id == version_id("alice", "shared", 1)
    with pytest.raises(InvalidCubeError, match="no owner"):
        _ = MemCube.from_text("x", namespace=("a",)).version_id


def test_expiry() -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert MemCube.from_text("x", namespace=("a",), expires_at=past).is_expired()
    assert not MemCube.from_text("x", namespace=("a",)).is_expired()


@given(st.text(max_size=200), st.uuids())
def test_uuid5_str_is_uuid5(name: str, namespace: uuid.UUID) -> None:
    """Stored ids are derived with it: it must give exactly what uuid.uuid5 gives."""
    from memos_lc.cube import uuid5_str

    try:
        name.encode()
    except UnicodeEncodeError:  # a lone surrogate: neither can derive an id from it
        with pytest.raises(UnicodeEncodeError):
            uuid5_str(namespace, name)
        return
    assert uuid5_str(namespace, name) == str(uuid.uuid5(namespace, name))


def test_a_stored_header_is_read_without_walking_its_data_again() -> None:
    """from_json(stored=True) is the vault reading back a header it wrote: the data's depth
    and integer checks ran when the cube was made, so only they are skipped; input from
    outside (the default) is checked in full, and every other field is checked either way."""
    import json

    from memos_lc.cube import MAX_DATA_DEPTH, PlaintextPayload

    payload = PlaintextPayload(text="t", data={"a": [1, {"b": "c"}]})
    good = MemCube(namespace=("n",), payload=payload)
    assert MemCube.from_json(good.to_json(), stored=True) == MemCube.from_json(good.to_json())
    deep: dict = {}
    node = deep
    for _ in range(MAX_DATA_DEPTH + 1):
        node["x"] = node = {}
    raw = good.to_json().replace('{"a":[1,{"b":"c"}]}', json.dumps(deep))
    assert raw != good.to_json()
    with pytest.raises(InvalidCubeError):
        MemCube.from_json(raw)
    assert MemCube.from_json(raw, stored=True).payload.data == deep
    bad_namespace = good.to_json().replace('"namespace":["n"]', '"namespace":[""]')
    with pytest.raises(InvalidCubeError):
        MemCube.from_json(bad_namespace, stored=True)
