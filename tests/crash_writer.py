"""A fork server for the crash-safety tests (not a test module: pytest does not collect it).

It imports memos-lc once, prints ``{"ready": true}`` and then reads commands from stdin, one
per line: ``<vault dir> <round> <seed>``. For each it forks a writer child that opens the
embedded vault and runs a random stream of vault, store and checkpointer writes on it forever,
printing one JSON line (flushed) *before* each call (``{"begin": ...}``) and one *after* the
call returned (``{"ack": ...}``). The test kills the child with SIGKILL whenever it likes; the
server reaps it and prints ``{"reaped": <wait status>}``. Forking a warm process keeps twenty
rounds cheap: the child starts writing in milliseconds instead of re-importing everything.

No embedding model runs: vault cubes carry precomputed random vectors (``vectors=`` /
``vector=``), store items are unindexed and checkpoints are never embedded.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
import traceback
import uuid
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.store.base import PutOp

from memos_lc import CubeFilter, MemCube, MemVault, Principal
from memos_lc.checkpoint import MemCubeSaver
from memos_lc.store import MemCubeStore
from memos_lc.vault.drivers import EdgeDriver

DIMS = 384
WRITER = "writer"
VAULT_NS = ("crash", "vault")
STORE_KEYS = [(("crash", "store", f"g{i % 3}"), f"k{i}") for i in range(24)]
THREADS = [f"thread-{i}" for i in range(4)]
BIG_PAD = 2_400_000  # a checkpoint value this long is split over two chunk cubes


def pad_value(tag: str, length: int) -> str:
    """The checkpoint channel value the writer stores for ``(tag, length)``."""
    return f"{tag}:" + "x" * length


def say(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def open_vault(path: str, *, auto_optimize: int | None = 300) -> MemVault:
    """The embedded vault at ``path``; background index builds start after 0.2 s idle."""
    driver = EdgeDriver(path, auto_optimize=auto_optimize, idle_seconds=0.2)
    try:
        return MemVault(driver, dims=DIMS)
    except BaseException:
        driver.close()
        raise


class Writer:
    def __init__(self, path: str, round_: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.round = round_
        self.counter = round_ * 1_000_000  # store and checkpoint counters grow across rounds
        self.p = Principal(id=WRITER)
        self.vault = open_vault(path)
        self.store = MemCubeStore(self.vault, principal=WRITER)
        self.saver = MemCubeSaver(self.vault, principal=WRITER)
        # what earlier (killed) rounds left: cube heads and the latest checkpoint per thread
        heads = self.vault.find(
            self.p,
            namespace=VAULT_NS,
            filter=CubeFilter(statuses=None, include_expired=True),
            limit=10_000,
        )
        self.cubes = {c.id: c.version for c in heads if c.status.value == "active"}
        self.latest: dict[str, dict[str, Any]] = {}
        for t in THREADS:
            tup = self.saver.get_tuple({"configurable": {"thread_id": t, "checkpoint_ns": ""}})
            if tup is not None:
                tag, _, rest = tup.checkpoint["channel_values"]["pad"].partition(":")
                self.latest[t] = {
                    "config": tup.config,
                    "versions": dict(tup.checkpoint["channel_versions"]),
                    "pad": (tag, len(rest)),
                }
        self.serial = 0

    def vec(self) -> list[float]:
        return [self.rng.uniform(-1.0, 1.0) for _ in range(DIMS)]

    def text(self) -> str:
        self.serial += 1
        words = " ".join(
            self.rng.choice(["tea", "oslo", "maren", "peanut", "kayak", "chess"]) for _ in range(3)
        )
        return f"r{self.round} s{self.serial} {words}"

    def next_n(self) -> int:
        self.counter += 1
        return self.counter

    # -- operations: each says ``begin`` before its call and ``ack`` after it returned ------

    def op_vput(self) -> None:
        cubes = [
            MemCube.from_text(self.text(), namespace=VAULT_NS)
            for _ in range(self.rng.randint(1, 3))
        ]
        say({"begin": {"op": "vput", "ids": [c.id for c in cubes]}})
        stored = self.vault.put(self.p, cubes, vectors=[self.vec() for _ in cubes])
        for c in stored:
            self.cubes[c.id] = 1
        say({"ack": {"op": "vput", "cubes": [[c.id, c.text] for c in stored]}})

    def op_vupd(self) -> None:
        if not self.cubes:
            return self.op_vput()
        cid = self.rng.choice(sorted(self.cubes))
        expected = self.cubes[cid]
        text = self.text()
        say({"begin": {"op": "vupd", "id": cid, "from": expected}})
        new = self.vault.update(
            self.p, cid, text=text, vector=self.vec(), expected_version=expected
        )
        self.cubes[cid] = new.version
        say({"ack": {"op": "vupd", "id": cid, "v": new.version, "text": text}})

    def op_vdel(self) -> None:
        if not self.cubes:
            return self.op_vput()
        cid = self.rng.choice(sorted(self.cubes))
        say({"begin": {"op": "vdel", "id": cid, "from": self.cubes[cid]}})
        new = self.vault.delete(self.p, cid, reason="crash test")
        del self.cubes[cid]
        say({"ack": {"op": "vdel", "id": cid, "v": new.version}})

    def op_sput(self) -> None:
        pairs = self.rng.sample(STORE_KEYS, self.rng.choice([1, 1, 1, 2, 3]))
        n = self.next_n()
        items = [[list(ns), key, n] for ns, key in pairs]
        say({"begin": {"op": "sput", "items": items}})
        if len(pairs) == 1:
            ns, key = pairs[0]
            self.store.put(ns, key, {"n": n, "note": "x" * self.rng.randint(0, 200)})
        else:  # one batch, several items
            self.store.batch([PutOp(ns, key, {"n": n}) for ns, key in pairs])
        say({"ack": {"op": "sput", "items": items}})

    def op_sdel(self) -> None:
        ns, key = self.rng.choice(STORE_KEYS)
        n = self.next_n()
        say({"begin": {"op": "sdel", "items": [[list(ns), key, n]]}})
        self.store.delete(ns, key)
        say({"ack": {"op": "sdel", "items": [[list(ns), key, n]]}})

    def op_cput(self) -> None:
        t = self.rng.choice(THREADS)
        prev = self.latest.get(t)
        n = self.next_n()
        ck = empty_checkpoint()
        versions = dict(prev["versions"]) if prev else {}
        new_versions = {"n": self.saver.get_next_version(versions.get("n"), None)}
        pad = prev["pad"] if prev else None  # (tag, length): unchanged channels are not resent
        if pad is None or self.rng.random() < 0.3:
            big = self.rng.random() < 0.04
            pad = (f"p{n}", BIG_PAD if big else self.rng.randint(0, 50))
            new_versions["pad"] = self.saver.get_next_version(versions.get("pad"), None)
        versions.update(new_versions)
        ck["channel_versions"] = versions
        ck["channel_values"] = {"n": n, "pad": pad_value(*pad)}
        config = prev["config"] if prev else {"configurable": {"thread_id": t, "checkpoint_ns": ""}}
        say({"begin": {"op": "cput", "t": t, "id": ck["id"]}})
        saved = self.saver.put(config, ck, {"step": n, "source": "loop"}, new_versions)
        self.latest[t] = {"config": saved, "versions": versions, "pad": pad}
        say({"ack": {"op": "cput", "t": t, "id": ck["id"], "n": n, "pad": list(pad)}})

    def op_cwrites(self) -> None:
        t = self.rng.choice(THREADS)
        prev = self.latest.get(t)
        if prev is None:
            return self.op_cput()
        n = self.next_n()
        task = str(uuid.uuid4())
        cid = prev["config"]["configurable"]["checkpoint_id"]
        say({"begin": {"op": "cw", "t": t, "id": cid, "task": task}})
        self.saver.put_writes(prev["config"], [("n", n), ("msg", f"w{n}")], task)
        say({"ack": {"op": "cw", "t": t, "id": cid, "task": task, "n": n}})

    def op_optimize(self) -> None:
        say({"begin": {"op": "optimize"}})
        self.vault.optimize()
        say({"ack": {"op": "optimize"}})

    def op_pause(self) -> None:  # lets the background index build start (and be killed)
        time.sleep(0.25)

    def run(self) -> None:
        ops = [
            (self.op_vput, 22),
            (self.op_vupd, 20),
            (self.op_vdel, 3),
            (self.op_sput, 22),
            (self.op_sdel, 3),
            (self.op_cput, 16),
            (self.op_cwrites, 10),
            (self.op_optimize, 1),
            (self.op_pause, 1),
        ]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        while True:
            self.rng.choices(funcs, weights)[0]()


def child(path: str, round_: int, seed: int) -> None:
    """The forked writer; never returns into the server loop."""
    try:
        say({"pid": os.getpid()})
        Writer(path, round_, seed).run()
    except BaseException:  # reported to the test, which fails
        with contextlib.suppress(BaseException):
            say({"error": traceback.format_exc()})
    finally:
        os._exit(1)


def serve() -> None:
    say({"ready": True})
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        path, round_, seed = parts[0], int(parts[1]), int(parts[2])
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            child(path, round_, seed)
        _, status = os.waitpid(pid, 0)
        say({"reaped": status})


if __name__ == "__main__":
    serve()
