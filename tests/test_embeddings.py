"""The bundled MiniLM run with transformers alone computes sentence-transformers' vectors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from memos_lc.embeddings import MiniLMEmbeddings, bundled_embedding_path
from memos_lc.errors import MemosError

TEXTS = [
    "I'm allergic to peanuts, so no satay for me.",
    "",
    "   ",
    "Où est la gare ? 駅はどこですか 🚉",
    "word " * 400,  # past max_seq_length: both cut it at 256 tokens
    "Caroline went to the LGBTQ support group on 7 May 2023.",
]


def test_vectors_match_sentence_transformers(embeddings) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(bundled_embedding_path()), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True, batch_size=64)
    ours = np.asarray(embeddings.embed_documents(TEXTS))
    assert ours.shape == expected.shape == (len(TEXTS), 384)
    assert np.abs(ours - expected).max() < 1e-5
    # a batch of one (no padding) and a padded batch give the same vector
    assert np.abs(np.asarray(embeddings.embed_query(TEXTS[0])) - ours[0]).max() < 1e-5
    # batched by length, each vector still lands at its own text's place
    size = embeddings.batch_size
    try:
        embeddings.batch_size = 2
        small = np.asarray(embeddings.embed_documents([*TEXTS, *reversed(TEXTS)]))
    finally:
        embeddings.batch_size = size
    assert np.abs(small - np.concatenate([expected, expected[::-1]])).max() < 1e-5


def test_a_directory_with_another_pipeline_is_refused(tmp_path) -> None:
    model = tmp_path / "model"
    shutil.copytree(bundled_embedding_path(), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(
        json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    with pytest.raises(MemosError, match="not a mean-pooled, normalised sentence encoder"):
        MiniLMEmbeddings(model)
