"""Crash safety of the embedded vault: a writer process is killed with SIGKILL at a random
point, twenty times over on one vault directory, and after every kill the vault must open,
hold every write the writer acknowledged, and be intact.

The writer (``tests/crash_writer.py``, forked from a warm server so a round costs milliseconds)
runs a random mix of vault puts / conditional updates / deletes / index builds, MemCubeStore
puts / batch puts / deletes and MemCubeSaver checkpoint puts / put_writes (including
checkpoints large enough to be split over chunk cubes). It prints ``begin`` before each call
and ``ack`` after the call returned. "Acknowledged" means exactly that: the call returned.

After each kill the test reopens the vault and checks:

* the vault opens (no lock left behind, no corrupt shard) and :func:`robustness_kit.fsck` passes:
  every header parses, each cube's history is one chain ``1..n`` with exactly one head;
* every acknowledged vault version exists with its text, and a cube's head is the last
  acknowledged version, or one more when a call on it was in flight at the kill;
* every store key holds its last acknowledged value (or the in-flight call's);
* every acknowledged checkpoint reads back with its channel values, and every acknowledged
  ``put_writes`` shows in its pending writes;
* cubes that no acknowledged call and no in-flight call created do not exist;
* search (lexical and dense) and listing work on the recovered vault.

The seed is random per run and printed on failure; set ``MEMOS_CRASH_SEED`` to replay one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from crash_writer import STORE_KEYS, THREADS, VAULT_NS, WRITER, open_vault, pad_value
from langgraph.store.base import GetOp
from robustness_kit import chains_of

from memos_lc import MemVault, Principal
from memos_lc.checkpoint import MemCubeSaver
from memos_lc.store import MemCubeStore

ROUNDS = 20
LINE_TIMEOUT = 120.0  # seconds without a line from the writer before the test gives up


class ForkServer:
    """The warm writer server: ``run`` forks a writer, returns its output lines as they come."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        here = Path(__file__).parent
        self.proc = subprocess.Popen(
            [sys.executable, str(here / "crash_writer.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            bufsize=1,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        assert self.next() == {"ready": True}

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self) -> dict[str, Any]:
        try:
            doc = self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            raise AssertionError("the crash writer stopped talking") from None
        assert doc is not None, "the crash writer server died"
        assert "error" not in doc, f"the writer failed:\n{doc['error']}"
        return doc

    def start(self, path: Path, round_: int, seed: int) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{path} {round_} {seed}\n")
        self.proc.stdin.flush()
        first = self.next()
        return int(first["pid"])

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    s = ForkServer()
    yield s
    s.close()


@dataclass
class Model:
    """What the acknowledged (and in-flight) calls of every round say the vault must hold."""

    texts: dict[tuple[str, int], str] = field(default_factory=dict)
    head: dict[str, int] = field(default_factory=dict)  # last acknowledged version
    extra: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # in flight since
    deleted: set[tuple[str, int]] = field(default_factory=set)
    maybe_new: set[str] = field(default_factory=set)
    store: dict[tuple[tuple[str, ...], str], set[int | None]] = field(default_factory=dict)
    checkpoints: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    writes: list[tuple[str, str, str, int]] = field(default_factory=list)
    acked_this_round: int = 0

    def ack(self, a: dict[str, Any]) -> None:
        self.acked_this_round += 1
        op = a["op"]
        if op == "vput":
            for cid, text in a["cubes"]:
                self.texts[(cid, 1)] = text
                self.head[cid] = 1
        elif op in ("vupd", "vdel"):
            cid, v = a["id"], a["v"]
            self.head[cid] = v
            self.extra[cid] = 0
            if op == "vupd":
                self.texts[(cid, v)] = a["text"]
            else:
                self.deleted.add((cid, v))
        elif op in ("sput", "sdel"):
            for ns, key, n in a["items"]:
                self.store[(tuple(ns), key)] = {n if op == "sput" else None}
        elif op == "cput":
            self.checkpoints.append((a["t"], a["id"], a["n"], *a["pad"]))
        elif op == "cw":
            self.writes.append((a["t"], a["id"], a["task"], a["n"]))

    def in_flight(self, b: dict[str, Any]) -> None:
        """The call that had begun but not returned when the kill landed: it may or may not
        have taken effect."""
        op = b["op"]
        if op == "vput":
            self.maybe_new.update(b["ids"])
        elif op in ("vupd", "vdel"):
            self.extra[b["id"]] += 1
        elif op in ("sput", "sdel"):
            for ns, key, n in b["items"]:
                self.store.setdefault((tuple(ns), key), {None}).add(n if op == "sput" else None)


def run_round(server: ForkServer, path: Path, round_: int, rng: random.Random, model: Model) -> int:
    """Fork a writer, kill it after a random number of acknowledgements; returns that number."""
    kill_after = rng.randint(3, 60)
    pid = server.start(path, round_, rng.randrange(2**31))
    model.acked_this_round = 0
    pending: dict[str, Any] | None = None
    killed = False
    try:
        while True:
            doc = server.next()
            if "reaped" in doc:
                status = doc["reaped"]
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
                break
            if "begin" in doc:
                pending = doc["begin"]
            elif "ack" in doc:
                model.ack(doc["ack"])
                pending = None
            if not killed and model.acked_this_round >= kill_after:
                time.sleep(rng.uniform(0, 0.01))  # land anywhere in the next call
                os.kill(pid, signal.SIGKILL)
                killed = True
    finally:
        if not killed:  # the round failed early: do not leave the writer running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if pending is not None:
        model.in_flight(pending)
    return model.acked_this_round


def check_vault(vault: MemVault, model: Model, rng: random.Random) -> None:
    chains = chains_of(vault, WRITER)
    writer = Principal(id=WRITER)
    for (cid, v), text in model.texts.items():
        assert cid in chains and len(chains[cid]) >= v, f"acknowledged {cid} v{v} is missing"
        assert chains[cid][v - 1].text == text, f"{cid} v{v} lost its text"
    for cid, v in model.deleted:
        assert chains[cid][v - 1].status.value == "deleted", f"{cid} v{v} is not the tombstone"
    for cid, acked in model.head.items():
        n = len(chains[cid])
        assert acked <= n <= acked + model.extra[cid], f"{cid}: head v{n}, acknowledged v{acked}"
    ours = {cid for cid, chain in chains.items() if chain[0].namespace == VAULT_NS}
    phantoms = ours - model.head.keys() - model.maybe_new
    assert not phantoms, f"cubes no call created: {sorted(phantoms)[:3]}"
    # readable through the public API, and searchable
    for cid, v in rng.sample(sorted(model.texts), min(20, len(model.texts))):
        assert vault.get(writer, cid, version=v).text == model.texts[(cid, v)]
    active = {cid for cid in ours if chains[cid][-1].status.value == "active"}
    words = "tea oslo maren peanut kayak chess"  # every text holds some of them
    found = vault.search(writer, words, namespace=VAULT_NS, mode="lexical", limit=1000)
    assert {h.cube.id for h in found} == active
    hits = vault.search(
        writer,
        "q",
        namespace=VAULT_NS,
        mode="dense",
        limit=5,
        query_vector=[rng.uniform(-1, 1) for _ in range(vault.dims)],
    )
    assert {h.cube.id for h in hits} <= active and bool(hits) == bool(active)


def check_store(vault: MemVault, model: Model) -> None:
    store = MemCubeStore(vault, principal=WRITER)
    pairs = list(model.store)
    got = store.batch([GetOp(ns, key) for ns, key in pairs])
    for pair, item in zip(pairs, got, strict=True):
        value = None if item is None else item.value["n"]
        assert value in model.store[pair], f"store {pair}: {value}, allowed {model.store[pair]}"
    live = {pair for pair, item in zip(pairs, got, strict=True) if item is not None}
    found = {(it.namespace, it.key) for it in store.search(("crash", "store"), limit=1000)}
    assert found == live
    assert live <= set(STORE_KEYS)


def check_saver(vault: MemVault, model: Model, rng: random.Random, new_from: int) -> None:
    saver = MemCubeSaver(vault, principal=WRITER)
    # every checkpoint of this round, a sample of the earlier ones (checked in their rounds)
    older = model.checkpoints[:new_from]
    todo = model.checkpoints[new_from:] + rng.sample(older, min(10, len(older)))
    writes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for _, cid, task, n in model.writes:
        writes[cid].append((task, n))
    for t, cid, n, tag, length in todo:
        tup = saver.get_tuple(
            {"configurable": {"thread_id": t, "checkpoint_ns": "", "checkpoint_id": cid}}
        )
        assert tup is not None, f"acknowledged checkpoint {cid} of {t} is missing"
        assert tup.checkpoint["channel_values"] == {"n": n, "pad": pad_value(tag, length)}
        pending = {(task, value) for task, ch, value in tup.pending_writes if ch == "n"}
        assert set(writes.get(cid, [])) <= pending, f"acknowledged writes of {cid} are missing"
    for t in THREADS:
        listed = list(saver.list({"configurable": {"thread_id": t}}))
        acked = {cid for tt, cid, *_ in model.checkpoints if tt == t}
        assert acked <= {tup.config["configurable"]["checkpoint_id"] for tup in listed}


def test_acknowledged_writes_survive_repeated_sigkill(server: ForkServer, tmp_path: Path) -> None:
    seed = int(os.environ.get("MEMOS_CRASH_SEED", random.SystemRandom().randrange(2**31)))
    rng = random.Random(seed)
    path = tmp_path / "vault"
    model = Model()
    total = 0
    for round_ in range(1, ROUNDS + 1):
        before = len(model.checkpoints)
        try:
            total += run_round(server, path, round_, rng, model)
            vault = open_vault(str(path), auto_optimize=None)  # must open: lock released
            try:
                check_vault(vault, model, rng)
                check_store(vault, model)
                check_saver(vault, model, rng, before)
            finally:
                vault.close()
        except AssertionError as e:
            raise AssertionError(f"round {round_} (MEMOS_CRASH_SEED={seed}): {e}") from e
    assert total >= ROUNDS * 3
    assert model.texts and model.checkpoints and model.store
