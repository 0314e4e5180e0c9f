"""Content-addressed blob store for activation (KV cache) and parametric (LoRA) payloads.

Blobs are safetensors files named by the sha256 of their bytes, so the same KV cache or
adapter is stored once. Reads verify the digest (:class:`~memos_lc.errors.BlobIntegrityError`
on mismatch), and only safetensors is accepted: loading a blob never executes code.

Example:
    .. code-block:: python

        import torch
        from memos_lc.vault.blobs import BlobStore

        store = BlobStore("/tmp/blobs")
        ref = store.put_tensors({"w": torch.zeros(2, 2)}, metadata={"model": "smollm2"})
        tensors = store.get_tensors(ref)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos_lc.cube import BlobRef
from memos_lc.errors import BlobIntegrityError, BlobNotFoundError, InvalidInputError, VaultError

if TYPE_CHECKING:
    import torch

MAX_BLOB_BYTES = 4 * 1024**3
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_safetensors(data: bytes) -> dict[str, Any]:
    """Parse and bounds-check a safetensors header; raise :class:`InvalidInputError` if the
    bytes are not a well-formed safetensors file. Returns the header."""
    if len(data) < 8:
        raise InvalidInputError("not a safetensors blob: shorter than its header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n > 100 * 1024**2:
        raise InvalidInputError("not a safetensors blob: header length out of bounds")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, ValueError):
        raise InvalidInputError("not a safetensors blob: header is not JSON") from None
    if not isinstance(header, dict):
        raise InvalidInputError("not a safetensors blob: header is not an object")
    body = len(data) - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= body
        ):
            raise InvalidInputError(f"not a safetensors blob: bad offsets for tensor {name!r}")
    return header


class BlobStore:
    """Safetensors blobs under ``root/ab/abcdef....safetensors``, keyed by sha256."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise VaultError(f"cannot create blob directory {self.root}: {e.strerror}") from None

    def _path(self, sha256: str) -> Path:
        # Only a well-formed digest becomes a path: no traversal through crafted refs.
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise InvalidInputError(f"not a sha256 digest: {sha256!r:.80}")
        return self.root / sha256[:2] / f"{sha256}.safetensors"

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store safetensors ``data`` durably (fsync + atomic rename); idempotent."""
        if len(data) > MAX_BLOB_BYTES:
            raise InvalidInputError(f"blob of {len(data)} bytes exceeds {MAX_BLOB_BYTES}")
        check_safetensors(data)
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_name(f".{digest}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return BlobRef(sha256=digest, size=len(data))

    def put_tensors(
        self, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
    ) -> BlobRef:
        """Serialize ``tensors`` with safetensors and store them."""
        from safetensors.torch import save

        return self.put_bytes(save(dict(tensors), metadata=dict(metadata or {})))

    def get_bytes(self, ref: BlobRef | str) -> bytes:
        """The blob's bytes, verified against its digest."""
        digest = ref.sha256 if isinstance(ref, BlobRef) else ref
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {digest}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobIntegrityError(f"blob {digest} is corrupt: its sha256 does not match")
        return data

    def get_tensors(self, ref: BlobRef | str) -> dict[str, torch.Tensor]:
        """Load a blob's tensors (CPU)."""
        from safetensors.torch import load

        return load(self.get_bytes(ref))

    def metadata(self, ref: BlobRef | str) -> dict[str, str]:
        """The blob's safetensors ``__metadata__``."""
        return dict(check_safetensors(self.get_bytes(ref)).get("__metadata__") or {})

    def exists(self, ref: BlobRef | str) -> bool:
        digest = ref.sha256 if isinstance(ref, BlobRef) else ref
        return self._path(digest).exists()

    def delete(self, ref: BlobRef | str) -> bool:
        """Remove a blob; True if it existed."""
        digest = ref.sha256 if isinstance(ref, BlobRef) else ref
        try:
            self._path(digest).unlink()
            return True
        except FileNotFoundError:
            return False

    def __iter__(self) -> Iterator[str]:
        """Digests of every stored blob."""
        for path in sorted(self.root.glob("??/*.safetensors")):
            yield path.stem
