"""A chat agent with MemOS memory, for LangGraph Studio.

``read -> schedule -> inject -> agent -> write_back -> consolidate``: every user turn recalls
the user's memories (namespace ``("memories", <user_id>)``) into a system message, the bundled
SmolLM2 answers through :class:`~memos_lc.chat_models.ChatMemOS` (with any activation or
adapter memory the scheduler placed), and the turn is written back as memory. The vault is
the server's store (``langgraph.json``), so the memories are the ones Studio's store view
shows. Studio's form asks for the ``user_id`` to act as (the run context,
:class:`~memos_lc.studio.UserContext`); from the SDK pass ``context={"user_id": "alice"}``.
"""

from __future__ import annotations

import functools
import itertools

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph

from memos_lc.chat_models import ChatMemOS
from memos_lc.nodes import MemoryNodes, MemoryState, memory_kwargs
from memos_lc.studio import UserContext
from memos_lc.vault.qdrant import MemVault


@functools.cache
def _model_for(vault: MemVault | None) -> ChatMemOS:
    # loaded on the first turn, not when the server imports the graph; the server's vault
    # lets it resolve the activation / adapter cubes the scheduler places
    return ChatMemOS(max_new_tokens=96, vault=vault)


def _model() -> ChatMemOS:
    return _model_for(getattr(get_store(), "vault", None))


def agent(state: MemoryState, config: RunnableConfig) -> dict:
    """Answer the conversation (memory already injected at its head)."""
    reply = _model().invoke(state["messages"], config, **memory_kwargs(state))
    return {"messages": [reply]}


async def aagent(state: MemoryState, config: RunnableConfig) -> dict:
    reply = await _model().ainvoke(state["messages"], config, **memory_kwargs(state))
    return {"messages": [reply]}


nodes = MemoryNodes(budget_tokens=512)
# with_memory's pipeline, built here to declare the run context: Studio's run form then asks
# for the user id whose memories the run reads and writes
builder = StateGraph(MemoryState, context_schema=UserContext)
pipeline = nodes.add_to(builder)  # read, schedule, inject, write_back, consolidate
builder.add_node("agent", RunnableLambda(agent, afunc=aagent, name="agent"))
steps = [START, *pipeline[:3], "agent", *pipeline[3:], END]
for before, after in itertools.pairwise(steps):
    builder.add_edge(before, after)
graph = builder.compile()
