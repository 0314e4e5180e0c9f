"""Memory consolidation as its own graph, for LangGraph Studio or a cron run.

Runs :func:`memos_lc.lifecycle.consolidate` over the acting user's memories (namespace
``("memories", <user_id>)`` unless the input names one): expire, resolve contradictions as new
versions, merge near-duplicates, report promotion candidates. The vault is the server's
store. The output is the consolidation report.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph

from memos_lc.governance import principal_in_run
from memos_lc.lifecycle import LifecyclePolicy, aconsolidate, consolidate
from memos_lc.nodes import MemoryNodesError
from memos_lc.studio import UserContext


class ConsolidationState(TypedDict):
    namespace: NotRequired[list[str] | None]
    """Consolidate this namespace (and below); default ``["memories", <user_id>]``."""
    dry_run: NotRequired[bool]
    report: NotRequired[dict[str, Any]]


def _job(state: ConsolidationState, config: RunnableConfig) -> tuple[Any, Any, tuple, Any]:
    store = get_store()
    vault = getattr(store, "vault", None)
    if vault is None:
        raise MemoryNodesError("the consolidation graph needs the MemCubeStore as its store")
    principal = principal_in_run(config, default=getattr(store, "principal", None))
    namespace = tuple(state.get("namespace") or ("memories", principal.id))
    policy = LifecyclePolicy(dry_run=bool(state.get("dry_run", False)))
    return vault, principal, namespace, policy


def run(state: ConsolidationState, config: RunnableConfig) -> dict:
    vault, principal, namespace, policy = _job(state, config)
    report = consolidate(vault, principal, namespace, policy)
    return {"report": report.model_dump(mode="json")}


async def arun(state: ConsolidationState, config: RunnableConfig) -> dict:
    vault, principal, namespace, policy = _job(state, config)
    report = await aconsolidate(vault, principal, namespace, policy)
    return {"report": report.model_dump(mode="json")}


builder = StateGraph(ConsolidationState, context_schema=UserContext)
builder.add_node("consolidate", RunnableLambda(run, afunc=arun, name="consolidate"))
builder.add_edge(START, "consolidate")
builder.add_edge("consolidate", END)
graph = builder.compile()
