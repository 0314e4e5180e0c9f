"""Decoding constrained to a JSON schema, so a local model's structured output always parses.

A small local model asked for JSON writes almost-JSON: a missing brace, a comment, prose after
the object, or a string that runs on until ``max_tokens`` cuts it. Here the schema becomes a
grammar over the model's own tokenizer (llguidance, the Rust engine behind structured output
in vLLM, SGLang and llama.cpp), and at each step of transformers' ``generate`` every token
that cannot continue a valid instance is masked out (:class:`JsonSchemaConstraint` is a
``LogitsProcessor``).

A grammar alone only guarantees a valid *prefix*: a model rambling inside a string reaches
the token budget with the object still open. So each step also keeps a way out, a *closing
path*: tokens that complete the answer from the current state (a depth-first search over the
matcher, closing quotes and brackets first, forced tokens taken whole). A token is let
through only if a closing path still fits in the budget after it; when nothing else fits, the
step follows the path. The answer is therefore a complete instance of the schema within
``max_new_tokens`` - or the call is refused before generating, with
:class:`~memos_lc.errors.InvalidInputError`, when even the shortest instance does not fit.

With greedy decoding every step checks the token it would pick (exact). With sampling, the
check runs once the budget left is within :data:`SAMPLING_CHECK_WINDOW` tokens of the
closing path, over the :data:`SAMPLING_CANDIDATES` most likely tokens (the rest are cut).

Example:
    .. code-block:: python

        from memos_lc.constrained import JsonSchemaConstraint
        from memos_lc.models import load_causal_lm

        lm = load_causal_lm()
        schema = {"type": "object", "properties": {"city": {"type": "string"}},
                  "required": ["city"]}
        constraint = JsonSchemaConstraint(lm, schema, max_new_tokens=32)
        # lm.model.generate(..., logits_processor=[constraint.processor(len(prompt_ids))])
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memos_lc.errors import InvalidInputError
from memos_lc.extras import require_local

if TYPE_CHECKING:
    import torch
    from llguidance import LLMatcher, LLTokenizer

    from memos_lc.models import LocalLM

ANY_OBJECT: dict[str, Any] = {"type": "object"}
"""The schema of ``json_mode``: any JSON object."""

COMPILE_OPTIONS: dict[str, Any] = {"whitespace_flexible": False}
"""How schemas compile: compact JSON, no whitespace between tokens (a small model otherwise
spends its budget on newlines and indentation)."""

SAMPLING_CHECK_WINDOW = 64
"""With sampling: the budget check starts when this few tokens are left beyond the closing
path (before that, one token would have to lengthen the path by more to matter)."""

SAMPLING_CANDIDATES = 64
"""With sampling, in the check window: how many of the most likely tokens are checked."""

MAX_SEARCH_NODES = 4096
"""Tokens one closing-path search may try; past that it gives up (the token is refused)."""

# Single characters a closing path is built from, in the order they are tried: closing a
# string, array or object first, then separators, the shortest values, then anything a key,
# an enum or a pattern may need.
_PATH_CHARS = (
    '"]},:0[{1-tfn'
    + "abcdeghijklmopqrsuvwxyz"
    + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    + "23456789 _.+/@#$%&*()=?!;<>|~^`'\\"
)

_tokenizers: dict[str, LLTokenizer] = {}
_tokenizers_lock = threading.Lock()


def grammar_tokenizer(lm: LocalLM) -> LLTokenizer:
    """The model's tokenizer as llguidance sees it (built once per model: about 0.3 s)."""
    with _tokenizers_lock:
        if lm.fingerprint not in _tokenizers:
            from llguidance.hf import from_tokenizer

            vocab = lm.model.get_output_embeddings().weight.shape[0]
            try:
                made = from_tokenizer(lm.tokenizer, n_vocab=vocab)
            except ValueError as e:  # a slow (Python) tokenizer
                raise InvalidInputError(
                    f"constrained decoding needs a fast tokenizer; {lm.name}'s is not: {e}"
                ) from None
            _tokenizers[lm.fingerprint] = made
        return _tokenizers[lm.fingerprint]


@functools.lru_cache(maxsize=64)
def _grammar(schema_json: str) -> str:
    from llguidance import LLMatcher

    grammar = LLMatcher.grammar_from_json_schema(schema_json, defaults=COMPILE_OPTIONS)
    failed, messages = LLMatcher.validate_grammar_with_warnings(grammar)
    if failed:
        raise InvalidInputError(f"the JSON schema cannot constrain decoding: {messages[0]}")
    return grammar


def json_grammar(schema: Mapping[str, Any] | None) -> str:
    """The llguidance grammar of a JSON schema (``None``: any JSON object). Raises
    :class:`InvalidInputError` for a schema it cannot compile and
    :class:`~memos_lc.errors.MissingExtraError` without the ``local`` extra."""
    require_local("Structured output (constrained decoding)", ("llguidance",))
    if schema is None:
        schema = ANY_OBJECT
    if not isinstance(schema, Mapping):
        raise InvalidInputError(f"a JSON schema must be a mapping, got {type(schema).__name__}")
    try:
        # the order of properties is the order the answer writes them in: kept
        text = json.dumps(closed_objects(schema))
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"the JSON schema is not JSON: {e}") from None
    return _grammar(text)


@functools.lru_cache(maxsize=8)
def _path_tokens(tokenizer: LLTokenizer) -> tuple[int, ...]:
    out = []
    for char in _PATH_CHARS:
        ids = tokenizer.tokenize_str(char)
        if len(ids) == 1:
            out.append(ids[0])
    return tuple(out)


def closing_path(
    matcher: LLMatcher, tokenizer: LLTokenizer, limit: int = 100_000
) -> list[int] | None:
    """Tokens that take ``matcher`` to an accepting state (a complete instance), or ``None``
    if the search finds none of at most ``limit`` tokens. ``matcher`` is not changed.

    Depth first, closers tried first and forced tokens taken whole: the path is short (not
    always the shortest) and found in about as many steps as it is long; the search gives
    up after trying :data:`MAX_SEARCH_NODES` tokens. It is deterministic: from the state
    after a path's first token, it finds the rest of that path."""
    budget = [MAX_SEARCH_NODES]
    return _search(matcher, _path_tokens(tokenizer), limit, budget)


def _search(
    matcher: LLMatcher, alphabet: tuple[int, ...], limit: int, budget: list[int]
) -> list[int] | None:
    if matcher.is_accepting():
        return []
    if limit <= 0 or budget[0] <= 0 or matcher.is_stopped():
        return None
    forced = matcher.compute_ff_tokens()
    if forced:
        budget[0] -= 1
        if len(forced) > limit:
            return None
        state = matcher.deep_copy()
        state.consume_tokens(forced)
        rest = _search(state, alphabet, limit - len(forced), budget)
        return None if rest is None else [*forced, *rest]
    for token in alphabet:
        if matcher.validate_tokens([token]) != 1:
            continue
        budget[0] -= 1
        if budget[0] <= 0:
            return None
        state = matcher.deep_copy()
        state.consume_token(token)
        rest = _search(state, alphabet, limit - 1, budget)
        if rest is not None:
            return [token, *rest]
    return None


def closed_objects(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object schema that lists its
    properties and says nothing about others: the answer holds the fields asked for, not
    keys a model makes up (what OpenAI's strict mode requires of a schema)."""
    if isinstance(schema, list):
        return [closed_objects(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {k: closed_objects(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


class JsonSchemaConstraint:
    """One answer's constraint to a JSON schema within ``max_new_tokens``.

    ``prefill`` is answer text the prompt already ends with (e.g. ``"{"``): the grammar reads
    it first. Raises :class:`InvalidInputError` if the schema does not compile or if no
    instance fits in ``max_new_tokens``.
    """

    def __init__(
        self,
        lm: LocalLM,
        schema: Mapping[str, Any] | None,
        *,
        max_new_tokens: int,
        prefill: str = "",
    ) -> None:
        from llguidance import LLMatcher

        self.grammar = json_grammar(schema)
        self.tokenizer = grammar_tokenizer(lm)
        self.max_new_tokens = max_new_tokens
        self.matcher = LLMatcher(self.tokenizer, self.grammar, log_level=0)
        if prefill and not self.matcher.consume_tokens(self.tokenizer.tokenize_str(prefill)):
            raise InvalidInputError(f"the answer cannot start with {prefill!r} for this schema")
        if self.matcher.is_error():
            raise InvalidInputError(f"the JSON schema cannot constrain decoding: {self.error}")
        path = closing_path(self.matcher, self.tokenizer)
        if path is None or len(path) > max_new_tokens:
            need = f"the shortest answer found takes {len(path)}" if path else "none found"
            raise InvalidInputError(
                f"max_tokens={max_new_tokens} is too few for an answer matching the schema "
                f"({need} tokens)"
            )
        self.path: list[int] = path
        """A closing path from the current state (kept within the tokens left)."""

    @property
    def error(self) -> str:
        """Why the matcher failed ("" while it has not)."""
        return self.matcher.get_error()

    def processor(self, prompt_tokens: int, *, sampling: bool = False) -> _ConstraintProcessor:
        """The ``LogitsProcessor`` for one ``generate`` call whose prompt (the whole input,
        cached prefix included) has ``prompt_tokens`` tokens."""
        return _ConstraintProcessor(self, prompt_tokens, sampling)

    def fits(self, token: int, left: int) -> list[int] | None:
        """The closing path after ``token`` if one fits in ``left`` more tokens, else None."""
        if self.path and token == self.path[0]:
            return self.path[1:]
        if self.matcher.validate_tokens([token]) != 1:
            return None
        state = self.matcher.deep_copy()
        state.consume_token(token)
        # unbounded, the search follows its first choices (a few steps); bounded by
        # ``left`` it would try every way to fit before refusing
        path = closing_path(state, self.tokenizer)
        return path if path is not None and len(path) <= left else None


class _ConstraintProcessor:
    """transformers' ``LogitsProcessor`` interface: ``(input_ids, scores) -> scores``."""

    def __init__(self, constraint: JsonSchemaConstraint, prompt_tokens: int, sampling: bool):
        self.constraint = constraint
        self.prompt_tokens = prompt_tokens
        self.sampling = sampling
        self.seen = 0  # generated tokens the matcher has consumed
        self.paths: dict[int, list[int]] = {}  # closing path after each let-through token

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        import numpy as np
        import torch

        c = self.constraint
        for token in input_ids[0, self.prompt_tokens + self.seen :].tolist():
            self.seen += 1
            c.matcher.consume_token(token)
            path = self.paths.get(token)
            if path is None:  # a token nobody checked (sampling far from the end)
                path = closing_path(c.matcher, c.tokenizer) or []
            c.path, self.paths = path, {}
        left = c.max_new_tokens - self.seen  # tokens still allowed, this one included
        bits = np.frombuffer(c.matcher.compute_bitmask(), dtype=np.uint8)
        allowed = np.unpackbits(bits, bitorder="little")[: scores.shape[-1]].astype(bool)
        masked = scores.masked_fill(~torch.from_numpy(allowed).to(scores.device), float("-inf"))
        if c.matcher.is_error() or c.matcher.is_accepting():
            return masked  # the end of sequence is allowed (or nothing can be done)
        if self.sampling and left > len(c.path) + SAMPLING_CHECK_WINDOW:
            return masked
        # keep only tokens after which a closing path fits in the tokens left; greedy
        # decoding needs only the best of them
        best = torch.topk(masked[0], min(SAMPLING_CANDIDATES, int(allowed.sum())))
        keep: list[int] = []
        for value, token in zip(best.values.tolist(), best.indices.tolist(), strict=True):
            if value == float("-inf"):
                break
            path = c.fits(token, left - 1)
            if path is not None:
                keep.append(token)
                self.paths[token] = path
                if not self.sampling:
                    break
        if not keep:  # nothing else fits: follow the path
            if not c.path:  # no path was found (the search gave up): the grammar alone
                return masked
            keep = [c.path[0]]
            self.paths[keep[0]] = c.path[1:]
        out = torch.full_like(scores, float("-inf"))
        # finite, so sampling has something to draw even if the model scored them -inf
        out[0, keep] = scores[0, keep].clamp(min=-1e4)
        return out


__all__ = [
    "ANY_OBJECT",
    "COMPILE_OPTIONS",
    "JsonSchemaConstraint",
    "closing_path",
    "grammar_tokenizer",
    "json_grammar",
]
