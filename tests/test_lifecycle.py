"""Consolidation on a real vault (both drivers): merges keep history and roll back,
contradictions become new versions, TTL expiry, promotion candidates and promoters,
isolation between principals, idempotency, dry runs and judges."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from safetensors.numpy import save as save_tensors

from memos_lc import CubeFilter, LifecycleStatus, MemCube, MemVault, Principal
from memos_lc.cube import utcnow
from memos_lc.errors import InvalidInputError
from memos_lc.lifecycle import (
    LifecyclePolicy,
    ModelJudge,
    PairJudgement,
    aconsolidate,
    consolidate,
    parse_judgement,
    text_fingerprint,
)
from memos_lc.retrievers import MemCubeChatMessageHistory
from memos_lc.store import MemCubeStore

NS = ("alice", "facts")
EVERY_STATUS = CubeFilter(statuses=None, include_expired=True)


def add(
    vault: MemVault,
    who: Principal,
    text: str,
    *,
    ns=NS,
    age: timedelta | None = None,
    **header: Any,
) -> MemCube:
    if age is not None:
        header.setdefault("created_at", utcnow() - age)
        header.setdefault("updated_at", utcnow() - age)
    return vault.add(who, text, namespace=ns, **header)


def heads(vault: MemVault, who: Principal, ns=NS) -> dict[str, MemCube]:
    return {c.id: c for c in vault.find(who, namespace=ns, filter=EVERY_STATUS, limit=1000)}


def versions(vault: MemVault, admin: Principal) -> int:
    return sum(len(vault.history(admin, c.id)) for c in heads(vault, admin, ("alice",)).values())


# -- near-duplicates ---------------------------------------------------------------------------


def test_near_duplicates_merge_into_one_cube_with_history_and_rollback(vault, alice) -> None:
    a = add(
        vault,
        alice,
        "Alice is allergic to peanuts",
        age=timedelta(days=3),
        provenance={"source_ids": ("turn-1",)},
        tags=("health",),
    )
    b = add(
        vault,
        alice,
        "alice is allergic to peanuts.",
        age=timedelta(days=2),
        provenance={"source_ids": ("turn-7",)},
    )
    c = add(
        vault,
        alice,
        "Alice has an allergy to peanuts",
        provenance={"source_ids": ("turn-9", "turn-1")},
        tags=("food",),
    )
    other = add(vault, alice, "Alice is allergic to peanuts and shellfish")  # adds information
    work = add(vault, alice, "Alice works at ACME as an engineer")

    report = consolidate(vault, alice, NS)

    assert len(report.deduplicated) == 1 and not report.resolved
    merge = report.deduplicated[0]
    assert merge.created and merge.version == 1
    assert set(merge.sources) == {a.id, b.id, c.id}
    assert set(report.merged) == {a.id, b.id, c.id} and report.archived == ()
    new = vault.get(alice, merge.cube_id)
    assert new.text == c.text  # the newest wording by default
    assert set(new.provenance.derived_from) == {a.id, b.id, c.id}
    assert set(new.provenance.source_ids) == {"turn-1", "turn-7", "turn-9"}  # evidence survives
    assert new.provenance.origin == "consolidation" and new.provenance.actor == "alice"
    assert set(new.tags) == {"health", "food"}
    assert new.created_at == a.created_at  # known since the oldest member

    for old in (a, b, c):
        hist = vault.history(alice, old.id)
        assert [v.status for v in hist] == [LifecycleStatus.ACTIVE, LifecycleStatus.MERGED]
        assert hist[0].text == old.text and merge.cube_id in hist[1].provenance.note
    assert vault.get(alice, other.id).version == 1 and vault.get(alice, work.id).version == 1
    hits = [h.cube.id for h in vault.search(alice, "peanut allergy", namespace=NS)]
    assert merge.cube_id in hits and not {a.id, b.id, c.id} & set(hits)

    restored = vault.rollback(alice, b.id, 1)  # undo the merge of one member
    assert restored.status is LifecycleStatus.ACTIVE and restored.version == 3
    assert restored.text == b.text


def test_merge_text_longest_and_unindexed_cubes_dedupe_by_exact_text(vault, alice) -> None:
    add(vault, alice, "Alice is allergic to peanuts", age=timedelta(hours=1))
    add(vault, alice, "Alice has an allergy to peanuts")
    report = consolidate(vault, alice, NS, LifecyclePolicy(merge_text="longest"))
    assert vault.get(alice, report.merges[0].cube_id).text == "Alice has an allergy to peanuts"

    ns = ("alice", "raw")
    x = vault.put(alice, MemCube.from_text("Buy oat milk", ns), index=False)[0]
    y = vault.put(alice, MemCube.from_text("buy oat  milk!", ns), index=False)[0]
    vault.put(alice, MemCube.from_text("Buy bread", ns), index=False)
    report = consolidate(vault, alice, ns)
    assert [set(m.sources) for m in report.merges] == [{x.id, y.id}]
    merged = vault.get(alice, report.merges[0].cube_id)
    assert vault.vectors(alice, [merged.id]) == {}  # stays unindexed like its members
    assert text_fingerprint("Buy oat milk") == text_fingerprint(" buy OAT milk. ")


def test_vault_vectors_are_the_stored_ones_and_governed(vault, alice, bob) -> None:
    mine = add(vault, alice, "Alice is allergic to peanuts")
    bobs = add(vault, bob, "Bob is allergic to shellfish", ns=("bob",))
    raw = vault.put(alice, MemCube.from_text("unindexed note", NS), index=False)[0]
    got = vault.vectors(alice, [mine.id, bobs.id, raw.id, "no-such-id"])
    assert list(got) == [mine.id]  # not bob's, not the unindexed one
    expected = np.asarray(vault.embeddings.embed_query(mine.text))
    v = np.asarray(got[mine.id])
    assert v @ expected / (np.linalg.norm(v) * np.linalg.norm(expected)) > 0.999
    with pytest.raises(InvalidInputError):
        vault.vectors(alice, [""])


# -- contradictions ----------------------------------------------------------------------------


def test_contradicting_slot_resolves_to_new_version_of_newest(vault, alice) -> None:
    paris = add(
        vault,
        alice,
        "Alice lives in Paris",
        key="alice:city",
        age=timedelta(days=30),
        provenance={"source_ids": ("t1",)},
    )
    berlin = add(
        vault,
        alice,
        "Alice lives in Berlin",
        key="alice:city",
        age=timedelta(days=1),
        provenance={"source_ids": ("t2",)},
    )
    again = add(vault, alice, "alice lives in Berlin", key="alice:city", age=timedelta(days=2))
    tea = add(vault, alice, "Alice drinks green tea", key="alice:drink")

    report = consolidate(vault, alice, NS)

    assert len(report.resolved) == 1 and not report.deduplicated
    res = report.resolved[0]
    assert res.cube_id == berlin.id and not res.created and res.version == 2
    assert set(res.sources) == {paris.id, again.id}
    assert report.archived == (paris.id,) and report.merged == (again.id,)
    head = vault.get(alice, berlin.id)
    assert head.text == "Alice lives in Berlin" and head.key == "alice:city"
    assert set(head.provenance.derived_from) == {paris.id, again.id}
    assert head.provenance.source_ids == ("t2",)  # a contradicted memory is no evidence
    assert [v.status for v in vault.history(alice, paris.id)] == [
        LifecycleStatus.ACTIVE,
        LifecycleStatus.ARCHIVED,
    ]
    assert vault.get(alice, tea.id).version == 1
    hits = vault.search(alice, "where does Alice live?", namespace=NS, limit=5)
    assert paris.id not in [h.cube.id for h in hits]
    assert vault.rollback(alice, paris.id, 1).status is LifecycleStatus.ACTIVE


def test_different_keys_are_never_merged(vault, alice) -> None:
    add(vault, alice, "Alice is allergic to peanuts", key="a")
    add(vault, alice, "Alice is allergic to peanuts", key="b")
    report = consolidate(vault, alice, NS)
    assert report.merges == () and not report.changed


# -- expiry --------------------------------------------------------------------------------------


def test_expired_cubes_are_swept_only_for_the_principal(vault, alice, bob) -> None:
    soon = utcnow() + timedelta(hours=1)
    mine = add(vault, alice, "Alice's parking spot is B12 today", expires_at=soon)
    keep = add(vault, alice, "Alice's badge number is 4471")
    bobs = add(vault, bob, "Bob's parking spot is C3 today", ns=("bob",), expires_at=soon)
    later = utcnow() + timedelta(hours=2)

    planned = consolidate(vault, alice, ("alice",), LifecyclePolicy(dry_run=True), now=later)
    assert planned.expired == (mine.id,)
    report = consolidate(vault, alice, ("alice",), now=later)
    assert report.expired == (mine.id,)
    assert [v.status for v in vault.history(alice, mine.id)] == [
        LifecycleStatus.ACTIVE,
        LifecycleStatus.EXPIRED,
    ]
    assert vault.get(alice, keep.id).version == 1
    assert len(vault.history(bob, bobs.id)) == 1  # bob's is untouched


# -- promotion -----------------------------------------------------------------------------------


def _activation_promoter(calls: list[list[str]]):
    """Writes one activation cube per call that lists its sources (as memos_lc.activation's
    compiler does); the tensor stands in for a KV cache, which this test does not need."""

    def promote(vault: MemVault, who: Principal, cubes: list[MemCube]) -> list[MemCube]:
        calls.append([c.id for c in cubes])
        ref = vault.put_blob(who, save_tensors({"k": np.zeros(4, dtype=np.float32)}))
        text = "\n".join(c.text for c in cubes)
        cube = MemCube.model_validate(
            {
                "namespace": ("alice", "compiled"),
                "provenance": {"origin": "activation", "derived_from": [c.id for c in cubes]},
                "payload": {
                    "kind": "activation",
                    "blob": ref.model_dump(),
                    "model_fingerprint": "m",
                    "prefix_tokens": 4,
                    "prefix_token_ids_sha256": "0" * 64,
                    "source_text": text,
                },
            }
        )
        return vault.put(who, cube)

    return promote


def test_promotion_candidates_and_promoters(vault, alice) -> None:
    hot = add(vault, alice, "Alice's standup is at 9:30 every weekday")
    for _ in range(3):
        vault.record_use(alice, [hot.id])
    stable = add(
        vault,
        alice,
        "Alice's mother tongue is Portuguese",
        age=timedelta(days=40),
        usage={"hits": 5},
    )
    young = add(vault, alice, "Alice started learning Rust", usage={"hits": 9})
    cold = add(vault, alice, "Alice once visited Oslo", age=timedelta(days=40))

    report = consolidate(vault, alice, NS)
    assert report.activation_candidates == (hot.id,)
    assert report.parametric_candidates == (stable.id,)
    assert report.activation_cubes == () and not report.changed  # no promoter: report only
    assert young.id not in report.parametric_candidates
    assert cold.id not in report.parametric_candidates

    later = consolidate(vault, alice, NS, now=utcnow() + timedelta(days=2))
    assert later.activation_candidates == ()  # no longer recent

    calls: list[list[str]] = []
    trained: list[list[str]] = []
    report = consolidate(
        vault,
        alice,
        NS,
        activate=_activation_promoter(calls),
        parametrize=lambda v, who, cubes: trained.append([c.id for c in cubes]),
    )
    assert calls == [[hot.id]] and trained == [[stable.id]]
    assert len(report.activation_cubes) == 1 and report.parametric_cubes == ()
    compiled = vault.get(alice, report.activation_cubes[0])
    assert compiled.provenance.derived_from == (hot.id,)

    again = consolidate(vault, alice, NS, activate=_activation_promoter(calls))
    assert again.activation_candidates == () and calls == [[hot.id]]  # already promoted
    vault.update(alice, hot.id, text="Alice's standup is at 9:45 every weekday")
    for _ in range(3):
        vault.record_use(alice, [hot.id])
    changed = consolidate(vault, alice, NS)
    assert changed.activation_candidates == (hot.id,)  # changed since it was compiled
    # a cube that names its sources' ids only (no versions) is judged by their last change
    [stale] = changed.retired
    assert (stale.cube_id, stale.source_version, stale.change) == (compiled.id, None, "new_version")


# -- isolation and idempotency -------------------------------------------------------------------


def test_other_principals_cubes_are_untouched(vault, alice, bob) -> None:
    team = ("team", "notes")
    bob_a = add(vault, bob, "The release is on Friday", ns=team)
    bob_b = add(vault, bob, "the release is on Friday.", ns=team)
    vault.grant(bob, ("team",), "alice", "write")  # alice may even change bob's cubes
    al_a = add(vault, alice, "The retro is on Monday", ns=team)
    al_b = add(vault, alice, "the retro is on Monday!", ns=team)

    report = consolidate(vault, alice, ("team",))
    assert [set(m.sources) for m in report.merges] == [{al_a.id, al_b.id}]
    assert len(vault.history(bob, bob_a.id)) == 1 and len(vault.history(bob, bob_b.id)) == 1

    admin_report = consolidate(vault, Principal.system(), ("team",))
    assert [set(m.sources) for m in admin_report.merges] == [{bob_a.id, bob_b.id}]
    merged = vault.get(bob, admin_report.merges[0].cube_id)
    assert merged.access.owner == "bob"  # an admin merges within one owner's cubes


def test_running_twice_changes_nothing_new(vault, alice, admin) -> None:
    add(vault, alice, "Alice is allergic to peanuts", age=timedelta(days=1))
    add(vault, alice, "Alice has an allergy to peanuts")
    add(vault, alice, "Alice lives in Paris", key="city", age=timedelta(days=5))
    add(vault, alice, "Alice lives in Berlin", key="city")
    add(vault, alice, "Alice's cat is called Miso", expires_at=utcnow() + timedelta(seconds=1))
    later = utcnow() + timedelta(minutes=1)

    first = consolidate(vault, alice, ("alice",), now=later)
    assert first.changed and len(first.merges) == 2 and len(first.expired) == 1
    before = versions(vault, admin)
    second = consolidate(vault, alice, ("alice",), now=later)
    assert not second.changed
    assert second.merges == () and second.expired == () and second.skipped == ()
    assert versions(vault, admin) == before


def test_a_concurrent_change_skips_that_cube_only(vault, alice) -> None:
    a = add(vault, alice, "Alice is allergic to peanuts", age=timedelta(days=2))
    b = add(vault, alice, "alice is allergic to peanuts.", age=timedelta(days=1))
    c = add(vault, alice, "Alice has an allergy to peanuts")
    add(vault, alice, "Alice lives in Paris", age=timedelta(days=9))
    add(vault, alice, "Alice moved to Berlin")

    def judge(older: MemCube, newer: MemCube) -> PairJudgement:
        # Runs after planning, before any write: another writer changes b meanwhile.
        vault.update(alice, b.id, text="Alice was allergic to peanuts as a child")
        return PairJudgement(relation="distinct")

    report = consolidate(vault, alice, NS, GREY, judge=judge)
    assert report.skipped == (b.id,)
    assert set(report.deduplicated[0].sources) == {a.id, c.id}
    head = vault.get(alice, b.id)
    assert head.status is LifecycleStatus.ACTIVE and head.text.endswith("as a child")
    assert not consolidate(vault, alice, NS).changed


def test_dry_run_plans_without_writing(vault, alice, admin) -> None:
    add(vault, alice, "Alice is allergic to peanuts", age=timedelta(days=1))
    add(vault, alice, "Alice has an allergy to peanuts")
    before = versions(vault, admin)
    plan = consolidate(vault, alice, NS, LifecyclePolicy(dry_run=True))
    assert len(plan.deduplicated) == 1 and plan.dry_run and not plan.changed
    assert versions(vault, admin) == before
    assert "planned 2 cubes" in plan.summary()


def test_integration_cubes_are_left_alone(vault, alice) -> None:
    store = MemCubeStore(vault, principal=alice)
    store.put(("alice", "store"), "a", {"text": "Alice likes tea"})
    store.put(("alice", "store"), "b", {"text": "Alice likes tea"})
    history = MemCubeChatMessageHistory(vault, "s1", principal=alice, namespace=("alice", "chat"))
    history.add_messages([HumanMessage("hello"), HumanMessage("hello")])
    report = consolidate(vault, alice, ("alice",))
    assert report.merges == () and report.scanned == 0
    assert len(history.messages) == 2


def test_bad_input_is_rejected(vault, alice) -> None:
    with pytest.raises(InvalidInputError):
        consolidate(vault, 42, NS)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LifecyclePolicy(judge_similarity=0.99, duplicate_similarity=0.9)
    with pytest.raises(InvalidInputError):
        consolidate(vault, alice, ())


# -- judges --------------------------------------------------------------------------------------


GREY = LifecyclePolicy(judge_similarity=0.6)


def test_function_judge_resolves_grey_zone_contradiction(vault, alice) -> None:
    paris = add(vault, alice, "Alice lives in Paris", age=timedelta(days=9))
    berlin = add(vault, alice, "Alice moved to Berlin")
    seen: list[tuple[str, str]] = []

    def judge(older: MemCube, newer: MemCube) -> PairJudgement:
        seen.append((older.text, newer.text))
        return PairJudgement(relation="contradiction", merged_text="Alice lives in Berlin")

    assert consolidate(vault, alice, NS).merges == ()  # no judge: the grey zone stays
    report = consolidate(vault, alice, NS, GREY, judge=judge)
    assert seen == [("Alice lives in Paris", "Alice moved to Berlin")]
    assert report.judged_pairs == 1 and report.resolved[0].judged
    head = vault.get(alice, berlin.id)
    assert head.text == "Alice lives in Berlin" and head.provenance.derived_from == (paris.id,)
    assert vault.get(alice, paris.id, version=2).status is LifecycleStatus.ARCHIVED


def test_chat_model_judge_without_tool_calling_parses_json(vault, alice) -> None:
    add(vault, alice, "Alice's favourite drink is green tea", age=timedelta(days=2))
    add(vault, alice, "Alice likes green tea the most")
    verdict = {"relation": "duplicate", "merged_text": "Alice likes green tea best"}
    llm = GenericFakeChatModel(messages=iter([AIMessage(f"```json\n{json.dumps(verdict)}\n```")]))
    report = consolidate(vault, alice, NS, GREY, judge=llm)
    assert len(report.deduplicated) == 1 and report.deduplicated[0].judged
    merged = vault.get(alice, report.deduplicated[0].cube_id)
    assert merged.text == "Alice likes green tea best"
    hits = vault.search(alice, "green tea best", namespace=NS, limit=1)
    assert hits[0].cube.id == merged.id  # the judge's new text was embedded

    nonsense = GenericFakeChatModel(messages=iter([AIMessage("I think they are similar")]))
    add(vault, alice, "Alice's favourite colour is teal", age=timedelta(days=1))
    add(vault, alice, "Alice likes the colour teal the most")
    report = consolidate(vault, alice, NS, LifecyclePolicy(judge_similarity=0.8), judge=nonsense)
    assert report.judge_failures == report.judged_pairs == 1 and report.merges == ()


async def test_aconsolidate_matches_consolidate(vault, alice) -> None:
    add(vault, alice, "Alice is allergic to peanuts", age=timedelta(days=1))
    add(vault, alice, "Alice has an allergy to peanuts")
    add(vault, alice, "Alice lives in Paris", age=timedelta(days=9))
    berlin = add(vault, alice, "Alice moved to Berlin")

    async def judge(older: MemCube, newer: MemCube) -> PairJudgement:
        return PairJudgement(relation="contradiction")

    report = await aconsolidate(vault, alice, NS, GREY, judge=judge)
    assert len(report.deduplicated) == 1
    assert [m.cube_id for m in report.resolved] == [berlin.id]
    again = await aconsolidate(
        vault,
        alice,
        NS,
        judge=ModelJudge(
            GenericFakeChatModel(messages=iter([AIMessage('{"relation": "distinct"}')] * 5))
        ),
    )
    assert not again.changed


def test_parse_judgement() -> None:
    assert parse_judgement('Sure! {"relation": "distinct"} done').relation == "distinct"
    assert parse_judgement('{"relation": "maybe"}') is None
    assert parse_judgement("no json") is None
