"""What a vault search checks and explains, apart from the query itself.

:meth:`~memos_lc.vault.memvault.MemVault.search` builds the filter (access, expiry, the
caller's :class:`~memos_lc.vault.schema.CubeFilter`) and runs the fused query; this module
holds the rules for a valid query and the explanation of its hits, as plain functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from memos_lc.cube import MemCube, ScoredCube
from memos_lc.embeddings import LexicalEncoder
from memos_lc.errors import InvalidInputError
from memos_lc.vault.drivers import Driver, Filter, SparseVec, StoredPoint
from memos_lc.vault.limits import MAX_QUERY_CHARS
from memos_lc.vault.schema import CUBES, encodable

SEARCH_MODES = ("hybrid", "dense", "lexical")
EXPLAIN_DEPTH = 100
"""Hits of each single-vector query an explanation ranks at least (more when a page asks)."""


def check_query(query: object, mode: str) -> None:
    """Raise :class:`InvalidInputError` unless ``query`` is a non-empty string of valid
    Unicode of at most :data:`MAX_QUERY_CHARS` and ``mode`` one of :data:`SEARCH_MODES`."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty string")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"query longer than {MAX_QUERY_CHARS} chars")
    if not query.isascii() and not encodable(query):
        raise InvalidInputError("query is not valid Unicode (it holds a lone surrogate)")
    if mode not in SEARCH_MODES:
        raise InvalidInputError("mode must be 'hybrid', 'dense' or 'lexical'")


def scored(hits: Sequence[tuple[MemCube, StoredPoint]]) -> list[ScoredCube]:
    """The hits of a search with their fused scores, in the engine's order."""
    return [ScoredCube(cube=cube, score=float(p.score or 0.0)) for cube, p in hits]


def explained(
    driver: Driver,
    lexical: LexicalEncoder,
    query: str,
    hits: Sequence[tuple[MemCube, StoredPoint]],
    *,
    flt: Filter,
    dense: list[float] | None,
    sparse: SparseVec | None,
    depth: int,
) -> list[ScoredCube]:
    """The hits of a search as :func:`scored`, each with why it was found: its rank among the
    first ``depth`` hits of the dense and of the lexical query alone under the same filter
    (``None`` when that query was not run or ranked it lower), and the query terms its text
    holds."""
    by_dense = (
        driver.query(CUBES, dense=dense, sparse=None, filter=flt, limit=depth)
        if dense is not None
        else []
    )
    by_lex = (
        driver.query(CUBES, dense=None, sparse=sparse, filter=flt, limit=depth)
        if sparse is not None
        else []
    )
    dense_rank = {p.id: i + 1 for i, p in enumerate(by_dense)}
    lexical_rank = {p.id: i + 1 for i, p in enumerate(by_lex)}
    terms = lexical.terms(query)
    out = []
    for cube, p in hits:
        matched: tuple[str, ...] = ()
        if terms:
            doc = set(lexical.encode_document(cube.text).indices)
            matched = tuple(sorted({w for i, w in terms.items() if i in doc}))
        out.append(
            ScoredCube(
                cube=cube,
                score=float(p.score or 0.0),
                dense_rank=dense_rank.get(p.id),
                lexical_rank=lexical_rank.get(p.id),
                matched_terms=matched,
            )
        )
    return out
