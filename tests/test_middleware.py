"""MemoryMiddleware in LangChain's create_agent, on the bundled SmolLM2: recall across threads,
the memory in the system message (never in the history), write-back, isolation, async."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langgraph.checkpoint.memory import InMemorySaver

from memos_lc import MemVault
from memos_lc.middleware import MemoryMiddleware
from memos_lc.nodes import MemoryNodes


class SystemPromptRecorder(AgentMiddleware):
    """Inside MemoryMiddleware: records the system message each model call gets."""

    def __init__(self) -> None:
        super().__init__()
        self.tools = []
        self.seen: list[str] = []

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        self.seen.append(request.system_message.text if request.system_message else "")
        return handler(request)

    async def awrap_model_call(self, request: ModelRequest, handler: Any) -> ModelResponse:
        self.seen.append(request.system_message.text if request.system_message else "")
        return await handler(request)


def cfg(thread: str, user: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, "user_id": user}}


@pytest.fixture(scope="module")
def vault(tmp_path_factory, embeddings) -> MemVault:
    v = MemVault.open(tmp_path_factory.mktemp("middleware") / "vault", embeddings=embeddings)
    yield v
    v.close()


@pytest.fixture(scope="module")
def smol():
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.models import load_causal_lm

    return ChatMemOS(local_model=load_causal_lm(), max_tokens=16)


def agent_with_memory(smol, vault: MemVault) -> tuple[Any, SystemPromptRecorder]:
    recorder = SystemPromptRecorder()
    agent = create_agent(
        smol,
        tools=[],
        system_prompt="Answer briefly.",
        middleware=[MemoryMiddleware(vault=vault, budget_tokens=256), recorder],
        checkpointer=InMemorySaver(),
    )
    return agent, recorder


def test_recall_across_threads_in_the_system_message(smol, vault: MemVault) -> None:
    alice, bob = f"a{uuid.uuid4().hex[:6]}", f"b{uuid.uuid4().hex[:6]}"
    agent, recorder = agent_with_memory(smol, vault)
    first = agent.invoke({"messages": [("user", "My sister is called Ondine.")]}, cfg("1", alice))
    assert first["memory_written"]  # after the agent: the turn was stored

    out = agent.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("2", alice))
    assert "Ondine" in out["memory_context"]
    prompt = recorder.seen[-1]
    assert prompt.startswith("Answer briefly.") and "Ondine" in prompt  # one system message
    assert [m.type for m in out["messages"]] == ["human", "ai"]  # history left alone
    assert "Ondine" in out["messages"][-1].content

    # another user recalls nothing of alice's and the model gets the bare system prompt
    other = agent.invoke({"messages": [("user", "What is my sister's name?")]}, cfg("3", bob))
    assert "Ondine" not in other["memory_context"]
    assert recorder.seen[-1] == "Answer briefly."


async def test_async_agent_recalls_and_writes(smol, vault: MemVault) -> None:
    carol = f"c{uuid.uuid4().hex[:6]}"
    agent, recorder = agent_with_memory(smol, vault)
    await agent.ainvoke({"messages": [("user", "I keep bees in Tromsø.")]}, cfg("1", carol))
    out = await agent.ainvoke({"messages": [("user", "Where do I keep bees?")]}, cfg("2", carol))
    assert "Tromsø" in out["memory_context"] and "Tromsø" in recorder.seen[-1]
    assert out["memory_written"]


def test_nodes_and_options_are_exclusive(vault: MemVault) -> None:
    with pytest.raises(TypeError):
        MemoryMiddleware(MemoryNodes(vault), budget_tokens=10)
