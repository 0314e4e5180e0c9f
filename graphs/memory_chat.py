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

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_store

from memos_lc.chat_models import ChatMemOS
from memos_lc.nodes import MemoryNodes, MemoryState, memory_kwargs, with_memory
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


# the budget in the answering model's tokens (its tokenizer only: the weights load on the
# first turn); the run context makes Studio's run form ask for the user id
nodes = MemoryNodes(budget_tokens=512, count_tokens=ChatMemOS())
graph = with_memory(
    RunnableLambda(agent, afunc=aagent, name="agent"), nodes, context_schema=UserContext
)
