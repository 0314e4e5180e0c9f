"""Typed errors raised by memos-lc.

Every error a caller can act on derives from :class:`MemosError`. Input errors also derive
from :class:`ValueError` and lookup errors from :class:`KeyError`, so code written against
plain Python or LangGraph conventions keeps working. An operation that raises one of these
has changed nothing.
"""

from __future__ import annotations


class MemosError(Exception):
    """Base class of every memos-lc error."""


class InvalidInputError(MemosError, ValueError):
    """An argument is malformed: wrong type, out of range, empty or oversized."""


class InvalidNamespaceError(InvalidInputError):
    """A namespace is empty, has a non-string or empty label, or a reserved character."""


class InvalidCubeError(InvalidInputError):
    """A MemCube (or a field of one) does not validate."""


class InvalidVectorError(InvalidInputError):
    """A vector has the wrong dimension or holds NaN/inf."""


class NotFoundError(MemosError, KeyError):
    """An id (cube, version, blob) does not exist or is not visible to the caller."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CubeNotFoundError(NotFoundError):
    """No cube with this id is visible to the principal."""


class VersionNotFoundError(NotFoundError):
    """The cube exists but has no such version."""


class BlobNotFoundError(NotFoundError):
    """No blob with this digest is stored."""


class PermissionDeniedError(MemosError, PermissionError):
    """The principal may not perform this operation on this cube or namespace."""


class ConflictError(MemosError):
    """A concurrent writer changed the cube first (optimistic concurrency)."""


class VaultError(MemosError):
    """The vault's storage cannot be used."""


class VaultLockedError(VaultError):
    """The embedded vault directory is open in another process."""


class VaultCorruptError(VaultError):
    """The vault directory exists but its files are damaged or not a vault."""


class VaultConfigError(VaultError):
    """The vault was created with settings (e.g. embedding size) that do not match."""


class BlobIntegrityError(VaultError):
    """A blob's content does not match its sha256 digest."""


class BackendUnavailableError(VaultError):
    """The Qdrant server did not answer after retries."""


class BundleError(InvalidInputError):
    """A MemCube bundle is malformed, unsafe or fails verification; nothing was imported."""


class BundleFormatError(BundleError):
    """Not a bundle, an unsupported format version, or a malformed manifest or cube line."""


class BundleUnsafeError(BundleError):
    """A member path is absolute, climbs out (``..``), is a link, a directory, encrypted,
    duplicated, overlapping or not one the format defines."""


class BundleTooLargeError(BundleError):
    """The bundle exceeds a size, member-count or compression-ratio limit (zip bomb)."""


class BundleIntegrityError(BundleError):
    """A member is missing, corrupt or does not match the sha256 the manifest records."""


class BundleSignatureError(BundleError):
    """The signature is missing, of the wrong kind, or does not verify with the given key."""
