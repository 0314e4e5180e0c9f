"""Activation memory: a memory block compiled into a KV cache, reused at answer time.

A scheduled memory block becomes the start of the system message. Compiling it runs that
prefix through the model once (the system turn as the chat template renders it, up to and
including the block) and stores the resulting KV cache (keys and values per layer) with the
exact prefix token ids as a safetensors blob, under an activation :class:`~memos_lc.cube.MemCube`
valid only for the model fingerprint it was computed with. At answer time
:class:`~memos_lc.chat_models.ChatMemOS` checks that the prompt's token ids start with the
cached ids and feeds only the rest on top of a copy of the cache: the same greedy answer
without re-reading the block.

Cubes are content-addressed: the cube key is a hash of the model fingerprint and the rendered
prefix, so the same block for the same model (and chat template) is compiled once; the blob
store deduplicates the bytes.

A cache is only valid for the prefix it was computed from. Caches of separately encoded
blocks are not concatenable (their positions differ): compile one cache per scheduled block.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.activation import ActivationMemory
        from memos_lc.models import load_causal_lm

        vault = MemVault.open("/tmp/vault")
        memory = ActivationMemory(vault)
        alice = Principal(id="alice")
        cube = memory.compile(alice, load_causal_lm(), "Alice's locker is 42.",
                              namespace=("alice", "kv"))
        prefix = memory.load(alice, cube.id)   # a KVPrefix, kept hot in an LRU
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from memos_lc.aio import async_twin
from memos_lc.cube import (
    ActivationPayload,
    MemCube,
    MemoryKind,
    Provenance,
    validate_namespace,
)
from memos_lc.errors import (
    ActivationError,
    ActivationFormatError,
    CubeKindError,
    InvalidInputError,
    UnsupportedModelError,
)
from memos_lc.extras import require_local
from memos_lc.vault.blobs import check_safetensors

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache, PreTrainedTokenizerBase

    from memos_lc.governance import Principal
    from memos_lc.models import LocalLM
    from memos_lc.vault import MemVault

FORMAT = "memos-lc.kv-cache"
FORMAT_VERSION = "1"
KEY_PREFIX = "activation:"
DEFAULT_CACHE_BYTES = 1024**3
"""Default RAM budget of the hot-cache LRU (a 2.5k-token SmolLM2 cache is ~115 MB)."""


def token_ids_sha256(ids: Sequence[int]) -> str:
    """sha256 of token ids as little-endian int64 (how the blob stores them)."""
    import numpy as np

    return hashlib.sha256(np.asarray(list(ids), dtype="<i8").tobytes()).hexdigest()


def activation_key(prefix_text: str, fingerprint: str) -> str:
    """The cube key of the cache of ``prefix_text`` (rendered) on the model ``fingerprint``."""
    h = hashlib.sha256(f"{fingerprint}\x00{prefix_text}".encode()).hexdigest()
    return f"{KEY_PREFIX}{h}"


def render_prefix(
    tokenizer: PreTrainedTokenizerBase, text: str, *, chat_template: str | None = None
) -> str:
    """The text a conversation whose system message starts with ``text`` begins with: the
    system turn as the chat template renders it, cut right after ``text``.

    Cutting after the block (not after the end of the turn) lets a system message continue
    after the block (e.g. with instructions); ChatMemOS checks the token ids either way.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("the memory block must be a non-empty string")
    try:
        rendered = tokenizer.apply_chat_template(
            [{"role": "system", "content": text}], chat_template=chat_template, tokenize=False
        )
    except Exception as e:  # jinja raises its own errors; templates may refuse system-only
        raise UnsupportedModelError(
            f"the chat template cannot render a system message on its own: {e}"
        ) from None
    at = rendered.find(text)
    if at < 0:
        raise UnsupportedModelError(
            "the chat template does not render the system message verbatim, so a memory "
            "block cannot be cached as a prompt prefix"
        )
    return rendered[: at + len(text)]


def encode(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids of rendered chat text (the template already wrote the special tokens)."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass(frozen=True, eq=False)
class KVPrefix:
    """A compiled KV cache of a prompt prefix, in RAM.

    ``keys[i]``/``values[i]`` are layer ``i``'s tensors, shaped
    ``[1, kv_heads, prefix_tokens, head_dim]``. Use :meth:`new_cache` to get a fresh
    ``DynamicCache`` to generate on; the stored tensors are never modified.
    """

    model_fingerprint: str
    token_ids: tuple[int, ...]
    keys: tuple[torch.Tensor, ...] = field(repr=False)
    values: tuple[torch.Tensor, ...] = field(repr=False)
    source_text: str = field(repr=False)
    cube_id: str | None = None
    blob_sha256: str | None = None

    @property
    def prefix_tokens(self) -> int:
        return len(self.token_ids)

    @functools.cached_property
    def token_ids_sha256(self) -> str:
        return token_ids_sha256(self.token_ids)

    @property
    def nbytes(self) -> int:
        """RAM held by the keys and values."""
        return sum(t.numel() * t.element_size() for t in (*self.keys, *self.values))

    def matches(self, ids: Sequence[int]) -> bool:
        """Whether ``ids`` (a whole prompt) starts with this prefix."""
        n = len(self.token_ids)
        return len(ids) >= n and tuple(ids[:n]) == self.token_ids

    def new_cache(self, upto: int | None = None) -> DynamicCache:
        """A new ``DynamicCache`` holding a copy of the keys and values of the first ``upto``
        prefix tokens (all by default)."""
        from transformers import DynamicCache

        n = self.prefix_tokens if upto is None else upto
        if not 0 <= n <= self.prefix_tokens:
            raise InvalidInputError(f"upto must be within 0..{self.prefix_tokens}")
        layers = [(k[..., :n, :], v[..., :n, :]) for k, v in zip(self.keys, self.values,
                                                                 strict=True)]  # fmt: skip
        # DynamicCache's constructor concatenates onto empty layers: the result owns copies,
        # so generating on it can never change this prefix.
        return DynamicCache(ddp_cache_data=layers)

    # -- blob form -----------------------------------------------------------------------

    def to_safetensors(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """Tensors and metadata of the blob form."""
        import torch

        tensors: dict[str, torch.Tensor] = {
            "prefix_token_ids": torch.tensor(self.token_ids, dtype=torch.int64)
        }
        for i, (k, v) in enumerate(zip(self.keys, self.values, strict=True)):
            tensors[f"layers.{i}.keys"] = k.contiguous()
            tensors[f"layers.{i}.values"] = v.contiguous()
        metadata = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model_fingerprint": self.model_fingerprint,
            "prefix_tokens": str(self.prefix_tokens),
            "prefix_token_ids_sha256": self.token_ids_sha256,
            "num_layers": str(len(self.keys)),
        }
        return tensors, metadata

    @classmethod
    def from_safetensors(
        cls,
        tensors: Mapping[str, torch.Tensor],
        metadata: Mapping[str, str],
        *,
        source_text: str,
        cube_id: str | None = None,
        blob_sha256: str | None = None,
    ) -> KVPrefix:
        """Rebuild a prefix from its blob, checking that every part is consistent."""
        import torch

        def bad(why: str) -> ActivationFormatError:
            return ActivationFormatError(f"not a valid KV cache blob: {why}")

        if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
            raise bad(f"format {metadata.get('format')!r} v{metadata.get('format_version')!r}")
        try:
            num_layers = int(metadata["num_layers"])
            n = int(metadata["prefix_tokens"])
            fingerprint = metadata["model_fingerprint"]
        except (KeyError, ValueError):
            raise bad("metadata lacks num_layers, prefix_tokens or model_fingerprint") from None
        ids = tensors.get("prefix_token_ids")
        if ids is None or ids.dtype != torch.int64 or ids.shape != (n,) or n < 1:
            raise bad("prefix_token_ids missing or not int64 of length prefix_tokens")
        expected = {"prefix_token_ids"}
        keys, values = [], []
        for i in range(num_layers):
            k, v = tensors.get(f"layers.{i}.keys"), tensors.get(f"layers.{i}.values")
            if k is None or v is None:
                raise bad(f"layer {i} is missing")
            if k.dim() != 4 or k.shape != v.shape or k.shape[0] != 1 or k.shape[2] != n:
                raise bad(f"layer {i} has shape {tuple(k.shape)}, not [1, heads, {n}, dim]")
            if not k.is_floating_point() or k.dtype != v.dtype:
                raise bad(f"layer {i} is not floating point")
            keys.append(k)
            values.append(v)
            expected |= {f"layers.{i}.keys", f"layers.{i}.values"}
        if set(tensors) != expected or num_layers < 1:
            raise bad("unexpected or missing tensors")
        token_ids = tuple(int(t) for t in ids.tolist())
        prefix = cls(fingerprint, token_ids, tuple(keys), tuple(values), source_text,
                     cube_id, blob_sha256)  # fmt: skip
        if prefix.token_ids_sha256 != metadata.get("prefix_token_ids_sha256"):
            raise bad("prefix token ids do not match their sha256")
        return prefix

    def check_header(self, payload: ActivationPayload) -> None:
        """Raise :class:`ActivationFormatError` unless the cube header describes this cache."""
        if (
            payload.model_fingerprint != self.model_fingerprint
            or payload.prefix_tokens != self.prefix_tokens
            or payload.prefix_token_ids_sha256 != self.token_ids_sha256
        ):
            raise ActivationFormatError(
                f"KV cache blob {payload.blob.sha256[:12]} does not match its cube header "
                "(model fingerprint, prefix length or prefix token ids differ)"
            )


def compile_prefix(
    lm: LocalLM,
    text: str,
    *,
    chat_template: str | None = None,
    module: torch.nn.Module | None = None,
    fingerprint: str | None = None,
) -> KVPrefix:
    """Run the system-turn prefix holding ``text`` through the model once and keep its cache.

    ``module`` and ``fingerprint`` default to the base model; pass them to compile for a
    model with an adapter applied (the fingerprint must then name the adapter too).
    """
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    prefix_text = render_prefix(lm.tokenizer, text, chat_template=chat_template)
    ids = encode(lm.tokenizer, prefix_text)
    limit = getattr(lm.model.config, "max_position_embeddings", None)
    if limit is not None and len(ids) >= limit:
        raise InvalidInputError(
            f"the memory block is {len(ids)} tokens; the model's context holds {limit}"
        )
    model = module if module is not None else lm.model
    cache = DynamicCache()
    with torch.inference_mode():
        # only the cache is wanted: skip the vocabulary projection of all but one position
        model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True,
              logits_to_keep=1)  # fmt: skip
    layers = list(cache.layers)
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        kinds = sorted({type(layer).__name__ for layer in layers})
        raise UnsupportedModelError(
            f"activation memory needs full-attention KV caches; this model uses {kinds}"
        )
    return KVPrefix(
        model_fingerprint=fingerprint or lm.fingerprint,
        token_ids=tuple(ids),
        keys=tuple(layer.keys for layer in layers),
        values=tuple(layer.values for layer in layers),
        source_text=text,
    )


class KVPrefixLRU:
    """Hot KV prefixes in RAM, least recently used evicted first, within ``max_bytes``.

    Keyed by blob sha256 (content-addressed, so an entry never goes stale). Thread-safe.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if not isinstance(max_bytes, int) or max_bytes < 0:
            raise InvalidInputError("max_bytes must be a non-negative int")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, KVPrefix] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> KVPrefix | None:
        with self._lock:
            prefix = self._entries.get(key)
            if prefix is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return prefix

    def put(self, key: str, prefix: KVPrefix) -> None:
        """Keep ``prefix``; one larger than the whole budget is not kept."""
        size = prefix.nbytes
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return
            if size > self.max_bytes:
                return
            self._entries[key] = prefix
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= old.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class ActivationMemory:
    """Compiles memory blocks into activation cubes in a vault and loads them back.

    Args:
        vault: Where cubes and their KV cache blobs live.
        max_bytes: RAM budget of the LRU of loaded caches.

    Example:
        .. code-block:: python

            memory = ActivationMemory(vault, max_bytes=512 * 2**20)
            cube = memory.compile(alice, lm, block, namespace=("alice", "kv"))
            assert memory.compile(alice, lm, block, namespace=("alice", "kv")).id == cube.id
    """

    def __init__(self, vault: MemVault, *, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        require_local("Activation memory", ("torch", "transformers", "safetensors"))
        self.vault = vault
        self.cache = KVPrefixLRU(max_bytes)

    def find(
        self,
        principal: Principal | str,
        lm: LocalLM,
        text: str,
        *,
        namespace: Sequence[str] | None = None,
        chat_template: str | None = None,
    ) -> MemCube | None:
        """An existing activation cube of ``text`` for ``lm`` (in ``namespace``, if given)."""
        prefix_text = render_prefix(lm.tokenizer, text, chat_template=chat_template)
        return self._find(principal, activation_key(prefix_text, lm.fingerprint), namespace)

    def _find(
        self, principal: Principal | str, key: str, namespace: Sequence[str] | None
    ) -> MemCube | None:
        from memos_lc.vault import CubeFilter

        f = CubeFilter(kinds=(MemoryKind.ACTIVATION,), key=key, namespace=namespace,
                       namespace_exact=namespace is not None)  # fmt: skip
        found = self.vault.find(principal, filter=f, limit=1)
        return found[0] if found else None

    def compile(
        self,
        principal: Principal | str,
        lm: LocalLM,
        text: str,
        *,
        namespace: Sequence[str],
        chat_template: str | None = None,
        derived_from: Sequence[str] = (),
        **header: Any,
    ) -> MemCube:
        """The activation cube of ``text`` for ``lm`` in ``namespace``, compiled only if needed.

        Returns an existing cube of the same block, model and template in ``namespace``; reuses
        the blob of one the principal can see elsewhere; else runs the model once.
        ``derived_from`` names the plaintext cubes the block was made from; ``header`` sets
        other MemCube fields (``tags``, ``priority``, ``expires_at``...).
        """
        namespace = validate_namespace(namespace)  # bad input fails before the model runs
        key = activation_key(render_prefix(lm.tokenizer, text, chat_template=chat_template),
                             lm.fingerprint)  # fmt: skip
        existing = self._find(principal, key, namespace)
        if existing is not None:
            return existing
        payload: ActivationPayload | None = None
        elsewhere = self._find(principal, key, None)
        if (
            elsewhere is not None
            and isinstance(elsewhere.payload, ActivationPayload)
            and self.vault.blobs.exists(elsewhere.payload.blob)
        ):
            payload = elsewhere.payload  # compiled before, for another namespace: share it
        if payload is None:
            prefix = compile_prefix(lm, text, chat_template=chat_template)
            from safetensors.torch import save

            tensors, metadata = prefix.to_safetensors()
            ref = self.vault.put_blob(principal, save(dict(tensors), metadata=dict(metadata)))
            payload = ActivationPayload(
                blob=ref,
                model_fingerprint=prefix.model_fingerprint,
                prefix_tokens=prefix.prefix_tokens,
                prefix_token_ids_sha256=prefix.token_ids_sha256,
                source_text=text,
            )
            self.cache.put(ref.sha256, prefix)
        provenance = header.pop("provenance", None) or Provenance(
            origin="activation", derived_from=tuple(derived_from)
        )
        header.setdefault("memory_type", "working")
        cube = MemCube.model_validate(
            {
                "namespace": tuple(namespace),
                "key": key,
                "payload": payload,
                "provenance": provenance,
                **header,
            }  # fmt: skip
        )
        return self.vault.put(principal, cube)[0]

    def load(self, principal: Principal | str, cube_id: str) -> KVPrefix:
        """The KV prefix of activation cube ``cube_id``, from the LRU or its blob.

        Raises :class:`~memos_lc.errors.CubeNotFoundError` for an unknown or unreadable id,
        :class:`~memos_lc.errors.CubeKindError` for a cube of another kind,
        :class:`~memos_lc.errors.BlobIntegrityError` for a corrupt blob and
        :class:`~memos_lc.errors.ActivationFormatError` for a blob that is not this cube's.
        """
        if not isinstance(cube_id, str) or not cube_id:
            raise InvalidInputError("an activation cube id must be a non-empty string")
        cube = self.vault.get(principal, cube_id)
        payload = cube.payload
        if not isinstance(payload, ActivationPayload):
            raise CubeKindError(
                f"cube {cube_id} is {cube.kind.value} memory, not activation memory"
            )
        sha = payload.blob.sha256
        hot = self.cache.get(sha)
        if hot is not None:
            if hot.cube_id != cube.id:  # same blob under another cube: relabel, share tensors
                hot = KVPrefix(hot.model_fingerprint, hot.token_ids, hot.keys, hot.values,
                               payload.source_text, cube.id, sha)  # fmt: skip
            return hot
        from safetensors.torch import load as load_tensors

        data = self.vault.blobs.get_bytes(payload.blob)  # verifies the sha256
        try:
            metadata = check_safetensors(data).get("__metadata__") or {}
            tensors = load_tensors(data)
        except Exception as e:  # safetensors raises its own error type
            raise ActivationFormatError(f"KV cache blob {sha[:12]} is unreadable: {e}") from None
        prefix = KVPrefix.from_safetensors(
            tensors, metadata, source_text=payload.source_text, cube_id=cube.id, blob_sha256=sha
        )
        prefix.check_header(payload)
        self.cache.put(sha, prefix)
        return prefix

    acompile = async_twin(compile)
    aload = async_twin(load)


def activation_promoter(
    lm: LocalLM | None = None,
    *,
    chat_template: str | None = None,
    max_bytes: int = DEFAULT_CACHE_BYTES,
    memory: ActivationMemory | None = None,
    **header: Any,
) -> Callable[[MemVault, Principal, list[MemCube]], MemCube | None]:
    """A :mod:`memos_lc.lifecycle` promoter turning hot plaintext cubes into activation memory.

    The cubes' texts, one ``"- "`` line each in the order given, become one memory block
    (one cache per block: caches of separate blocks cannot be joined), compiled for ``lm``
    (the bundled SmolLM2 when ``None``) with ``chat_template`` (the chat model's, if it has
    its own) into the cubes' common namespace. Its provenance records the cubes it was built
    from, ids and versions (``Provenance.built_from``): the next consolidation knows they are
    promoted, and once one of them changes the cube is stale (not placed, then retired).
    ``memory`` compiles through an existing :class:`ActivationMemory` of the vault (e.g. a
    chat model's, so its LRU holds the new prefix); ``header`` sets other cube fields.

    Example:
        .. code-block:: python

            from memos_lc.lifecycle import consolidate
            consolidate(vault, alice, ("alice",), policy, activate=activation_promoter())
    """
    memories: dict[int, ActivationMemory] = {}

    def promote(vault: MemVault, principal: Principal, cubes: list[MemCube]) -> MemCube | None:
        texts = [c for c in cubes if c.kind is MemoryKind.PLAINTEXT]
        if not texts:
            return None
        from memos_lc.models import load_causal_lm

        model = lm or load_causal_lm()
        namespace = list(texts[0].namespace)
        for c in texts[1:]:
            while namespace and tuple(c.namespace[: len(namespace)]) != tuple(namespace):
                namespace.pop()
        compiler = memory if memory is not None and memory.vault is vault else None
        if compiler is None:
            compiler = memories.get(id(vault))
            if compiler is None or compiler.vault is not vault:
                compiler = memories[id(vault)] = ActivationMemory(vault, max_bytes=max_bytes)
        block = "\n".join(f"- {c.text}" for c in texts)
        provenance = Provenance.built_from(
            texts, origin="activation", actor=principal.id,
            note=f"compiled {len(texts)} hot memories for {model.fingerprint}",
        )  # fmt: skip
        return compiler.compile(
            principal, model, block, namespace=namespace or texts[0].namespace,
            chat_template=chat_template, **{"provenance": provenance, **header},
        )  # fmt: skip

    return promote


__all__ = [
    "DEFAULT_CACHE_BYTES",
    "ActivationError",
    "ActivationMemory",
    "KVPrefix",
    "KVPrefixLRU",
    "activation_key",
    "activation_promoter",
    "compile_prefix",
    "encode",
    "render_prefix",
    "token_ids_sha256",
]
