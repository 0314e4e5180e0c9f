"""MemCubeSaver (LangGraph checkpointer) on both drivers: the conformance suite, real graphs,
principal isolation, TTL, bad input and the lifecycle methods."""

from __future__ import annotations

import operator
import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.channels.delta import DeltaChannel  # beta in langgraph 1.x
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES
from langgraph.checkpoint.conformance.report import ProgressCallbacks
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from memos_lc import CubeFilter, MemCube, MemVault, Principal
from memos_lc.checkpoint import ROOT, CheckpointConfigError, MemCubeSaver
from memos_lc.checkpoint.codec import cube_id, cubes_for, thread_namespace
from memos_lc.cube import utcnow
from memos_lc.errors import CubeNotFoundError, InvalidInputError

STEPS = 20


@pytest.fixture(scope="module", params=["edge", "client"])
def ckpt_vault(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[MemVault]:
    """One vault per driver for the module (opening an embedded vault builds its indexes);
    every test acts as its own principal, so tests never see each other's threads."""
    root = tmp_path_factory.mktemp(f"ckpt-{request.param}")
    location = str(root / "vault") if request.param == "edge" else ":memory:"
    vault = MemVault.open(location, blobs=root / "blobs")
    yield vault
    vault.close()


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def saver(ckpt_vault: MemVault, user: str) -> MemCubeSaver:
    return MemCubeSaver(ckpt_vault, principal=user)


def cfg(thread_id: str, **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, **extra}}


# -- graphs ------------------------------------------------------------------------------------


class Loop(TypedDict):
    messages: Annotated[list, operator.add]
    step: int
    topic: str  # set by the input only: later checkpoints refer to the blob that holds it


def loop_graph(saver: BaseCheckpointSaver, *, approve_at: int | None = None):
    """A real StateGraph looping STEPS times; optionally asks a human at one step."""

    def work(state: Loop) -> dict[str, Any]:
        note = f"step {state['step']}"
        if approve_at is not None and state["step"] == approve_at:
            answer = interrupt({"question": f"continue after {note}?"})
            note += f" approved={answer}"
        return {"messages": [note], "step": state["step"] + 1}

    def route(state: Loop) -> str:
        return "work" if state["step"] < STEPS else END

    builder = StateGraph(Loop)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    builder.add_conditional_edges("work", route)
    return builder.compile(checkpointer=saver)


# -- conformance -------------------------------------------------------------------------------


async def test_conformance_report_is_full(ckpt_vault: MemVault, capsys) -> None:
    @checkpointer_test(name="MemCubeSaver")
    async def factory():
        # a fresh principal per capability suite: a fresh, isolated set of threads
        yield MemCubeSaver(ckpt_vault, principal=f"conformance-{uuid.uuid4().hex[:8]}")

    report = await validate(factory, progress=ProgressCallbacks.default())
    report.print_report()
    printed = capsys.readouterr().out
    results = report.results
    assert {c.value for c in ALL_CAPABILITIES} == set(results)
    for name, result in results.items():
        assert result.detected, f"{name} not implemented"
        assert result.passed is True, f"{name}: {result.failures}"
        assert result.tests_failed == 0 and result.tests_passed > 0
    assert report.conformance_level() == "FULL"
    assert "Result: FULL (8/8)" in printed


# -- real graphs ---------------------------------------------------------------------------------


def summary(history: list) -> list[tuple]:
    """What a state history says, without ids and timestamps."""
    return [
        (s.metadata["source"], s.metadata["step"], s.values, s.next, len(s.tasks)) for s in history
    ]


def test_graph_interrupt_resume_and_time_travel(saver: MemCubeSaver) -> None:
    graph = loop_graph(saver, approve_at=5)
    reference = loop_graph(InMemorySaver(), approve_at=5)
    config = cfg("trip")
    reference.invoke({"messages": [], "step": 0, "topic": "t"}, config)
    reference.invoke(Command(resume="yes"), config)

    first = graph.invoke({"messages": [], "step": 0, "topic": "t"}, config)
    assert "__interrupt__" in first
    paused = graph.get_state(config)
    assert paused.next == ("work",) and paused.values["step"] == 5
    assert paused.tasks[0].interrupts[0].value == {"question": "continue after step 5?"}

    done = graph.invoke(Command(resume="yes"), config)
    assert done["step"] == STEPS
    assert done["messages"][5] == "step 5 approved=yes"
    assert len(done["messages"]) == STEPS

    history = list(graph.get_state_history(config))
    steps = [s.metadata["step"] for s in history]
    assert steps == sorted(steps, reverse=True)  # newest first
    assert history[0].values == done and history[-1].metadata["source"] == "input"
    assert summary(history) == summary(list(reference.get_state_history(config)))

    # time travel: replay from the checkpoint before step 3 with a new value (a fork)
    past = next(s for s in history if s.values.get("step") == 3)
    forked = graph.update_state(past.config, {"messages": ["edited"], "step": 18})
    again = graph.invoke(None, forked)
    assert again["step"] == STEPS
    assert again["messages"][:4] == ["step 0", "step 1", "step 2", "edited"]
    assert again["messages"][4:] == ["step 18", "step 19"]
    # the original branch is still there
    assert graph.get_state(history[0].config).values == done


def test_state_survives_reopening_the_vault(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    with MemCubeSaver.from_path(str(path), principal="alice") as saver:
        out = loop_graph(saver).invoke({"messages": [], "step": 0, "topic": "t"}, cfg("t-1"))
    with MemCubeSaver.from_path(str(path), principal="alice") as saver:
        state = loop_graph(saver).get_state(cfg("t-1"))
        assert state.values == out and state.next == ()
        assert len(list(saver.list(cfg("t-1")))) == STEPS + 2


async def test_async_graph(saver: MemCubeSaver) -> None:
    graph = loop_graph(saver, approve_at=2)
    config = cfg("async")
    await graph.ainvoke({"messages": [], "step": 0, "topic": "t"}, config)
    out = await graph.ainvoke(Command(resume="ok"), config)
    assert out["step"] == STEPS and out["messages"][2] == "step 2 approved=ok"
    assert (await graph.aget_state(config)).values == out
    reference = loop_graph(InMemorySaver(), approve_at=2)
    await reference.ainvoke({"messages": [], "step": 0, "topic": "t"}, config)
    await reference.ainvoke(Command(resume="ok"), config)
    ours = [s async for s in graph.aget_state_history(config)]
    assert summary(ours) == summary([s async for s in reference.aget_state_history(config)])


# -- storage layout ------------------------------------------------------------------------------


def test_checkpoints_are_unindexed_checkpoint_cubes(saver: MemCubeSaver, user: str) -> None:
    loop_graph(saver).invoke({"messages": [], "step": 0, "topic": "t"}, cfg("layout"))
    cubes = saver.vault.list(
        Principal(id=user),
        filter=CubeFilter(namespace=(*ROOT, "layout"), statuses=None),
        limit=1000,
    )
    kinds = [c.bookkeeping.role for c in cubes]
    assert {c.memory_type for c in cubes} == {"checkpoint"}
    assert {c.access.owner for c in cubes} == {user}
    assert kinds.count("checkpoint") == STEPS + 2
    carriers = sum(
        k == "checkpoint" and any(t[:2] == "w:" for t in c.tags)
        for c, k in zip(cubes, kinds, strict=True)
    )
    if saver.vault.defers:
        # a task's writes ride with the next checkpoint when they are still waiting for the
        # engine as it is put (LangGraph's threads decide the order), else keep their cube
        assert carriers + kinds.count("writes") >= STEPS + 1
        assert carriers > 0
    else:  # written through: a cube per checkpoint and per task's writes
        assert kinds.count("writes") == STEPS + 1 and carriers == 0
    # unindexed: never embedded, so search does not find them
    point = saver.vault.driver.retrieve("cubes", [cubes[0].version_id], with_vectors=True)[0]
    assert point.payload["indexed"] == "n" and point.dense is None
    # one blob per channel version: a value is stored by the checkpoint that introduced its
    # version and referred to by the later ones, never copied
    mains = [c for c in cubes if c.bookkeeping.role == "checkpoint"]
    envs = [s.env for s in saver._decode(Principal(id=user), mains, {c.id: c for c in cubes})]
    used: dict[str, set] = {}
    for t in saver.list(cfg("layout")):
        for ch, ver in t.checkpoint["channel_versions"].items():
            used.setdefault(ch, set()).add(ver)
    for ch, versions in used.items():
        stored = [e["blobs"][ch][0] for e in envs if ch in e["blobs"]]
        assert sorted(stored) == sorted(versions), ch  # each version exactly once
    holders = sum("__start__" in e["refs"] for e in envs)
    assert holders == STEPS + 2 and len(used["__start__"]) == 2  # referenced 22x, stored 2x


@pytest.mark.parametrize(
    "thread_id",
    [
        "plain",
        "ctl\x00\x1f\x7fchars",
        "x" * 5000,
        "#looks-hashed",
        "ünï 🧠",
    ],
)
def test_saver_cubes_are_valid_cubes(saver: MemCubeSaver, user: str, thread_id: str) -> None:
    """The saver builds its cubes without validating them (a copy of a prototype): every
    cube it builds, from any thread id, namespace or value size, must validate unchanged."""
    ckpt = empty_checkpoint()
    ckpt["channel_values"] = {"v": "y" * 2_500_000}  # base64 over two chunk cubes
    ckpt["channel_versions"] = {"v": 1}
    principal = Principal(id=user)
    for ns in ("", "sub:\x01graph"):
        config = saver.put(cfg(thread_id, checkpoint_ns=ns), ckpt, {"step": 0}, {"v": 1})
        saver.put_writes(config, [("v", "z"), (ERROR, "boom")], "task\x00id")
        assert saver.get_tuple(config).checkpoint["channel_values"] == ckpt["channel_values"]
    built = saver.vault.list(
        principal, filter=CubeFilter(namespace=ROOT, statuses=None), limit=1000
    )
    assert len(built) == 6  # per namespace: a checkpoint, its chunk, the writes
    for cube in built:
        assert MemCube.model_validate(cube.model_dump()) == cube
    env = {"format": 2, "thread": thread_id, "ns": "ns", "id": "x", "x": "y\x00" * 2_000_000}
    for cube in cubes_for(
        env,
        owner=principal.id,
        cube_id=str(uuid.uuid4()),
        namespace=thread_namespace(thread_id, "ns"),
        kind="checkpoint",
        tags=("c:x",),
        key=None,
        created=utcnow(),
        expires=utcnow() + timedelta(days=1),
    ):
        assert MemCube.model_validate(cube.model_dump()) == cube
    saver.delete_thread(thread_id)


def test_pending_writes_sorted_idempotent_and_special_channels_replaced(
    saver: MemCubeSaver,
) -> None:
    config = saver.put(cfg("writes", checkpoint_ns=""), empty_checkpoint(), {"step": -1}, {})
    saver.put_writes(config, [("b", 1), ("c", 2)], "task-b", task_path="~__pregel_pull, b")
    saver.put_writes(config, [("a", 0)], "task-a", task_path="~__pregel_pull, a")
    saver.put_writes(config, [(ERROR, "boom")], "task-a", task_path="~__pregel_pull, a")
    # a retry of the same task: regular writes are kept, special channels replaced
    saver.put_writes(config, [("a", 99), (ERROR, "boom again")], "task-a", "~__pregel_pull, a")
    saver.put_writes(config, [(INTERRUPT, {"ask": 1})], "task-c")
    pending = saver.get_tuple(config).pending_writes
    assert pending == [
        ("task-c", INTERRUPT, {"ask": 1}),  # no task path sorts first
        ("task-a", ERROR, "boom again"),
        ("task-a", "a", 0),
        ("task-b", "b", 1),
        ("task-b", "c", 2),
    ]


def test_large_values_are_split_across_cubes(saver: MemCubeSaver) -> None:
    big = os.urandom(5_000_000)
    ckpt = empty_checkpoint()
    ckpt["channel_values"] = {"blob": big, "small": "x"}
    ckpt["channel_versions"] = {"blob": 1, "small": 1}
    config = saver.put(cfg("big", checkpoint_ns=""), ckpt, {"step": 0}, {"blob": 1, "small": 1})
    saver.put_writes(config, [("blob", big[::-1])], "t1")
    got = saver.get_tuple(cfg("big"))
    assert got.checkpoint["channel_values"] == {"blob": big, "small": "x"}
    assert got.pending_writes == [("t1", "blob", big[::-1])]
    # a re-put of the same checkpoint id replaces it (a new version) and drops its old chunks
    ckpt["channel_values"] = {"blob": big[:4_500_000], "small": "y"}
    saver.put(cfg("big", checkpoint_ns=""), ckpt, {"step": 0}, {"blob": 1, "small": 1})
    assert saver.get_tuple(config).checkpoint["channel_values"]["small"] == "y"
    assert saver.get_tuple(config).checkpoint["channel_values"]["blob"] == big[:4_500_000]
    saver.delete_thread("big")
    assert saver.vault.count(saver.principal, filter=CubeFilter(namespace=ROOT, statuses=None)) == 0


# -- principals ---------------------------------------------------------------------------------


def test_a_saver_for_another_principal_is_bound_on_its_own(ckpt_vault: MemVault) -> None:
    """``with_principal`` gives a saver of its own: rebinding its vault (as a wrapper or a
    benchmark's call counter does) leaves the saver it came from alone."""
    saver = MemCubeSaver(ckpt_vault)
    clone = saver.with_principal("bob")
    wrapped = object.__new__(MemVault)  # any other object: only its identity is compared
    clone.vault = wrapped
    assert clone.vault is wrapped and saver.vault is ckpt_vault


def test_principals_are_isolated(ckpt_vault: MemVault) -> None:
    saver = MemCubeSaver(ckpt_vault)  # the principal comes from each call's config
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"
    graph = loop_graph(saver)
    mine = graph.invoke({"messages": [], "step": 0, "topic": "t"}, cfg("shared", user_id=alice))
    assert graph.get_state(cfg("shared", user_id=alice)).values == mine

    # bob sees no such thread, even by checkpoint id
    assert graph.get_state(cfg("shared", user_id=bob)).values == {}
    alice_ids = [t.checkpoint["id"] for t in saver.list(cfg("shared", user_id=alice))]
    assert len(alice_ids) == STEPS + 2
    assert list(saver.list(cfg("shared", user_id=bob))) == []
    assert list(saver.with_principal(bob).list(None)) == []
    assert saver.get_tuple(cfg("shared", user_id=bob, checkpoint_id=alice_ids[0])) is None
    # nor through the vault
    cube = ckpt_vault.list(Principal(id=alice), filter=CubeFilter(namespace=ROOT, statuses=None))[0]
    with pytest.raises(CubeNotFoundError):
        ckpt_vault.get(Principal(id=bob), cube.id)

    # bob's writes under the same thread id make his own thread; alice's is untouched
    theirs = graph.invoke({"messages": ["bob was here"], "step": 15}, cfg("shared", user_id=bob))
    assert theirs["messages"][0] == "bob was here" and len(theirs["messages"]) == 6
    assert graph.get_state(cfg("shared", user_id=alice)).values == mine
    saver.with_principal(bob).delete_thread("shared")
    assert graph.get_state(cfg("shared", user_id=bob)).values == {}
    assert graph.get_state(cfg("shared", user_id=alice)).values == mine

    # a Principal in the config works too, and tuples echo it so time travel stays private
    p_alice = Principal(id=alice)
    tup = saver.get_tuple(cfg("shared", principal=p_alice))
    assert tup.config["configurable"]["principal"] == p_alice
    assert tup.parent_config["configurable"]["principal"] == p_alice
    # every call was audited under the acting principal
    events = ckpt_vault.audit_log(p_alice, limit=500)
    assert {e.action for e in events} >= {"put", "find"}


def test_principal_from_config_off_keeps_threads_the_savers(ckpt_vault: MemVault) -> None:
    """How the API server uses it: state written in a run as alice reads back without a user
    id, and the checkpoints belong to the saver's principal, not to alice."""
    server, alice = f"server-{uuid.uuid4().hex[:6]}", f"alice-{uuid.uuid4().hex[:6]}"
    saver = MemCubeSaver(ckpt_vault, principal=server, principal_from_config=False)
    graph = loop_graph(saver)
    out = graph.invoke({"messages": [], "step": 18, "topic": "t"}, cfg("t1", user_id=alice))
    assert graph.get_state(cfg("t1")).values == out
    tup = saver.get_tuple(cfg("t1", user_id="someone-else"))
    assert tup is not None and "user_id" not in tup.config["configurable"]
    checkpoints = CubeFilter(namespace=ROOT, memory_types=("checkpoint",), statuses=None)
    assert ckpt_vault.count(Principal(id=alice), filter=checkpoints) == 0
    assert ckpt_vault.count(Principal(id=server), filter=checkpoints) >= 3
    saver.delete_thread("t1")
    assert graph.get_state(cfg("t1", user_id=alice)).values == {}


# -- TTL -----------------------------------------------------------------------------------------


def test_thread_expires_ttl_after_its_last_checkpoint(ckpt_vault: MemVault, user: str) -> None:
    saver = MemCubeSaver(ckpt_vault, principal=user, ttl=timedelta(seconds=1))
    base = cfg("ttl", checkpoint_ns="")
    first = saver.put(base, empty_checkpoint(), {"step": 0}, {})
    time.sleep(0.6)
    second = saver.put(first, empty_checkpoint(), {"step": 1}, {})
    time.sleep(0.6)
    # the first checkpoint is past its own expiry, but the thread was active 0.6 s ago
    assert saver.get_tuple(first) is not None
    assert [t.metadata["step"] for t in saver.list(cfg("ttl"))] == [1, 0]
    time.sleep(0.6)  # 1.2 s after the last checkpoint: the thread has expired
    assert saver.get_tuple(base) is None and saver.get_tuple(second) is None
    assert list(saver.list(cfg("ttl"))) == []
    assert list(saver.list(None)) == []
    # writing again starts a fresh thread: the expired history is gone, not resurrected
    saver.put(base, empty_checkpoint(), {"step": 7}, {})
    assert [t.metadata["step"] for t in saver.list(cfg("ttl"))] == [7]
    # purge_expired removes expired threads outright
    saver.put(cfg("ttl-2", checkpoint_ns=""), empty_checkpoint(), {"step": 0}, {})
    time.sleep(1.1)
    assert sorted(saver.purge_expired()) == ["ttl", "ttl-2"]
    assert saver.vault.count(saver.principal, filter=CubeFilter(namespace=ROOT, statuses=None)) == 0


def test_a_new_threads_first_put_reads_nothing(
    ckpt_vault: MemVault, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run starts with get_tuple on its thread: a new thread, empty in every namespace, is
    known as such, so the run's first put need not look for an expired thread to purge."""
    saver = MemCubeSaver(ckpt_vault, principal=user)
    if saver._latest_ids is None:
        pytest.skip("only an embedded vault (one writer) tracks its threads")
    finds: list[dict[str, Any]] = []
    real = ckpt_vault.find
    monkeypatch.setattr(ckpt_vault, "find", lambda *a, **k: finds.append(k) or real(*a, **k))
    assert saver.get_tuple(cfg("bare")) is None
    finds.clear()
    first = saver.put(cfg("bare", checkpoint_ns=""), empty_checkpoint(), {"step": -1}, {})
    assert finds == []
    # once it has a checkpoint it is not bare: a first put of another run looks again
    assert saver.get_tuple(cfg("bare")).config == first
    finds.clear()
    saver.put(cfg("bare", checkpoint_ns=""), empty_checkpoint(), {"step": -1}, {})
    assert finds
    # nor is a thread with a checkpoint in a subgraph namespace only
    saver.put(cfg("sub", checkpoint_ns="child:1"), empty_checkpoint(), {"step": 0}, {})
    assert saver.get_tuple(cfg("sub")) is None
    finds.clear()
    saver.put(cfg("sub", checkpoint_ns=""), empty_checkpoint(), {"step": -1}, {})
    assert finds


def test_ttl_must_be_positive(ckpt_vault: MemVault) -> None:
    with pytest.raises(InvalidInputError):
        MemCubeSaver(ckpt_vault, ttl=0)
    with pytest.raises(InvalidInputError):
        MemCubeSaver(ckpt_vault, ttl="1h")


# -- bad input -----------------------------------------------------------------------------------


def test_bad_input_raises_like_langgraph_and_writes_nothing(saver: MemCubeSaver, user: str) -> None:
    ckpt = empty_checkpoint()
    for bad in ({"configurable": {}}, {}):
        with pytest.raises(KeyError):
            saver.get_tuple(bad)
        with pytest.raises(KeyError):
            saver.put(bad, ckpt, {}, {})
        with pytest.raises(KeyError):
            list(saver.list(bad))
    with pytest.raises(CheckpointConfigError):  # put_writes needs the checkpoint id
        saver.put_writes(cfg("x", checkpoint_ns=""), [("a", 1)], "t")
    with pytest.raises(ValueError):
        saver.get_tuple(cfg("x", user_id="role:admin"))

    # unknown threads: nothing, quietly
    assert saver.get_tuple(cfg("nope")) is None
    assert saver.get_tuple(cfg("nope", checkpoint_id=ckpt["id"])) is None
    assert list(saver.list(cfg("nope"))) == []
    saver.delete_thread("nope")
    saver.copy_thread("nope", "nope-2")
    saver.prune(["nope"])
    saver.delete_for_runs(["no-such-run"])

    # a value the serializer cannot encode: its TypeError, and nothing stored
    ckpt["channel_values"] = {"ok": 1, "bad": object()}
    ckpt["channel_versions"] = {"ok": 1, "bad": 1}
    with pytest.raises(TypeError):
        saver.put(cfg("x", checkpoint_ns=""), ckpt, {"step": 0}, {"ok": 1, "bad": 1})
    good = saver.put(cfg("x", checkpoint_ns=""), empty_checkpoint(), {"step": 0}, {})
    with pytest.raises(TypeError):
        saver.put_writes(good, [("ok", 1), ("bad", lambda: None)], "t")
    only = saver.get_tuple(cfg("x"))
    assert only.checkpoint["id"] == good["configurable"]["checkpoint_id"]
    assert only.pending_writes == []
    everything = saver.vault.list(
        Principal(id=user), filter=CubeFilter(namespace=ROOT, statuses=None), limit=100
    )
    assert len(everything) == 1
    with pytest.raises(ValueError):
        saver.prune(["x"], strategy="shrink")


def test_pickle_is_refused(ckpt_vault: MemVault) -> None:
    with pytest.raises(InvalidInputError):
        MemCubeSaver(ckpt_vault, serde=JsonPlusSerializer(pickle_fallback=True))
    saver = MemCubeSaver(ckpt_vault)
    assert saver.serde.pickle_fallback is False


# -- lifecycle methods ---------------------------------------------------------------------------


def _run_twice(saver: MemCubeSaver, thread: str) -> tuple[dict, dict]:
    """Two runs on one thread: the second run's checkpoints refer to blobs of the first."""
    graph = loop_graph(saver)
    first = graph.invoke(
        {"messages": [], "step": 0, "topic": "t"}, {**cfg(thread), "metadata": {"run_id": "r1"}}
    )
    again = {"messages": ["again"], "step": 17}
    second = graph.invoke(again, {**cfg(thread), "metadata": {"run_id": "r2"}})
    return first, second


def test_prune_keep_latest_keeps_the_state(saver: MemCubeSaver) -> None:
    _, second = _run_twice(saver, "prune")
    graph = loop_graph(saver)
    saver.prune(["prune"])
    assert [t.metadata["step"] for t in saver.list(cfg("prune"))] == [STEPS + 1 + 4]
    assert graph.get_state(cfg("prune")).values == second
    # the pruned thread goes on from where it was
    more = graph.invoke({"messages": ["more"], "step": 19}, cfg("prune"))
    assert more["messages"][-2:] == ["more", "step 19"]


def test_delete_for_runs_keeps_the_other_runs_values(saver: MemCubeSaver) -> None:
    _, second = _run_twice(saver, "runs")
    tuples = list(saver.list(cfg("runs")))
    assert {t.metadata["run_id"] for t in tuples} == {"r1", "r2"}
    saver.delete_for_runs(["r1"])
    left = list(saver.list(cfg("runs")))
    assert len(left) == 5 and {t.metadata["run_id"] for t in left} == {"r2"}
    assert loop_graph(saver).get_state(cfg("runs")).values == second


def test_writes_carried_by_the_next_checkpoint_outlive_it(saver: MemCubeSaver) -> None:
    """On the embedded vault a checkpoint carries its parent's pending writes (one cube per
    step). They read back as written; a later write of the same task merges with them; and
    deleting the carrier (delete_for_runs, prune) keeps the parent's writes."""

    def put(parent: dict[str, Any], step: int, run: str) -> dict[str, Any]:
        return saver.put(parent, empty_checkpoint(), {"step": step, "run_id": run}, {})

    c0 = put(cfg("carry", checkpoint_ns=""), 0, "r1")
    saver.put_writes(c0, [("a", 0), ("b", 1)], "t0", task_path="~p, t0")
    c1 = put(c0, 1, "r1")
    saver.put_writes(c1, [("a", 10)], "t1", task_path="~p, t1")
    put(c1, 2, "r2")  # c2: carries t1's writes of c1
    saver.put_writes(c1, [("a", 99), ("c", 12), (ERROR, "late")], "t1", "~p, t1")  # retry
    expected_c1 = [("t1", ERROR, "late"), ("t1", "a", 10), ("t1", "c", 12)]
    assert saver.get_tuple(c0).pending_writes == [("t0", "a", 0), ("t0", "b", 1)]
    assert saver.get_tuple(c1).pending_writes == expected_c1
    assert [t.pending_writes for t in saver.list(cfg("carry"))][1] == expected_c1
    if saver.vault.defers:  # c2 is the one cube holding t1's first writes
        principal = Principal(id=saver.principal.id)
        tagged = saver.vault.list(
            principal,
            filter=CubeFilter(
                namespace=(*ROOT, "carry"), tags=(f"w:{c1['configurable']['checkpoint_id']}",)
            ),
            limit=10,
        )
        assert {c.bookkeeping.role for c in tagged} == {"checkpoint", "writes"}  # c2, and the retry
    saver.copy_thread("carry", "carry-copy")
    assert (
        saver.get_tuple(
            cfg("carry-copy", checkpoint_ns="", checkpoint_id=c1["configurable"]["checkpoint_id"])
        ).pending_writes
        == expected_c1
    )
    saver.delete_for_runs(["r2"])  # c2 goes; c1 keeps its writes
    assert saver.get_tuple(cfg("carry")).config == c1
    assert saver.get_tuple(c1).pending_writes == expected_c1
    saver.prune(["carry"])  # keeps c1 (the latest) with its writes
    assert [t.config for t in saver.list(cfg("carry"))] == [c1]
    assert saver.get_tuple(c1).pending_writes == expected_c1


def test_copy_thread_copies_history_and_state(saver: MemCubeSaver) -> None:
    _, second = _run_twice(saver, "source")
    saver.copy_thread("source", "copy")
    graph = loop_graph(saver)
    assert graph.get_state(cfg("copy")).values == second
    src = [t.checkpoint["id"] for t in saver.list(cfg("source"))]
    assert [t.checkpoint["id"] for t in saver.list(cfg("copy"))] == src
    saver.copy_thread("source", "copy")  # again: nothing duplicated
    assert len(list(saver.list(cfg("copy")))) == len(src)
    saver.delete_thread("source")
    assert graph.get_state(cfg("copy")).values == second


def extend(state: list, batches: list) -> list:
    return [*state, *(x for batch in batches for x in batch)]


class Log(TypedDict):
    log: Annotated[list, DeltaChannel(extend, snapshot_frequency=7)]
    step: int


def delta_graph(saver: BaseCheckpointSaver):
    """The loop with a DeltaChannel: checkpoints store a snapshot every 7th update only."""

    def work(state: Log) -> dict[str, Any]:
        if state["step"] == 15:
            interrupt("go on?")
        return {"log": [f"s{state['step']}"], "step": state["step"] + 1}

    builder = StateGraph(Log)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    builder.add_conditional_edges("work", lambda s: "work" if s["step"] < STEPS else END)
    return builder.compile(checkpointer=saver)


def test_prune_keeps_what_a_delta_channel_rebuilds_from(saver: MemCubeSaver) -> None:
    graph, reference = delta_graph(saver), delta_graph(InMemorySaver())
    config = cfg("delta")
    for g in (graph, reference):
        g.invoke({"log": [], "step": 0}, config)
    saver.prune(["delta"])  # paused between snapshots: the latest alone cannot rebuild `log`
    assert graph.get_state(config).values == reference.get_state(config).values
    assert 1 < len(list(saver.list(config))) < STEPS
    assert graph.invoke(Command(resume=1), config) == reference.invoke(Command(resume=1), config)


# -- deferred puts: the vault's journal ----------------------------------------------------------

_CRASHING_CHILD = """
import sys, time
from langgraph.checkpoint.base import empty_checkpoint
from memos_lc.checkpoint import MemCubeSaver
from memos_lc.vault.qdrant import MemVault

saver = MemCubeSaver(MemVault.open(sys.argv[1]), principal="crash")
config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
for i in range(5):
    ck = empty_checkpoint()
    ck["channel_values"], ck["channel_versions"] = {"n": i}, {"n": str(i + 1)}
    config = saver.put(config, ck, {"step": i}, {"n": str(i + 1)})
    saver.put_writes(config, [("n", i)], f"task-{i}")
print(config["configurable"]["checkpoint_id"], flush=True)
time.sleep(600)
"""


def test_acknowledged_puts_survive_kill_9(tmp_path: Path) -> None:
    """Puts acknowledged but still deferred (in the journal, not the engine) when the process
    is killed are in the vault when it is opened next."""
    import signal
    import subprocess
    import sys

    from memos_lc.vault.deferred import read_journal
    from memos_lc.vault.qdrant import JOURNAL

    path = tmp_path / "vault"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_CHILD, str(path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        last = child.stdout.readline().strip()
        assert last, "the child died before acknowledging its puts"
        assert read_journal(path / JOURNAL).puts  # deferred: in the journal only
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with MemCubeSaver.from_path(str(path), principal="crash") as saver:
        assert read_journal(path / JOURNAL) == ([], [])  # replayed, then emptied
        tup = saver.get_tuple(cfg("t"))
        assert tup is not None and tup.config["configurable"]["checkpoint_id"] == last
        assert tup.checkpoint["channel_values"] == {"n": 4}
        assert tup.metadata["step"] == 4
        assert [(w[0], w[2]) for w in tup.pending_writes] == [("task-4", 4)]
        history = list(saver.list(cfg("t")))
        assert [t.metadata["step"] for t in history] == [4, 3, 2, 1, 0]
        assert all(len(t.pending_writes) == 1 for t in history)
        # the audit events journaled with them survive too: the first put's look for an
        # expired thread, and every put written to the engine on replay
        events = saver.vault.audit_log(Principal(id="crash"), limit=1000)
        assert {"find", "put"} <= {e.action for e in events}


def test_a_torn_journal_record_is_ignored(tmp_path: Path) -> None:
    from memos_lc.cube import MemCube
    from memos_lc.errors import VaultCorruptError
    from memos_lc.vault.deferred import read_journal
    from memos_lc.vault.qdrant import JOURNAL

    owner = Principal(id="journal-owner")
    kept = MemCube.from_text("kept", namespace=("j",))
    torn = MemCube.from_text("torn", namespace=("j",))
    with MemVault.open(tmp_path / "first") as vault:  # a real journal: two deferred puts
        vault.put(owner, kept, index=False, deferred=True)
        vault.put(owner, torn, index=False, deferred=True)
        raw = (tmp_path / "first" / JOURNAL).read_bytes()
        assert [
            [c.id for c in cubes] for _, cubes in read_journal(tmp_path / "first" / JOURNAL).puts
        ] == [
            [kept.id],
            [torn.id],
        ]
    # the journal is a memory map: its records, then zeros up to its mapped size
    lines = raw.rstrip(b"\0").splitlines(keepends=True)
    assert len(lines) == 2 and raw.endswith(b"\0")
    path = tmp_path / "second"
    MemVault.open(path).close()
    (path / JOURNAL).write_bytes(lines[0] + lines[1][:-40])  # the crash cut the second append
    with MemVault.open(path) as vault:
        assert [c.id for c in vault.find(owner, namespace=("j",))] == [kept.id]
        assert read_journal(path / JOURNAL).puts == []  # the find's audit event waits there
        assert any(kept.id in e.cube_ids for e in vault.audit_log(owner, action="put"))
    # a damaged record before the last is corruption, not a torn append: refuse to guess
    (path / JOURNAL).write_bytes(lines[0][:-40] + b"\n" + lines[1])
    with pytest.raises(VaultCorruptError, match="journal"):
        MemVault.open(path)
    MemVault.open(tmp_path / "third").close()  # the failed open released what it held
    with pytest.raises(VaultCorruptError):
        MemVault.open(path)
    # killed in the middle of an append to the mapped journal: its first byte is still zero
    path = tmp_path / "fourth"
    MemVault.open(path).close()
    (path / JOURNAL).write_bytes(lines[0] + b"\0" + lines[1][1:] + bytes(64))
    with MemVault.open(path) as vault:
        assert [c.id for c in vault.find(owner, namespace=("j",))] == [kept.id]


def test_the_journal_grows_and_syncs_with_fsync(tmp_path: Path) -> None:
    """With ``fsync=True`` every append is synced (msync) before the put returns; a record
    larger than the mapped file grows it. Both still replay."""
    from memos_lc.cube import MemCube
    from memos_lc.vault.deferred import read_journal
    from memos_lc.vault.qdrant import JOURNAL

    owner = Principal(id="fsync-owner")
    small = MemCube.from_text("small", namespace=("f",))
    big = MemCube.model_validate(  # larger than the journal's first 1 MiB map
        {
            "namespace": ("f",),
            "payload": {"kind": "plaintext", "text": "big", "data": {"b": "x" * 1_500_000}},
        }
    )
    path = tmp_path / "vault"
    vault = MemVault.open(path, fsync=True)
    try:
        vault.put(owner, [small], index=False, deferred=True)
        vault.put(owner, [big], index=False, deferred=True)
        assert [[c.id for c in cs] for _, cs in read_journal(path / JOURNAL).puts] == [
            [small.id],
            [big.id],
        ]
        # what a crash now would leave: the journal alone, replayed by the next open
        (tmp_path / "copy").mkdir()
        (tmp_path / "copy" / JOURNAL).write_bytes((path / JOURNAL).read_bytes())
    finally:
        vault.close()
    assert (path / JOURNAL).stat().st_size == 0  # flushed on close: nothing left on disk
    MemVault.open(tmp_path / "fresh").close()
    (tmp_path / "fresh" / JOURNAL).write_bytes((tmp_path / "copy" / JOURNAL).read_bytes())
    with MemVault.open(tmp_path / "fresh") as vault:
        found = {c.text: c for c in vault.find(owner, namespace=("f",))}
        assert sorted(found) == ["big", "small"]
        assert found["big"].payload.data == {"b": "x" * 1_500_000}


def test_reads_see_deferred_puts_without_a_flush(ckpt_vault: MemVault, user: str) -> None:
    saver = MemCubeSaver(ckpt_vault, principal=user)
    config = saver.put(cfg("deferred"), empty_checkpoint(), {"step": 0}, {})
    saver.put_writes(config, [("x", 1)], "task-1")
    cid = config["configurable"]["checkpoint_id"]
    ids = [
        cube_id(user, "deferred", "", "checkpoint", cid),
        cube_id(user, "deferred", "", "writes", cid, "task-1"),
    ]
    if ckpt_vault.defers:  # an embedded vault defers; ":memory:" writes through
        assert ckpt_vault.waiting(user, ids) == set(ids)
    # another saver on the vault, and the vault itself, see them; another principal does not
    other = MemCubeSaver(ckpt_vault, principal=user)
    tup = other.get_tuple(cfg("deferred"))
    assert tup is not None and tup.config["configurable"]["checkpoint_id"] == cid
    assert tup.pending_writes == [("task-1", "x", 1)]
    assert ckpt_vault.deferred is None or len(ckpt_vault.deferred) == 0  # the read flushed
    assert MemCubeSaver(ckpt_vault, principal=f"{user}-2").get_tuple(cfg("deferred")) is None
    # a put again of a deferred checkpoint takes the version path, as for a stored one
    config2 = saver.put(cfg("deferred2"), empty_checkpoint(), {"step": 0}, {})
    saver.put(
        cfg("deferred2"),
        {**empty_checkpoint(), "id": config2["configurable"]["checkpoint_id"]},
        {"step": 9},
        {},
    )
    again = saver.get_tuple(config2)
    assert again is not None and again.metadata["step"] == 9
    found = ckpt_vault.find(Principal(id=user), cube_ids=ids, filter=CubeFilter(statuses=None))
    assert sorted(c.id for c in found) == sorted(ids)


def test_every_deferred_put_is_audited(ckpt_vault: MemVault, user: str) -> None:
    """Every cube a deferred put lands in the vault is named by an audit event. On the
    embedded vault a task's writes ride with the next checkpoint (one cube per step): their
    own cube is never written, and the checkpoint that carries them is audited."""
    saver = MemCubeSaver(ckpt_vault, principal=user)
    config = cfg("audited")
    configs, checkpoint_ids, writes_ids = [], set(), []
    for i in range(3):
        ck = empty_checkpoint()
        config = saver.put(config, ck, {"step": i}, {})
        saver.put_writes(config, [("x", i)], f"task-{i}")
        configs.append(config)
        checkpoint_ids.add(cube_id(user, "audited", "", "checkpoint", ck["id"]))
        writes_ids.append(cube_id(user, "audited", "", "writes", ck["id"], f"task-{i}"))
    for i, c in enumerate(configs):  # wherever they are kept, each reads back as written
        assert saver.get_tuple(c).pending_writes == [(f"task-{i}", "x", i)]
    principal = Principal(id=user)
    stored = {
        c.id
        for c in ckpt_vault.list(
            principal, filter=CubeFilter(namespace=ROOT, statuses=None), limit=1000
        )
    }
    events = ckpt_vault.audit_log(principal, action="put", limit=1000)
    named = {i for e in events if e.outcome == "ok" for i in e.cube_ids}
    assert checkpoint_ids <= stored <= named
    if ckpt_vault.defers:
        # tasks 0 and 1 ride with checkpoints 1 and 2; task 2's writes have no next one
        assert stored == checkpoint_ids | {writes_ids[2]}
        assert any(stored <= set(e.cube_ids) for e in events)  # one event for the batch
    else:  # written through: no batch to carry them
        assert stored == checkpoint_ids | set(writes_ids)


def test_deferred_puts_flush_in_batches(tmp_path: Path) -> None:
    from memos_lc.cube import MemCube
    from memos_lc.vault.deferred import read_journal
    from memos_lc.vault.qdrant import DEFER_BATCH, JOURNAL

    owner = Principal(id="batcher")
    cubes = [MemCube.from_text(f"c{i}", namespace=("b",)) for i in range(DEFER_BATCH + 3)]
    with MemVault.open(tmp_path / "vault") as vault:
        for c in cubes:
            vault.put(owner, c, index=False, deferred=True)
        assert vault.deferred is not None
        assert len(vault.deferred) == 3  # the first DEFER_BATCH went in as one batch
        assert len(read_journal(tmp_path / "vault" / JOURNAL).puts) == 3
        batch = [e for e in vault.audit_log(owner, action="put") if len(e.cube_ids) > 3]
        assert [set(e.cube_ids) for e in batch] == [{c.id for c in cubes[:DEFER_BATCH]}]
        assert vault.count(owner, namespace=("b",)) == len(cubes)  # a read flushes the rest
        assert len(vault.deferred) == 0
        assert read_journal(tmp_path / "vault" / JOURNAL).puts == []
