"""Shared fixtures: the bundled models load once per session; every vault suite runs on
both drivers (embedded Qdrant Edge, and qdrant-client's in-memory mode)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from memos_lc import MemVault, Principal  # noqa: E402
from memos_lc.embeddings import default_embeddings  # noqa: E402


@pytest.fixture(scope="session")
def embeddings():
    """The bundled MiniLM, loaded once."""
    return default_embeddings()


@pytest.fixture(scope="session")
def page_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """The result of every runnable block of the README and the docs and of every cookbook
    script, by id (``tests/doc_snippets.py``): all run in one pair of runner processes side
    by side, so the chat model and the MiniLM load once per runner for both test files."""
    from doc_snippets import cookbook, pages, run_pages

    return run_pages([*pages(), *cookbook()], tmp_path_factory.mktemp("pages"))


@pytest.fixture(params=["edge", "client"])
def vault(request: pytest.FixtureRequest, tmp_path: Path, embeddings) -> Iterator[MemVault]:
    """A fresh vault on each driver."""
    location = str(tmp_path / "vault") if request.param == "edge" else ":memory:"
    v = MemVault.open(location, embeddings=embeddings, blobs=tmp_path / "blobs")
    yield v
    v.close()


@pytest.fixture(params=["edge", "client"])
def plain_vault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemVault]:
    """A fresh vault on each driver that never embeds: cubes get precomputed vectors or none
    (stores without an index do not need the model)."""
    location = str(tmp_path / "vault") if request.param == "edge" else ":memory:"
    v = MemVault.open(location, blobs=tmp_path / "blobs")
    yield v
    v.close()


@pytest.fixture
def alice() -> Principal:
    return Principal(id="alice")


@pytest.fixture
def bob() -> Principal:
    return Principal(id="bob")


@pytest.fixture
def admin() -> Principal:
    return Principal(id="root", roles=frozenset({"admin"}))
