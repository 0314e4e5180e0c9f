"""MemOS memory for LangChain's ``create_agent``, as agent middleware.

:class:`MemoryMiddleware` runs the memory pipeline around an agent built with
:func:`langchain.agents.create_agent` (LangChain 1.x, the successor of LangGraph's
``create_react_agent``):

* **before the agent** (once per invocation): ``read`` + ``schedule`` for the last human
  message; the plan and its text go into the state (:class:`~memos_lc.nodes.MemoryKeys`).
* **around every model call**: the memory text joins the system message the model gets (the
  history is left alone, so nothing is stored twice). For :class:`~memos_lc.chat_models.ChatMemOS`
  an activation block becomes the system message on its own, so its KV prefix applies, and the
  activation / adapter ids are passed as call arguments. Other chat models get plain text.
* **after the agent**: ``write_back`` stores the turns added since the last write-back.

Needs the ``langchain`` package (``pip install "memos-lc[agents]"``).

Example:
    .. code-block:: python

        from langchain.agents import create_agent
        from langgraph.checkpoint.memory import InMemorySaver

        from memos_lc import MemVault
        from memos_lc.middleware import MemoryMiddleware

        agent = create_agent(
            model,
            tools=[...],
            system_prompt="You are a helpful assistant.",
            middleware=[MemoryMiddleware(vault=MemVault.open(), count_tokens=model)],
            checkpointer=InMemorySaver(),
        )
        agent.invoke(
            {"messages": [("user", "What is my sister's name?")]},
            {"configurable": {"thread_id": "t1", "user_id": "alice"}},
        )
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.messages import SystemMessage

from memos_lc.nodes import MemoryKeys, MemoryNodes, memory_kwargs

try:
    from langchain.agents.middleware import (
        AgentMiddleware,
        AgentState,
        ModelRequest,
        ModelResponse,
    )
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "memos_lc.middleware needs LangChain 1.x agents: pip install 'memos-lc[agents]'"
    ) from e
from langgraph.runtime import Runtime


class MemoryMiddlewareState(AgentState, MemoryKeys):
    """``create_agent``'s state plus :class:`~memos_lc.nodes.MemoryKeys` (added to the agent
    by the middleware: nothing to declare)."""


class MemoryMiddleware(AgentMiddleware[MemoryMiddlewareState, Any]):
    """Lifecycle-governed memory for a ``create_agent`` agent.

    Args:
        nodes: The memory nodes to run (vault, namespace template, budget, reader, policies).
            Built from ``node_options`` when not given.
        **node_options: Passed to :class:`~memos_lc.nodes.MemoryNodes` (``vault``,
            ``namespace``, ``budget_tokens``, ``principal``...). The vault may also come from
            the agent's store (``create_agent(..., store=MemCubeStore(vault))``). Pass the
            agent's model as ``count_tokens=model`` to count the memory budget with its
            tokenizer (the middleware plans before the model is called, so it cannot learn
            the model from the agent); without it the budget is an estimate
            (:func:`~memos_lc.scheduler.estimate_tokens`).

    The principal is the run's (``config["configurable"]["user_id"]`` or the runtime context),
    as for the memory nodes; a run that names nobody uses ``principal``.
    """

    state_schema = MemoryMiddlewareState

    def __init__(self, nodes: MemoryNodes | None = None, **node_options: Any) -> None:
        super().__init__()
        if nodes is not None and node_options:
            raise TypeError("pass either nodes or MemoryNodes options, not both")
        self.nodes = nodes if nodes is not None else MemoryNodes(**node_options)
        self.tools = []

    # -- before / after the agent ----------------------------------------------------------

    def before_agent(
        self, state: MemoryMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Recall the memory for the last human message (once per invocation)."""
        return self.nodes.recall(dict(state))

    async def abefore_agent(
        self, state: MemoryMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async twin of :meth:`before_agent`."""
        return await self.nodes.arecall(dict(state))

    def after_agent(
        self, state: MemoryMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Store the turns of this invocation."""
        return self.nodes.write_back(dict(state))

    async def aafter_agent(
        self, state: MemoryMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async twin of :meth:`after_agent`."""
        return await self.nodes.awrite_back(dict(state))

    # -- around the model call -------------------------------------------------------------

    def wrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], ModelResponse],
    ) -> ModelResponse:
        """Give the model the recalled memory (see the module docs)."""
        return handler(self._with_memory(request))

    async def awrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> ModelResponse:
        """Async twin of :meth:`wrap_model_call`."""
        return await handler(self._with_memory(request))

    def _with_memory(self, request: ModelRequest) -> ModelRequest:
        state = request.state
        plan = state.get("memory_plan") or {}
        if not plan.get("text") and not plan.get("activation_text"):
            return request
        from memos_lc.chat_models import ChatMemOS

        prompt = request.system_message.text if request.system_message is not None else ""
        if isinstance(request.model, ChatMemOS) and plan.get("activation_text"):
            # the compiled block must open the prompt alone for its KV cache to apply
            text_memory = self.nodes.render({"text": plan.get("text")})
            rest = "\n\n".join(p for p in (prompt, text_memory) if p)
            return request.override(
                system_message=SystemMessage(plan["activation_text"]),
                messages=[*([SystemMessage(rest)] if rest else []), *request.messages],
                model_settings={**request.model_settings, **memory_kwargs(state)},
            )
        memory = self.nodes.render(plan)
        system = SystemMessage("\n\n".join(p for p in (prompt, memory) if p))
        if isinstance(request.model, ChatMemOS) and state.get("memory_adapters"):
            settings = {**request.model_settings, **memory_kwargs(state)}
            return request.override(system_message=system, model_settings=settings)
        return request.override(system_message=system)
