"""Add MemOS memory to an existing LangGraph agent: one line around the agent node.

The agent below is an ordinary node calling a chat model (ChatMemOS on the bundled SmolLM2;
any LangChain chat model works the same). ``with_memory`` wraps it in read -> schedule ->
inject -> agent -> write_back -> consolidate: what alice said in one thread is recalled in
another, bob never sees it, and every memory is a versioned, audited MemCube.

Run: python cookbook/memory_agent.py [VAULT_DIR]
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from memos_lc import MemVault, Principal  # noqa: E402
from memos_lc.chat_models import ChatMemOS  # noqa: E402
from memos_lc.nodes import MemoryNodes, memory_kwargs, with_memory  # noqa: E402

llm = ChatMemOS(max_new_tokens=20)  # greedy: the same answer every run


def agent(state, config):
    """Your agent node, unchanged (memory_kwargs hands ChatMemOS any KV/adapter memory)."""
    return {"messages": [llm.invoke(state["messages"], config, **memory_kwargs(state))]}


def main(vault_dir: str) -> None:
    with MemVault.open(vault_dir) as vault:
        graph = with_memory(
            agent,
            MemoryNodes(vault, budget_tokens=256, count_tokens=llm),
            checkpointer=InMemorySaver(),
        )

        def ask(text: str, thread: str, user: str) -> dict:
            cfg = {"configurable": {"thread_id": thread, "user_id": user}}
            return graph.invoke({"messages": [("user", text)]}, cfg)

        ask("My sister is called Ondine.", "monday", "alice")
        out = ask("What is my sister's name?", "tuesday", "alice")
        print("memory injected:", "Ondine" in out["messages"][0].content)
        print("alice's answer mentions Ondine:", "Ondine" in out["messages"][-1].content)
        print("plan:", [(i["placement"], i["tokens"]) for i in out["memory_plan"]["items"]])
        theirs = ask("What is my sister's name?", "bob-1", "bob")
        print("bob's memory context:", repr(theirs["memory_context"]))
        cubes = vault.list(Principal(id="alice"), namespace=("memories", "alice"))
        print(
            "alice's memories:",
            len(cubes),
            "cubes, threads",
            sorted({c.provenance.thread_id for c in cubes}),
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-agent-"))
