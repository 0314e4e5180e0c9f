"""Lifecycle and consolidation: dedupe, merge, resolve contradictions, expire, promote.

:func:`consolidate` (and its async twin :func:`aconsolidate`) tidies one principal's plaintext
memories, deferred from any answer path (a background job, a separate graph, a cron). One run:

1. **Expire.** Cubes whose ``expires_at`` has passed become ``expired`` (the vault's sweep,
   scoped to the principal's own cubes under the namespace).
2. **Contradictions by slot.** Active cubes sharing a ``key`` (a subject slot such as
   ``"alice:city"``) in one namespace cannot all be current: the newest one (by
   ``updated_at``) wins as a *new version* of itself whose ``provenance.derived_from`` lists
   the others, and the others become ``archived`` (``merged`` when their text only repeats
   the winner's). A keyed slot so keeps its cube id.
3. **Near-duplicates.** Cubes whose stored dense vectors have a cosine of at least
   ``duplicate_similarity``, or whose normalized texts are equal, are merged into ONE new
   cube: the newest (or longest) text, ``provenance.derived_from`` = the group's ids,
   ``source_ids`` / ``message_ids`` / tags = their union (evidence survives), usage hits
   summed, the earliest ``created_at``. The members become ``merged``.
4. **Judged pairs** (only with a ``judge``: any LangChain chat model, or a function). Pairs
   in the grey zone (cosine from ``judge_similarity`` up to ``duplicate_similarity``) are
   judged ``duplicate`` (merged as in 3, with the judge's merged text), ``contradiction`` (the
   newer wins as in 2) or ``distinct`` (left alone). Without a judge nothing in the grey
   zone changes: every rule above is deterministic.
5. **Stale derived memory.** An activation or parametric cube records the source versions
   it was built from (``provenance.derived_from_versions``). Once a source has a newer
   version, is deleted, merged, archived or expired (steps 1-4 included), the cube is stale
   (:func:`stale_derived`): the scheduler already stops placing it, and this step retires
   it (``archived``, as a new version whose provenance note says why). Its sources count
   as unpromoted again.
6. **Promotion.** Hot cubes (recalled at least ``hot_min_hits`` times, last within
   ``hot_window``) are candidates for activation memory (a compiled KV cache); stable cubes
   (older than ``stable_min_age``, unchanged that long, recalled at least
   ``stable_min_hits`` times) are candidates for parametric memory (a LoRA adapter). The
   report lists them. With a ``model`` (a :class:`~memos_lc.chat_models.ChatMemOS` or a
   :class:`~memos_lc.models.LocalLM`), hot candidates are compiled into one activation cube
   for it and, with ``train_adapters``, stable ones trained into one adapter for it within
   ``adapter_max_seconds``; ``activate`` / ``parametrize`` promoters (e.g.
   :func:`~memos_lc.activation.activation_promoter`,
   :func:`~memos_lc.parametric.adapter_promoter`) replace either. A candidate that a current
   activation (parametric) cube already holds is skipped.

Nothing is lost: every change is a new version, so ``vault.history`` shows it and
``vault.rollback`` undoes it. Groups never span owners, namespaces, memory types or access
lists, and a non-admin principal only consolidates the cubes it owns. Cubes that
integrations manage by identity are left alone by default: LangGraph store items (origin
``"store"``), chat messages (``"chat_history"``) and checkpoints. A run is idempotent:
running it again on an unchanged vault changes nothing. A concurrent change to a cube makes
its group skip (reported in ``skipped``) and retry on the next run.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.lifecycle import LifecyclePolicy, consolidate

        alice = Principal(id="alice")
        report = consolidate(vault, alice, ("alice",), LifecyclePolicy(duplicate_similarity=0.9))
        print(report.summary())
        for merge in report.merges:
            print(merge.reason, merge.cube_id, "<-", merge.sources)
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from memos_lc.aio import Call, Steps, arun_steps, in_thread, run_steps
from memos_lc.cube import (
    MAX_IDS,
    MAX_TAGS,
    LifecycleStatus,
    MemCube,
    MemoryKind,
    MemoryType,
    ParametricPayload,
    Provenance,
    Usage,
    utcnow,
    validate_namespace,
)
from memos_lc.errors import ConflictError, CubeNotFoundError, InvalidInputError
from memos_lc.governance import Principal, as_principal
from memos_lc.vault import CubeFilter, MemVault
from memos_lc.vault.limits import MAX_LIMIT

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from memos_lc.chat_models import ChatMemOS
    from memos_lc.models import LocalLM

__all__ = [
    "ConsolidationReport",
    "LifecyclePolicy",
    "MergeRecord",
    "ModelJudge",
    "PairJudgement",
    "Promoter",
    "StaleDerived",
    "aconsolidate",
    "astale_derived",
    "consolidate",
    "stale_derived",
    "text_fingerprint",
]

ORIGIN = "consolidation"

Promoter = Callable[[MemVault, Principal, list[MemCube]], Any]
"""Turns promotion candidates into cubes: ``(vault, principal, cubes) -> cubes`` (a cube, a
list of cubes, or ``None``; may be a coroutine function). Its cubes should record the
candidates they were built from (``Provenance.built_from(cubes)``: ids in
``provenance.derived_from``, versions in ``provenance.derived_from_versions``) so the next
run knows they are promoted, and so they go stale when a source changes. An object whose
``apromote`` method is a coroutine function (e.g.
:func:`memos_lc.parametric.adapter_promoter`'s) is awaited through it by :func:`aconsolidate`
(cancellable work off the event loop)."""

DERIVED_KINDS = (MemoryKind.ACTIVATION, MemoryKind.PARAMETRIC)
"""Kinds of cube built from plaintext cubes (compiled or trained): they go stale with them."""


class LifecyclePolicy(BaseModel):
    """What one consolidation run does and with which thresholds.

    Example:
        .. code-block:: python

            LifecyclePolicy(duplicate_similarity=0.9, hot_min_hits=5, dry_run=True)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_types: tuple[str, ...] | None = None
    """Consolidate only these memory types (``None``: every type not excluded below)."""
    exclude_memory_types: tuple[str, ...] = (MemoryType.CHECKPOINT.value,)
    exclude_origins: tuple[str, ...] = ("store", "chat_history", "langgraph")
    """Provenance origins of cubes integrations manage by identity (store items, chat
    messages, checkpoints), which consolidation must not merge away."""
    max_cubes: int = Field(default=2000, ge=1, le=MAX_LIMIT)
    """The most recently updated cubes considered per run."""

    expire: bool = True
    resolve_conflicts: bool = True
    """Resolve cubes sharing a key (newest wins)."""
    dedupe: bool = True
    duplicate_similarity: float = Field(default=0.95, gt=0.0, le=1.0)
    """Cosine of stored dense vectors at or above which two cubes are duplicates."""
    merge_text: Literal["newest", "longest"] = "newest"
    """The text a merged cube keeps: the newest member's or the longest one's."""

    judge_similarity: float = Field(default=0.75, gt=0.0, le=1.0)
    """With a judge: pairs at least this similar (and below ``duplicate_similarity``) are
    judged."""
    judge_max_pairs: int = Field(default=32, ge=0, le=1000)
    judge_concurrency: int = Field(default=4, ge=1, le=64)

    hot_min_hits: int = Field(default=3, ge=1)
    hot_window: timedelta = timedelta(days=1)
    max_hot: int = Field(default=16, ge=0)
    stable_min_age: timedelta = timedelta(days=7)
    stable_min_hits: int = Field(default=2, ge=0)
    max_stable: int = Field(default=256, ge=0)
    train_adapters: bool = True
    """With a ``model`` given to :func:`consolidate`: train the stable candidates into one
    adapter (parametric memory) for it. ``False`` compiles activation memory only (fast)."""
    adapter_max_seconds: float = Field(default=120.0, gt=0.0)
    """Time budget of that training; the adapter stores what it learned by then."""
    retire_stale: bool = True
    """Archive the principal's activation / parametric cubes (under the namespace, or built
    from a cube under it) that a source has changed under since they were built (see
    :func:`stale_derived`)."""

    dry_run: bool = False
    """Plan and report only; write nothing (and call no promoter)."""

    @model_validator(mode="after")
    def _thresholds(self) -> LifecyclePolicy:
        if self.judge_similarity > self.duplicate_similarity:
            raise ValueError("judge_similarity must not exceed duplicate_similarity")
        return self


class PairJudgement(BaseModel):
    """How two memories relate, as a judge sees them."""

    relation: Literal["duplicate", "contradiction", "distinct"] = Field(
        description="duplicate: the same information; contradiction: both cannot be true "
        "now, the newer one is current; distinct: different information, keep both"
    )
    merged_text: str | None = Field(
        default=None,
        description="For duplicate: one statement keeping every detail of both. For "
        "contradiction: optionally the current truth as one statement.",
    )


Judge = Callable[[MemCube, MemCube], PairJudgement | None]
"""A judge: ``(older, newer) -> PairJudgement`` (``None``: no verdict, nothing changes)."""


class MergeRecord(BaseModel):
    """One merge or resolution: which cube now holds the memory and which were folded in."""

    model_config = ConfigDict(frozen=True)

    reason: Literal["duplicate", "contradiction"]
    cube_id: str
    """The cube holding the memory now: a new cube (duplicates) or the winner (a slot)."""
    version: int
    created: bool
    """True when ``cube_id`` is a new cube, False when it is a new version of the winner."""
    sources: tuple[str, ...]
    """The cubes folded in (now ``merged`` or ``archived``)."""
    similarity: float | None = None
    judged: bool = False
    """Decided by the judge rather than a deterministic rule."""


class StaleDerived(BaseModel):
    """A derived (activation / parametric) cube whose source changed since it was built: the
    first such source and what became of it."""

    model_config = ConfigDict(frozen=True)

    cube_id: str
    owner: str | None = None
    source_id: str
    source_version: int | None
    """The version it was built from (``None``: a source named by id only, judged by the
    source's ``updated_at`` against the derived cube's ``created_at``)."""
    change: Literal["new_version", "deleted", "expired", "merged", "archived", "missing"]
    """``missing``: the source no longer exists, or the principal may not read it."""
    current_version: int | None = None

    @property
    def reason(self) -> str:
        """One line for traces and provenance notes."""
        built = (
            f"{self.source_id} v{self.source_version}" if self.source_version else (self.source_id)
        )
        if self.change == "new_version":
            return f"source {built} has a newer version v{self.current_version}"
        if self.change == "missing":
            return f"source {built} no longer exists or is not readable"
        return f"source {built} is {self.change}"


class ConsolidationReport(BaseModel):
    """What a consolidation run did (or, when ``dry_run``, would do), with cube ids."""

    principal: str
    namespace: tuple[str, ...] | None
    dry_run: bool = False
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    scanned: int = 0
    truncated: bool = False
    """More cubes matched than ``max_cubes``; the rest wait for the next run."""
    expired: tuple[str, ...] = ()
    merges: tuple[MergeRecord, ...] = ()
    merged: tuple[str, ...] = ()
    """Cubes now ``merged`` (their content lives on in a merge's cube)."""
    archived: tuple[str, ...] = ()
    """Cubes now ``archived`` (contradicted by a newer one)."""
    judged_pairs: int = 0
    judge_failures: int = 0
    activation_candidates: tuple[str, ...] = ()
    parametric_candidates: tuple[str, ...] = ()
    activation_cubes: tuple[str, ...] = ()
    """Cubes the ``activate`` promoter made (or the ``model``'s activation compiler)."""
    parametric_cubes: tuple[str, ...] = ()
    """Cubes the ``parametrize`` promoter made (or the ``model``'s adapter training)."""
    retired: tuple[StaleDerived, ...] = ()
    """Activation / parametric cubes now ``archived`` because a source changed since they
    were built (with ``dry_run``: those that would be)."""
    skipped: tuple[str, ...] = ()
    """Cubes of groups left alone because they changed concurrently (retried next run)."""

    @property
    def deduplicated(self) -> tuple[MergeRecord, ...]:
        """The merges of duplicates."""
        return tuple(m for m in self.merges if m.reason == "duplicate")

    @property
    def resolved(self) -> tuple[MergeRecord, ...]:
        """The resolved contradictions."""
        return tuple(m for m in self.merges if m.reason == "contradiction")

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything."""
        return bool(
            not self.dry_run
            and (
                self.expired
                or self.merges
                or self.retired
                or self.activation_cubes
                or self.parametric_cubes
            )
        )

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"{'planned' if self.dry_run else 'consolidated'} {self.scanned} cubes: "
            f"{len(self.expired)} expired, {len(self.deduplicated)} merges of duplicates, "
            f"{len(self.resolved)} contradictions resolved ({len(self.merged)} merged, "
            f"{len(self.archived)} archived), {len(self.activation_candidates)} hot and "
            f"{len(self.parametric_candidates)} stable candidates, "
            f"{len(self.activation_cubes) + len(self.parametric_cubes)} promoted, "
            f"{len(self.retired)} stale retired, {len(self.skipped)} skipped"
        )


# -- judging ----------------------------------------------------------------------------------

_JUDGE_SYSTEM = (
    "You maintain a long-term memory store. Compare two memories of the same person or "
    "topic and classify how they relate:\n"
    "- duplicate: they state the same information (wording may differ). Give merged_text: "
    "one statement that keeps every detail of both.\n"
    "- contradiction: both cannot be true now (e.g. a preference or fact changed); the newer "
    "memory is current. You may give merged_text: the current truth as one statement.\n"
    "- distinct: they say different things that can both be true. Keep both."
)
_JSON_INSTRUCTIONS = (
    '\n\nAnswer with JSON only, e.g. {"relation": "duplicate", "merged_text": "..."} or '
    '{"relation": "distinct", "merged_text": null}.'
)


class ModelJudge:
    """Judges memory pairs with a LangChain chat model.

    Uses the model's structured output when it has one (tool calling or JSON schema), and
    otherwise asks for JSON and parses it, so small local models work too. An answer that
    does not parse counts as ``distinct``: a judge never changes memory on a guess.

    Example:
        .. code-block:: python

            judge = ModelJudge(ChatOpenAI(model="gpt-4o-mini"))
            consolidate(vault, alice, ("alice",), judge=judge)
    """

    def __init__(self, llm: BaseChatModel, **structured_output: Any) -> None:
        self.llm = llm
        self._runnable: Any
        try:
            self._runnable = llm.with_structured_output(
                PairJudgement, include_raw=True, **structured_output
            )
            self._structured = True
        except NotImplementedError:
            self._runnable = llm
            self._structured = False

    def _messages(self, older: MemCube, newer: MemCube) -> list[tuple[str, str]]:
        system = _JUDGE_SYSTEM + ("" if self._structured else _JSON_INSTRUCTIONS)
        human = (
            f"Older memory ({older.updated_at.date().isoformat()}): {older.text}\n"
            f"Newer memory ({newer.updated_at.date().isoformat()}): {newer.text}"
        )
        return [("system", system), ("human", human)]

    def _parse(self, out: Any) -> PairJudgement | None:
        if self._structured:
            parsed = out.get("parsed") if isinstance(out, dict) else out
            return parsed if isinstance(parsed, PairJudgement) else None
        return parse_judgement(getattr(out, "text", out))

    def __call__(self, older: MemCube, newer: MemCube) -> PairJudgement | None:
        """Judge the pair (``None`` when the answer does not parse)."""
        return self._parse(self._runnable.invoke(self._messages(older, newer)))

    async def ajudge(self, older: MemCube, newer: MemCube) -> PairJudgement | None:
        """Async twin of calling the judge."""
        return self._parse(await self._runnable.ainvoke(self._messages(older, newer)))


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_judgement(text: Any) -> PairJudgement | None:
    """A :class:`PairJudgement` from a model's text answer (JSON, possibly fenced or with
    prose around it), or ``None``."""
    if not isinstance(text, str) or not (m := _JSON_OBJECT.search(text)):
        return None
    try:
        return PairJudgement.model_validate(json.loads(m.group(0)))
    except (ValueError, TypeError):
        return None


# -- staleness of derived memory --------------------------------------------------------------


def _built_from(cube: MemCube) -> list[tuple[str | None, str, int | None]]:
    """``(owner, id, version)`` of each source of a derived cube; the version is ``None`` for
    a source named by id only (``derived_from`` ids given to
    :meth:`~memos_lc.activation.ActivationMemory.compile`, an adapter's ``source_cube_ids``
    under a provenance of the caller's)."""
    prov = cube.provenance
    out = [(r.owner or cube.access.owner, r.id, r.version) for r in prov.derived_from_versions]
    known = {r.id for r in prov.derived_from_versions}
    unversioned = list(prov.derived_from)
    if isinstance(cube.payload, ParametricPayload):
        unversioned += cube.payload.source_cube_ids
    out += [(cube.access.owner, i, None) for i in dict.fromkeys(unversioned) if i not in known]
    return out


CubeKey = tuple[str | None, str]
"""(owner, cube id): what names a cube, ids being scoped per owner."""


def _key(cube: MemCube) -> CubeKey:
    return cube.access.owner, cube.id


def _derived(cubes: Sequence[MemCube]) -> list[MemCube]:
    return list({_key(c): c for c in cubes if c.kind in DERIVED_KINDS and _built_from(c)}.values())


def _source_query(derived: Sequence[MemCube]) -> tuple[list[str], CubeFilter]:
    """The one batched lookup of the sources' heads: their ids, in every status (a deleted
    or expired head is the answer), in no particular order."""
    sources = [(o, i) for c in derived for o, i, _ in _built_from(c)]
    ids = list(dict.fromkeys(i for _, i in sources))
    owners = {o for o, _ in sources}
    flt = CubeFilter(
        statuses=None,
        include_expired=True,
        owner=next(iter(owners)) if len(owners) == 1 else None,  # narrows the engine's scan
    )
    return ids, flt


def _judge_sources(
    derived: Sequence[MemCube], heads: Sequence[MemCube], now: datetime
) -> dict[CubeKey, StaleDerived]:
    by_key = {(h.access.owner, h.id): h for h in heads}
    out: dict[CubeKey, StaleDerived] = {}
    for c in derived:
        for owner, sid, version in _built_from(c):
            head = by_key.get((owner, sid))
            change: str | None = None
            if head is None:
                change = "missing"
            elif head.status is LifecycleStatus.DELETED:
                change = "deleted"
            elif head.status is LifecycleStatus.EXPIRED or head.is_expired(now):
                change = "expired"
            elif head.status is LifecycleStatus.MERGED:
                change = "merged"
            elif head.status is LifecycleStatus.ARCHIVED:
                change = "archived"
            elif (version is not None and head.version != version) or (
                version is None and head.updated_at > c.created_at
            ):
                change = "new_version"
            if change is not None:
                out[_key(c)] = StaleDerived(
                    cube_id=c.id,
                    owner=c.access.owner,
                    source_id=sid,
                    source_version=version,
                    change=change,  # type: ignore[arg-type]
                    current_version=head.version if head is not None else None,
                )
                break
    return out


def stale_derived(
    vault: MemVault,
    principal: Principal | str,
    cubes: Sequence[MemCube],
    *,
    now: datetime | None = None,
) -> dict[CubeKey, StaleDerived]:
    """Which of ``cubes``' activation / parametric cubes are stale, by (owner, cube id): a
    source they were built from has a newer version, is deleted, merged, archived or expired
    (at ``now``), or is gone (or not readable by ``principal``: what cannot be checked is
    never trusted). Other cubes are ignored. One batched vault read for all the sources.

    Example:
        .. code-block:: python

            stale = stale_derived(vault, alice, plan.cubes)
            for why in stale.values():
                print(why.cube_id, why.reason)
    """
    derived = _derived(cubes)
    if not derived:
        return {}
    ids, flt = _source_query(derived)
    heads = vault.find(principal, cube_ids=ids, filter=flt, limit=MAX_LIMIT, order_by=None)
    return _judge_sources(derived, heads, now or utcnow())


async def astale_derived(
    vault: MemVault,
    principal: Principal | str,
    cubes: Sequence[MemCube],
    *,
    now: datetime | None = None,
) -> dict[CubeKey, StaleDerived]:
    """Async twin of :func:`stale_derived` (runs in a worker thread)."""
    return await asyncio.to_thread(stale_derived, vault, principal, cubes, now=now)


# -- planning ---------------------------------------------------------------------------------

_PUNCT_END = re.compile(r"[\s.!?;,]+$")
_SPACES = re.compile(r"\s+")


def text_fingerprint(text: str) -> str:
    """A digest equal for texts that differ only in case, spacing or final punctuation."""
    norm = _PUNCT_END.sub("", _SPACES.sub(" ", text.casefold()).strip())
    return hashlib.sha256(norm.encode()).hexdigest()


def _union(values: Sequence[Sequence[str]], cap: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for vs in values for v in vs))[:cap]


def _order(c: MemCube) -> tuple[datetime, datetime, str]:
    return (c.updated_at, c.created_at, c.id)


@dataclass
class _Item:
    """A cube in the planning pool: its planned current state and dense vector."""

    cube: MemCube
    vector: np.ndarray | None
    fingerprint: str
    consumed: bool = False
    """Folded into another cube by this run's plan."""


@dataclass
class _Fold:
    cube: MemCube
    status: LifecycleStatus


@dataclass
class _Op:
    """One group's writes: a survivor (a new cube, or a new version of the winner) and the
    members folded into it."""

    reason: Literal["duplicate", "contradiction"]
    survivor: MemCube
    base: MemCube | None
    """For a new version: the winner's state it follows (its version is the expected one)."""
    changes: dict[str, Any]
    folds: list[_Fold]
    vector: np.ndarray | None
    index: bool
    similarity: float | None = None
    judged: bool = False


def _bucket_key(c: MemCube) -> tuple[Any, ...]:
    # One owner, namespace, memory type and access list per group: a merge never changes
    # who may read a memory or where it is found.
    return (c.namespace, c.memory_type, c.access.model_dump_json())


def _normed(v: Sequence[float] | None) -> np.ndarray | None:
    if v is None:
        return None
    a = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(a))
    return a / n if n > 0 else None


@dataclass
class _Run:
    """One consolidation: gather (vault reads), plan (pure), judge, apply (vault writes)."""

    vault: MemVault
    principal: Principal
    namespace: tuple[str, ...] | None
    policy: LifecyclePolicy
    now: datetime
    report: dict[str, Any] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)
    ops: list[_Op] = field(default_factory=list)
    compiled: list[MemCube] = field(default_factory=list)
    """The principal's active activation / parametric cubes (every namespace)."""
    promoted: dict[MemoryKind, set[tuple[str | None, str]]] = field(default_factory=dict)
    """(owner, id) of the cubes a current (not stale) derived cube of each kind holds."""
    hot: list[MemCube] = field(default_factory=list)
    stable: list[MemCube] = field(default_factory=list)
    stale: dict[CubeKey, StaleDerived] = field(default_factory=dict)

    # -- gather ---------------------------------------------------------------------------

    def _filter(self, **extra: Any) -> CubeFilter:
        owner = None if self.principal.is_admin else self.principal.id
        return CubeFilter(namespace=self.namespace, owner=owner, **extra)

    def expire(self) -> None:
        if self.policy.expire and not self.policy.dry_run:
            self.report["expired"] = tuple(
                self.vault.sweep_expired(
                    self.now, principal=self.principal, namespace=self.namespace
                )
            )
        elif self.policy.expire:
            # what sweep_expired would move, the checkpointer's cubes included
            flt = self._filter(include_expired=True, include_internal=True)
            due = self.vault.find(self.principal, filter=flt, limit=MAX_LIMIT)
            self.report["expired"] = tuple(c.id for c in due if c.is_expired(self.now))

    def gather(self) -> None:
        p = self.policy
        flt = self._filter(kinds=(MemoryKind.PLAINTEXT,), memory_types=p.memory_types)
        cubes = self.vault.find(self.principal, filter=flt, limit=p.max_cubes, order_by="updated")
        self.report["truncated"] = len(cubes) == p.max_cubes and self.vault.count(
            self.principal, filter=flt
        ) > len(cubes)
        cubes = [
            c
            for c in cubes
            if c.memory_type not in p.exclude_memory_types
            and c.provenance.origin not in p.exclude_origins
            and not c.is_expired(self.now)  # due at ``now`` (a dry run does not sweep them)
        ]
        self.report["scanned"] = len(cubes)
        vectors = self.vault.vectors(self.principal, [c.id for c in cubes]) if cubes else {}
        self.items = [
            _Item(c, _normed(vectors.get(c.id)), text_fingerprint(c.text))
            for c in sorted(cubes, key=_order, reverse=True)
        ]
        # What is already promoted: the active activation / parametric cubes (whether they
        # are still current is known after this run's writes: see judge_derived)
        self.compiled = self.vault.find(
            self.principal,
            filter=CubeFilter(
                kinds=DERIVED_KINDS, owner=None if self.principal.is_admin else self.principal.id
            ),
            limit=MAX_LIMIT,
            order_by=None,
        )

    def judge_derived(self) -> None:
        """Which derived cubes this run's state of the vault makes stale (after apply: a merge
        or a resolved slot changes sources), which of those to retire, and what the current
        ones hold (not promoted again)."""
        stale = stale_derived(self.vault, self.principal, self.compiled, now=self.now)
        if self.policy.dry_run:
            # nothing was written: the planned changes are what would make cubes stale
            planned = {f.cube.id: f.status.value for op in self.ops for f in op.folds}
            planned |= {op.base.id: "new_version" for op in self.ops if op.base is not None}
            for c in _derived(self.compiled):
                if _key(c) in stale:
                    continue
                hit = next(((o, i, v) for o, i, v in _built_from(c) if i in planned), None)
                if hit is not None:
                    stale[_key(c)] = StaleDerived(
                        cube_id=c.id, owner=c.access.owner, source_id=hit[1],
                        source_version=hit[2], change=planned[hit[1]],  # type: ignore[arg-type]
                    )  # fmt: skip
        self.stale = stale
        for c in self.compiled:
            if _key(c) not in stale:
                held = self.promoted.setdefault(c.kind, set())
                held.update((o, i) for o, i, _ in _built_from(c))

    def retire(self) -> None:
        """Archive the stale derived cubes under the namespace (or built from a cube under it),
        each as a new version whose provenance note says why (``vault.history`` shows it,
        ``vault.rollback`` undoes it)."""
        if not self.policy.retire_stale:
            return
        ns = self.namespace
        # this run's cubes: those under the namespace, and those built from a cube under it
        here = {(it.cube.access.owner, it.cube.id) for it in self.items}
        due = [
            c
            for c in self.compiled
            if _key(c) in self.stale
            and (
                ns is None
                or c.namespace[: len(ns)] == ns
                or any((o, i) in here for o, i, _ in _built_from(c))
            )
        ]
        retired: list[StaleDerived] = []
        skipped: list[str] = list(self.report.get("skipped", ()))
        for c in due:
            why = self.stale[_key(c)]
            if not self.policy.dry_run:
                try:
                    self.vault.update(
                        self.principal,
                        c.id,
                        owner=c.access.owner,
                        expected_version=c.version,
                        status=LifecycleStatus.ARCHIVED,
                        provenance=c.provenance.model_copy(
                            update={"note": f"consolidation: retired, {why.reason}"[:4000]}
                        ),
                    )
                except (ConflictError, CubeNotFoundError):
                    skipped.append(c.id)  # changed concurrently: judged again next run
                    continue
            retired.append(why)
        self.report.update(retired=tuple(retired), skipped=tuple(dict.fromkeys(skipped)))

    # -- plan -----------------------------------------------------------------------------

    def _buckets(self) -> list[list[_Item]]:
        out: dict[tuple[Any, ...], list[_Item]] = {}
        for it in self.items:
            if not it.consumed:
                out.setdefault(_bucket_key(it.cube), []).append(it)
        return list(out.values())

    def plan_conflicts(self) -> None:
        if not self.policy.resolve_conflicts:
            return
        for bucket in self._buckets():
            slots: dict[str, list[_Item]] = {}
            for it in bucket:
                if it.cube.key is not None:
                    slots.setdefault(it.cube.key, []).append(it)
            for group in slots.values():
                if len(group) > 1:
                    self._resolve(group[0], group[1:])  # bucket items are newest first

    def _resolve(
        self,
        winner: _Item,
        losers: Sequence[_Item],
        *,
        text: str | None = None,
        similarity: float | None = None,
        judged: bool = False,
    ) -> None:
        """Plan: ``winner`` becomes a new version listing ``losers``, which are archived
        (merged when they only repeat it)."""
        w = winner.cube
        new_text = text if text and text.strip() and text != w.text else None
        fp = text_fingerprint(new_text) if new_text else winner.fingerprint
        folds = [
            _Fold(
                it.cube,
                LifecycleStatus.MERGED if it.fingerprint == fp else LifecycleStatus.ARCHIVED,
            )
            for it in losers
        ]
        repeated = [f.cube for f in folds if f.status is LifecycleStatus.MERGED]
        prov = w.provenance.model_copy(
            update={
                "derived_from": _union(
                    [w.provenance.derived_from, [f.cube.id for f in folds]], MAX_IDS
                ),
                "source_ids": _union(
                    [w.provenance.source_ids, *(c.provenance.source_ids for c in repeated)],
                    MAX_IDS,
                ),
                "message_ids": _union(
                    [w.provenance.message_ids, *(c.provenance.message_ids for c in repeated)],
                    MAX_IDS,
                ),
                "note": f"consolidation: supersedes {len(folds)} older memories of this slot",
            }
        )
        changes: dict[str, Any] = {"provenance": prov}
        if new_text:
            changes["payload"] = {"kind": "plaintext", "text": new_text}
        survivor = w.next_version(**changes)
        self.ops.append(
            _Op(
                "contradiction",
                survivor,
                w,
                changes,
                folds,
                None if new_text else winner.vector,
                winner.vector is not None,
                similarity,
                judged,
            )
        )
        for it in losers:
            it.consumed = True
        winner.cube, winner.fingerprint = survivor, fp
        if new_text:
            winner.vector = None  # re-embedded on write; not compared again this run

    def plan_duplicates(self) -> None:
        if not self.policy.dedupe:
            return
        thr = self.policy.duplicate_similarity
        for bucket in self._buckets():
            clusters: list[list[_Item]] = []
            seeds: list[np.ndarray | None] = []
            for it in bucket:  # newest first: each cluster's seed is its newest member
                best, best_sim = None, -1.0
                for ci, cluster in enumerate(clusters):
                    if not _keys_compatible(cluster, it):
                        continue
                    seed = cluster[0]
                    if seed.fingerprint == it.fingerprint:
                        sim = 1.0
                    elif seeds[ci] is not None and it.vector is not None:
                        sim = float(seeds[ci] @ it.vector)
                    else:
                        continue
                    if sim >= thr and sim > best_sim:
                        best, best_sim = ci, sim
                if best is None:
                    clusters.append([it])
                    seeds.append(it.vector)
                else:
                    clusters[best].append(it)
            for cluster in clusters:
                if len(cluster) > 1:
                    self._merge(cluster)

    def _merge(
        self,
        members: Sequence[_Item],
        *,
        text: str | None = None,
        similarity: float | None = None,
        judged: bool = False,
    ) -> _Item:
        """Plan: one new cube holding ``members`` (newest first), which become merged."""
        cubes = [m.cube for m in members]
        if text and text.strip():
            chosen = None
        elif self.policy.merge_text == "longest":
            chosen = max(members, key=lambda m: len(m.cube.text))
        else:
            chosen = members[0]
        new_text = chosen.cube.text if chosen is not None else text
        assert new_text is not None
        if similarity is None:
            vecs = [m.vector for m in members if m.vector is not None]
            if len(vecs) > 1:
                similarity = min(float(vecs[0] @ v) for v in vecs[1:])
        keys = {c.key for c in cubes if c.key is not None}
        threads = {c.provenance.thread_id for c in cubes}
        hits = sum(c.usage.hits for c in cubes)
        used = [c.usage.last_used_at for c in cubes if c.usage.last_used_at is not None]
        expiries = [c.expires_at for c in cubes]
        new = MemCube.from_text(
            new_text,
            cubes[0].namespace,
            key=keys.pop() if len(keys) == 1 else None,
            memory_type=cubes[0].memory_type,
            created_at=min(c.created_at for c in cubes),
            expires_at=None if None in expiries else max(e for e in expiries if e),
            priority=max(c.priority for c in cubes),
            confidence=max(c.confidence for c in cubes),
            access=cubes[0].access,
            tags=_union([c.tags for c in cubes], MAX_TAGS),
            usage=Usage(hits=hits, last_used_at=max(used) if used else None),
            provenance=Provenance(
                origin=ORIGIN,
                thread_id=threads.pop() if len(threads) == 1 else None,
                message_ids=_union([c.provenance.message_ids for c in cubes], MAX_IDS),
                source_ids=_union([c.provenance.source_ids for c in cubes], MAX_IDS),
                derived_from=tuple(c.id for c in cubes),
                actor=self.principal.id,
                note=f"consolidation: merged {len(cubes)} duplicate memories",
            ),
        )
        vector = chosen.vector if chosen is not None else None
        self.ops.append(
            _Op(
                "duplicate",
                new,
                None,
                {},
                [_Fold(c, LifecycleStatus.MERGED) for c in cubes],
                vector,
                any(m.vector is not None for m in members),
                similarity,
                judged,
            )
        )
        for m in members:
            m.consumed = True
        item = _Item(new, vector, text_fingerprint(new_text))
        self.items.append(item)
        return item

    def judge_pairs(self) -> list[tuple[_Item, _Item, float]]:
        """Grey-zone pairs for a judge, most similar first, each cube in at most one."""
        lo, hi = self.policy.judge_similarity, self.policy.duplicate_similarity
        pairs: list[tuple[float, _Item, _Item]] = []
        for bucket in self._buckets():
            vec = [it for it in bucket if it.vector is not None]
            if len(vec) < 2:
                continue
            m = np.stack([it.vector for it in vec])  # type: ignore[misc]
            for start in range(0, len(vec), 256):
                sims = m[start : start + 256] @ m.T
                rows, cols = np.nonzero((sims >= lo) & (sims < hi))
                for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                    i = start + r
                    if i < c and _keys_compatible([vec[i]], vec[c]):
                        pairs.append((float(sims[r, c]), vec[i], vec[c]))
        pairs.sort(key=lambda t: -t[0])
        chosen: list[tuple[_Item, _Item, float]] = []
        used: set[int] = set()
        for sim, a, b in pairs:
            if len(chosen) >= self.policy.judge_max_pairs:
                break
            if id(a) in used or id(b) in used:
                continue
            used |= {id(a), id(b)}
            older, newer = sorted((a, b), key=lambda it: _order(it.cube))
            chosen.append((older, newer, sim))
        return chosen

    def plan_judged(
        self,
        pairs: Sequence[tuple[_Item, _Item, float]],
        verdicts: Sequence[PairJudgement | BaseException | None],
    ) -> None:
        self.report["judged_pairs"] = len(pairs)
        failures = 0
        for (older, newer, sim), verdict in zip(pairs, verdicts, strict=True):
            if not isinstance(verdict, PairJudgement):
                failures += 1
                continue
            if verdict.relation == "duplicate":
                self._merge([newer, older], text=verdict.merged_text, similarity=sim, judged=True)
            elif verdict.relation == "contradiction":
                self._resolve(newer, [older], text=verdict.merged_text, similarity=sim, judged=True)
        self.report["judge_failures"] = failures

    def plan_promotion(self) -> None:
        p, now = self.policy, self.now
        live = [it.cube for it in self.items if not it.consumed]

        def fresh(c: MemCube, kind: MemoryKind) -> bool:
            return (c.access.owner, c.id) not in self.promoted.get(kind, set())

        hot = [
            c
            for c in live
            if c.usage.hits >= p.hot_min_hits
            and c.usage.last_used_at is not None
            and now - c.usage.last_used_at <= p.hot_window
            and fresh(c, MemoryKind.ACTIVATION)
        ]
        hot.sort(key=lambda c: (c.usage.hits, c.usage.last_used_at, c.id), reverse=True)
        stable = [
            c
            for c in live
            if now - c.created_at >= p.stable_min_age
            and now - c.updated_at >= p.stable_min_age
            and c.usage.hits >= p.stable_min_hits
            and fresh(c, MemoryKind.PARAMETRIC)
        ]
        stable.sort(key=lambda c: (c.usage.hits, c.id), reverse=True)
        self.hot, self.stable = hot[: p.max_hot], stable[: p.max_stable]
        self.report["activation_candidates"] = tuple(c.id for c in self.hot)
        self.report["parametric_candidates"] = tuple(c.id for c in self.stable)

    # -- apply ----------------------------------------------------------------------------

    def apply(self) -> None:
        merges: list[MergeRecord] = []
        merged: list[str] = []
        archived: list[str] = []
        skipped: list[str] = []
        for op in self.ops:
            if self.policy.dry_run:
                result, folded = op.survivor, op.folds
            else:
                try:
                    result = self._write_survivor(op)
                except (ConflictError, CubeNotFoundError):
                    # Changed (or removed) concurrently: leave the group alone; the next run
                    # sees the new state.
                    skipped.extend(f.cube.id for f in op.folds)
                    skipped.extend([op.base.id] if op.base is not None else [])
                    continue
                folded = []
                for f in op.folds:
                    try:
                        self._fold(f, result, op)
                        folded.append(f)
                    except (ConflictError, CubeNotFoundError):
                        # This member changed since it was read: it stays as it now is (at
                        # worst a duplicate of the survivor, which the next run merges).
                        skipped.append(f.cube.id)
            merges.append(
                MergeRecord(
                    reason=op.reason,
                    cube_id=result.id,
                    version=result.version,
                    created=op.base is None,
                    sources=tuple(f.cube.id for f in folded),
                    similarity=op.similarity,
                    judged=op.judged,
                )
            )
            for f in folded:
                (merged if f.status is LifecycleStatus.MERGED else archived).append(f.cube.id)
        self.report.update(
            merges=tuple(merges),
            merged=tuple(dict.fromkeys(merged)),
            archived=tuple(dict.fromkeys(archived)),
            skipped=tuple(dict.fromkeys(skipped)),
        )

    def _write_survivor(self, op: _Op) -> MemCube:
        vec = None if op.vector is None else op.vector.tolist()
        if op.base is None:
            if vec is not None:
                return self.vault.put(self.principal, op.survivor, vectors=[vec])[0]
            return self.vault.put(self.principal, op.survivor, index=op.index)[0]
        return self.vault.update(
            self.principal,
            op.base.id,
            owner=op.base.access.owner,  # ids are per owner: the very cube that was read
            expected_version=op.base.version,
            vector=vec,
            **op.changes,
        )

    def _fold(self, f: _Fold, survivor: MemCube, op: _Op) -> None:
        into = (
            f"merged into {survivor.id}"
            if op.base is None
            else f"superseded by {survivor.id} v{survivor.version}"
        )
        self.vault.update(
            self.principal,
            f.cube.id,
            owner=f.cube.access.owner,
            expected_version=f.cube.version,
            status=f.status,
            provenance=f.cube.provenance.model_copy(
                update={"note": f"consolidation: {f.status.value}, {into}"}
            ),
        )

    def finish(self, activation: Sequence[str], parametric: Sequence[str]) -> ConsolidationReport:
        return ConsolidationReport(
            principal=self.principal.id,
            namespace=self.namespace,
            dry_run=self.policy.dry_run,
            started_at=self.now,
            finished_at=utcnow(),
            activation_cubes=tuple(activation),
            parametric_cubes=tuple(parametric),
            **self.report,
        )


def _keys_compatible(cluster: Sequence[_Item], it: _Item) -> bool:
    """Cubes of different keys are different slots: never merged."""
    keys = {c.cube.key for c in cluster if c.cube.key is not None}
    return it.cube.key is None or not keys or keys == {it.cube.key}


def _start(
    vault: MemVault,
    principal: Principal | str,
    namespace: Sequence[str] | None,
    policy: LifecyclePolicy | None,
    now: datetime | None,
) -> _Run:
    if not isinstance(vault, MemVault):
        raise InvalidInputError(f"vault must be a MemVault, got {type(vault).__name__}")
    acting = as_principal(principal)
    if now is not None and now.tzinfo is None:
        raise InvalidInputError("now must be a timezone-aware datetime")
    ns = validate_namespace(namespace) if namespace is not None else None
    return _Run(vault, acting, ns, policy or LifecyclePolicy(), now or utcnow())


def _as_judge(judge: Any) -> Any:
    if judge is None or isinstance(judge, ModelJudge):
        return judge
    from langchain_core.language_models import BaseChatModel

    if isinstance(judge, BaseChatModel):
        return ModelJudge(judge)
    if callable(judge):
        return judge
    raise InvalidInputError("judge must be a chat model, a ModelJudge or a callable")


def _model_promoters(
    vault: MemVault, model: ChatMemOS | LocalLM, policy: LifecyclePolicy
) -> tuple[Promoter, Promoter | None]:
    """The promoters of a model: hot cubes compiled into activation memory for it, stable
    ones trained into one adapter for it (when the policy trains adapters). The weights load
    here, when there is something to promote."""
    from memos_lc.activation import activation_promoter
    from memos_lc.models import LocalLM

    if isinstance(model, LocalLM):
        lm, template, memory = model, None, None
    else:
        from memos_lc.chat_models import ChatMemOS

        if not isinstance(model, ChatMemOS):
            raise InvalidInputError(
                f"model must be a ChatMemOS or a LocalLM, got {type(model).__name__}"
            )
        lm, template = model.lm, model.chat_template
        # the chat model's own cache of KV prefixes gets the compiled one: its next turn
        # does not read the blob back
        memory = model.activation_memory if model.vault is vault else None
    activate = activation_promoter(lm, chat_template=template, memory=memory)
    if not policy.train_adapters:
        return activate, None
    from memos_lc.parametric import AdapterTrainingConfig, adapter_promoter

    # memories are whatever users said, not only "X's Y is Z" facts that questions can be
    # made from: the cloze prompt teaches any statement
    config = AdapterTrainingConfig(max_seconds=policy.adapter_max_seconds, cloze=True)
    return activate, adapter_promoter(lm, config=config)


def _promoters(
    run: _Run,
    model: ChatMemOS | LocalLM | None,
    activate: Promoter | None,
    parametrize: Promoter | None,
) -> list[tuple[str, Promoter | None, list[MemCube]]]:
    """Who promotes this run's candidates: the promoters given, else the model's."""
    missing = (activate is None and run.hot) or (parametrize is None and run.stable)
    if model is not None and missing:
        own_activate, own_parametrize = _model_promoters(run.vault, model, run.policy)
        activate = activate or own_activate
        parametrize = parametrize or own_parametrize
    return [("activation", activate, run.hot), ("parametric", parametrize, run.stable)]


def _ids(out: Any) -> list[str]:
    if out is None:
        return []
    if isinstance(out, MemCube):
        return [out.id]
    return [c.id if isinstance(c, MemCube) else str(c) for c in out]


def consolidate(
    vault: MemVault,
    principal: Principal | str,
    namespace: Sequence[str] | None = None,
    policy: LifecyclePolicy | None = None,
    *,
    judge: BaseChatModel | Judge | None = None,
    activate: Promoter | None = None,
    parametrize: Promoter | None = None,
    model: ChatMemOS | LocalLM | None = None,
    now: datetime | None = None,
) -> ConsolidationReport:
    """Consolidate ``principal``'s plaintext memories under ``namespace`` (all, when
    ``None``): expire, resolve keyed contradictions, merge near-duplicates, judge grey-zone
    pairs (with ``judge``), retire stale activation / parametric cubes, report promotion
    candidates and promote them (with ``activate`` / ``parametrize``, or for ``model``). See
    the module docs for the rules. Blocking: run it off the answer path.

    Args:
        vault: The vault.
        principal: Whose cubes (a non-admin only consolidates cubes it owns): a
            :class:`~memos_lc.governance.Principal` or its id.
        namespace: Consolidate this namespace and everything below it.
        policy: Thresholds and switches (defaults: :class:`LifecyclePolicy`).
        judge: A LangChain chat model (wrapped in :class:`ModelJudge`) or a function
            ``(older, newer) -> PairJudgement | None`` for grey-zone pairs.
        activate: Promoter for hot candidates (activation memory).
        parametrize: Promoter for stable candidates (parametric memory).
        model: The model the memory is for (a :class:`~memos_lc.chat_models.ChatMemOS` or a
            :class:`~memos_lc.models.LocalLM`; its weights load only when there is something
            to promote). Where ``activate`` / ``parametrize`` is not given, hot candidates are
            compiled into one activation cube for it
            (:func:`~memos_lc.activation.activation_promoter`) and, with
            ``policy.train_adapters``, stable ones are trained into one adapter for it within
            ``policy.adapter_max_seconds`` (:func:`~memos_lc.parametric.adapter_promoter`).
        now: The time expiry, age and recency are measured against (default: now; a later
            time expires what will be due by then).

    Example:
        .. code-block:: python

            report = consolidate(vault, alice, ("alice",))
            assert report.merged or not report.changed
            report = consolidate(vault, alice, ("alice",), LifecyclePolicy(train_adapters=False),
                                 model=ChatMemOS(vault=vault))
            report.activation_cubes     # compiled for the chat model, placed by its scheduler
    """
    run = _start(vault, principal, namespace, policy, now)
    judge = _as_judge(judge)  # a bad judge fails before anything changes
    return run_steps(_consolidation(run, judge, model, activate, parametrize))


async def aconsolidate(
    vault: MemVault,
    principal: Principal | str,
    namespace: Sequence[str] | None = None,
    policy: LifecyclePolicy | None = None,
    *,
    judge: BaseChatModel | Judge | None = None,
    activate: Promoter | None = None,
    parametrize: Promoter | None = None,
    model: ChatMemOS | LocalLM | None = None,
    now: datetime | None = None,
) -> ConsolidationReport:
    """Async twin of :func:`consolidate`: vault work runs in the default executor, a chat
    model judges pairs concurrently (``judge_concurrency``), promoters may be coroutine
    functions, and a promoter with an async ``apromote`` (the adapter training of
    ``model``) is awaited through it: cancelling the run stops training at its next step and
    stores no adapter."""
    run = _start(vault, principal, namespace, policy, now)
    judge = _as_judge(judge)  # a bad judge fails before anything changes
    return await arun_steps(_consolidation(run, judge, model, activate, parametrize))


def _consolidation(
    run: _Run,
    judge: Judge | None,
    model: ChatMemOS | LocalLM | None,
    activate: Promoter | None,
    parametrize: Promoter | None,
) -> Steps[ConsolidationReport]:
    """The phases of a run, once for :func:`consolidate` and :func:`aconsolidate`: vault work
    in a worker thread when async; judging and promoting have an async form of their own."""
    yield in_thread(run.expire)
    yield in_thread(run.gather)
    run.plan_conflicts()
    run.plan_duplicates()
    if judge is not None and run.policy.judge_max_pairs:
        pairs = run.judge_pairs()
        verdicts = yield Call(_judge_all, _ajudge_all, judge, pairs, run.policy.judge_concurrency)
        run.plan_judged(pairs, verdicts)
    yield in_thread(run.apply)
    yield in_thread(run.judge_derived)
    yield in_thread(run.retire)
    run.plan_promotion()
    made: dict[str, list[str]] = {"activation": [], "parametric": []}
    if not run.policy.dry_run:
        promoters = yield in_thread(_promoters, run, model, activate, parametrize)
        for name, promoter, cands in promoters:
            if promoter is not None and cands:
                out = yield Call(_promote, _apromote, name, promoter, run, list(cands))
                made[name] = _ids(out)
    return run.finish(made["activation"], made["parametric"])


def _judge_all(
    judge: Judge, pairs: list[tuple[_Item, _Item, float]], concurrency: int
) -> list[PairJudgement | BaseException | None]:
    """The verdicts on ``pairs``, one after the other (``concurrency`` is for the async
    twin)."""
    verdicts: list[PairJudgement | BaseException | None] = []
    for older, newer, _ in pairs:
        try:
            verdicts.append(judge(older.cube, newer.cube))
        except Exception as e:  # one failed judgement must not stop consolidation
            verdicts.append(e)
    return verdicts


async def _ajudge_all(
    judge: Judge, pairs: list[tuple[_Item, _Item, float]], concurrency: int
) -> list[PairJudgement | BaseException | None]:
    """The verdicts on ``pairs``, ``concurrency`` at a time; a chat model judges through its
    async API."""
    gate = asyncio.Semaphore(concurrency)

    async def one(older: MemCube, newer: MemCube) -> PairJudgement | None:
        async with gate:
            if isinstance(judge, ModelJudge):
                return await judge.ajudge(older, newer)
            if inspect.iscoroutinefunction(judge):
                return await judge(older, newer)
            out = await asyncio.to_thread(judge, older, newer)
            return await out if inspect.isawaitable(out) else out

    return await asyncio.gather(*(one(o.cube, n.cube) for o, n, _ in pairs), return_exceptions=True)


def _promote(name: str, promoter: Promoter, run: _Run, cands: list[MemCube]) -> Any:
    out = promoter(run.vault, run.principal, cands)
    if inspect.isawaitable(out):
        raise InvalidInputError(f"{name} promoter is async: use aconsolidate() with it")
    return out


async def _apromote(name: str, promoter: Promoter, run: _Run, cands: list[MemCube]) -> Any:
    """A promoter with an async ``apromote`` (adapter training: cancellable) is awaited
    through it, a coroutine function awaited, any other runs in a worker thread."""
    apromote = getattr(promoter, "apromote", None)
    if inspect.iscoroutinefunction(apromote):
        return await apromote(run.vault, run.principal, cands)
    if inspect.iscoroutinefunction(promoter):
        return await promoter(run.vault, run.principal, cands)
    out = await asyncio.to_thread(promoter, run.vault, run.principal, cands)
    return await out if inspect.isawaitable(out) else out
