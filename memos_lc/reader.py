"""MemReader: conversation messages -> candidate MemCubes.

Two modes:

* ``"fast"`` (no LLM, microseconds per turn): every turn becomes one episodic cube holding
  the turn *and its neighbours* (a window), with speaker and absolute date in the text. The
  cube's provenance names every message of its window (``message_ids``) and their external
  ids (``source_ids``), so recall is traceable to the exact turns. Context matters for
  retrieval: a reply like "Yes, last Tuesday!" is only findable with the question before it.
* ``"fine"`` (any LangChain chat model with structured output): batches of messages go to the
  model, which extracts atomic facts, preferences and events in the third person, with names
  for pronouns and absolute dates for relative ones (resolved against each message's time).
  Each memory cites the messages it came from and keeps their ids. A batch whose output does
  not parse falls back to fast mode: those cubes are tagged ``"fallback"`` and a
  :class:`ReaderFallbackWarning` is issued.

Message metadata is read from the message itself: ``id``; ``name`` (the speaker, else the
role); a timestamp under ``timestamp`` / ``created_at`` / ``time`` in ``additional_kwargs`` or
``response_metadata`` (datetime, ISO string or epoch seconds; naive times are UTC); external
ids under ``source_id`` / ``source_ids``. Explicit ``timestamps=`` / ``source_ids=`` arguments
override them.

Cube ids are derived from the namespace, thread and message ids, so reading the same
messages twice yields the same ids (the vault rejects the duplicates instead of storing
them twice).

Example:
    .. code-block:: python

        from langchain_core.messages import AIMessage, HumanMessage
        from memos_lc import MemVault, Principal
        from memos_lc.reader import MemReader

        msgs = [HumanMessage("I moved to Lisbon last week", name="Alice", id="m1"),
                AIMessage("How do you like it?", id="m2")]
        cubes = MemReader().read(msgs, namespace=("alice", "memories"), thread_id="t1")
        MemVault.open("/tmp/vault").put(Principal(id="alice"), cubes)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memos_lc.cube import (
    MAX_IDS,
    MemCube,
    MemoryType,
    Provenance,
    utcnow,
    uuid5_str,
    validate_namespace,
)
from memos_lc.errors import InvalidInputError
from memos_lc.preferences import detect_preference

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

_ID_NS = uuid.UUID("0f6d7a52-3c1b-4f6e-9d0a-8a51c2d4e7b3")
TIME_KEYS = ("timestamp", "created_at", "time", "date")
"""Message metadata keys read as the message time (``additional_kwargs`` first)."""
SOURCE_KEYS = ("source_ids", "source_id")
"""Message metadata keys read as external ids (e.g. a dataset's turn id)."""
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
TURNS_KEY = "turns"
"""``payload.data`` key under which fast cubes keep their window's turns (see :class:`Turn`)."""
PREFERENCE_KEY = "preference"
"""``payload.data`` key of a fast preference cube's kind (one of
:data:`memos_lc.preferences.PREFERENCE_KINDS`)."""
# speakers whose turns are the assistant's own words, not the user's (LangChain's AI role)
_ASSISTANTS = frozenset({"assistant", "ai"})

ReaderMode = Literal["fast", "fine"]


class ReaderFallbackWarning(UserWarning):
    """Fine extraction failed to parse for a batch; its cubes were made in fast mode."""


class Turn(BaseModel):
    """One message as the reader sees it: who said what, when, with which ids.

    Fast cubes store their window's turns in ``payload.data["turns"]`` so a scheduler can
    render several overlapping windows without repeating a turn."""

    model_config = ConfigDict(frozen=True)

    pos: int
    """Index of the message in the list that was read (its order in the thread)."""
    speaker: str
    text: str
    time: datetime
    message_id: str | None = None
    source_ids: tuple[str, ...] = ()

    def line(self) -> str:
        """The turn as one transcript line, ``"Speaker: text"``."""
        return f"{self.speaker}: {self.text}"


def format_date(when: datetime) -> str:
    """A date as people write it, e.g. ``"8 May 2023"`` (tokenizes short, reads well)."""
    return f"{when.day} {when.strftime('%B %Y')}"


def render_turns(turns: Sequence[Turn], *, dates: bool = True) -> str:
    """Turns as a transcript: ``"Speaker: text"`` lines under a ``"[8 May 2023]"`` header
    whenever the date changes (once per day, not per line, to spend few tokens)."""
    lines: list[str] = []
    last_day = None
    for t in turns:
        day = t.time.date()
        if dates and day != last_day:
            lines.append(f"[{format_date(t.time)}]")
            last_day = day
        lines.append(t.line())
    return "\n".join(lines)


def turns_of(cube: MemCube) -> list[Turn] | None:
    """The turns a fast cube was made from, or ``None`` for any other cube."""
    data = getattr(cube.payload, "data", None)
    raw = data.get(TURNS_KEY) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return None
    try:
        return [Turn.model_validate(t) for t in raw]
    except ValidationError:
        return None


# -- message metadata ---------------------------------------------------------------------


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _meta(message: BaseMessage, keys: Sequence[str]) -> Any:
    for bag in (message.additional_kwargs, message.response_metadata):
        for k in keys:
            if isinstance(bag, Mapping) and bag.get(k) not in (None, "", []):
                return bag[k]
    return None


def _ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int)) else list(value)
    return tuple(str(x) for x in items if str(x).strip())


def message_turns(
    messages: Sequence[BaseMessage],
    *,
    timestamps: Sequence[Any] | None = None,
    source_ids: Sequence[Any] | None = None,
    now: datetime | None = None,
) -> list[Turn]:
    """Each message with text as a :class:`Turn` (empty messages are skipped; ``pos`` keeps
    the index in ``messages``). A message without a time gets the previous message's time,
    else ``now``. Raises :class:`InvalidInputError` on malformed input."""
    from langchain_core.messages import BaseMessage

    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidInputError("messages must be a sequence of LangChain messages")
    for name, extra in (("timestamps", timestamps), ("source_ids", source_ids)):
        if extra is not None and len(extra) != len(messages):
            raise InvalidInputError(f"{len(extra)} {name} for {len(messages)} messages")
    fallback = now or utcnow()
    turns: list[Turn] = []
    for i, m in enumerate(messages):
        if not isinstance(m, BaseMessage):
            raise InvalidInputError(f"message {i} is a {type(m).__name__}, not a BaseMessage")
        given = timestamps[i] if timestamps is not None else None
        raw_time = given if given is not None else _meta(m, TIME_KEYS)
        when = _as_time(raw_time)
        if raw_time is not None and when is None:
            raise InvalidInputError(f"message {i} has an unreadable timestamp {raw_time!r}")
        if when is None:
            when = turns[-1].time if turns else fallback
        else:
            fallback = when
        text = m.text.strip()
        if not text:
            continue
        speaker = m.name or _meta(m, ("speaker",)) or _ROLES.get(m.type, m.type)
        ext = _ids(source_ids[i]) if source_ids is not None else _ids(_meta(m, SOURCE_KEYS))
        turns.append(
            Turn(
                pos=i,
                speaker=str(speaker).strip() or m.type,
                text=text,
                time=when,
                message_id=m.id,
                source_ids=ext,
            )
        )
    return turns


# -- fine-mode schema -----------------------------------------------------------------------


class ExtractedMemory(BaseModel):
    """One atomic memory extracted from the conversation."""

    text: str = Field(
        description="One self-contained statement in the third person: names instead of "
        "pronouns, absolute dates (e.g. '7 May 2023') instead of relative ones."
    )
    kind: Literal["fact", "preference", "event"] = Field(
        default="fact", description="fact, preference (likes, dislikes, wishes) or event"
    )
    source_messages: list[int] = Field(
        default_factory=list,
        description="Numbers of the messages (as shown in brackets) this memory comes from.",
    )


class MemoryExtraction(BaseModel):
    """Memories worth keeping from a stretch of conversation (empty when there are none)."""

    memories: list[ExtractedMemory] = Field(default_factory=list)


EXTRACTION_PROMPT = """\
You extract long-term memories from a conversation.
Write each memory as one short, self-contained statement in the third person:
- use people's names, never pronouns like "I", "you", "she" or "my";
- turn relative times ("yesterday", "last week", "next month") into absolute dates using the \
date of the message they appear in;
- one fact, preference or event per memory; skip greetings and small talk;
- cite the numbers of the messages each memory comes from.
Return an empty list when nothing is worth remembering."""

_MEMORY_TYPES = {
    "fact": MemoryType.LONG_TERM.value,
    "preference": MemoryType.PREFERENCE.value,
    "event": MemoryType.EPISODIC.value,
}


def transcript(turns: Sequence[Turn]) -> str:
    """Turns numbered from 1 with their date and time, as the extraction prompt shows them."""
    return "\n".join(
        f"[{i}] ({t.time.strftime('%A')}, {format_date(t.time)}, {t.time.strftime('%H:%M')}) "
        f"{t.line()}"
        for i, t in enumerate(turns, 1)
    )


# -- the reader -----------------------------------------------------------------------------


class MemReader:
    """Turns messages into candidate MemCubes (not yet stored: hand them to ``vault.put``).

    Args:
        mode: ``"fast"`` (no LLM) or ``"fine"`` (LLM extraction; needs ``llm``).
        llm: A LangChain chat model that supports ``with_structured_output`` (fine mode).
        window: Fast mode: neighbouring turns kept with a turn as context, on each side or
            as ``(before, after)``. The default 1 (a turn with the one before and after) is
            what the LoCoMo benchmark measures; 0 stores bare turns.
        dates: Fast mode: put the absolute date in the cube text.
        batch_size: Fine mode: messages per extraction call.
        max_concurrency: Fine mode, async: extraction calls in flight at once.
        structured_output: Extra keyword arguments for ``llm.with_structured_output`` (e.g.
            ``{"method": "json_schema"}``).
        progress: Show a tqdm progress bar (``None``: only for more than 4 batches).
        priority: Priority given to the cubes.
        session_gap: Fast mode: a pause longer than this starts a new session; windows do not
            cross it.
        preferences: Fast mode: a turn in which a speaker other than the assistant states a
            lasting preference about themselves (:func:`~memos_lc.preferences.detect_preference`)
            is also stored as its own ``memory_type="preference"`` cube: the turn in the
            speaker's words, with provenance to it. The scheduler gives those a tier of
            their own. Fine mode takes preferences from the LLM's extraction instead.

    Example:
        .. code-block:: python

            reader = MemReader(mode="fine", llm=ChatOpenAI(model="gpt-4o-mini"))
            cubes = reader.read(messages, namespace=("u1", "memories"), thread_id="t1")
    """

    def __init__(
        self,
        mode: ReaderMode = "fast",
        llm: BaseChatModel | None = None,
        *,
        window: int | tuple[int, int] = 1,
        dates: bool = True,
        batch_size: int = 16,
        max_concurrency: int = 4,
        structured_output: Mapping[str, Any] | None = None,
        progress: bool | None = None,
        priority: float = 0.5,
        session_gap: timedelta = timedelta(hours=1),
        preferences: bool = True,
    ) -> None:
        if mode not in ("fast", "fine"):
            raise InvalidInputError(f"mode must be 'fast' or 'fine', got {mode!r}")
        if mode == "fine" and llm is None:
            raise InvalidInputError("fine mode needs a chat model: MemReader('fine', llm=...)")
        sides = (window, window) if isinstance(window, int) else tuple(window)
        if len(sides) != 2 or not all(isinstance(n, int) and 0 <= n <= 32 for n in sides):
            raise InvalidInputError("window must be an int in 0..32 or a (before, after) pair")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError("batch_size must be a positive int")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise InvalidInputError("max_concurrency must be a positive int")
        if not 0.0 <= priority <= 1.0:
            raise InvalidInputError("priority must be in [0, 1]")
        self.mode: ReaderMode = mode
        self.llm = llm
        self.window = window
        self._before, self._after = sides
        self.dates = dates
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.structured_output = dict(structured_output or {})
        self.progress = progress
        self.priority = priority
        self.session_gap = session_gap
        self.preferences = preferences
        self._extractor: Any = None

    def __repr__(self) -> str:
        return f"MemReader(mode={self.mode!r}, window={self.window}, batch_size={self.batch_size})"

    # -- public API -------------------------------------------------------------------------

    def read(
        self,
        messages: Sequence[BaseMessage],
        *,
        namespace: Sequence[str],
        thread_id: str | None = None,
        start: int = 0,
        timestamps: Sequence[Any] | None = None,
        source_ids: Sequence[Any] | None = None,
        now: datetime | None = None,
    ) -> list[MemCube]:
        """Candidate cubes for ``messages[start:]``.

        Messages before ``start`` are context only (fast windows reach into them; no cube is
        made for them): a write-back step passes the whole thread and the index of the first
        new message. ``timestamps`` / ``source_ids`` give per-message times and external ids
        (one entry per message, overriding message metadata); ``now`` is the time of
        messages that carry none.
        """
        ns, turns, first = self._prepare(
            messages, namespace, thread_id, start, timestamps, source_ids, now
        )
        if self.mode == "fast":
            return self._fast(ns, thread_id, turns, first)
        batches = self._batches(turns, first)
        out: list[MemCube] = []
        with self._bar(len(batches)) as bar:
            for batch in batches:
                out.extend(self._fine_batch(ns, thread_id, turns, batch, self._extract(batch)))
                bar.update(1)
        return out

    async def aread(
        self,
        messages: Sequence[BaseMessage],
        *,
        namespace: Sequence[str],
        thread_id: str | None = None,
        start: int = 0,
        timestamps: Sequence[Any] | None = None,
        source_ids: Sequence[Any] | None = None,
        now: datetime | None = None,
    ) -> list[MemCube]:
        """Async twin of :meth:`read`; fine mode runs up to ``max_concurrency`` batches at
        once."""
        ns, turns, first = self._prepare(
            messages, namespace, thread_id, start, timestamps, source_ids, now
        )
        if self.mode == "fast":
            return self._fast(ns, thread_id, turns, first)
        batches = self._batches(turns, first)
        gate = asyncio.Semaphore(self.max_concurrency)
        with self._bar(len(batches)) as bar:

            async def one(batch: list[Turn]) -> list[MemCube]:
                async with gate:
                    result = await self._aextract(batch)
                bar.update(1)
                return self._fine_batch(ns, thread_id, turns, batch, result)

            parts = await asyncio.gather(*(one(b) for b in batches))
        return [c for part in parts for c in part]

    # -- shared -----------------------------------------------------------------------------

    def _prepare(
        self,
        messages: Sequence[BaseMessage],
        namespace: Sequence[str],
        thread_id: str | None,
        start: int,
        timestamps: Sequence[Any] | None,
        source_ids: Sequence[Any] | None,
        now: datetime | None,
    ) -> tuple[tuple[str, ...], list[Turn], int]:
        ns = validate_namespace(namespace)
        if thread_id is not None and (not isinstance(thread_id, str) or not thread_id):
            raise InvalidInputError("thread_id must be a non-empty string or None")
        if not isinstance(start, int) or start < 0:
            raise InvalidInputError("start must be a non-negative int")
        turns = message_turns(messages, timestamps=timestamps, source_ids=source_ids, now=now)
        first = next((i for i, t in enumerate(turns) if t.pos >= start), len(turns))
        return ns, turns, first

    def _bar(self, total: int) -> Any:
        from tqdm.auto import tqdm

        show = self.progress if self.progress is not None else total > 4
        return tqdm(total=total, disable=not show, desc="MemReader", unit="batch")

    def _cube_id(self, ns: tuple[str, ...], thread_id: str | None, *parts: str) -> str:
        key = json.dumps([list(ns), thread_id, self.mode, *parts], ensure_ascii=False)
        return uuid5_str(_ID_NS, key)

    # -- fast -------------------------------------------------------------------------------

    def _fast(
        self,
        ns: tuple[str, ...],
        thread_id: str | None,
        turns: Sequence[Turn],
        first: int,
        *,
        fallback: str | None = None,
        upto: int | None = None,
    ) -> list[MemCube]:
        """One cube per turn in ``turns[first:upto]``, each with ``window`` neighbours."""
        cubes = []
        session = _sessions(turns, self.session_gap)
        for i in range(first, len(turns) if upto is None else upto):
            lo, hi = max(0, i - self._before), min(len(turns), i + self._after + 1)
            # a window stays inside its session: the turns after a long pause answer
            # nothing said before it
            window = [t for j, t in enumerate(turns[lo:hi], lo) if session[j] == session[i]]
            focus = turns[i]
            cubes.append(
                self._turn_cube(
                    ns,
                    thread_id,
                    focus,
                    window,
                    id_part="turn",
                    memory_type=MemoryType.EPISODIC.value,
                    text=render_turns(window, dates=self.dates),
                    fallback=fallback,
                )
            )
            kind = detect_preference(focus.text) if self.preferences else None
            if kind is not None and focus.speaker.lower() not in _ASSISTANTS:
                # the turn alone, as one line, so the block shows it in the speaker's words;
                # it holds the turn, so a window holding it too is known to overlap
                pref = self._turn_cube(
                    ns,
                    thread_id,
                    focus,
                    [focus],
                    id_part="preference",
                    memory_type=MemoryType.PREFERENCE.value,
                    text=focus.line(),
                    fallback=fallback,
                    tags=("preference", kind),
                    data={PREFERENCE_KEY: kind},
                )
                cubes.append(pref)
        return cubes

    def _turn_cube(
        self,
        ns: tuple[str, ...],
        thread_id: str | None,
        focus: Turn,
        turns: Sequence[Turn],
        *,
        id_part: str,
        memory_type: str,
        text: str,
        fallback: str | None,
        tags: tuple[str, ...] = (),
        data: Mapping[str, Any] | None = None,
    ) -> MemCube:
        """A fast cube about ``focus`` that holds ``turns`` (its window, or the turn alone)
        and names them in its provenance."""
        header = {
            "namespace": ns,
            "id": self._cube_id(ns, thread_id, id_part, _turn_key(focus)),
            "memory_type": memory_type,
            "created_at": focus.time,
            "updated_at": focus.time,
            "priority": self.priority,
            "tags": ("fast", *tags, *(("fallback",) if fallback else ())),
            "provenance": _provenance("reader:fast", thread_id, turns, note=fallback),
        }
        payload = {
            "kind": "plaintext",
            "text": text,
            "data": {
                TURNS_KEY: [t.model_dump(mode="json") for t in turns],
                "focus": focus.pos,
                **(data or {}),
            },
        }
        return MemCube.model_validate({**header, "payload": payload})

    # -- fine -------------------------------------------------------------------------------

    def _batches(self, turns: Sequence[Turn], first: int) -> list[list[Turn]]:
        todo = list(turns[first:])
        return [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]

    def _prompt(self, batch: Sequence[Turn]) -> list[tuple[str, str]]:
        return [("system", EXTRACTION_PROMPT), ("human", transcript(batch))]

    def _runnable(self) -> Any:
        if self._extractor is None:
            assert self.llm is not None
            self._extractor = self.llm.with_structured_output(
                MemoryExtraction, include_raw=True, **self.structured_output
            )
        return self._extractor

    def _extract(self, batch: Sequence[Turn]) -> MemoryExtraction | str:
        return _parsed(self._runnable().invoke(self._prompt(batch)))

    async def _aextract(self, batch: Sequence[Turn]) -> MemoryExtraction | str:
        return _parsed(await self._runnable().ainvoke(self._prompt(batch)))

    def _fine_batch(
        self,
        ns: tuple[str, ...],
        thread_id: str | None,
        turns: Sequence[Turn],
        batch: Sequence[Turn],
        result: MemoryExtraction | str,
    ) -> list[MemCube]:
        if isinstance(result, str):
            warnings.warn(
                f"MemReader: fine extraction of {len(batch)} messages did not parse "
                f"({result}); stored them in fast mode",
                ReaderFallbackWarning,
                stacklevel=3,
            )
            first = turns.index(batch[0])
            return self._fast(
                ns,
                thread_id,
                turns,
                first,
                upto=first + len(batch),
                fallback=f"fine extraction failed: {result}",
            )
        cubes = []
        for j, mem in enumerate(result.memories):
            text = " ".join(mem.text.split())
            if not text:
                continue
            cited = [
                batch[k - 1] for k in dict.fromkeys(mem.source_messages) if 1 <= k <= len(batch)
            ]
            # A memory that cites nothing valid still came from this batch: keep all its ids
            # rather than none, so provenance never loses the trail.
            sources = cited or list(batch)
            when = max(t.time for t in sources)
            cubes.append(
                MemCube.from_text(
                    text[:8000],
                    namespace=ns,
                    id=self._cube_id(
                        ns, thread_id, "fact", text, *(_turn_key(t) for t in sources), str(j)
                    ),
                    memory_type=_MEMORY_TYPES[mem.kind],
                    created_at=when,
                    updated_at=when,
                    priority=self.priority,
                    tags=("fine", mem.kind),
                    provenance=_provenance("reader:fine", thread_id, sources),
                )
            )
        return cubes


def _sessions(turns: Sequence[Turn], gap: timedelta) -> list[int]:
    """Session number of each turn: a new session starts after a pause longer than ``gap``."""
    out: list[int] = []
    for i, t in enumerate(turns):
        new = i > 0 and t.time - turns[i - 1].time > gap
        out.append((out[-1] + new) if out else 0)
    return out


def _turn_key(t: Turn) -> str:
    # message ids are unique in a thread; without one, position plus content identify a turn
    if t.message_id:
        return f"id:{t.message_id}"
    digest = hashlib.sha256(f"{t.speaker}\x1f{t.text}".encode()).hexdigest()[:16]
    return f"pos:{t.pos}:{digest}"


def _provenance(
    origin: str, thread_id: str | None, turns: Iterable[Turn], note: str | None = None
) -> Provenance:
    turns = list(turns)
    message_ids = tuple(dict.fromkeys(t.message_id for t in turns if t.message_id))
    source_ids = tuple(dict.fromkeys(s for t in turns for s in t.source_ids))
    return Provenance(
        origin=origin,
        thread_id=thread_id,
        message_ids=message_ids[:MAX_IDS],
        source_ids=source_ids[:MAX_IDS],
        note=note,
    )


def _parsed(out: Any) -> MemoryExtraction | str:
    """The extraction, or why it failed (one line) when the model's output did not parse."""
    result = _parse(out)
    return result if isinstance(result, MemoryExtraction) else " ".join(result.split())[:300]


def _parse(out: Any) -> MemoryExtraction | str:
    if isinstance(out, Mapping):
        if out.get("parsing_error") is not None:
            return f"{type(out['parsing_error']).__name__}: {out['parsing_error']}"[:300]
        out = out.get("parsed")
    if isinstance(out, MemoryExtraction):
        return out
    if out is None:
        return "the model returned no structured output"
    try:
        return MemoryExtraction.model_validate(out)
    except ValidationError as e:
        return f"ValidationError: {e.errors()[0]['msg'] if e.errors() else e}"[:300]


__all__ = [
    "EXTRACTION_PROMPT",
    "ExtractedMemory",
    "MemReader",
    "MemoryExtraction",
    "ReaderFallbackWarning",
    "Turn",
    "format_date",
    "message_turns",
    "render_turns",
    "transcript",
    "turns_of",
]
