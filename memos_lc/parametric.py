"""Parametric memory: consolidate plaintext cubes into a LoRA adapter, and serve adapters.

:func:`consolidate_to_adapter` trains a LoRA adapter (peft) on a set of plaintext cubes so the
model answers questions about them *closed-book*, with no memory in the prompt, and stores it
as a parametric :class:`~memos_lc.cube.MemCube`: the adapter weights are a safetensors blob in
the vault's blob store, the header records the model fingerprint, the source cubes
(``provenance.derived_from``) and the training statistics.

:class:`AdapterRegistry` serves such cubes on one loaded model: it loads adapters (verifying
kind, model fingerprint and blob digest) through peft, each into its own peft model that shares
the base weights (the base model itself is never modified), and keeps the few most recently
used.

How facts become training data (:func:`training_pairs`): a 135M model does not learn to
*answer questions* about a fact from the bare statement alone, so every fact is rendered as
questions the model may be asked (from the statement's shape, e.g. ``"X's Y is Z"`` gives
``"What is X's Y?"``; from its subject, ``"What do you know about X?"``; a cloze prompt), each
answered with the statement through the model's chat template, plus the plain statement. The
loss is on the answers only.

How the adapter leaves everything else alone (:attr:`AdapterTrainingConfig.anchor_weight`):
every step also takes a paragraph of general prose (``memos_lc._anchor``) and adds the KL
divergence from the base model's next-token distribution on it to the adapted model's. The
base distribution on a text is computed once, the first time it is taken (it does not
change), and kept as its top-k tokens plus a bucket for the rest, so the anchor costs one
short forward and backward pass per anchored step. Without it, 50 facts raised the
perplexity of unrelated prose by about a quarter; with it, it stays within a few percent.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.models import load_causal_lm
        from memos_lc.parametric import AdapterRegistry, consolidate_to_adapter

        alice = Principal(id="alice")
        vault = MemVault.open("/tmp/vault")
        facts = [vault.add(alice, "Zorblat Quennis's favourite colour is teal", namespace=("kb",))]
        cube = consolidate_to_adapter(vault, alice, facts)

        lm = load_causal_lm()
        registry = AdapterRegistry(lm)
        name = registry.load(vault, alice, cube.id)
        with registry.use(name) as model:
            ...  # model(...) / model.generate(...) answer with the adapter's knowledge
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import math
import random
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memos_lc.aio import Call, Steps, arun_steps, async_twin, run_steps
from memos_lc.cube import (
    AccessControl,
    MemCube,
    MemoryKind,
    ParametricPayload,
    PlaintextPayload,
    Provenance,
)
from memos_lc.errors import (
    AdapterFormatError,
    AdapterNotLoadedError,
    CubeKindError,
    InvalidInputError,
    ModelMismatchError,
    TrainingCancelledError,
)
from memos_lc.extras import require_local
from memos_lc.governance import Principal, as_principal
from memos_lc.models import LocalLM, load_causal_lm

if TYPE_CHECKING:
    import torch

    from memos_lc.vault import MemVault

logger = logging.getLogger(__name__)

ADAPTER_FORMAT = "memos-lc.lora/1"
"""``format`` in an adapter blob's safetensors metadata."""

# What training and applying adapters import: all from the ``local`` extra.
PARAMETRIC_MODULES = ("torch", "transformers", "peft", "safetensors")

MAX_SOURCE_CUBES = 10_000
_TRAIN_ADAPTER = "memos_train"
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEFAULT_TARGET_MODULES = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
"""Every linear layer of a Llama-style block: facts live mostly in the MLPs, so adapting only
the attention (q/v) memorizes far more slowly."""


# -- configuration -----------------------------------------------------------------------


class AdapterTrainingConfig(BaseModel):
    """How :func:`consolidate_to_adapter` trains. The defaults fit 50 facts into the bundled
    SmolLM2-135M: in ``benchmarks/lora_recall.py`` closed-book recall 94-96% (88-92% on a
    phrasing never trained on; base model 0%), perplexity of unrelated prose about -1%, from
    60 steps and about 40k training tokens: about 215 CPU-seconds with one torch thread
    (256 s wall at load average ~3; ~3.5 CPU-s per step with bf16, ~4.6 without).

    Example:
        .. code-block:: python

            from memos_lc.parametric import AdapterTrainingConfig

            quick = AdapterTrainingConfig(steps=20, max_seconds=30)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int = Field(default=16, ge=1, le=256)
    """LoRA rank ``r``."""
    alpha: float | None = Field(default=None, gt=0)
    """LoRA scaling numerator; ``2 * rank`` when unset."""
    target_modules: tuple[str, ...] = DEFAULT_TARGET_MODULES
    """Names of the linear layers to adapt (matched as suffixes of module names)."""
    learning_rate: float = Field(default=3e-3, gt=0, le=1.0)
    steps: int = Field(default=66, ge=1, le=100_000)
    """Optimizer steps. 66 steps of 8 question/answer pairs see each of the 100 pairs of 50
    facts about five times: enough for the bundled 135M model to recall them (and answer
    rephrased questions) in about two CPU minutes; fewer facts need fewer."""
    batch_size: int = Field(default=1, ge=1, le=256)
    """Conversations per step."""
    pairs_per_sequence: int = Field(default=8, ge=1, le=256)
    """Question/answer pairs packed into one conversation (and statements per paragraph)."""
    warmup_steps: int = Field(default=10, ge=0)
    """Steps of linear learning-rate warmup (at most a quarter of ``steps``); the rate then
    decays linearly to zero."""
    weight_decay: float = Field(default=0.0, ge=0.0)
    max_seconds: float | None = Field(default=None, gt=0)
    """Stop after this much training time; the adapter so far is stored (status
    ``"time_budget"``)."""
    max_sequence_tokens: int = Field(default=1024, ge=16, le=32_768)
    """Longer training sequences are cut."""
    questions_per_fact: int = Field(default=2, ge=0, le=16)
    """Questions from a statement's shape taught per fact (see :func:`fact_questions`)."""
    subject_questions: bool = False
    """Also teach "What do you know about <subject>?" per subject (long answers: they cost
    training time and, in the 50-fact benchmark, did not raise recall)."""
    cloze: bool = False
    """Also teach "Complete this fact: <first words> ..." per fact."""
    system_prompts: tuple[str | None, ...] = (None, "You are a helpful assistant.")
    """Questions are rendered under each of these system messages in turn (``None``: the
    chat template's default), so recall does not hinge on one exact system prompt."""
    include_statements: bool = False
    """Also train on the statements as plain text (a paragraph per step)."""
    anchor_weight: float = Field(default=1.0, ge=0.0)
    """Weight of the anchor loss: each step also pulls the adapted model's next-token
    distribution on a paragraph of general prose towards the base model's (KL divergence), so
    the adapter learns the facts while changing little else. ``0`` turns it off."""
    anchor_texts: tuple[str, ...] | None = None
    """The prose for the anchor loss; a dozen bundled everyday paragraphs when ``None``."""
    anchor_chats: tuple[tuple[str, str], ...] | None = None
    """``(user, assistant)`` exchanges rendered with the chat template and anchored like the
    prose (one per anchored step): they keep how the model opens a reply, so an adapter
    taught answers that restate their question does not start restating other requests.
    A handful of bundled everyday exchanges when ``None``; ``()`` for none."""
    anchor_paragraphs_per_step: int = Field(default=1, ge=1, le=64)
    """Anchor paragraphs per anchored step (taken in shuffled rounds)."""
    anchor_every: int = Field(default=3, ge=1, le=1000)
    """Take the anchor loss on every ``anchor_every``-th step (the first step included). The
    anchor's forward and backward pass cost about as much as the facts'; every third step
    keeps perplexity on unrelated text within a percent of the base model's at two thirds of
    the cost."""
    anchor_max_tokens: int = Field(default=128, ge=2, le=32_768)
    """Anchor paragraphs are cut to this many tokens."""
    anchor_top_k: int = Field(default=64, ge=1, le=4096)
    """The base distribution on an anchor text is computed once, when the text is first
    taken (it does not change), and kept as its ``anchor_top_k`` most likely tokens per
    position plus one bucket for the rest; the KL is taken over those ``k + 1`` outcomes."""
    bf16: bool | None = None
    """Run the forward and backward passes under bfloat16 autocast (the adapter weights and
    the optimizer stay float32). ``None``: only when the CPU has bf16 units (AMX or
    AVX512-BF16, read from ``/proc/cpuinfo``), where it is about 1.4x faster per step; on
    other CPUs bf16 is emulated and slower."""
    seed: int = 0
    on_interrupt: Literal["discard", "keep"] = "discard"
    """What a :class:`KeyboardInterrupt` (Ctrl-C) during training does: ``"discard"`` stores
    nothing and re-raises; ``"keep"`` stores the adapter trained so far with training status
    ``"interrupted"`` (and the tag ``"interrupted"``) and returns it (the interrupt is
    consumed: it meant "stop training now"). An interrupt before the first step completes
    always discards and re-raises."""

    @field_validator("target_modules")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or not all(_MODULE_NAME.match(m) for m in v):
            raise ValueError("target_modules must be non-empty module names like 'q_proj'")
        return tuple(dict.fromkeys(v))

    @property
    def lora_alpha(self) -> float:
        return self.alpha if self.alpha is not None else 2.0 * self.rank

    @property
    def use_bf16(self) -> bool:
        """Whether training runs under bf16 autocast (:attr:`bf16`, resolved)."""
        return _cpu_has_bf16() if self.bf16 is None else self.bf16


_bf16_units: bool | None = None


def _cpu_has_bf16() -> bool:
    """True when the CPU announces native bf16 matrix units (Linux ``/proc/cpuinfo``)."""
    global _bf16_units
    if _bf16_units is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                flags = next((line for line in f if line.startswith("flags")), "").split()
        except OSError:
            flags = []
        _bf16_units = "amx_bf16" in flags or "avx512_bf16" in flags
    return _bf16_units


class _LoraSpec(BaseModel):
    """The LoRA shape stored in an adapter blob's metadata (validated before peft sees it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: int = Field(ge=1, le=1024)
    lora_alpha: float = Field(gt=0, allow_inf_nan=False)
    target_modules: tuple[str, ...]

    @field_validator("target_modules")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(v) > 64 or not all(_MODULE_NAME.match(m) for m in v):
            raise ValueError("target_modules must be 1-64 module names")
        return v

    def peft_config(self) -> Any:
        from peft import LoraConfig

        # A list (not a string) makes peft match names exactly/as suffixes, never as a regex.
        return LoraConfig(
            r=self.r,
            lora_alpha=self.lora_alpha,
            target_modules=list(self.target_modules),
            lora_dropout=0.0,
            bias="none",
            inference_mode=True,
            task_type="CAUSAL_LM",
        )


# -- training data -------------------------------------------------------------------------


class QAPair(BaseModel):
    """A question a fact answers and the answer the adapter learns to give."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


_POSSESSIVE = re.compile(
    r"^(?P<s>[^,;:.?!]{1,80}?)['’]s (?P<a>[^,;:?!]{1,60}?) (?P<v>is|are|was|were) (?P<o>.+)$"
)
_COPULA = re.compile(r"^(?P<s>[^,;:?!]{1,60}?) (?P<v>is|are|was|were) (?P<o>.+)$")
_PROPER = re.compile(r"^((?:[A-Z][\w'’.-]*)(?: (?:[A-Z][\w'’.-]*|of|the|de|van|von))*)")


def _clean(text: str) -> str:
    return " ".join(text.split()).rstrip(".!; ")


def fact_questions(statement: str) -> tuple[str | None, list[str]]:
    """The subject of ``statement`` and the questions it answers, by its shape, most direct
    first.

    ``"X's Y is Z"`` gives questions about ``X's Y``; otherwise the subject is the leading
    proper name (``"Alice prefers tea"`` -> ``"Alice"``, no shape questions) or the noun
    phrase before ``is``/``are``. Returns ``(None, [])`` when neither is found (the statement
    is still learned through a cloze prompt and as plain text).

    Example:
        .. code-block:: python

            fact_questions("Zorblat Quennis's favourite colour is teal")
            # ("Zorblat Quennis", ["What is Zorblat Quennis's favourite colour?", ...])
    """
    s = _clean(statement)
    m = _POSSESSIVE.match(s)
    if m:
        subj, attr, verb = m["s"], m["a"], m["v"]
        return subj, [
            f"What {verb} {subj}'s {attr}?",
            f"Do you know {subj}'s {attr}?",
            f"Tell me {subj}'s {attr}.",
            f"{subj}'s {attr}?",
        ]
    proper = _PROPER.match(s)
    if proper and len(proper[1].split()) <= 6 and proper[1] != s:
        return proper[1], []
    m = _COPULA.match(s)
    if m and len(m["s"].split()) <= 6:
        return m["s"], [f"What {m['v']} {m['s']}?"]
    return None, []


def _cloze(statement: str) -> tuple[str, str] | None:
    words = _clean(statement).split()
    if len(words) < 4:
        return None
    cut = max(2, (len(words) * 3) // 5)
    return " ".join(words[:cut]), " ".join(words[cut:])


def _statement(cube: MemCube) -> str:
    payload = cube.payload
    if not isinstance(payload, PlaintextPayload):
        raise CubeKindError(f"cube {cube.id} is {cube.kind.value}; only plaintext trains")
    text = " ".join(payload.text.split())
    return text if text[-1] in ".!?" else text + "."


def training_pairs(
    cubes: Sequence[MemCube], config: AdapterTrainingConfig | None = None
) -> list[QAPair]:
    """The question/answer pairs :func:`consolidate_to_adapter` teaches for ``cubes``.

    Per fact, every answer is the statement itself: up to ``config.questions_per_fact`` of
    the questions of :func:`fact_questions`, preceded by the cube's own
    ``data["questions"]`` (a list of strings) when it has them; a cloze prompt
    (``"Complete this fact: ..."``) when ``config.cloze``; and per subject, "What do you know
    about <subject>?" answered with every fact about it, when ``config.subject_questions``.
    """
    config = config or AdapterTrainingConfig()
    pairs: list[QAPair] = []
    by_subject: dict[str, list[str]] = {}
    for cube in cubes:
        statement = _statement(cube)
        subject, questions = fact_questions(statement)
        questions = questions[: config.questions_per_fact]
        given = (cube.payload.data or {}).get("questions")  # type: ignore[union-attr]
        if isinstance(given, list) and all(isinstance(q, str) and q.strip() for q in given):
            questions = [*given, *questions]
        pairs.extend(QAPair(question=q, answer=statement) for q in dict.fromkeys(questions))
        cloze = _cloze(statement) if config.cloze else None
        if cloze:
            pairs.append(QAPair(question=f"Complete this fact: {cloze[0]} ...", answer=statement))
        if subject:
            by_subject.setdefault(subject, []).append(statement)
    if config.subject_questions:
        for subject, facts in by_subject.items():
            answer = " ".join(dict.fromkeys(facts))
            pairs.append(QAPair(question=f"What do you know about {subject}?", answer=answer))
    return pairs


def render_conversation(
    tokenizer: Any, pairs: Sequence[QAPair], system: str | None = None
) -> tuple[list[int], list[int]]:
    """``pairs`` as one chat (question, answer, question, ...) through the tokenizer's chat
    template: token ids, and labels that are the ids on the answers (with their
    end-of-turn marker, so the model learns to stop) and ``-100`` elsewhere.

    Several pairs share one sequence so the template's system prompt is paid once, not per
    fact: on a CPU the number of tokens is the cost. Tokenizers without a chat template get a
    plain ``Question:``/``Answer:`` layout.
    """
    ids: list[int] = []
    labels: list[int] = []

    def add(text: str, learn: bool) -> None:
        toks = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        ids.extend(toks)
        labels.extend(toks if learn else [-100] * len(toks))

    if not getattr(tokenizer, "chat_template", None):
        for pair in pairs:
            add(f"Question: {pair.question}\nAnswer: ", False)
            add(pair.answer + "\n\n", True)
        return ids, labels
    msgs: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    done = ""
    for pair in pairs:
        msgs.append({"role": "user", "content": pair.question})
        prompt = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        msgs.append({"role": "assistant", "content": pair.answer})
        full = tokenizer.apply_chat_template(msgs, tokenize=False)
        if not (prompt.startswith(done) and full.startswith(prompt)):
            raise InvalidInputError("the chat template does not render a conversation by turns")
        add(prompt[len(done) :], False)
        add(full[len(prompt) :], True)
        done = full
    return ids, labels


# -- training ------------------------------------------------------------------------------


@dataclass
class _Trained:
    tensors: dict[str, torch.Tensor]
    stats: dict[str, float | int | str]


_PEFT_PREFIX = "base_model.model."
"""What peft's state dicts put before a parameter's name in the base model."""


def _peft_model(lm: LocalLM, config: Any, name: str) -> Any:
    """A peft model with adapter ``name`` over a private copy of ``lm.model``'s module tree
    that *shares* its weights (no copy of them): peft injects its layers into the copy, so
    ``lm.model`` is never modified, and other threads may use it meanwhile. peft freezes
    the base weights it wraps; they are ``lm.model``'s, so their flags are put back."""
    from peft import get_peft_model

    base = lm.model
    shared = list(base.parameters())
    flags = [p.requires_grad for p in shared]
    tree = copy.deepcopy(base, memo={id(p): p for p in shared})
    try:
        with warnings.catch_warnings():
            # peft reads a property transformers has deprecated; nothing for us to change
            warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
            return get_peft_model(tree, config, adapter_name=name)
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)


def _lora_state(model: Any, name: str) -> dict[str, torch.Tensor]:
    """Adapter ``name``'s weights under canonical names: peft's saved names without its
    prefix (``model.layers.0.self_attn.q_proj.lora_A.weight``), as in the stored blobs."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(model, adapter_name=name, save_embedding_layers=False)
    return {k.removeprefix(_PEFT_PREFIX): v for k, v in state.items()}


class _Stream:
    """Items in shuffled epochs: every item is seen once before any is seen twice."""

    def __init__(self, items: Sequence[Any], rng: random.Random) -> None:
        self.items, self.rng, self.queue = list(items), rng, list[Any]()

    def take(self, n: int) -> list[Any]:
        out = []
        while len(out) < n:
            if not self.queue:
                self.queue = self.items[:]
                self.rng.shuffle(self.queue)
            out.append(self.queue.pop())
        return out


def _batches(
    tokenizer: Any, pairs: list[QAPair], statements: list[str], config: AdapterTrainingConfig
) -> Iterator[list[tuple[list[int], list[int]]]]:
    """Endless training batches: ``batch_size`` conversations of ``pairs_per_sequence`` pairs
    (system prompts in turn), plus a paragraph of statements when ``include_statements``."""
    rng = random.Random(config.seed)
    qa, facts = _Stream(pairs, rng), _Stream(statements, rng)
    systems = list(config.system_prompts)
    row = 0
    while True:
        batch = []
        for _ in range(config.batch_size):
            system = systems[row % len(systems)]
            row += 1
            ids, labels = render_conversation(tokenizer, qa.take(config.pairs_per_sequence), system)
            batch.append((ids[: config.max_sequence_tokens], labels[: config.max_sequence_tokens]))
        if config.include_statements and statements:
            text = " ".join(facts.take(config.pairs_per_sequence))
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids = ids[: config.max_sequence_tokens]
            batch.append((ids, ids[:]))
        yield batch


def _train(
    lm: LocalLM,
    pairs: list[QAPair],
    statements: list[str],
    config: AdapterTrainingConfig,
    *,
    progress: bool,
    stop: threading.Event | None,
    desc: str,
    on_step: Callable[[int, float], None] | None = None,
) -> _Trained:
    if not pairs:
        raise InvalidInputError("the cubes gave no question/answer pairs to train on")
    spec = _LoraSpec(
        r=config.rank, lora_alpha=config.lora_alpha, target_modules=config.target_modules
    )
    import torch

    peft_config = spec.peft_config()
    peft_config.inference_mode = False
    shared = list(lm.model.parameters())
    grad_flags = [p.requires_grad for p in shared]
    # the adapter's initial weights come from the seed, without reseeding the generator
    # other threads sample from
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        try:
            model = _peft_model(lm, peft_config, _TRAIN_ADAPTER)
        except ValueError as e:  # peft: no module matches target_modules
            raise InvalidInputError(f"cannot adapt {lm.name}: {e}") from None
    try:
        for p in shared:  # only the adapter learns
            p.requires_grad_(False)
        # chosen by name, not by flag: another thread's training puts the shared weights'
        # flags back when it ends, which must never hand them to this optimizer
        params = [
            p for n, p in model.named_parameters() if "lora_" in n and f".{_TRAIN_ADAPTER}." in n
        ]
        model.train()
        batches = _batches(lm.tokenizer, pairs, statements, config)
        trained = _loop(
            model, params, batches, lm, config,
            progress=progress, stop=stop, desc=desc, on_step=on_step,
        )  # fmt: skip
        trained.stats["pairs"] = len(pairs)
        return trained
    finally:
        for p, flag in zip(shared, grad_flags, strict=True):
            p.requires_grad_(flag)


@dataclass
class _AnchorTarget:
    """One anchor paragraph and the base model's next-token distribution on it, reduced to
    its ``top_k`` most likely tokens per position plus one bucket for all the others."""

    ids: torch.Tensor  # (1, T)
    top: torch.Tensor  # (T, k) token ids
    logp: torch.Tensor  # (T, k + 1) base log-probabilities: the top k, then the rest


def _rest_logprob(logits: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """log of the probability mass outside ``top`` per position, from float32 ``logits``."""

    masked = logits.scatter(1, top, float("-inf"))
    return masked.logsumexp(-1) - logits.logsumexp(-1)


class _Anchors:
    """The anchor paragraphs and chat exchanges, taken in shuffled rounds, each with the base
    model's next-token distribution on it. A distribution is computed the first time its
    text is taken (with ``model``'s adapter off, in float32): the base model does not change
    during training, and a short run (a time budget, an interrupt) takes only a few."""

    def __init__(self, model: Any, tokenizer: Any, config: AdapterTrainingConfig) -> None:
        from memos_lc._anchor import ANCHOR_CHATS, ANCHOR_TEXTS

        texts = config.anchor_texts if config.anchor_texts is not None else ANCHOR_TEXTS
        chats = config.anchor_chats if config.anchor_chats is not None else ANCHOR_CHATS
        if not getattr(tokenizer, "chat_template", None):
            chats = ()  # no template to render them with: the prose alone anchors

        def token_ids(texts: Sequence[str]) -> list[tuple[int, ...]]:
            cut = (tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts)
            return [tuple(ids[: config.anchor_max_tokens]) for ids in cut]

        prose = [ids for ids in token_ids(texts) if len(ids) >= 2]
        exchanges = token_ids([_chat_text(tokenizer, user, reply) for user, reply in chats])
        exchanges = [ids for ids in exchanges if len(ids) >= 2]
        self.prose = _Stream(prose, random.Random(config.seed + 1)) if prose else None
        self.chats = _Stream(exchanges, random.Random(config.seed + 2)) if exchanges else None
        self.per_step = config.anchor_paragraphs_per_step
        self.top_k = config.anchor_top_k
        self.model = model
        self.targets: dict[tuple[int, ...], _AnchorTarget] = {}

    def take(self) -> list[_AnchorTarget]:
        """The targets of one anchored step: its paragraphs, then one exchange."""
        taken = self.prose.take(self.per_step) if self.prose is not None else []
        if self.chats is not None:
            taken += self.chats.take(1)
        return [self._target(ids) for ids in taken]

    def _target(self, ids: tuple[int, ...]) -> _AnchorTarget:
        import torch

        target = self.targets.get(ids)
        if target is not None:
            return target
        off = torch.autocast("cpu", enabled=False)
        with self.model.disable_adapter(), torch.no_grad(), off:
            x = torch.tensor([ids])
            logits = self.model(input_ids=x).logits[0].float()
        k = min(self.top_k, logits.shape[-1] - 1)
        top = logits.topk(k, dim=-1).indices
        logp = logits.log_softmax(-1).gather(1, top)
        rest = _rest_logprob(logits, top)
        target = self.targets[ids] = _AnchorTarget(x, top, torch.cat([logp, rest[:, None]], 1))
        return target


def _chat_text(tokenizer: Any, user: str, reply: str) -> str:
    """One exchange as the chat template renders it (with the template's default system
    prompt, as a plain chat call sends it)."""
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": user}, {"role": "assistant", "content": reply}],
        tokenize=False,
    )


def _anchor_loss(model: Any, target: _AnchorTarget) -> torch.Tensor:
    """KL(base || adapted) of the next-token distributions on an anchor paragraph, mean per
    position, over the base model's top-k tokens and one bucket for the rest (a lower bound
    of the full KL that keeps nearly all of it: the top 64 tokens hold most of the mass)."""
    import torch

    logits = model(input_ids=target.ids).logits[0].float()
    logq = logits.log_softmax(-1).gather(1, target.top)
    logq = torch.cat([logq, _rest_logprob(logits, target.top)[:, None]], dim=1)
    p = target.logp
    return (p.exp() * (p - logq)).sum(-1).mean()


def _step_loss(model: Any, batch: list[tuple[list[int], list[int]]], pad: int) -> torch.Tensor:
    """Mean cross-entropy over the learned tokens of ``batch``. Logits are computed only at
    the positions that predict a learned token: the vocabulary projection is a fifth of the
    model's work and most positions are prompt."""
    import torch
    import torch.nn.functional as F

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (seq, lab) in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, : len(lab)] = torch.tensor(lab)
        mask[row, : len(seq)] = 1
    target = labels[:, 1:]
    keep = (target != -100).any(dim=0).nonzero().squeeze(1)
    out = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep)
    logits = out.logits.reshape(-1, out.logits.shape[-1]).float()
    return F.cross_entropy(logits, target[:, keep].reshape(-1))


def _loop(
    model: Any,
    params: list[torch.Tensor],
    batches: Iterator[list[tuple[list[int], list[int]]]],
    lm: LocalLM,
    config: AdapterTrainingConfig,
    *,
    progress: bool,
    stop: threading.Event | None,
    desc: str,
    on_step: Callable[[int, float], None] | None,
) -> _Trained:
    import torch
    from tqdm.auto import tqdm

    pad = lm.tokenizer.pad_token_id
    pad = pad if pad is not None else (lm.tokenizer.eos_token_id or 0)
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    total = config.steps
    warm = min(config.warmup_steps, total // 4)
    # linear warmup, then linear decay to zero: the last steps settle instead of overshooting
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (warm + 1)) * max(0.0, (total - s) / total)
    )
    losses: list[float] = []
    anchor_losses: list[float] = []
    bf16 = config.use_bf16
    tokens = 0
    status = "completed"
    started = time.perf_counter()
    cpu_started = time.process_time()
    bar = tqdm(total=total, desc=desc, unit="step", disable=not progress, leave=False)
    try:
        anchors = _Anchors(model, lm.tokenizer, config) if config.anchor_weight else None
        for step in range(total):
            if stop is not None and stop.is_set():
                raise TrainingCancelledError("adapter training was cancelled; nothing stored")
            batch = next(batches)
            targets = []
            if anchors is not None and step % config.anchor_every == 0:
                targets = anchors.take()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = _step_loss(model, batch, pad)
                total_loss = loss
                for target in targets:
                    tokens += target.ids.shape[1]
                    anchor_loss = _anchor_loss(model, target)
                    anchor_losses.append(anchor_loss.item())
                    total_loss = total_loss + config.anchor_weight * anchor_loss
            if not math.isfinite(total_loss.item()):
                raise InvalidInputError("training diverged (non-finite loss); lower learning_rate")
            total_loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
            tokens += sum(len(ids) for ids, _ in batch)
            bar.update(1)
            if anchor_losses:
                bar.set_postfix(loss=f"{losses[-1]:.3f}", kl=f"{anchor_losses[-1]:.4f}")
            else:
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if on_step is not None:
                on_step(len(losses), losses[-1])
            # checked after a step, so even a tiny budget trains one
            elapsed = time.perf_counter() - started
            if (
                config.max_seconds is not None
                and elapsed >= config.max_seconds
                and (len(losses) < total)
            ):
                status = "time_budget"
                break
    except KeyboardInterrupt:
        if config.on_interrupt == "discard" or not losses:
            raise
        status = "interrupted"
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    tail = losses[-10:]
    stats: dict[str, float | int | str] = {
        "status": status,
        "steps": len(losses),
        "planned_steps": total,
        "loss": round(sum(tail) / len(tail), 5),
        "first_loss": round(losses[0], 5),
        "anchor_kl": round(sum(anchor_losses[-10:]) / max(1, len(anchor_losses[-10:])), 5),
        "anchor_weight": config.anchor_weight,
        "anchor_every": config.anchor_every,
        "seconds": round(seconds, 3),
        # CPU time of the whole process (all its threads): with one torch thread, about what
        # training takes on an idle machine, whatever else was running meanwhile
        "cpu_seconds": round(cpu_seconds, 3),
        "tokens": tokens,
        "rank": config.rank,
        "alpha": config.lora_alpha,
        "target_modules": ",".join(config.target_modules),
        "learning_rate": config.learning_rate,
        "batch_size": config.batch_size,
        "pairs_per_sequence": config.pairs_per_sequence,
        "seed": config.seed,
        "bf16": int(bf16),
        "trainable_params": sum(p.numel() for p in params),
    }
    tensors = {
        k: v.detach().to(torch.float32).contiguous().clone()
        for k, v in _lora_state(model, _TRAIN_ADAPTER).items()
    }
    return _Trained(tensors, stats)


# -- consolidation ----------------------------------------------------------------------------


def _sources(
    vault: MemVault, principal: Principal, cubes: Sequence[MemCube | str] | MemCube | str
) -> list[MemCube]:
    items = [cubes] if isinstance(cubes, (MemCube, str)) else list(cubes)
    if not items:
        raise InvalidInputError("no cubes to consolidate")
    if len(items) > MAX_SOURCE_CUBES:
        raise InvalidInputError(f"{len(items)} cubes; at most {MAX_SOURCE_CUBES} per adapter")
    out: dict[str, MemCube] = {}
    for item in items:
        if isinstance(item, str):
            cube = vault.get(principal, item)
        elif isinstance(item, MemCube):
            cube = item
        else:
            raise InvalidInputError(
                f"cubes must be MemCube objects or cube ids, got {type(item).__name__}"
            )
        if cube.kind is not MemoryKind.PLAINTEXT:
            raise CubeKindError(
                f"cube {cube.id} is {cube.kind.value}; only plaintext cubes consolidate"
            )
        out.setdefault(cube.id, cube)
    return list(out.values())


def _common_namespace(cubes: Sequence[MemCube]) -> tuple[str, ...]:
    prefix = cubes[0].namespace
    for c in cubes[1:]:
        n = 0
        while n < min(len(prefix), len(c.namespace)) and prefix[n] == c.namespace[n]:
            n += 1
        prefix = prefix[:n]
    if not prefix:
        raise InvalidInputError("the cubes share no namespace prefix; pass namespace=...")
    return prefix


def _description(cubes: Sequence[MemCube]) -> str:
    head = f"LoRA adapter consolidated from {len(cubes)} memories: "
    body = " | ".join(c.text.replace("\n", " ") for c in cubes)
    return (head + body)[:4000]


def consolidate_to_adapter(
    vault: MemVault,
    principal: Principal | str,
    cubes: Sequence[MemCube | str] | MemCube | str,
    *,
    lm: LocalLM | None = None,
    config: AdapterTrainingConfig | None = None,
    namespace: Sequence[str] | None = None,
    description: str | None = None,
    progress: bool = True,
    cancel: threading.Event | None = None,
    on_step: Callable[[int, float], None] | None = None,
    **header: Any,
) -> MemCube:
    """Train a LoRA adapter on plaintext ``cubes`` and store it as a parametric cube.

    Args:
        vault: Where the sources are read and the adapter cube and blob are stored.
        principal: Who consolidates; reads the sources (ACL-checked) and owns the new cube.
        cubes: Plaintext cubes, or their ids (read from the vault).
        lm: The model to adapt; the bundled SmolLM2 when ``None``. It is not modified: the
            adapter trains on a private copy of the module tree that shares its weights.
        config: Training recipe (:class:`AdapterTrainingConfig`).
        namespace: Namespace of the new cube; the sources' common prefix when ``None``.
        description: What the cube is found by; a summary of the sources when ``None``.
        progress: Show a tqdm progress bar.
        cancel: Set it (from another thread) to stop training at the next step; nothing is
            stored and :class:`~memos_lc.errors.TrainingCancelledError` is raised.
        on_step: Called after every optimizer step with ``(step, loss)`` (in the training
            thread); a :class:`KeyboardInterrupt` raised there acts like Ctrl-C.
        header: Any other :class:`~memos_lc.cube.MemCube` field (``tags``, ``access``...).
            By default only the principal may read the cube: an adapter reveals its sources.

    Returns:
        The stored parametric cube. ``payload.training["status"]`` is ``"completed"``,
        ``"time_budget"`` (``config.max_seconds`` ran out) or ``"interrupted"`` (see
        :attr:`AdapterTrainingConfig.on_interrupt`).

    Raises:
        InvalidInputError: No cubes, ids that are not strings, nothing trainable.
        CubeKindError: A source is not a plaintext cube.
        CubeNotFoundError: An id does not exist or is not visible to ``principal``.
        InvalidCubeError: ``namespace`` or a ``header`` field does not validate.
        TrainingCancelledError: ``cancel`` was set.
    """
    require_local("Parametric memory", PARAMETRIC_MODULES)
    from safetensors.torch import save

    principal = as_principal(principal)  # an id works too; a bad one fails before training
    config = config or AdapterTrainingConfig()
    reserved = {"payload", "namespace", "version", "replaces", "superseded_by"} & set(header)
    if reserved:
        raise InvalidInputError(f"consolidate_to_adapter sets {sorted(reserved)} itself")
    sources = _sources(vault, principal, cubes)
    ns = tuple(namespace) if namespace is not None else _common_namespace(sources)
    # validate the header now, not after a minute of training
    MemCube.from_text("header check", namespace=ns, **header)
    lm = lm or load_causal_lm()
    pairs = training_pairs(sources, config)
    statements = list(dict.fromkeys(_statement(c) for c in sources))
    desc = f"consolidating {len(sources)} memories"
    trained = _train(
        lm, pairs, statements, config,
        progress=progress, stop=cancel, desc=desc, on_step=on_step,
    )  # fmt: skip
    spec = _LoraSpec(
        r=config.rank, lora_alpha=config.lora_alpha, target_modules=config.target_modules
    )
    metadata = {
        "format": ADAPTER_FORMAT,
        "model_fingerprint": lm.fingerprint,
        "base_model": lm.name,
        "lora": spec.model_dump_json(),
        "training": json.dumps(trained.stats, sort_keys=True),
    }
    data = save(trained.tensors, metadata=metadata)
    existed = vault.blobs.exists(hashlib.sha256(data).hexdigest())
    ref = vault.put_blob(principal, data)
    tags = tuple(header.pop("tags", ()))
    if trained.stats["status"] == "interrupted" and "interrupted" not in tags:
        tags = (*tags, "interrupted")
    provenance = header.pop("provenance", None) or Provenance.built_from(
        sources, origin="consolidation", actor=principal.id,
        note=f"LoRA r={config.rank} on {lm.name}",
    )  # fmt: skip
    try:
        cube = MemCube.model_validate(
            {
                "namespace": ns,
                "access": header.pop("access", None) or AccessControl(owner=principal.id),
                "provenance": provenance,
                "tags": tags,
                "payload": ParametricPayload(
                    blob=ref,
                    model_fingerprint=lm.fingerprint,
                    base_model=lm.name,
                    description=description or _description(sources),
                    source_cube_ids=tuple(c.id for c in sources),
                    training=trained.stats,
                ),
                **header,
            }
        )
        return vault.put(principal, cube)[0]
    except BaseException:
        if not existed:  # an adapter nobody refers to is garbage
            vault.blobs.delete(ref)
        raise


async def aconsolidate_to_adapter(
    vault: MemVault,
    principal: Principal | str,
    cubes: Sequence[MemCube | str] | MemCube | str,
    **kwargs: Any,
) -> MemCube:
    """Async :func:`consolidate_to_adapter` (trains in a worker thread). Cancelling the task
    stops training at the next step and stores nothing; the cancellation returns once the
    worker has stopped."""
    stop = threading.Event()
    task = asyncio.ensure_future(
        asyncio.to_thread(consolidate_to_adapter, vault, principal, cubes, cancel=stop, **kwargs)
    )
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        # wait for the worker to stop so the caller knows nothing is stored afterwards
        with contextlib.suppress(BaseException):
            await task
        raise


@dataclass(frozen=True)
class AdapterPromoter:
    """A :mod:`memos_lc.lifecycle` promoter training stable plaintext cubes into one adapter
    (see :func:`adapter_promoter`). Call it, or await :meth:`apromote` (what
    :func:`~memos_lc.lifecycle.aconsolidate` does): training runs in a worker thread, and
    cancelling stops it at the next step and stores nothing."""

    lm: LocalLM | None = None
    config: AdapterTrainingConfig | None = None
    progress: bool = False
    header: dict[str, Any] = field(default_factory=dict)

    def _sources(self, cubes: Sequence[MemCube]) -> list[MemCube]:
        """The plaintext cubes to train on; none when they give nothing to teach (no
        question/answer pairs: a candidate is not a failure of the consolidation run)."""
        sources = [c for c in cubes if c.kind is MemoryKind.PLAINTEXT]
        if sources and not training_pairs(sources, self.config):
            logger.info("no question/answer pairs in %d stable memories: no adapter", len(sources))
            return []
        return sources

    def _promote(
        self, vault: MemVault, principal: Principal, cubes: list[MemCube]
    ) -> Steps[MemCube | None]:
        sources = self._sources(cubes)
        if not sources:
            return None
        options = dict(lm=self.lm, config=self.config, progress=self.progress, **self.header)
        return (
            yield Call(consolidate_to_adapter, aconsolidate_to_adapter, vault, principal, sources,
                       **options)
        )  # fmt: skip

    def __call__(
        self, vault: MemVault, principal: Principal, cubes: list[MemCube]
    ) -> MemCube | None:
        return run_steps(self._promote(vault, principal, cubes))

    async def apromote(
        self, vault: MemVault, principal: Principal, cubes: list[MemCube]
    ) -> MemCube | None:
        """Async twin of calling it (cancellable training off the event loop)."""
        return await arun_steps(self._promote(vault, principal, cubes))


def adapter_promoter(
    lm: LocalLM | None = None,
    *,
    config: AdapterTrainingConfig | None = None,
    progress: bool = False,
    **header: Any,
) -> AdapterPromoter:
    """A :mod:`memos_lc.lifecycle` promoter training stable plaintext cubes into parametric
    memory: the twin of :func:`memos_lc.activation.activation_promoter`.

    The cubes given (the plaintext ones) are trained into ONE LoRA adapter for ``lm`` (the
    bundled SmolLM2 when ``None``) by :func:`consolidate_to_adapter`, within
    ``config.max_seconds`` when set, and stored in the cubes' common namespace. Its provenance
    records the cubes, ids and versions: once one of them changes, the adapter is stale (the
    scheduler stops placing it, the next consolidation retires it). ``header`` sets other
    cube fields.

    Example:
        .. code-block:: python

            from memos_lc.lifecycle import consolidate
            consolidate(vault, alice, ("alice",), policy,
                        parametrize=adapter_promoter(config=AdapterTrainingConfig(max_seconds=60)))
    """
    return AdapterPromoter(lm=lm, config=config, progress=progress, header=dict(header))


# -- serving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedAdapter:
    """An adapter an :class:`AdapterRegistry` holds, with the model that applies it."""

    name: str
    cube_id: str
    version: int
    sha256: str
    base_model: str
    model: torch.nn.Module = field(repr=False, compare=False)
    """The base model with this adapter on (a peft ``PeftModelForCausalLM`` over a private
    copy of the base model's module tree that shares its weights)."""


class AdapterRegistry:
    """Serves parametric cubes on one loaded model: load, look up per call, unload LRU.

    Each loaded adapter gets its own peft model: a private copy of ``lm.model``'s module tree
    that *shares* the base weights (nothing large is copied), with the adapter's LoRA layers
    injected by peft. ``lm.model`` itself is never modified, so it computes exactly its base
    outputs at any time, and calls with different adapters (or none) can run at once: there
    is nothing to switch and nothing to lock while a model runs.

    Args:
        lm: The loaded model (:func:`~memos_lc.models.load_causal_lm`).
        max_loaded: Adapters kept loaded; the least recently used beyond it are dropped (a
            call still running on one keeps its model until it ends).

    Example:
        .. code-block:: python

            registry = AdapterRegistry(load_causal_lm(), max_loaded=4)
            name = registry.load(vault, alice, adapter_cube_id)
            with registry.use(name) as model:
                out = model.generate(**inputs, max_new_tokens=20)
            with registry.use(None) as model:  # the base model
                ...
    """

    def __init__(self, lm: LocalLM, *, max_loaded: int = 4) -> None:
        require_local("Parametric memory", PARAMETRIC_MODULES)
        if not isinstance(max_loaded, int) or max_loaded < 1:
            raise InvalidInputError("max_loaded must be a positive integer")
        self.lm = lm
        self.max_loaded = max_loaded
        self._lock = threading.Lock()  # guards _loaded; never held while a model runs
        self._loaded: OrderedDict[str, LoadedAdapter] = OrderedDict()

    @property
    def loaded(self) -> list[LoadedAdapter]:
        """Adapters this registry holds, least recently used first."""
        with self._lock:
            return list(self._loaded.values())

    def __contains__(self, name: object) -> bool:
        return name in self._loaded

    def get(self, vault: MemVault, principal: Principal | str, cube_id: str) -> LoadedAdapter:
        """The parametric cube ``cube_id`` (its head version) loaded, with its model.

        Reads the cube through the vault (access-checked and audited), checks it is a
        parametric cube made for this model, reads the blob (digest-checked) and validates
        its tensors against the LoRA layout it declares. An adapter already loaded is only
        marked most recently used.

        Raises:
            CubeNotFoundError: The cube does not exist or ``principal`` may not read it.
            CubeKindError: It is not a parametric cube.
            ModelMismatchError: It was trained for another model (fingerprint differs).
            BlobNotFoundError, BlobIntegrityError: Its blob is missing or corrupt.
            AdapterFormatError: The blob is not a memos-lc LoRA adapter for this model.
        """
        cube = vault.get(principal, cube_id)
        payload = cube.payload
        if not isinstance(payload, ParametricPayload):
            raise CubeKindError(f"cube {cube_id} is {cube.kind.value}, not a parametric cube")
        if payload.model_fingerprint != self.lm.fingerprint:
            raise ModelMismatchError(
                f"adapter {cube_id} was trained for {payload.model_fingerprint}; "
                f"this model is {self.lm.fingerprint}"
            )
        name = "memos_" + payload.blob.sha256[:24]
        with self._lock:
            held = self._loaded.get(name)
            if held is not None:
                self._loaded.move_to_end(name)
                return held
        spec, tensors = _parse_adapter(vault.blobs.get_bytes(payload.blob), self.lm.fingerprint)
        model = _adapter_model(self.lm, spec, name, tensors)
        loaded = LoadedAdapter(name, cube.id, cube.version, payload.blob.sha256,
                               payload.base_model, model)  # fmt: skip
        with self._lock:
            loaded = self._loaded.setdefault(name, loaded)  # a concurrent load may have won
            self._loaded.move_to_end(name)
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
        return loaded

    def load(self, vault: MemVault, principal: Principal | str, cube_id: str) -> str:
        """Load the parametric cube ``cube_id`` (see :meth:`get`) and return its adapter name."""
        return self.get(vault, principal, cube_id).name

    aload = async_twin(load)

    def unload(self, name: str) -> bool:
        """Drop adapter ``name`` (a call still running on it finishes). True if it was held."""
        with self._lock:
            return self._loaded.pop(name, None) is not None

    @contextlib.contextmanager
    def use(self, adapter_name: str | None) -> Iterator[torch.nn.Module]:
        """The model with adapter ``adapter_name`` on (``lm.model`` itself for ``None``).

        Raises:
            AdapterNotLoadedError: ``adapter_name`` is not loaded by this registry (never
                loaded, unloaded, or dropped as least recently used).
        """
        if adapter_name is None:
            yield self.lm.model
            return
        with self._lock:
            loaded = self._loaded.get(adapter_name)
            if loaded is None:
                raise AdapterNotLoadedError(
                    f"adapter {adapter_name} is not loaded; call load() first"
                )
            self._loaded.move_to_end(adapter_name)
        yield loaded.model

    @contextlib.contextmanager
    def use_cube(
        self, vault: MemVault, principal: Principal | str, cube_id: str | None
    ) -> Iterator[torch.nn.Module]:
        """:meth:`get` and :meth:`use` in one step (the base model for ``None``)."""
        yield self.lm.model if cube_id is None else self.get(vault, principal, cube_id).model


def _adapter_model(
    lm: LocalLM, spec: _LoraSpec, name: str, tensors: dict[str, torch.Tensor]
) -> torch.nn.Module:
    """A peft model of ``lm`` with adapter ``name`` holding ``tensors`` (canonical names),
    after checking that they are exactly the LoRA weights ``spec`` gives this model."""
    import torch
    from peft import set_peft_model_state_dict

    try:
        model = _peft_model(lm, spec.peft_config(), name)
    except ValueError as e:  # peft: no module matches target_modules
        raise AdapterFormatError(f"adapter does not fit {lm.name}: {e}") from None
    expected = {k: tuple(v.shape) for k, v in _lora_state(model, name).items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        bad = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])[:3]
        raise AdapterFormatError(
            f"adapter tensors do not match the model's LoRA layers (missing {missing}, "
            f"unexpected {extra}, wrong shape {bad})"
        )
    with torch.no_grad():
        set_peft_model_state_dict(model, {_PEFT_PREFIX + k: v for k, v in tensors.items()},
                                  adapter_name=name)  # fmt: skip
    model.eval()
    return model


def _parse_adapter(data: bytes, fingerprint: str) -> tuple[_LoraSpec, dict[str, torch.Tensor]]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    from memos_lc.vault.blobs import check_safetensors

    try:
        meta = check_safetensors(data).get("__metadata__") or {}
        tensors = load(data)
    except (InvalidInputError, SafetensorError) as e:
        raise AdapterFormatError(f"adapter blob is not valid safetensors: {e}") from None
    if meta.get("format") != ADAPTER_FORMAT:
        raise AdapterFormatError(f"blob is not a memos-lc adapter (format {meta.get('format')!r})")
    if meta.get("model_fingerprint") != fingerprint:
        raise ModelMismatchError(
            f"adapter blob was trained for {meta.get('model_fingerprint')}; model is {fingerprint}"
        )
    try:
        spec = _LoraSpec.model_validate_json(meta.get("lora", ""))
    except ValueError as e:
        raise AdapterFormatError(f"adapter blob has an invalid LoRA spec: {e}") from None
    for key, t in tensors.items():
        if t.ndim != 2 or not t.is_floating_point() or not bool(t.isfinite().all()):
            raise AdapterFormatError(f"adapter tensor {key} is not a finite 2-D float matrix")
    return spec, tensors


__all__ = [
    "ADAPTER_FORMAT",
    "AdapterPromoter",
    "AdapterRegistry",
    "AdapterTrainingConfig",
    "LoadedAdapter",
    "QAPair",
    "aconsolidate_to_adapter",
    "adapter_promoter",
    "consolidate_to_adapter",
    "fact_questions",
    "render_conversation",
    "training_pairs",
]
