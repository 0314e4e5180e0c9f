"""A chat agent with MemOS memory, for LangGraph Studio.

``read -> schedule -> inject -> agent -> write_back -> consolidate``: every user turn recalls
the user's memories (namespace ``("memories", <user_id>)``) into a system message, the bundled
SmolLM2 answers through :class:`~memos_lc.chat_models.ChatMemOS` (with any activation or
adapter memory the scheduler placed), and the turn is written back as memory. The vault is
the server's store (``langgraph.json``), so the memories are the ones Studio's store view
shows. The scheduler places the activation (KV) and adapter cubes a consolidation run made
for the bundled model's weights. Each turn's state shows what was placed where and why
(``memory_plan``: every item's placement ``plaintext`` / ``activation`` / ``parametric``, its
score and the score's parts, the memories a KV or adapter cube was built from) and how the
model took it (``memory_trace``: time to first token, whether the KV prefix was reused).
Studio's form asks for the ``user_id`` to act as (the run context,
:class:`~memos_lc.studio.UserContext`); from the SDK pass ``context={"user_id": "alice"}``.
"""

from __future__ import annotations

from langgraph.config import get_store

from memos_lc.chat_models import ChatMemOS
from memos_lc.nodes import MemoryNodes, memory_agent, with_memory
from memos_lc.studio import UserContext, answering_model


def _model() -> ChatMemOS:
    # one per vault, shared with the consolidation graph (which promotes memory for it)
    return answering_model(getattr(get_store(), "vault", None))


# the budget in the answering model's tokens (its tokenizer only: the weights load on the
# first turn, when the scheduler reads their fingerprint); the run context makes Studio's run
# form ask for the user id
nodes = MemoryNodes(budget_tokens=512, model=ChatMemOS())
graph = with_memory(memory_agent(_model), nodes, context_schema=UserContext)
