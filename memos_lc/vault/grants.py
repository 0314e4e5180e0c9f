"""The vault's namespace grants: issuing, revoking and listing them, and the cache of the
grants each principal holds, which every access check reads.

:class:`GrantBook` is the one piece of state (the cache); the vault composes one and audits
the calls. The :class:`~memos_lc.governance.Grant` model and the rules that read grants live in
:mod:`memos_lc.governance`; their stored shape and filters in :mod:`memos_lc.vault.schema`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import ValidationError

from memos_lc.cube import is_uuid
from memos_lc.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from memos_lc.governance import Grant, Permission, Principal
from memos_lc.vault.drivers import Driver, StoredPoint
from memos_lc.vault.limits import MAX_LIMIT
from memos_lc.vault.schema import (
    GRANTS,
    grant_from_payload,
    grant_payload,
    grants_of,
    grants_to,
)


class GrantBook:
    """The grants stored in ``driver``'s grant collection, with a cache of each principal's.

    Args:
        driver: The vault's storage engine.
        ttl: Seconds a principal's cached grants stay valid. One process owns an embedded
            vault, so there the cache is exact (``math.inf``: cleared by every grant and
            revoke made here); a server may be shared, so a grant made elsewhere must take
            effect within ``ttl``.
    """

    def __init__(self, driver: Driver, *, ttl: float) -> None:
        self.driver = driver
        self.ttl = ttl
        self._cache: dict[tuple[str, ...], tuple[float, list[Grant]]] = {}

    def held_by(self, principal: Principal) -> list[Grant]:
        """The grants to ``principal`` or its roles (none for an admin, who needs none)."""
        if principal.is_admin:
            return []
        key = tuple(principal.identities())
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        pts = self.driver.scroll(GRANTS, filter=grants_to(principal), limit=MAX_LIMIT)
        grants = [grant_from_payload(p.payload) for p in pts]
        self._cache[key] = (time.monotonic(), grants)
        return grants

    def issue(
        self,
        principal: Principal,
        namespace: Sequence[str],
        grantee: str,
        permission: Permission | str,
    ) -> Grant:
        """Store a grant of ``namespace`` from ``principal`` to ``grantee`` (covering every
        owner's cubes when ``principal`` is an admin)."""
        try:
            g = Grant(
                grantor=principal.id,
                grantee=grantee,
                namespace=tuple(namespace),
                permission=Permission(permission),
                all_owners=principal.is_admin,
            )
        except (ValidationError, ValueError) as e:
            raise InvalidInputError(f"invalid grant: {e}") from None
        self.driver.upsert(GRANTS, [StoredPoint(id=g.id, payload=grant_payload(g))])
        self._cache.clear()
        return g

    def revoke(self, principal: Principal, grant_id: str) -> None:
        """Delete a grant (by its grantor or an admin)."""
        pts = self.driver.retrieve(GRANTS, [grant_id]) if is_uuid(str(grant_id)) else []
        if not pts:
            raise NotFoundError(f"no grant {grant_id}")
        g = grant_from_payload(pts[0].payload)
        if g.grantor != principal.id and not principal.is_admin:
            raise PermissionDeniedError("only the grantor or an admin may revoke a grant")
        self.driver.delete(GRANTS, [grant_id])
        self._cache.clear()

    def listing(self, principal: Principal) -> list[Grant]:
        """Grants issued by or to ``principal`` (every grant, for an admin)."""
        flt = None if principal.is_admin else grants_of(principal)
        return [
            grant_from_payload(p.payload)
            for p in self.driver.scroll(GRANTS, filter=flt, limit=MAX_LIMIT)
        ]
