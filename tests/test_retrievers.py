"""MemCubeRetriever (LangChain's standard retriever tests plus governance, metadata, usage)
and MemCubeChatMessageHistory (round trips, order, isolation, clear/purge, async,
RunnableWithMessageHistory) on real vaults."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableFieldSpec, RunnableLambda, RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError

from memos_lc import CubeFilter, LifecycleStatus, MemVault, Principal
from memos_lc.errors import InvalidInputError
from memos_lc.retrievers import MemCubeChatMessageHistory, MemCubeRetriever

with warnings.catch_warnings():  # deprecated in langchain-core 1.6.4, still widely used
    warnings.simplefilter("ignore")
    from langchain_core.runnables.history import RunnableWithMessageHistory

NS = ("alice", "kb")
FACTS = [
    "Alice is allergic to peanuts",
    "Alice is vegetarian and loves mushroom risotto",
    "Alice eats oatmeal with berries for breakfast",
    "Alice's team ships on Thursdays",
    "Alice drives a blue bicycle to work",
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Iterator[MemVault]:
    """One embedded vault with alice's facts and one of bob's, shared by read-only tests."""
    root = tmp_path_factory.mktemp("retriever")
    vault = MemVault.open(root / "vault", embeddings=embeddings, blobs=root / "blobs")
    alice = Principal(id="alice")
    for i, text in enumerate(FACTS):
        vault.add(
            alice,
            text,
            namespace=NS,
            memory_type="preference" if i < 3 else "long_term",
            provenance={"source_ids": (f"turn-{i}",)},
            tags=("food",) if i < 3 else (),
        )
    vault.add(Principal(id="bob"), "Bob is allergic to shellfish", namespace=("bob", "kb"))
    yield vault
    vault.close()


class TestMemCubeRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's standard retriever tests (langchain-tests)."""

    @pytest.fixture(autouse=True)
    def _vault(self, seeded: MemVault) -> None:
        self.vault = seeded

    @property
    def retriever_constructor(self) -> type[MemCubeRetriever]:
        return MemCubeRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"vault": self.vault, "principal": "alice", "namespace": NS, "record_use": False}

    @property
    def retriever_query_example(self) -> str:
        return "what does Alice eat?"


# -- retriever -----------------------------------------------------------------------------------


def test_documents_carry_cube_header_and_score(seeded: MemVault) -> None:
    retriever = MemCubeRetriever(vault=seeded, k=2, principal="alice", record_use=False)
    docs = retriever.invoke("which food is Alice allergic to?")
    assert [d.page_content for d in docs][0] == "Alice is allergic to peanuts"
    top = docs[0]
    cube = seeded.get(Principal(id="alice"), top.id)
    assert top.metadata["cube_id"] == cube.id and top.metadata["version"] == 1
    assert top.metadata["namespace"] == list(NS) and top.metadata["memory_type"] == "preference"
    assert top.metadata["source_ids"] == ["turn-0"] and top.metadata["owner"] == "alice"
    assert top.metadata["created_at"] == cube.created_at.isoformat()
    assert top.metadata["score"] >= docs[1].metadata["score"]
    assert top.metadata["status"] == "active" and top.metadata["kind"] == "plaintext"


def test_principal_comes_from_config_kwarg_or_field(seeded: MemVault) -> None:
    retriever = MemCubeRetriever(vault=seeded, k=10, record_use=False, principal="alice")
    query = "who is allergic to what?"
    as_alice = retriever.invoke(query)
    as_bob = retriever.invoke(query, {"configurable": {"user_id": "bob"}})
    assert len(as_alice) == len(FACTS)
    assert [d.page_content for d in as_bob] == ["Bob is allergic to shellfish"]
    assert retriever.invoke(query, principal="bob") == as_bob
    nobody = retriever.invoke(query, {"configurable": {"langgraph_user_id": "carol"}})
    assert nobody == []  # deny by default

    # Inside a chain, the config of the whole run reaches the retriever.
    chain = RunnableLambda(lambda q: q) | retriever
    assert chain.invoke(query, {"configurable": {"user_id": "bob"}}) == as_bob


def test_per_call_overrides_filter_and_modes(seeded: MemVault) -> None:
    retriever = MemCubeRetriever(
        vault=seeded,
        principal="alice",
        record_use=False,
        filter=CubeFilter(memory_types=("preference",)),
        k=10,
    )
    assert len(retriever.invoke("Alice")) == 3
    assert len(retriever.invoke("Alice", filter=CubeFilter(tags=("food",)), k=2)) == 2
    assert retriever.invoke("Alice", namespace=("bob",)) == []
    lexical = MemCubeRetriever(
        vault=seeded, principal="alice", search_mode="lexical", k=1, record_use=False
    )
    assert lexical.invoke("bicycle")[0].page_content == "Alice drives a blue bicycle to work"


async def test_ainvoke_matches_invoke(seeded: MemVault) -> None:
    retriever = MemCubeRetriever(vault=seeded, k=3, record_use=False)
    config = {"configurable": {"user_id": "alice"}}
    sync = retriever.invoke("breakfast", config)
    assert [d.id for d in await retriever.ainvoke("breakfast", config)] == [d.id for d in sync]
    batch = await retriever.abatch(["peanuts", "bicycle"], config)
    assert [b[0].page_content for b in batch] == [
        "Alice is allergic to peanuts",
        "Alice drives a blue bicycle to work",
    ]


async def test_record_use_counts_recalls(vault: MemVault, alice: Principal) -> None:
    cube = vault.add(alice, "Alice parks on level 3", namespace=("alice",))
    retriever = MemCubeRetriever(vault=vault, principal=alice, k=1)
    retriever.invoke("where does Alice park?")
    await retriever.ainvoke("parking level")
    usage = vault.get(alice, cube.id).usage
    assert usage.hits == 2 and usage.last_used_at is not None
    assert vault.get(alice, cube.id).version == 1  # counting is not a new version


def test_bad_settings_are_rejected(seeded: MemVault) -> None:
    with pytest.raises(ValidationError):
        MemCubeRetriever(vault=seeded, k=0)
    with pytest.raises(ValidationError):
        MemCubeRetriever(vault=seeded, namespace=())
    with pytest.raises(ValidationError):
        MemCubeRetriever(vault=seeded, principal="role:admin")
    retriever = MemCubeRetriever(vault=seeded, principal="alice", record_use=False)
    with pytest.raises(InvalidInputError):
        retriever.invoke("  ")
    with pytest.raises(InvalidInputError):
        retriever.invoke("x", k=0)


def test_retriever_in_an_lcel_chain(seeded: MemVault) -> None:
    retriever = MemCubeRetriever(vault=seeded, k=2, principal="alice", record_use=False)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Context:\n{context}"), ("human", "{question}")]
    )

    def join(docs: list[Document]) -> str:
        return "\n".join(d.page_content for d in docs)

    chain = {"context": retriever | join, "question": RunnablePassthrough()} | prompt
    value = chain.invoke("is Alice vegetarian?")
    assert "Alice is vegetarian and loves mushroom risotto" in value.messages[0].content


# -- chat message history ------------------------------------------------------------------------


CONVERSATION = [
    SystemMessage("You are terse."),
    HumanMessage("What's the weather?", id="m1", name="alice"),
    AIMessage("", id="m2", tool_calls=[{"name": "weather", "args": {"city": "Oslo"}, "id": "c1"}]),
    ToolMessage("4°C, rain", tool_call_id="c1", id="m3"),
    AIMessage("4°C and rain in Oslo.", id="m4", response_metadata={"model": "x"}),
]


def test_history_round_trips_messages_in_order(vault: MemVault, alice: Principal) -> None:
    history = MemCubeChatMessageHistory(vault, "s1", principal=alice)
    history.add_messages(CONVERSATION[:2])
    history.add_message(CONVERSATION[2])
    history.add_messages(CONVERSATION[3:])
    assert history.messages == CONVERSATION
    again = MemCubeChatMessageHistory(vault, "s1", principal=alice)  # a new instance reads back
    assert again.messages == CONVERSATION
    again.add_messages([HumanMessage("thanks")])
    assert [m.content for m in history.messages][-1] == "thanks"

    cubes = vault.find(
        alice, namespace=("chat", "s1"), limit=100, order_by="created", newest_first=False
    )
    assert [c.text for c in cubes][:2] == ["system: You are terse.", "human: What's the weather?"]
    assert cubes[1].memory_type == "episodic" and cubes[1].provenance.thread_id == "s1"
    assert cubes[1].provenance.message_ids == ("m1",)
    assert history.search("rain in Oslo", k=1)[0][0] == CONVERSATION[4]
    windowed = MemCubeChatMessageHistory(vault, "s1", principal=alice, window=2)
    assert [m.content for m in windowed.messages] == ["4°C and rain in Oslo.", "thanks"]


def test_history_survives_reopening_the_vault(tmp_path: Path, embeddings) -> None:
    alice = Principal(id="alice")
    with MemVault.open(tmp_path / "v", embeddings=embeddings) as vault:
        MemCubeChatMessageHistory(vault, "s", principal=alice, index=False).add_messages(
            CONVERSATION
        )
    with MemVault.open(tmp_path / "v", embeddings=embeddings) as vault:
        history = MemCubeChatMessageHistory(vault, "s", principal=alice, index=False)
        assert history.messages == CONVERSATION
        history.add_messages([HumanMessage("more")])
        assert history.messages[-1].content == "more"


def test_histories_are_isolated_per_principal(vault: MemVault, alice, bob) -> None:
    MemCubeChatMessageHistory(vault, "shared-id", principal=alice).add_messages(
        [HumanMessage("alice's secret")]
    )
    bobs = MemCubeChatMessageHistory(vault, "shared-id", principal=bob)
    assert bobs.messages == []
    bobs.add_messages([HumanMessage("bob's turn")])
    vault.grant(alice, ("chat",), "bob")  # even a reader of alice's chats
    assert [m.content for m in bobs.messages] == ["bob's turn"]
    mine = MemCubeChatMessageHistory(vault, "shared-id", principal=alice)
    assert [m.content for m in mine.messages] == ["alice's secret"]
    bobs.clear()
    assert [m.content for m in mine.messages] == ["alice's secret"]


def test_clear_tombstones_and_purge_removes(vault: MemVault, alice: Principal) -> None:
    history = MemCubeChatMessageHistory(vault, "s2", principal=alice)
    history.add_messages(CONVERSATION[:3])
    ids = [c.id for c in vault.find(alice, namespace=("chat", "s2"), limit=10)]
    history.clear()
    assert history.messages == []
    for cid in ids:  # still in the vault's history, restorable
        assert vault.history(alice, cid)[-1].status is LifecycleStatus.DELETED
    vault.rollback(alice, ids[0], 1)
    assert len(history.messages) == 1
    history.clear()
    history.add_messages([HumanMessage("after clear")])
    assert [m.content for m in history.messages] == ["after clear"]
    assert history.purge() == 2 * 3 + 2 + 1  # 3 cubes x 2 versions, +rollback, +tombstone, +new
    assert (
        vault.count(
            alice, namespace=("chat", "s2"), filter=CubeFilter(statuses=None, include_expired=True)
        )
        == 0
    )


def test_history_ttl_and_bad_input(vault: MemVault, alice: Principal) -> None:
    history = MemCubeChatMessageHistory(
        vault, "s3", principal=alice, ttl=timedelta(milliseconds=300), index=False
    )
    history.add_messages([HumanMessage("short-lived")])
    assert len(history.messages) == 1
    time.sleep(0.4)
    assert history.messages == []
    with pytest.raises(InvalidInputError):
        history.add_messages(["not a message"])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError):
        MemCubeChatMessageHistory(vault, "", principal=alice)
    with pytest.raises(InvalidInputError):
        MemCubeChatMessageHistory(vault, "s", principal=alice, window=0)


async def test_history_async_twins(vault: MemVault, alice: Principal) -> None:
    history = MemCubeChatMessageHistory(vault, "s4", principal=alice)
    await history.aadd_messages(CONVERSATION[:2])
    await asyncio.gather(
        history.aadd_messages([AIMessage("a")]), history.aadd_messages([AIMessage("b")])
    )
    got = await history.aget_messages()
    assert got[:2] == CONVERSATION[:2] and sorted(m.content for m in got[2:]) == ["a", "b"]
    await history.aclear()
    assert await history.aget_messages() == []


def _echo_history_length(inputs: dict) -> AIMessage:
    """A deterministic 'model': says how many messages of history it was given."""
    return AIMessage(f"{len(inputs['history'])} earlier messages; you said {inputs['input']}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_runnable_with_message_history(vault: MemVault, alice: Principal, bob) -> None:
    chain = RunnableWithMessageHistory(
        RunnableLambda(_echo_history_length),
        lambda user_id, session_id: MemCubeChatMessageHistory(vault, session_id, principal=user_id),
        input_messages_key="input",
        history_messages_key="history",
        history_factory_config=[
            ConfigurableFieldSpec(id="user_id", annotation=str, is_shared=True),
            ConfigurableFieldSpec(id="session_id", annotation=str, is_shared=True),
        ],
    )
    alice_s1 = {"configurable": {"user_id": "alice", "session_id": "s1"}}
    assert chain.invoke({"input": "hi"}, alice_s1).content == "0 earlier messages; you said hi"
    assert chain.invoke({"input": "again"}, alice_s1).content.startswith("2 earlier")
    out = await chain.ainvoke({"input": "async"}, alice_s1)
    assert out.content.startswith("4 earlier")
    bob_s1 = {"configurable": {"user_id": "bob", "session_id": "s1"}}
    assert chain.invoke({"input": "hey"}, bob_s1).content.startswith("0 earlier")
    stored = MemCubeChatMessageHistory(vault, "s1", principal=alice).messages
    assert [m.content for m in stored][::2] == ["hi", "again", "async"]
    assert stored[1].content == "0 earlier messages; you said hi"
