"""Hard deletion: removing stored cube versions, then the blobs no version names any more.

Plain functions over a driver and a blob store; the vault decides what may be purged (access,
ambiguity) and audits the call. Blobs are shared by content, so one is deleted only once no
stored version of any owner names it.
"""

from __future__ import annotations

from collections.abc import Iterable

from memos_lc.vault.blobs import BlobStore
from memos_lc.vault.drivers import Driver, Filter
from memos_lc.vault.limits import MAX_LIMIT
from memos_lc.vault.schema import CUBES, blob_users


def delete_versions(driver: Driver, versions: Filter) -> tuple[int, set[str]]:
    """Delete every stored cube version matching ``versions``, a page at a time. Returns how
    many were deleted and the digests of the blobs they named."""
    removed = 0
    digests: set[str] = set()
    while pts := driver.scroll(CUBES, filter=versions, limit=MAX_LIMIT):
        digests |= {p.payload["blob"] for p in pts if "blob" in p.payload}
        driver.delete(CUBES, [p.id for p in pts])
        removed += len(pts)
    return removed, digests


def delete_unused_blobs(driver: Driver, blobs: BlobStore, digests: Iterable[str]) -> None:
    """Delete each of ``digests`` from ``blobs`` that no stored cube version names."""
    for digest in digests:
        if not driver.count(CUBES, filter=blob_users(digest)):
            blobs.delete(digest)
