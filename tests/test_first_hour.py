"""What a new user meets in the first hour (#19): token counting that loads nothing it was
not asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from memos_lc import MemVault, Principal
from memos_lc.errors import InvalidInputError
from memos_lc.nodes import MemoryNodes
from memos_lc.scheduler import MemScheduler, estimate_tokens, token_counter

ROOT = Path(__file__).resolve().parents[1]
NS = ("memories", "alice")
ALICE_CONFIG = {"configurable": {"user_id": "alice", "thread_id": "t-1"}}


def _recall(nodes: MemoryNodes, query: str) -> dict:
    return nodes.recall({"messages": [("user", query)]}, ALICE_CONFIG)["memory_plan"]


@pytest.fixture
def noted(vault: MemVault, alice: Principal) -> MemVault:
    vault.add(alice, "user: I keep bees on the roof of my flat in Lyon.", namespace=NS)
    vault.add(alice, "user: My sister Ondine plays the cello.", namespace=NS)
    return vault


# -- #19 item 7: the token counter ------------------------------------------------------------

# In a fresh process (so nothing another test loaded counts): planning with no model named
# loads no tokenizer, through the scheduler and through the memory nodes.
NO_MODEL_PLAN = """
import sys
from memos_lc import MemVault, Principal
from memos_lc.models import loaded_tokenizers
from memos_lc.nodes import MemoryNodes
from memos_lc.scheduler import MemScheduler, estimate_tokens

alice = Principal("alice")
with MemVault.open(sys.argv[1]) as vault:
    vault.add(alice, "user: I keep bees on the roof.", namespace=("memories", "alice"))
    plan = MemScheduler(vault).plan(alice, "bees", namespace=("memories", "alice"))
    assert "bees" in plan.text and plan.text_tokens == estimate_tokens(plan.text), plan
    state = {"messages": [("user", "Where are my bees?")]}
    config = {"configurable": {"user_id": "alice"}}
    recalled = MemoryNodes(vault).recall(state, config)["memory_plan"]
    assert "bees" in recalled["text"], recalled
print(sorted(loaded_tokenizers()))
"""


def test_planning_without_a_model_loads_no_tokenizer(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", NO_MODEL_PLAN, str(tmp_path / "vault")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]"]


def test_the_default_count_is_the_documented_estimate(noted: MemVault, alice) -> None:
    plan = MemScheduler(noted).plan(alice, "bees", namespace=NS, budget_tokens=64)
    assert plan.items and plan.text_tokens == estimate_tokens(plan.text)
    recalled = _recall(MemoryNodes(noted), "Where do I keep bees?")
    assert recalled["text_tokens"] == estimate_tokens(recalled["text"])
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 2
    assert estimate_tokens("é" * 3) == 2  # bytes, not characters


def test_chatmemos_counts_with_its_own_tokenizer_without_loading_weights(
    noted: MemVault,
) -> None:
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.models import load_tokenizer

    chat = ChatMemOS()
    recalled = _recall(MemoryNodes(noted, count_tokens=chat), "Who plays the cello?")
    tokenizer = load_tokenizer()
    assert "Ondine" in recalled["text"]
    expected = len(tokenizer.encode(recalled["text"], add_special_tokens=False))
    assert recalled["text_tokens"] == expected != estimate_tokens(recalled["text"])
    assert chat.get_num_tokens(recalled["text"]) == expected
    assert chat.local_model is None  # counting loaded the tokenizer, not the model


def test_middleware_counts_with_the_model_it_is_given(noted: MemVault) -> None:
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.middleware import MemoryMiddleware

    chat = ChatMemOS()
    middleware = MemoryMiddleware(vault=noted, count_tokens=chat)
    text = "Ondine plays the cello in Lyon."
    assert middleware.nodes.count_tokens(text) == chat.get_num_tokens(text)
    assert MemoryMiddleware(vault=noted).nodes.count_tokens(text) == estimate_tokens(text)


def test_token_counter_of_langchain_models_and_tokenizers() -> None:
    from memos_lc.models import load_tokenizer

    text = "Ondine plays the cello in Lyon."
    # a model without a tokenizer of its own: the estimate, never LangChain's GPT-2 fallback
    plain = GenericFakeChatModel(messages=iter([AIMessage("hi")]))
    assert token_counter(plain) is estimate_tokens
    words = GenericFakeChatModel(
        messages=iter([AIMessage("hi")]), custom_get_token_ids=lambda s: list(range(len(s.split())))
    )
    assert token_counter(words)(text) == 6
    tokenizer = load_tokenizer()
    assert token_counter(tokenizer)(text) == len(tokenizer.encode(text, add_special_tokens=False))
    assert token_counter(len)(text) == len(text)
    assert token_counter(None) is estimate_tokens


def test_token_counter_of_hugging_face_models() -> None:
    from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    from transformers import pipeline

    from memos_lc.models import load_causal_lm

    lm = load_causal_lm()
    pipe = pipeline("text-generation", model=lm.model, tokenizer=lm.tokenizer)
    llm = HuggingFacePipeline(pipeline=pipe, model_id="smollm2")
    text = "Ondine plays the cello in Lyon."
    expected = len(lm.tokenizer.encode(text, add_special_tokens=False))
    assert token_counter(llm)(text) == expected
    assert token_counter(ChatHuggingFace(llm=llm, tokenizer=lm.tokenizer))(text) == expected


def test_a_bad_token_counter_is_a_typed_error(vault: MemVault) -> None:
    with pytest.raises(InvalidInputError, match="count_tokens"):
        token_counter(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="count_tokens"):
        MemoryNodes(vault, count_tokens="gpt-4o")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="count_tokens"):
        MemScheduler(vault, count_tokens=3.5)  # type: ignore[arg-type]
