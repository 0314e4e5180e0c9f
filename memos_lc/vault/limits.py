"""Bounds on what one vault call may ask for: page size, offset and query length.

One home for them, since the vault's reads, its grants and audit log, and the layers above it
(store, saver, retrievers) page with the same bounds.
"""

from __future__ import annotations

from memos_lc.cube import MAX_OFFSET
from memos_lc.errors import InvalidInputError

MAX_LIMIT = 10_000
"""Most results one call returns (and most grants or audit events one listing reads)."""
MAX_QUERY_CHARS = 8_000
"""Longest search query, in characters."""


def check_limit(limit: int, offset: int = 0) -> None:
    """Raise :class:`InvalidInputError` unless ``limit`` is 1..:data:`MAX_LIMIT` and
    ``offset`` 0..``MAX_OFFSET`` (integers, not booleans)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_LIMIT}")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInputError(f"offset must be an integer from 0 to {MAX_OFFSET}")
