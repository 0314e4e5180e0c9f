"""Concurrency: threads and asyncio tasks on one vault, store and checkpointer at once, on both
drivers. Conditional updates have exactly one winner per version; mixed traffic loses no write
and raises nothing but the typed errors it should; the history stays one chain per cube
(:func:`robustness_kit.fsck`). A second process that opens an embedded vault in use gets
:class:`VaultLockedError` whichever entry point it uses, and the vault stays intact."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from robustness_kit import chains_of, fsck

from memos_lc import CubeFilter, MemCube, MemVault, Principal
from memos_lc.checkpoint import MemCubeSaver
from memos_lc.errors import ConflictError
from memos_lc.store import MemCubeStore

DIMS = 384
ALICE = Principal(id="alice")


def vec(rng: random.Random) -> list[float]:
    return [rng.uniform(-1.0, 1.0) for _ in range(DIMS)]


def cfg(thread_id: str, **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", **extra}}


# -- optimistic concurrency ----------------------------------------------------------------------


def test_conditional_updates_have_exactly_one_winner_per_version(plain_vault: MemVault) -> None:
    """Threads and asyncio tasks race conditional updates on two cubes at once: in every round
    all contenders hold the same head version, exactly one wins, the rest get ConflictError."""
    rng = random.Random(1)
    v = plain_vault
    a, b = v.put(
        ALICE,
        [
            MemCube.from_text("thread counter", namespace=("c",)),
            MemCube.from_text("task counter", namespace=("c",)),
        ],
        vectors=[vec(rng), vec(rng)],
    )
    threads, rounds, tasks = 6, 12, 6
    read, write = threading.Barrier(threads), threading.Barrier(threads)
    outcomes: list[tuple[int, str | None]] = []  # (round, winner tag or None for a conflict)
    unexpected: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for r in range(rounds):
                head = v.get(ALICE, a.id).version
                read.wait()  # every contender has read the same head
                try:
                    new = v.update(ALICE, a.id, expected_version=head, tags=(f"t{w}r{r}",))
                    outcomes.append((r, new.tags[0]))
                    assert new.version == head + 1
                except ConflictError:
                    outcomes.append((r, None))
                write.wait()  # nobody reads the next round's head before all have written
        except BaseException as e:  # noqa: BLE001 - reported below
            unexpected.append(e)
            read.abort()
            write.abort()

    async def racing_tasks() -> list[list[Any]]:
        results = []
        for r in range(rounds):
            head = (await v.aget(ALICE, b.id)).version
            results.append(
                await asyncio.gather(
                    *(
                        v.aupdate(ALICE, b.id, expected_version=head, tags=(f"a{k}r{r}",))
                        for k in range(tasks)
                    ),
                    return_exceptions=True,
                )
            )
        return results

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    task_rounds = asyncio.run(racing_tasks())
    for t in pool:
        t.join()

    assert not unexpected, unexpected
    for r in range(rounds):
        this = [tag for rr, tag in outcomes if rr == r]
        assert len(this) == threads and sum(tag is not None for tag in this) == 1, this
    for res in task_rounds:
        assert sum(isinstance(x, MemCube) for x in res) == 1, res
        assert all(isinstance(x, MemCube | ConflictError) for x in res), res
    # the winners form each cube's history, in order, one version each
    chains = chains_of(v, ALICE.id)
    winners = [tag for _, tag in sorted((r, t) for r, t in outcomes if t is not None)]
    assert [c.tags[0] for c in chains[a.id][1:]] == winners
    assert len(chains[a.id]) == rounds + 1 and len(chains[b.id]) == rounds + 1
    won_by_tasks = [next(x for x in res if isinstance(x, MemCube)).tags[0] for res in task_rounds]
    assert [c.tags[0] for c in v.history(ALICE, b.id)[1:]] == won_by_tasks


# -- mixed traffic -------------------------------------------------------------------------------


class Ledger:
    """What each worker's acknowledged writes say the end state must be."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cubes: dict[str, tuple[int, str | None]] = {}  # id -> (version, text or deleted)
        self.items: dict[tuple[tuple[str, ...], str], int | None] = {}
        self.shared: set[int] = set()
        self.checkpoints: dict[str, list[tuple[str, int]]] = {}
        self.writes: dict[str, list[tuple[str, int]]] = {}


def _vault_ops(v: MemVault, w: int, rng: random.Random, led: Ledger, mine: list[str]) -> None:
    ns = ("mix", f"w{w}")
    op = rng.random()
    if op < 0.3 or not mine:
        text = f"w{w} note {rng.randrange(10**6)} tea oslo"
        c = v.put(ALICE, MemCube.from_text(text, namespace=ns), vectors=[vec(rng)])[0]
        mine.append(c.id)
        led.cubes[c.id] = (1, text)
    elif op < 0.5:
        cid = rng.choice(mine)
        text = f"w{w} edit {rng.randrange(10**6)} kayak"
        new = v.update(ALICE, cid, text=text, vector=vec(rng))
        led.cubes[cid] = (new.version, text)
    elif op < 0.55:
        cid = mine.pop(rng.randrange(len(mine)))
        new = v.delete(ALICE, cid)
        led.cubes[cid] = (new.version, None)
    elif op < 0.7:
        v.search(ALICE, "tea kayak", namespace=ns, mode="lexical")
    elif op < 0.8:
        v.search(ALICE, "q", namespace=("mix",), mode="dense", query_vector=vec(rng), limit=5)
    elif op < 0.9:
        assert len(v.list(ALICE, namespace=ns, limit=1000)) == len(mine)
    else:
        cid = rng.choice(mine)
        assert v.get(ALICE, cid).version == led.cubes[cid][0]


def _store_ops(s: MemCubeStore, w: int, rng: random.Random, led: Ledger, n: int) -> None:
    ns = ("store", f"w{w}")
    key = f"k{rng.randrange(5)}"
    op = rng.random()
    if op < 0.4:
        s.put(ns, key, {"n": n})
        led.items[(ns, key)] = n
    elif op < 0.5:
        s.delete(ns, key)
        led.items[(ns, key)] = None
    elif op < 0.65:  # every worker writes the same key
        s.put(("store", "shared"), "hot", {"n": n})
        with led.lock:
            led.shared.add(n)
    elif op < 0.85:
        item = s.get(ns, key)
        assert (item.value["n"] if item else None) == led.items.get((ns, key))
    else:
        got = {(tuple(i.namespace), i.key): i.value["n"] for i in s.search(ns, limit=100)}
        assert got == {k: x for k, x in led.items.items() if k[0] == ns and x is not None}


def _saver_ops(sv: MemCubeSaver, w: int, rng: random.Random, led: Ledger, n: int) -> None:
    t = f"thread-w{w}"
    chain = led.checkpoints.setdefault(t, [])
    op = rng.random()
    if op < 0.5 or not chain:
        ck = empty_checkpoint()
        ck["channel_values"] = {"n": n}
        ck["channel_versions"] = {"n": str(n)}
        parent = cfg(t, checkpoint_id=chain[-1][0]) if chain else cfg(t)
        sv.put(parent, ck, {"step": n}, {"n": str(n)})
        chain.append((ck["id"], n))
    elif op < 0.7:
        cid = chain[-1][0]
        sv.put_writes(cfg(t, checkpoint_id=cid), [("n", n)], f"task-{n}")
        led.writes.setdefault(cid, []).append((f"task-{n}", n))
    elif op < 0.9:
        tup = sv.get_tuple(cfg(t))
        assert tup is not None and tup.checkpoint["channel_values"]["n"] == chain[-1][1]
    else:
        assert len(list(sv.list(cfg(t)))) == len(chain)


async def _async_worker(
    v: MemVault, s: MemCubeStore, sv: MemCubeSaver, w: int, ops: int, led: Ledger
) -> None:
    rng = random.Random(1000 + w)
    ns = ("mix", f"a{w}")
    t = f"thread-a{w}"
    mine: list[str] = []
    chain = led.checkpoints.setdefault(t, [])
    for i in range(ops):
        n = w * 100_000 + 50_000 + i
        op = rng.random()
        if op < 0.2 or not mine:
            text = f"a{w} note {i} tea"
            c = (await v.aput(ALICE, MemCube.from_text(text, namespace=ns), vectors=[vec(rng)]))[0]
            mine.append(c.id)
            led.cubes[c.id] = (1, text)
        elif op < 0.35:
            cid = rng.choice(mine)
            text = f"a{w} edit {i}"
            new = await v.aupdate(ALICE, cid, text=text, vector=vec(rng))
            led.cubes[cid] = (new.version, text)
        elif op < 0.45:
            await v.asearch(ALICE, "tea", namespace=ns, mode="lexical")
        elif op < 0.6:
            key = f"k{rng.randrange(4)}"
            await s.aput(("store", f"a{w}"), key, {"n": n})
            led.items[(("store", f"a{w}"), key)] = n
        elif op < 0.7:
            key = f"k{rng.randrange(4)}"
            item = await s.aget(("store", f"a{w}"), key)
            assert (item.value["n"] if item else None) == led.items.get((("store", f"a{w}"), key))
        elif op < 0.85:
            ck = empty_checkpoint()
            ck["channel_values"] = {"n": n}
            ck["channel_versions"] = {"n": str(n)}
            parent = cfg(t, checkpoint_id=chain[-1][0]) if chain else cfg(t)
            await sv.aput(parent, ck, {"step": n}, {"n": str(n)})
            chain.append((ck["id"], n))
        elif chain:
            tup = await sv.aget_tuple(cfg(t))
            assert tup is not None and tup.checkpoint["channel_values"]["n"] == chain[-1][1]


def test_mixed_traffic_from_threads_and_tasks_loses_nothing(plain_vault: MemVault) -> None:
    v = plain_vault
    store = MemCubeStore(v, principal=ALICE)
    other_store = MemCubeStore(v, principal=ALICE)  # a second store on the same vault
    saver = MemCubeSaver(v, principal=ALICE)
    led = Ledger()
    errors: list[BaseException] = []
    n_threads, n_tasks, ops = 5, 5, 40

    def thread_worker(w: int) -> None:
        rng = random.Random(w)
        mine: list[str] = []
        try:
            for i in range(ops):
                n = w * 100_000 + i
                kind = rng.random()
                if kind < 0.4:
                    _vault_ops(v, w, rng, led, mine)
                elif kind < 0.75:
                    _store_ops(store if w % 2 else other_store, w, rng, led, n)
                else:
                    _saver_ops(saver, w, rng, led, n)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def optimizer() -> None:
        try:
            for _ in range(3):
                v.optimize()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    async def tasks() -> None:
        await asyncio.gather(*(_async_worker(v, store, saver, w, ops, led) for w in range(n_tasks)))

    pool = [threading.Thread(target=thread_worker, args=(w,)) for w in range(n_threads)]
    pool.append(threading.Thread(target=optimizer))
    for t in pool:
        t.start()
    try:
        asyncio.run(tasks())
    except BaseException as e:  # noqa: BLE001
        errors.append(e)
    for t in pool:
        t.join()
    assert not errors, errors

    chains = chains_of(v, ALICE.id)
    for cid, (version, text) in led.cubes.items():
        assert len(chains[cid]) == version, cid
        head = chains[cid][-1]
        assert head.text == text if text is not None else head.status.value == "deleted"
    for (ns, key), n in led.items.items():
        item = store.get(ns, key)
        assert (item.value["n"] if item else None) == n, (ns, key)
    # the hot key: one live cube, holding one of the values written to it
    hot = v.find(ALICE, filter=CubeFilter(namespace=("store", "shared"), key="hot"))
    if led.shared:
        assert len(hot) == 1 and hot[0].payload.data["n"] in led.shared
    for t, chain in led.checkpoints.items():
        listed = [tup.config["configurable"]["checkpoint_id"] for tup in saver.list(cfg(t))]
        assert listed == [cid for cid, _ in reversed(chain)], t
        for cid, n in chain:
            tup = saver.get_tuple(cfg(t, checkpoint_id=cid))
            assert tup is not None and tup.checkpoint["channel_values"] == {"n": n}
            got = {(task, value) for task, ch, value in tup.pending_writes if ch == "n"}
            assert got == set(led.writes.get(cid, []))


def test_store_writers_racing_on_a_new_key_leave_one_item(plain_vault: MemVault) -> None:
    """Two stores over one vault race to create the same key: one live cube results, and a
    duplicate that a writer elsewhere left (another process on a shared server) is retired by
    the next put or delete, so a deleted item never comes back."""
    v = plain_vault
    stores = [MemCubeStore(v, principal=ALICE) for _ in range(2)]
    start = threading.Barrier(8)

    def put(i: int) -> None:
        start.wait()
        stores[i % 2].put(("race",), "k", {"i": i})

    pool = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert len(v.find(ALICE, filter=CubeFilter(namespace=("race",), key="k"))) == 1

    twin = MemCube.model_validate(
        {
            "namespace": ("race",),
            "key": "k",
            "memory_type": "long_term",
            "payload": {"kind": "plaintext", "text": "twin", "data": {"i": -1}},
        }
    )
    v.put(ALICE, twin, index=False)  # as a racing writer elsewhere would have
    assert stores[0].get(("race",), "k").value == {"i": -1}  # the newest wins reads
    stores[0].put(("race",), "k", {"i": 100})
    assert len(v.find(ALICE, filter=CubeFilter(namespace=("race",), key="k"))) == 1
    v.put(ALICE, twin.model_copy(update={"id": "twin-2"}), index=False)
    stores[1].delete(("race",), "k")
    assert stores[0].get(("race",), "k") is None
    assert stores[0].search(("race",)) == []


# -- a second process ----------------------------------------------------------------------------


def test_second_process_gets_vault_locked_from_every_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    with MemCubeStore.from_path(path, principal=ALICE) as store:
        store.put(("docs",), "a", {"text": "held open"})
        saver = MemCubeSaver(store.vault, principal=ALICE)
        saver.put(cfg("t"), empty_checkpoint(), {"step": 0}, {})
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(
                    """
                import sys
                from memos_lc import MemVault
                from memos_lc.checkpoint import MemCubeSaver
                from memos_lc.cli import main
                from memos_lc.errors import VaultLockedError
                from memos_lc.store import MemCubeStore
                path = sys.argv[1]
                for name, opener in [
                    ("vault", lambda: MemVault.open(path)),
                    ("store", lambda: MemCubeStore.from_path(path)),
                    ("saver", lambda: MemCubeSaver.from_path(path).__enter__()),
                ]:
                    try:
                        opener()
                        print(name, "opened")
                    except VaultLockedError:
                        print(name, "locked")
                print("cli", main(["--vault", path, "--principal", "alice", "list"]))
                """
                ),
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        assert out.stdout.split("\n")[:4] == [
            "vault locked",
            "store locked",
            "saver locked",
            "cli 1",
        ], out.stdout + out.stderr
        assert "is open in another process" in out.stderr
        assert "Traceback" not in out.stderr
        # the holder is unaffected and keeps working
        store.put(("docs",), "b", {"text": "still writing"})
        assert store.get(("docs",), "a").value == {"text": "held open"}
        assert saver.get_tuple(cfg("t")) is not None
        fsck(store.vault)
    with MemCubeSaver.from_path(str(path), principal=ALICE) as saver:  # released on close
        assert saver.get_tuple(cfg("t")) is not None
