"""MemReader: fast windows with provenance, fine extraction through structured output, and the
fall back to fast mode when the model's output does not parse.

Fine mode is exercised with :class:`ScriptedExtractor`, a deterministic chat model written
for these tests (no real LLM runs here). It is a real ``BaseChatModel`` that supports tool
calling: ``with_structured_output`` binds the extraction schema as a tool and the model
answers with a tool call. What it *simulates* is the LLM's reading: it parses the numbered
transcript the reader sends, rewrites first-person lines in the third person with the
speaker's name and resolves "yesterday" against the date shown for that message. So these
tests prove the reader sends what an LLM needs (numbers, speakers, message dates) and turns a
structured answer into cubes with the right provenance; they say nothing about how well any
particular LLM extracts.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from memos_lc.errors import InvalidInputError, InvalidNamespaceError
from memos_lc.reader import (
    MemReader,
    ReaderFallbackWarning,
    Turn,
    message_turns,
    render_turns,
    turns_of,
)

NS = ("alice", "memories")
T0 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
_LINE = re.compile(r"^\[(\d+)\] \(\w+, (\d+ \w+ \d{4}), [\d:]+\) ([^:]+): (.*)$")


def conversation() -> list[BaseMessage]:
    """Two sessions a day apart; ids and dataset ids in the message metadata."""
    turns = [
        ("Caroline", "Hey Mel! Good to see you!", T0, "D1:1"),
        ("Melanie", "Hi Caroline! What's new with you?", T0, "D1:2"),
        ("Caroline", "I went to a LGBTQ support group yesterday.", T0, "D1:3"),
        ("Melanie", "That sounds powerful, how was it?", T0, "D1:4"),
        ("Caroline", "I love painting sunsets with watercolors.", T0 + timedelta(days=9), "D2:1"),
        ("Melanie", "I started pottery classes last week.", T0 + timedelta(days=9), "D2:2"),
    ]
    return [
        HumanMessage(
            content=text,
            name=speaker,
            id=f"m{i}",
            additional_kwargs={"timestamp": when.isoformat(), "source_id": dia},
        )
        for i, (speaker, text, when, dia) in enumerate(turns)
    ]


# -- a deterministic tool-calling chat model (simulated extraction) ---------------------------


class ScriptedExtractor(BaseChatModel):
    """Answers the reader's extraction prompt with a ``MemoryExtraction`` tool call computed
    by rules (see the module docstring). ``broken_when`` makes batches whose transcript
    contains that text answer with arguments that do not validate; ``text_when`` makes them
    answer in prose without a tool call."""

    broken_when: str | None = None
    text_when: str | None = None
    bad_citations: bool = False
    calls: list[str] = []
    tools: list[dict[str, Any]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted-extractor"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        formatted = [convert_to_openai_tool(t) for t in tools]
        self.tools.extend(formatted)
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        assert isinstance(messages[0], SystemMessage) and "third person" in messages[0].text
        prompt = messages[-1].text
        self.calls.append(prompt)
        if self.text_when and self.text_when in prompt:
            msg = AIMessage(content="Sure! Caroline likes painting.")
            return ChatResult(generations=[ChatGeneration(message=msg)])
        if self.broken_when and self.broken_when in prompt:
            args: dict[str, Any] = {"memories": "nothing to see"}
        else:
            args = {"memories": self._extract(prompt)}
        msg = AIMessage(
            content="",
            tool_calls=[{"name": "MemoryExtraction", "args": args, "id": f"call{len(self.calls)}"}],
        )
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def _extract(self, prompt: str) -> list[dict[str, Any]]:
        out = []
        for line in prompt.splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            num, day, speaker, text = int(m[1]), m[2], m[3], m[4]
            if not re.match(r"^I ", text):  # only first-person statements are memories here
                continue
            when = datetime.strptime(day, "%d %B %Y")
            fact = re.sub(r"^I love ", f"{speaker} loves ", text.rstrip("."))
            fact = re.sub(r"^I ", f"{speaker} ", fact)
            fact = fact.replace(" yesterday", f" on {(when - timedelta(days=1)):%-d %B %Y}")
            kind = "preference" if " love" in fact else "event" if " went " in fact else "fact"
            cites = [99] if self.bad_citations else [num]
            out.append({"text": fact + ".", "kind": kind, "source_messages": cites})
        return out


# -- message metadata ---------------------------------------------------------------------------


def test_message_turns_read_metadata_and_fill_gaps() -> None:
    msgs = [
        SystemMessage("You are helpful."),
        HumanMessage("hello", id="a", response_metadata={"created_at": 1683554160}),
        AIMessage("", id="b"),  # empty: skipped, its index stays reserved
        AIMessage("hi there", id="c"),
    ]
    turns = message_turns(msgs, now=T0)
    assert [t.pos for t in turns] == [0, 1, 3]
    assert [t.speaker for t in turns] == ["system", "user", "assistant"]
    assert turns[0].time == T0  # no time before the first stamped message: `now`
    assert turns[1].time == datetime.fromtimestamp(1683554160, UTC)
    assert turns[2].time == turns[1].time  # inherits the previous message's time
    explicit = message_turns(
        msgs,
        timestamps=[None, "2024-01-02T03:04:05", None, None],
        source_ids=[None, ["x", "y"], None, "z"],
        now=T0,
    )
    assert explicit[1].time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)  # naive -> UTC
    assert explicit[1].source_ids == ("x", "y") and explicit[2].source_ids == ("z",)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.read("not messages", namespace=NS), InvalidInputError),
        (lambda r: r.read([{"role": "user"}], namespace=NS), InvalidInputError),
        (lambda r: r.read(conversation(), namespace="alice"), InvalidNamespaceError),
        (lambda r: r.read(conversation(), namespace=NS, timestamps=[T0]), InvalidInputError),
        (lambda r: r.read(conversation(), namespace=NS, start=-1), InvalidInputError),
        (lambda r: r.read(conversation(), namespace=NS, thread_id=""), InvalidInputError),
        (
            lambda r: r.read(
                [HumanMessage("x", additional_kwargs={"timestamp": "soon"})], namespace=NS
            ),
            InvalidInputError,
        ),
    ],
)
def test_bad_input_is_a_typed_error(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(MemReader())


def test_constructor_checks() -> None:
    with pytest.raises(InvalidInputError, match="fine mode needs a chat model"):
        MemReader("fine")
    with pytest.raises(InvalidInputError):
        MemReader("medium")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        MemReader(window=-1)


# -- fast mode ------------------------------------------------------------------------------


def test_fast_cube_per_turn_with_window_provenance_and_date() -> None:
    cubes = MemReader(preferences=False).read(conversation(), namespace=NS, thread_id="t1")
    assert len(cubes) == 6
    third = cubes[2]
    assert third.text == (
        "[8 May 2023]\n"
        "Melanie: Hi Caroline! What's new with you?\n"
        "Caroline: I went to a LGBTQ support group yesterday.\n"
        "Melanie: That sounds powerful, how was it?"
    )
    assert third.provenance.thread_id == "t1"
    assert third.provenance.origin == "reader:fast"
    assert third.provenance.message_ids == ("m1", "m2", "m3")
    assert third.provenance.source_ids == ("D1:2", "D1:3", "D1:4")
    assert third.created_at == T0 and third.memory_type == "episodic"
    assert third.namespace == NS and "fast" in third.tags
    turns = turns_of(third)
    assert turns is not None and [t.pos for t in turns] == [1, 2, 3]
    assert third.payload.data["focus"] == 2  # type: ignore[union-attr]
    # the first turn of a thread has no predecessor
    assert cubes[0].provenance.source_ids == ("D1:1", "D1:2")


def test_fast_windows_stop_at_a_session_break() -> None:
    cubes = MemReader(preferences=False).read(conversation(), namespace=NS)
    # D1:4 is the last turn before a nine-day pause: its window does not reach D2:1
    assert cubes[3].provenance.source_ids == ("D1:3", "D1:4")
    assert cubes[4].provenance.source_ids == ("D2:1", "D2:2")
    assert cubes[4].text.startswith("[17 May 2023]\n")
    long_gap = MemReader(session_gap=timedelta(days=30), preferences=False).read(
        conversation(), namespace=NS
    )
    assert long_gap[3].provenance.source_ids == ("D1:3", "D1:4", "D2:1")


def test_fast_window_size_and_dates_are_configurable() -> None:
    bare = MemReader(window=0, dates=False, preferences=False).read(conversation(), namespace=NS)
    assert bare[2].text == "Caroline: I went to a LGBTQ support group yesterday."
    assert bare[2].provenance.source_ids == ("D1:3",)
    wide = MemReader(window=2, preferences=False).read(conversation(), namespace=NS)
    assert wide[2].provenance.source_ids == ("D1:1", "D1:2", "D1:3", "D1:4")


def test_start_reads_only_new_messages_with_old_ones_as_context() -> None:
    msgs = conversation()
    whole = MemReader(preferences=False).read(msgs, namespace=NS, thread_id="t1")
    tail = MemReader(preferences=False).read(msgs, namespace=NS, thread_id="t1", start=5)
    assert len(tail) == 1 and tail[0].provenance.message_ids == ("m4", "m5")
    # same messages, same thread: same cube ids (a second write-back is a duplicate, not new)
    assert tail[0].id == whole[5].id
    assert (
        MemReader(preferences=False).read(msgs, namespace=NS, thread_id="t2")[5].id != whole[5].id
    )
    assert MemReader(preferences=False).read(msgs, namespace=NS, start=99) == []


def test_render_turns_dates_once_per_day() -> None:
    day = datetime(2024, 2, 29, 9, tzinfo=UTC)
    turns = [
        Turn(pos=i, speaker="A", text=str(i), time=day + timedelta(hours=8 * i)) for i in range(3)
    ]
    assert render_turns(turns) == "[29 February 2024]\nA: 0\nA: 1\n[1 March 2024]\nA: 2"


def test_fast_cubes_are_found_by_their_context(vault, alice) -> None:
    cubes = MemReader(preferences=False).read(conversation(), namespace=NS, thread_id="t1")
    vault.put(alice, cubes)
    # "How was the support group?" - the answer turn D1:4 does not say "support group"; its
    # window does, so the window holding the answer is found
    hits = vault.search(alice, "support group", namespace=NS, limit=3)
    assert any("D1:4" in h.cube.provenance.source_ids for h in hits)
    top = vault.search(alice, "watercolors", namespace=NS, limit=1)[0].cube
    assert top.id in {cubes[4].id, cubes[5].id}  # both windows hold D2:1


# -- fine mode -------------------------------------------------------------------------------


def test_fine_extracts_third_person_facts_with_absolute_dates_and_provenance() -> None:
    llm = ScriptedExtractor()
    reader = MemReader("fine", llm=llm, batch_size=4)
    cubes = reader.read(conversation(), namespace=NS, thread_id="t1")
    assert len(llm.calls) == 2  # 6 messages in batches of 4
    assert llm.tools[0]["function"]["name"] == "MemoryExtraction"
    # the prompt numbers the messages and shows speaker and date, which is what resolution needs
    assert "[3] (Monday, 8 May 2023, 13:56) Caroline: I went to" in llm.calls[0]
    by_text = {c.text: c for c in cubes}
    assert set(by_text) == {
        "Caroline went to a LGBTQ support group on 7 May 2023.",
        "Caroline loves painting sunsets with watercolors.",
        "Melanie started pottery classes last week.",
    }
    event = by_text["Caroline went to a LGBTQ support group on 7 May 2023."]
    assert event.memory_type == "episodic" and event.tags == ("fine", "event")
    assert event.provenance.origin == "reader:fine"
    assert event.provenance.message_ids == ("m2",)
    assert event.provenance.source_ids == ("D1:3",)
    assert event.provenance.thread_id == "t1"
    assert event.created_at == T0
    pref = by_text["Caroline loves painting sunsets with watercolors."]
    assert pref.memory_type == "preference" and pref.provenance.source_ids == ("D2:1",)
    again = reader.read(conversation(), namespace=NS, thread_id="t1")
    assert sorted(c.id for c in again) == sorted(c.id for c in cubes)


def test_fine_memory_citing_no_valid_message_keeps_the_whole_batch() -> None:
    reader = MemReader("fine", llm=ScriptedExtractor(bad_citations=True), batch_size=4)
    cubes = reader.read(conversation()[:4], namespace=NS)
    assert len(cubes) == 1
    assert cubes[0].provenance.message_ids == ("m0", "m1", "m2", "m3")


def test_fine_parse_failure_falls_back_to_fast_and_says_so() -> None:
    llm = ScriptedExtractor(broken_when="pottery")
    reader = MemReader("fine", llm=llm, batch_size=4)
    with pytest.warns(ReaderFallbackWarning, match="did not parse"):
        cubes = reader.read(conversation(), namespace=NS, thread_id="t1")
    fine = [c for c in cubes if "fine" in c.tags]
    fallback = [c for c in cubes if "fallback" in c.tags]
    assert len(fine) == 1  # the first batch parsed
    # a window per turn of the failed batch, and their stated preferences, also from fast mode
    assert [c.payload.data["focus"] for c in fallback] == [4, 4, 5, 5]  # type: ignore[union-attr]
    assert [c.memory_type for c in fallback] == ["episodic", "preference"] * 2
    assert all(c.provenance.origin == "reader:fast" for c in fallback)
    assert "fine extraction failed" in (fallback[0].provenance.note or "")
    assert "ValidationError" in (fallback[0].provenance.note or "")


def test_fine_prose_answer_without_tool_call_falls_back() -> None:
    reader = MemReader("fine", llm=ScriptedExtractor(text_when="Caroline"), batch_size=10)
    with pytest.warns(ReaderFallbackWarning, match="no structured output"):
        cubes = reader.read(conversation(), namespace=NS)
    assert all("fallback" in c.tags for c in cubes)
    assert len([c for c in cubes if c.memory_type == "episodic"]) == 6


async def test_aread_matches_read_and_runs_batches_concurrently() -> None:
    llm = ScriptedExtractor()
    reader = MemReader("fine", llm=llm, batch_size=2, max_concurrency=3, progress=False)
    sync = reader.read(conversation(), namespace=NS, thread_id="t1")
    async_ = await reader.aread(conversation(), namespace=NS, thread_id="t1")
    assert [c.id for c in async_] == [c.id for c in sync]
    assert len(llm.calls) == 6
    fast = MemReader()
    assert [c.id for c in await fast.aread(conversation(), namespace=NS)] == [
        c.id for c in fast.read(conversation(), namespace=NS)
    ]


def test_progress_bar_for_long_histories(capsys: pytest.CaptureFixture[str]) -> None:
    llm = ScriptedExtractor()
    msgs = conversation() * 2  # 12 messages, 6 batches of 2: more than 4 shows the bar
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback happened
        MemReader("fine", llm=llm, batch_size=2).read(msgs, namespace=NS)
    assert "MemReader" in capsys.readouterr().err
