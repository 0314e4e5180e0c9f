"""A chat agent with MemOS memory, for LangGraph Studio.

``read -> schedule -> inject -> agent -> write_back -> consolidate``: every user turn recalls
the user's memories (namespace ``("memories", <user_id>)``) into a system message, the bundled
SmolLM2 answers through :class:`~memos_lc.chat_models.ChatMemOS` (with any activation or
adapter memory the scheduler placed), and the turn is written back as memory. The vault is
the server's store (``langgraph.json``), so the memories are the ones Studio's store view
shows. Pass ``{"configurable": {"user_id": "alice"}}`` to act as a user.
"""

from __future__ import annotations

import functools

from langchain_core.runnables import RunnableConfig, RunnableLambda

from memos_lc.chat_models import ChatMemOS
from memos_lc.nodes import MemoryNodes, MemoryState, memory_kwargs, with_memory


@functools.cache
def _model() -> ChatMemOS:
    # loaded on the first turn, not when the server imports the graph
    return ChatMemOS(max_new_tokens=96)


def agent(state: MemoryState, config: RunnableConfig) -> dict:
    """Answer the conversation (memory already injected at its head)."""
    reply = _model().invoke(state["messages"], config, **memory_kwargs(state))
    return {"messages": [reply]}


async def aagent(state: MemoryState, config: RunnableConfig) -> dict:
    reply = await _model().ainvoke(state["messages"], config, **memory_kwargs(state))
    return {"messages": [reply]}


nodes = MemoryNodes(budget_tokens=512)
graph = with_memory(RunnableLambda(agent, afunc=aagent, name="agent"), nodes)
