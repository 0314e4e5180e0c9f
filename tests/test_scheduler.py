"""MemScheduler: retrieval, scoring, dedupe, the token budget, placement and usage, on both
vault drivers with the real embeddings and lexical index."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from langchain_core.messages import HumanMessage
from safetensors.numpy import save

from memos_lc import MemCube, MemVault, Principal
from memos_lc.errors import InvalidInputError, InvalidNamespaceError
from memos_lc.reader import MemReader
from memos_lc.scheduler import (
    MemScheduler,
    Placement,
    PlacementPolicy,
    SchedulerPolicy,
    ScoringPolicy,
    SelectionPolicy,
    keyword_query,
    render_block,
)

NS = ("alice", "memories")
FACTS = [
    "Alice is allergic to peanuts and carries an epinephrine pen.",
    "Alice's sister Beth moved to Oslo in 2021.",
    "Alice plays the cello in a community orchestra on Sundays.",
    "Alice prefers green tea over coffee in the morning.",
    "Alice works as a structural engineer designing bridges.",
]


def words(text: str) -> int:
    """A transparent token counter for budget arithmetic in tests."""
    return len(text.split())


def scheduler(vault: MemVault, **policy: object) -> MemScheduler:
    return MemScheduler(vault, SchedulerPolicy(**policy), count_tokens=words)  # type: ignore[arg-type]


@pytest.fixture
def facts(vault: MemVault, alice: Principal) -> list[MemCube]:
    return vault.put(alice, [MemCube.from_text(t, namespace=NS) for t in FACTS])


def test_relevant_memory_comes_first_within_budget(vault, alice, facts) -> None:
    plan = scheduler(vault).plan(
        alice, "What food is Alice allergic to?", namespace=NS, budget_tokens=1000
    )
    assert plan.items[0].cube.id == facts[0].id
    assert plan.items[0].placement == Placement.PLAINTEXT
    assert plan.text.splitlines()[0] == f"- {FACTS[0]}"
    assert plan.text_tokens == words(plan.text) == sum(i.tokens for i in plan.items)
    assert plan.total_tokens == plan.text_tokens <= plan.budget_tokens
    assert set(plan.items[0].components) == {
        "relevance",
        "recency",
        "priority",
        "usage",
        "speaker",
    }
    assert plan.items[0].components["relevance"] == 1.0
    assert plan.queries == ["What food is Alice allergic to?", "food Alice allergic"]
    assert plan.render().startswith("Relevant memories:\n- Alice is allergic")


def test_budget_is_never_exceeded(vault, alice, facts) -> None:
    sched = scheduler(vault)
    first_line = words(f"- {FACTS[0]}")
    tight = sched.plan(alice, "Alice allergic peanuts", namespace=NS, budget_tokens=first_line)
    assert [i.cube.id for i in tight.items] == [facts[0].id]
    assert tight.total_tokens == first_line
    # a line that does not fit is skipped, a shorter one further down may still fit
    for budget in (0, 5, 9, 17, 30):
        plan = sched.plan(alice, "Alice allergic peanuts", namespace=NS, budget_tokens=budget)
        assert words(plan.text) == plan.total_tokens <= budget
    assert sched.plan(alice, "peanuts", namespace=NS, budget_tokens=0).items == []


def _support_group(vault: MemVault, alice: Principal) -> None:
    day = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    lines = [
        ("Caroline", "I went to a support group for transgender people yesterday."),
        ("Melanie", "Wow, how did the support group go?"),
        ("Caroline", "The support group was powerful, everyone shared their stories."),
        ("Melanie", "My kids started swimming lessons this week."),
        ("Caroline", "That's great, do they like the pool?"),
    ]
    msgs = [
        HumanMessage(
            t,
            name=s,
            id=f"m{i}",
            additional_kwargs={"timestamp": day.isoformat(), "source_id": f"D1:{i + 1}"},
        )
        for i, (s, t) in enumerate(lines)
    ]
    vault.put(alice, MemReader().read(msgs, namespace=NS, thread_id="t1"))


def test_overlapping_windows_inject_each_turn_once(vault, alice) -> None:
    _support_group(vault, alice)
    plan = scheduler(vault, selection=SelectionPolicy(excerpt="window", mmr_lambda=1.0)).plan(
        alice, "How was the support group?", namespace=NS, budget_tokens=10_000
    )
    # five windows over five turns: once a window's turns are all in the block it adds nothing
    assert set(plan.source_ids()) == {f"D1:{i}" for i in range(1, 6)}
    assert 2 <= len(plan.items) < 5
    assert plan.text.count("everyone shared their stories") == 1
    assert plan.text.count("[8 May 2023]") == 1
    assert plan.text.splitlines()[1].startswith("Caroline: I went to a support group")
    # later windows add only the turns not yet in the block
    assert sum(i.tokens for i in plan.items) == words(plan.text)
    assert any(i.tokens < words(i.cube.text) for i in plan.items[1:])


def test_turn_excerpts_inject_single_turns_ranked_by_window_votes(vault, alice) -> None:
    _support_group(vault, alice)
    sched = scheduler(vault, selection=SelectionPolicy(excerpt="turn"))
    plan = sched.plan(alice, "How was the support group?", namespace=NS, budget_tokens=10_000)
    # one turn per item, each turn once, all five turns reachable through their windows
    assert all(len(i.source_ids) == 1 for i in plan.items)
    assert sorted(plan.source_ids()) == [f"D1:{i}" for i in range(1, 6)]
    # the turns inside the support-group stretch come first (a first or last turn sits in
    # fewer windows, so it collects fewer votes)
    assert set(plan.source_ids()[:2]) == {"D1:2", "D1:3"}
    assert plan.text.count("everyone shared their stories") == 1
    one = sched.plan(alice, "How was the support group?", namespace=NS, budget_tokens=20)
    assert 1 <= len(one.items) < len(plan.items) and words(one.text) <= 20


def test_mixed_excerpts_open_with_whole_windows_then_single_turns(vault, alice) -> None:
    _support_group(vault, alice)
    query = "How was the support group?"

    def plan(budget: int = 10_000, **selection: object):  # type: ignore[no-untyped-def]
        sched = scheduler(vault, selection=SelectionPolicy(**selection))  # type: ignore[arg-type]
        return sched.plan(alice, query, namespace=NS, budget_tokens=budget)

    mixed, windows = plan(excerpt="mixed", window_items=1), plan(excerpt="window")
    first, rest = mixed.items[0], mixed.items[1:]
    # the opening window is the windows-only plan's first, whole
    assert first.cube.id == windows.items[0].cube.id
    assert first.source_ids == windows.items[0].source_ids and len(first.source_ids) == 3
    # then single turns, none of them repeated from the window, until every turn is in
    assert rest and all(len(i.source_ids) == 1 and i.ranked_ids == i.source_ids for i in rest)
    assert not set(first.source_ids) & {s for i in rest for s in i.source_ids}
    assert sorted(mixed.source_ids()) == [f"D1:{i}" for i in range(1, 6)]
    assert sum(i.tokens for i in mixed.items) == words(mixed.text)
    assert mixed.text.count("everyone shared their stories") == 1
    # no opening windows: the same plan as turn excerpts
    turns, zero = plan(excerpt="turn"), plan(excerpt="mixed", window_items=0)
    assert [i.source_ids for i in zero.items] == [i.source_ids for i in turns.items]
    # a budget no window fits: single turns fill it
    small = plan(14, excerpt="mixed", window_items=3)
    assert small.items and all(len(i.source_ids) == 1 for i in small.items)
    assert words(small.text) <= 14


def test_voted_excerpts_keep_the_window_ranking_and_inject_only_voted_turns(vault, alice) -> None:
    _support_group(vault, alice)
    query, lines = "How was the support group?", {}
    for c in vault.find(alice, namespace=NS, limit=10):
        for t in c.payload.data["turns"]:
            lines[t["source_ids"][0]] = f"{t['speaker']}: {t['text']}"
    whole = scheduler(vault, selection=SelectionPolicy(excerpt="window")).plan(
        alice, query, namespace=NS, budget_tokens=10_000
    )
    sched = scheduler(vault, selection=SelectionPolicy(excerpt="voted", vote_ratio=1.0))
    voted = sched.plan(alice, query, namespace=NS, budget_tokens=10_000)
    # the same windows in the same order: the ranking (R@k) is the windows'
    assert [i.cube.id for i in voted.items] == [i.cube.id for i in whole.items]
    assert [i.ranked_ids for i in voted.items] == [i.source_ids for i in whole.items]
    assert not any(i.partial for i in whole.items)
    # ... but each window injects only its best-voted new turn, each turn once
    assert all(len(i.source_ids) == 1 and i.partial for i in voted.items)
    assert all(set(i.source_ids) <= set(i.ranked_ids) for i in voted.items)
    assert len(voted.source_ids()) == len(voted.items)
    assert voted.items[0].source_ids[0] in {"D1:2", "D1:3"}  # inside the support-group stretch
    # provenance is exact: a turn's line is in the block if and only if an item names it
    for sid, line in lines.items():
        assert (line in voted.text) == (sid in voted.source_ids()), sid
    assert sum(i.tokens for i in voted.items) == words(voted.text) < words(whole.text)
    # a lower ratio lets more of a window in; within a budget, only what fits
    loose = scheduler(vault, selection=SelectionPolicy(excerpt="voted", vote_ratio=0.01))
    assert set(loose.plan(alice, query, namespace=NS, budget_tokens=10_000).source_ids()) == set(
        lines
    )
    small = sched.plan(alice, query, namespace=NS, budget_tokens=20)
    assert small.items and words(small.text) <= 20
    assert set(small.source_ids()) == {s for s, line in lines.items() if line in small.text}


def test_vote_norm_lifts_a_turn_at_the_edge_of_its_session(vault, alice) -> None:
    _support_group(vault, alice)
    query = "Caroline went to a support group for transgender people yesterday"
    plain, norm = (
        scheduler(
            vault,
            retrieval={"vote_norm": v},
            selection=SelectionPolicy(excerpt="turn", mmr_lambda=1.0),
        ).plan(alice, query, namespace=NS, budget_tokens=10_000)
        for v in (False, True)
    )
    # D1:1 opens the conversation: it sits in two windows, its neighbour D1:2 in three
    rank = [p.source_ids().index("D1:1") for p in (plain, norm)]
    assert rank[1] < rank[0], (plain.source_ids(), norm.source_ids())


def test_turn_votes_rank_the_window_centred_on_the_match_first(vault, alice) -> None:
    _support_group(vault, alice)
    voted = scheduler(
        vault,
        retrieval={"turn_votes": True},
        selection=SelectionPolicy(excerpt="window", mmr_lambda=1.0),
    ).plan(alice, "swimming lessons pool kids", namespace=NS, budget_tokens=10_000)
    assert voted.items[0].cube.payload.data["focus"] in (3, 4)  # the swimming turns


def test_speaker_component_favours_what_the_named_person_said(vault, alice) -> None:
    _support_group(vault, alice)
    sched = scheduler(
        vault,
        scoring=ScoringPolicy(speaker=1.0),
        selection=SelectionPolicy(excerpt="turn", mmr_lambda=1.0),
    )
    plan = sched.plan(alice, "What did Melanie say?", namespace=NS, budget_tokens=10_000)
    said = [i.components["speaker"] for i in plan.items]
    assert said[:2] == [1.0, 1.0] and set(plan.source_ids()[:2]) == {"D1:2", "D1:4"}
    # nobody named: the component is 0 everywhere and changes no order
    plain = sched.plan(alice, "What was said?", namespace=NS, budget_tokens=10_000)
    assert {i.components["speaker"] for i in plain.items} == {0.0}


def test_gaps_between_excerpts_are_marked(vault, alice) -> None:
    msgs = [HumanMessage(f"turn number {i} about topic{i}", name="A", id=f"m{i}") for i in range(9)]
    cubes = MemReader().read(msgs, namespace=NS, thread_id="t")
    block = render_block([cubes[1], cubes[7]])
    assert block.count("...") == 1
    assert "topic3" not in block and "topic6" in block and "topic8" in block


def test_duplicates_are_dropped(vault, alice) -> None:
    vault.put(
        alice,
        [MemCube.from_text("Alice adopted a cat named Miso.", namespace=NS) for _ in range(3)],
    )
    plan = scheduler(vault).plan(alice, "Alice's cat", namespace=NS, budget_tokens=500)
    assert len(plan.items) == 1 and plan.text == "- Alice adopted a cat named Miso."


def test_priority_and_recency_weights_order_equally_relevant_memories(vault, alice) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    low = MemCube.from_text("Alice visited Rome.", namespace=NS, priority=0.1)
    high = MemCube.from_text(
        "Alice visited Paris.", namespace=NS, priority=0.9, created_at=old, updated_at=old
    )
    vault.put(alice, [low, high])
    by_priority = scheduler(
        vault, scoring=ScoringPolicy(relevance=0, recency=0, usage=0, priority=1)
    )
    plan = by_priority.plan(alice, "Where did Alice travel?", namespace=NS, budget_tokens=100)
    assert [i.cube.id for i in plan.items] == [high.id, low.id]
    by_recency = scheduler(
        vault, scoring=ScoringPolicy(relevance=0, recency=1, usage=0, priority=0)
    )
    plan = by_recency.plan(alice, "Where did Alice travel?", namespace=NS, budget_tokens=100)
    assert [i.cube.id for i in plan.items] == [low.id, high.id]
    assert plan.items[1].components["recency"] < 1e-3 < plan.items[0].components["recency"]


def test_usage_is_recorded_and_scored(vault, alice, facts) -> None:
    sched = scheduler(vault)
    sched.plan(alice, "cello orchestra", namespace=NS, budget_tokens=12)
    cello = vault.get(alice, facts[2].id)
    assert cello.usage.hits == 1 and cello.usage.last_used_at is not None
    assert vault.get(alice, facts[1].id).usage.hits == 0  # not in that plan
    again = sched.plan(alice, "cello orchestra", namespace=NS, budget_tokens=12)
    assert again.items[0].components["usage"] > 0
    quiet = scheduler(vault, record_use=False)
    quiet.plan(alice, "cello orchestra", namespace=NS, budget_tokens=12)
    assert vault.get(alice, facts[2].id).usage.hits == 2


def test_plans_only_see_what_the_principal_may_read(vault, alice, bob, facts) -> None:
    plan = scheduler(vault).plan(bob, "Alice allergic", namespace=NS, budget_tokens=500)
    assert plan.items == [] and plan.text == "" and plan.render() == ""
    assert scheduler(vault).plan(bob, "Alice allergic", budget_tokens=500).items == []


def _blob(vault: MemVault, owner: Principal):  # a real safetensors blob; never opened here
    return vault.put_blob(owner, save({"k": np.zeros(4, dtype=np.float32)}))


def test_placement_activation_parametric_plaintext(vault, alice, facts) -> None:
    blob = _blob(vault, alice)
    kv = MemCube.model_validate(
        {
            "namespace": NS,
            "memory_type": "activation",
            "provenance": {"derived_from": [facts[0].id]},
            "payload": {
                "kind": "activation",
                "blob": blob.model_dump(),
                "model_fingerprint": "fp-a",
                "prefix_tokens": 30,
                "prefix_token_ids_sha256": "0" * 64,
                "source_text": FACTS[0],
            },
        }
    )
    lora = MemCube.model_validate(
        {
            "namespace": NS,
            "payload": {
                "kind": "parametric",
                "blob": blob.model_dump(),
                "model_fingerprint": "fp-a",
                "base_model": "smollm2",
                "description": "Alice's allergies and food",
            },
        }
    )
    # a second block for this model
    kv2 = MemCube.model_validate({**kv.model_dump(mode="json"), "id": str(uuid.uuid4())})
    vault.put(alice, [kv, lora, kv2])
    q = "What food allergies does Alice have?"
    fp_a = PlacementPolicy(model_fingerprint="fp-a")
    # one KV prefix per plan, and not beside an adapter (which changes the weights the cache
    # was computed with): whichever ranks first is placed
    both = scheduler(vault, placement=fp_a).plan(alice, q, namespace=NS, budget_tokens=60)
    kinds = [i.placement for i in both.items if i.placement != Placement.PLAINTEXT]
    assert kinds in ([Placement.ACTIVATION], [Placement.PARAMETRIC])
    no_adapters = fp_a.model_copy(update={"parametric": False})
    local = scheduler(vault, placement=no_adapters)
    plan = local.plan(alice, q, namespace=NS, budget_tokens=60)
    placed = {i.cube.id: i for i in plan.items}
    assert len(plan.activations) == 1 and plan.activations[0].id in (kv.id, kv2.id)
    assert placed[plan.activations[0].id].tokens == 30
    assert facts[0].id not in placed and "peanuts" not in plan.text  # it is in the KV prefix
    assert plan.adapters == []
    assert plan.total_tokens == plan.text_tokens + 30 <= 60
    no_kv = fp_a.model_copy(update={"activation": False})
    adapted = scheduler(vault, placement=no_kv).plan(alice, q, namespace=NS, budget_tokens=60)
    assert [c.id for c in adapted.adapters] == [lora.id] and adapted.activations == []
    assert {i.cube.id: i for i in adapted.items}[lora.id].tokens == 0
    assert "allergic to peanuts" in adapted.text  # no KV prefix holds it: it goes in as text
    # another model cannot use either: the KV block goes in as text (once), the adapter not at all
    remote = scheduler(vault).plan(alice, q, namespace=NS, budget_tokens=60)
    assert {i.placement for i in remote.items} == {Placement.PLAINTEXT}
    assert lora.id not in {i.cube.id for i in remote.items}
    assert remote.text.count("allergic to peanuts") == 1
    # a prefix larger than the budget is left out
    tight = local.plan(alice, q, namespace=NS, budget_tokens=20)
    assert kv.id not in {i.cube.id for i in tight.items}


def test_retrieve_then_schedule_equals_plan(vault, alice, facts) -> None:
    sched = scheduler(vault, record_use=False)
    now = datetime.now(UTC) + timedelta(seconds=1)
    direct = sched.plan(alice, "Where does Beth live?", namespace=NS, budget_tokens=40, now=now)
    found = sched.retrieve(alice, "Where does Beth live?", namespace=NS)
    split = sched.schedule(alice, found, budget_tokens=40, now=now)
    assert split.text == direct.text and split.items[0].cube.id == facts[1].id


async def test_aplan_matches_plan(vault, alice, facts) -> None:
    sched = scheduler(vault, record_use=False)
    now = datetime.now(UTC) + timedelta(seconds=1)
    sync = sched.plan(alice, "cello", namespace=NS, budget_tokens=50, now=now)
    async_ = await sched.aplan(alice, "cello", namespace=NS, budget_tokens=50, now=now)
    assert [i.cube.id for i in async_.items] == [i.cube.id for i in sync.items]
    assert async_.text == sync.text


def test_a_tokenizer_counts_the_budget(vault, alice, facts) -> None:
    from memos_lc.models import load_tokenizer

    tok = load_tokenizer()
    sched = MemScheduler(vault, count_tokens=tok)
    plan = sched.plan(alice, "tea or coffee", namespace=NS, budget_tokens=64)
    assert plan.items and plan.text_tokens == len(tok.encode(plan.text, add_special_tokens=False))
    assert plan.total_tokens <= 64


def test_bad_input(vault, alice) -> None:
    sched = scheduler(vault)
    with pytest.raises(InvalidInputError):
        sched.plan(alice, "  ", namespace=NS)
    with pytest.raises(InvalidInputError):
        sched.plan(alice, "q", namespace=NS, budget_tokens=-1)
    with pytest.raises(InvalidInputError):
        sched.plan(alice, "q", namespace=NS, budget_tokens=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidNamespaceError):
        sched.plan(alice, "q", namespace="alice")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SchedulerPolicy(selection={"mmr_lambda": 2})  # type: ignore[arg-type]


def test_keyword_query() -> None:
    assert keyword_query("When did Caroline go to the LGBTQ support group?") == (
        "Caroline go LGBTQ support group"
    )
    assert keyword_query("What is it?") == ""
    assert keyword_query("What's Melanie's favourite book?") == "Melanie's favourite book"
