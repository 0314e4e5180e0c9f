"""The saver's cubes in a vault: how :class:`~memos_lc.checkpoint.MemCubeSaver` queries,
decodes and writes them, and nothing about what LangGraph's calls mean (the saver's job).

:class:`CheckpointCubes` moves cubes, as the I/O half of LangGraph's Postgres saver moves rows:
queries over a principal's checkpoint cubes (by namespace, tag, role, id; newest first, paged
past the vault's query limit), their decoding with their chunk cubes (one extra call at most),
and the two crash-safe writes: a new record (a deferred put) and a new version of one (new
chunks first, then the cube in one atomic update, then the chunks only the old version used).
What goes in a cube is :mod:`memos_lc.checkpoint.codec`; :func:`envelope_cubes` names the
cubes of an envelope by the saver's ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from memos_lc.checkpoint.codec import (
    CHECKPOINT,
    ROOT,
    WRITES,
    Stored,
    chunk_ids,
    cube_id,
    cubes_for,
    decode,
    kind_of,
    thread_namespace,
)
from memos_lc.checkpoint.reads import checkpoint_filter
from memos_lc.cube import MemCube
from memos_lc.errors import ConflictError
from memos_lc.governance import Principal
from memos_lc.vault import MemVault
from memos_lc.vault.limits import MAX_LIMIT

__all__ = ["CheckpointCubes", "envelope_cubes"]


def envelope_cubes(
    owner: str,
    env: dict[str, Any],
    *,
    kind: str,
    tags: tuple[str, ...],
    key: str | None,
    created: datetime,
    expires: datetime | None,
    namespace: tuple[str, ...] | None = None,
    id_: str | None = None,
) -> list[MemCube]:
    """The cubes of ``owner`` holding ``env`` (see
    :func:`~memos_lc.checkpoint.codec.cubes_for`), under its own cube id and namespace unless
    given."""
    thread_id, ns = env["thread"], env["ns"]
    if id_ is None:
        parts = (env["id"],) if kind == CHECKPOINT else (env["id"], env["task"])
        id_ = cube_id(owner, thread_id, ns, kind, *parts)
    return cubes_for(
        env,
        owner=owner,
        cube_id=id_,
        namespace=namespace or thread_namespace(thread_id, ns),
        kind=kind,
        tags=tags,
        key=key,
        created=created,
        expires=expires,
    )


class CheckpointCubes:
    """The saver's cubes in ``vault``, read and written for a principal (every call is the
    vault's, so governed and audited as any). ``exclusive``: only this process writes the
    vault (an embedded engine), which lets :meth:`newest` probe an empty scope first.
    """

    def __init__(self, vault: MemVault, *, exclusive: bool) -> None:
        self.vault = vault
        self.exclusive = exclusive

    def fetch(self, principal: Principal, ids: Sequence[str]) -> list[MemCube]:
        """The principal's saver cubes of these ids that exist, in one call."""
        return self.vault.find(
            principal,
            cube_ids=ids,
            filter=checkpoint_filter(principal.id, ROOT),
            limit=min(MAX_LIMIT, len(ids)),
            order_by=None,
        )

    def find(
        self,
        principal: Principal,
        namespace: tuple[str, ...],
        *,
        exact: bool = False,
        tags: Iterable[str] | None = None,
        roles: tuple[str, ...] | None = None,
        limit: int = MAX_LIMIT,
        created_before: datetime | None = None,
        ordered: bool = True,
    ) -> list[MemCube]:
        """Cubes under ``namespace`` (with any of ``tags``, of any of ``roles``: see
        :class:`~memos_lc.cube.Bookkeeping`), newest first (by creation) when ``ordered``;
        lookups that need no order skip it (the engine then answers from its tag index)."""
        tags = list(dict.fromkeys(tags)) if tags is not None else None
        if tags is not None and not tags:
            return []
        return self.vault.find(
            principal,
            filter=checkpoint_filter(
                principal.id,
                namespace,
                exact=exact,
                tags=tags,
                roles=roles,
                created_before=created_before,
            ),
            limit=limit,
            order_by="created" if ordered else None,
        )

    def pages(
        self,
        principal: Principal,
        scope: tuple[str, ...],
        *,
        size: int,
        exact: bool = False,
        roles: tuple[str, ...] | None = None,
        tags: Iterable[str] | None = None,
        created_before: datetime | None = None,
    ) -> Iterator[list[MemCube]]:
        """Cubes under ``scope`` (see :meth:`find`), newest first, a page of at most ``size``
        at a time: paging by creation time past the vault's query limit (a page starts at the
        last one's microsecond, so what came already is skipped)."""
        seen: set[str] = set()
        while True:
            page = self.find(
                principal,
                scope,
                exact=exact,
                roles=roles,
                tags=tags,
                limit=size,
                created_before=created_before,
            )
            fresh = [c for c in page if c.id not in seen]
            if not fresh:
                return
            seen.update(c.id for c in fresh)
            yield fresh
            if len(page) < size:
                return
            created_before = page[-1].created_at + timedelta(microseconds=1)

    def all(
        self, principal: Principal, scope: tuple[str, ...], roles: tuple[str, ...] | None = None
    ) -> list[MemCube]:
        """Every cube under ``scope`` (of any role, or of any of ``roles``)."""
        return [
            c for page in self.pages(principal, scope, size=MAX_LIMIT, roles=roles) for c in page
        ]

    def newest(
        self, principal: Principal, scope: tuple[str, ...], *, exact: bool, limit: int
    ) -> list[MemCube]:
        """Up to ``limit`` checkpoint cubes of ``scope``, newest first. On the embedded engine
        an ordered query right after writes costs milliseconds, so an unordered probe answers
        first for an empty scope: a new thread, as at the start of every new run."""
        if self.exclusive and not self.find(
            principal, scope, exact=exact, roles=(CHECKPOINT,), limit=1, ordered=False
        ):
            return []
        return self.find(principal, scope, exact=exact, roles=(CHECKPOINT,), limit=limit)

    def decode(
        self, principal: Principal, cubes: Iterable[MemCube], pool: dict[str, MemCube]
    ) -> list[Stored]:
        """Decode main cubes, fetching any chunk cubes missing from ``pool`` in one call."""
        mains = [c for c in cubes if kind_of(c) in (CHECKPOINT, WRITES)]
        missing = [i for c in mains for i in chunk_ids(c) if i not in pool]
        if missing:
            pool.update((c.id, c) for c in self.fetch(principal, missing))
        return [Stored(c, decode(c, pool)) for c in mains]

    def store(
        self, principal: Principal, cubes: list[MemCube], withdraw: Sequence[str] = ()
    ) -> None:
        """Write a cube and its chunks in one vault call (deferred: see ``MemVault.put``,
        which also drops the ``withdraw`` cubes it makes redundant); when the cube exists
        already (a checkpoint put again), write it as a new version instead."""
        try:
            self.vault.put(principal, cubes, index=False, deferred=True, withdraw=withdraw)
            return
        except ConflictError:
            pass
        have = {c.id: c for c in self.fetch(principal, [c.id for c in cubes])}
        if cubes[0].id in have:
            self.store_version(principal, have[cubes[0].id], cubes)
        else:  # only chunks were there (an interrupted write): add what is missing
            self.vault.put(principal, [c for c in cubes if c.id not in have], index=False)

    def store_version(self, principal: Principal, old: MemCube, cubes: list[MemCube]) -> None:
        """Replace ``old`` by a new version holding ``cubes[0]``: new chunks first, then the
        cube (one atomic upsert), then the chunks only the old version used - a crash at any
        point leaves a readable cube."""
        main, chunks = cubes[0], cubes[1:]
        if chunks:
            have = {c.id for c in self.fetch(principal, [c.id for c in chunks])}
            if missing := [c for c in chunks if c.id not in have]:
                self.vault.put(principal, missing, index=False)
        self.vault.update(
            principal,
            main.id,
            payload=main.payload,
            tags=main.tags,
            key=main.key,
            expires_at=main.expires_at,
            expected_version=old.version,
        )
        stale = set(chunk_ids(old)) - {c.id for c in chunks}
        if stale:
            self.vault.purge_many(principal, sorted(stale))
