"""The store and the checkpointer on the core install: no torch, your own embeddings.

``pip install memos-lc`` (without the ``local`` extra) brings the vault, the LangGraph store
and checkpointer, the retriever, the memory nodes and the CLI; pass any LangChain
``Embeddings`` (OpenAI, Ollama, a server of yours...). The graph below keeps each user's notes
in ``MemCubeStore`` and each conversation in ``MemCubeSaver``, both on one vault. The
deterministic fake embedding keeps the example offline; it embeds by hash, not by meaning.

Run: python cookbook/core_install.py [VAULT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from typing import Annotated, TypedDict

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.store.base import BaseStore

from memos_lc import MemCubeSaver, MemCubeStore, MemVault, Principal
from memos_lc.errors import MissingExtraError


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def take_note(state: State, config: RunnableConfig, *, store: BaseStore) -> dict:
    """Store the user's message as a note of theirs and answer with what they noted."""
    user = config["configurable"]["user_id"]
    namespace = ("users", user, "notes")
    store.put(namespace, uuid.uuid4().hex, {"text": state["messages"][-1].content})
    notes = sorted(item.value["text"] for item in store.search(namespace, limit=100))
    return {"messages": [AIMessage(f"{len(notes)} notes: {'; '.join(notes)}")]}


def main(vault_dir: str) -> None:
    embeddings = DeterministicFakeEmbedding(size=64)
    with MemVault.open(vault_dir, embeddings=embeddings) as vault:
        store = MemCubeStore(vault, index={"fields": ["text"]})
        graph = (
            StateGraph(State)
            .add_node(take_note)
            .add_edge(START, "take_note")
            .compile(checkpointer=MemCubeSaver(vault), store=store)
        )

        def say(text: str, thread: str, user: str) -> str:
            cfg = {"configurable": {"thread_id": thread, "user_id": user}}
            return graph.invoke({"messages": [("user", text)]}, cfg)["messages"][-1].content

        say("Buy oat milk", "t-1", "alice")
        print("alice:", say("Call the dentist", "t-1", "alice"))
        print("bob:  ", say("Water the plants", "t-9", "bob"))
        state = graph.get_state({"configurable": {"thread_id": "t-1", "user_id": "alice"}})
        print("alice's thread t-1 holds", len(state.values["messages"]), "messages")
        state = graph.get_state({"configurable": {"thread_id": "t-1", "user_id": "bob"}})
        print("bob's view of thread t-1:", len(state.values.get("messages", [])), "messages")

    try:  # the bundled MiniLM is what the core install leaves out
        with MemVault.open(":memory:") as bare:
            bare.add(Principal(id="alice"), "a memory to embed", namespace=("alice",))
    except MissingExtraError as e:
        print("without embeddings=:", type(e).__name__, "-", e)
    else:
        print("without embeddings=: the bundled MiniLM (the local extra is installed)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-core-"))
