"""Helpers of the robustness tests (crash, concurrency, hostile input, tenant isolation); not a
test module.

:func:`fsck` reads every stored point of the three collections straight from the engine and
checks what the vault promises to keep true after any crash or race: every header parses,
every version sits under its own storage id, and each cube's history (a cube is its owner's
cube with its id) is one intact chain (versions ``1..n``, exactly one head, ``replaces`` /
``superseded_by`` linking neighbours).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from langchain_core.embeddings import Embeddings

from memos_lc import MemCube, MemVault
from memos_lc.cube import version_id
from memos_lc.governance import Grant, namespace_key
from memos_lc.vault.qdrant import AUDIT, CUBES, GRANTS, audit_event_from_payload, cube_from_payload


def _all(vault: MemVault, collection: str) -> list:
    n = vault.driver.count(collection, filter=None)
    pts = vault.driver.scroll(collection, filter=None, limit=n + 1)
    assert len(pts) == n, f"{collection}: count says {n}, scroll returned {len(pts)}"
    return pts


def fsck(vault: MemVault) -> dict[tuple[str, str], list[MemCube]]:
    """Every cube's versions, oldest first, by (owner, cube id); an ``AssertionError`` names
    the first damage."""
    chains: dict[tuple[str, str], dict[int, tuple[MemCube, str]]] = defaultdict(dict)
    for p in _all(vault, CUBES):
        cube = cube_from_payload(p.payload)  # raises on an unparseable header
        owner = cube.access.owner
        assert owner, f"{p.id}: stored without an owner"
        assert p.id == version_id(owner, cube.id, cube.version), f"{p.id}: stored under a wrong id"
        assert p.payload["cube_id"] == cube.id and p.payload["version"] == cube.version, p.id
        assert p.payload["owner"] == cube.access.owner, f"{cube.id}: owner index differs"
        assert p.payload["ns"] == namespace_key(cube.namespace), f"{cube.id}: ns index differs"
        assert p.payload["status"] == cube.status.value, f"{cube.id}: status index differs"
        at = (owner, cube.id)
        assert cube.version not in chains[at], f"{cube.id} v{cube.version} stored twice"
        chains[at][cube.version] = (cube, p.payload["head"])
    out: dict[tuple[str, str], list[MemCube]] = {}
    for (owner, cid), by_version in chains.items():
        n = len(by_version)
        assert sorted(by_version) == list(range(1, n + 1)), f"{cid}: versions {sorted(by_version)}"
        heads = [v for v, (_, head) in by_version.items() if head == "y"]
        assert heads == [n], f"{cid}: head flags on versions {heads}, expected only v{n}"
        chain = [by_version[v][0] for v in range(1, n + 1)]
        for c in chain:
            prev = version_id(owner, cid, c.version - 1) if c.version > 1 else None
            succ = version_id(owner, cid, c.version + 1) if c.version < n else None
            assert c.replaces == prev, f"{cid} v{c.version}: replaces {c.replaces}"
            assert c.superseded_by == succ, f"{cid} v{c.version}: superseded_by {c.superseded_by}"
        out[owner, cid] = chain
    for p in _all(vault, AUDIT):
        audit_event_from_payload(p.payload)
    for p in _all(vault, GRANTS):
        Grant.model_validate(p.payload["grant"])
    return out


def chains_of(vault: MemVault, owner: str) -> dict[str, list[MemCube]]:
    """:func:`fsck`, then ``owner``'s chains by cube id (ids are scoped per owner)."""
    return {cid: chain for (who, cid), chain in fsck(vault).items() if who == owner}


class HashEmbeddings(Embeddings):
    """A deterministic 384-dim embedding from hashed character trigrams: a stand-in for MiniLM
    where the model is not what a test is about (it never loads torch). Texts sharing words get
    similar vectors, so dense search still behaves like search."""

    dims = 384

    def embed_query(self, text: str) -> list[float]:
        v = [0.0] * self.dims
        padded = f"  {text.lower()}  "
        for i in range(len(padded) - 2):
            h = hashlib.blake2b(padded[i : i + 3].encode("utf-8", "replace"), digest_size=4)
            n = int.from_bytes(h.digest(), "little")
            v[n % self.dims] += 1.0 if n & 1 << 31 else -1.0
        if not any(v):
            v[0] = 1.0
        return v

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]
