"""How a blocking call gets its async twin: it runs in a worker thread.

The vault, the saver, the store and the retrievers are synchronous underneath (Qdrant Edge
is an in-process engine, and qdrant-client's local mode too), so every ``a``-method of the
library runs its blocking twin through :func:`asyncio.to_thread`: the default executor, with
the caller's context variables carried into the thread (LangGraph's run config, the audit
channel), which ``loop.run_in_executor`` would drop. Class bodies declare twins with
:func:`async_twin`; a one-off call is ``await asyncio.to_thread(fn, ...)``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def async_twin(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """The async twin of a blocking method, for a class body: ``aget = async_twin(get)``."""

    name = method.__name__

    @functools.wraps(method)
    async def twin(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        # looked up on the instance when called: a subclass's override is what runs
        return await asyncio.to_thread(getattr(self, name), *args, **kwargs)

    owner = method.__qualname__.rpartition(".")[0]
    twin.__doc__ = f"Async twin of :meth:`{owner or 'the class'}.{name}`."
    twin.__name__ = f"a{name}"
    twin.__qualname__ = f"{owner}.a{name}" if owner else f"a{name}"
    return twin


__all__ = ["async_twin"]
