"""The MemOS loop end to end (#21): a consolidation run with a model promotes hot memories into
an activation (KV) cube and stable ones into an adapter, recording the source versions; the
scheduler places them and ChatMemOS uses them; once a source gets a new version, is deleted or
expires, the derived cube is no longer placed and the next consolidation retires it (and may
promote afresh). Another principal's cubes are never used or retired.

One embedded vault and the bundled SmolLM2 for the module; every test acts as its own users.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from memos_lc import MemVault, Principal
from memos_lc.chat_models import ChatMemOS
from memos_lc.cube import LifecycleStatus, MemCube, MemoryKind, SourceRef, utcnow
from memos_lc.errors import InvalidInputError
from memos_lc.lifecycle import LifecyclePolicy, aconsolidate, consolidate, stale_derived
from memos_lc.models import LocalLM, load_causal_lm
from memos_lc.nodes import MemoryNodes, memory_agent, with_memory
from memos_lc.parametric import AdapterTrainingConfig, adapter_promoter
from memos_lc.scheduler import MemScheduler, Placement, PlacementPolicy, SchedulerPolicy
from memos_lc.store import MemCubeStore

ROOT = Path(__file__).resolve().parents[1]
FAST = LifecyclePolicy(train_adapters=False)
TINY = adapter_promoter(
    config=AdapterTrainingConfig(
        steps=2, rank=4, pairs_per_sequence=2, anchor_weight=0.0, system_prompts=(None,), bf16=False
    )
)


@pytest.fixture(scope="module")
def lm() -> LocalLM:
    return load_causal_lm()


@pytest.fixture(scope="module")
def pvault(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Iterator[MemVault]:
    root = tmp_path_factory.mktemp("promotion")
    v = MemVault.open(root / "vault", embeddings=embeddings, blobs=root / "blobs")
    yield v
    v.close()


@pytest.fixture(scope="module")
def chat(lm: LocalLM, pvault: MemVault) -> ChatMemOS:
    return ChatMemOS(local_model=lm, vault=pvault, max_tokens=6)


def ns(user: str) -> tuple[str, str]:
    return ("memories", user)


def hot(vault: MemVault, who: Principal, *texts: str, **header) -> list[MemCube]:
    """Cubes recalled often enough, recently enough, to be hot (LifecyclePolicy defaults)."""
    cubes = [vault.add(who, t, namespace=ns(who.id), **header) for t in texts]
    for _ in range(3):
        vault.record_use(who, [c.id for c in cubes])
    return [vault.get(who, c.id) for c in cubes]


def stable(vault: MemVault, who: Principal, *texts: str) -> list[MemCube]:
    """Cubes old, unchanged and recalled enough to be stable (LifecyclePolicy defaults)."""
    then = utcnow() - timedelta(days=40)
    return [
        vault.add(
            who, t, namespace=ns(who.id), created_at=then, updated_at=then, usage={"hits": 5}
        )  # fmt: skip
        for t in texts
    ]


def scheduler(vault: MemVault, lm: LocalLM, chat: ChatMemOS) -> MemScheduler:
    placement = PlacementPolicy(model_fingerprint=lm.fingerprint)
    return MemScheduler(
        vault, SchedulerPolicy(placement=placement, record_use=False), count_tokens=chat
    )


def refs(cubes: list[MemCube]) -> set[SourceRef]:
    return {SourceRef.of(c) for c in cubes}


def test_promote_place_use_then_retire_on_a_new_version(
    pvault: MemVault, lm: LocalLM, chat: ChatMemOS
) -> None:
    alice, bob = Principal("alice"), Principal("bob")
    sources = hot(pvault, alice, "Alice's locker code is 4512.", "Alice parks on level 3.")
    bobs = hot(pvault, bob, "Bob's locker code is 9906.")

    report = consolidate(pvault, alice, ns("alice"), FAST, model=chat)
    assert report.activation_candidates and len(report.activation_cubes) == 1
    assert report.parametric_cubes == ()
    kv = pvault.get(alice, report.activation_cubes[0])
    assert kv.kind is MemoryKind.ACTIVATION and kv.access.owner == "alice"
    assert set(kv.provenance.derived_from_versions) == refs(sources)
    assert set(kv.provenance.derived_from) == {c.id for c in sources}
    assert kv.payload.model_fingerprint == lm.fingerprint

    # the next agent turn: the scheduler places the KV cube, ChatMemOS reuses its prefix
    question = "What is Alice's locker code?"
    plan = scheduler(pvault, lm, chat).plan(alice, question, namespace=ns("alice"))
    assert [c.id for c in plan.activations] == [kv.id] and plan.stale == []
    reply = chat.invoke(
        [SystemMessage(kv.text), HumanMessage(question)], activation=kv.id, principal=alice
    )
    assert reply.response_metadata["memory"]["activation_used"] is True

    # bob's consolidation promotes his own memory and leaves alice's KV cube alone
    bob_report = consolidate(pvault, bob, ns("bob"), FAST, model=chat)
    bob_kv = pvault.get(bob, bob_report.activation_cubes[0])
    assert set(bob_kv.provenance.derived_from_versions) == refs(bobs)
    assert pvault.get(alice, kv.id).version == kv.version

    # a new version of a source: not placed any more, and the reason is in the plan
    pvault.update(alice, sources[0].id, text="Alice's locker code is 7781.")
    plan = scheduler(pvault, lm, chat).plan(alice, question, namespace=ns("alice"))
    assert kv.id not in {c.id for c in plan.cubes}
    [why] = plan.stale
    assert (why.cube_id, why.source_id, why.change) == (kv.id, sources[0].id, "new_version")
    assert (why.source_version, why.current_version) == (1, 2)
    assert "7781" in plan.text and "4512" not in plan.text

    # the next consolidation retires it (a new version, saying why) and promotes afresh
    again = consolidate(pvault, alice, ns("alice"), FAST, model=chat)
    assert [r.cube_id for r in again.retired] == [kv.id]
    retired = pvault.get(alice, kv.id)
    assert retired.status is LifecycleStatus.ARCHIVED and retired.version == kv.version + 1
    assert "retired" in (retired.provenance.note or "")
    assert "newer version" in (retired.provenance.note or "")
    [fresh_id] = again.activation_cubes
    fresh = pvault.get(alice, fresh_id)
    assert set(fresh.provenance.derived_from_versions) == refs(
        [pvault.get(alice, c.id) for c in sources]
    )
    plan = scheduler(pvault, lm, chat).plan(alice, question, namespace=ns("alice"))
    assert [c.id for c in plan.activations] == [fresh.id]

    # bob's cube was never used or retired by alice's runs, nor placed for her
    assert pvault.get(bob, bob_kv.id).status is LifecycleStatus.ACTIVE
    assert pvault.get(bob, bob_kv.id).version == bob_kv.version
    assert all(c.access.owner == "alice" for c in plan.cubes)
    assert consolidate(pvault, alice, ns("alice"), FAST, model=chat).changed is False


def test_a_plan_reads_the_sources_of_every_derived_cube_in_one_call(
    pvault: MemVault, lm: LocalLM, chat: ChatMemOS, monkeypatch: pytest.MonkeyPatch
) -> None:
    judy = Principal("judy")
    first = hot(pvault, judy, "Judy's bus is the 14.", "Judy's stop is Elm Street.")
    [one] = consolidate(pvault, judy, ns("judy"), FAST, model=chat).activation_cubes
    second = hot(pvault, judy, "Judy's bus is late on Mondays.")
    [two] = consolidate(pvault, judy, ns("judy"), FAST, model=chat).activation_cubes
    for c in (*first, *second):
        pvault.update(judy, c.id, tags=("edited",))
    calls: list[dict] = []
    find = pvault.find

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return find(*args, **kwargs)

    monkeypatch.setattr(pvault, "find", counted)
    plan = scheduler(pvault, lm, chat).plan(judy, "Which bus does Judy take?",
                                            namespace=ns("judy"))  # fmt: skip
    assert {s.cube_id for s in plan.stale} == {one, two} and plan.activations == []
    [lookup] = calls  # the sources of both cubes, in one batched read
    assert set(lookup["cube_ids"]) == {c.id for c in (*first, *second)}


def test_a_deleted_or_expired_source_retires_what_was_built_from_it(
    pvault: MemVault, lm: LocalLM, chat: ChatMemOS
) -> None:
    carol = Principal("carol")
    gone, kept = hot(pvault, carol, "Carol's gym badge is 331.", "Carol swims on Tuesdays.")
    kv = pvault.get(carol, consolidate(pvault, carol, ns("carol"), FAST, model=chat)
                    .activation_cubes[0])  # fmt: skip
    pvault.delete(carol, gone.id)
    plan = scheduler(pvault, lm, chat).plan(carol, "Carol's gym badge?", namespace=ns("carol"))
    assert kv.id not in {c.id for c in plan.cubes}
    assert [(s.cube_id, s.change) for s in plan.stale] == [(kv.id, "deleted")]
    report = consolidate(pvault, carol, ns("carol"), FAST, model=chat)
    assert [(r.cube_id, r.change) for r in report.retired] == [(kv.id, "deleted")]
    # what remains hot is compiled again, from the current versions only
    [again] = report.activation_cubes
    assert set(pvault.get(carol, again).provenance.derived_from_versions) == refs([kept])

    dave = Principal("dave")
    soon = utcnow() + timedelta(seconds=30)
    [brief] = hot(pvault, dave, "Dave's visitor pass is 77.", expires_at=soon)
    kv = pvault.get(dave, consolidate(pvault, dave, ns("dave"), FAST, model=chat)
                    .activation_cubes[0])  # fmt: skip
    later = utcnow() + timedelta(minutes=1)
    assert stale_derived(pvault, dave, [kv]) == {}  # not yet
    [why] = stale_derived(pvault, dave, [kv], now=later).values()
    assert why.change == "expired"
    report = consolidate(pvault, dave, ns("dave"), FAST, model=chat, now=later)
    assert report.expired == (brief.id,)
    assert [(r.cube_id, r.change) for r in report.retired] == [(kv.id, "expired")]
    assert report.activation_cubes == ()  # nothing hot is left
    assert pvault.get(dave, kv.id).status is LifecycleStatus.ARCHIVED


def test_stable_memories_train_an_adapter_that_goes_stale(
    pvault: MemVault, lm: LocalLM, chat: ChatMemOS
) -> None:
    erin = Principal("erin")
    facts = stable(pvault, erin, "Erin's bike is a blue Brompton.", "Erin's dog is called Pip.")
    # a few steps of training (the policy's own path, adapter_max_seconds, is the async
    # test's); the hot path comes from the model
    policy = LifecyclePolicy()
    report = consolidate(pvault, erin, ns("erin"), policy, model=chat, parametrize=TINY)
    assert set(report.parametric_candidates) == {c.id for c in facts}
    [adapter_id] = report.parametric_cubes
    adapter = pvault.get(erin, adapter_id)
    assert adapter.kind is MemoryKind.PARAMETRIC
    assert set(adapter.provenance.derived_from_versions) == refs(facts)
    assert adapter.payload.model_fingerprint == lm.fingerprint
    assert adapter.payload.training["status"] == "completed"

    plan = scheduler(pvault, lm, chat).plan(erin, "What is Erin's dog called?",
                                            namespace=ns("erin"))  # fmt: skip
    assert [c.id for c in plan.adapters] == [adapter.id]
    again = consolidate(pvault, erin, ns("erin"), policy, model=chat, parametrize=TINY)
    assert again.parametric_candidates == () and again.parametric_cubes == ()

    pvault.update(erin, facts[1].id, text="Erin's dog is called Pippa.")
    plan = scheduler(pvault, lm, chat).plan(erin, "What is Erin's dog called?",
                                            namespace=ns("erin"))  # fmt: skip
    assert plan.adapters == [] and [s.cube_id for s in plan.stale] == [adapter.id]
    dry = consolidate(pvault, erin, ns("erin"), LifecyclePolicy(dry_run=True), model=chat)
    assert [r.cube_id for r in dry.retired] == [adapter.id]
    assert pvault.get(erin, adapter.id).status is LifecycleStatus.ACTIVE  # a dry run writes nothing
    off = LifecyclePolicy(train_adapters=False)
    report = consolidate(pvault, erin, ns("erin"), off, model=chat)
    assert [r.cube_id for r in report.retired] == [adapter.id] and report.parametric_cubes == ()
    assert pvault.get(erin, adapter.id).status is LifecycleStatus.ARCHIVED


async def test_async_promotion_trains_off_the_loop_and_cancels(
    pvault: MemVault, chat: ChatMemOS
) -> None:
    frank = Principal("frank")
    stable(pvault, frank, "Frank's locker is 12.", "Frank's car is green.")
    task = asyncio.ensure_future(
        aconsolidate(
            pvault, frank, ns("frank"), LifecyclePolicy(adapter_max_seconds=600), model=chat
        )  # fmt: skip
    )
    ticks = 0
    while not task.done() and ticks < 600:  # the loop stays free while the model trains
        await asyncio.sleep(0.01)
        ticks += 1
        if ticks == 150:
            task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ticks >= 150
    parametric = pvault.find(frank, filter={"kinds": [MemoryKind.PARAMETRIC]}, limit=10)
    assert parametric == []  # cancelled training stores nothing
    hot(pvault, frank, "Frank's desk is by the window.")
    report = await aconsolidate(pvault, frank, ns("frank"), FAST, model=chat)
    assert len(report.activation_cubes) == 1 and report.parametric_cubes == ()
    assert len(report.parametric_candidates) == 2  # still to be trained, another time


def test_the_agent_graph_uses_the_promoted_cube(
    pvault: MemVault, lm: LocalLM, chat: ChatMemOS
) -> None:
    gina = Principal("gina")
    hot(pvault, gina, "Gina's train leaves from platform 9.", "Gina's seat is 42A.")
    [kv_id] = consolidate(pvault, gina, ns("gina"), FAST, model=chat).activation_cubes
    graph = with_memory(memory_agent(chat), MemoryNodes(pvault, model=chat, budget_tokens=512))
    out = graph.invoke(
        {"messages": [HumanMessage("Which platform does Gina's train leave from?")]},
        {"configurable": {"user_id": "gina"}},
    )
    placed = {i["cube_id"]: i["placement"] for i in out["memory_plan"]["items"]}
    assert placed.get(kv_id) == Placement.ACTIVATION.value
    assert out["memory_trace"]["activation"] == kv_id
    assert out["memory_trace"]["activation_used"] is True
    assert out["memory_plan"]["stale"] == []
    # a new version of a source: the next turn's plan leaves the KV cube out and says why
    source = next(
        c
        for c in pvault.list(gina, namespace=ns("gina"))
        if c.kind is MemoryKind.PLAINTEXT and c.text == "Gina's seat is 42A."
    )
    pvault.update(gina, source.id, text=source.text + " (changed)")
    again = graph.invoke(
        {"messages": [HumanMessage("Which platform does Gina's train leave from?")]},
        {"configurable": {"user_id": "gina"}},
    )
    assert kv_id not in {i["cube_id"] for i in again["memory_plan"]["items"]}
    [why] = again["memory_plan"]["stale"]
    assert why["cube_id"] == kv_id and why["change"] == "new_version" and why["reason"]
    assert again["memory_trace"]["activation"] is None


def _consolidation_graph_module():
    spec = importlib.util.spec_from_file_location(
        "graphs_consolidation", ROOT / "graphs" / "consolidation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its annotations resolve in its own globals
    spec.loader.exec_module(module)
    return module


def test_the_consolidation_graph_promotes_for_the_answering_model(
    pvault: MemVault, lm: LocalLM
) -> None:
    hank = Principal("hank")
    sources = hot(pvault, hank, "Hank's printer is on floor 2.")
    module = _consolidation_graph_module()
    graph = module.builder.compile(store=MemCubeStore(pvault))
    config = {"configurable": {"user_id": "hank"}}
    dry = graph.invoke({"dry_run": True}, config)
    assert dry["report"]["activation_candidates"] == [sources[0].id] and dry["promoted"] == []
    out = graph.invoke({"train_adapters": False}, config)
    [promoted] = out["promoted"]
    assert promoted["kind"] == "activation" and promoted["namespace"] == ["memories", "hank"]
    assert promoted["built_from"] == [{"id": sources[0].id, "version": 1, "owner": "hank"}]
    assert out["report"]["activation_cubes"] == [promoted["cube_id"]]
    kv = pvault.get(hank, promoted["cube_id"])
    assert kv.payload.model_fingerprint == lm.fingerprint  # the answering model's weights
    assert graph.invoke({"promote": False}, config)["promoted"] == []


def test_a_model_must_be_a_chat_model_or_a_local_lm(pvault: MemVault) -> None:
    ivan = Principal("ivan")
    hot(pvault, ivan, "Ivan's code word is heron.")
    with pytest.raises(InvalidInputError, match="ChatMemOS or a LocalLM"):
        consolidate(pvault, ivan, ns("ivan"), FAST, model="smollm2")  # type: ignore[arg-type]
    assert consolidate(pvault, ivan, ns("ivan"), FAST).activation_cubes == ()


def test_stable_memories_with_nothing_to_teach_make_no_adapter_and_no_failure(
    pvault: MemVault, lm: LocalLM
) -> None:
    """A statement no question can be made from (and no cloze asked for) is no reason to
    fail the consolidation run: the adapter promoter makes nothing, the run goes on."""
    who = Principal(id="nothing-to-teach")
    sources = stable(pvault, who, "Hmm.", "Okay!")
    plain = AdapterTrainingConfig(steps=2, cloze=False, questions_per_fact=0, bf16=False)
    promoter = adapter_promoter(lm, config=plain)
    assert promoter(pvault, who, sources) is None
    report = consolidate(pvault, who, ns(who.id), parametrize=promoter)
    assert set(report.parametric_candidates) == {c.id for c in sources}
    assert report.parametric_cubes == ()
    kinds = {c.kind for c in pvault.list(who, namespace=ns(who.id))}
    assert kinds == {MemoryKind.PLAINTEXT}
