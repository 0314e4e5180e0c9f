"""MemStore: portable MemCube bundles, exported from one vault and imported into another.

A bundle is one zip file:

.. code-block:: text

    manifest.json                BundleManifest: format and version, bundle id, creator, time,
                                 cube/version counts, kinds, model fingerprints, the selection
                                 it was exported with, and the sha256 and size of every member
    signature.json               optional: HMAC-SHA256 or Ed25519 over manifest.json
    cubes.jsonl                  one MemCube header (JSON) per line; every version with history
    blobs/<sha256>.safetensors   the KV caches and LoRA adapters the cubes reference

Because the manifest records the digest of every other member, a signature over the manifest
covers the whole bundle. Reading a bundle never extracts it: members are read into memory under
size, count and compression-ratio limits (:class:`BundleLimits`), names are checked (no absolute
paths, ``..``, links, directories, duplicates or unknown members), checksums and the signature are
verified, JSON is parsed without code execution and blobs are checked as safetensors, all
*before* anything is written. A bundle that fails any check raises a
:class:`~memos_lc.errors.BundleError` subclass and changes nothing.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.bundles import export_bundle, import_bundle

        key = b"a shared secret of 16+ bytes"
        with MemVault.open("/tmp/expert") as src:
            export_bundle(src, Principal(id="expert"), "wine.memos.zip",
                          namespace=("kb", "wine"), sign_with=key)
        with MemVault.open("/tmp/agent") as dst:
            report = import_bundle(dst, Principal(id="agent"), "wine.memos.zip",
                                   verify_with=key, remap={("kb",): ("agent", "kb")})
            print(report.imported, report.warnings)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from memos_lc.cube import (
    CHECKPOINT_NAMESPACE,
    CONTENT_FIELDS,
    MAX_TAGS,
    ActivationPayload,
    LifecycleStatus,
    MemCube,
    MemoryKind,
    MemoryType,
    ParametricPayload,
    Sha256,
    SourceRef,
    utcnow,
    validate_namespace,
)
from memos_lc.errors import (
    AmbiguousCubeError,
    BundleFormatError,
    BundleIntegrityError,
    BundleSignatureError,
    BundleTooLargeError,
    BundleUnsafeError,
    ConflictError,
    CubeNotFoundError,
    InvalidCubeError,
    InvalidInputError,
)
from memos_lc.governance import Principal, as_principal
from memos_lc.vault import CubeFilter, MemVault
from memos_lc.vault.blobs import check_safetensors

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    SigningKey = bytes | Ed25519PrivateKey
    VerifyKey = bytes | Ed25519PublicKey | Ed25519PrivateKey

FORMAT = "memos-lc-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
CUBES = "cubes.jsonl"
DORMANT_TAG = "dormant"
MIN_HMAC_KEY_BYTES = 16
MAX_SIGNATURE_BYTES = 4096
HMAC_SHA256 = "hmac-sha256"
ED25519 = "ed25519"

_MiB = 1024**2
_BLOB = re.compile(r"^blobs/([0-9a-f]{64})\.safetensors$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SIGNED_CONTEXT = b"memos-lc bundle signature v1\n"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same content, the same bytes
_EXPORT_PAGE = 1000
_WRITE_CHUNK = 256  # cubes per put_history call

Source = str | os.PathLike[str] | bytes
ConflictPolicy = Literal["skip", "replace"]
SignatureStatus = Literal["none", "unverified", "verified"]


class BundleLimits(BaseModel):
    """What a bundle may contain before it is rejected as too large (zip bombs included).

    Sizes are bytes. Members are read into memory, so ``max_total_bytes`` bounds the memory an
    import uses. ``max_ratio`` bounds uncompressed/compressed size of every member larger than
    ``ratio_floor_bytes``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bundle_bytes: int = Field(default=1024 * _MiB, ge=1)
    max_total_bytes: int = Field(default=1024 * _MiB, ge=1)
    max_members: int = Field(default=100_000, ge=2)
    max_manifest_bytes: int = Field(default=16 * _MiB, ge=1)
    max_cubes_bytes: int = Field(default=512 * _MiB, ge=1)
    max_line_bytes: int = Field(default=8 * _MiB, ge=1)
    max_cubes: int = Field(default=1_000_000, ge=0)
    max_blob_bytes: int = Field(default=512 * _MiB, ge=1)
    max_ratio: float = Field(default=100.0, gt=1.0)
    ratio_floor_bytes: int = Field(default=1 * _MiB, ge=0)


class MemberInfo(BaseModel):
    """The digest and size of one bundle member, as the manifest records them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: Sha256
    size: int = Field(ge=0)


def _label(v: str | None, what: str, max_len: int = 1024) -> str | None:
    if v is not None and (not v or len(v) > max_len or _CONTROL.search(v)):
        raise ValueError(f"{what} must be 1-{max_len} chars without control characters")
    return v


class BundleManifest(BaseModel):
    """``manifest.json``: what a bundle holds and the checksum of every member."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["memos-lc-bundle"] = FORMAT
    format_version: Literal[1] = FORMAT_VERSION
    bundle_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    title: str | None = None
    creator: str
    """The principal that exported the bundle."""
    source: str | None = None
    """A label for the exporting vault, when the exporter gave one."""
    tool: str = "memos-lc"
    created_at: AwareDatetime = Field(default_factory=utcnow)
    history: bool = False
    """True when every version of each cube is included, not only the head."""
    cube_count: int = Field(ge=0)
    version_count: int = Field(ge=0)
    kinds: dict[MemoryKind, int] = Field(default_factory=dict)
    """Cubes per payload kind (head versions)."""
    model_fingerprints: tuple[str, ...] = ()
    """Models the activation / parametric cubes were built for (sorted, unique)."""
    selection: dict[str, Any] = Field(default_factory=dict)
    """The :class:`~memos_lc.vault.CubeFilter` the cubes were exported with."""
    members: dict[str, MemberInfo]

    @field_validator("bundle_id", "creator", "tool")
    @classmethod
    def _required_labels(cls, v: str) -> str:
        return _label(v, "bundle field", 256)  # type: ignore[return-value]

    @field_validator("title", "source")
    @classmethod
    def _labels(cls, v: str | None) -> str | None:
        return _label(v, "bundle title/source")

    @field_validator("model_fingerprints")
    @classmethod
    def _fingerprints(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for fp in v:
            _label(fp, "model fingerprint")
        return v

    @field_validator("members")
    @classmethod
    def _member_names(cls, v: dict[str, MemberInfo]) -> dict[str, MemberInfo]:
        for name in v:
            if name != CUBES and not _BLOB.match(name):
                raise ValueError(f"manifest lists an unknown member {name[:100]!r}")
        if CUBES not in v:
            raise ValueError(f"manifest does not list {CUBES}")
        return v


class BundleSignature(BaseModel):
    """``signature.json``: a signature over ``manifest.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: Literal["hmac-sha256", "ed25519"]
    key_id: str
    """A fingerprint of the key (sha256 prefix of the public key, or of the HMAC key)."""
    public_key: str | None = None
    """Ed25519 only: the raw public key, base64. Informational; trust the key you pass."""
    signature: str
    """Base64."""

    @field_validator("key_id")
    @classmethod
    def _key_id(cls, v: str) -> str:
        return _label(v, "key_id", 128)  # type: ignore[return-value]


@dataclass(frozen=True)
class Bundle:
    """A bundle read into memory and verified: checksums, limits, names, blobs, signature."""

    manifest: BundleManifest
    cubes: list[MemCube]
    """Every cube line, in file order."""
    blobs: dict[str, bytes]
    """Blob bytes by sha256."""
    signature: SignatureStatus = "none"
    signer: str | None = None
    """The key id of a verified signature, or of an unverified one."""
    members: dict[str, int] = field(default_factory=dict)
    """Member sizes, for reporting."""


class ImportReport(BaseModel):
    """What :func:`import_bundle` did (or, with ``dry_run``, would do)."""

    model_config = ConfigDict(extra="forbid")

    bundle_id: str
    title: str | None = None
    creator: str
    signature: SignatureStatus
    signer: str | None = None
    dry_run: bool = False
    imported: list[str] = Field(default_factory=list)
    """Ids of cubes newly written (with all their versions, when the bundle has history)."""
    replaced: list[str] = Field(default_factory=list)
    """Ids of existing cubes that got the bundle's content as a new head version."""
    skipped: list[str] = Field(default_factory=list)
    """Ids of the importer's own cubes that were left as they were."""
    skip_reasons: dict[str, str] = Field(default_factory=dict)
    """Why each skipped id was skipped (one of the ``SKIPPED_*`` texts). Cube ids are scoped
    per owner, so only the importer's own cubes are ever in the way: the report says nothing
    about other principals' cubes."""
    dormant: list[str] = Field(default_factory=list)
    """Activation / parametric cubes imported archived (tag ``dormant``): their model
    fingerprint does not match the target model."""
    versions_written: int = 0
    """Versions written (with ``dry_run``: that would be written)."""
    blobs_written: int = 0
    warnings: list[str] = Field(default_factory=list)

    def skip(self, cube_id: str, reason: str) -> None:
        """Record ``cube_id`` as skipped, for ``reason``."""
        self.skipped.append(cube_id)
        self.skip_reasons[cube_id] = reason


SKIPPED_IN_USE = "you already hold a cube with this id (on_conflict='skip' keeps it)"
SKIPPED_EXPIRED = "your cube with this id has expired or is gone (replace does not revive it)"
SKIPPED_TAKEN = "a cube of yours with this id was written while the bundle was imported"


def check_model_fingerprint(fingerprint: str | None) -> str | None:
    """``fingerprint`` (as :func:`import_bundle` takes it) or :class:`InvalidInputError`: a
    model fingerprint is 1-1024 characters without control characters, or ``None``."""
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise InvalidInputError(
            f"model_fingerprint must be a string, got {type(fingerprint).__name__}"
        )
    try:
        return _label(fingerprint, "the model fingerprint")
    except ValueError as e:
        raise InvalidInputError(f"{e} (`memos-lc fingerprint` prints a model's)") from None


# -- keys and signatures -------------------------------------------------------------------------


def _hmac_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_HMAC_KEY_BYTES:
        raise InvalidInputError(f"an HMAC key must be at least {MIN_HMAC_KEY_BYTES} bytes")
    return bytes(key)


def _ed25519_types() -> tuple[type, type]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    return Ed25519PrivateKey, Ed25519PublicKey


def _raw_public(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: SigningKey | VerifyKey) -> str:
    """A short, non-secret fingerprint of a key (the same for a private key and its public
    key; an HMAC key's id is a hash of it)."""
    private_t, public_t = _ed25519_types()
    if isinstance(key, private_t):
        key = key.public_key()
    if isinstance(key, public_t):
        return "ed25519:" + hashlib.sha256(_raw_public(key)).hexdigest()[:16]
    digest = hashlib.sha256(b"memos-lc hmac key id\n" + _hmac_key(key)).hexdigest()
    return "hmac:" + digest[:16]


def sign_manifest(manifest: bytes, key: SigningKey) -> BundleSignature:
    """Sign the exact bytes of ``manifest.json`` with an HMAC key (``bytes``) or an Ed25519
    private key."""
    message = _SIGNED_CONTEXT + manifest
    private_t, public_t = _ed25519_types()
    if isinstance(key, public_t):
        raise InvalidInputError("signing needs the Ed25519 private key, not the public key")
    if isinstance(key, private_t):
        return BundleSignature(
            algorithm=ED25519,
            key_id=key_id(key),
            public_key=base64.b64encode(_raw_public(key.public_key())).decode(),
            signature=base64.b64encode(key.sign(message)).decode(),
        )
    mac = hmac.new(_hmac_key(key), message, hashlib.sha256).digest()
    return BundleSignature(
        algorithm=HMAC_SHA256, key_id=key_id(key), signature=base64.b64encode(mac).decode()
    )


def verify_manifest(manifest: bytes, signature: BundleSignature, key: VerifyKey) -> str:
    """Check ``signature`` over ``manifest`` with a trusted key; returns the key id or raises
    :class:`BundleSignatureError`."""
    private_t, public_t = _ed25519_types()
    if isinstance(key, private_t):
        key = key.public_key()
    kind = ED25519 if isinstance(key, public_t) else HMAC_SHA256
    if signature.algorithm != kind:
        raise BundleSignatureError(
            f"the bundle is signed with {signature.algorithm}, but a {kind} key was given"
        )
    try:
        sig = base64.b64decode(signature.signature, validate=True)
    except ValueError:
        raise BundleSignatureError("signature.json: the signature is not base64") from None
    message = _SIGNED_CONTEXT + manifest
    kid = key_id(key)
    if kind == ED25519:
        from cryptography.exceptions import InvalidSignature

        try:
            key.verify(sig, message)  # type: ignore[union-attr]
            return kid
        except InvalidSignature:
            pass
    elif hmac.compare_digest(hmac.new(_hmac_key(key), message, hashlib.sha256).digest(), sig):  # type: ignore[arg-type]
        return kid
    hint = f" (signed by {signature.key_id}, given {kid})" if signature.key_id != kid else ""
    raise BundleSignatureError(f"the bundle signature does not verify with the given key{hint}")


def generate_ed25519_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key (``key.public_key()`` is what importers trust)."""
    private_t, _ = _ed25519_types()
    return private_t.generate()


def ed25519_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """PEM bytes of a key: PKCS#8 (unencrypted) for a private key, SubjectPublicKeyInfo for a
    public one (the same files ``openssl genpkey -algorithm ed25519`` writes)."""
    from cryptography.hazmat.primitives import serialization

    private_t, _ = _ed25519_types()
    if isinstance(key, private_t):
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_ed25519_key(
    path: str | os.PathLike[str], *, private: bool
) -> Ed25519PrivateKey | Ed25519PublicKey:
    """Read an Ed25519 key from a PEM file. ``private=True`` needs a private key (to sign);
    otherwise a public key is expected, and a private key file yields its public key."""
    from cryptography.hazmat.primitives import serialization

    private_t, public_t = _ed25519_types()
    data = _read_key_file(path)
    key: Any = None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        if not private:
            try:
                key = serialization.load_pem_public_key(data)
            except (ValueError, TypeError):
                key = None
    except Exception:  # cryptography's UnsupportedAlgorithm and friends
        key = None
    if private and not isinstance(key, private_t):
        raise InvalidInputError(f"{path}: not an unencrypted Ed25519 private key (PEM)")
    if isinstance(key, private_t) and not private:
        key = key.public_key()
    if not private and not isinstance(key, public_t):
        raise InvalidInputError(f"{path}: not an Ed25519 public key (PEM)")
    return key


def load_hmac_key(path: str | os.PathLike[str]) -> bytes:
    """Read an HMAC key file (its bytes, surrounding whitespace removed; 16 bytes or more)."""
    return _hmac_key(_read_key_file(path).strip())


def _read_key_file(path: str | os.PathLike[str]) -> bytes:
    try:
        p = Path(path).expanduser()
        if p.stat().st_size > 64 * 1024:
            raise InvalidInputError(f"{path}: too large for a key file")
        return p.read_bytes()
    except OSError as e:
        raise InvalidInputError(f"cannot read key file {path}: {e.strerror or e}") from None


# -- export --------------------------------------------------------------------------------------


def export_bundle(
    vault: MemVault,
    principal: Principal | str,
    dest: str | os.PathLike[str],
    *,
    namespace: Sequence[str] | None = None,
    filter: CubeFilter | None = None,
    history: bool = False,
    sign_with: SigningKey | None = None,
    title: str | None = None,
    source: str | None = None,
    overwrite: bool = False,
) -> BundleManifest:
    """Write the cubes ``principal`` may read that match ``filter`` (active, unexpired cubes
    by default; ``namespace`` narrows to that subtree) to the bundle file ``dest``.

    ``history=True`` includes every version of each cube (imports reproduce the chain). A
    bundle holds one cube per id, and cube ids are scoped per owner: where ``principal`` reads
    cubes of several owners with one id, its own is exported, and without one
    :class:`~memos_lc.errors.AmbiguousCubeError` asks for a filter naming one ``owner``.
    ``sign_with`` is an HMAC key (``bytes``, 16+) or an Ed25519 private key. ``source``
    labels the exporting vault in the manifest. The file is written atomically (a temporary
    file renamed into place, mode 0600); an existing file is replaced only with ``overwrite``.
    Returns the manifest."""
    principal = as_principal(principal)
    f = filter or CubeFilter()
    if not isinstance(f, CubeFilter):
        raise InvalidInputError("filter must be a CubeFilter")
    if namespace is not None:
        f = f.model_copy(update={"namespace": validate_namespace(namespace)})
    if sign_with is not None:
        sign_manifest(b"", sign_with)  # a bad key fails before any work
    out = Path(dest).expanduser()
    if out.exists() and not overwrite:
        raise InvalidInputError(f"{out} exists; pass overwrite=True (--force) to replace it")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out.parent} is not a directory")

    heads = _export_heads(vault, principal, f)
    versions: list[MemCube] = []
    for head in heads.values():
        owner = head.access.owner
        versions.extend(vault.history(principal, head.id, owner=owner) if history else [head])
    blobs = _export_blobs(vault, versions)
    cubes = b"".join(c.to_json().encode() + b"\n" for c in versions)
    members: dict[str, bytes] = {CUBES: cubes}
    members.update({f"blobs/{d}.safetensors": data for d, data in sorted(blobs.items())})

    counts = [c.kind for c in heads.values()]
    kinds = {k: n for k in MemoryKind if (n := counts.count(k))}
    from memos_lc import __version__

    try:
        manifest = BundleManifest(
            title=title,
            creator=principal.id,
            source=source,
            tool=f"memos-lc {__version__}",
            history=history,
            cube_count=len(heads),
            version_count=len(versions),
            kinds=kinds,
            model_fingerprints=_fingerprints(versions),
            selection=f.model_dump(mode="json", exclude_defaults=True),
            members={
                name: MemberInfo(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
                for name, data in members.items()
            },
        )
    except ValidationError as e:
        raise InvalidInputError(f"invalid bundle metadata: {_describe(e)}") from None
    manifest_bytes = manifest.model_dump_json(indent=2).encode()
    entries: list[tuple[str, bytes, int]] = [(MANIFEST, manifest_bytes, zipfile.ZIP_DEFLATED)]
    if sign_with is not None:
        sig = sign_manifest(manifest_bytes, sign_with)
        entries.append((SIGNATURE, sig.model_dump_json(indent=2).encode(), zipfile.ZIP_DEFLATED))
    entries.append((CUBES, cubes, zipfile.ZIP_DEFLATED))
    # safetensors hardly compress; storing them keeps imports fast and ratios honest
    entries.extend((name, members[name], zipfile.ZIP_STORED) for name in members if name != CUBES)
    _write_zip(out, entries)
    return manifest


def _export_heads(vault: MemVault, principal: Principal, f: CubeFilter) -> dict[str, MemCube]:
    """The cube each id matching ``f`` names for the exporter (as :meth:`MemVault.get` would:
    its own, else the one it reads), by id."""
    found: dict[str, list[MemCube]] = {}
    offset = 0
    while True:
        page = vault.list(
            principal, filter=f, limit=_EXPORT_PAGE, offset=offset, newest_first=False
        )
        for c in page:
            found.setdefault(c.id, []).append(c)
        if len(page) < _EXPORT_PAGE:
            break
        offset += _EXPORT_PAGE
    heads: dict[str, MemCube] = {}
    for cid, same_id in found.items():
        mine = [c for c in same_id if c.access.owner == principal.id]
        if len(same_id) > 1 and not mine:
            raise AmbiguousCubeError(
                f"cubes {cid} of several owners match, and a bundle holds one cube per id: "
                "export one owner's cubes (filter=CubeFilter(owner=...), --owner)"
            )
        heads[cid] = (mine or same_id)[0]
    return heads


def _export_blobs(vault: MemVault, versions: Iterable[MemCube]) -> dict[str, bytes]:
    """The payload bytes the activation / parametric ``versions`` refer to, by digest."""
    blobs: dict[str, bytes] = {}
    for c in versions:
        if isinstance(c.payload, ActivationPayload | ParametricPayload):
            digest = c.payload.blob.sha256
            if digest not in blobs:
                blobs[digest] = vault.blobs.get_bytes(digest)  # verified against its digest
    return blobs


def _fingerprints(cubes: Iterable[MemCube]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                c.payload.model_fingerprint
                for c in cubes
                if isinstance(c.payload, ActivationPayload | ParametricPayload)
            }
        )
    )


def _write_zip(dest: Path, entries: Sequence[tuple[str, bytes, int]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                for name, data, method in entries:
                    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                    info.create_system = 3  # unix: the mode below is meaningful
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    info.compress_type = method
                    zf.writestr(info, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- reading and verifying -----------------------------------------------------------------------


def read_bundle(
    source: Source,
    *,
    verify_with: VerifyKey | None = None,
    require_signature: bool = False,
    limits: BundleLimits | None = None,
) -> Bundle:
    """Read and verify a bundle (a path or its bytes) entirely in memory; writes nothing.

    Checks, in order: size and member-count limits, member names and types, compression
    ratios, every member's CRC, the signature (when ``verify_with`` is given: an HMAC key or an
    Ed25519 public key), the manifest, every member's sha256 and size, every cube line and
    every blob (safetensors). ``require_signature`` refuses a bundle unless a key verifies it.
    Raises a :class:`~memos_lc.errors.BundleError` subclass on the first failure."""
    lim = limits or BundleLimits()
    if verify_with is not None:
        key_id(verify_with)  # a malformed key is the caller's error, not the bundle's
    elif require_signature:
        raise BundleSignatureError("a verified signature is required: give the key to verify it")
    raw = _read_members(source, lim)
    manifest_bytes = raw.pop(MANIFEST, None)
    if manifest_bytes is None:
        raise BundleFormatError(f"no {MANIFEST}: not a memos-lc bundle")
    sig_bytes = raw.pop(SIGNATURE, None)
    sig = _parse_signature(sig_bytes) if sig_bytes is not None else None
    status: SignatureStatus = "none"
    signer = None
    if verify_with is not None:
        if sig is None:
            raise BundleSignatureError("the bundle is not signed, but a key was given to verify it")
        signer = verify_manifest(manifest_bytes, sig, verify_with)
        status = "verified"
    elif sig is not None:
        status, signer = "unverified", sig.key_id

    manifest = _parse_manifest(manifest_bytes)
    listed, present = set(manifest.members), set(raw)
    if missing := sorted(listed - present):
        raise BundleIntegrityError(f"member {missing[0]} is listed in the manifest but missing")
    if extra := sorted(present - listed):
        raise BundleUnsafeError(f"member {extra[0]} is not listed in the manifest")
    for name, info in manifest.members.items():
        data = raw[name]
        if len(data) != info.size or hashlib.sha256(data).hexdigest() != info.sha256:
            raise BundleIntegrityError(f"member {name} does not match its sha256 in the manifest")

    cubes = _parse_cubes(raw[CUBES], lim)
    blobs = {_BLOB.match(n).group(1): d for n, d in raw.items() if n != CUBES}  # type: ignore[union-attr]
    _check_contents(manifest, cubes, blobs)
    return Bundle(
        manifest=manifest,
        cubes=cubes,
        blobs=blobs,
        signature=status,
        signer=signer,
        members={n: len(d) for n, d in raw.items()},
    )


def _read_members(source: Source, lim: BundleLimits) -> dict[str, bytes]:
    """Every member's bytes, after checking names, types, sizes and ratios from the central
    directory; CRCs are checked while reading."""
    if isinstance(source, bytes | bytearray | memoryview):
        size = len(source)
        fh: Any = io.BytesIO(bytes(source))
        label = "the bundle"
    else:
        path = Path(source).expanduser()
        label = str(path)
        if path.exists() and not path.is_file():  # never open a fifo or device (it may block)
            raise InvalidInputError(f"{path} is not a regular file")
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed below
            st = os.fstat(fh.fileno())  # the file we read, not a name that may change
        except OSError as e:
            raise InvalidInputError(f"cannot read bundle {path}: {e.strerror or e}") from None
        if not stat.S_ISREG(st.st_mode):
            fh.close()
            raise InvalidInputError(f"{path} is not a regular file")
        size = st.st_size
    if size > lim.max_bundle_bytes:
        fh.close()
        raise BundleTooLargeError(
            f"{label} is {size} bytes; the limit is {lim.max_bundle_bytes} (BundleLimits)"
        )
    try:
        _check_entry_count(fh, lim)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as e:
            raise BundleFormatError(f"{label} is not a memos-lc bundle (a zip file): {e}") from None
        except Exception as e:  # NotImplementedError (a zip "version" from the future), ...
            raise BundleFormatError(
                f"{label} is not a readable zip file: {type(e).__name__}: {e}"
            ) from None
        with zf:
            infos = _check_directory(zf.infolist(), size, lim)
            out: dict[str, bytes] = {}
            for info, limit in infos:
                try:
                    with zf.open(info) as member:
                        data = member.read(limit + 1)
                except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as e:
                    raise BundleIntegrityError(f"member {info.filename} is corrupt: {e}") from None
                except Exception as e:  # zlib.error, NotImplementedError, ...
                    raise BundleIntegrityError(
                        f"member {info.filename} cannot be read: {type(e).__name__}: {e}"
                    ) from None
                if len(data) > limit:
                    raise BundleTooLargeError(f"member {info.filename} exceeds {limit} bytes")
                out[info.filename] = data
            return out
    finally:
        fh.close()


def _check_entry_count(fh: Any, lim: BundleLimits) -> None:
    """Refuse a central directory with too many entries before zipfile parses all of it."""
    end_rec = getattr(zipfile, "_EndRecData", None)  # stable private helper; best effort
    if end_rec is None:
        return
    try:
        rec = end_rec(fh)
        fh.seek(0)
    except Exception:
        return  # zipfile reports a malformed archive with a clear message below
    if rec and rec[4] > lim.max_members:  # _ECD_ENTRIES_TOTAL
        raise BundleTooLargeError(
            f"the bundle has {rec[4]} members; the limit is {lim.max_members}"
        )


def _member_limit(name: str, lim: BundleLimits) -> int:
    if name == MANIFEST:
        return lim.max_manifest_bytes
    if name == SIGNATURE:
        return MAX_SIGNATURE_BYTES
    if name == CUBES:
        return lim.max_cubes_bytes
    if _BLOB.match(name):
        return lim.max_blob_bytes
    raise BundleUnsafeError(f"unknown member {name[:100]!r} (not part of the bundle format)")


def _check_name(name: str) -> None:
    shown = repr(name[:100])
    if not name or _CONTROL.search(name):
        raise BundleUnsafeError(f"member name {shown} is empty or has control characters")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise BundleUnsafeError(f"member {shown} has an absolute or non-portable path")
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise BundleUnsafeError(f"member {shown} has a path traversal ('..' or '.')")
    if name.endswith("/"):
        raise BundleUnsafeError(f"member {shown} is a directory entry")


def _check_directory(
    infos: list[zipfile.ZipInfo], size: int, lim: BundleLimits
) -> list[tuple[zipfile.ZipInfo, int]]:
    if len(infos) > lim.max_members:
        raise BundleTooLargeError(
            f"the bundle has {len(infos)} members; the limit is {lim.max_members}"
        )
    seen: set[str] = set()
    total = compressed = 0
    out = []
    for info in infos:
        name = info.filename
        _check_name(name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleUnsafeError(f"member {name[:100]!r} is a symbolic link")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: the zip tool recorded no type
            raise BundleUnsafeError(f"member {name[:100]!r} is not a regular file")
        if name in seen:
            raise BundleUnsafeError(f"member {name[:100]!r} appears more than once")
        seen.add(name)
        limit = _member_limit(name, lim)
        if info.flag_bits & 0x1:
            raise BundleUnsafeError(f"member {name} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleFormatError(
                f"member {name} uses compression method {info.compress_type}; "
                "bundles use stored or deflated members"
            )
        if info.file_size > limit:
            raise BundleTooLargeError(f"member {name} is {info.file_size} bytes; limit {limit}")
        if info.file_size > lim.ratio_floor_bytes and info.file_size > lim.max_ratio * max(
            info.compress_size, 1
        ):
            raise BundleTooLargeError(
                f"member {name} expands {info.file_size / max(info.compress_size, 1):.0f}x "
                f"(limit {lim.max_ratio:.0f}x): refusing a possible zip bomb"
            )
        total += info.file_size
        compressed += info.compress_size
        if total > lim.max_total_bytes:
            raise BundleTooLargeError(
                f"the bundle expands to more than {lim.max_total_bytes} bytes (BundleLimits)"
            )
        out.append((info, limit))
    if compressed > size:
        raise BundleUnsafeError("members overlap (their compressed sizes exceed the file)")
    return out


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for k, v in pairs:
        if k in doc:
            raise ValueError(f"duplicate key {k!r}")
        doc[k] = v
    return doc


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data, object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BundleFormatError(f"{what} is not valid JSON: {str(e)[:200]}") from None
    if not isinstance(doc, dict):
        raise BundleFormatError(f"{what} is not a JSON object")
    return doc


def _parse_manifest(data: bytes) -> BundleManifest:
    doc = _json_object(data, MANIFEST)
    if doc.get("format") != FORMAT:
        raise BundleFormatError(
            f"not a memos-lc bundle: {MANIFEST} has format {doc.get('format')!r:.60}"
        )
    if doc.get("format_version") != FORMAT_VERSION:
        raise BundleFormatError(
            f"unsupported bundle format version {doc.get('format_version')!r:.20}; "
            f"this memos-lc reads version {FORMAT_VERSION}"
        )
    try:
        return BundleManifest.model_validate(doc)
    except ValidationError as e:
        raise BundleFormatError(f"invalid {MANIFEST}: {_describe(e)}") from None


def _parse_signature(data: bytes) -> BundleSignature:
    doc = _json_object(data, SIGNATURE)
    try:
        return BundleSignature.model_validate(doc)
    except ValidationError as e:
        raise BundleFormatError(f"invalid {SIGNATURE}: {_describe(e)}") from None


def _parse_cubes(data: bytes, lim: BundleLimits) -> list[MemCube]:
    if data and not data.endswith(b"\n"):
        raise BundleFormatError(f"{CUBES} does not end with a newline (truncated?)")
    lines = data.split(b"\n")[:-1] if data else []
    if len(lines) > lim.max_cubes:
        raise BundleTooLargeError(f"{CUBES} has {len(lines)} cubes; the limit is {lim.max_cubes}")
    cubes = []
    for n, line in enumerate(lines, 1):
        if len(line) > lim.max_line_bytes:
            raise BundleTooLargeError(f"{CUBES} line {n} exceeds {lim.max_line_bytes} bytes")
        try:
            cubes.append(MemCube.from_json(line))
        except InvalidCubeError as e:
            raise BundleFormatError(f"{CUBES} line {n}: {e}") from None
        except (ValueError, RecursionError) as e:
            raise BundleFormatError(f"{CUBES} line {n} is not a cube: {str(e)[:200]}") from None
    return cubes


def _chains(cubes: Sequence[MemCube]) -> dict[str, list[MemCube]]:
    chains: dict[str, list[MemCube]] = {}
    for c in cubes:
        chains.setdefault(c.id, []).append(c)
    for chain in chains.values():
        chain.sort(key=lambda c: c.version)
    return chains


def _check_contents(
    manifest: BundleManifest, cubes: list[MemCube], blobs: dict[str, bytes]
) -> None:
    """The manifest's summary matches the cubes; every blob is referenced, present, sized
    right and a well-formed safetensors file."""
    chains = _chains(cubes)
    for cid, chain in chains.items():
        numbers = [c.version for c in chain]
        if manifest.history and numbers != list(range(1, len(chain) + 1)):
            raise BundleFormatError(f"cube {cid}: versions {numbers[:10]} are not 1..n")
        if not manifest.history and len(chain) > 1:
            raise BundleFormatError(
                f"cube {cid} appears {len(chain)} times in a bundle without history"
            )
    kinds: dict[MemoryKind, int] = {}
    for chain in chains.values():
        kinds[chain[-1].kind] = kinds.get(chain[-1].kind, 0) + 1
    if (
        manifest.cube_count != len(chains)
        or manifest.version_count != len(cubes)
        or dict(manifest.kinds) != kinds
        or manifest.model_fingerprints != _fingerprints(cubes)
    ):
        raise BundleFormatError("the manifest's counts, kinds or model fingerprints do not match")
    referenced: dict[str, int] = {}
    for c in cubes:
        if isinstance(c.payload, ActivationPayload | ParametricPayload):
            ref = c.payload.blob
            if referenced.setdefault(ref.sha256, ref.size) != ref.size:
                raise BundleFormatError(f"blob {ref.sha256} is referenced with different sizes")
    if missing := sorted(set(referenced) - set(blobs)):
        raise BundleIntegrityError(f"blob {missing[0]} is referenced by a cube but not bundled")
    if extra := sorted(set(blobs) - set(referenced)):
        raise BundleUnsafeError(f"blob {extra[0]} is bundled but no cube references it")
    for digest, data in blobs.items():
        if hashlib.sha256(data).hexdigest() != digest:
            raise BundleIntegrityError(f"blob {digest} does not match its name")
        if len(data) != referenced[digest]:
            raise BundleIntegrityError(f"blob {digest} is not the size its cubes record")
        try:
            check_safetensors(data)
        except InvalidInputError as e:
            raise BundleFormatError(f"blob {digest}: {e}") from None


# -- import --------------------------------------------------------------------------------------

Rules = list[tuple[tuple[str, ...], tuple[str, ...]]]
Remap = Mapping[Sequence[str], Sequence[str]] | Iterable[tuple[Sequence[str], Sequence[str]]]


def _remap_rules(remap: Remap | None) -> Rules:
    if remap is None:
        return []
    items = remap.items() if isinstance(remap, Mapping) else remap
    rules: Rules = []
    for item in items:
        try:
            src, dst = item
        except (TypeError, ValueError):
            raise InvalidInputError("remap takes (from_prefix, to_prefix) pairs") from None
        src_t = validate_namespace(src) if len(src) else ()
        dst_t = validate_namespace(dst) if len(dst) else ()
        rules.append((src_t, dst_t))
    if len({s for s, _ in rules}) != len(rules):
        raise InvalidInputError("remap names the same prefix twice")
    return sorted(rules, key=lambda r: -len(r[0]))  # the longest matching prefix wins


def remap_namespace(namespace: Sequence[str], rules: Rules) -> tuple[str, ...]:
    """``namespace`` with the longest matching ``from`` prefix replaced by its ``to``."""
    ns = tuple(namespace)
    for src, dst in rules:
        if ns[: len(src)] == src:
            return validate_namespace(dst + ns[len(src) :])
    return ns


def _adopt(
    cube: MemCube,
    principal: Principal,
    manifest: BundleManifest,
    rules: Rules,
    version: int,
    heads: Mapping[str, int],
) -> MemCube:
    """The cube as the importing principal stores it: remapped namespace, new owner (no
    foreign readers/writers), provenance that says where it came from, fresh usage.
    ``heads`` are the bundle's head versions by cube id: a compiled cube built from a head
    the bundle carries is built from that cube as imported (the importer's, renumbered
    when the bundle has no history), so it arrives current, not stale."""
    prov = cube.provenance
    built_from = tuple(
        SourceRef(
            id=ref.id,
            owner=principal.id,
            version=(ref.version if manifest.history else 1)
            if heads.get(ref.id) == ref.version
            else ref.version,
        )
        for ref in prov.derived_from_versions
    )
    note = (
        f"imported from bundle {manifest.bundle_id} by {principal.id}; exported by "
        f"{manifest.creator} from {manifest.source or 'an unnamed vault'}; original owner "
        f"{cube.access.owner or '-'}, origin {prov.origin}, version {cube.version}"
    )
    if prov.note:
        note += f"; original note: {prov.note}"
    extra = [f"bundle:{manifest.bundle_id}", f"cube:{cube.id}"]
    try:
        namespace = remap_namespace(cube.namespace, rules)
    except InvalidInputError as e:
        raise InvalidInputError(f"cube {cube.id}: remapped namespace is invalid: {e}") from None
    return cube.replace(
        namespace=namespace,
        version=version,
        replaces=None,
        superseded_by=None,
        access={"owner": principal.id},
        usage={},
        provenance={
            **prov.model_dump(mode="python"),
            "origin": "import",
            "actor": principal.id,
            "source_ids": (*prov.source_ids, *[x for x in extra if x not in prov.source_ids]),
            "derived_from_versions": built_from,
            "note": note if len(note) <= 4000 else note[:3999] + "…",
        },
    )


def _is_checkpoint(cube: MemCube) -> bool:
    """Whether ``cube`` is (or would be read as) a LangGraph checkpoint."""
    ns = CHECKPOINT_NAMESPACE
    return cube.memory_type == MemoryType.CHECKPOINT or tuple(cube.namespace[: len(ns)]) == ns


def _fingerprint_mismatch(cube: MemCube, target: str | None) -> str | None:
    """Why ``cube`` cannot be used by the target model, or None when it can."""
    p = cube.payload
    if not isinstance(p, ActivationPayload | ParametricPayload):
        return None
    if target is None:
        return f"no target model fingerprint was given (built for {p.model_fingerprint!r})"
    if p.model_fingerprint != target:
        return f"built for model {p.model_fingerprint!r}, the target model is {target!r}"
    return None


def _dormant(head: MemCube) -> MemCube:
    tags = head.tags
    if DORMANT_TAG not in tags and len(tags) < MAX_TAGS:
        tags = (*tags, DORMANT_TAG)
    return head.replace(status=LifecycleStatus.ARCHIVED, tags=tags)


def import_bundle(
    vault: MemVault,
    principal: Principal | str,
    source: Source | Bundle,
    *,
    verify_with: VerifyKey | None = None,
    require_signature: bool = False,
    remap: Remap | None = None,
    on_conflict: ConflictPolicy = "skip",
    model_fingerprint: str | None = None,
    dry_run: bool = False,
    limits: BundleLimits | None = None,
    allow_checkpoints: bool = False,
) -> ImportReport:
    """Verify a bundle completely, then add its cubes to ``vault`` as ``principal``.

    * Nothing is written unless every check of :func:`read_bundle` passes (and the remapped
      cubes validate).
    * ``remap`` maps namespace prefixes, e.g. ``{("kb",): ("agent", "kb")}``; the longest
      matching prefix wins, ``()`` as the source prefixes every namespace.
    * Cubes keep their ids; the importing principal becomes their owner (readers/writers of the
      source vault are dropped); provenance gets ``origin="import"``, ``bundle:<id>`` and
      ``cube:<id>`` in ``source_ids`` and a note naming the exporter, source vault, original
      owner, origin and version. Ids are scoped per owner: other principals' cubes with the
      same ids are neither in the way nor touched.
    * A bundle with history reproduces each cube's version chain (``MemVault.put_history``);
      without history the head becomes version 1.
    * An id the importer already holds is skipped (``on_conflict="skip"``), or with
      ``"replace"`` the bundle's head becomes a new head version of that cube (its history and
      access stay, so ``rollback`` undoes the import); an expired one is skipped.
      ``ImportReport.skip_reasons`` says why each id was skipped.
    * Activation / parametric cubes whose ``model_fingerprint`` differs from the target's (or
      when none is given) are imported dormant: status ``archived`` and tag ``dormant``.
      Plaintext always imports as it is.
    * A cube that would land in the checkpointer's space (memory type ``"checkpoint"``, or a
      namespace under ``("langgraph", "checkpoints")`` after ``remap``) refuses the whole
      import with :class:`~memos_lc.errors.BundleUnsafeError`: LangGraph runs what a
      checkpoint holds, so a bundle must not be able to plant one. Pass
      ``allow_checkpoints=True`` to move threads between vaults on purpose.
    * ``dry_run`` verifies and plans without writing.
    * Every import is audited as action ``import`` (with the ids it wrote, or the reason it
      was refused), besides the events of the writes it makes.
    """
    principal = as_principal(principal)
    with vault.audited(principal, "import") as touched:
        report = _import_bundle(
            vault,
            principal,
            source,
            verify_with=verify_with,
            require_signature=require_signature,
            remap=remap,
            on_conflict=on_conflict,
            model_fingerprint=model_fingerprint,
            dry_run=dry_run,
            limits=limits,
            allow_checkpoints=allow_checkpoints,
        )
        if not dry_run:  # the ids it wrote: a dry run writes none
            touched.extend([*report.imported, *report.replaced])
        return report


def _import_bundle(
    vault: MemVault,
    principal: Principal,
    source: Source | Bundle,
    *,
    verify_with: VerifyKey | None = None,
    require_signature: bool = False,
    remap: Remap | None = None,
    on_conflict: ConflictPolicy = "skip",
    model_fingerprint: str | None = None,
    dry_run: bool = False,
    limits: BundleLimits | None = None,
    allow_checkpoints: bool = False,
) -> ImportReport:
    if on_conflict not in ("skip", "replace"):
        raise InvalidInputError("on_conflict must be 'skip' or 'replace'")
    if not isinstance(principal, Principal):
        raise InvalidInputError(
            f"principal must be a memos_lc.Principal, got {type(principal).__name__}"
        )
    check_model_fingerprint(model_fingerprint)
    rules = _remap_rules(remap)
    bundle = _verified_bundle(source, verify_with, require_signature, limits)
    m = bundle.manifest
    report = ImportReport(
        bundle_id=m.bundle_id,
        title=m.title,
        creator=m.creator,
        signature=bundle.signature,
        signer=bundle.signer,
        dry_run=dry_run,
    )
    if bundle.signature == "none":
        report.warnings.append("the bundle is not signed: its origin is not verified")
    elif bundle.signature == "unverified":
        report.warnings.append(
            f"the bundle is signed by {bundle.signer}, but no key was given to verify it"
        )
    # plan: everything that can fail on the bundle's content fails here, before any write
    adopted, asleep = _adopt_chains(bundle, principal, rules, model_fingerprint, allow_checkpoints)
    existing = _own_heads(vault, principal, list(adopted))
    new_versions, replacements = _plan_import(adopted, asleep, existing, on_conflict, report)
    if dry_run:
        report.versions_written = len(new_versions) + len(replacements)
        return report
    _write_import(vault, principal, bundle, new_versions, replacements, report)
    return report


def _verified_bundle(
    source: Source | Bundle,
    verify_with: VerifyKey | None,
    require_signature: bool,
    limits: BundleLimits | None,
) -> Bundle:
    if not isinstance(source, Bundle):
        return read_bundle(
            source, verify_with=verify_with, require_signature=require_signature, limits=limits
        )
    # a Bundle object was verified when it was read
    if verify_with is not None:
        raise InvalidInputError("pass verify_with to read_bundle() for a Bundle object")
    if require_signature and source.signature != "verified":
        raise BundleSignatureError("a verified signature is required")
    return source


def _adopt_chains(
    bundle: Bundle,
    principal: Principal,
    rules: Rules,
    model_fingerprint: str | None,
    allow_checkpoints: bool,
) -> tuple[dict[str, list[MemCube]], dict[str, str]]:
    """Each bundled cube's versions as the importer will own them, by id; and the ids that
    arrive dormant (built for another model), with why. No I/O."""
    m = bundle.manifest
    adopted: dict[str, list[MemCube]] = {}
    asleep: dict[str, str] = {}
    chains = _chains(bundle.cubes)
    heads = {cid: chain[-1].version for cid, chain in chains.items()}
    for cid, chain in chains.items():
        try:
            versions = [
                _adopt(c, principal, m, rules, c.version if m.history else 1, heads) for c in chain
            ]
            why = _fingerprint_mismatch(versions[-1], model_fingerprint)
            if why and versions[-1].status is LifecycleStatus.ACTIVE:
                versions[-1] = _dormant(versions[-1])
                asleep[cid] = why
        except InvalidCubeError as e:
            raise BundleFormatError(f"cube {cid} cannot be imported: {e}") from None
        if not allow_checkpoints and any(map(_is_checkpoint, versions)):
            raise BundleUnsafeError(
                f"cube {cid} would land in the checkpointer's space (memory type "
                "'checkpoint' or namespace langgraph/checkpoints); nothing was imported. "
                "Pass allow_checkpoints=True to import checkpoints on purpose"
            )
        adopted[cid] = versions
    return adopted, asleep


def _plan_import(
    adopted: dict[str, list[MemCube]],
    asleep: dict[str, str],
    existing: dict[str, MemCube],
    on_conflict: ConflictPolicy,
    report: ImportReport,
) -> tuple[list[MemCube], list[tuple[str, dict[str, Any]]]]:
    """The versions to write new and the importer's cubes to replace (id, new content),
    given the importer's ``existing`` heads; the report says what happens to each id."""
    new_versions: list[MemCube] = []
    replacements: list[tuple[str, dict[str, Any]]] = []
    for cid, versions in adopted.items():
        current = existing.get(cid)
        if current is None:
            new_versions.extend(versions)
            report.imported.append(cid)
        elif on_conflict == "skip":
            report.skip(cid, SKIPPED_IN_USE)
            continue
        else:
            if current.is_expired():
                report.skip(cid, SKIPPED_EXPIRED)
                continue
            head = versions[-1]
            replacements.append((cid, {f: getattr(head, f) for f in CONTENT_FIELDS}))
            report.replaced.append(cid)
            if len(versions) > 1:
                report.warnings.append(
                    f"cube {cid}: replaced by the bundle's head as a new version; its "
                    f"{len(versions) - 1} earlier bundled version(s) are not grafted on"
                )
        if cid in asleep:
            report.dormant.append(cid)
            report.warnings.append(
                f"cube {cid} ({versions[-1].kind.value}) imported dormant "
                f"(status archived, tag {DORMANT_TAG!r}): {asleep[cid]}"
            )
    return new_versions, replacements


def _write_import(
    vault: MemVault,
    principal: Principal,
    bundle: Bundle,
    new_versions: list[MemCube],
    replacements: list[tuple[str, dict[str, Any]]],
    report: ImportReport,
) -> None:
    """Run the planned import: blobs first (content-addressed, idempotent), then the cubes
    that use them."""
    payloads = [c.payload for c in new_versions] + [ch["payload"] for _, ch in replacements]
    needed = {
        p.blob.sha256 for p in payloads if isinstance(p, ActivationPayload | ParametricPayload)
    }
    for digest in sorted(needed):
        # the bundle carries the bytes: the importer may name them (put_blob), new or not
        existed = vault.blobs.exists(digest)
        vault.put_blob(principal, bundle.blobs[digest])
        report.blobs_written += not existed
    for chunk in _chunks_by_cube(new_versions, _WRITE_CHUNK):
        report.versions_written += _write_chains(vault, principal, chunk, report)
    for cid, changes in replacements:
        try:
            vault.update(principal, cid, owner=principal.id, **changes)
            report.versions_written += 1
        except CubeNotFoundError:  # expired or purged since the plan
            report.replaced.remove(cid)
            report.skip(cid, SKIPPED_EXPIRED)


def _own_heads(vault: MemVault, principal: Principal, ids: list[str]) -> dict[str, MemCube]:
    """Head versions of the ids the importer already holds, whatever their status. Ids are
    scoped per owner, so only these can be in the way; others' cubes are never looked at."""
    mine = CubeFilter(owner=principal.id, statuses=None, include_expired=True)
    out: dict[str, MemCube] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        for cube in vault.find(
            principal, cube_ids=part, filter=mine, limit=len(part), order_by=None
        ):
            out[cube.id] = cube
    return out


def _chunks_by_cube(versions: list[MemCube], size: int) -> Iterable[list[MemCube]]:
    chunk: list[MemCube] = []
    ids: set[str] = set()
    for c in versions:
        if c.id not in ids and len(ids) >= size:
            yield chunk
            chunk, ids = [], set()
        chunk.append(c)
        ids.add(c.id)
    if chunk:
        yield chunk


def _write_chains(
    vault: MemVault, principal: Principal, versions: list[MemCube], report: ImportReport
) -> int:
    """Write a batch of chains; if another writer took an id meanwhile, write the batch cube by
    cube and report the clashes as skipped."""
    try:
        return len(vault.put_history(principal, versions))
    except ConflictError:
        pass
    written = 0
    for cid, chain in _chains(versions).items():
        try:
            written += len(vault.put_history(principal, chain))
        except ConflictError:
            report.imported.remove(cid)
            report.skip(cid, SKIPPED_TAKEN)
    return written


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "document"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


__all__ = [
    "Bundle",
    "BundleLimits",
    "BundleManifest",
    "BundleSignature",
    "ImportReport",
    "SKIPPED_EXPIRED",
    "SKIPPED_IN_USE",
    "SKIPPED_TAKEN",
    "check_model_fingerprint",
    "ed25519_pem",
    "export_bundle",
    "generate_ed25519_key",
    "import_bundle",
    "key_id",
    "load_ed25519_key",
    "load_hmac_key",
    "read_bundle",
    "remap_namespace",
    "sign_manifest",
    "verify_manifest",
]
