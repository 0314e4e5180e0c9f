"""Versioning rules of stored cubes, as pure functions: the first version a put stores, the
linked chain a history import stores, and the owner an access change keeps.

No I/O: :class:`~memos_lc.vault.memvault.MemVault` checks what exists and writes; how a new
version follows its head is :meth:`~memos_lc.cube.MemCube.next_version`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from memos_lc.cube import MemCube, version_id
from memos_lc.errors import InvalidCubeError, PermissionDeniedError
from memos_lc.governance import Principal


def _owner_for(principal: Principal, cube: MemCube) -> str:
    """Who owns ``cube`` once ``principal`` stores it: the principal, unless the cube names
    an owner, which only an admin may."""
    owner = cube.access.owner or principal.id
    if owner != principal.id and not principal.is_admin:
        raise PermissionDeniedError(f"{principal.id} may not store cubes owned by {owner}")
    return owner


def first_version(principal: Principal, cube: MemCube, now: datetime) -> MemCube:
    """``cube`` as :meth:`MemVault.put` stores it: owned (by the principal unless it names an
    owner, which only an admin may), times not in the future; a new cube only."""
    owner = _owner_for(principal, cube)
    if cube.version != 1 or cube.replaces is not None or cube.superseded_by is not None:
        raise InvalidCubeError("put() stores new cubes; use update() for new versions")
    # cube is validated and these values keep it valid: copy, don't re-validate (and don't
    # copy at all when nothing changes: cubes are immutable)
    update: dict[str, Any] = {}
    if cube.access.owner != owner:
        update["access"] = cube.access.model_copy(update={"owner": owner})
    if cube.created_at > now:
        update["created_at"] = now
    if cube.updated_at > now:
        update["updated_at"] = now
    return cube.model_copy(update=update) if update else cube


def linked_history(
    principal: Principal, versions: Sequence[MemCube], now: datetime
) -> list[MemCube]:
    """``versions`` as :meth:`MemVault.put_history` stores them: per cube (an owner and an
    id), versions ``1..n`` linked by ``replaces`` / ``superseded_by``, owned as by
    :func:`first_version`, times not in the future; oldest first per cube, cubes in the order
    they first appear. :class:`InvalidCubeError` when a cube's versions are not ``1..n``."""
    chains: dict[tuple[str, str], list[MemCube]] = {}  # by (owner, id): ids are per owner
    for c in versions:
        chains.setdefault((_owner_for(principal, c), c.id), []).append(c)
    stored: list[MemCube] = []
    for (owner, cid), chain in chains.items():
        chain.sort(key=lambda c: c.version)
        if [c.version for c in chain] != list(range(1, len(chain) + 1)):
            raise InvalidCubeError(f"cube {cid}: versions must be 1..n without gaps or repeats")
        for c in chain:
            oldest, last = c.version == 1, c.version == len(chain)
            stored.append(
                c.replace(
                    access=c.access.model_copy(update={"owner": owner}),
                    created_at=min(c.created_at, now),
                    updated_at=min(c.updated_at, now),
                    replaces=None if oldest else version_id(owner, cid, c.version - 1),
                    superseded_by=None if last else version_id(owner, cid, c.version + 1),
                )
            )
    return stored


def with_owner(access: Any, owner: str | None) -> Any:
    """``access`` (a mapping or AccessControl) with ``owner`` filled in when it names none."""
    data = access.model_dump() if isinstance(access, BaseModel) else access
    if isinstance(data, dict) and data.get("owner") is None:
        return {**data, "owner": owner}
    return access
