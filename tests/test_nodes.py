"""The memory nodes in real agent graphs: recall across threads, write-back with provenance,
principal isolation, the store as the vault's source, sync and async, bad configuration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, SystemMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.store.base import PutOp

from memos_lc import MemVault, Principal
from memos_lc.cube import MemCube
from memos_lc.errors import InvalidInputError
from memos_lc.nodes import (
    MEMORY_MESSAGE_ID,
    MemoryNodes,
    MemoryNodesError,
    MemoryState,
    memory_kwargs,
    with_memory,
)
from memos_lc.store import MemCubeStore
from memos_lc.vault.qdrant import CubeFilter

SEEN: list[list[Any]] = []


def recall_agent(state: MemoryState) -> dict[str, Any]:
    """A deterministic agent (no LLM): answers with the memory it was shown, and records
    exactly which messages it got."""
    SEEN.append(list(state["messages"]))
    context = state.get("memory_context") or ""
    answer = "I recall: " + " | ".join(context.splitlines()[1:]) if context else "Nothing recalled."
    return {"messages": [AIMessage(answer)]}


def cfg(thread: str, user: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, "user_id": user}}


def user() -> str:
    return f"u{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def vault(tmp_path_factory, embeddings) -> MemVault:
    root = tmp_path_factory.mktemp("nodes")
    v = MemVault.open(root / "vault", embeddings=embeddings)
    yield v
    v.close()


def test_recall_across_threads_with_provenance_and_isolation(vault: MemVault) -> None:
    alice, bob = user(), user()
    graph = with_memory(recall_agent, MemoryNodes(vault), checkpointer=InMemorySaver())

    first = graph.invoke({"messages": [("user", "I adopted a cat named Miso")]}, cfg("t1", alice))
    assert first["messages"][-1].content == "Nothing recalled."
    assert first["memory_written"], "the turn was stored"
    human_id = next(m.id for m in first["messages"] if m.type == "human")
    stored = vault.find(Principal(id=alice), namespace=("memories", alice))
    assert stored and all(c.provenance.thread_id == "t1" for c in stored)
    assert any(human_id in c.provenance.message_ids for c in stored)
    assert any("Miso" in c.text for c in stored)

    # a new thread: the memory comes back, as the first message the agent sees
    SEEN.clear()
    out = graph.invoke({"messages": [("user", "What is my cat called?")]}, cfg("t2", alice))
    assert "Miso" in out["memory_context"]
    assert "Miso" in out["messages"][-1].content
    shown = SEEN[-1]
    assert isinstance(shown[0], SystemMessage) and shown[0].id == MEMORY_MESSAGE_ID
    assert "Miso" in shown[0].content and shown[1].type == "human"
    assert out["memory_plan"]["items"] and out["memory_plan"]["total_tokens"] <= 1024

    # the memory message is never stored as memory, and old turns are not stored twice
    before = vault.count(Principal(id=alice), namespace=("memories", alice))
    again = graph.invoke({"messages": [("user", "Thanks!")]}, cfg("t2", alice))
    after = vault.find(Principal(id=alice), namespace=("memories", alice), limit=100)
    assert len(after) == before + 1  # one cube for the new exchange (with the turn before)
    assert not any("Relevant memories" in c.text for c in after)
    # the memory message stays at the head of the thread, replaced, not repeated
    heads = [m for m in again["messages"] if (m.id or "").startswith(MEMORY_MESSAGE_ID)]
    assert len(heads) == 1 and again["messages"][0].id == MEMORY_MESSAGE_ID

    # bob asks the same question and gets nothing of alice's
    theirs = graph.invoke({"messages": [("user", "What is my cat called?")]}, cfg("t3", bob))
    assert "Miso" not in theirs["memory_context"]
    assert theirs["messages"][-1].content == "Nothing recalled."


async def test_async_graph_and_vault_from_the_store(vault: MemVault) -> None:
    alice = user()
    store = MemCubeStore(vault)
    graph = with_memory(recall_agent, MemoryNodes(), checkpointer=InMemorySaver(), store=store)
    await graph.ainvoke(
        {"messages": [("user", "My favourite climbing crag is Céüse")]}, cfg("a1", alice)
    )
    out = await graph.ainvoke(
        {"messages": [("user", "Which crag do I like best?")]}, cfg("a2", alice)
    )
    assert "Céüse" in out["memory_context"]
    assert vault.count(Principal(id=alice), namespace=("memories", alice)) >= 2


@pytest.mark.parametrize("turns", [2, 3])
def test_each_exchange_is_stored_once(vault: MemVault, turns: int) -> None:
    """One episodic memory per exchange: the reader's window around the answer holds the
    same turns as (or fewer than) the window around the question, and is not stored."""
    alice = user()
    graph = with_memory(recall_agent, MemoryNodes(vault), checkpointer=InMemorySaver())
    said = ["I adopted a cat named Miso", "We watched a film", "It rained all day"][:turns]
    for text in said:
        out = graph.invoke({"messages": [("user", text)]}, cfg("once", alice))
    episodes = vault.list(
        Principal(id=alice),
        filter=CubeFilter(namespace=("memories", alice), memory_types=("episodic",)),
    )
    assert len(episodes) == turns
    assert len({c.text for c in episodes}) == turns
    assert len({c.provenance.message_ids for c in episodes}) == turns
    # nothing was lost: every turn of the thread is in some episode
    stored = {i for c in episodes for i in c.provenance.message_ids}
    assert stored == {m.id for m in out["messages"] if m.type in ("human", "ai")}


def test_what_the_nodes_write_is_a_store_item(vault: MemVault) -> None:
    """A run's memories are items of a MemCubeStore over the same vault (Studio's memory view
    and langgraph-sdk's store.search_items go through one): found by search and list, got,
    edited as a new version and deleted by their key, and only by their owner."""
    alice, bob = user(), user()
    graph = with_memory(recall_agent, MemoryNodes(vault), checkpointer=InMemorySaver())
    graph.invoke({"messages": [("user", "I'm allergic to hazelnuts")]}, cfg("s1", alice))
    mine = MemCubeStore(vault, principal=alice)

    found = mine.search(("memories", alice), query="what can't I eat?", limit=5)
    assert found and any("hazelnuts" in i.value["text"] for i in found)
    by_type = {i.value["memory_type"] for i in mine.search(("memories", alice), limit=50)}
    assert by_type == {"episodic", "preference"}
    assert ("memories", alice) in mine.list_namespaces(prefix=("memories",))

    prefs = mine.search(("memories", alice), filter={"memory_type": "preference"})
    assert prefs and all(i.value["memory_type"] == "preference" for i in prefs)
    item = prefs[0]
    assert mine.get(("memories", alice), item.key).value == item.value
    edited = {"text": "I'm allergic to hazelnuts and almonds", "memory_type": "preference"}
    mine.put(("memories", alice), item.key, edited)  # a value as read, with a new text
    history = vault.history(Principal(id=alice), item.key)
    assert [c.version for c in history] == [1, 2]
    assert history[-1].memory_type == "preference" and history[-1].tags == history[0].tags
    assert mine.get(("memories", alice), item.key).value == edited
    assert vault.search(Principal(id=alice), "almonds", namespace=("memories", alice))
    for bad in ({"text": "x", "note": 1}, {"text": "x", "memory_type": "long_term"}, {}):
        with pytest.raises(InvalidInputError):
            ns = ("memories", alice)
            mine.batch([PutOp(ns, "k", {"x": 1}), PutOp(ns, item.key, bad)])
        assert mine.get(("memories", alice), "k") is None  # nothing of the batch was written
    mine.delete(("memories", alice), item.key)
    assert mine.get(("memories", alice), item.key) is None

    assert MemCubeStore(vault, principal=bob).search(("memories", alice)) == []
    vault.add(alice, "a memory of the store's type with no key", namespace=("memories", alice))
    only_own = MemCubeStore(vault, principal=alice, show_memory_types=())
    assert only_own.search(("memories", alice)) == []
    with pytest.raises(InvalidInputError):
        MemCubeStore(vault, show_memory_types=("checkpoint",))


def test_a_store_lookup_is_one_vault_call(vault: MemVault) -> None:
    """Items keyed by a cube id cost no second query: a get or put of a new UUID key (what
    LangMem writes) is one lookup."""
    alice = user()
    store = MemCubeStore(vault, principal=alice)
    key = str(uuid.uuid4())
    since = datetime.now(UTC)
    assert store.get(("notes", alice), key) is None
    store.put(("notes", alice), key, {"text": "hello"})
    assert store.get(("notes", alice), key).value == {"text": "hello"}
    actions = [e.action for e in vault.audit_log(Principal(id=alice), since=since)]
    # get: one lookup; put: its lookup, the new namespace's birth time, the write; get: one
    assert sorted(actions) == ["list"] * 4 + ["put"], actions


def test_nodes_added_to_an_existing_graph(vault: MemVault) -> None:
    """add_to() drops the nodes into a user's own builder; consolidation runs when due."""
    alice = user()
    nodes = MemoryNodes(vault, namespace=("users", "{user_id}", "notes"), consolidate_every=2)
    builder = StateGraph(MemoryState)
    read, schedule, inject, write_back, consolidate = nodes.add_to(builder, prefix="m_")
    builder.add_node("agent", recall_agent)
    builder.add_edge(START, read)
    builder.add_edge(read, schedule)
    builder.add_edge(schedule, inject)
    builder.add_edge(inject, "agent")
    builder.add_edge("agent", write_back)
    builder.add_edge(write_back, consolidate)
    graph = builder.compile(checkpointer=InMemorySaver())
    out = graph.invoke({"messages": [("user", "I live in Lyon")]}, cfg("n1", alice))
    assert out["memory_unconsolidated"] == 0  # two cubes written: consolidation ran
    assert vault.count(Principal(id=alice), namespace=("users", alice, "notes")) >= 1
    events = vault.audit_log(Principal(id=alice), limit=200)
    assert any(e.action == "list" or e.action == "find" for e in events)


def test_memory_kwargs_hand_activation_and_adapters_to_chatmemos() -> None:
    state = {"memory_activation": "act-1", "memory_adapters": ["lora-1", "lora-2"]}
    assert memory_kwargs(state) == {"activation": "act-1", "adapters": ["lora-1", "lora-2"]}
    assert memory_kwargs({"memory_activation": None, "memory_adapters": []}) == {}


def test_inject_puts_an_activation_block_first_alone(vault: MemVault) -> None:
    nodes = MemoryNodes(vault)
    plan = {"text": "- Alice likes tea", "activation": "a1", "activation_text": "KV block"}
    out = nodes.inject({"messages": [("user", "hi")], "memory_plan": plan})
    msgs = [m for m in out["messages"] if isinstance(m, SystemMessage)]
    assert [m.content for m in msgs] == [
        "KV block",
        f"{nodes.header}\n- Alice likes tea",
    ]
    assert out["memory_activation"] == "a1"


def test_bad_configuration_is_a_typed_error(vault: MemVault, tmp_path: Path) -> None:
    with pytest.raises(MemoryNodesError):
        MemoryNodes(vault, namespace=("memories", "{nobody}"))
    with pytest.raises(MemoryNodesError):
        MemoryNodes(vault, budget_tokens=-1)
    with pytest.raises(MemoryNodesError):
        MemoryNodes("not a vault")  # type: ignore[arg-type]
    with pytest.raises(MemoryNodesError):
        MemoryNodes(vault).node("recall")
    # no vault given and no MemCubeStore in the graph
    graph = with_memory(recall_agent, MemoryNodes(), checkpointer=InMemorySaver())
    with pytest.raises(MemoryNodesError, match="no vault"):
        graph.invoke({"messages": [("user", "hello")]}, cfg("x", user()))
    # a principal id that cannot be a namespace label changes nothing
    alice = Principal(id="alice")
    before = vault.count(alice)
    with pytest.raises(InvalidInputError):
        MemoryNodes(vault).write_back(
            {"messages": [("user", "hi")]}, {"configurable": {"user_id": "a\u0000b"}}
        )
    assert vault.count(alice) == before


def test_written_cubes_are_plain_memcubes(vault: MemVault) -> None:
    alice = user()
    nodes = MemoryNodes(vault)
    state = {"messages": [("user", "I am allergic to peanuts"), ("ai", "Noted.")]}
    graph = with_memory(lambda s: {}, nodes)
    graph.invoke(state, cfg("w1", alice))
    cubes = vault.list(
        Principal(id=alice), filter=CubeFilter(namespace=("memories", alice)), limit=10
    )
    assert cubes and all(isinstance(c, MemCube) and c.access.owner == alice for c in cubes)


# -- with a real chat model (the bundled SmolLM2, loaded once per session) ------------------


@pytest.fixture(scope="module")
def smol():
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.models import load_causal_lm

    return ChatMemOS(local_model=load_causal_lm(), max_tokens=16)


def test_chat_agent_end_to_end_with_chatmemos(vault: MemVault, smol) -> None:
    alice = user()

    def agent(state: MemoryState, config) -> dict[str, Any]:
        return {"messages": [smol.invoke(state["messages"], config, **memory_kwargs(state))]}

    graph = with_memory(agent, MemoryNodes(vault, budget_tokens=256), checkpointer=InMemorySaver())
    graph.invoke({"messages": [("user", "My sister is called Ondine.")]}, cfg("c1", alice))
    out = graph.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("c2", alice))
    assert "Ondine" in out["messages"][0].content  # the injected memory
    assert "Ondine" in out["messages"][-1].content  # the model used it (greedy: deterministic)


def test_create_react_agent_hooks(vault: MemVault, smol) -> None:
    from langgraph.prebuilt import create_react_agent

    from memos_lc.nodes import MemoryAgentState

    alice = user()
    nodes = MemoryNodes(vault, budget_tokens=256)
    vault.add(
        Principal(id=alice), "user: My sister is called Ondine.", namespace=("memories", alice)
    )
    agent = create_react_agent(
        smol,
        tools=[],
        state_schema=MemoryAgentState,
        pre_model_hook=nodes.pre_model_hook,
        post_model_hook=nodes.post_model_hook,
        checkpointer=InMemorySaver(),
    )
    out = agent.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("r1", alice))
    assert "Ondine" in out["memory_context"]
    # the history holds no memory message: the model got it as llm_input_messages only
    assert [m.type for m in out["messages"]] == ["human", "ai"]
    assert "Ondine" in out["messages"][-1].content
    assert out["memory_written"]  # the turn was written back


def test_memory_agent_traces_the_placement_and_the_first_token(vault: MemVault, smol) -> None:
    """The scheduler places a KV cube made for the answering model, ChatMemOS reuses its
    prefix, and the turn's state says so: the plan item (placement, why) and the trace."""
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.nodes import memory_agent

    alice = user()
    chat = ChatMemOS(local_model=smol.lm, vault=vault, max_tokens=8)
    kv = chat.compile_activation(
        "- My sister is called Ondine.", namespace=("memories", alice), principal=alice
    )
    nodes = MemoryNodes(vault, budget_tokens=256, model=chat, consolidate_every=0)
    graph = with_memory(memory_agent(chat), nodes, checkpointer=InMemorySaver())
    out = graph.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("t1", alice))
    placed = {i["cube_id"]: i for i in out["memory_plan"]["items"]}
    assert placed[kv.id]["placement"] == "activation" and placed[kv.id]["components"]
    trace = out["memory_trace"]
    assert trace["activation"] == kv.id and trace["activation_used"] is True
    assert trace["cached_tokens"] == kv.payload.prefix_tokens and trace["ttft_ms"] > 0
    assert out["messages"][-1].response_metadata["memory"]["activation_used"] is True
    # without the model the nodes know no fingerprint: the same cube goes in as text
    plain = with_memory(memory_agent(chat), MemoryNodes(vault, budget_tokens=256))
    out = plain.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("t2", alice))
    assert {i["placement"] for i in out["memory_plan"]["items"]} == {"plaintext"}
    assert out["memory_trace"]["activation_used"] is False


async def test_memory_agent_async_traces_too(vault: MemVault, smol) -> None:
    from memos_lc.nodes import memory_agent

    graph = with_memory(memory_agent(smol), MemoryNodes(vault, budget_tokens=64))
    out = await graph.ainvoke({"messages": [("user", "Hello")]}, cfg("a1", user()))
    assert out["memory_trace"]["ttft_ms"] > 0 and out["messages"][-1].content
