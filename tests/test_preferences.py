"""Preference memory: detection on a labelled sample, the reader's preference cubes, and the
scheduler's preference tier (its own search, its budget share, its compact rendering)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from memos_lc import MemVault, Principal
from memos_lc.preferences import PREFERENCE_KINDS, detect_preference, sentences
from memos_lc.reader import PREFERENCE_KEY, MemReader
from memos_lc.scheduler import (
    Candidates,
    MemScheduler,
    PreferencePolicy,
    SchedulerPolicy,
    term_coverage,
)

LABELS = Path(__file__).parent / "data" / "preference_labels.json"
NS = ("maya", "memories")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


# -- detection ------------------------------------------------------------------------------


def test_detection_precision_and_recall_on_the_labelled_sample() -> None:
    items = json.loads(LABELS.read_text(encoding="utf-8"))["items"]
    found = [(detect_preference(i["text"]) is not None, i["preference"]) for i in items]
    tp = sum(p and y for p, y in found)
    precision = tp / sum(p for p, _ in found)
    recall = tp / sum(y for _, y in found)
    # 0.995 / 0.924 on the 450 items (211 preferences). The patterns were written with this
    # sample at hand, so these are training figures; on the generated dev set (written
    # apart, benchmarks/prefset.py) 0.906 of the preference turns are found and 8 of 2,457
    # other user turns are taken for one. The bar leaves room for pattern changes that
    # trade one for the other, not for a detector that guesses.
    assert precision >= 0.95, precision
    assert recall >= 0.85, recall


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Honestly, anything with cilantro tastes like soap to me.", "dislike"),
        ("Peanuts could literally kill me, I carry an EpiPen.", "allergy"),
        ("I'm a night owl, never book me anything before ten.", "habit"),
        ("I've been painting a lot lately, it really calms me down.", "habit"),
        ("I'm training for the Lisbon marathon in October.", "plan"),
        ("Big fan of sci-fi, the harder the better.", "like"),
        ("Thanks for the fix! btw I only ever use tabs, never spaces.", "constraint"),
    ],
)
def test_what_a_speaker_states_about_themselves(text: str, kind: str) -> None:
    assert detect_preference(text) == kind
    assert kind in PREFERENCE_KINDS


@pytest.mark.parametrize(
    "text",
    [
        "Do you like jazz?",
        "Recommend a sci-fi novel.",
        "My sister loves horror movies.",
        "I love that!",
        "I'd love to see it!",
        "If I were rich I'd buy a boat.",
        "Cilantro is used a lot in Mexican cooking.",
        "The Louvre is closed on Tuesdays.",
        "I went to the store yesterday.",
        "assert user.allergy == 'peanut'",
        "I used to love horror movies.",
    ],
)
def test_what_is_not_a_lasting_preference_of_the_speaker(text: str) -> None:
    assert detect_preference(text) is None


def test_sentences_split_chat_turns() -> None:
    assert sentences("Thanks! I'm vegan btw. — no rush\nok") == [
        "Thanks!",
        "I'm vegan btw.",
        "no rush",
        "ok",
    ]


# -- the reader -----------------------------------------------------------------------------


def messages(turns: list[tuple[str, str]]) -> list[BaseMessage]:
    """``(speaker, text)`` turns a minute apart, with ids and dataset-style turn ids."""
    return [
        HumanMessage(
            text,
            name=who,
            id=f"m{i}",
            additional_kwargs={
                "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
                "source_id": f"D1:{i + 1}",
            },
        )
        for i, (who, text) in enumerate(turns)
    ]


def chat() -> list[BaseMessage]:
    return messages(
        [
            ("Maya", "Can you help me debug a Python import error?"),
            ("Assistant", "Sure, paste the traceback."),
            ("Maya", "Also, I've been gluten-free since my celiac diagnosis last year."),
            ("Assistant", "Noted. I love helping with that kind of thing!"),
        ]
    )


def test_fast_reader_stores_a_stated_preference_as_its_own_cube() -> None:
    cubes = MemReader().read(chat(), namespace=NS, thread_id="t1")
    prefs = [c for c in cubes if c.memory_type == "preference"]
    assert len([c for c in cubes if c.memory_type == "episodic"]) == 4  # windows unchanged
    assert len(prefs) == 1
    pref = prefs[0]
    assert pref.text == "Maya: Also, I've been gluten-free since my celiac diagnosis last year."
    assert pref.provenance.source_ids == ("D1:3",)
    assert pref.provenance.message_ids == ("m2",)
    assert pref.payload.data[PREFERENCE_KEY] in ("allergy", "constraint")
    assert "preference" in pref.tags
    assert pref.created_at == T0 + timedelta(minutes=2)
    # reading again gives the same ids (the vault rejects duplicates), and it can be off
    again = MemReader().read(chat(), namespace=NS, thread_id="t1")
    assert [c.id for c in again] == [c.id for c in cubes]
    off = MemReader(preferences=False).read(chat(), namespace=NS, thread_id="t1")
    assert all(c.memory_type == "episodic" for c in off)


def test_the_assistant_states_no_preferences_of_the_user() -> None:
    msgs = [
        HumanMessage("What should I cook tonight?", id="u1"),
        AIMessage("I love risotto, I always make it on Sundays.", id="a1"),
    ]
    cubes = MemReader().read(msgs, namespace=NS, thread_id="t1", now=T0)
    assert not [c for c in cubes if c.memory_type == "preference"]


# -- the preference tier --------------------------------------------------------------------


def words(text: str) -> int:
    return len(text.split())


def _vault_with_chatter(vault: MemVault, maya: Principal) -> None:
    """One stated preference among chat that shares the question's words."""
    lines = [
        ("Maya", "Rome trivia: which emperor built the Colosseum?"),
        ("Assistant", "Vespasian started it and Titus finished it in Rome in 80 AD."),
        ("Maya", "What's the best time of year for dinner on a terrace in Rome?"),
        ("Assistant", "Late spring: Rome restaurants open their terraces for dinner in May."),
        ("Maya", "Also, I've been gluten-free since my celiac diagnosis last year."),
        ("Assistant", "Good to know."),
        ("Maya", "I'm a huge fan of jazz, especially live trios."),
        ("Assistant", "Nice."),
        ("Maya", "Which Roman restaurant invented carbonara, the story goes?"),
        ("Assistant", "Several places in Rome claim carbonara; the dinner story is murky."),
    ]
    vault.put(maya, MemReader().read(messages(lines), namespace=NS, thread_id="t1"))


QUERY = "Can you suggest a few restaurants in Rome for dinner tonight?"


def test_preferences_have_their_own_tier_and_budget_share(vault: MemVault) -> None:
    maya = Principal("maya")
    _vault_with_chatter(vault, maya)
    on = MemScheduler(vault, SchedulerPolicy(), count_tokens=words)
    plan = on.plan(maya, QUERY, namespace=NS, budget_tokens=60)
    lines = plan.text.splitlines()
    # the preferences come first, in the speaker's words, without a date header
    assert [i.cube.memory_type for i in plan.items[:2]] == ["preference"] * 2
    assert lines[:3] == [plan.items[0].cube.text, plan.items[1].cube.text, "..."]
    assert "D1:5" in plan.source_ids()
    assert plan.text_tokens <= 60
    # the turn shown as a preference is not repeated in its conversation
    assert plan.text.count("gluten-free") == 1
    # without the tier, preferences compete with the windows that share the question's
    # words, and lose
    off = MemScheduler(
        vault, SchedulerPolicy(preferences=PreferencePolicy(share=0.0)), count_tokens=words
    )
    plain = off.plan(maya, QUERY, namespace=NS, budget_tokens=60)
    assert plain.items[0].cube.memory_type == "episodic"
    assert plain.text.splitlines()[0].startswith("[")


def test_a_filter_without_preferences_turns_the_tier_off(vault: MemVault) -> None:
    maya = Principal("maya")
    _vault_with_chatter(vault, maya)
    sched = MemScheduler(vault, count_tokens=words)
    only_episodes = sched.plan(
        maya, QUERY, namespace=NS, budget_tokens=400, filter={"memory_types": ["episodic"]}
    )
    assert all(i.cube.memory_type == "episodic" for i in only_episodes.items)
    no_prefs = {"exclude_memory_types": ["preference"]}
    assert all(
        i.cube.memory_type != "preference"
        for i in sched.plan(maya, QUERY, namespace=NS, budget_tokens=400, filter=no_prefs).items
    )
    hits = vault.search(maya, "gluten-free celiac", namespace=NS, limit=20, filter=no_prefs)
    assert hits and all(h.cube.memory_type != "preference" for h in hits)
    assert (
        vault.search(maya, "gluten-free celiac", namespace=NS, limit=1)[0].cube.memory_type
        == "preference"
    )
    found = sched.retrieve(maya, QUERY, namespace=NS)
    assert {r.tier for r in found.lists} == {"memory", "preference"}
    # a state saved before tiers (``(weight, ids)`` pairs) still schedules
    legacy = Candidates.model_validate(
        {**found.model_dump(), "lists": [(r.weight, r.ids) for r in found.lists]}
    )
    assert {r.tier for r in legacy.lists} == {"memory"}
    assert sched.schedule(maya, legacy, budget_tokens=400).items


def test_a_graph_recalls_a_preference_for_an_implicit_question(vault: MemVault) -> None:
    """The memory nodes of a LangGraph graph: a preference stated among chat in one thread
    is what the model is shown first when the user asks, in another thread, for something
    it bears on without sharing its words."""
    from langchain_core.messages import AIMessage as Reply
    from langgraph.checkpoint.memory import InMemorySaver

    from memos_lc.nodes import MemoryNodes, with_memory

    def agent(state: dict) -> dict:
        return {"messages": [Reply("Sure.")]}

    graph = with_memory(agent, MemoryNodes(vault, budget_tokens=256), checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t1", "user_id": "maya"}}
    for text in (
        "Can you explain what a Python decorator does?",
        "By the way, I've been vegetarian for ten years and dairy upsets my stomach.",
        "What is the capital of Australia?",
        "Which cheese goes best with a Rioja wine?",
    ):
        graph.invoke({"messages": [("user", text)]}, cfg)
    out = graph.invoke(
        {"messages": [("user", "What should I cook for dinner tonight?")]},
        {"configurable": {"thread_id": "t2", "user_id": "maya"}},
    )
    first = out["memory_context"].splitlines()[1]  # under the block's header
    assert (
        first == "user: By the way, I've been vegetarian for ten years and dairy upsets my stomach."
    )


def test_only_a_request_in_the_users_own_voice_opens_the_tier(vault: MemVault) -> None:
    maya = Principal("maya")
    _vault_with_chatter(vault, maya)
    sched = MemScheduler(vault, count_tokens=words)

    def opens_with_a_preference(query: str) -> bool:
        plan = sched.plan(maya, query, namespace=NS, budget_tokens=60)
        return plan.items[0].cube.memory_type == "preference"

    assert opens_with_a_preference("What should I eat in Rome tonight?")
    assert opens_with_a_preference("Suggest a dinner spot near the Colosseum")
    # a question about a speaker, or about what was said, is the conversation's
    assert not opens_with_a_preference("What did Maya ask about the Colosseum?")
    assert not opens_with_a_preference("Which emperor finished the Colosseum?")


# -- score-aware lexical fusion ---------------------------------------------------------------


def test_term_coverage_weighs_what_the_query_is_specific_about() -> None:
    rome, carbonara, dinner = 1, 2, 3
    docs = [{rome}, {rome, dinner}, {rome, carbonara}, {rome}]
    cov = term_coverage({rome, carbonara, dinner}, docs)
    # "rome" is in every hit: matching it alone is next to nothing
    assert cov[0] == cov[3] < 0.05
    # the hit holding the rarest query term covers the most
    assert cov[2] >= cov[1] > cov[0]
    assert all(0.0 <= c <= 1.0 for c in cov)
    assert term_coverage(set(), docs) == [1.0] * 4
    assert term_coverage({rome}, []) == []


def test_lexical_noise_does_not_outvote_a_dense_match(vault: MemVault) -> None:
    """A request that shares only a common word ("Friday") with some preferences: with BM25
    in the tier and full coverage the lexical lists count next to nothing and the preference
    that bears on it by meaning ranks first, as dense search alone (the tier's default)
    ranks it; with plain RRF the preferences sharing the common word outvote it."""
    from memos_lc import MemCube

    maya = Principal("maya")
    texts = [
        "Friday is my grocery day.",
        "On Friday I do laundry.",
        "I love curling up with mystery books on rainy evenings.",
        "Fridays I swim.",
    ]
    vault.put(maya, [MemCube.from_text(t, namespace=NS, memory_type="preference") for t in texts])
    policies = {
        "coverage": SchedulerPolicy(preferences=PreferencePolicy(lexical_weight=1.0)),
        "dense": SchedulerPolicy(),
        "plain": SchedulerPolicy(
            preferences=PreferencePolicy(lexical_weight=1.0, lexical_coverage=0.0)
        ),
    }
    first = {
        name: MemScheduler(vault, policy, count_tokens=words)
        .plan(maya, "Suggest a cosy novel for Friday night", namespace=NS, budget_tokens=500)
        .items[0]
        .cube.text
        for name, policy in policies.items()
    }
    assert first["coverage"] == first["dense"] == texts[2]
    assert first["plain"] != texts[2]
