"""The async-twin helpers: async_twin, and logic written once as steps driven sync or async."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from memos_lc.aio import Call, Steps, arun_steps, async_twin, in_thread, run_steps

WHO = contextvars.ContextVar("who", default="nobody")


class Store:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: list[int] = []

    def get(self, key: str) -> str:
        self.threads.append(threading.get_ident())
        self.calls.append(f"get {key} as {WHO.get()}")
        return key.upper()

    async def aget(self, key: str) -> str:
        self.calls.append(f"aget {key}")
        return key.upper()

    def _count(self) -> int:
        return len(self.calls)

    _acount = async_twin(_count)
    aget_in_thread = async_twin(get)


class Louder(Store):
    def get(self, key: str) -> str:
        return super().get(key) + "!"


def lookup(store: Store, keys: list[str]) -> Steps[list[str]]:
    first = yield Call(store.get, store.aget, keys[0])
    second = yield in_thread(store.get, keys[1])
    return [first, second]


def both(store: Store, log: list[str]) -> Steps[list[str]]:
    try:
        first = yield from lookup(store, ["a", "b"])
        first.append((yield Call(store.get, store.aget, "c")))
        return first
    finally:
        log.append("closed")


def test_run_steps_makes_the_blocking_calls() -> None:
    store, log = Store(), []
    assert run_steps(both(store, log)) == ["A", "B", "C"]
    assert store.calls == ["get a as nobody", "get b as nobody", "get c as nobody"]
    assert log == ["closed"]


async def test_arun_steps_awaits_the_async_forms_and_runs_blocking_ones_in_a_thread() -> None:
    store, log = Store(), []
    WHO.set("alice")
    assert await arun_steps(both(store, log)) == ["A", "B", "C"]
    # in_thread: a worker thread that sees the caller's context
    assert store.calls == ["aget a", "get b as alice", "aget c"]
    assert log == ["closed"]


def test_a_failing_call_ends_the_steps_with_its_error() -> None:
    log: list[str] = []

    def boom(key: str) -> str:
        raise KeyError(key)

    def steps() -> Steps[str]:
        try:
            yield Call(boom, boom, "x")
            log.append("went on")
            return "done"
        finally:
            log.append("closed")

    with pytest.raises(KeyError):
        run_steps(steps())
    assert log == ["closed"]


async def test_cancelling_the_async_driver_closes_the_steps() -> None:
    log: list[str] = []
    started = asyncio.Event()

    async def forever(_: object) -> None:
        started.set()
        await asyncio.Event().wait()

    def steps() -> Steps[None]:
        try:
            yield Call(lambda _: None, forever, None)
        finally:
            log.append("closed")

    task = asyncio.ensure_future(arun_steps(steps()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["closed"]


async def test_async_twin_runs_the_instance_method_in_a_thread_with_the_context() -> None:
    store = Louder()  # overrides get: the twin declared on Store runs the override
    WHO.set("bob")
    assert await store.aget_in_thread("k") == "K!"
    assert store.calls == ["get k as bob"]
    assert store.threads and store.threads[0] != threading.get_ident()
    assert await store._acount() == 1
    assert Store._acount.__name__ == "_acount" and Store.aget_in_thread.__name__ == "aget"
