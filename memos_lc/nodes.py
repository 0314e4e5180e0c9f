"""The MemOS pipeline as LangGraph nodes: ``read``, ``schedule``, ``inject``, ``write_back`` and
``consolidate``.

One turn of an agent graph with memory::

    START -> read -> schedule -> inject -> <your agent> -> write_back -> consolidate -> END

* ``read`` takes the last human message as the query and fetches candidates from the vault
  (dense and BM25 searches, only what the acting principal may read);
* ``schedule`` scores them (relevance, recency, priority, usage), removes redundancy, fits
  the token budget of the target model and places each memory: text, activation (KV) cube or
  parametric adapter (:class:`~memos_lc.scheduler.MemScheduler`);
* ``inject`` puts the memory block in a system message at the head of ``messages`` (one
  message with a fixed id, replaced every turn, never stored as memory) and the activation /
  adapter cube ids in the state for :class:`~memos_lc.chat_models.ChatMemOS`;
* ``write_back`` turns the messages added since the last write-back into cubes
  (:class:`~memos_lc.reader.MemReader`) with their provenance (thread, message ids);
* ``consolidate`` (deferred: it runs when the rest of the run is done) dedupes, merges,
  resolves contradictions and expires (:mod:`memos_lc.lifecycle`) every
  ``consolidate_every`` written cubes.

Dependencies come from the graph: the vault from ``MemoryNodes(vault=...)`` or the graph's
store (a :class:`~memos_lc.store.MemCubeStore`), the principal from
``config["configurable"]`` (``user_id``, ``principal``, ...) or the runtime context, the
thread from ``configurable.thread_id``. Each node is written once, as steps of vault and model
calls (:mod:`memos_lc.aio`), and runs sync or async.

Example:
    .. code-block:: python

        from langgraph.checkpoint.memory import InMemorySaver
        from memos_lc import MemVault
        from memos_lc.nodes import MemoryNodes, with_memory

        nodes = MemoryNodes(vault=MemVault.open("/tmp/vault"), budget_tokens=512)
        graph = with_memory(my_agent_node, nodes, checkpointer=InMemorySaver())
        graph.invoke({"messages": [("user", "I moved to Lyon")]},
                     {"configurable": {"thread_id": "t1", "user_id": "alice"}})
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NotRequired

from langchain_core.language_models import BaseChatModel, BaseLanguageModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    convert_to_messages,
    message_chunk_to_message,
)
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_config, get_store
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.prebuilt.chat_agent_executor import AgentState
from typing_extensions import TypedDict  # the flavour LangGraph states use

from memos_lc.aio import Call, Steps, arun_steps, run_steps
from memos_lc.cube import MemCube, validate_namespace
from memos_lc.errors import InvalidInputError
from memos_lc.governance import Principal, as_principal, principal_in_run
from memos_lc.lifecycle import LifecyclePolicy, aconsolidate, consolidate
from memos_lc.reader import MemReader, turns_of
from memos_lc.scheduler import (
    Candidates,
    MemoryPlan,
    MemScheduler,
    SchedulerPolicy,
    TokenCounter,
    token_counter,
)
from memos_lc.vault.qdrant import MemVault

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = [
    "MEMORY_MESSAGE_ID",
    "MemoryAgentState",
    "MemoryKeys",
    "MemoryNodes",
    "MemoryNodesError",
    "MemoryState",
    "memory_agent",
    "memory_kwargs",
    "with_memory",
]

logger = logging.getLogger(__name__)

MEMORY_MESSAGE_ID = "memos-lc-memory"
"""Id of the system message ``inject`` maintains (and ``write_back`` never stores)."""

NODE_NAMES = ("read", "schedule", "inject", "write_back", "consolidate")


class MemoryNodesError(InvalidInputError):
    """The memory nodes cannot run: no vault, a bad namespace template, a bad state."""


class MemoryKeys(TypedDict, total=False):
    """The state keys the memory nodes keep (all optional); add them to your own state."""

    memory_query: NotRequired[str | None]
    """The query ``read`` searched for (the last human message)."""
    memory_candidates: NotRequired[dict[str, Any] | None]
    """What ``read`` found, for ``schedule`` (cleared by ``schedule``)."""
    memory_plan: NotRequired[dict[str, Any] | None]
    """The scheduled plan as JSON: ``{"text", "total_tokens", "items": [...]}``."""
    memory_context: NotRequired[str]
    """The memory block as injected (``""`` when nothing was recalled)."""
    memory_activation: NotRequired[str | None]
    """Activation cube id for ChatMemOS (a KV prefix of the memory block), if any."""
    memory_adapters: NotRequired[list[str]]
    """Parametric cube ids for ChatMemOS (LoRA adapters), if any."""
    memory_cursor: NotRequired[str | None]
    """Id of the last message ``write_back`` stored."""
    memory_written: NotRequired[list[str]]
    """Cube ids stored by the last ``write_back``."""
    memory_unconsolidated: NotRequired[int]
    """Cubes written since the last consolidation."""
    memory_trace: NotRequired[dict[str, Any] | None]
    """How the agent's model took the memory this turn (set by :func:`memory_agent`):
    ``ttft_ms`` (the agent node's time to its first streamed token), ``activation_used`` and
    ``cached_tokens`` (whether the placed KV prefix was reused, and its length), ``adapter``,
    ``input_tokens`` and ``output_tokens``."""


class MemoryState(MessagesState, MemoryKeys):
    """Graph state for memory nodes: ``messages`` plus :class:`MemoryKeys`."""


class MemoryAgentState(AgentState, MemoryKeys):
    """``create_react_agent``'s state plus :class:`MemoryKeys`:
    ``create_react_agent(..., state_schema=MemoryAgentState, pre_model_hook=nodes.pre_model_hook,
    post_model_hook=nodes.post_model_hook)``."""


def memory_kwargs(state: dict[str, Any]) -> dict[str, Any]:
    """The per-call memory arguments :class:`~memos_lc.chat_models.ChatMemOS` takes, from a
    state ``inject`` filled: ``llm.invoke(messages, **memory_kwargs(state))``."""
    out: dict[str, Any] = {}
    if state.get("memory_activation"):
        out["activation"] = state["memory_activation"]
    if state.get("memory_adapters"):
        out["adapters"] = list(state["memory_adapters"])
    return out


def memory_agent(
    model: BaseChatModel | Callable[[], BaseChatModel], *, name: str = "agent"
) -> RunnableLambda:
    """An agent node that answers the conversation with ``model`` and the memory ``inject``
    placed (:func:`memory_kwargs`: the KV prefix and adapter for
    :class:`~memos_lc.chat_models.ChatMemOS`), and records how: the state update is the reply
    plus ``memory_trace``. The model is streamed (token events reach the graph's
    ``stream_mode="messages"`` as with any model), so the node times its first token.

    ``model`` may be a function returning the model, to load it on the first turn.

    Example:
        .. code-block:: python

            graph = with_memory(memory_agent(chat), MemoryNodes(vault, model=chat))
            graph.invoke(inputs, config)["memory_trace"]   # {"ttft_ms": ..., ...}
    """

    def llm() -> BaseChatModel:
        return model if isinstance(model, BaseLanguageModel) else model()

    def answer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        reply = _TimedReply()
        for chunk in llm().stream(_messages(state), config, **memory_kwargs(state)):
            reply.add(chunk)
        return reply.answered()

    async def aanswer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        reply = _TimedReply()
        async for chunk in llm().astream(_messages(state), config, **memory_kwargs(state)):
            reply.add(chunk)
        return reply.answered()

    return RunnableLambda(answer, afunc=aanswer, name=name)


class _TimedReply:
    """A streamed reply gathered chunk by chunk, with the time of its first token: the
    :func:`memory_agent` node's state update, for its sync and async streams alike."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.reply: AIMessageChunk | None = None

    def add(self, chunk: AIMessageChunk) -> None:
        if self.first is None and chunk.content:
            self.first = time.perf_counter()
        self.reply = chunk if self.reply is None else self.reply + chunk

    def answered(self) -> dict[str, Any]:
        """The reply and its ``memory_trace``."""
        if self.reply is None:
            raise MemoryNodesError("the agent's model streamed no message")
        message = message_chunk_to_message(self.reply)
        memory = message.response_metadata.get("memory") or {}
        usage = getattr(message, "usage_metadata", None) or {}
        # an answer with no text has no first token: its time is the whole call's
        ttft = (self.first if self.first is not None else time.perf_counter()) - self.started
        trace = {
            "ttft_ms": round(ttft * 1000, 1),
            "activation": memory.get("activation"),
            "activation_used": bool(memory.get("activation_used")),
            "cached_tokens": memory.get("cached_tokens", 0),
            "adapter": memory.get("adapter"),
            "input_tokens": usage.get("input_tokens"),
            "output_tokens": usage.get("output_tokens"),
        }
        return {"messages": [message], "memory_trace": trace}


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in content
        if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
    )


def _last_human(messages: Sequence[BaseMessage]) -> str | None:
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            text = _text_of(m).strip()
            return text or None
    return None


class MemoryNodes:
    """The five memory nodes over one vault, with their settings.

    Args:
        vault: The vault; ``None`` takes it from the graph's store (a ``MemCubeStore``).
        namespace: Where a principal's memories live, as a template: ``"{user_id}"`` (or
            ``"{principal}"``) is replaced by the acting principal's id. Reads search it and
            everything below it; writes go to it.
        budget_tokens: Tokens of memory text the model may get per turn.
        reader: Turns new messages into cubes (default: fast mode, no LLM).
        scheduler_policy: Scoring, dedupe and placement rules (default: the benchmarked ones).
        count_tokens: The model the memory is for, whose tokenizer counts the budget: a
            LangChain chat model (e.g. the agent's, or :class:`~memos_lc.chat_models.ChatMemOS`),
            a transformers tokenizer, or a function ``str -> int`` (see
            :func:`~memos_lc.scheduler.token_counter`). By default
            :func:`~memos_lc.scheduler.estimate_tokens`, which loads no tokenizer.
        header: First line of the injected memory block.
        inject_into: ``"messages"`` puts the block in a system message at the head of
            ``messages``; ``"state"`` only sets ``memory_context`` (your agent reads it).
        consolidate_every: Run consolidation once this many cubes were written (``0``:
            never from the graph; run :mod:`memos_lc.lifecycle` yourself).
        lifecycle_policy: Consolidation rules.
        principal: Who acts when the config and runtime context name nobody.
        model: The local chat model that answers (a :class:`~memos_lc.chat_models.ChatMemOS`):
            the scheduler places the activation (KV) and adapter cubes made for its weights
            (their fingerprint, read when the first turn is scheduled: the weights load
            then), unless ``scheduler_policy`` names a fingerprint itself; it also counts the
            budget when ``count_tokens`` is not given. Without it every memory is placed as
            text.

    Example:
        .. code-block:: python

            nodes = MemoryNodes(vault=vault, namespace=("users", "{user_id}"))
            builder.add_node("read", nodes.node("read"))
    """

    def __init__(
        self,
        vault: MemVault | None = None,
        *,
        namespace: Sequence[str] = ("memories", "{user_id}"),
        budget_tokens: int = 1024,
        reader: MemReader | None = None,
        scheduler_policy: SchedulerPolicy | None = None,
        count_tokens: TokenCounter | BaseLanguageModel | PreTrainedTokenizerBase | None = None,
        header: str = "Relevant memories about the user (from earlier conversations):",
        inject_into: Literal["messages", "state"] = "messages",
        consolidate_every: int = 50,
        lifecycle_policy: LifecyclePolicy | None = None,
        principal: Principal | str | None = None,
        model: BaseLanguageModel | None = None,
    ) -> None:
        if vault is not None and not isinstance(vault, MemVault):
            raise MemoryNodesError(f"vault must be a MemVault, got {type(vault).__name__}")
        if not isinstance(budget_tokens, int) or budget_tokens < 0:
            raise MemoryNodesError("budget_tokens must be a non-negative int")
        if inject_into not in ("messages", "state"):
            raise MemoryNodesError("inject_into must be 'messages' or 'state'")
        if not isinstance(consolidate_every, int) or consolidate_every < 0:
            raise MemoryNodesError("consolidate_every must be a non-negative int")
        if model is not None and not isinstance(model, BaseLanguageModel):
            raise MemoryNodesError(f"model must be a LangChain model, got {type(model).__name__}")
        self.namespace = tuple(namespace)
        self._render_namespace("check")  # a bad template fails here, not in a run
        self.vault = vault
        self.budget_tokens = budget_tokens
        self.reader = reader or MemReader()
        self.scheduler_policy = scheduler_policy or SchedulerPolicy()
        self.count_tokens = token_counter(count_tokens if count_tokens is not None else model)
        self.model = model
        self.header = header
        self.inject_into = inject_into
        self.consolidate_every = consolidate_every
        self.lifecycle_policy = lifecycle_policy
        self.principal = as_principal(principal) if principal is not None else None
        self._schedulers: dict[int, MemScheduler] = {}

    def __repr__(self) -> str:
        return (
            f"MemoryNodes(namespace={self.namespace!r}, budget_tokens={self.budget_tokens}, "
            f"reader={self.reader!r})"
        )

    # -- what a node needs from the run ------------------------------------------------------

    def _render_namespace(self, principal_id: str) -> tuple[str, ...]:
        try:
            labels = [
                label.format(user_id=principal_id, principal=principal_id)
                for label in self.namespace
            ]
        except (KeyError, IndexError, ValueError) as e:
            raise MemoryNodesError(
                f"namespace template {self.namespace!r} is invalid: only {{user_id}} and "
                f"{{principal}} may be used ({e})"
            ) from None
        try:
            return validate_namespace(labels)
        except InvalidInputError as e:
            raise MemoryNodesError(f"namespace for principal {principal_id!r}: {e}") from None

    def _vault(self) -> MemVault:
        if self.vault is not None:
            return self.vault
        try:
            store = get_store()
        except RuntimeError:
            store = None
        vault = getattr(store, "vault", None)
        if isinstance(vault, MemVault):
            return vault
        raise MemoryNodesError(
            "no vault: pass MemoryNodes(vault=...) or compile the graph with "
            "store=MemCubeStore(vault)"
        )

    def _scheduler(self, vault: MemVault) -> MemScheduler:
        # one scheduler per vault: it caches the token counts of memory lines
        sched = self._schedulers.get(id(vault))
        if sched is None or sched.vault is not vault:
            sched = MemScheduler(vault, self._placing_policy(), count_tokens=self.count_tokens)
            self._schedulers[id(vault)] = sched
        return sched

    def _placing_policy(self) -> SchedulerPolicy:
        """The scheduler policy, placing cubes made for :attr:`model`'s weights (a local model
        exposes them as ``model.lm.fingerprint``; an API model has none: all text)."""
        policy = self.scheduler_policy
        fingerprint = getattr(getattr(self.model, "lm", None), "fingerprint", None)
        if policy.placement.model_fingerprint is not None or not isinstance(fingerprint, str):
            return policy
        placement = policy.placement.model_copy(update={"model_fingerprint": fingerprint})
        return policy.model_copy(update={"placement": placement})

    def _context(
        self, config: RunnableConfig | None
    ) -> tuple[MemVault, Principal, tuple[str, ...], str | None]:
        if config is None:
            try:
                config = get_config()
            except RuntimeError:
                config = {}
        vault = self._vault()
        store_default = getattr(_store_or_none(), "principal", None)
        principal = principal_in_run(config, default=self.principal or store_default)
        thread_id = (config.get("configurable") or {}).get("thread_id")
        return (
            vault,
            principal,
            self._render_namespace(principal.id),
            None if thread_id is None else str(thread_id),
        )

    # -- read ------------------------------------------------------------------------------

    def _read(self, state: dict[str, Any], config: RunnableConfig | None) -> Steps[dict]:
        vault, principal, ns, _ = self._context(config)
        query = _last_human(_messages(state))
        if query is None:
            return {"memory_query": None, "memory_candidates": None}
        sched = self._scheduler(vault)
        found = yield Call(sched.retrieve, sched.aretrieve, principal, query, namespace=ns)
        return {"memory_query": query, "memory_candidates": found.model_dump(mode="json")}

    def read(self, state: dict[str, Any], config: RunnableConfig | None = None) -> dict[str, Any]:
        """Find candidate memories for the last human message."""
        return run_steps(self._read(state, config))

    async def aread(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`read`."""
        return await arun_steps(self._read(state, config))

    # -- schedule --------------------------------------------------------------------------

    def _schedule(self, state: dict[str, Any], config: RunnableConfig | None) -> Steps[dict]:
        vault, principal, _, _ = self._context(config)
        raw = state.get("memory_candidates")
        if not raw:
            return {"memory_candidates": None, "memory_plan": None}
        try:
            candidates = Candidates.model_validate(raw)
        except ValueError as e:
            raise MemoryNodesError(f"memory_candidates in the state are invalid: {e}") from None
        sched = self._scheduler(vault)
        plan = yield Call(sched.schedule, sched.aschedule, principal, candidates,
                          budget_tokens=self.budget_tokens)  # fmt: skip
        return {"memory_candidates": None, "memory_plan": _plan_json(plan)}

    def schedule(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Score, dedupe, fit the budget and place the candidates ``read`` found."""
        return run_steps(self._schedule(state, config))

    async def aschedule(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`schedule`."""
        return await arun_steps(self._schedule(state, config))

    # -- inject ----------------------------------------------------------------------------

    def inject(self, state: dict[str, Any], config: RunnableConfig | None = None) -> dict[str, Any]:
        """Put the planned memory where the model sees it (pure: no vault call)."""
        plan = state.get("memory_plan") or {}
        context = self.render(plan)
        update: dict[str, Any] = {
            "memory_context": context,
            "memory_activation": plan.get("activation"),
            "memory_adapters": list(plan.get("adapters") or []),
        }
        if self.inject_into == "messages":
            update["messages"] = _placed(_messages(state), self.memory_messages(plan))
        return update

    async def ainject(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`inject`."""
        return self.inject(state, config)

    def render(self, plan: dict[str, Any]) -> str:
        """The memory text of a plan as the model gets it (header + block)."""
        parts = [plan.get("activation_text") or "", plan.get("text") or ""]
        body = "\n".join(p for p in parts if p)
        return f"{self.header}\n{body}" if body and self.header else body

    def memory_messages(self, plan: dict[str, Any]) -> list[SystemMessage]:
        """The system message(s) carrying a plan's memory.

        With an activation cube, its compiled block comes first, alone in its message, so
        the rendered prompt starts with exactly the prefix ChatMemOS cached."""
        out: list[SystemMessage] = []
        if plan.get("activation_text"):
            out.append(SystemMessage(plan["activation_text"], id=MEMORY_MESSAGE_ID))
        if plan.get("text"):
            text = f"{self.header}\n{plan['text']}" if self.header else plan["text"]
            msg_id = f"{MEMORY_MESSAGE_ID}-text" if out else MEMORY_MESSAGE_ID
            out.append(SystemMessage(text, id=msg_id))
        return out

    # -- write back ------------------------------------------------------------------------

    def _new_messages(self, state: dict[str, Any]) -> tuple[list[BaseMessage], int]:
        """The conversation turns of the state and the index of the first not yet stored.

        The cursor is the id of the last stored turn: unlike an index it survives the history
        being rewritten (``inject``) or trimmed. When the turn is gone (trimmed away), every
        turn left is newer than it."""
        kept = [m for m in _messages(state) if _storable(m)]
        last = state.get("memory_cursor")
        start = 0
        if last:
            for i, m in enumerate(kept):
                if m.id == last:
                    start = i + 1
                    break
        return kept, start

    def _write_back(self, state: dict[str, Any], config: RunnableConfig | None) -> Steps[dict]:
        vault, principal, ns, thread_id = self._context(config)
        kept, start = self._new_messages(state)
        if start >= len(kept):
            return {"memory_written": []}
        cubes = yield Call(self.reader.read, self.reader.aread, kept, namespace=ns,
                           thread_id=thread_id, start=start)  # fmt: skip
        cubes = _owned(_without_nested_windows(cubes), principal)
        stored = (yield Call(vault.put, vault.aput, principal, cubes)) if cubes else []
        return self._written(state, kept, stored)

    def write_back(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Store the conversation turns added since the last write-back as cubes."""
        return run_steps(self._write_back(state, config))

    async def awrite_back(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`write_back`."""
        return await arun_steps(self._write_back(state, config))

    @staticmethod
    def _written(
        state: dict[str, Any], kept: list[BaseMessage], stored: list[MemCube]
    ) -> dict[str, Any]:
        return {
            "memory_cursor": kept[-1].id,
            "memory_written": [c.id for c in stored],
            "memory_unconsolidated": (state.get("memory_unconsolidated") or 0) + len(stored),
        }

    # -- consolidate -----------------------------------------------------------------------

    def _consolidate(self, state: dict[str, Any], config: RunnableConfig | None) -> Steps[dict]:
        due = state.get("memory_unconsolidated") or 0
        if not self.consolidate_every or due < self.consolidate_every:
            return {}
        vault, principal, ns, _ = self._context(config)
        report = yield Call(consolidate, aconsolidate, vault, principal, ns, self.lifecycle_policy)
        logger.info("memory consolidation for %s: %s", principal.id, report.summary())
        return {"memory_unconsolidated": 0}

    def consolidate(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Consolidate the principal's memories once enough new ones were written."""
        return run_steps(self._consolidate(state, config))

    async def aconsolidate(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`consolidate`."""
        return await arun_steps(self._consolidate(state, config))

    # -- as LangGraph nodes ----------------------------------------------------------------

    def node(self, name: str) -> RunnableLambda:
        """One node as a runnable with its sync and async body: ``"read"``, ``"schedule"``,
        ``"inject"``, ``"write_back"`` or ``"consolidate"``."""
        if name not in NODE_NAMES:
            raise MemoryNodesError(f"unknown memory node {name!r}; one of {NODE_NAMES}")
        return RunnableLambda(getattr(self, name), afunc=getattr(self, f"a{name}"), name=name)

    def add_to(self, builder: StateGraph, *, prefix: str = "memory_") -> list[str]:
        """Add the five nodes to ``builder`` (named ``prefix + name``; ``consolidate``
        deferred) and return their names; you wire the edges."""
        names = []
        for name in NODE_NAMES:
            builder.add_node(prefix + name, self.node(name), defer=name == "consolidate")
            names.append(prefix + name)
        return names

    # -- create_react_agent hooks ----------------------------------------------------------

    def _recall(self, state: dict[str, Any], config: RunnableConfig | None) -> Steps[dict]:
        update = yield from self._read(state, config)
        update |= yield from self._schedule({**state, **update}, config)
        plan = update.get("memory_plan") or {}
        update.pop("memory_candidates", None)
        update["memory_context"] = self.render(plan)
        update["memory_activation"] = plan.get("activation")
        update["memory_adapters"] = list(plan.get("adapters") or [])
        return update

    def recall(self, state: dict[str, Any], config: RunnableConfig | None = None) -> dict[str, Any]:
        """``read`` and ``schedule`` in one step, leaving the messages alone: the state update
        carries the plan, its rendered text (``memory_context``) and the activation and adapter
        ids, for hooks that hand the memory to the model themselves."""
        return run_steps(self._recall(state, config))

    async def arecall(
        self, state: dict[str, Any], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`recall`."""
        return await arun_steps(self._recall(state, config))

    def pre_model_hook(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        """``create_react_agent(pre_model_hook=...)``: read, schedule and inject in one step;
        the model gets the memory as ``llm_input_messages``, the history stays as it is."""
        update = self.recall(state, config)
        plan = update.get("memory_plan") or {}
        update["llm_input_messages"] = [*self.memory_messages(plan), *_messages(state)]
        return update

    def post_model_hook(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        """``create_react_agent(post_model_hook=...)``: write back once the model answered
        without asking for tools (the turn is complete)."""
        messages = _messages(state)
        if messages and isinstance(messages[-1], AIMessage) and messages[-1].tool_calls:
            return {}
        return self.write_back(state, config)


def _store_or_none() -> Any:
    try:
        return get_store()
    except RuntimeError:
        return None


def _messages(state: dict[str, Any]) -> list[BaseMessage]:
    messages = state.get("messages") if isinstance(state, dict) else None
    if messages is None:
        raise MemoryNodesError("the graph state has no 'messages' (use MemoryState)")
    return convert_to_messages(messages)  # a state outside a graph may hold ("user", "hi")


def _storable(m: BaseMessage) -> bool:
    """Conversation turns, not our own memory messages, tool chatter or empty AI steps."""
    if (m.id or "").startswith(MEMORY_MESSAGE_ID):
        return False
    if isinstance(m, HumanMessage):
        return bool(_text_of(m).strip())
    return isinstance(m, AIMessage) and bool(_text_of(m).strip()) and not m.tool_calls


def _without_nested_windows(cubes: list[MemCube]) -> list[MemCube]:
    """``cubes`` without those whose turns another cube of the same memory type holds whole.

    The fast reader makes a window around every turn: a question and its answer come back as
    two windows of the same two turns, and the answer's window lies inside the question's
    (which also holds the turn before). Stored as they are, every exchange would be two
    near-identical memories. Dropping the nested windows keeps every turn in some cube and
    stores each exchange once. Identical windows keep the first; cubes without turns (fine
    mode) are kept as they are."""
    held = [(c.memory_type, frozenset(t.pos for t in turns_of(c) or ())) for c in cubes]

    def nested(i: int) -> bool:
        kind, mine = held[i]
        return bool(mine) and any(
            j != i and other_kind == kind and (mine < other or (mine == other and j < i))
            for j, (other_kind, other) in enumerate(held)
        )

    return [c for i, c in enumerate(cubes) if not nested(i)]


def _owned(cubes: list[MemCube], principal: Principal) -> list[MemCube]:
    return [c.replace(access=c.access.model_copy(update={"owner": principal.id})) for c in cubes]


def _placed(messages: list[BaseMessage], memory: list[SystemMessage]) -> list[AnyMessage]:
    """The ``messages`` update that puts ``memory`` at the head (after nothing: a memory
    block must open the prompt for its KV prefix to apply) and drops stale memory messages.

    When the memory messages already open the history they are replaced in place (same ids);
    otherwise the history is rewritten once with them in front."""
    ours = [i for i, m in enumerate(messages) if (m.id or "").startswith(MEMORY_MESSAGE_ID)]
    if ours == list(range(len(memory))) and len(ours) == len(memory):
        return list(memory)  # same ids: add_messages replaces them where they are
    if not memory and not ours:
        return []
    rest = [m for i, m in enumerate(messages) if i not in set(ours)]
    return [RemoveMessage(id=REMOVE_ALL_MESSAGES), *memory, *rest]


def _plan_json(plan: MemoryPlan) -> dict[str, Any]:
    """What the state keeps of a plan: JSON only (checkpoints never pickle)."""
    activations = plan.activations
    return {
        "query": plan.query,
        "text": plan.text,
        "text_tokens": plan.text_tokens,
        "total_tokens": plan.total_tokens,
        "budget_tokens": plan.budget_tokens,
        "activation": activations[0].id if activations else None,
        "activation_text": activations[0].text if activations else None,
        "adapters": [c.id for c in plan.adapters],
        "items": [
            {
                "cube_id": i.cube.id,
                "version": i.cube.version,
                "placement": str(i.placement),
                "score": round(i.score, 6),
                "tokens": i.tokens,
                "memory_type": i.cube.memory_type,
                # why it was chosen: the score's parts; a KV or adapter cube names the
                # memories it was built from
                "components": {k: round(v, 4) for k, v in i.components.items()},
                "derived_from": list(i.cube.provenance.derived_from),
                "source_ids": list(i.source_ids or i.cube.provenance.source_ids),
            }
            for i in plan.items
        ],
        # KV / adapter cubes left out because a memory they were built from changed
        "stale": [{**s.model_dump(mode="json"), "reason": s.reason} for s in plan.stale],
    }


def with_memory(
    agent: Any,
    nodes: MemoryNodes | None = None,
    *,
    state_schema: type = MemoryState,
    context_schema: type | None = None,
    name: str = "agent",
    **compile_kwargs: Any,
) -> Any:
    """Wrap an agent node (a function, a runnable, or a compiled graph such as
    ``create_react_agent(...)``) in the memory pipeline and compile it:
    ``START -> read -> schedule -> inject -> agent -> write_back -> consolidate -> END``.

    ``context_schema`` is the graph's run context (e.g. a ``user_id`` field, which Studio's
    run form then asks for); ``compile_kwargs`` go to ``StateGraph.compile``
    (``checkpointer=``, ``store=``, ...).
    """
    nodes = nodes or MemoryNodes()
    builder = StateGraph(state_schema, context_schema=context_schema)
    read, schedule, inject, write_back, consolidate_ = nodes.add_to(builder)
    builder.add_node(name, agent)
    builder.add_edge(START, read)
    builder.add_edge(read, schedule)
    builder.add_edge(schedule, inject)
    builder.add_edge(inject, name)
    builder.add_edge(name, write_back)
    builder.add_edge(write_back, consolidate_)
    builder.add_edge(consolidate_, END)
    return builder.compile(**compile_kwargs)
