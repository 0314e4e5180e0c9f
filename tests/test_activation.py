"""Activation memory: compiled KV prefixes give the same greedy answers as a full prefill,
are compiled once per block and model, and every bad input is a typed error or a fallback
with a warning, never a wrong answer."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from langchain_core.messages import HumanMessage, SystemMessage
from safetensors.torch import save as save_tensors

import memos_lc.activation as activation
from memos_lc import MemCube, MemVault, Principal
from memos_lc.activation import (
    ActivationMemory,
    KVPrefix,
    KVPrefixLRU,
    activation_key,
    compile_prefix,
    encode,
    render_prefix,
)
from memos_lc.chat_models import ChatMemOS
from memos_lc.cube import ActivationPayload, SourceRef
from memos_lc.errors import (
    ActivationFallbackWarning,
    ActivationFormatError,
    BlobIntegrityError,
    CubeKindError,
    CubeNotFoundError,
    InvalidInputError,
)
from memos_lc.models import LocalLM, load_causal_lm

BLOCK = "Known facts about the user:\n" + "\n".join(
    f"- {name} lives in {city} and works as a {job}."
    for name, city, job in [
        ("Alice", "Lisbon", "pilot"), ("Bruno", "Kyoto", "baker"), ("Chloe", "Oslo", "nurse"),
        ("Diego", "Porto", "chemist"), ("Esther", "Hanoi", "architect"),
        ("Felix", "Nairobi", "teacher"), ("Grace", "Montreal", "violinist"),
        ("Hugo", "Seoul", "carpenter"), ("Ivy", "Banff", "geologist"),
    ]
)  # fmt: skip
QUESTIONS = [
    "Where does Chloe live?",
    "What is Hugo's job?",
    "Who works as a pilot?",
    "Write one sentence about Felix.",
]


@pytest.fixture(scope="module")
def lm() -> LocalLM:
    return load_causal_lm()


@pytest.fixture(scope="module")
def kv_vault(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Iterator[MemVault]:
    root = tmp_path_factory.mktemp("kv")
    v = MemVault.open(root / "vault", embeddings=embeddings, blobs=root / "blobs")
    yield v
    v.close()


@pytest.fixture(scope="module")
def alice() -> Principal:
    return Principal(id="alice")


@pytest.fixture(scope="module")
def chat(lm: LocalLM, kv_vault: MemVault) -> ChatMemOS:
    return ChatMemOS(local_model=lm, vault=kv_vault, max_tokens=14)


@pytest.fixture(scope="module")
def cube(chat: ChatMemOS, alice: Principal) -> MemCube:
    return chat.compile_activation(BLOCK, namespace=("alice", "kv"), principal=alice)


def plain(chat: ChatMemOS, question: str, system: str = BLOCK) -> str:
    return chat.invoke([SystemMessage(system), HumanMessage(question)]).text


@pytest.fixture(scope="module")
def expected(chat: ChatMemOS) -> dict[str, str]:
    """Each question's greedy answer with the whole block prefilled, generated once for the
    tests that compare a cached answer with it (greedy answers are deterministic)."""
    return {q: plain(chat, q) for q in QUESTIONS}


# -- exactness -------------------------------------------------------------------------------


def test_cached_prefix_gives_the_same_greedy_answers(
    chat: ChatMemOS, cube: MemCube, alice: Principal, expected: dict[str, str]
) -> None:
    assert cube.kind.value == "activation"
    n = cube.payload.prefix_tokens
    for q in QUESTIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ActivationFallbackWarning)
            # no system message: the block becomes it
            cached = chat.invoke(q, activation=cube.id, principal=alice)
        assert cached.text == expected[q], q
        assert cached.usage_metadata is not None
        assert cached.usage_metadata["input_token_details"] == {"cache_read": n}
        assert cached.response_metadata["memory"]["activation_used"] is True
        if q == QUESTIONS[0]:
            streamed = [str(c.content) for c in chat.stream(q, activation=cube.id,
                                                             principal=alice)]  # fmt: skip
            assert "".join(streamed) == expected[q]


def test_system_message_may_continue_after_the_block(
    chat: ChatMemOS, cube: MemCube, alice: Principal
) -> None:
    system = BLOCK + "\n\nAnswer in a few words."
    msgs = [SystemMessage(system), HumanMessage(QUESTIONS[0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ActivationFallbackWarning)
        cached = chat.invoke(msgs, activation=cube.id, principal=alice)
    assert cached.response_metadata["memory"]["activation_used"] is True
    assert cached.text == plain(chat, QUESTIONS[0], system)


def test_configurable_selects_activation_and_principal(
    chat: ChatMemOS, cube: MemCube, expected: dict[str, str]
) -> None:
    reply = chat.invoke(
        QUESTIONS[1], config={"configurable": {"activation": cube.id, "user_id": "alice"}}
    )
    assert reply.response_metadata["memory"]["activation_used"] is True
    assert reply.text == expected[QUESTIONS[1]]
    # another principal cannot read alice's cube: deny-by-default
    with pytest.raises(CubeNotFoundError):
        chat.invoke(QUESTIONS[1], config={"configurable": {"activation": cube.id,
                                                          "user_id": "mallory"}})  # fmt: skip


async def test_async_paths(
    chat: ChatMemOS, cube: MemCube, alice: Principal, expected: dict[str, str]
) -> None:
    reply = await chat.ainvoke(QUESTIONS[2], activation=cube.id, principal=alice)
    assert reply.text == expected[QUESTIONS[2]]
    parts = [str(c.content) async for c in chat.astream(QUESTIONS[2], activation=cube.id,
                                                         principal=alice)]  # fmt: skip
    assert "".join(parts) == expected[QUESTIONS[2]]
    again = await chat.acompile_activation(BLOCK, namespace=("alice", "kv"), principal=alice)
    assert again.id == cube.id
    prefix = await chat.activation_memory.aload(alice, cube.id)
    assert prefix.cube_id == cube.id


# -- compile once ------------------------------------------------------------------------------


def test_the_same_block_is_compiled_once(
    chat: ChatMemOS, cube: MemCube, alice: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = activation.compile_prefix
    monkeypatch.setattr(activation, "compile_prefix",
                        lambda *a, **k: calls.append(1) or real(*a, **k))  # fmt: skip
    assert chat.compile_activation(BLOCK, namespace=("alice", "kv"), principal=alice).id == cube.id
    # another namespace gets its own cube, sharing the blob: still no model run
    other = chat.compile_activation(BLOCK, namespace=("alice", "kv2"), principal=alice)
    assert other.id != cube.id and other.payload.blob == cube.payload.blob
    assert calls == []
    prefix_text = render_prefix(chat.lm.tokenizer, BLOCK)
    assert cube.key == other.key == activation_key(prefix_text, chat.lm.fingerprint)
    # a different block does run the model
    chat.compile_activation("Bob's favourite tea is sencha.", namespace=("alice", "kv"),
                            principal=alice)  # fmt: skip
    assert calls == [1]


def test_header_and_blob_describe_the_prefix(
    chat: ChatMemOS, cube: MemCube, kv_vault: MemVault, alice: Principal
) -> None:
    payload = cube.payload
    assert isinstance(payload, ActivationPayload)
    ids = encode(chat.lm.tokenizer, render_prefix(chat.lm.tokenizer, BLOCK))
    assert payload.prefix_tokens == len(ids)
    assert payload.prefix_token_ids_sha256 == activation.token_ids_sha256(ids)
    assert payload.model_fingerprint == chat.lm.fingerprint
    assert payload.source_text == BLOCK
    meta = kv_vault.blobs.metadata(payload.blob)
    assert meta["model_fingerprint"] == chat.lm.fingerprint
    tensors = kv_vault.blobs.get_tensors(payload.blob)
    assert tensors["prefix_token_ids"].tolist() == ids
    layers = chat.lm.model.config.num_hidden_layers
    assert len(tensors) == 1 + 2 * layers
    # searchable by its text like any cube
    hits = kv_vault.search(alice, "Chloe Oslo nurse", namespace=("alice", "kv"))
    assert cube.id in [h.cube.id for h in hits]


def test_generation_never_changes_the_stored_prefix(lm: LocalLM) -> None:
    prefix = compile_prefix(lm, "The meeting is at noon.")
    before = [t.clone() for t in (*prefix.keys, *prefix.values)]
    chat = ChatMemOS(local_model=lm, max_tokens=6)
    first = chat.invoke("When is the meeting?", activation=prefix).text
    assert chat.invoke("When is the meeting?", activation=prefix).text == first
    for a, b in zip(before, (*prefix.keys, *prefix.values), strict=True):
        assert torch.equal(a, b)


def test_safetensors_round_trip(lm: LocalLM) -> None:
    prefix = compile_prefix(lm, "Rome is the capital of Italy.")
    tensors, meta = prefix.to_safetensors()
    back = KVPrefix.from_safetensors(tensors, meta, source_text=prefix.source_text)
    assert back.token_ids == prefix.token_ids
    assert back.model_fingerprint == prefix.model_fingerprint
    assert all(torch.equal(a, b) for a, b in zip(back.keys, prefix.keys, strict=True))
    broken = dict(tensors)
    broken["layers.0.keys"] = broken["layers.0.keys"][..., :-1, :]
    with pytest.raises(ActivationFormatError, match="layer 0"):
        KVPrefix.from_safetensors(broken, meta, source_text="x")
    with pytest.raises(ActivationFormatError, match="sha256"):
        KVPrefix.from_safetensors(tensors, {**meta, "prefix_token_ids_sha256": "0" * 64},
                                  source_text="x")  # fmt: skip
    with pytest.raises(ActivationFormatError, match="format"):
        KVPrefix.from_safetensors(tensors, {**meta, "format": "pickle"}, source_text="x")
    extra = {**tensors, "payload.exe": torch.zeros(1)}
    with pytest.raises(ActivationFormatError, match="unexpected"):
        KVPrefix.from_safetensors(extra, meta, source_text="x")


def test_promoter_compiles_hot_cubes_into_one_block(
    chat: ChatMemOS, kv_vault: MemVault, alice: Principal
) -> None:
    a = kv_vault.add(alice, "Alice takes the 8:10 train.", namespace=("alice", "hot", "a"))
    b = kv_vault.add(alice, "Alice's desk is B-12.", namespace=("alice", "hot", "b"))
    promote = activation.activation_promoter(chat.lm, tags=("promoted",))
    made = promote(kv_vault, alice, [a, b])
    assert made is not None and made.kind.value == "activation"
    assert made.text == "- Alice takes the 8:10 train.\n- Alice's desk is B-12."
    assert made.namespace == ("alice", "hot")
    assert made.provenance.derived_from == (a.id, b.id)
    assert made.provenance.derived_from_versions == (SourceRef.of(a), SourceRef.of(b))
    assert made.tags == ("promoted",)
    assert promote(kv_vault, alice, [made]) is None  # nothing plaintext to promote
    reply = chat.invoke("Which train does Alice take?", activation=made.id, principal=alice)
    assert reply.response_metadata["memory"]["activation_used"] is True


# -- the LRU --------------------------------------------------------------------------------------


def _fake_prefix(tokens: int) -> KVPrefix:
    k = torch.zeros(1, 1, tokens, 4)
    return KVPrefix("m:0", tuple(range(tokens)), (k,), (k.clone(),), "text")


def test_lru_keeps_hot_prefixes_within_its_byte_budget() -> None:
    one = _fake_prefix(8).nbytes  # 2 tensors * 8 tokens * 4 dims * 4 bytes = 256
    lru = KVPrefixLRU(max_bytes=3 * one)
    for key in "abc":
        lru.put(key, _fake_prefix(8))
    assert lru.get("a") is not None  # a is now the most recently used
    lru.put("d", _fake_prefix(8))
    assert "b" not in lru and {"a", "c", "d"} <= {k for k in "abcd" if k in lru}
    assert lru.nbytes == 3 * one
    lru.put("huge", _fake_prefix(100))  # larger than the whole budget: not kept
    assert "huge" not in lru and len(lru) == 3
    assert (lru.hits, lru.misses) == (1, 0)
    with pytest.raises(InvalidInputError):
        KVPrefixLRU(max_bytes=-1)


def test_load_uses_the_lru(kv_vault: MemVault, cube: MemCube, alice: Principal) -> None:
    memory = ActivationMemory(kv_vault, max_bytes=10**9)
    first = memory.load(alice, cube.id)
    assert memory.load(alice, cube.id) is first
    assert (memory.cache.hits, memory.cache.misses) == (1, 1)
    tiny = ActivationMemory(kv_vault, max_bytes=1000)  # too small: every load reads the blob
    assert tiny.load(alice, cube.id) is not tiny.load(alice, cube.id)
    assert len(tiny.cache) == 0


# -- bad input ----------------------------------------------------------------------------------


def test_unknown_or_wrong_kind_cube_is_a_typed_error(
    chat: ChatMemOS, kv_vault: MemVault, alice: Principal
) -> None:
    with pytest.raises(CubeNotFoundError):
        chat.invoke("hi", activation="no-such-cube", principal=alice)
    note = kv_vault.add(alice, "Alice likes tea", namespace=("alice", "notes"))
    with pytest.raises(CubeKindError, match="plaintext"):
        chat.invoke("hi", activation=note.id, principal=alice)
    with pytest.raises(InvalidInputError):
        chat.activation_memory.load(alice, "")


def test_other_model_fingerprint_falls_back_with_a_warning(
    chat: ChatMemOS, kv_vault: MemVault, cube: MemCube, alice: Principal
) -> None:
    # a real cube whose cache claims another model: header and blob agree, model differs
    prefix = chat.activation_memory.load(alice, cube.id)
    foreign = dataclasses.replace(prefix, model_fingerprint="other-model:0123456789abcdef")
    tensors, meta = foreign.to_safetensors()
    ref = kv_vault.put_blob(alice, save_tensors(tensors, metadata=meta))
    payload = ActivationPayload(
        blob=ref, model_fingerprint=foreign.model_fingerprint,
        prefix_tokens=foreign.prefix_tokens,
        prefix_token_ids_sha256=foreign.token_ids_sha256, source_text=BLOCK,
    )  # fmt: skip
    stored = kv_vault.put(alice, MemCube(namespace=("alice", "foreign"), payload=payload))[0]
    q = QUESTIONS[0]
    with pytest.warns(ActivationFallbackWarning, match="other-model"):
        reply = chat.invoke(q, activation=stored.id, principal=alice)
    assert reply.text == plain(chat, q)
    assert reply.response_metadata["memory"]["activation_used"] is False
    assert reply.usage_metadata is not None
    assert "input_token_details" not in reply.usage_metadata


def test_diverging_prompt_falls_back_with_a_warning(
    chat: ChatMemOS, cube: MemCube, alice: Principal
) -> None:
    q = QUESTIONS[1]
    other_system = "You are a terse assistant.\n" + BLOCK  # the block is not at the start
    msgs = [SystemMessage(other_system), HumanMessage(q)]
    with pytest.warns(ActivationFallbackWarning, match="does not start with"):
        reply = chat.invoke(msgs, activation=cube.id, principal=alice)
    assert reply.text == plain(chat, q, other_system)


def test_corrupt_blob_is_a_typed_error(
    chat: ChatMemOS, kv_vault: MemVault, alice: Principal
) -> None:
    cube = chat.compile_activation("Dana's bike is red.", namespace=("alice", "corrupt"),
                                   principal=alice)  # fmt: skip
    path = (
        Path(kv_vault.blobs.root)
        / cube.payload.blob.sha256[:2]
        / (f"{cube.payload.blob.sha256}.safetensors")
    )
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    fresh = ActivationMemory(kv_vault)  # nothing hot in RAM
    with pytest.raises(BlobIntegrityError):
        fresh.load(alice, cube.id)


def test_blob_of_another_cube_is_a_typed_error(
    chat: ChatMemOS, kv_vault: MemVault, cube: MemCube, alice: Principal
) -> None:
    other = compile_prefix(chat.lm, "Evan's car is blue.")
    tensors, meta = other.to_safetensors()
    ref = kv_vault.put_blob(alice, save_tensors(tensors, metadata=meta))
    lying = cube.payload.model_copy(update={"blob": ref})  # header of BLOCK, blob of another
    liar = kv_vault.put(alice, MemCube(namespace=("alice", "liar"), payload=lying))[0]
    with pytest.raises(ActivationFormatError, match="does not match its cube header"):
        ActivationMemory(kv_vault).load(alice, liar.id)


def test_block_longer_than_the_context_is_refused(lm: LocalLM) -> None:
    with pytest.raises(InvalidInputError, match="context"):
        compile_prefix(lm, "word " * 9000)
    with pytest.raises(InvalidInputError):
        render_prefix(lm.tokenizer, "   ")


def test_cache_is_not_used_with_an_adapter_active(
    chat: ChatMemOS, cube: MemCube, kv_vault: MemVault, alice: Principal, expected: dict[str, str]
) -> None:
    from memos_lc.parametric import AdapterTrainingConfig, consolidate_to_adapter

    q = QUESTIONS[0]
    base = expected[q]  # the base model's answer, before any adapter
    fact = kv_vault.add(alice, "Zoe's favourite colour is teal.", namespace=("alice", "facts"))
    quick = AdapterTrainingConfig(steps=1, batch_size=1, pairs_per_sequence=2)
    lora = consolidate_to_adapter(kv_vault, alice, [fact], lm=chat.lm, config=quick,
                                  progress=False)  # fmt: skip
    msgs = [SystemMessage(BLOCK), HumanMessage(q)]
    adapted = chat.invoke(msgs, adapter=lora.id, principal=alice)
    name = adapted.response_metadata["memory"]["adapter"]
    assert name.startswith("memos_")
    # the cache was compiled for the base model: with the adapter on it must not be used
    with pytest.warns(ActivationFallbackWarning, match="adapter"):
        both = chat.invoke(q, activation=cube.id, adapter=lora.id, principal=alice)
    assert both.text == adapted.text
    assert both.response_metadata["memory"]["activation_used"] is False
    # and the base model is untouched once the adapter is switched off again
    assert plain(chat, q) == base
    with warnings.catch_warnings():
        warnings.simplefilter("error", ActivationFallbackWarning)
        assert chat.invoke(q, activation=cube.id, principal=alice).text == base
