"""A store + checkpointer showcase for LangGraph Studio (no LLM needed).

Each user message is saved as a note in the store (namespace ``("notes", <user>)``); the graph
then recalls the notes most related to the message and answers with them. Run it with
``langgraph dev`` (see the README) and watch the notes and checkpoints land in the vault.
"""

from __future__ import annotations

import uuid

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.store.base import BaseStore

from memos_lc.governance import principal_in_run
from memos_lc.studio import UserContext


def _user(config: RunnableConfig, store: BaseStore) -> str:
    # the authenticated user, else the run's user_id (context or configurable), else the
    # store's principal ($MEMOS_LC_PRINCIPAL); nobody: PrincipalRequiredError
    return principal_in_run(config, default=getattr(store, "principal", None)).id


def remember(state: MessagesState, config: RunnableConfig, *, store: BaseStore) -> dict:
    """Save the latest user message as a note."""
    text = str(state["messages"][-1].content)
    store.put(("notes", _user(config, store)), str(uuid.uuid4()), {"text": text})
    return {}


def recall(state: MessagesState, config: RunnableConfig, *, store: BaseStore) -> dict:
    """Answer with the notes most related to the latest message."""
    query = str(state["messages"][-1].content)
    hits = store.search(("notes", _user(config, store)), query=query, limit=3)
    lines = [f"- {h.value['text']}" for h in hits]
    return {"messages": [AIMessage(content="Notes I recall:\n" + "\n".join(lines))]}


builder = StateGraph(MessagesState, context_schema=UserContext)
builder.add_node("remember", remember)
builder.add_node("recall", recall)
builder.add_edge(START, "remember")
builder.add_edge("remember", "recall")
builder.add_edge("recall", END)
graph = builder.compile()
