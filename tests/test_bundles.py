"""MemStore bundles: export / import round trips on both drivers, signing, remapping, id
clashes, dormant cubes for other models, the CLI, and one test per hostile bundle."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save as save_tensors

from memos_lc import CubeFilter, LifecycleStatus, MemCube, MemoryKind, MemVault, Principal
from memos_lc.bundles import (
    DORMANT_TAG,
    SKIPPED_EXPIRED,
    SKIPPED_IN_USE,
    BundleLimits,
    ed25519_pem,
    export_bundle,
    generate_ed25519_key,
    import_bundle,
    read_bundle,
)
from memos_lc.cli import main
from memos_lc.errors import (
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleSignatureError,
    BundleTooLargeError,
    BundleUnsafeError,
    InvalidInputError,
)

ALICE, BOB, CAROL = Principal(id="alice"), Principal(id="bob"), Principal(id="carol")
ADMIN = Principal(id="root", roles=frozenset({"admin"}))
EVERYTHING = CubeFilter(statuses=None, include_expired=True, include_internal=True)
HMAC_KEY = b"correct horse battery staple 42"
FACTS = [
    (("kb", "wine"), "Chablis is a dry white wine made from Chardonnay grapes", ("white",)),
    (("kb", "wine"), "Barolo is a red wine from Piedmont made from Nebbiolo", ("red",)),
    (("kb", "wine"), "Sauternes is a sweet wine from Bordeaux affected by noble rot", ("sweet",)),
    (("kb", "cheese"), "Roquefort is a blue cheese made from sheep milk", ("blue",)),
    (("kb", "cheese"), "Comte is a hard cheese from the Jura mountains", ()),
    (("notes",), "Remember to restock the cellar before the tasting", ()),
]
QUERIES = ["sweet dessert wine", "Nebbiolo", "cheese from sheep", "cellar"]


def blob_cube(
    vault: MemVault, kind: str, fingerprint: str, text: str, owner: Principal = ALICE
) -> MemCube:
    data = save_tensors(
        {"w": np.arange(8, dtype=np.float32)}, metadata={"model": fingerprint, "kind": kind}
    )
    ref = vault.put_blob(owner, data)
    payload: dict[str, Any] = {
        "kind": kind,
        "blob": ref.model_dump(),
        "model_fingerprint": fingerprint,
    }
    if kind == "activation":
        payload |= {"prefix_tokens": 4, "prefix_token_ids_sha256": "0" * 64, "source_text": text}
    else:
        payload |= {"base_model": "tiny", "description": text}
    return MemCube.model_validate({"namespace": ("kb", "compiled"), "payload": payload})


def seed(vault: MemVault, owner: Principal = ALICE) -> dict[str, MemCube]:
    """Plaintext facts (one with three versions), an activation and a parametric cube."""
    cubes = {
        text: vault.add(owner, text, namespace=ns, tags=tags, memory_type="long_term")
        for ns, text, tags in FACTS
    }
    first = cubes[FACTS[0][1]]
    vault.update(owner, first.id, text="Chablis is a dry, unoaked white wine from Chardonnay")
    vault.update(owner, first.id, priority=0.9)
    for kind in ("activation", "parametric"):
        cube = vault.put(
            owner, blob_cube(vault, kind, "m1", f"{kind} memory of wine pairings", owner)
        )[0]
        cubes[kind] = cube
    return cubes


@pytest.fixture
def open_vault(tmp_path: Path, embeddings) -> Iterator[Callable[[str], MemVault]]:
    """Opens extra vaults ('edge' in tmp_path or 'client' in memory), closed at teardown."""
    opened: list[MemVault] = []

    def make(driver: str) -> MemVault:
        n = len(opened)
        location = str(tmp_path / f"v{n}") if driver == "edge" else ":memory:"
        v = MemVault.open(location, embeddings=embeddings, blobs=tmp_path / f"blobs{n}")
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


def hits(vault: MemVault, who: Principal, query: str, mode: str) -> list[tuple[float, str]]:
    """Every hit with its dense or BM25 score. Engines order exact score ties (common in BM25
    over short texts) differently, so ties are listed by id."""
    found = vault.search(who, query, mode=mode, limit=20)
    return sorted((-round(h.score, 4), h.cube.id) for h in found)


def nothing_written(vault: MemVault) -> bool:
    return vault.count(ADMIN, filter=EVERYTHING) == 0 and list(vault.blobs) == []


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_keeps_search_results_and_history(vault, open_vault, tmp_path) -> None:
    # the source runs on each driver (conftest), the target on the other one
    cubes = seed(vault)
    path = tmp_path / "kb.memos.zip"
    manifest = export_bundle(vault, ALICE, path, filter=EVERYTHING, history=True, source="lab")
    assert (manifest.cube_count, manifest.version_count, manifest.history) == (8, 10, True)
    assert manifest.kinds == {
        MemoryKind.PLAINTEXT: 6,
        MemoryKind.ACTIVATION: 1,
        MemoryKind.PARAMETRIC: 1,
    }
    assert manifest.model_fingerprints == ("m1",)
    assert set(manifest.members) == {
        "cubes.jsonl",
        *(
            f"blobs/{cubes[k].payload.blob.sha256}.safetensors"
            for k in ("activation", "parametric")
        ),
    }

    target = open_vault("client" if vault.driver.__class__.__name__ == "EdgeDriver" else "edge")
    report = import_bundle(target, ALICE, path, model_fingerprint="m1")
    assert sorted(report.imported) == sorted(c.id for c in cubes.values())
    assert (report.versions_written, report.blobs_written, report.dormant) == (10, 2, [])
    assert report.signature == "none" and "not signed" in report.warnings[0]

    for query in QUERIES:
        for mode in ("dense", "lexical"):
            assert hits(target, ALICE, query, mode) == hits(vault, ALICE, query, mode), query
        fused = [vault.search(ALICE, query, limit=20), target.search(ALICE, query, limit=20)]
        assert fused[0][0].cube == fused[1][0].cube.replace(  # the same best hit
            access=fused[0][0].cube.access, provenance=fused[0][0].cube.provenance
        )
        assert {h.cube.id for h in fused[0]} == {h.cube.id for h in fused[1]}
    first = cubes[FACTS[0][1]]
    before, after = vault.history(ALICE, first.id), target.history(ALICE, first.id)
    assert [(c.version, c.text, c.priority) for c in after] == [
        (c.version, c.text, c.priority) for c in before
    ]
    assert [c.superseded_by is None for c in after] == [False, False, True]
    assert after[1].replaces == after[0].version_id
    act = target.get(ALICE, cubes["activation"].id)
    assert act.status is LifecycleStatus.ACTIVE
    assert target.blobs.get_bytes(act.payload.blob) == vault.blobs.get_bytes(act.payload.blob)
    prov = after[-1].provenance
    assert prov.origin == "import" and f"bundle:{manifest.bundle_id}" in prov.source_ids
    assert f"cube:{first.id}" in prov.source_ids
    assert "original owner alice" in (prov.note or "") and "from lab" in (prov.note or "")


def test_without_history_the_head_becomes_version_1(open_vault, tmp_path) -> None:
    src, dst = open_vault("edge"), open_vault("edge")
    cubes = seed(src)
    path = tmp_path / "heads.zip"
    export_bundle(src, ALICE, path, namespace=("kb", "wine"))
    imported = import_bundle(dst, BOB, path).imported
    first = cubes[FACTS[0][1]]
    assert len(imported) == 3
    [head] = dst.history(BOB, first.id)
    assert (head.version, head.text, head.priority) == (
        1,
        "Chablis is a dry, unoaked white wine from Chardonnay",
        0.9,
    )
    assert "version 3" in (head.provenance.note or "")


def test_export_filters_and_respects_read_access(open_vault, tmp_path) -> None:
    src = open_vault("edge")
    cubes = seed(src)
    old = src.add(
        ALICE,
        "An old fact from 2024",
        namespace=("kb", "old"),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    src.delete(ALICE, cubes[FACTS[4][1]].id)
    src.add(BOB, "Bob's private wine note", namespace=("kb", "wine"))
    shared = src.add(CAROL, "Carol's shared cheese note", namespace=("shared",))
    src.grant(CAROL, ("shared",), "alice")

    def exported(**kw: Any) -> list[str]:
        path = tmp_path / "f.zip"
        export_bundle(src, ALICE, path, overwrite=True, **kw)
        return sorted(c.text for c in read_bundle(path).cubes)

    assert "Bob's private wine note" not in exported()  # what alice may read, no more
    assert "Carol's shared cheese note" in exported(namespace=("shared",))
    assert exported(filter=CubeFilter(tags=("red", "sweet"))) == [FACTS[1][1], FACTS[2][1]]
    assert exported(filter=CubeFilter(kinds=(MemoryKind.PARAMETRIC,))) == [
        "parametric memory of wine pairings"
    ]
    assert exported(filter=CubeFilter(created_before=datetime(2025, 1, 1, tzinfo=UTC))) == [
        old.text
    ]
    assert FACTS[4][1] not in exported(namespace=("kb", "cheese"))  # deleted: not by default
    assert FACTS[4][1] in exported(namespace=("kb", "cheese"), filter=EVERYTHING)
    assert exported(filter=CubeFilter(owner="carol")) == [shared.text]
    with pytest.raises(InvalidInputError, match="exists"):
        export_bundle(src, ALICE, tmp_path / "f.zip")


def test_remap_namespaces_and_owner(open_vault, tmp_path) -> None:
    src, dst = open_vault("edge"), open_vault("client")
    cubes = seed(src)
    src.grant(ALICE, ("kb",), "bob")  # a grant in the source means nothing in the target
    path = tmp_path / "kb.zip"
    export_bundle(src, ALICE, path, filter=EVERYTHING)
    remap = {("kb",): ("agents", "bob", "kb"), ("kb", "cheese"): ("dairy",)}
    report = import_bundle(dst, BOB, path, remap=remap, model_fingerprint="m1")
    assert len(report.imported) == 8
    wine = dst.get(BOB, cubes[FACTS[1][1]].id)
    cheese = dst.get(BOB, cubes[FACTS[3][1]].id)
    note = dst.get(BOB, cubes[FACTS[5][1]].id)
    assert wine.namespace == ("agents", "bob", "kb", "wine")
    assert cheese.namespace == ("dairy",)  # the longest matching prefix wins
    assert note.namespace == ("notes",)  # no rule matches: unchanged
    assert {wine.access.owner, cheese.access.owner} == {"bob"}
    assert dst.count(BOB, namespace=("agents", "bob", "kb")) == 5
    for who in (ALICE, CAROL):
        assert dst.count(who) == 0  # the importer owns them; nobody else was given access

    # () as the source prefixes every namespace; a result deeper than 16 labels is refused
    assert import_bundle(open_vault("client"), BOB, path, remap={(): ("x",)}, dry_run=True).imported
    deep = {(): tuple(f"l{i}" for i in range(15))}
    fresh = open_vault("client")
    with pytest.raises(InvalidInputError, match="namespace"):
        import_bundle(fresh, BOB, path, remap=deep)
    assert nothing_written(fresh)


def test_id_clash_skip_or_replace(open_vault, tmp_path) -> None:
    src, dst = open_vault("edge"), open_vault("edge")
    cubes = seed(src)
    path = tmp_path / "kb.zip"
    export_bundle(src, ALICE, path, namespace=("kb", "wine"), history=True)
    first = cubes[FACTS[0][1]].id
    assert len(import_bundle(dst, BOB, path).imported) == 3
    dst.update(BOB, first, text="Bob's own take on Chablis")

    report = import_bundle(dst, BOB, path)  # skip is the default
    assert report.imported == [] and len(report.skipped) == 3 and report.versions_written == 0
    assert report.skip_reasons == dict.fromkeys(report.skipped, SKIPPED_IN_USE)
    assert dst.get(BOB, first).text == "Bob's own take on Chablis"

    report = import_bundle(dst, BOB, path, on_conflict="replace")
    assert len(report.replaced) == 3 and report.skipped == []
    versions = dst.history(BOB, first)
    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    assert versions[-1].text == "Chablis is a dry, unoaked white wine from Chardonnay"
    assert dst.rollback(BOB, first, 4).text == "Bob's own take on Chablis"  # undo is possible

    # an own cube that has expired is not revived by a replace
    expired = dst.update(BOB, first, expires_at=datetime(2001, 1, 1, tzinfo=UTC))
    report = import_bundle(dst, BOB, path, on_conflict="replace")
    assert report.skip_reasons == {first: SKIPPED_EXPIRED} and len(report.replaced) == 2
    assert dst.history(BOB, first)[-1] == expired


def test_others_cubes_with_the_same_ids_are_not_in_the_way(open_vault, tmp_path) -> None:
    """Cube ids are scoped per owner (#17 item 10): carol's cubes with the bundle's ids neither
    stop bob's import nor change under it, whether bob may read them or not, and every
    report, dry or not, skip or replace, is the one a vault without them gives."""
    src = open_vault("edge")
    cubes = seed(src)
    path = tmp_path / "kb.zip"
    export_bundle(src, ALICE, path, namespace=("kb", "wine"), history=True)
    first = cubes[FACTS[0][1]].id

    def report(vault: MemVault, **kw: Any) -> dict[str, Any]:
        got = import_bundle(vault, BOB, path, **kw).model_dump()
        return {k: got[k] for k in ("imported", "replaced", "skipped", "versions_written")}

    fresh = report(open_vault("client"))  # nobody holds the ids
    assert len(fresh["imported"]) == 3 and fresh["versions_written"] == 5
    for readable in (False, True):
        dst = open_vault("client")
        import_bundle(dst, CAROL, path)  # carol holds every id of the bundle
        if readable:
            dst.grant(CAROL, ("kb", "wine"), "bob", "write")
            assert dst.get(BOB, first).access.owner == "carol"
        for policy, dry in (("skip", True), ("replace", True), ("replace", False)):
            assert report(dst, on_conflict=policy, dry_run=dry) == fresh, (readable, policy)
        assert [v.version for v in dst.history(CAROL, first)] == [1, 2, 3]
        assert dst.get(BOB, first).access.owner == "bob"  # his own, now that he holds one
        owners = [c.access.owner for c in dst.list(ADMIN, filter=EVERYTHING)]
        assert sorted(owners) == ["bob"] * 3 + ["carol"] * 3


def test_models_that_do_not_match_import_dormant(open_vault, tmp_path) -> None:
    src = open_vault("edge")
    cubes = seed(src)
    path = tmp_path / "kb.zip"
    export_bundle(src, ALICE, path, namespace=("kb",))
    blobbed = {cubes["activation"].id, cubes["parametric"].id}
    for fingerprint in ("m2", None):
        dst = open_vault("client")
        report = import_bundle(dst, BOB, path, model_fingerprint=fingerprint)
        assert set(report.dormant) == blobbed and len(report.imported) == 7
        assert sum("dormant" in w for w in report.warnings) == 2
        for cid in blobbed:
            cube = dst.get(BOB, cid)
            assert cube.status is LifecycleStatus.ARCHIVED and DORMANT_TAG in cube.tags
        assert dst.count(BOB) == 5  # the plaintext is active as it was
        assert dst.count(BOB, filter=CubeFilter(tags=(DORMANT_TAG,), statuses=None)) == 2
    dst = open_vault("client")
    report = import_bundle(dst, BOB, path, model_fingerprint="m1")
    assert report.dormant == [] and dst.count(BOB) == 7


# -- signing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source_bundle(tmp_path_factory, embeddings) -> bytes:
    """One valid, unsigned bundle with history, plaintext and blobs (for hostile variants)."""
    root = tmp_path_factory.mktemp("bundle")
    with MemVault.open(root / "v", embeddings=embeddings) as src:
        seed(src)
        export_bundle(src, ALICE, root / "b.zip", filter=EVERYTHING, history=True)
    return (root / "b.zip").read_bytes()


@pytest.fixture(scope="module")
def target(embeddings) -> Iterator[MemVault]:
    """A vault no hostile bundle may ever write to."""
    v = MemVault.open(":memory:", embeddings=embeddings)
    yield v
    assert nothing_written(v)
    v.close()


def test_signing_with_hmac_and_ed25519(open_vault, tmp_path, target) -> None:
    src = open_vault("edge")
    seed(src)
    ed_key, other_ed = generate_ed25519_key(), generate_ed25519_key()
    hmac_path, ed_path = tmp_path / "hmac.zip", tmp_path / "ed.zip"
    export_bundle(src, ALICE, hmac_path, namespace=("kb",), sign_with=HMAC_KEY)
    export_bundle(src, ALICE, ed_path, namespace=("kb",), sign_with=ed_key)

    ok = import_bundle(open_vault("client"), BOB, hmac_path, verify_with=HMAC_KEY, dry_run=True)
    assert ok.signature == "verified" and ok.signer and ok.signer.startswith("hmac:")
    ok = import_bundle(open_vault("client"), BOB, ed_path, verify_with=ed_key.public_key())
    assert ok.signature == "verified" and len(ok.imported) == 7
    assert not any("signed" in w for w in ok.warnings)
    unverified = read_bundle(ed_path)
    assert (unverified.signature, unverified.signer) == ("unverified", ok.signer)

    bad = [
        (hmac_path, b"an entirely different secret key"),
        (ed_path, other_ed.public_key()),
        (ed_path, HMAC_KEY),  # wrong kind of key
        (hmac_path, ed_key.public_key()),
    ]
    for path, key in bad:
        with pytest.raises(BundleSignatureError):
            import_bundle(target, BOB, path, verify_with=key)
    unsigned = tmp_path / "plain.zip"
    export_bundle(src, ALICE, unsigned, namespace=("kb",))
    with pytest.raises(BundleSignatureError, match="not signed"):
        import_bundle(target, BOB, unsigned, verify_with=HMAC_KEY)
    with pytest.raises(BundleSignatureError, match="required"):
        import_bundle(target, BOB, ed_path, require_signature=True)
    with pytest.raises(InvalidInputError, match="at least 16"):
        export_bundle(src, ALICE, tmp_path / "weak.zip", sign_with=b"short")
    assert not (tmp_path / "weak.zip").exists()

    # a manifest changed after signing (and made self-consistent) fails verification
    members = unzip(hmac_path.read_bytes())
    manifest = json.loads(members["manifest.json"])
    manifest["title"] = "trust me"
    members["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(BundleSignatureError, match="does not verify"):
        import_bundle(target, BOB, rezip(members), verify_with=HMAC_KEY)


# -- hostile bundles -----------------------------------------------------------------------


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(
    members: dict[str, bytes],
    extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),  # type: ignore[assignment]
    *,
    method: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buf, "w", compression=method) as zf:
            for name, data in [*members.items(), *extra]:
                zf.writestr(name, data)
    return buf.getvalue()


def relist(members: dict[str, bytes], **manifest_changes: Any) -> dict[str, bytes]:
    """Members with the manifest's checksums recomputed (so only the intended flaw remains)."""
    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for n, d in members.items()
        if n not in ("manifest.json", "signature.json")
    }
    manifest.update(manifest_changes)
    return {**members, "manifest.json": json.dumps(manifest).encode()}


def info(name: str, mode: int) -> zipfile.ZipInfo:
    i = zipfile.ZipInfo(name)
    i.create_system = 3
    i.external_attr = mode << 16
    return i


def swap_blob(members: dict[str, bytes], new: bytes) -> dict[str, bytes]:
    """Replace one blob with ``new``, fixing the cubes that reference it and the manifest."""
    old = next(n for n in members if n.startswith("blobs/"))
    digest, new_digest = old[6:70], hashlib.sha256(new).hexdigest()
    lines = []
    for line in members["cubes.jsonl"].splitlines():
        doc = json.loads(line)
        if doc["payload"].get("blob", {}).get("sha256") == digest:
            doc["payload"]["blob"] |= {"sha256": new_digest, "size": len(new)}
        lines.append(json.dumps(doc).encode())
    out = {k: v for k, v in members.items() if k != old}
    out |= {"cubes.jsonl": b"\n".join(lines) + b"\n", f"blobs/{new_digest}.safetensors": new}
    return relist(out)


def first_line_changed(members: dict[str, bytes], line: bytes) -> dict[str, bytes]:
    rest = members["cubes.jsonl"].split(b"\n", 1)[1]
    return relist({**members, "cubes.jsonl": line + b"\n" + rest})


def bomb(members: dict[str, bytes]) -> bytes:
    return rezip(relist({**members, "cubes.jsonl": members["cubes.jsonl"] + b" " * 8 * 2**20}))


HOSTILE: dict[str, tuple[Callable[[dict[str, bytes]], bytes], type[BundleError], str]] = {
    "path traversal": (
        lambda m: rezip(m, [("../../evil.sh", b"x")]),
        BundleUnsafeError,
        "traversal",
    ),
    "nested traversal": (
        lambda m: rezip(m, [("blobs/../../x", b"x")]),
        BundleUnsafeError,
        "traversal",
    ),
    "absolute path": (
        lambda m: rezip(m, [("/etc/cron.d/evil", b"x")]),
        BundleUnsafeError,
        "absolute",
    ),
    "windows path": (lambda m: rezip(m, [("C:\\evil.bat", b"x")]), BundleUnsafeError, "absolute"),
    "symlink": (
        lambda m: rezip(m, [(info("blobs/link", stat.S_IFLNK | 0o777), b"/etc/passwd")]),
        BundleUnsafeError,
        "symbolic link",
    ),
    "directory": (lambda m: rezip(m, [("blobs/", b"")]), BundleUnsafeError, "directory"),
    "fifo": (
        lambda m: rezip(m, [(info("cubes2", stat.S_IFIFO | 0o644), b"")]),
        BundleUnsafeError,
        "regular file",
    ),
    "unknown member": (lambda m: rezip(m, [("README.txt", b"hi")]), BundleUnsafeError, "unknown"),
    "duplicate member": (
        lambda m: rezip(m, [("cubes.jsonl", b"{}\n")]),
        BundleUnsafeError,
        "more than once",
    ),
    "unlisted blob": (
        lambda m: rezip(m, [("blobs/" + "a" * 64 + ".safetensors", b"x")]),
        BundleUnsafeError,
        "not listed",
    ),
    "unreferenced blob": (
        lambda m: rezip(
            relist({**m, "blobs/" + hashlib.sha256(b"xy").hexdigest() + ".safetensors": b"xy"})
        ),
        BundleUnsafeError,
        "no cube references",
    ),
    "zip bomb (ratio)": (bomb, BundleTooLargeError, "zip bomb"),
    "wrong checksum": (
        lambda m: rezip({**m, "cubes.jsonl": m["cubes.jsonl"].replace(b"Barolo", b"Barola")}),
        BundleIntegrityError,
        "sha256",
    ),
    "missing member": (
        lambda m: rezip({k: v for k, v in m.items() if not k.startswith("blobs/")}),
        BundleIntegrityError,
        "missing",
    ),
    "missing blob": (
        lambda m: rezip(relist({k: v for k, v in m.items() if not k.startswith("blobs/")})),
        BundleIntegrityError,
        "not bundled",
    ),
    "no manifest": (
        lambda m: rezip({k: v for k, v in m.items() if k != "manifest.json"}),
        BundleFormatError,
        "no manifest",
    ),
    "manifest not json": (
        lambda m: rezip({**m, "manifest.json": b"{not json"}),
        BundleFormatError,
        "not valid JSON",
    ),
    "manifest a list": (
        lambda m: rezip({**m, "manifest.json": b"[]"}),
        BundleFormatError,
        "object",
    ),
    "manifest duplicate keys": (
        lambda m: rezip({**m, "manifest.json": m["manifest.json"][:-1] + b', "title": "x"}'}),
        BundleFormatError,
        "duplicate key",
    ),
    "manifest deeply nested": (
        lambda m: rezip({**m, "manifest.json": b"[" * 100_000 + b"]" * 100_000}),
        BundleFormatError,
        "JSON",
    ),
    "future format version": (
        lambda m: rezip(relist(m, format_version=2)),
        BundleFormatError,
        "version 2",
    ),
    "not our format": (lambda m: rezip(relist(m, format="other")), BundleFormatError, "format"),
    "manifest extra field": (
        lambda m: rezip(relist(m, run="rm -rf /")),
        BundleFormatError,
        "manifest",
    ),
    "manifest counts lie": (lambda m: rezip(relist(m, cube_count=99)), BundleFormatError, "counts"),
    "cube line not json": (
        lambda m: rezip(first_line_changed(m, b"{oops")),
        BundleFormatError,
        "line 1",
    ),
    "cube line invalid": (
        lambda m: rezip(first_line_changed(m, b'{"namespace": [], "payload": {"kind": "x"}}')),
        BundleFormatError,
        "line 1",
    ),
    "pickle blob": (
        lambda m: rezip(swap_blob(m, b"\x80\x04\x95cos\nsystem\n(S'echo pwned'\ntR.")),
        BundleFormatError,
        "safetensors",
    ),
    "history with a gap": (
        lambda m: rezip(
            relist(
                {**m, "cubes.jsonl": m["cubes.jsonl"].replace(b'"version":2,', b'"version":7,', 1)}
            )
        ),
        BundleFormatError,
        "not 1..n",
    ),
    "encrypted member": (
        lambda m: _encrypted(m),
        BundleUnsafeError,
        "encrypted",
    ),
    "not a zip": (lambda m: b"PK\x03\x04 this is no zip at all" * 10, BundleFormatError, "zip"),
    "a tarball": (lambda m: _tarball(m), BundleFormatError, "zip"),
}


def _encrypted(members: dict[str, bytes]) -> bytes:
    """The bundle with the 'encrypted' flag set on cubes.jsonl in the central directory."""
    data = bytearray(rezip(members))
    at = data.index(b"cubes.jsonl", data.index(b"PK\x01\x02")) - 46  # its directory entry
    assert data[at : at + 4] == b"PK\x01\x02"
    data[at + 8] |= 0x01
    return bytes(data)


def _tarball(members: dict[str, bytes]) -> bytes:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_bundle_is_rejected_and_nothing_written(case, source_bundle, target, tmp_path):
    make, error, message = HOSTILE[case]
    data = make(unzip(source_bundle))
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    with pytest.raises(error, match=message):
        import_bundle(target, BOB, path)
    with pytest.raises(error):
        import_bundle(target, BOB, data, dry_run=True)  # bytes work the same
    assert nothing_written(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.zip"]  # nothing extracted


def test_corrupt_member_fails_its_crc(source_bundle, target) -> None:
    members = unzip(source_bundle)
    data = bytearray(rezip(members, method=zipfile.ZIP_STORED))
    at = bytes(data).index(b"Barolo")
    data[at] ^= 0x01
    with pytest.raises(BundleIntegrityError, match="corrupt"):
        import_bundle(target, BOB, bytes(data))


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (BundleLimits(max_bundle_bytes=1000), "limit is 1000"),
        (BundleLimits(max_members=3), "members; the limit is 3"),
        (BundleLimits(max_manifest_bytes=100), "manifest.json is"),
        (BundleLimits(max_total_bytes=2000), "expands to more than"),
        (BundleLimits(max_blob_bytes=10), "blobs/"),
        (BundleLimits(max_cubes=2), "the limit is 2"),
        (BundleLimits(max_line_bytes=100), "line 1 exceeds"),
    ],
)
def test_size_and_count_limits(source_bundle, target, limits, message) -> None:
    with pytest.raises(BundleTooLargeError, match=message):
        import_bundle(target, BOB, source_bundle, limits=limits)


def test_overlapping_members_are_refused(target) -> None:
    # two central-directory entries share one member's data: a "non-recursive" zip bomb
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cubes.jsonl", b"x" * 5000)
        zf.writestr("manifest.json", b"{}")
    data = bytearray(buf.getvalue())
    first = data.index(b"PK\x01\x02")
    second = data.index(b"PK\x01\x02", first + 4)
    data[second + 16 : second + 28] = data[first + 16 : first + 28]  # crc and sizes
    data[second + 42 : second + 46] = data[first + 42 : first + 46]  # local header offset
    with pytest.raises(BundleUnsafeError, match="overlap"):
        import_bundle(target, BOB, bytes(data))


def test_bad_sources_and_keys_are_input_errors(source_bundle, target, tmp_path) -> None:
    import os

    os.mkfifo(tmp_path / "fifo")
    for path in (tmp_path / "missing.zip", tmp_path, tmp_path / "fifo"):
        with pytest.raises(InvalidInputError) as e:
            import_bundle(target, BOB, path)
        assert not isinstance(e.value, BundleError)  # the caller's mistake, not the bundle's
    key = generate_ed25519_key()
    with pytest.raises(InvalidInputError, match="private key"):
        export_bundle(target, ADMIN, tmp_path / "x.zip", sign_with=key.public_key())
    with pytest.raises(InvalidInputError, match="16"):
        read_bundle(source_bundle, verify_with=b"short")
    bundle = read_bundle(source_bundle)  # a verified Bundle object imports too
    assert import_bundle(target, BOB, bundle, dry_run=True).versions_written == 10
    with pytest.raises(BundleSignatureError):
        import_bundle(target, BOB, bundle, require_signature=True)
    with pytest.raises(InvalidInputError, match="on_conflict"):
        import_bundle(target, BOB, bundle, on_conflict="merge")  # type: ignore[arg-type]


# -- the CLI --------------------------------------------------------------------------------


def test_cli_export_import_round_trip(capsys, tmp_path, embeddings) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    with MemVault.open(src, embeddings=embeddings) as v:
        seed(v)
    key = generate_ed25519_key()
    (tmp_path / "key.pem").write_bytes(ed25519_pem(key))
    (tmp_path / "pub.pem").write_bytes(ed25519_pem(key.public_key()))
    (tmp_path / "wrong.pem").write_bytes(ed25519_pem(generate_ed25519_key().public_key()))
    bundle = tmp_path / "kb.memos.zip"

    def cli(vault: Path, who: str, *args: str) -> tuple[int, str, str]:
        code = main(["--vault", str(vault), "--principal", who, *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = cli(
        src,
        "alice",
        "export",
        str(bundle),
        "--namespace",
        "kb",
        "--history",
        "--ed25519-key",
        str(tmp_path / "key.pem"),
        "--title",
        "Wine basics",
    )
    assert code == 0, err
    assert (
        out.startswith("exported 7 memories (5 plaintext, 1 activation, 1 parametric; 9 versions)")
        and "signed ed25519:" in out
    )
    code, _, err = cli(src, "alice", "export", str(bundle))
    assert code == 2 and "--force" in err

    code, out, err = cli(
        dst, "bob", "import", str(bundle), "--ed25519-key", str(tmp_path / "wrong.pem")
    )
    assert code == 2 and "does not verify" in err and not dst.exists()
    code, out, err = cli(
        dst,
        "bob",
        "import",
        str(bundle),
        "--remap",
        "kb=bob/kb",
        "--ed25519-key",
        str(tmp_path / "pub.pem"),
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["signature"] == "verified" and len(report["imported"]) == 7
    assert len(report["dormant"]) == 2  # no --model-fingerprint given
    code, out, _ = cli(dst, "bob", "search", "Nebbiolo", "--json")
    [hit] = [h for h in json.loads(out) if "Nebbiolo" in h["cube"]["payload"]["text"]]
    assert hit["cube"]["namespace"] == ["bob", "kb", "wine"]
    assert hit["cube"]["access"]["owner"] == "bob"
    code, out, err = cli(dst, "bob", "import", str(bundle), "--dry-run")
    assert code == 0 and out.startswith("would import 0 memories") and "7 skipped" in out
    skipped = [line for line in out.splitlines() if line.startswith("skipped ")]
    assert set(skipped) == {f"skipped {cid}: {SKIPPED_IN_USE}" for cid in report["imported"]}
    assert "warning: the bundle is signed by ed25519:" in err
    code, out, _ = cli(dst, "bob", "import", str(bundle), "--dry-run", "--json")
    assert json.loads(out)["skip_reasons"] == dict.fromkeys(report["imported"], SKIPPED_IN_USE)
    code, _, err = cli(dst, "bob", "import", str(bundle), "--remap", "kb")
    assert code == 2 and "bad remap" in err


def test_cli_bad_model_fingerprint_is_a_usage_error(capsys, tmp_path, source_bundle) -> None:
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(source_bundle)
    vault = tmp_path / "new vault"
    for bad in ("", "fp\x07"):
        code = main(
            ["--vault", str(vault), "--principal", "bob", "import", str(bundle)]
            + ["--model-fingerprint", bad]
        )
        out, err = capsys.readouterr()
        assert (code, out) == (2, "")
        assert err.startswith("error: the model fingerprint must be") and len(err.splitlines()) == 1
        assert "memos-lc fingerprint" in err
    assert not vault.exists()  # refused before the vault was created
    with MemVault.open(":memory:") as v, pytest.raises(InvalidInputError, match="fingerprint"):
        import_bundle(v, BOB, source_bundle, model_fingerprint="")


def test_cli_fingerprint_prints_the_models(capsys) -> None:
    from memos_lc.models import load_causal_lm

    assert main(["fingerprint"]) == 0
    printed = capsys.readouterr().out
    assert printed == f"{load_causal_lm().fingerprint}\n"
    assert printed.startswith("smollm2-135m-instruct.q4_1:")
    assert main(["--json", "fingerprint"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "model": "bundled:smollm2-135m-instruct",
        "fingerprint": printed.strip(),
    }
    assert main(["fingerprint", " "]) == 2
    assert capsys.readouterr().err.startswith("error: model must not be empty")


@pytest.mark.parametrize("history", [False, True])
def test_a_compiled_cube_arrives_current_with_its_sources(open_vault, tmp_path, history) -> None:
    """A KV cube built from the head of a cube the bundle carries is built from that cube as
    imported (the importer's, renumbered without history): not stale on arrival. One built
    from a source the bundle leaves out is stale: nothing can vouch for it."""
    from memos_lc.cube import Provenance, SourceRef
    from memos_lc.lifecycle import stale_derived

    src, dst = open_vault("edge"), open_vault("edge")
    cubes = seed(src)
    first = src.get(ALICE, cubes[FACTS[0][1]].id)  # at version 3
    assert first.version == 3
    outside = src.add(ALICE, "Alice keeps the cellar at 12 degrees", namespace=("elsewhere",))

    def compiled(*sources: MemCube) -> MemCube:
        cube = blob_cube(src, "activation", "m1", " ".join(s.text for s in sources))
        prov = Provenance.built_from(sources, origin="activation")
        return src.put(ALICE, cube.replace(provenance=prov))[0]

    kv = compiled(first)
    orphan = compiled(first, outside)
    assert stale_derived(src, ALICE, [kv, orphan]) == {}
    path = tmp_path / "compiled.zip"
    export_bundle(src, ALICE, path, namespace=("kb",), history=history)
    import_bundle(dst, BOB, path)
    arrived = dst.get(BOB, kv.id)
    [ref] = arrived.provenance.derived_from_versions
    assert ref == SourceRef(id=first.id, version=3 if history else 1, owner=BOB.id)
    stale = stale_derived(dst, BOB, [arrived, dst.get(BOB, orphan.id)])
    assert list(stale) == [(BOB.id, orphan.id)]
    assert stale[(BOB.id, orphan.id)].change == "missing"
