"""How a blocking call gets its async twin: it runs in a worker thread.

The vault, the saver, the store and the retrievers are synchronous underneath (Qdrant Edge
is an in-process engine, and qdrant-client's local mode too), so every ``a``-method of the
library runs its blocking twin through :func:`asyncio.to_thread`: the default executor, with
the caller's context variables carried into the thread (LangGraph's run config, the audit
channel), which ``loop.run_in_executor`` would drop. Class bodies declare twins with
:func:`async_twin`; a one-off call is ``await asyncio.to_thread(fn, ...)``.

Where the async path must await async I/O of its own (a LangChain model's ``ainvoke``, the
scheduler's concurrent searches, a cancellable training run), the logic is written once as
a generator of :class:`Call` steps: pure code between the calls, each call named with its
blocking and its async form. :func:`run_steps` makes the blocking calls, :func:`arun_steps`
awaits the async ones; nothing else differs (the memory nodes and consolidation are written
this way). :func:`in_thread` names a step that only has a blocking form.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeAlias, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def async_twin(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """The async twin of a blocking method, for a class body: ``aget = async_twin(get)``."""

    name = method.__name__
    # get -> aget, _get_docs -> _aget_docs
    twin_name = f"_a{name[1:]}" if name.startswith("_") else f"a{name}"

    @functools.wraps(method)
    async def twin(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        # looked up on the instance when called: a subclass's override is what runs
        return await asyncio.to_thread(getattr(self, name), *args, **kwargs)

    owner = method.__qualname__.rpartition(".")[0]
    twin.__doc__ = f"Async twin of :meth:`{owner or 'the class'}.{name}`."
    twin.__name__ = twin_name
    twin.__qualname__ = f"{owner}.{twin_name}" if owner else twin_name
    return twin


class Call:
    """One I/O step of a :data:`Steps` generator, the same operation in two forms:
    ``Call(vault.put, vault.aput, principal, cubes)`` is ``vault.put(principal, cubes)`` for
    the sync driver and ``await vault.aput(principal, cubes)`` for the async one."""

    __slots__ = ("args", "asynchronous", "blocking", "kwargs")

    def __init__(
        self,
        blocking: Callable[..., Any],
        asynchronous: Callable[..., Awaitable[Any]],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        self.blocking = blocking
        self.asynchronous = asynchronous
        self.args = args
        self.kwargs = kwargs


def in_thread(blocking: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Call:
    """A :class:`Call` of a blocking function only: the async driver runs it in a worker
    thread (:func:`asyncio.to_thread`, context kept)."""
    return Call(blocking, functools.partial(asyncio.to_thread, blocking), *args, **kwargs)


Steps: TypeAlias = Generator[Call, Any, R]
"""Logic written once: it yields each :class:`Call` and gets back the call's result."""


class _Done(NamedTuple):
    value: Any


def _resume(steps: Steps[R], result: Any) -> Call | _Done:
    try:
        return steps.send(result)
    except StopIteration as done:
        return _Done(done.value)


def run_steps(steps: Steps[R]) -> R:
    """Drive ``steps`` with the blocking form of each call and return what it returns. A
    call that raises ends the steps (the generator is closed) with its error."""
    with contextlib.closing(steps):
        step = _resume(steps, None)
        while isinstance(step, Call):
            step = _resume(steps, step.blocking(*step.args, **step.kwargs))
        return step.value


async def arun_steps(steps: Steps[R]) -> R:
    """Drive ``steps`` awaiting the async form of each call: the twin of :func:`run_steps`."""
    with contextlib.closing(steps):
        step = _resume(steps, None)
        while isinstance(step, Call):
            step = _resume(steps, await step.asynchronous(*step.args, **step.kwargs))
        return step.value


__all__ = ["Call", "Steps", "arun_steps", "async_twin", "in_thread", "run_steps"]
