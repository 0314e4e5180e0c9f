"""Memory consolidation as its own graph, for LangGraph Studio or a cron run.

Runs :func:`memos_lc.lifecycle.consolidate` over the acting user's memories (namespace
``("memories", <user_id>)`` unless the input names one): expire, resolve contradictions as new
versions, merge near-duplicates, retire the activation / adapter cubes a source changed under,
and promote: hot memories are compiled into an activation (KV cache) cube and stable ones
trained into an adapter (``train_adapters``, within the policy's time budget) for the model
``graphs/memory_chat.py`` answers with (:func:`memos_lc.studio.answering_model`, one per
server), so its scheduler places them on the next turns. The vault is the server's store. The
output is the consolidation report and the promoted cubes (kind, namespace, the source
versions each was built from).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph

from memos_lc.governance import Principal, principal_in_run
from memos_lc.lifecycle import ConsolidationReport, LifecyclePolicy, aconsolidate, consolidate
from memos_lc.nodes import MemoryNodesError
from memos_lc.studio import UserContext, answering_model
from memos_lc.vault.qdrant import MemVault


class ConsolidationState(TypedDict):
    namespace: NotRequired[list[str] | None]
    """Consolidate this namespace (and below); default ``["memories", <user_id>]``."""
    dry_run: NotRequired[bool]
    promote: NotRequired[bool]
    """Promote hot / stable memories for the answering model (default true)."""
    train_adapters: NotRequired[bool]
    """Train stable memories into an adapter (default true; false: KV caches only, fast)."""
    report: NotRequired[dict[str, Any]]
    promoted: NotRequired[list[dict[str, Any]]]
    """The cubes this run promoted: id, kind, namespace, the source versions it holds."""


def _job(
    state: ConsolidationState, config: RunnableConfig
) -> tuple[MemVault, Principal, tuple[str, ...], LifecyclePolicy, Any]:
    store = get_store()
    vault = getattr(store, "vault", None)
    if vault is None:
        raise MemoryNodesError("the consolidation graph needs the MemCubeStore as its store")
    principal = principal_in_run(config, default=getattr(store, "principal", None))
    namespace = tuple(state.get("namespace") or ("memories", principal.id))
    policy = LifecyclePolicy(
        dry_run=bool(state.get("dry_run", False)),
        train_adapters=bool(state.get("train_adapters", True)),
    )
    model = answering_model(vault) if state.get("promote", True) else None
    return vault, principal, namespace, policy, model


def _output(vault: MemVault, principal: Principal, report: ConsolidationReport) -> dict:
    ids = [*report.activation_cubes, *report.parametric_cubes]
    cubes = vault.find(principal, cube_ids=ids, limit=max(1, len(ids))) if ids else []
    promoted = [
        {
            "cube_id": c.id,
            "kind": c.kind.value,
            "namespace": list(c.namespace),
            "built_from": [r.model_dump() for r in c.provenance.derived_from_versions],
        }
        for c in cubes
    ]
    return {"report": report.model_dump(mode="json"), "promoted": promoted}


def run(state: ConsolidationState, config: RunnableConfig) -> dict:
    vault, principal, namespace, policy, model = _job(state, config)
    report = consolidate(vault, principal, namespace, policy, model=model)
    return _output(vault, principal, report)


async def arun(state: ConsolidationState, config: RunnableConfig) -> dict:
    vault, principal, namespace, policy, model = _job(state, config)
    report = await aconsolidate(vault, principal, namespace, policy, model=model)
    return _output(vault, principal, report)


builder = StateGraph(ConsolidationState, context_schema=UserContext)
builder.add_node("consolidate", RunnableLambda(run, afunc=arun, name="consolidate"))
builder.add_edge(START, "consolidate")
builder.add_edge("consolidate", END)
graph = builder.compile()
