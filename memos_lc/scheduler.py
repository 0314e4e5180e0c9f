"""MemScheduler: which memories a model sees for a query, and how.

Given a query, a principal and a token budget of the target model, :meth:`MemScheduler.plan`

1. **retrieves** candidates with the vault's dense (MiniLM) and lexical (BM25) searches, for
   the query and for a keyword rewrite of it, and fuses the four ranked lists by reciprocal
   rank;
2. **scores** each candidate by relevance, recency, priority and past usage
   (:class:`ScoringPolicy`);
3. **de-duplicates** by maximal marginal relevance: a candidate whose turns or words are
   already in the plan is demoted (:class:`SelectionPolicy`);
4. **fits the budget**, counting the tokens of the exact text that will be injected with the
   target model's tokenizer (``count_tokens=``; without one, :func:`estimate_tokens`, a
   slight over-count). Conversation windows from the fast reader are merged per thread,
   so overlapping windows never inject a turn twice and a window next to one already chosen
   costs only its new turns. By default (``SelectionPolicy.excerpt="mixed"``) the best few
   windows go in whole and single turns follow, each ranked by the windows that hold it:
   more distinct turns per token;
5. **places** each item (:class:`PlacementPolicy`): a text block (plaintext), a KV prefix
   (activation cube made for the target model) or a LoRA adapter (parametric cube);
6. records the recall on each chosen cube (``vault.record_use``).

The result is a :class:`MemoryPlan`; ``plan.text`` is the memory block to inject.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.scheduler import MemScheduler

        vault = MemVault.open("/tmp/vault")
        scheduler = MemScheduler(vault)
        plan = scheduler.plan(Principal(id="alice"), "Where does Alice live now?",
                              namespace=("alice",), budget_tokens=512)
        system_prompt = "Known about the user:\\n" + plan.text
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from langchain_core.language_models import BaseLanguageModel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from memos_lc.aio import Call, Steps, arun_steps, in_thread, run_steps
from memos_lc.cube import (
    ActivationPayload,
    MemCube,
    MemoryKind,
    MemoryType,
    ParametricPayload,
    ScoredCube,
    utcnow,
    validate_namespace,
)
from memos_lc.errors import InvalidInputError
from memos_lc.lifecycle import DERIVED_KINDS, StaleDerived, stale_derived
from memos_lc.reader import Turn, format_date, turns_of
from memos_lc.vault import CubeFilter

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from memos_lc.governance import Principal
    from memos_lc.vault import MemVault

TokenCounter = Callable[[str], int]
Tier = Literal["memory", "preference"]
"""Where a candidate competes: preference cubes (``memory_type="preference"``) among
themselves, everything else among the rest."""
PREFERENCE = MemoryType.PREFERENCE.value


def estimate_tokens(text: str) -> int:
    """A model-free token count: one token per 3 UTF-8 bytes, rounded up. BPE tokenizers
    average about 4 characters a token on English, so this over-counts there and a plan
    fits the real budget. The default counter: it loads nothing."""
    return -(-len(text.encode()) // 3)


def token_counter(
    target: TokenCounter | BaseLanguageModel | PreTrainedTokenizerBase | None,
) -> TokenCounter:
    """The token counter for ``target``, the model the memory text is for.

    * ``None``: :func:`estimate_tokens` (nothing is loaded).
    * A transformers tokenizer: its token count without special tokens.
    * A LangChain model: its own tokenizer. :meth:`~BaseLanguageModel.get_num_tokens` when
      the model implements token counting (:class:`~memos_lc.chat_models.ChatMemOS`, which
      loads only its tokenizer; ``ChatOpenAI``'s tiktoken; ``custom_get_token_ids=``), else
      the Hugging Face tokenizer it holds (``ChatHuggingFace``, ``HuggingFacePipeline``),
      else :func:`estimate_tokens`. LangChain's generic fallback, a GPT-2 tokenizer fetched
      from the hub, is never used.
    * Any other callable ``str -> int``: used as it is.
    """
    if target is None:
        return estimate_tokens
    if (tok := _hf_tokenizer(target)) is not None:
        return _tokenizer_counter(tok)
    if isinstance(target, BaseLanguageModel):
        cls = type(target)
        if (
            target.custom_get_token_ids is not None
            or cls.get_token_ids is not BaseLanguageModel.get_token_ids
            or cls.get_num_tokens is not BaseLanguageModel.get_num_tokens
        ):
            return target.get_num_tokens
        for holder in (target, getattr(target, "pipeline", None)):
            if (tok := _hf_tokenizer(getattr(holder, "tokenizer", None))) is not None:
                return _tokenizer_counter(tok)
        return estimate_tokens
    if callable(target):
        return target
    raise InvalidInputError(
        "count_tokens must be a function str -> int, a LangChain model or a transformers "
        f"tokenizer, got {type(target).__name__}"
    )


def _hf_tokenizer(obj: Any) -> Any | None:
    """``obj`` if it is a transformers tokenizer (none exists unless transformers is
    imported, so this never imports it)."""
    transformers = sys.modules.get("transformers")
    if transformers is not None and isinstance(obj, transformers.PreTrainedTokenizerBase):
        return obj
    return None


def _tokenizer_counter(tok: Any) -> TokenCounter:
    return lambda text: len(tok.encode(text, add_special_tokens=False))


# Words that shape a question but name nothing in the answer. Dropping them leaves the
# entities and content words that memories actually contain.
_QUESTION_WORDS_TEXT = """
    what when where which who whom whose why how did do does done doing is are was were be
    been being has have had having can could would should will shall may might must the a an
    of to in on at for with by from about as into onto than that this these those there it its
    and or but if then so not no any some ever also just very much many more most likely
    kind sort type one ones thing things something anything does did you your yours i me my
    we our us they them their he him his she her hers"""
_QUESTION_WORDS = frozenset(_QUESTION_WORDS_TEXT.split())
# A request in the user's own voice: it says I / my / you ("US" is a country), opens with
# an imperative, or asks for a recommendation ("what's worth streaming this weekend?").
_OWN_VOICE = re.compile(
    r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|our|ours|(?-i:us)|you|your"
    r"|yours)\b"
    r"|^\W*(?:please\s+)?(?:suggest|recommend|help|plan|find|pick|choose|give|tell|show|make"
    r"|book|write|draft|list|create|remind|organi[sz]e|schedule|get|buy|order|cook|prepare"
    r"|put together|come up with|any)\b"
    r"|\b(?:should|good|best|worth|nicest|easiest|fun|ideal|tips|ideas|suggestions?"
    r"|recommendations?|options)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)


def keyword_query(query: str) -> str:
    """``query`` without question words and function words: ``"When did Caroline go to the
    LGBTQ support group?"`` -> ``"Caroline go LGBTQ support group"``. Names and content words
    stay; returns ``""`` when nothing is left."""
    words = [w.strip("'’-") for w in _WORD.findall(query)]
    # "what's" is "what is"; "Melanie's" keeps its name
    return " ".join(
        w for w in words if w and re.split(r"['’]", w.lower())[0] not in _QUESTION_WORDS
    )


# -- policies -----------------------------------------------------------------------------


class _Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetrievalPolicy(_Policy):
    """How candidates are found.

    Every query variant (the query itself, and its :func:`keyword_query` rewrite when
    ``rewrite``) is searched with each search mode that has a non-zero weight; the ranked lists
    are fused by weighted reciprocal rank, ``sum(weight / (rrf_k + rank))``.

    By default the dense and the lexical lists are fused here, all four in one flat RRF,
    rather than taking the vault's hybrid search (which fuses the two inside Qdrant) per
    variant: fusing fused ranks again keeps only their order, so a window both searches rank
    high counts no more than one a single search found. On LoCoMo (five development
    conversations) the flat fusion raises evidence recall within 1,024 tokens from 0.845 to
    0.858, on the conversations it was chosen on and on the others alike.
    """

    candidates: int = Field(default=40, ge=1, le=1000)
    """Hits fetched per search."""
    hybrid_weight: float = Field(default=0.0, ge=0.0)
    """Weight of the vault's hybrid search (dense + BM25 fused by RRF inside Qdrant)."""
    lexical_weight: float = Field(default=1.0, ge=0.0)
    """Weight of the BM25 search (exact names and rare words)."""
    dense_weight: float = Field(default=1.0, ge=0.0)
    """Weight of the dense search (paraphrases)."""
    rewrite: bool = True
    """Also search the keyword rewrite of the query (no LLM)."""
    rewrite_weight: float = Field(default=0.5, ge=0.0)
    """Weight of the rewrite's lists relative to the query's."""
    rrf_k: float = Field(default=60.0, gt=0.0)
    turn_votes: bool = False
    """Fast-reader windows: a window's relevance is the sum of the fused scores of every
    retrieved window holding its own turn, so the window centred on the turn that matched
    ranks above the windows centred on its neighbours."""
    vote_norm: bool = False
    """Divide a turn's vote by how many windows could hold it (the size of its own window
    when that was retrieved, else the largest window seen): a turn at the edge of a session
    sits in fewer windows and would otherwise collect fewer votes for being there. Applies
    wherever votes are used (``turn_votes``, ``excerpt="turn"`` and ``excerpt="voted"``)."""
    lexical_coverage: float = Field(default=0.25, ge=0.0, le=1.0)
    """Score-aware lexical fusion, ``a`` in [0, 1]: a BM25 hit's reciprocal-rank vote is
    scaled by ``1 - a + a * coverage``, where coverage is the share of the query's terms
    the hit contains, each term weighted by how rare it is among the hits of that search
    (``log((n + 1) / (df + 0.5))`` over its ``n`` hits). Ranks alone carry no strength:
    when a query shares no specific word with any memory, the best BM25 hit matches a
    common word only, yet plain RRF (``a=0``) counts it as much as an exact match."""


class ScoringPolicy(_Policy):
    """How a candidate is scored: a weighted mean of components in [0, 1].

    * relevance - the fused retrieval score, relative to the best candidate's;
    * recency - ``0.5 ** (age / recency_half_life_days)`` of the cube's last update;
    * priority - the cube's ``priority``;
    * usage - ``log1p(hits) / log1p(usage_saturation)``, capped at 1;
    * speaker - 1 when the query names the person who said the candidate's turn (a single
      turn, as ``excerpt="turn"`` and ``"mixed"`` rank them; for a cube that is not a
      conversation window, a speaker named in its text), else 0; a whole window, which holds
      both sides of a conversation, never scores. People are the speakers of the
      candidates' turns, so nothing is guessed from capitals: a question about a person is
      mostly answered by what that person said.
    """

    relevance: float = Field(default=1.0, ge=0.0)
    recency: float = Field(default=0.1, ge=0.0)
    priority: float = Field(default=0.1, ge=0.0)
    usage: float = Field(default=0.05, ge=0.0)
    speaker: float = Field(default=0.2, ge=0.0)
    recency_half_life_days: float = Field(default=30.0, gt=0.0)
    usage_saturation: int = Field(default=20, ge=1)


class SelectionPolicy(_Policy):
    """How the plan is filled: maximal marginal relevance under the token budget.

    The next item maximises ``mmr_lambda * score - (1 - mmr_lambda) * redundancy``, where
    redundancy is the share of the candidate's turns (message / source ids) already in the
    plan, or its word overlap with a chosen item for cubes without ids. Candidates at least
    ``duplicate_threshold`` redundant are dropped.
    """

    mmr_lambda: float = Field(default=0.7, ge=0.0, le=1.0)
    duplicate_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
    max_items: int = Field(default=64, ge=1)
    min_relevance: float = Field(default=0.0, ge=0.0, le=1.0)
    """Drop candidates whose relative relevance is below this."""
    excerpt: Literal["window", "turn", "voted", "mixed"] = "mixed"
    """What fast-reader windows put in the block:

    * ``"mixed"`` (default): the best ``window_items`` windows whole, then single turns,
      each ranked by its vote (the summed fused score of the retrieved windows holding it).
      The first windows give the best matches with their context (the reply next to the
      turn that matched); after them, a turn costs a third of a window, so the rest of the
      budget reaches further down the ranking.
    * ``"window"``: every item a whole window (its turn and the neighbours stored with it).
    * ``"turn"``: every item a single turn (``"mixed"`` with ``window_items=0``).
    * ``"voted"``: windows stay the ranked items, ranked exactly as with ``"window"``, but
      each injects only its turns whose vote is at least ``vote_ratio`` times the best vote
      in the window, skipping turns already in the block (at least its best new turn).
      ``PlanItem.source_ids`` then names exactly the injected turns, ``PlanItem.ranked_ids``
      the whole window.

    On LoCoMo (``benchmarks/locomo.py``, five development conversations) ``"mixed"`` raises
    evidence recall within 1,024 tokens from 0.81 (``"window"``) to 0.86, within 512 from
    0.70 to 0.75; ``"voted"`` loses recall: the turns the windows vote for are the long
    ones, while the evidence is often a short neighbour."""
    vote_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    """``excerpt="voted"``: the share of the window's best turn vote a turn needs to be
    injected (1.0: only the best turn; small: the whole window)."""
    window_items: int = Field(default=3, ge=0)
    """``excerpt="mixed"``: how many whole windows open the plan before single turns take
    over (``0``: turns only, as ``"turn"``)."""


class PlacementPolicy(_Policy):
    """Where each chosen memory goes.

    * parametric cubes made for ``model_fingerprint`` -> ``parametric`` (adapter id, no
      tokens), at most ``max_adapters``; otherwise they are left out (weights for another
      model are useless);
    * activation cubes made for ``model_fingerprint`` -> ``activation`` (KV prefix, costs
      its prefix tokens); the plaintext cubes it was compiled from are then dropped, their
      text is in the prefix. For any other model its source text goes in as plaintext. One
      KV prefix per plan, and none beside an adapter: a cache holds what the base weights
      computed, so it neither joins another cache nor serves adapted weights (whichever of
      the two ranks first is placed);
    * everything else -> ``plaintext`` (the text block).

    ``model_fingerprint=None`` (an API model, or unknown) places everything as text.
    """

    model_fingerprint: str | None = None
    activation: bool = True
    parametric: bool = True
    max_adapters: int = Field(default=1, ge=0)


class PreferencePolicy(_Policy):
    """The preference tier: what the user stated about themselves (``memory_type=
    "preference"`` cubes: the fast reader's preference turns, fine-mode preferences).

    Preferences are searched among themselves, so the few that matter to a query compete
    with hundreds of other preferences rather than with thousands of conversation windows,
    and a ``share`` of the budget is theirs first. The tier serves requests in the user's
    own voice (the query says I, my or you, or opens with an imperative: "what should I
    cook tonight?", "suggest a hotel in Rome"); a question about someone the conversation
    names as a speaker, or about what happened ("when did Caroline move?"), leaves
    preferences to the conversation windows that hold them in context. A preference renders
    compactly: the speaker's own line, no date header, before the rest of the block. Budget
    the tier leaves unused goes to the other memories; budget those leave goes back to
    preferences.
    ``share=0`` turns the tier off: preference cubes then compete with everything else.
    """

    share: float = Field(default=0.75, ge=0.0, le=1.0)
    """Share of the text budget filled from the preference tier first. The tier opens only
    for a request in the user's own voice, where what the user likes, avoids and needs is
    most of what bears on the answer; the share is a ceiling on their first pass, not a
    reservation kept empty: what they leave goes to the conversation windows."""
    candidates: int = Field(default=60, ge=1, le=1000)
    """Hits fetched per preference search: more than the share holds (about 40 compact
    lines in 768 tokens), so what the episodic memories leave unused still goes to the next
    preferences (preference dev set: R@1024tok 0.560 with 40, 0.585 with 60)."""
    hybrid_weight: float = Field(default=0.0, ge=0.0)
    lexical_weight: float = Field(default=0.0, ge=0.0)
    """BM25's vote in the tier; none by default. A request seldom repeats the words of the
    preference it bears on ("what should I cook tonight?" / "I'm vegetarian"), so a BM25
    hit among preferences is most often one sharing a common word only, and MiniLM alone
    ranks them better (preference dev set: R@5 0.186 dense only, 0.165 with BM25 at
    weight 1 and full coverage); two fewer searches per plan, too."""
    dense_weight: float = Field(default=1.0, ge=0.0)
    rewrite: bool = False
    """Also search the keyword rewrite of the request among preferences (weighted by
    ``RetrievalPolicy.rewrite_weight``). Off by default: the rewrite keeps the request's
    content words, which the preference it bears on seldom shares, and drops the phrasing
    MiniLM matches a statement on (preference dev set, MiniLM ranks of the stated
    preference among a user's ~230: R@5 0.203 on the request alone, 0.182 fused with its
    rewrite); one search fewer per plan, too."""
    lexical_coverage: float = Field(default=1.0, ge=0.0, le=1.0)
    """As ``RetrievalPolicy.lexical_coverage``, for the preference searches when
    ``lexical_weight`` gives BM25 a vote: full, so a hit that shares only a common word
    counts little, one that shares the request's rare words still counts ("sushi places
    nearby?" / "I love sushi")."""


class SchedulerPolicy(_Policy):
    """Every knob of :class:`MemScheduler`, with the defaults the LoCoMo benchmark measures.

    Example:
        .. code-block:: python

            policy = SchedulerPolicy(scoring=ScoringPolicy(recency=0.3),
                                     placement=PlacementPolicy(model_fingerprint=lm.fingerprint))
    """

    retrieval: RetrievalPolicy = Field(default_factory=RetrievalPolicy)
    scoring: ScoringPolicy = Field(default_factory=ScoringPolicy)
    selection: SelectionPolicy = Field(default_factory=SelectionPolicy)
    placement: PlacementPolicy = Field(default_factory=PlacementPolicy)
    preferences: PreferencePolicy = Field(default_factory=PreferencePolicy)
    record_use: bool = True
    """Count each planned cube as used (``vault.record_use``), feeding the usage score."""


# -- the plan -----------------------------------------------------------------------------


class Placement(StrEnum):
    """How a planned memory reaches the model."""

    PLAINTEXT = "plaintext"
    ACTIVATION = "activation"
    PARAMETRIC = "parametric"


class PlanItem(BaseModel):
    """One scheduled memory."""

    model_config = ConfigDict(frozen=True)

    cube: MemCube
    score: float
    placement: Placement
    tokens: int
    """Tokens this item adds to the prompt (new text only; an adapter adds none)."""
    components: dict[str, float] = Field(default_factory=dict)
    """The score's parts: relevance, recency, priority, usage."""
    source_ids: tuple[str, ...] = ()
    """External ids of what this item puts in the prompt: the turns rendered for a
    conversation window (only the injected ones with ``excerpt="voted"``, possibly fewer
    than the window holds), else the cube's provenance ``source_ids``."""
    ranked_ids: tuple[str, ...] = ()
    """External ids of the ranked unit: every turn of a conversation window (also those a
    ``"voted"`` excerpt leaves out), the turn of a ``"turn"`` excerpt, else the cube's
    provenance ``source_ids``. Equal to ``source_ids`` unless the item is an excerpt."""

    @property
    def partial(self) -> bool:
        """Whether only part of the ranked unit is in the prompt (``source_ids`` names it)."""
        return set(self.source_ids) != set(self.ranked_ids)


class MemoryPlan(BaseModel):
    """What the model gets for one query: items in selection order, the text block, the KV
    prefixes and the adapter.

    ``total_tokens`` counts the text block (as the target tokenizer encodes ``text``) plus
    every activation prefix; it never exceeds ``budget_tokens``.
    """

    model_config = ConfigDict(frozen=True)

    query: str
    namespace: tuple[str, ...] | None
    budget_tokens: int
    items: list[PlanItem]
    text: str
    """The plaintext memories as one block: facts as ``- ...`` lines, then conversation
    excerpts per thread in order, one ``[date]`` line per day."""
    text_tokens: int
    total_tokens: int
    queries: list[str]
    """The query variants searched."""
    candidates: int
    """How many distinct candidates were considered."""
    stale: list[StaleDerived] = Field(default_factory=list)
    """Activation / parametric cubes the search found and the plan left out because a source
    they were built from changed since (a newer version, deleted, expired...): each with
    the reason. The next consolidation retires them."""

    @property
    def cubes(self) -> list[MemCube]:
        """The planned cubes, each once (single turns of one window share its cube)."""
        return list({i.cube.id: i.cube for i in self.items}.values())

    def by_placement(self, placement: Placement | str) -> list[PlanItem]:
        return [i for i in self.items if i.placement == placement]

    @property
    def activations(self) -> list[MemCube]:
        """Activation cubes to use as KV prefixes, in plan order."""
        return [i.cube for i in self.by_placement(Placement.ACTIVATION)]

    @property
    def adapters(self) -> list[MemCube]:
        """Parametric cubes to load as adapters."""
        return [i.cube for i in self.by_placement(Placement.PARAMETRIC)]

    def source_ids(self) -> list[str]:
        """External ids of everything in the plan (provenance ``source_ids``), deduplicated."""
        return list(dict.fromkeys(s for i in self.items for s in i.source_ids))

    def render(self, header: str = "Relevant memories:") -> str:
        """The text block under ``header`` (``""`` when there is no plaintext memory)."""
        if not self.text:
            return ""
        return f"{header}\n{self.text}" if header else self.text


def render_block(cubes: Sequence[MemCube]) -> str:
    """The text block for plaintext ``cubes``: other memories first as ``- text`` lines (in
    the given order), then the turns of fast-reader windows merged per thread in
    conversation order (each turn once; ``...`` marks a gap)."""
    return "\n".join(block_lines(cubes))


def block_lines(cubes: Sequence[MemCube]) -> list[str]:
    """The lines of :func:`render_block`."""
    return _lines([(c, turns_of(c)) for c in cubes])


@functools.lru_cache(maxsize=4096)
def _date_line(day: date) -> str:
    return f"[{format_date(datetime(day.year, day.month, day.day))}]"


def _lines(entries: Sequence[tuple[MemCube, list[Turn] | None]]) -> list[str]:
    stated: list[str] = []  # preferences in the speaker's words: one line each, no date
    shown: set[tuple[str | None, int]] = set()
    facts: list[str] = []
    threads: dict[str | None, dict[int, Turn]] = {}
    for cube, turns in entries:
        thread = cube.provenance.thread_id
        if turns is None:
            facts.append(f"- {' '.join(cube.text.split())}")
        elif cube.memory_type == PREFERENCE:
            for t in turns:
                if (thread, t.pos) not in shown:
                    shown.add((thread, t.pos))
                    stated.extend(t.line().split("\n"))
        else:
            merged = threads.setdefault(thread, {})
            for t in turns:
                merged.setdefault(t.pos, t)
    lines = stated + facts
    for thread, merged in threads.items():
        # a turn shown as a preference is not repeated in its conversation
        todo = [p for p in sorted(merged) if (thread, p) not in shown]
        if not todo:
            continue
        if lines:
            lines.append("...")
        last_pos: int | None = None
        last_day = None
        for p in todo:
            t = merged[p]
            if last_pos is not None and p != last_pos + 1:
                lines.append("...")
            # the date once per day, not per excerpt: a header costs ~10 tokens
            day = t.time.date()
            if day != last_day:
                lines.append(_date_line(day))
                last_day = day
            lines.extend(t.line().split("\n"))
            last_pos = p
    return lines


# -- the scheduler --------------------------------------------------------------------------


class Candidates(BaseModel):
    """What :meth:`MemScheduler.retrieve` found: ranked cube ids per search, JSON-small so a
    graph can keep it in its state between the ``read`` and ``schedule`` nodes."""

    model_config = ConfigDict(frozen=True)

    query: str
    namespace: tuple[str, ...] | None
    queries: list[str]
    """The query variants searched."""
    lists: list[RankedList]
    """One per search, best first."""

    @field_validator("lists", mode="before")
    @classmethod
    def _legacy_lists(cls, value: Any) -> Any:
        # graph states saved before tiers hold ``(weight, ids)`` pairs: memory-tier lists
        if isinstance(value, list):
            return [
                {"weight": v[0], "ids": v[1]} if isinstance(v, (list, tuple)) else v for v in value
            ]
        return value

    @property
    def cube_ids(self) -> list[str]:
        """Every candidate id once, in first-seen order."""
        return list(dict.fromkeys(i for r in self.lists for i in r.ids))


class RankedList(BaseModel):
    """One search's result in :class:`Candidates`: cube ids best first, with their scores."""

    model_config = ConfigDict(frozen=True)

    weight: float
    ids: list[str]
    scores: list[float] = Field(default_factory=list)
    """The search's score per id (cosine for ``dense``, BM25 for ``lexical``); empty when
    unknown."""
    mode: Literal["dense", "lexical", "hybrid"] = "hybrid"
    tier: Tier = "memory"


class _Search(NamedTuple):
    """One planned search: a query variant, a search mode, its fusion weight and tier."""

    query: str
    mode: Literal["dense", "lexical", "hybrid"]
    weight: float
    limit: int
    tier: Tier = "memory"
    filter: CubeFilter | Mapping[str, Any] | None = None
    """The caller's filter narrowed to the tier."""

    def options(self, ns: tuple[str, ...] | None, vector: list[float] | None) -> dict[str, Any]:
        """Keyword arguments of ``vault.search`` / ``asearch`` for this search."""
        return {
            "namespace": ns,
            "filter": self.filter,
            "limit": self.limit,
            "mode": self.mode,
            "query_vector": vector if self.mode != "lexical" else None,
        }


Hits = list[tuple[_Search, list[ScoredCube]]]
"""What the searches found: each planned search with its hits, best first."""


class _Candidate:
    __slots__ = (
        "cube",
        "turns",
        "fused",
        "score",
        "components",
        "keys",
        "_words",
        "source_ids",
        "focus",
        "votes",
        "single",
        "tier",
        "window",
    )

    def __init__(self, cube: MemCube, turn: Turn | None = None, tier: Tier = "memory") -> None:
        self.cube = cube
        self.tier = tier
        self.single = turn is not None  # one turn taken out of a window
        self.fused = 0.0
        self.score = 0.0
        self.components: dict[str, float] = {}
        self.votes: dict[str, float] = {}  # turn key -> vote (``excerpt="voted"``)
        prov = cube.provenance
        # a window, or one turn of it (``SelectionPolicy.excerpt == "turn"``)
        turns = [turn] if turn is not None else turns_of(cube)
        self.focus = turn or _focus(cube, turns)
        self.turns = turns
        if turns is None:
            # Identity for redundancy: message ids within a thread, else external ids.
            ids = [f"m:{prov.thread_id}:{m}" for m in prov.message_ids] or [
                f"s:{s}" for s in prov.source_ids
            ]
            self.source_ids = prov.source_ids
        else:
            ids = [_turn_key(prov.thread_id, t) for t in turns]
            self.source_ids = tuple(dict.fromkeys(s for t in turns for s in t.source_ids))
        self.keys = frozenset(ids)
        self._words: frozenset[str] | None = None
        # a conversation window of the fast reader (or one turn of it); a preference holds
        # its turn too (for redundancy and rendering) but is ranked as a memory of its own
        self.window = turns is not None and cube.memory_type != PREFERENCE

    @property
    def words(self) -> frozenset[str]:
        """Lower-cased words of what this candidate injects (for redundancy between cubes
        without turn ids), computed on first use: most candidates never need them."""
        if self._words is None:
            text = self.turns[0].text if self.single and self.turns else self.cube.text
            self._words = frozenset(w.lower() for w in _WORD.findall(text))
        return self._words


def _turn_votes(cands: list[_Candidate], norm: bool = False) -> dict[str, float]:
    """Each turn of the retrieved windows -> the sum of the fused scores of the windows
    holding it; with ``norm``, divided by how many windows could hold it (:func:`_capacity`)."""
    votes: dict[str, float] = {}
    for c in cands:
        for t in (c.turns if c.window else None) or ():
            key = _turn_key(c.cube.provenance.thread_id, t)
            votes[key] = votes.get(key, 0.0) + c.fused
    if norm:
        cap = _capacity(cands)
        votes = {k: v / cap.get(k, cap[""]) for k, v in votes.items()}
    return votes


def _capacity(cands: list[_Candidate]) -> dict[str, int]:
    """How many windows could hold each turn: a window holds its own turn and the turns
    around it in the same session, so the windows holding a turn are centred on the turns of
    its own window - as many as its own window has turns. Known for a turn whose own window
    was retrieved; ``""`` -> the largest window seen, for the others."""
    cap: dict[str, int] = {"": 1}
    for c in cands:
        if c.turns and c.window:
            cap[""] = max(cap[""], len(c.turns))
            if c.focus is not None:
                cap[_turn_key(c.cube.provenance.thread_id, c.focus)] = len(c.turns)
    return cap


def _turn_candidates(cands: list[_Candidate], norm: bool = False) -> list[_Candidate]:
    """Windows -> one candidate per turn they hold. A turn's relevance is the sum of the fused
    scores of every retrieved window holding it: the turn that made a stretch of windows
    match sits in all of them, its short neighbour ("Wow, nice!") in fewer. Each turn keeps
    the window it is the own turn of when that was retrieved, else its best window. Other
    cubes pass through."""
    out: list[_Candidate] = []
    turns: dict[str, tuple[Turn, float, _Candidate]] = {}
    cap = _capacity(cands) if norm else {}
    for c in cands:
        if not c.window or c.turns is None:
            out.append(c)
            continue
        thread = c.cube.provenance.thread_id
        for t in c.turns:
            key = _turn_key(thread, t)
            prev = turns.get(key)
            if prev is None:
                turns[key] = (t, c.fused, c)
                continue
            own = prev[2] if prev[2].focus == t else c if c.focus == t else None
            best = own or (c if c.fused > prev[2].fused else prev[2])
            turns[key] = (t, prev[1] + c.fused, best)
    for key, (t, fused, window) in turns.items():
        tc = _Candidate(window.cube, t)
        tc.fused = fused / cap.get(key, cap[""]) if norm else fused
        out.append(tc)
    return out


def _focus(cube: MemCube, turns: list[Turn] | None) -> Turn | None:
    """The own turn of a fast-reader window (``payload.data["focus"]``), else ``None``."""
    if not turns:
        return None
    pos = getattr(cube.payload, "data", {}).get("focus")
    return next((t for t in turns if t.pos == pos), None)


def _people(cands: list[_Candidate]) -> set[str]:
    """The speakers of the candidates' turns, lower-cased: the people a query can name."""
    return {t.speaker.lower() for c in cands for t in c.turns or () if t.speaker}


def _in_own_voice(query: str) -> bool:
    """Whether ``query`` is a request in the user's own voice, the one kind of query the
    preference tier can open for (see :class:`PreferencePolicy`)."""
    return _OWN_VOICE.search(query) is not None


def _named(query: str, names: set[str]) -> set[str]:
    """The ``names`` (people) that ``query`` mentions as whole words, case-insensitively."""
    low = query.lower()
    return {n for n in names if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", low) is not None}


def _turn_key(thread_id: str | None, t: Turn) -> str:
    if t.message_id:
        return f"m:{thread_id}:{t.message_id}"
    return f"p:{thread_id}:{t.pos}"


class MemScheduler:
    """Plans which memories a model sees for a query, within a token budget.

    Args:
        vault: Where memories live.
        policy: A :class:`SchedulerPolicy` (defaults are the benchmarked method).
        count_tokens: Counts tokens of the target model: the model itself (a LangChain chat
            model such as :class:`~memos_lc.chat_models.ChatMemOS`, or a transformers
            tokenizer: its tokenizer counts, see :func:`token_counter`) or a function
            ``str -> int``. By default :func:`estimate_tokens`, which loads nothing.

    Example:
        .. code-block:: python

            scheduler = MemScheduler(vault)
            plan = scheduler.plan(alice, "What are Alice's hobbies?", namespace=("alice",),
                                  budget_tokens=1024)
            plan.text           # memory block for the system message
            plan.activations    # KV-cache cubes for ChatMemOS
    """

    def __init__(
        self,
        vault: MemVault,
        policy: SchedulerPolicy | None = None,
        *,
        count_tokens: TokenCounter | BaseLanguageModel | PreTrainedTokenizerBase | None = None,
    ) -> None:
        self.vault = vault
        self.policy = policy or SchedulerPolicy()
        self._count = token_counter(count_tokens)
        self._line_cache: dict[str, int] = {}
        self._newline_tokens: int | None = None

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for the target model."""
        return self._count(text) if text else 0

    def _line_tokens(self, lines: list[str]) -> int:
        """Tokens of ``"\\n".join(lines)``, from per-line counts (cached: a plan tries many
        blocks that share most lines). Byte-level BPE tokenizers do not merge across a
        newline, so this is exact for them; the final block is counted whole anyway."""
        if not lines:
            return 0
        cache = self._line_cache
        if len(cache) > 100_000:
            cache.clear()
        total = 0
        for line in lines:
            n = cache.get(line)
            if n is None:
                n = cache[line] = self.count_tokens(line)
            total += n
        if self._newline_tokens is None:
            self._newline_tokens = self.count_tokens("\n")
        return total + self._newline_tokens * (len(lines) - 1)

    # -- public API -------------------------------------------------------------------------

    def plan(
        self,
        principal: Principal | str,
        query: str,
        *,
        namespace: Sequence[str] | None = None,
        budget_tokens: int = 1024,
        filter: CubeFilter | None = None,
        now: datetime | None = None,
    ) -> MemoryPlan:
        """The memory plan for ``query`` in ``namespace`` (and below), within
        ``budget_tokens`` tokens of the target model. Only cubes ``principal`` may read are
        considered; ``now`` is the time recency is measured against."""
        return run_steps(self._plan(principal, query, namespace, budget_tokens, filter, now))

    async def aplan(
        self,
        principal: Principal | str,
        query: str,
        *,
        namespace: Sequence[str] | None = None,
        budget_tokens: int = 1024,
        filter: CubeFilter | None = None,
        now: datetime | None = None,
    ) -> MemoryPlan:
        """Async twin of :meth:`plan`."""
        steps = self._plan(principal, query, namespace, budget_tokens, filter, now)
        return await arun_steps(steps)

    # -- the two halves of plan(): the read and schedule steps of an agent graph --------------

    def retrieve(
        self,
        principal: Principal | str,
        query: str,
        *,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | None = None,
    ) -> Candidates:
        """Step 1 of :meth:`plan`: search every query variant; nothing is scored yet."""
        return run_steps(self._retrieve(principal, query, namespace, filter))

    async def aretrieve(
        self,
        principal: Principal | str,
        query: str,
        *,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | None = None,
    ) -> Candidates:
        """Async twin of :meth:`retrieve`."""
        return await arun_steps(self._retrieve(principal, query, namespace, filter))

    def schedule(
        self,
        principal: Principal | str,
        candidates: Candidates,
        *,
        budget_tokens: int = 1024,
        now: datetime | None = None,
    ) -> MemoryPlan:
        """Step 2 of :meth:`plan`: fetch the candidates (as the principal may read them
        now), score, dedupe, fit ``budget_tokens`` and place them."""
        return run_steps(self._schedule(principal, candidates, budget_tokens, now))

    async def aschedule(
        self,
        principal: Principal | str,
        candidates: Candidates,
        *,
        budget_tokens: int = 1024,
        now: datetime | None = None,
    ) -> MemoryPlan:
        """Async twin of :meth:`schedule`."""
        return await arun_steps(self._schedule(principal, candidates, budget_tokens, now))

    # -- the steps, written once for the sync and the async API (memos_lc.aio) ---------------

    def _plan(
        self,
        principal: Principal | str,
        query: str,
        namespace: Sequence[str] | None,
        budget_tokens: int,
        filter: CubeFilter | None,
        now: datetime | None,
    ) -> Steps[MemoryPlan]:
        queries, ns = self._check(query, namespace, budget_tokens)
        lists = yield Call(self._search_all, self._asearch_all, principal, queries, ns, filter)
        return (yield from self._placed(principal, query, ns, budget_tokens, queries, lists, now))

    def _retrieve(
        self,
        principal: Principal | str,
        query: str,
        namespace: Sequence[str] | None,
        filter: CubeFilter | None,
    ) -> Steps[Candidates]:
        queries, ns = self._check(query, namespace, 0)
        lists = yield Call(self._search_all, self._asearch_all, principal, queries, ns, filter)
        return _candidates(query, ns, queries, lists)

    def _schedule(
        self,
        principal: Principal | str,
        candidates: Candidates,
        budget_tokens: int,
        now: datetime | None,
    ) -> Steps[MemoryPlan]:
        self._check(candidates.query, candidates.namespace, budget_tokens)
        ids = candidates.cube_ids
        cubes = []
        if ids:
            vault = self.vault
            cubes = yield Call(vault.find, vault.afind, principal, cube_ids=ids, limit=len(ids))
        query, ns, budget, queries, lists = _ranked(candidates, cubes, budget_tokens)
        return (yield from self._placed(principal, query, ns, budget, queries, lists, now))

    def _placed(
        self,
        principal: Principal | str,
        query: str,
        ns: tuple[str, ...] | None,
        budget: int,
        queries: list[str],
        lists: Hits,
        now: datetime | None,
    ) -> Steps[MemoryPlan]:
        """What plan() and schedule() share once the hits are known: drop stale derived
        cubes, score, dedupe, fit and place (in a worker thread when async), record use."""
        if _derived_hits(lists):
            lists, stale = yield in_thread(self._drop_stale, principal, lists, now)
        else:
            stale = []
        plan = yield in_thread(self._assemble, query, ns, budget, queries, lists, now, stale)
        if self.policy.record_use and plan.items:
            used = [c.id for c in plan.cubes]
            yield Call(self.vault.record_use, self.vault.arecord_use, principal, used)
        return plan

    async def _asearch_all(
        self,
        principal: Principal | str,
        queries: list[str],
        ns: tuple[str, ...] | None,
        filter: CubeFilter | None,
    ) -> Hits:
        specs = self._searches(queries, filter)
        dense = list(dict.fromkeys(s.query for s in specs if s.mode != "lexical"))
        emb = self.vault.embeddings
        found = await asyncio.gather(*(emb.aembed_query(q) for q in dense))
        vectors = dict(zip(dense, found, strict=True))
        results = await asyncio.gather(
            *(
                self.vault.asearch(principal, s.query, **s.options(ns, vectors.get(s.query)))
                for s in specs
            )
        )
        return list(zip(specs, results, strict=True))

    def _search_all(
        self,
        principal: Principal | str,
        queries: list[str],
        ns: tuple[str, ...] | None,
        filter: CubeFilter | None,
    ) -> Hits:
        # each query variant is embedded once, however many searches use it
        vectors: dict[str, list[float]] = {}
        out: Hits = []
        for s in self._searches(queries, filter):
            vec = None
            if s.mode != "lexical":
                vec = vectors.get(s.query)
                if vec is None:
                    vec = vectors[s.query] = self.vault.embeddings.embed_query(s.query)
            out.append((s, self.vault.search(principal, s.query, **s.options(ns, vec))))
        return out

    def _drop_stale(
        self, principal: Principal | str, lists: Hits, now: datetime | None
    ) -> tuple[Hits, list[StaleDerived]]:
        """The hits without the derived cubes a source changed under (one batched vault read
        of their sources' heads, only when a derived cube was found), and why each left."""
        derived = _derived_hits(lists)
        if not derived:
            return lists, []
        stale = stale_derived(self.vault, principal, derived, now=now)
        return _without(lists, stale), list(stale.values())

    # -- steps ------------------------------------------------------------------------------

    def _check(
        self, query: str, namespace: Sequence[str] | None, budget_tokens: int
    ) -> tuple[list[str], tuple[str, ...] | None]:
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        if not isinstance(budget_tokens, int) or isinstance(budget_tokens, bool):
            raise InvalidInputError("budget_tokens must be an int")
        if budget_tokens < 0:
            raise InvalidInputError("budget_tokens must be >= 0")
        ns = validate_namespace(namespace) if namespace is not None else None
        queries = [query.strip()]
        if self.policy.retrieval.rewrite:
            kw = keyword_query(query)
            if kw and kw.lower() != queries[0].lower():
                queries.append(kw)
        return queries, ns

    def _searches(self, queries: list[str], filter: CubeFilter | None) -> list[_Search]:
        r, p = self.policy.retrieval, self.policy.preferences
        tiered = _tiered(self.policy, filter)
        # (tier, its weights, hits per search, the query variants it searches)
        tiers: list[tuple[Tier, RetrievalPolicy | PreferencePolicy, int, list[str]]] = [
            ("memory", r, r.candidates, queries)
        ]
        # the memory searches leave preferences out whenever there is a tier (the filter
        # allows them); the tier's own searches run only for a request in the user's own
        # voice, the one kind of query that can open it (see _fuse)
        if tiered and _in_own_voice(queries[0]):
            tiers.append(("preference", p, p.candidates, queries if p.rewrite else queries[:1]))
        out = []
        for tier, w, limit, asked in tiers:
            narrowed = _tier_filter(filter, tier, tiered)
            modes = (
                ("hybrid", w.hybrid_weight),
                ("lexical", w.lexical_weight),
                ("dense", w.dense_weight),
            )
            for qi, q in enumerate(asked):
                qw = 1.0 if qi == 0 else r.rewrite_weight
                out.extend(
                    _Search(q, m, mw * qw, limit, tier, narrowed) for m, mw in modes if mw * qw > 0
                )
        return out

    def _assemble(
        self,
        query: str,
        ns: tuple[str, ...] | None,
        budget: int,
        queries: list[str],
        lists: Hits,
        now: datetime | None,
        stale: Sequence[StaleDerived] = (),
    ) -> MemoryPlan:
        cands = self._fuse(lists, query)
        self._score(cands, now or utcnow(), query)
        items, text, text_tokens = self._select(cands, budget)
        total = text_tokens + sum(i.tokens for i in items if i.placement == Placement.ACTIVATION)
        return MemoryPlan(
            query=query,
            namespace=ns,
            budget_tokens=budget,
            items=items,
            text=text,
            text_tokens=text_tokens,
            total_tokens=total,
            queries=queries,
            candidates=len(cands),
            stale=list(stale),
        )

    def _fuse(self, lists: Hits, query: str) -> list[_Candidate]:
        prefs = [(spec, hits) for spec, hits in lists if spec.tier == "preference"]
        memory = [(spec, hits) for spec, hits in lists if spec.tier == "memory"]
        # With a preference tier (the memory searches left preferences out), preferences
        # rank among themselves only, and only for a request in the user's own voice
        # ("what should I cook tonight?"); for a question about someone in the
        # conversation (it names a speaker) or about what happened, they are left to the
        # windows that show them in context.
        cands = self._fuse_memory(memory)
        if prefs and (not _in_own_voice(query) or _named(query, _people(cands))):
            prefs = []
        return cands + list(self._rrf(prefs, "preference").values())

    def _rrf(self, lists: Hits, tier: Tier) -> dict[str, _Candidate]:
        k = self.policy.retrieval.rrf_k
        cands: dict[str, _Candidate] = {}
        owner = self.policy.preferences if tier == "preference" else self.policy.retrieval
        a = owner.lexical_coverage
        for spec, hits in lists:
            strength = [1.0] * len(hits)
            if spec.mode == "lexical" and a > 0:
                cov = self._coverage(spec.query, [h.cube.text for h in hits])
                strength = [1.0 - a + a * c for c in cov]
            for rank, (hit, st) in enumerate(zip(hits, strength, strict=True), 1):
                c = cands.get(hit.cube.id)
                if c is None:
                    c = cands[hit.cube.id] = _Candidate(hit.cube, tier=tier)
                c.fused += spec.weight * st / (k + rank)
        return cands

    def _coverage(self, query: str, texts: list[str]) -> list[float]:
        lexical = self.vault.lexical
        return term_coverage(
            set(lexical.encode_query(query).indices),
            [set(lexical.encode_document(t).indices) for t in texts],
        )

    def _fuse_memory(self, lists: Hits) -> list[_Candidate]:
        excerpt = self.policy.selection.excerpt
        cands = self._rrf(lists, "memory")
        norm = self.policy.retrieval.vote_norm
        if excerpt == "turn":
            return _turn_candidates(list(cands.values()), norm)
        if excerpt == "mixed":  # the windows, and their turns to follow them
            windows = list(cands.values())
            return windows + [c for c in _turn_candidates(windows, norm) if c.single]
        out = list(cands.values())
        if self.policy.retrieval.turn_votes or excerpt == "voted":
            votes = _turn_votes(out, norm)
            for c in out:
                thread = c.cube.provenance.thread_id
                if excerpt == "voted":
                    c.votes = {k: votes[k] for k in c.keys if k in votes}
                if self.policy.retrieval.turn_votes and c.window and c.focus is not None:
                    c.fused = votes[_turn_key(thread, c.focus)]
        return out

    def _score(self, cands: list[_Candidate], now: datetime, query: str) -> None:
        s = self.policy.scoring
        # relevance is relative to the best of the same unit: a turn's vote sums windows
        tops: dict[tuple[bool, Tier], float] = {}
        for c in cands:
            unit = (c.single, c.tier)
            tops[unit] = max(tops.get(unit, 0.0), c.fused)
        total = (s.relevance + s.recency + s.priority + s.usage + s.speaker) or 1.0
        named = _named(query, _people(cands)) if s.speaker else set()
        for c in cands:
            age_days = max(0.0, (now - c.cube.updated_at).total_seconds() / 86400)
            comp = {
                "relevance": c.fused / (tops[c.single, c.tier] or 1.0),
                "recency": 0.5 ** (age_days / s.recency_half_life_days),
                "priority": c.cube.priority,
                "usage": min(1.0, math.log1p(c.cube.usage.hits) / math.log1p(s.usage_saturation)),
            }
            if s.speaker:
                comp["speaker"] = float(bool(named) and _said_by(c, named))
            c.components = comp
            c.score = (
                s.relevance * comp["relevance"]
                + s.recency * comp["recency"]
                + s.priority * comp["priority"]
                + s.usage * comp["usage"]
                + s.speaker * comp.get("speaker", 0.0)
            ) / total

    def _select(self, cands: list[_Candidate], budget: int) -> tuple[list[PlanItem], str, int]:
        sel, place = self.policy.selection, self.policy.placement
        placements = {c.cube.id: self._placement(c.cube, place) for c in cands}
        pool = [
            c
            for c in cands
            if c.components["relevance"] >= sel.min_relevance and placements[c.cube.id] is not None
        ]
        pool.sort(key=lambda c: c.score, reverse=True)
        s = _Selection(sel, place, placements, self._line_tokens)
        # The preference tier fills its share first, the other memories the rest of the
        # budget, then preferences whatever the others left (see PreferencePolicy).
        prefs = [c for c in pool if c.tier == "preference"]
        pool = [c for c in pool if c.tier != "preference"]
        phases = [(pool, budget)]
        if prefs:
            share = int(budget * self.policy.preferences.share)
            phases = [(prefs, share), (pool, budget), (prefs, budget)]
        for pool, cap in phases:
            while pool and len(s.chosen) < sel.max_items:
                if (
                    s.mixed
                    and s.windows_left > 0
                    and not any(c.window and not c.single for c in pool)
                ):
                    s.windows_left = 0  # no window left to try: on to the turns
                best, red, dropped = s.best(pool)
                for c in dropped:
                    pool.remove(c)
                if best is None:
                    if dropped:
                        continue  # the pool changed: look again (phase may have moved on)
                    break
                pool.remove(best)
                if not s.take(best, red, cap) and cap < budget:
                    pool.append(best)  # the share is full: the rest may still fit later
                    break
        text, text_tokens = s.fit(self.count_tokens, budget)
        return s.items(), text, text_tokens

    def _placement(self, cube: MemCube, place: PlacementPolicy) -> Placement | None:
        fp = place.model_fingerprint
        if cube.kind is MemoryKind.PARAMETRIC:
            payload = cube.payload
            assert isinstance(payload, ParametricPayload)
            ok = place.parametric and fp is not None and payload.model_fingerprint == fp
            return Placement.PARAMETRIC if ok else None
        if cube.kind is MemoryKind.ACTIVATION:
            payload = cube.payload
            assert isinstance(payload, ActivationPayload)
            if place.activation and fp is not None and payload.model_fingerprint == fp:
                return Placement.ACTIVATION
        return Placement.PLAINTEXT


@dataclass
class _Selection:
    """One plan's greedy selection (:meth:`MemScheduler._select`): what is chosen so far, in
    order, and what it costs. Each chosen entry is (candidate, placement, tokens added, the
    turns it renders: all of a window's or its voted excerpt; ``None`` for one line)."""

    sel: SelectionPolicy
    place: PlacementPolicy
    placements: Mapping[str, Placement | None]
    line_tokens: Callable[[list[str]], int]
    chosen: list[tuple[_Candidate, Placement, int, list[Turn] | None]] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)
    compiled: set[str] = field(default_factory=set)
    """Plaintext cube ids whose text is in a chosen KV prefix."""
    text_tokens: int = 0
    prefix_tokens: int = 0
    adapters: int = 0
    windows_left: int = 0

    def __post_init__(self) -> None:
        # "mixed": whole windows first, then single turns (other cubes compete throughout)
        self.windows_left = self.sel.window_items if self.mixed else 0

    @property
    def mixed(self) -> bool:
        return self.sel.excerpt == "mixed"

    def eligible(self, c: _Candidate) -> bool:
        return not self.mixed or not c.window or c.single == (self.windows_left <= 0)

    def text_entries(
        self, extra: tuple[_Candidate, list[Turn] | None] | None = None
    ) -> list[tuple[MemCube, Any]]:
        picked = [(c, ts) for c, p, _, ts in self.chosen if p == Placement.PLAINTEXT]
        return [(c.cube, ts) for c, ts in ([*picked, extra] if extra else picked)]

    def injected(self) -> set[str]:
        return {
            _turn_key(c.cube.provenance.thread_id, t)
            for c, p, _, ts in self.chosen
            if p == Placement.PLAINTEXT
            for t in ts or ()
        }

    def best(self, pool: list[_Candidate]) -> tuple[_Candidate | None, float, list[_Candidate]]:
        """The eligible candidate of highest MMR value and its redundancy, and the ones
        that are now duplicates of the plan (redundancy only grows as the plan does: drop
        them)."""
        best, best_value, best_red = None, -math.inf, 0.0
        picked = [x[0] for x in self.chosen]
        dropped: list[_Candidate] = []
        for c in pool:
            if not self.eligible(c):
                continue
            if self.placements[c.cube.id] == Placement.ACTIVATION:
                # a KV block holds the text it was compiled from: it replaces its sources
                # rather than repeating them
                src = set(c.cube.provenance.derived_from)
                others = [x for x in picked if x.cube.id not in src]
                red = _redundancy(c, {k for o in others for k in o.keys}, others)
            else:
                red = _redundancy(c, self.covered, picked)
                if red >= self.sel.duplicate_threshold:
                    dropped.append(c)
                    continue
            value = self.sel.mmr_lambda * c.score - (1 - self.sel.mmr_lambda) * red
            if value > best_value:
                best, best_value, best_red = c, value, red
        return best, best_red, dropped

    def take(self, c: _Candidate, red: float, cap: int) -> bool:
        """Place ``c`` where the policy says, within ``cap`` tokens; False when it is text
        that does not fit."""
        placement = self.placements[c.cube.id]
        if red >= self.sel.duplicate_threshold or placement is None:
            return True
        # A KV prefix is one block computed by the base weights: a plan places one, and not
        # beside an adapter, which changes the weights (the first chosen wins; a KV cube
        # left out leaves its sources free to go in as text)
        if placement == Placement.PARAMETRIC:
            if self.adapters < self.place.max_adapters and not self.prefix_tokens:
                self.adapters += 1
                self.chosen.append((c, placement, 0, None))
            return True
        if placement == Placement.ACTIVATION:
            if not self.prefix_tokens and not self.adapters:
                self._take_prefix(c, cap)
            return True
        if c.cube.id in self.compiled:
            return True
        return self._take_text(c, placement, cap)

    def _take_prefix(self, c: _Candidate, cap: int) -> None:
        payload = c.cube.payload
        assert isinstance(payload, ActivationPayload)
        sources = set(c.cube.provenance.derived_from)
        kept = [
            x for x in self.chosen if not (x[1] == Placement.PLAINTEXT and x[0].cube.id in sources)
        ]
        if len(kept) != len(self.chosen):  # its sources leave the text block
            self.chosen = kept
            self.text_tokens = self.line_tokens(_lines(self.text_entries()))
        if self.text_tokens + self.prefix_tokens + payload.prefix_tokens > cap:
            return
        self.compiled |= sources
        self.prefix_tokens += payload.prefix_tokens
        self.chosen.append((c, Placement.ACTIVATION, payload.prefix_tokens, None))
        self.covered |= c.keys

    def _take_text(self, c: _Candidate, placement: Placement, cap: int) -> bool:
        options = [c.turns]
        if self.sel.excerpt == "voted" and c.turns and c.votes:
            options = _voted_excerpts(c, self.injected(), self.sel.vote_ratio)
        for turns in options:  # the excerpt, else its best new turn alone
            tokens = self.line_tokens(_lines(self.text_entries((c, turns))))
            if tokens + self.prefix_tokens <= cap:
                self.chosen.append((c, placement, tokens - self.text_tokens, turns))
                self.text_tokens = tokens
                if c.window and not c.single:
                    self.windows_left -= 1
                # redundancy counts the whole window, so the ranking is the windows'
                self.covered |= c.keys
                return True
        return False

    def fit(self, count_tokens: Callable[[str], int], budget: int) -> tuple[str, int]:
        """The text block, counted whole once: a tokenizer that merges across lines could
        make the per-line sum low, so the last text items leave until the exact count fits."""
        text = "\n".join(_lines(self.text_entries()))
        text_tokens = count_tokens(text)
        while text_tokens + self.prefix_tokens > budget:
            last = max(i for i, x in enumerate(self.chosen) if x[1] == Placement.PLAINTEXT)
            del self.chosen[last]
            text = "\n".join(_lines(self.text_entries()))
            text_tokens = count_tokens(text)
        return text, text_tokens

    def items(self) -> list[PlanItem]:
        return [
            PlanItem(
                cube=c.cube,
                score=c.score,
                placement=p,
                tokens=t,
                components=c.components,
                source_ids=c.source_ids if ts is None or ts is c.turns else _ids_of(ts),
                ranked_ids=c.source_ids,
            )
            for c, p, t, ts in self.chosen
        ]


def _voted_excerpts(c: _Candidate, injected: set[str], ratio: float) -> list[list[Turn]]:
    """The turns of window ``c`` to inject: those not yet in the block whose vote is at least
    ``ratio`` times the best vote in the window, else (all such turns are in) its best new
    turn; then, as a fallback when that does not fit the budget, its best new turn alone."""
    thread = c.cube.provenance.thread_id
    keyed = [(t, _turn_key(thread, t)) for t in c.turns or ()]
    new = [(t, k) for t, k in keyed if k not in injected]
    if not new:
        return []
    top = max(c.votes.get(k, 0.0) for _, k in keyed)
    excerpt = [t for t, k in new if c.votes.get(k, 0.0) >= ratio * top]
    single = [max(new, key=lambda x: c.votes.get(x[1], 0.0))[0]]
    return [excerpt, single] if excerpt and excerpt != single else [single]


def term_coverage(query_terms: set[int], docs: Sequence[set[int]]) -> list[float]:
    """Per document (a set of BM25 term ids), the share of the query's terms it holds, each
    term weighted by its rarity among ``docs``: ``log((n + 1) / (df + 0.5))``. A term every
    document has weighs next to nothing; a query term none has counts against them all (the
    search missed what the query is most specific about). No query terms: 1 for all."""
    if not query_terms or not docs:
        return [1.0] * len(docs)
    held = [query_terms & d for d in docs]
    n = len(held)
    df = dict.fromkeys(query_terms, 0)
    for d in held:
        for t in d:
            df[t] += 1
    weight = {t: math.log((n + 1) / (df[t] + 0.5)) for t in query_terms}
    total = sum(weight.values())
    return [sum(weight[t] for t in d) / total for d in held]


def _tier_filter(
    filter: CubeFilter | Mapping[str, Any] | None, tier: Tier, tiered: bool = True
) -> CubeFilter | Mapping[str, Any] | None:
    """``filter`` narrowed to ``tier``'s cubes (with a preference tier, the memory tier
    leaves preferences out, so they take none of its candidate slots); ``None`` for the
    preference tier when the filter's memory types leave preferences out (the tier then
    does not search)."""
    if tier == "memory":
        if not tiered:
            return filter
        if isinstance(filter, Mapping):
            excluded = tuple(filter.get("exclude_memory_types") or ())
            return {**filter, "exclude_memory_types": (*excluded, PREFERENCE)}
        base = filter or CubeFilter()
        return base.model_copy(
            update={"exclude_memory_types": (*(base.exclude_memory_types or ()), PREFERENCE)}
        )
    wanted = (PREFERENCE,)
    if isinstance(filter, Mapping):
        types, excluded = filter.get("memory_types"), filter.get("exclude_memory_types") or ()
        if (types is not None and PREFERENCE not in types) or PREFERENCE in excluded:
            return None
        return {**filter, "memory_types": wanted}
    if filter is None:
        return CubeFilter(memory_types=wanted)
    types, excluded = filter.memory_types, filter.exclude_memory_types or ()
    if (types is not None and PREFERENCE not in types) or PREFERENCE in excluded:
        return None
    return filter.model_copy(update={"memory_types": wanted})


def _tiered(policy: SchedulerPolicy, filter: CubeFilter | Mapping[str, Any] | None) -> bool:
    """Whether preferences are searched as a tier of their own for this filter."""
    return policy.preferences.share > 0 and _tier_filter(filter, "preference") is not None


def _ids_of(turns: Sequence[Turn]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for t in turns for s in t.source_ids))


def _said_by(c: _Candidate, named: set[str]) -> bool:
    """Whether ``c`` is a turn one of the ``named`` people said, or for a cube that is not
    a conversation window, whether its text names one of them. A whole window holds both
    sides of a conversation: who said its own turn tells little, so it never counts."""
    if c.turns is None:
        return bool(_named(c.cube.text, named))
    return c.single and c.turns[0].speaker.lower() in named


def _redundancy(c: _Candidate, covered: set[str], chosen: list[_Candidate]) -> float:
    """How much of ``c`` the plan already holds, in [0, 1]."""
    if c.keys:
        return len(c.keys & covered) / len(c.keys)
    best = 0.0
    for o in chosen:
        if c.cube.text == o.cube.text:
            return 1.0
        if c.words and o.words:
            best = max(best, len(c.words & o.words) / len(c.words | o.words))
    return best


__all__ = [
    "MemScheduler",
    "MemoryPlan",
    "Placement",
    "PlacementPolicy",
    "PlanItem",
    "RetrievalPolicy",
    "SchedulerPolicy",
    "ScoringPolicy",
    "SelectionPolicy",
    "keyword_query",
    "render_block",
    "term_coverage",
]


def _candidates(
    query: str, ns: tuple[str, ...] | None, queries: list[str], lists: Hits
) -> Candidates:
    return Candidates(
        query=query,
        namespace=ns,
        queries=queries,
        lists=[
            RankedList(
                weight=spec.weight,
                ids=[h.cube.id for h in hits],
                scores=[h.score for h in hits],
                mode=spec.mode,
                tier=spec.tier,
            )
            for spec, hits in lists
        ],
    )


def _derived_hits(lists: Hits) -> list[MemCube]:
    return [h.cube for _, hits in lists for h in hits if h.cube.kind in DERIVED_KINDS]


def _without(lists: Hits, stale: Mapping[tuple[str | None, str], StaleDerived]) -> Hits:
    if not stale:
        return lists
    return [
        (spec, [h for h in hits if (h.cube.access.owner, h.cube.id) not in stale])
        for spec, hits in lists
    ]


def _ranked(
    candidates: Candidates, cubes: Sequence[MemCube], budget: int
) -> tuple[str, tuple[str, ...] | None, int, list[str], Hits]:
    """The arguments of ``_assemble`` from retrieved ids and the cubes fetched for them; an id
    no longer readable (deleted, access revoked) drops out of its list."""
    by_id = {c.id: c for c in cubes}
    lists: Hits = []
    for r in candidates.lists:
        scores = r.scores if len(r.scores) == len(r.ids) else [0.0] * len(r.ids)
        hits = [
            ScoredCube(cube=by_id[i], score=sc)
            for i, sc in zip(r.ids, scores, strict=True)
            if i in by_id
        ]
        lists.append((_Search("", r.mode, r.weight, len(r.ids), r.tier), hits))
    return candidates.query, candidates.namespace, budget, candidates.queries, lists
