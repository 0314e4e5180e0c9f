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


class PrincipalRequiredError(InvalidInputError):
    """Nobody is named as the acting principal: the run's config and context name no user and
    the application configured no default. memos-lc never guesses whose memories to use."""


class InvalidNamespaceError(InvalidInputError):
    """A namespace is empty, has a non-string or empty label, or a reserved character."""


class InvalidCubeError(InvalidInputError):
    """A MemCube (or a field of one) does not validate."""


class AmbiguousCubeError(InvalidInputError):
    """The id names cubes of several owners that the principal may read, none of them its own
    (cube ids are scoped per owner): pass ``owner=`` to say which."""


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


class CubeKindError(InvalidInputError):
    """The cube carries another payload kind than the operation needs (e.g. a plaintext cube
    given as activation memory)."""


class ActivationError(MemosError):
    """Activation memory (a compiled KV cache) cannot be built or used."""


class ActivationFormatError(ActivationError, InvalidInputError):
    """A KV cache blob is malformed or does not match the cube header that names it."""


class UnsupportedModelError(MemosError):
    """The model or its chat template lacks what the operation needs."""


class ToolCallingNotSupportedError(UnsupportedModelError, InvalidInputError):
    """The chat template renders no tools (or not in the Hermes ``<tool_call>`` format)."""


class MissingExtraError(MemosError, ImportError):
    """A feature needs packages that only an extra installs (the bundled models and local
    inference need ``pip install 'memos-lc[local]'``); the message says what to install or
    which argument to pass instead. Nothing was changed."""


class MemosWarning(UserWarning):
    """Base class of every memos-lc warning."""


class ActivationFallbackWarning(MemosWarning):
    """Activation memory did not apply (other model, adapter active, prompt diverged): the
    whole prompt was prefilled instead, so the answer is the same, only slower."""


class ModelMismatchError(InvalidInputError):
    """The cube (a KV cache or an adapter) was made for another model: its fingerprint
    differs from the loaded model's."""


class ParametricError(MemosError):
    """Parametric memory (a LoRA adapter) cannot be trained, loaded or used."""


class AdapterFormatError(ParametricError, InvalidInputError):
    """An adapter blob is not a memos-lc LoRA adapter, or its tensors do not fit the model."""


class AdapterNotLoadedError(ParametricError, NotFoundError):
    """The adapter name is not loaded in this registry (never loaded, unloaded or evicted)."""


class TrainingCancelledError(ParametricError):
    """Adapter training was cancelled before it finished; nothing was stored."""
