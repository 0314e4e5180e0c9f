"""MemVault behaviour, run against both drivers (embedded Edge and qdrant-client)."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memos_lc import CubeFilter, LifecycleStatus, MemCube, MemoryKind, MemVault, Principal
from memos_lc.errors import (
    BlobIntegrityError,
    ConflictError,
    CubeNotFoundError,
    InvalidCubeError,
    InvalidInputError,
    InvalidNamespaceError,
    InvalidVectorError,
    PermissionDeniedError,
    VaultError,
    VersionNotFoundError,
)

FACTS = [
    (("alice", "health"), "Alice is allergic to peanuts", ("food",)),
    (("alice", "hobbies"), "Alice goes hiking in the Alps every summer", ("sport",)),
    (("alice", "pets"), "Alice's dog is a beagle named Biscuit", ()),
    (("alice", "work"), "Alice prefers async standups over meetings", ("work",)),
]


@pytest.fixture
def seeded(vault: MemVault, alice: Principal) -> dict[str, MemCube]:
    return {text: vault.add(alice, text, namespace=ns, tags=tags) for ns, text, tags in FACTS}


def texts(items) -> list[str]:
    """Texts of search hits or cubes, in order."""
    return [getattr(x, "cube", x).text for x in items]


# -- basics and search -------------------------------------------------------------------


def test_add_get_round_trip(vault: MemVault, alice: Principal) -> None:
    cube = vault.add(
        alice,
        "Alice lives in Lyon",
        namespace=("alice",),
        memory_type="user",
        provenance={"thread_id": "t1", "source_ids": ("D1:1",)},
    )
    got = vault.get(alice, cube.id)
    assert got == cube
    assert got.access.owner == "alice"
    assert got.provenance.source_ids == ("D1:1",)


def test_hybrid_search_finds_semantic_and_lexical_matches(vault, alice, seeded) -> None:
    # semantic: no shared word with the stored text
    assert texts(vault.search(alice, "what pet does she have?", limit=1)) == [
        "Alice's dog is a beagle named Biscuit"
    ]
    # lexical: a rare proper name the dense model knows nothing about
    assert texts(vault.search(alice, "Biscuit", limit=1)) == [
        "Alice's dog is a beagle named Biscuit"
    ]


def test_explain_reports_ranks_and_matched_terms(vault, alice, seeded) -> None:
    hit = vault.search(alice, "hiking trips", limit=1, explain=True)[0]
    assert hit.cube.text.startswith("Alice goes hiking")
    assert hit.dense_rank == 1 and hit.lexical_rank == 1
    assert hit.matched_terms == ("hiking",)


def test_search_modes(vault, alice, seeded) -> None:
    assert texts(vault.search(alice, "peanuts", mode="lexical")) == ["Alice is allergic to peanuts"]
    assert len(vault.search(alice, "peanuts", mode="dense", limit=4)) == 4
    with pytest.raises(InvalidInputError):
        vault.search(alice, "x", mode="fuzzy")


def test_namespace_prefix_filter(vault, alice, seeded) -> None:
    hits = vault.search(alice, "Alice", namespace=("alice", "pets"), limit=10)
    assert texts(hits) == ["Alice's dog is a beagle named Biscuit"]
    assert vault.count(alice, namespace=("alice",)) == 4
    assert vault.count(alice, namespace=("ali",)) == 0  # labels match whole, not by string prefix


def test_filters_on_tags_kinds_types_and_time(vault, alice, seeded) -> None:
    assert texts(
        vault.list(alice, filter=CubeFilter(tags=("food", "work")), newest_first=False)
    ) == ["Alice is allergic to peanuts", "Alice prefers async standups over meetings"]
    assert vault.count(alice, filter=CubeFilter(kinds=(MemoryKind.PLAINTEXT,))) == 4
    assert vault.count(alice, filter=CubeFilter(kinds=(MemoryKind.ACTIVATION,))) == 0
    later = vault.add(
        alice, "Alice started learning piano", namespace=("alice",), memory_type="episodic"
    )
    assert vault.count(alice, filter=CubeFilter(memory_types=("episodic",))) == 1
    assert [c.id for c in vault.list(alice, filter=CubeFilter(created_after=later.created_at))] == [
        later.id
    ]


def test_list_orders_and_pages(vault, alice, seeded) -> None:
    newest = vault.list(alice, limit=2)
    oldest = vault.list(alice, limit=2, newest_first=False)
    assert [c.text for c in newest] == [FACTS[3][1], FACTS[2][1]]
    assert [c.text for c in oldest] == [FACTS[0][1], FACTS[1][1]]
    assert [c.text for c in vault.list(alice, limit=2, offset=2, newest_first=False)] == [
        FACTS[2][1],
        FACTS[3][1],
    ]


# -- versions ----------------------------------------------------------------------------


def test_update_writes_a_new_version_and_keeps_history(vault, alice, seeded) -> None:
    v1 = seeded["Alice is allergic to peanuts"]
    v2 = vault.update(alice, v1.id, text="Alice is allergic to peanuts and shellfish")
    assert (v2.version, v2.replaces) == (2, v1.version_id)
    history = vault.history(alice, v1.id)
    assert [c.version for c in history] == [1, 2]
    assert history[0].text == "Alice is allergic to peanuts"
    assert history[0].superseded_by == v2.version_id
    assert vault.get(alice, v1.id).text.endswith("shellfish")
    assert vault.get(alice, v1.id, version=1).text == "Alice is allergic to peanuts"
    # only the head is searchable: one hit, the new text
    hits = vault.search(alice, "shellfish peanuts allergy", limit=10)
    assert [h.cube.version for h in hits if h.cube.id == v1.id] == [2]
    assert vault.count(alice) == 4


def test_update_header_only_keeps_text_and_provenance(vault, alice) -> None:
    c = vault.add(alice, "fact", namespace=("a",), provenance={"source_ids": ("D1:3",)})
    v2 = vault.update(alice, c.id, priority=0.9, tags=("important",))
    assert (v2.text, v2.priority, v2.tags) == ("fact", 0.9, ("important",))
    assert v2.provenance.source_ids == ("D1:3",)


def test_rollback_restores_an_old_version_as_new_head(vault, alice, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    vault.update(alice, c.id, text="wrong fact")
    r = vault.rollback(alice, c.id, 1)
    assert (r.version, r.text) == (3, "Alice is allergic to peanuts")
    assert [x.version for x in vault.history(alice, c.id)] == [1, 2, 3]
    assert texts(vault.search(alice, "peanuts", mode="lexical")) == ["Alice is allergic to peanuts"]
    with pytest.raises(VersionNotFoundError):
        vault.rollback(alice, c.id, 42)


def test_conditional_update_detects_conflicts(vault, alice, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    vault.update(alice, c.id, text="first writer", expected_version=1)
    with pytest.raises(ConflictError):
        vault.update(alice, c.id, text="second writer", expected_version=1)
    assert vault.get(alice, c.id).text == "first writer"


def test_soft_delete_tombstones_and_rollback_undeletes(vault, alice, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    tomb = vault.delete(alice, c.id, reason="user asked")
    assert tomb.status is LifecycleStatus.DELETED and tomb.provenance.note == "user asked"
    assert "Alice is allergic to peanuts" not in texts(vault.search(alice, "peanuts"))
    assert vault.count(alice) == 3
    assert vault.count(alice, filter=CubeFilter(statuses=(LifecycleStatus.DELETED,))) == 1
    assert vault.get(alice, c.id).status is LifecycleStatus.DELETED
    vault.rollback(alice, c.id, 1)
    assert vault.get(alice, c.id).status is LifecycleStatus.ACTIVE
    assert vault.count(alice) == 4


def test_purge_removes_every_version(vault, alice, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    vault.update(alice, c.id, text="v2")
    assert vault.purge(alice, c.id) == 2
    with pytest.raises(CubeNotFoundError):
        vault.get(alice, c.id)
    with pytest.raises(CubeNotFoundError):
        vault.history(alice, c.id)


def test_put_refuses_existing_ids_and_versions(vault, alice) -> None:
    c = vault.add(alice, "x", namespace=("a",))
    with pytest.raises(ConflictError):
        vault.put(alice, MemCube.from_text("y", namespace=("a",), id=c.id))
    with pytest.raises(InvalidCubeError):
        vault.put(alice, MemCube.from_text("y", namespace=("a",), version=2))
    # version links, even empty ones (hypothesis found ""), belong to update(), never to put()
    for link in ("replaces", "superseded_by"):
        with pytest.raises(InvalidCubeError):
            vault.put(alice, MemCube.from_text("z", namespace=("a",), **{link: ""}))
    assert vault.get(alice, c.id).text == "x"
    assert [x.text for x in vault.list(alice, namespace=("a",))] == ["x"]


def test_record_use_counts_hits_without_new_versions(vault, alice, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    vault.record_use(alice, [c.id])
    vault.record_use(alice, [c.id])
    got = vault.get(alice, c.id)
    assert got.usage.hits == 2 and got.usage.last_used_at is not None
    assert got.version == 1


# -- TTL ---------------------------------------------------------------------------------


def test_expired_cubes_are_never_returned_and_sweep_moves_them(vault, alice) -> None:
    soon = datetime.now(UTC) - timedelta(seconds=1)
    gone = vault.add(alice, "temporary passcode is 4711", namespace=("a",), expires_at=soon)
    kept = vault.add(alice, "permanent fact about passcodes", namespace=("a",))
    assert texts(vault.search(alice, "passcode 4711", limit=5)) == [kept.text]
    assert [c.id for c in vault.list(alice)] == [kept.id]
    assert vault.count(alice) == 1
    with pytest.raises(CubeNotFoundError):
        vault.get(alice, gone.id)
    assert vault.get(alice, gone.id, include_expired=True).id == gone.id
    assert vault.sweep_expired() == [gone.id]
    assert vault.sweep_expired() == []  # idempotent
    swept = vault.get(alice, gone.id, include_expired=True)
    assert (swept.status, swept.version) == (LifecycleStatus.EXPIRED, 2)


# -- access control ----------------------------------------------------------------------


def test_deny_by_default_across_principals(vault, alice, bob, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    assert vault.search(bob, "peanuts allergy") == []
    assert vault.list(bob) == [] and vault.count(bob) == 0
    for call in (
        lambda: vault.get(bob, c.id),
        lambda: vault.history(bob, c.id),
        lambda: vault.update(bob, c.id, text="hacked"),
        lambda: vault.delete(bob, c.id),
        lambda: vault.purge(bob, c.id),
        lambda: vault.rollback(bob, c.id, 1),
    ):
        with pytest.raises(CubeNotFoundError):  # existence is not revealed either
            call()
    assert vault.get(alice, c.id).version == 1


def test_readers_and_writers(vault, alice, bob) -> None:
    team = Principal(id="carol", roles=frozenset({"team"}))
    c = vault.add(
        alice, "shared roadmap item", namespace=("proj",), access={"readers": ("bob", "role:team")}
    )
    assert vault.get(bob, c.id).id == c.id and vault.get(team, c.id).id == c.id
    with pytest.raises(PermissionDeniedError):
        vault.update(bob, c.id, text="edit by reader")
    vault.update(alice, c.id, access={"readers": ("bob",), "writers": ("role:team",)})
    assert vault.update(team, c.id, text="edit by writer").version == 3
    with pytest.raises(PermissionDeniedError):  # writers cannot change the ACL
        vault.update(team, c.id, access={"readers": ("role:team", "mallory")})


def test_cannot_store_cubes_for_someone_else(vault, alice, admin) -> None:
    with pytest.raises(PermissionDeniedError):
        vault.add(alice, "x", namespace=("b",), access={"owner": "bob"})
    assert vault.add(admin, "x", namespace=("b",), access={"owner": "bob"}).access.owner == "bob"


def test_namespace_grants_cover_only_the_grantors_cubes(vault, alice, bob, admin) -> None:
    mine = vault.add(alice, "team wiki: deploys happen on Tuesdays", namespace=("team", "wiki"))
    other = vault.add(Principal(id="dave"), "dave's note on deploys", namespace=("team", "wiki"))
    g = vault.grant(alice, ("team",), "bob")
    assert texts(vault.search(bob, "deploys", limit=5)) == [mine.text]
    vault.revoke(alice, g.id)
    assert vault.search(bob, "deploys") == []
    vault.grant(admin, ("team", "wiki"), "role:staff", "write")
    staff = Principal(id="erin", roles=frozenset({"staff"}))
    assert sorted(texts(vault.search(staff, "deploys", limit=5))) == sorted([mine.text, other.text])
    assert vault.update(staff, other.id, text="edited by staff").version == 2
    with pytest.raises(PermissionDeniedError):
        vault.revoke(bob, vault.grants(admin)[0].id)


def test_admin_sees_everything(vault, alice, admin, seeded) -> None:
    assert vault.count(admin) == 4


# -- audit -------------------------------------------------------------------------------


def test_every_read_and_write_is_audited(vault, alice, bob, admin, seeded) -> None:
    c = seeded["Alice is allergic to peanuts"]
    vault.search(alice, "peanuts")
    vault.update(alice, c.id, text="v2")
    with pytest.raises(CubeNotFoundError):
        vault.get(bob, c.id)
    events = vault.audit_log(admin, limit=50)
    actions = [(e.principal, e.action, e.outcome) for e in events]
    assert actions[:3] == [
        ("bob", "get", "not_found"),
        ("alice", "update", "ok"),
        ("alice", "search", "ok"),
    ]
    assert c.id in events[2].cube_ids
    assert [e.action for e in vault.audit_log(admin, cube_id=c.id)][:2] == ["get", "update"]
    assert {e.principal for e in vault.audit_log(bob)} == {"bob"}
    with pytest.raises(PermissionDeniedError):
        vault.audit_log(bob, who="alice")
    assert sum(1 for e in events if e.action == "put") == len(FACTS)


# -- bad input changes nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda v, p: v.add(p, "", namespace=("a",)), InvalidCubeError),
        (lambda v, p: v.add(p, "x" * 70_000, namespace=("a",)), InvalidCubeError),
        (lambda v, p: v.add(p, "x", namespace=()), InvalidCubeError),
        (lambda v, p: v.add(p, "x", namespace="a"), InvalidCubeError),
        (lambda v, p: v.add(p, 42, namespace=("a",)), InvalidInputError),
        (
            lambda v, p: v.put(
                p, [MemCube.from_text("x", namespace=("a",))], vectors=[[math.nan] * 384]
            ),
            InvalidVectorError,
        ),
        (
            lambda v, p: v.put(p, [MemCube.from_text("x", namespace=("a",))], vectors=[[0.1] * 3]),
            InvalidVectorError,
        ),
        (
            lambda v, p: v.put(p, [MemCube.from_text("x", namespace=("a",))], vectors=[]),
            InvalidInputError,
        ),
        (lambda v, p: v.search(p, ""), InvalidInputError),
        (lambda v, p: v.search(p, "x", limit=0), InvalidInputError),
        (lambda v, p: v.search(p, "x", query_vector=[math.inf] * 384), InvalidVectorError),
        (lambda v, p: v.search(p, "x", namespace=("",)), InvalidNamespaceError),
        (lambda v, p: v.get(p, "no-such-id"), CubeNotFoundError),
        (lambda v, p: v.update(p, "no-such-id", text="x"), CubeNotFoundError),
        (lambda v, p: v.update(p, v.list(p)[0].id, version=9), InvalidInputError),
        (lambda v, p: v.update(p, v.list(p)[0].id, priority=7), InvalidCubeError),
        (lambda v, p: v.search(42, "x"), InvalidInputError),
    ],
)
def test_bad_input_raises_typed_error_and_changes_nothing(vault, alice, seeded, call, error):
    before = [
        (c.id, c.version, c.text) for c in vault.list(alice, filter=CubeFilter(statuses=None))
    ]
    with pytest.raises(error):
        call(vault, alice)
    after = [(c.id, c.version, c.text) for c in vault.list(alice, filter=CubeFilter(statuses=None))]
    assert after == before


# -- blobs -------------------------------------------------------------------------------


def test_activation_cube_with_blob(vault, alice) -> None:
    import torch
    from safetensors.torch import save

    tensors = {"k0": torch.arange(6.0).reshape(2, 3)}
    ref = vault.put_blob(alice, save(tensors, metadata={"model": "m"}))
    cube = MemCube.model_validate(
        {
            "namespace": ("alice",),
            "payload": {
                "kind": "activation",
                "blob": ref.model_dump(),
                "model_fingerprint": "m",
                "prefix_tokens": 2,
                "prefix_token_ids_sha256": "0" * 64,
                "source_text": "Alice likes green tea",
            },
        }
    )
    vault.put(alice, cube)
    hit = vault.search(alice, "green tea", filter=CubeFilter(kinds=(MemoryKind.ACTIVATION,)))[0]
    assert hit.cube.kind is MemoryKind.ACTIVATION
    tensors = vault.blobs.get_tensors(hit.cube.payload.blob)
    assert torch.equal(tensors["k0"], torch.arange(6.0).reshape(2, 3))
    assert vault.blobs.metadata(ref) == {"model": "m"}
    # purge drops the blob once no cube references it
    vault.purge(alice, cube.id)
    assert not vault.blobs.exists(ref)


def test_blob_store_rejects_corruption_and_non_safetensors(vault) -> None:
    import torch

    ref = vault.blobs.put_tensors({"x": torch.ones(4)})
    path = vault.blobs.root / ref.sha256[:2] / f"{ref.sha256}.safetensors"
    path.write_bytes(path.read_bytes()[:-1] + b"\x01")
    with pytest.raises(BlobIntegrityError):
        vault.blobs.get_tensors(ref)
    with pytest.raises(InvalidInputError):
        vault.blobs.put_bytes(b"\x80\x04pickle-like bytes")
    with pytest.raises(InvalidInputError):  # digests are validated: no path traversal
        vault.blobs.get_bytes("../../etc/passwd")


# -- async -------------------------------------------------------------------------------


async def test_async_twins(vault, alice) -> None:
    c = await vault.aadd(alice, "Alice drinks oolong tea", namespace=("a",))
    assert (await vault.aget(alice, c.id)).text == c.text
    hits = await vault.asearch(alice, "oolong")
    assert hits[0].cube.id == c.id
    await vault.aupdate(alice, c.id, text="Alice drinks jasmine tea")
    assert [x.version for x in await vault.ahistory(alice, c.id)] == [1, 2]
    assert await vault.acount(alice) == 1


# -- hardening found while building the CLI ----------------------------------------------


@pytest.mark.parametrize("grantee", ["", "bob\x01", "role:", "role:role:x"])
def test_bad_grantees_are_refused(vault, alice, grantee) -> None:
    with pytest.raises(InvalidInputError):
        vault.grant(alice, ("alice",), grantee)
    assert vault.grants(alice) == []


def test_provenance_strings_are_validated(vault, alice) -> None:
    with pytest.raises(InvalidCubeError):
        vault.add(alice, "x", namespace=("a",), provenance={"thread_id": "t\x1b[31m"})
    with pytest.raises(InvalidCubeError):
        vault.add(alice, "x", namespace=("a",), provenance={"note": "n" * 5000})
    assert vault.count(alice) == 0


def test_deleting_twice_writes_one_tombstone(vault, alice) -> None:
    c = vault.add(alice, "x", namespace=("a",))
    vault.delete(alice, c.id)
    assert vault.delete(alice, c.id).version == 2
    assert [v.version for v in vault.history(alice, c.id)] == [1, 2]


def test_reading_the_audit_log_and_grants_is_audited(vault, alice, admin) -> None:
    vault.audit_log(alice)
    vault.grants(alice)
    assert [e.action for e in vault.audit_log(admin, who="alice", limit=2)] == ["grants", "audit"]


# -- building blocks for the store and the checkpointer ----------------------------------


def test_unindexed_cubes_are_found_by_key_not_by_similarity(vault, alice) -> None:
    c = MemCube.from_text(
        "checkpoint of thread 7",
        namespace=("threads", "7"),
        key="ckpt-1",
        memory_type="checkpoint",
        payload={
            "kind": "plaintext",
            "text": "checkpoint of thread 7",
            "data": {"step": 3, "values": {"messages": ["hi"]}},
        },
    )
    vault.put(alice, c, index=False)
    assert vault.search(alice, "checkpoint of thread 7") == []
    ckpt = CubeFilter(namespace=("threads", "7"), key="ckpt-1", memory_types=("checkpoint",))
    found = vault.list(alice, filter=ckpt)
    assert [x.payload.data for x in found] == [{"step": 3, "values": {"messages": ["hi"]}}]
    v2 = vault.update(alice, c.id, text="checkpoint of thread 7, step 4")
    assert vault.search(alice, "checkpoint step 4") == []  # versions stay unindexed
    assert vault.rollback(alice, c.id, 1).payload.data["step"] == 3
    assert v2.version == 2
    with pytest.raises(InvalidInputError):
        vault.put(
            alice, MemCube.from_text("x", namespace=("a",)), vectors=[[0.1] * 384], index=False
        )


def test_structured_data_must_be_json(vault, alice) -> None:
    for bad in ({"x": {1, 2}}, {"x": float("nan")}, {"x": object()}):
        with pytest.raises(InvalidCubeError):
            MemCube.from_text(
                "x", namespace=("a",), payload={"kind": "plaintext", "text": "x", "data": bad}
            )


def test_exact_namespace_filter(vault, alice) -> None:
    vault.add(alice, "top", namespace=("a",))
    vault.add(alice, "below", namespace=("a", "b"))
    assert texts(vault.list(alice, filter=CubeFilter(namespace=("a",), namespace_exact=True))) == [
        "top"
    ]
    assert vault.count(alice, namespace=("a",)) == 2


# -- whole version chains (bundle imports) -----------------------------------------------


def test_put_history_writes_a_linked_version_chain(vault, alice, bob, admin) -> None:
    v1 = MemCube.from_text("Alice drinks coffee", namespace=("a",), tags=("drinks",))
    v2 = v1.next_version(payload={"kind": "plaintext", "text": "Alice drinks green tea"})
    v3 = v2.next_version(priority=0.9)
    other = MemCube.from_text("Alice runs on Sundays", namespace=("a",))
    stored = vault.put_history(alice, [v3, other, v1, v2])  # any order
    assert [(c.id, c.version) for c in stored] == [
        (v1.id, 1),
        (v1.id, 2),
        (v1.id, 3),
        (other.id, 1),
    ]
    history = vault.history(alice, v1.id)
    assert [(c.version, c.text, c.priority) for c in history] == [
        (1, "Alice drinks coffee", 0.5),
        (2, "Alice drinks green tea", 0.5),
        (3, "Alice drinks green tea", 0.9),
    ]
    assert [c.superseded_by for c in history] == [
        history[1].version_id,
        history[2].version_id,
        None,
    ]
    assert [c.replaces for c in history] == [None, history[0].version_id, history[1].version_id]
    assert {c.access.owner for c in history} == {"alice"}
    assert vault.get(alice, v1.id).version == 3  # the head
    assert [h.cube.version for h in vault.search(alice, "green tea")][:1] == [3]
    assert vault.count(alice) == 2  # one head per cube: superseded versions are not listed
    assert vault.update(alice, v1.id, text="Alice drinks oolong").version == 4  # chain goes on
    assert vault.rollback(alice, v1.id, 1).text == "Alice drinks coffee"

    with pytest.raises(ConflictError):  # ids that exist are refused, whatever the version
        vault.put_history(alice, [v1])
    gap = MemCube.from_text("x", namespace=("a",))
    with pytest.raises(InvalidCubeError, match="1..n"):
        vault.put_history(alice, [gap, gap.next_version().next_version()])
    with pytest.raises(PermissionDeniedError):
        vault.put_history(
            alice, [MemCube.from_text("y", namespace=("a",), access={"owner": "bob"})]
        )
    assert vault.put_history(
        admin, [MemCube.from_text("z", namespace=("b",), access={"owner": "bob"})]
    )
    assert vault.count(bob) == 1 and vault.count(alice) == 2
    assert [e.action for e in vault.audit_log(admin, who="alice", action="put_history")]


# -- building blocks for the LangGraph store (MemCubeStore) --------------------------------


def _item(key: str, data: dict, ns: tuple[str, ...] = ("s",)) -> MemCube:
    return MemCube.model_validate(
        {"namespace": ns, "key": key, "payload": {"kind": "plaintext", "text": key, "data": data}}
    )


def test_filter_by_many_keys_and_by_data_strings(vault, alice) -> None:
    vault.put(
        alice,
        [
            _item("a", {"type": "note", "meta": {"lang": "en"}}),
            _item("b", {"type": "todo", "meta": {"lang": "en"}}),
            _item("c", {"type": ["note", "x"]}),
            _item("d", {"type": "note"}, ns=("t",)),
        ],
        index=False,
    )
    keys = lambda f: sorted(c.key for c in vault.list(alice, filter=f))  # noqa: E731
    assert keys(CubeFilter(keys=("a", "c", "zz"))) == ["a", "c"]
    assert keys(CubeFilter(namespace=("s",), keys=("a", "d"))) == ["a"]
    assert keys(CubeFilter(data=(("type", "note"),))) == ["a", "c", "d"]  # arrays match too
    assert keys(CubeFilter(data=(("type", "note"), ("meta.lang", "en")))) == ["a"]
    with pytest.raises(InvalidInputError):
        vault.list(alice, filter=CubeFilter(data=(("meta[0]", "x"),)))


def test_update_with_a_vector_or_a_new_index_choice(vault, alice, embeddings) -> None:
    c = vault.put(alice, _item("k", {"v": 1}), index=False)[0]
    assert vault.search(alice, "beagle puppy") == []
    vec = embeddings.embed_query("a beagle puppy")
    v2 = vault.update(alice, c.id, text="a beagle puppy", vector=vec)  # now indexed
    assert texts(vault.search(alice, "beagle puppy")) == ["a beagle puppy"]
    vault.update(alice, c.id, text="a beagle", index=False)  # unindexed again
    assert vault.search(alice, "beagle") == []
    v4 = vault.update(alice, c.id, text="a beagle called Biscuit", index=True)  # embeds itself
    assert texts(vault.search(alice, "Biscuit")) == ["a beagle called Biscuit"]
    assert (v2.version, v4.version) == (2, 4)
    with pytest.raises(InvalidVectorError):
        vault.update(alice, c.id, text="x", vector=[0.1] * 3)
    with pytest.raises(InvalidInputError):
        vault.update(alice, c.id, text="x", vector=vec, index=False)
    assert vault.get(alice, c.id).version == 4


def test_refresh_expiry_in_place(vault, alice, bob) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=1)
    c = vault.add(alice, "short lived", namespace=("a",), expires_at=soon)
    later = soon + timedelta(hours=1)
    assert vault.refresh_expiry(alice, {c.id: later}) == [c.id]
    head = vault.get(alice, c.id)
    assert head.expires_at == later and head.version == 1  # no new version
    assert texts(vault.search(alice, "short lived")) == ["short lived"]  # vectors kept
    assert vault.count(alice, filter=CubeFilter(created_after=soon - timedelta(hours=1))) == 1
    assert vault.refresh_expiry(bob, {c.id: later + timedelta(hours=1)}) == []  # not bob's
    past = vault.add(
        alice, "gone", namespace=("a",), expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert vault.refresh_expiry(alice, {past.id: later}) == []  # expired stays expired
    with pytest.raises(InvalidInputError):
        vault.refresh_expiry(alice, {c.id: datetime(2030, 1, 1)})  # naive
    assert vault.get(alice, c.id).expires_at == later


# -- batch helpers: find and purge_many (used by the LangGraph checkpointer) ------------------


def test_find_is_a_batch_get_and_orders_by_creation(vault, alice, bob) -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    a = vault.put(
        alice, MemCube.from_text("first", ("f",), created_at=old, updated_at=old), index=False
    )[0]
    b = vault.add(alice, "second", namespace=("f",))
    vault.update(alice, a.id, text="first, edited")  # updated last, created first
    c = vault.add(bob, "bob's", namespace=("f",))
    got = vault.find(alice, cube_ids=[a.id, b.id, c.id, "no-such-id"])
    assert sorted(x.id for x in got) == sorted([a.id, b.id])  # unknown and bob's skipped
    assert sorted(vault.audit_log(alice, action="find")[0].cube_ids) == sorted([a.id, b.id])
    assert [x.text for x in vault.find(alice, namespace=("f",), order_by="created")] == [
        "second",
        "first, edited",
    ]
    assert [x.text for x in vault.find(alice, namespace=("f",), order_by="updated")] == [
        "first, edited",
        "second",
    ]
    oldest = vault.find(alice, namespace=("f",), order_by="created", newest_first=False, limit=1)
    assert [x.id for x in oldest] == [a.id]
    assert vault.find(alice, cube_ids=[]) == []
    with pytest.raises(InvalidInputError):
        vault.find(alice, order_by="size")


def test_purge_many_deletes_every_version_or_nothing(vault, alice, bob) -> None:
    a = vault.add(alice, "one", namespace=("p",))
    vault.update(alice, a.id, text="one, v2")
    b = vault.add(alice, "two", namespace=("p",))
    theirs = vault.add(bob, "bob's", namespace=("p",))
    assert vault.purge_many(bob, [a.id]) == 0  # invisible to bob: skipped, nothing deleted
    assert vault.get(alice, a.id).version == 2
    vault.grant(alice, ("p",), "bob")  # bob may now read, not change: denied, all or nothing
    with pytest.raises(PermissionDeniedError):
        vault.purge_many(bob, [theirs.id, a.id])
    assert vault.get(bob, theirs.id) and vault.get(alice, a.id)
    assert vault.purge_many(alice, [a.id, b.id, a.id, "no-such-id"]) == 3  # 2 + 1 versions
    for cid in (a.id, b.id):
        with pytest.raises(CubeNotFoundError):
            vault.history(alice, cid)
    assert vault.count(bob, namespace=("p",)) == 1
    assert vault.audit_log(alice, action="purge")[0].cube_ids == (a.id, b.id)


# -- deferred puts: the id filter that spares them the engine lookup ---------------------


def test_id_filter_has_no_false_negatives_and_few_false_positives() -> None:
    import uuid

    from memos_lc.vault.deferred import IdFilter

    stored = [str(uuid.uuid4()) for _ in range(3000)]
    f = IdFilter(stored[:1000], capacity=1000)
    for key in stored[1000:]:  # past its capacity: it grows by a layer, keeping what it had
        f.add(key)
    assert all(key in f for key in stored)
    others = [str(uuid.uuid4()) for _ in range(20_000)]
    false_positives = sum(key in f for key in others)
    assert false_positives < 0.02 * len(others)
    assert 42 not in f  # only strings are ids


def test_deferred_puts_refuse_existing_ids_with_or_without_the_engine(tmp_path) -> None:
    """A deferred put asks the engine only about ids its filter may have seen: ids stored
    before the filter existed (an earlier session), put since (directly, deferred, as
    history) or still waiting must all still raise ConflictError, and change nothing."""
    from memos_lc.vault.deferred import IdFilter

    alice = Principal(id="alice")
    path = tmp_path / "vault"
    old = MemCube.from_text("from an earlier session", namespace=("d",))
    with MemVault.open(path) as vault:
        vault.put(alice, old, index=False)
    with MemVault.open(path) as vault:
        assert vault.deferred is not None
        assert vault.deferred.id_filter is None  # built by the first deferred put
        first = MemCube.from_text("first", namespace=("d",))
        vault.put(alice, first, index=False, deferred=True)
        assert isinstance(vault.deferred.id_filter, IdFilter)
        direct = vault.put(alice, MemCube.from_text("direct", namespace=("d",)), index=False)[0]
        chain = [
            MemCube.from_text("v1", namespace=("d",)),
        ]
        history = vault.put_history(alice, chain, index=False)[0]
        for taken in (old, first, direct, history):
            again = MemCube.from_text("again", namespace=("d",), id=taken.id)
            with pytest.raises(ConflictError):
                vault.put(alice, again, index=False, deferred=True)
        vault.flush()  # once in the engine, the filter still answers "maybe": it asks
        with pytest.raises(ConflictError):
            vault.put(
                alice,
                MemCube.from_text("again", namespace=("d",), id=first.id),
                index=False,
                deferred=True,
            )
        texts = sorted(c.text for c in vault.find(alice, namespace=("d",)))
        assert texts == ["direct", "first", "from an earlier session", "v1"]
        fresh = MemCube.from_text("fresh", namespace=("d",))
        vault.put(alice, fresh, index=False, deferred=True)  # new ids still go in
        assert vault.get(alice, fresh.id).text == "fresh"


def test_a_vault_with_too_many_points_keeps_asking_the_engine(tmp_path, monkeypatch) -> None:
    import memos_lc.vault.deferred

    alice = Principal(id="alice")
    monkeypatch.setattr(memos_lc.vault.deferred, "ID_FILTER_MAX", 1)
    with MemVault.open(tmp_path / "vault") as vault:
        a, b = (MemCube.from_text(t, namespace=("d",)) for t in "ab")
        vault.put(alice, [a, b], index=False)
        vault.put(alice, MemCube.from_text("c", namespace=("d",)), index=False, deferred=True)
        assert vault.deferred is not None
        assert vault.deferred.id_filter is False
        with pytest.raises(ConflictError):
            vault.put(
                alice, MemCube.from_text("x", namespace=("d",), id=a.id), index=False, deferred=True
            )


def test_deferred_puts_batch_withdraw_and_cut_the_same_batches_after_a_crash(tmp_path) -> None:
    """DeferredPuts alone (no engine): what waits, withdrawn cubes leaving their batch (all of
    a principal's, too), batches of DEFER_BATCH per principal in put order, and a journal
    read again after a crash mid-flush cutting the same batches, with the same event ids."""
    from memos_lc.cube import utcnow
    from memos_lc.vault.deferred import DEFER_BATCH, Batch, DeferredPuts, read_journal
    from memos_lc.vault.versions import first_version

    alice, bob, carol = (Principal(id=n) for n in ("alice", "bob", "carol"))

    def owned(principal: Principal, n: int) -> list[MemCube]:
        made = [MemCube.from_text(f"{principal.id} {i}", namespace=("d",)) for i in range(n)]
        return [first_version(principal, c, utcnow()) for c in made]

    def drained(deferred: DeferredPuts) -> list[Batch]:
        out = []
        while (batch := deferred.next_batch()) is not None:
            out.append(batch)
            deferred.written(batch)
        return out

    deferred = DeferredPuts(tmp_path / "withdraw.jsonl", fsync=False)
    deferred.clear()  # as the vault does at open, once the journal's records are in
    a, b, c = owned(alice, DEFER_BATCH + 2), owned(bob, 2), owned(carol, 1)
    assert not deferred.add(alice, a[:3])
    assert not deferred.add(bob, b)
    assert not deferred.add(carol, c, withdraw=[c[0].id])  # all of carol's: none waits
    assert deferred.add(alice, a[3:], withdraw=[a[0].id])  # DEFER_BATCH + 1 wait: one is due
    assert len(deferred) == DEFER_BATCH + 3 and deferred.due
    assert a[0].version_id not in deferred and a[1].version_id in deferred
    assert deferred.waiting(alice, [a[0].id, a[1].id, b[0].id]) == {a[1].id}
    assert deferred.waiting(carol, [c[0].id]) == set()
    deferred.add_event("e1", {"action": "get"})
    batches = drained(deferred)
    assert [(x.principal, x.cubes) for x in batches] == [
        (alice, a[1 : DEFER_BATCH + 1]),
        (alice, a[DEFER_BATCH + 1 :]),
        (bob, b),
    ]
    assert len(deferred) == 0 and deferred.pending and not deferred.due  # the event waits
    assert deferred.events == [("e1", {"action": "get"})]
    deferred.events_written(1)
    assert not deferred.pending
    deferred.clear()
    deferred.close()
    assert read_journal(tmp_path / "withdraw.jsonl") == ([], [])

    path = tmp_path / "crash.jsonl"
    deferred = DeferredPuts(path, fsync=False)
    deferred.clear()
    deferred.add(alice, a[:5])
    with pytest.raises(VaultError, match="still holds"):  # acknowledged, not yet in the engine
        deferred.clear()
    deferred.add(bob, b)
    deferred.add(alice, a[5:])
    written = drained(deferred)
    deferred.close()  # killed before clear(): the journal holds every put
    reopened = DeferredPuts(path, fsync=False)
    assert drained(reopened) == written
    reopened.close()
    assert [len(x.cubes) for x in written] == [DEFER_BATCH, 2, 2]
    assert len({x.event_id for x in written}) == 3


def test_a_flush_that_fails_partway_keeps_the_rest_acknowledged(tmp_path, monkeypatch) -> None:
    """The engine fails on the second batch of a deferred put: the put is still acknowledged
    (journaled), the first batch stays written and leaves the waiting set, the rest waits and
    the next flush writes it; until then the journal holds everything, so a crash at that
    point replays every cube once."""
    from memos_lc.vault.deferred import DEFER_BATCH, JOURNAL, read_journal
    from memos_lc.vault.schema import CUBES

    path, alice = tmp_path / "vault", Principal(id="alice")
    total = DEFER_BATCH + 72
    with MemVault.open(path) as vault:
        real, batches = vault.driver.upsert, []

        def engine_down_once(collection: str, points: list) -> None:
            if collection == CUBES:
                batches.append(len(points))
                if len(batches) == 2:
                    raise RuntimeError("engine down")
            real(collection, points)

        monkeypatch.setattr(vault.driver, "upsert", engine_down_once)
        cubes = [MemCube.from_text(f"fact {i}", namespace=("d",)) for i in range(total)]
        vault.put(alice, cubes, index=False, deferred=True)  # acknowledged all the same
        assert batches == [DEFER_BATCH, 72] and len(vault.deferred) == 72
        assert [len(c) for _, c in read_journal(path / JOURNAL).puts] == [total]
        crashed = (path / JOURNAL).read_bytes()
        vault.flush()
        assert len(vault.deferred) == 0 and read_journal(path / JOURNAL).puts == []
        assert vault.count(alice, namespace=("d",)) == total
    other = tmp_path / "replayed"  # a crash right after the failure: the journal as it was
    MemVault.open(other).close()
    (other / JOURNAL).write_bytes(crashed)
    with MemVault.open(other) as replayed:
        assert replayed.count(alice, namespace=("d",)) == total


def test_audit_events_wait_in_the_journal_until_the_next_batch(tmp_path) -> None:
    """On an embedded vault a call's audit event is journaled, not written to the engine at
    once: audit_log() shows it all the same, a crash keeps it (the journal is replayed), and a
    stream of reads alone writes its events every DEFER_BATCH."""
    from memos_lc.vault.deferred import read_journal
    from memos_lc.vault.qdrant import AUDIT, DEFER_BATCH, JOURNAL

    alice = Principal(id="alice")
    path = tmp_path / "vault"
    with MemVault.open(path) as vault:
        cube = vault.put(alice, MemCube.from_text("x", namespace=("a",)), index=False)[0]
        vault.get(alice, cube.id)
        waiting = read_journal(path / JOURNAL).events
        assert [p["action"] for _, p in waiting] == ["put", "get"]
        assert vault.driver.count(AUDIT, filter=None) == 0  # none in the engine yet
        crashed = (path / JOURNAL).read_bytes()  # what a crash would leave behind now
        assert [e.action for e in vault.audit_log(alice)] == ["get", "put"]
        assert read_journal(path / JOURNAL).events[-1][1]["action"] == "audit"
        for _ in range(DEFER_BATCH + 1):
            vault.get(alice, cube.id)
        assert len(read_journal(path / JOURNAL).events) < DEFER_BATCH  # written as a batch
    MemVault.open(tmp_path / "after-crash").close()
    (tmp_path / "after-crash" / JOURNAL).write_bytes(crashed)
    with MemVault.open(tmp_path / "after-crash") as vault:
        assert [e.action for e in vault.audit_log(alice)] == ["get", "put"]


_KILLED_WITHOUT_CLOSE = """
import os, sys
from memos_lc import MemCube, MemVault, Principal
vault = MemVault.open(":memory:")
vault.put(Principal(id="a"), [MemCube.from_text("x", namespace=("a",))], vectors=[[1.0] * 384])
os._exit(9)  # killed: no close, no exit hooks
"""


def test_a_vault_without_blobs_leaves_no_scratch_directory(tmp_path: Path) -> None:
    """A ":memory:" or server vault keeps blobs in a scratch directory: made only when a blob
    is first used, and removed on close, so killed processes and unclosed vaults that never
    held a blob leave nothing in the temp dir."""
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _KILLED_WITHOUT_CLOSE], env=env, capture_output=True, timeout=120
    )
    assert out.returncode == 9, out.stderr[-2000:]
    assert not list(tmp_path.glob("memos-blobs-*"))

    vault = MemVault.open(":memory:")
    scratch = vault.blobs.root
    assert scratch.is_dir() and scratch.name.startswith("memos-blobs-")
    vault.close()
    assert not scratch.exists()


def test_what_a_newcomer_types_works_or_says_what_to_do(plain_vault: MemVault) -> None:
    from memos_lc.store import MemCubeStore

    alice = Principal("alice")  # positional, as one would guess
    assert alice == Principal(id="alice")
    cube = MemCube.from_text("tagged", namespace=("alice",), tags=("t",))
    plain_vault.put(alice, cube, vectors=[[1.0] + [0.0] * (plain_vault.dims - 1)])
    assert [c.id for c in plain_vault.list(alice, filter={"tags": ("t",)})] == [cube.id]
    assert plain_vault.count(alice, filter={"tags": ("nope",)}) == 0
    with pytest.raises(InvalidInputError, match="filter"):
        plain_vault.list(alice, filter=["tags"])
    with pytest.raises(InvalidInputError, match="filter"):
        plain_vault.list(alice, filter={"no_such_field": 1})
    with pytest.raises(InvalidInputError, match="from_path"):
        MemCubeStore("/tmp/vault")
    with pytest.raises(InvalidInputError, match="location"):
        MemVault.open(123)


def test_structured_data_floats_come_back_exactly(vault: MemVault) -> None:
    """The engine parses the nested payload copy itself and may move a float by one ULP;
    the cube is read from its header JSON, which keeps the value as written."""
    owner = Principal("maya")
    x = 2.0117028875153223e152  # came back as ...225e152 from the nested copy
    cube = MemCube.model_validate(
        {"namespace": ["maya"], "payload": {"kind": "plaintext", "text": "t", "data": {"k": x}}}
    )
    vault.put(owner, [cube], vectors=[[1.0] + [0.0] * (vault.dims - 1)])
    assert vault.get(owner, cube.id).payload.data == {"k": x}
    assert vault.find(owner, namespace=("maya",), filter={"data": [["k", "nothing"]]}) == []
