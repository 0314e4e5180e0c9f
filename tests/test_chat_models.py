"""ChatMemOS as a LangChain chat model: langchain-tests' standard suites on the bundled SmolLM2
(loaded once per session), plus decoding, streaming, stop, tools and input checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests
from pydantic import BaseModel

from memos_lc.activation import compile_prefix
from memos_lc.chat_models import (
    CHATML_TOOLS_TEMPLATE,
    ChatMemOS,
    message_dicts,
    parse_tool_calls,
)
from memos_lc.errors import InvalidInputError, ToolCallingNotSupportedError
from memos_lc.models import LocalLM, load_causal_lm

FAST = {"max_tokens": 12}


@pytest.fixture(scope="session")
def lm() -> LocalLM:
    return load_causal_lm()


@pytest.fixture(scope="session")
def chat(lm: LocalLM) -> ChatMemOS:
    return ChatMemOS(local_model=lm, max_tokens=16)


@pytest.fixture(scope="session")
def tool_chat(lm: LocalLM) -> ChatMemOS:
    return ChatMemOS(local_model=lm, max_tokens=24, chat_template=CHATML_TOOLS_TEMPLATE)


@tool
def magic_function(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


# -- langchain-tests standard suites -------------------------------------------------------


class TestChatMemOSUnit(ChatModelUnitTests):
    """The bundled SmolLM2: its chat template has no tools."""

    @property
    def chat_model_class(self) -> type[ChatMemOS]:
        return ChatMemOS

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_model_override(self) -> bool:
        return False


class TestChatMemOSToolsUnit(ChatModelUnitTests):
    """SmolLM2 with a ChatML template that renders tools: bind_tools and structured output."""

    @property
    def chat_model_class(self) -> type[ChatMemOS]:
        return ChatMemOS

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"chat_template": CHATML_TOOLS_TEMPLATE}

    @property
    def supports_model_override(self) -> bool:
        return False


class TestChatMemOSIntegration(ChatModelIntegrationTests):
    """Everything a 135M local model can do; tool calling and structured output need a model
    trained for them (the mechanics are tested below with the tools template)."""

    @property
    def chat_model_class(self) -> type[ChatMemOS]:
        return ChatMemOS

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return FAST

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_model_override(self) -> bool:
        return False

    @property
    def supported_usage_metadata_details(self) -> dict:
        return {"invoke": ["cache_read_input"], "stream": ["cache_read_input"]}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        chat = ChatMemOS(**FAST)
        prefix = compile_prefix(chat.lm, "The office wifi password is tulip-42.")
        if not stream:
            return chat.invoke("What is the wifi password?", activation=prefix)
        full = None
        for chunk in chat.stream("What is the wifi password?", activation=prefix):
            full = chunk if full is None else full + chunk
        assert full is not None
        return full  # type: ignore[return-value]


# -- decoding ----------------------------------------------------------------------------


def test_greedy_is_deterministic_and_stream_matches_invoke(chat: ChatMemOS) -> None:
    a = chat.invoke("Name a primary color.")
    b = chat.invoke("Name a primary color.")
    chunks = list(chat.stream("Name a primary color."))
    assert a.content and a.content == b.content
    assert "".join(str(c.content) for c in chunks) == a.content
    assert chunks[-1].chunk_position == "last"
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_usage_counts_prompt_tokens(chat: ChatMemOS, lm: LocalLM) -> None:
    msgs = [SystemMessage("Be brief."), HumanMessage("Hello there")]
    ids = lm.tokenizer.apply_chat_template(
        message_dicts(msgs), add_generation_prompt=True, tokenize=True
    )
    if not isinstance(ids, list):  # transformers may return a BatchEncoding
        ids = ids["input_ids"]
    reply = chat.invoke(msgs, max_tokens=3)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == len(ids)
    assert reply.usage_metadata["output_tokens"] <= 3
    assert reply.usage_metadata["total_tokens"] == len(ids) + reply.usage_metadata["output_tokens"]


def test_max_tokens_ends_with_length(chat: ChatMemOS) -> None:
    reply = chat.invoke("Write a long story about a dragon.", max_tokens=4)
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 4


def test_stop_sequence_cuts_before_stop_in_invoke_and_stream(chat: ChatMemOS) -> None:
    prompt = "Describe the sea in one sentence."
    free = chat.invoke(prompt, max_tokens=16).text
    assert len(free) > 12, free
    stop = free[6:10]  # spans token boundaries, so the stream must hold back partial matches
    expected = free[: free.index(stop)]
    cut = chat.invoke(prompt, max_tokens=16, stop=[stop, "never-appears"])
    assert cut.text == expected
    assert cut.response_metadata["finish_reason"] == "stop"
    chunks = [str(c.content) for c in chat.stream(prompt, max_tokens=16, stop=[stop])]
    assert "".join(chunks) == expected


def test_streamed_text_is_the_decoded_text(lm: LocalLM) -> None:
    # token by token, including characters split across tokens, the deltas add up to what
    # decoding all ids at once gives, and none ends mid-character
    from memos_lc.chat_models import _Detokenizer

    text = "Café naïve résumé: 🙂 déjà vu, 東京 and ünïcödé.\n" * 40
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    detokenizer = _Detokenizer(lm.tokenizer)
    deltas = [detokenizer.push(i) for i in ids] + [detokenizer.flush()]
    assert "".join(deltas) == lm.tokenizer.decode(ids, skip_special_tokens=True)
    assert not any("\ufffd" in d for d in deltas)
    assert any(d == "" for d in deltas)  # some ids are only part of a character


def test_sampling_with_seed_is_reproducible(lm: LocalLM) -> None:
    hot = ChatMemOS(local_model=lm, temperature=1.2, top_p=0.95, top_k=50, seed=7, max_tokens=10)
    assert hot.invoke("Invent a word.").content == hot.invoke("Invent a word.").content


async def test_async_matches_sync(chat: ChatMemOS) -> None:
    sync = chat.invoke("Say hi to Bob.")
    assert (await chat.ainvoke("Say hi to Bob.")).content == sync.content
    parts = [str(c.content) async for c in chat.astream("Say hi to Bob.")]
    assert "".join(parts) == sync.content


async def test_astream_stops_when_the_consumer_leaves(chat: ChatMemOS) -> None:
    stream = chat.astream("Write a long story about a cat.", max_tokens=200)
    async for chunk in stream:
        assert chunk.content
        break
    await stream.aclose()
    # the worker stopped and released the model: the next call runs normally
    reply = await asyncio.wait_for(chat.ainvoke("Say yes.", max_tokens=3), timeout=120)
    assert reply.usage_metadata is not None


def test_conversation_with_tool_history_renders(tool_chat: ChatMemOS) -> None:
    history = [
        HumanMessage("What is magic_function(3)?"),
        AIMessage("", tool_calls=[{"name": "magic_function", "args": {"input": 3}, "id": "c1"}]),
        ToolMessage("5", tool_call_id="c1"),
    ]
    rendered = tool_chat.lm.tokenizer.apply_chat_template(
        message_dicts(history), chat_template=CHATML_TOOLS_TEMPLATE, tokenize=False
    )
    assert '{"name": "magic_function", "arguments": {"input": 3}}' in rendered
    assert "<tool_response>\n5\n</tool_response>" in rendered
    reply = tool_chat.bind_tools([magic_function]).invoke(history, max_tokens=6)
    assert isinstance(reply, AIMessage)


# -- tools -------------------------------------------------------------------------------


def test_bind_tools_without_template_support_is_a_typed_error(chat: ChatMemOS) -> None:
    assert not chat.supports_tools()
    with pytest.raises(ToolCallingNotSupportedError, match="CHATML_TOOLS_TEMPLATE"):
        chat.bind_tools([magic_function])


def test_forced_tool_call_is_parsed_in_invoke_and_stream(tool_chat: ChatMemOS) -> None:
    assert tool_chat.supports_tools()
    bound = tool_chat.bind_tools([magic_function], tool_choice="any")
    reply = bound.invoke("What is the value of magic_function(3)? Use the tool.")
    assert [c["name"] for c in reply.tool_calls] == ["magic_function"]
    assert isinstance(reply.tool_calls[0]["args"], dict)
    assert "<tool_call>" not in reply.text
    full = None
    for chunk in bound.stream("What is the value of magic_function(3)? Use the tool."):
        assert "<tool_call>" not in str(chunk.content)
        full = chunk if full is None else full + chunk
    assert full is not None
    assert [c["name"] for c in full.tool_calls] == ["magic_function"]
    assert full.tool_calls[0]["args"] == reply.tool_calls[0]["args"]


def test_tool_choice_must_name_a_bound_tool(tool_chat: ChatMemOS) -> None:
    with pytest.raises(InvalidInputError, match="not one of"):
        tool_chat.bind_tools([magic_function], tool_choice="other_tool")


def test_tool_choice_none_leaves_tools_out(tool_chat: ChatMemOS) -> None:
    reply = tool_chat.bind_tools([magic_function], tool_choice="none").invoke("Hi", max_tokens=4)
    assert reply.tool_calls == []
    assert reply.usage_metadata is not None
    plain = tool_chat.invoke("Hi", max_tokens=4)
    assert plain.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == plain.usage_metadata["input_tokens"]


def test_parse_tool_calls() -> None:
    text = (
        'Let me check.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": "{\\"y\\": 2}"}</tool_call>'
        "<tool_call>not json</tool_call><tool_call>\n"
        '{"name": "c", "arguments": {"z": [1, 2]}}'
    )
    content, calls = parse_tool_calls(text)
    assert content == "Let me check."
    assert [c["name"] for c in calls] == ["a", "b", None, "c"]
    assert [c["args"] for c in calls] == ['{"x": 1}', '{"y": 2}', '"not json"', '{"z": [1, 2]}']
    assert [c["index"] for c in calls] == [0, 1, 2, 3]
    assert len({c["id"] for c in calls}) == 4
    assert parse_tool_calls("plain answer") == ("plain answer", [])
    # generation cut off inside the closing tag
    _, [cut] = parse_tool_calls('<tool_call>{"name": "a", "arguments": {}}\n</tool_')
    assert (cut["name"], cut["args"]) == ("a", "{}")


def test_malformed_tool_calls_are_reported_as_invalid() -> None:
    from langchain_core.messages import AIMessageChunk

    text = (
        '<tool_call>{"name": "f", "arguments": {"x": 1</tool_call>'  # truncated
        '<tool_call>{"name": "g", "arguments": 2}</tool_call>'  # arguments not an object
        "<tool_call>{oops</tool_call>"
    )
    _, calls = parse_tool_calls(text)
    msg = AIMessageChunk(content="", tool_call_chunks=calls, chunk_position="last")
    assert msg.tool_calls == []
    assert [c["name"] for c in msg.invalid_tool_calls] == ["f", "g", None]


class Person(BaseModel):
    name: str
    age: int


def test_json_structured_output_starts_the_answer_as_json(chat: ChatMemOS) -> None:
    structured = chat.with_structured_output(Person, method="json_schema", include_raw=True)
    out = structured.invoke("Alice is 30 years old. Extract the person.", max_tokens=24)
    assert isinstance(out["raw"], AIMessage)
    assert out["raw"].text.startswith("{")
    # decoding follows the schema (tests/test_structured_output.py): it always parses
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], Person)


def test_structured_output_default_method_follows_template(
    chat: ChatMemOS, tool_chat: ChatMemOS
) -> None:
    chat.with_structured_output(Person)  # json_schema: SmolLM2's template has no tools
    with pytest.raises(ToolCallingNotSupportedError):
        chat.with_structured_output(Person, method="function_calling")
    tool_chat.with_structured_output(Person)
    with pytest.raises(InvalidInputError):
        chat.with_structured_output(Person, method="xml")  # type: ignore[arg-type]


# -- input checks ---------------------------------------------------------------------------


def test_unknown_call_argument_is_a_typed_error(chat: ChatMemOS) -> None:
    with pytest.raises(InvalidInputError, match="activations"):
        chat.invoke("hi", activations="x")


def test_other_model_per_call_is_refused(chat: ChatMemOS) -> None:
    with pytest.raises(InvalidInputError, match="create another"):
        chat.invoke("hi", model="gpt2")


def test_memory_cube_ids_need_a_vault(chat: ChatMemOS) -> None:
    with pytest.raises(InvalidInputError, match="vault"):
        chat.invoke("hi", activation="some-cube")
    with pytest.raises(InvalidInputError, match="vault"):
        chat.invoke("hi", adapter="some-cube")
    with pytest.raises(InvalidInputError, match="one adapter"):
        chat.invoke("hi", adapters=["a", "b"])
    with pytest.raises(InvalidInputError, match="activation must be"):
        chat.invoke("hi", activation=42)


def test_non_text_content_is_refused(chat: ChatMemOS) -> None:
    image = {"type": "image", "url": "https://example.com/cat.png"}
    with pytest.raises(InvalidInputError, match="text only"):
        chat.invoke([HumanMessage(content=[{"type": "text", "text": "what is this"}, image])])


def test_text_blocks_become_plain_content() -> None:
    msgs = [HumanMessage(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])]
    assert message_dicts(msgs) == [{"role": "user", "content": "ab"}]


def test_local_model_must_be_a_local_lm() -> None:
    with pytest.raises(ValueError, match="LocalLM"):
        ChatMemOS(local_model="not a model")


def test_the_bundled_file_by_path_has_the_bundled_fingerprint(lm: LocalLM) -> None:
    # activation caches and adapters are keyed by the fingerprint: made with the default
    # model, they must apply when the same file is named by its path (and the reverse)
    from memos_lc.models import bundled_chat_model_path

    by_path = load_causal_lm(bundled_chat_model_path())
    assert by_path.model is not lm.model
    assert by_path.fingerprint == lm.fingerprint
    assert lm.fingerprint.startswith("smollm2-135m-instruct.q4_1:")
