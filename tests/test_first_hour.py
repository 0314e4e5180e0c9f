"""What a new user meets in the first hour (#19): token counting that loads nothing it was
not asked for, principals given as plain strings, the store and saver opened alike, the
async twins of the vault, and what ``memory_type`` accepts."""

from __future__ import annotations

import inspect
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from safetensors.numpy import save as safetensors_bytes

from memos_lc import MemVault, Principal
from memos_lc.cube import MemCube
from memos_lc.errors import InvalidInputError
from memos_lc.governance import Grant
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


# -- #19 item 8: a principal may be given as its id ---------------------------------------------

BEES = "bees"
ALICE = Principal("alice")
BLOB = safetensors_bytes({"k": np.zeros((2, 4), dtype=np.float32)})


def _seeded(path: Path, embeddings) -> MemVault:
    """A vault holding alice's cube ``bees`` in two versions, and a grant to bob."""
    vault = MemVault.open(path, embeddings=embeddings)
    vault.put(ALICE, MemCube.from_text("Alice keeps bees", NS, id=BEES))
    vault.update(ALICE, BEES, text="Alice keeps bees on the roof")
    vault.grant(ALICE, NS, "bob")
    return vault


def _chain(cube_id: str) -> list[MemCube]:
    return [MemCube.from_text(f"v{n}", NS, id=cube_id, version=n) for n in (1, 2)]


def _cube(c: MemCube) -> tuple:
    """What a call made of a cube, without the times it was made at."""
    return (c.id, c.version, c.text, c.status.value, c.access.owner, c.namespace)


def _grant(g: Grant) -> tuple:
    return (g.grantor, g.grantee, g.namespace, g.permission.value)


def _revoked(v: MemVault, who: Principal | str) -> list[tuple]:
    v.revoke(who, v.grant(ALICE, ("memories", "alice", "x"), "carol").id)
    return sorted(_grant(g) for g in v.grants(ALICE))


def _swept(v: MemVault, who: Principal | str) -> list[str]:
    v.refresh_expiry(ALICE, {BEES: datetime.now(UTC) + timedelta(milliseconds=1)})
    time.sleep(0.01)
    return v.sweep_expired(principal=who)


def _audited_block(v: MemVault, who: Principal | str) -> object:
    with v.audited(who, "import") as touched:
        touched.append(BEES)
    return [(e.principal, e.action, e.cube_ids) for e in v.audit_log(ALICE, action="import")]


# Every public MemVault method that takes a principal, called as alice: the outcome, free of
# ids and times a run makes up.
VAULT_CALLS: dict[str, Callable[[MemVault, Principal | str], object]] = {
    "put": lambda v, who: [_cube(c) for c in v.put(who, MemCube.from_text("x", NS, id="p"))],
    "put_history": lambda v, who: [_cube(c) for c in v.put_history(who, _chain("h"))],
    "add": lambda v, who: _cube(v.add(who, "Alice swims", namespace=NS, id="a")),
    "update": lambda v, who: _cube(v.update(who, BEES, text="Alice sold her bees")),
    "delete": lambda v, who: _cube(v.delete(who, BEES, reason="gone")),
    "rollback": lambda v, who: _cube(v.rollback(who, BEES, 1)),
    "purge": lambda v, who: (v.purge(who, BEES), v.count(ALICE, namespace=NS)),
    "purge_many": lambda v, who: (v.purge_many(who, [BEES]), v.count(ALICE, namespace=NS)),
    "record_use": lambda v, who: (v.record_use(who, [BEES]), v.get(ALICE, BEES).usage.hits),
    "refresh_expiry": lambda v, who: v.refresh_expiry(
        who, {BEES: datetime.now(UTC) + timedelta(days=1)}
    ),
    "sweep_expired": _swept,
    "get": lambda v, who: _cube(v.get(who, BEES)),
    "history": lambda v, who: [_cube(c) for c in v.history(who, BEES)],
    "vectors": lambda v, who: v.vectors(who, [BEES]),
    "search": lambda v, who: [_cube(h.cube) for h in v.search(who, "bees", namespace=NS)],
    "list": lambda v, who: [_cube(c) for c in v.list(who, namespace=NS)],
    "count": lambda v, who: v.count(who, namespace=NS),
    "find": lambda v, who: [_cube(c) for c in v.find(who, cube_ids=[BEES])],
    "grant": lambda v, who: _grant(v.grant(who, NS, "carol")),
    "grants": lambda v, who: sorted(_grant(g) for g in v.grants(who)),
    "revoke": _revoked,
    "audit_log": lambda v, who: [(e.principal, e.action) for e in v.audit_log(who, action="put")],
    "put_blob": lambda v, who: v.put_blob(who, BLOB),
    "waiting": lambda v, who: v.waiting(who, [BEES]),
    "audited": _audited_block,
}


def _public_methods() -> dict[str, Callable]:
    return {
        name: member
        for name, member in vars(MemVault).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_every_vault_call_that_takes_a_principal_is_in_the_table() -> None:
    takes_one = {
        name
        for name, method in _public_methods().items()
        if not inspect.iscoroutinefunction(method)  # the async twins are tested below
        and "principal" in inspect.signature(method).parameters
    }
    assert takes_one == set(VAULT_CALLS)


@pytest.mark.parametrize("method", sorted(VAULT_CALLS))
def test_a_vault_call_takes_the_principal_as_its_id(method: str, tmp_path, embeddings) -> None:
    call = VAULT_CALLS[method]
    outcomes = []
    for who in (ALICE, "alice"):
        with _seeded(tmp_path / type(who).__name__, embeddings) as vault:
            outcomes.append(call(vault, who))
    assert outcomes[0] == outcomes[1]


async def test_async_twins_take_the_principal_as_its_id(tmp_path, embeddings) -> None:
    with _seeded(tmp_path / "v", embeddings) as vault:
        assert [_grant(g) for g in await vault.agrants("alice")] == [
            _grant(g) for g in vault.grants(ALICE)
        ]
        assert (await vault.aget("alice", BEES)).version == 2
        assert await vault.aput_blob("alice", BLOB) == vault.put_blob(ALICE, BLOB)
        assert await vault.awaiting("alice", [BEES]) == set()
        await vault.aflush()


def test_every_public_vault_method_has_an_async_twin() -> None:
    methods = _public_methods()  # MemVault.open, a classmethod, opens: no twin
    # audited() is a context manager around the caller's own calls: those have the twins
    methods.pop("audited")
    blocking = {n for n, m in methods.items() if not inspect.iscoroutinefunction(m)}
    assert {n for n in blocking if f"a{n}" not in methods} == set()
    assert all(inspect.iscoroutinefunction(methods[f"a{n}"]) for n in blocking)


@pytest.mark.parametrize("bad", [42, None, b"alice", ["alice"], {"id": "alice"}])
def test_a_principal_that_is_neither_an_id_nor_a_principal_is_refused(
    vault: MemVault, bad: object
) -> None:
    with pytest.raises(InvalidInputError, match="principal must be"):
        vault.add(bad, "x", namespace=NS)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="principal must be"):
        vault.grants(bad)  # type: ignore[arg-type]
    assert vault.count(ALICE, filter={"statuses": None}) == 0  # nothing was written


def test_an_empty_id_is_refused(vault: MemVault) -> None:
    with pytest.raises(InvalidInputError, match="invalid principal id"):
        vault.list("")


async def test_consolidate_and_bundles_take_the_principal_as_its_id(tmp_path, embeddings) -> None:
    from memos_lc.bundles import export_bundle, import_bundle
    from memos_lc.lifecycle import aconsolidate, consolidate

    with _seeded(tmp_path / "v", embeddings) as vault:
        vault.add(ALICE, "Alice keeps bees on the roof", namespace=NS)  # a duplicate
        assert consolidate(vault, "alice", NS).principal == "alice"
        assert (await aconsolidate(vault, "alice", NS)).principal == "alice"
        manifest = export_bundle(vault, "alice", tmp_path / "b.memos", namespace=NS)
        assert manifest.creator == "alice" and manifest.cube_count >= 1
    with MemVault.open(tmp_path / "w", embeddings=embeddings) as other:
        report = import_bundle(other, "bob", tmp_path / "b.memos")
        assert report.imported and other.get("bob", report.imported[0]).access.owner == "bob"
        with pytest.raises(InvalidInputError, match="principal must be"):
            import_bundle(other, 7, tmp_path / "b.memos")  # type: ignore[arg-type]


# -- #19 item 8: the store and the saver open alike ---------------------------------------------


@pytest.fixture(params=["store", "saver"])
def opener(request: pytest.FixtureRequest) -> Callable[..., object]:
    from memos_lc.checkpoint import MemCubeSaver
    from memos_lc.store import MemCubeStore

    return {"store": MemCubeStore, "saver": MemCubeSaver}[request.param].from_path


def test_from_path_as_a_context_manager(opener, tmp_path: Path) -> None:
    path = tmp_path / "v"
    with opener(path, principal="alice") as opened:
        opened.vault.add(ALICE, "Alice keeps bees", namespace=NS)
        assert opened.principal == ALICE
    with MemVault.open(path) as reopened:  # closed on exit: this open opens it afresh
        assert reopened is not opened.vault and reopened.count(ALICE) == 1


def test_from_path_as_a_plain_call(opener, tmp_path: Path) -> None:
    path = tmp_path / "v"
    opened = opener(path, principal="alice")
    opened.vault.add(ALICE, "Alice keeps bees", namespace=NS)
    with MemVault.open(path) as again:  # the same vault, shared in this process
        assert again is opened.vault
    assert opened.vault.count(ALICE) == 1  # closing the second open left it open
    opened.close()
    opened.close()  # closing twice is harmless
    with MemVault.open(path) as reopened:
        assert reopened is not opened.vault and reopened.count(ALICE) == 1


async def test_from_path_as_an_async_context_manager(opener, tmp_path: Path) -> None:
    async with opener(tmp_path / "v", principal="alice") as opened:
        await opened.vault.aadd("alice", "Alice keeps bees", namespace=NS)
    with MemVault.open(tmp_path / "v") as reopened:
        assert reopened is not opened.vault and reopened.count(ALICE) == 1


def test_a_store_and_a_saver_closed_in_any_order_leave_each_other_open(tmp_path: Path) -> None:
    from memos_lc.checkpoint import MemCubeSaver
    from memos_lc.store import MemCubeStore

    store = MemCubeStore.from_path(tmp_path / "v", principal="alice")
    with MemCubeSaver.from_path(tmp_path / "v", principal="alice") as saver:
        store.close()
        store.close()  # a second close must not close the saver's (shared) vault
        saver.vault.add(ALICE, "still open", namespace=NS)
    assert saver.vault is store.vault


# -- #19 item 8: memory types are free-form identifiers -----------------------------------------


def test_memory_type_is_free_form_and_a_bad_one_is_a_typed_error(vault: MemVault) -> None:
    from memos_lc.cube import MemoryType
    from memos_lc.errors import InvalidCubeError

    own = vault.add("alice", "Sourdough: 500 g flour", namespace=NS, memory_type="recipe")
    assert own.memory_type == "recipe"
    assert [c.id for c in vault.list("alice", filter={"memory_types": ("recipe",)})] == [own.id]
    assert vault.add("alice", "x", namespace=NS).memory_type == MemoryType.LONG_TERM
    for bad in ("Recipe", "two words", "", "x" * 65, 7):
        with pytest.raises(InvalidCubeError, match="memory_type"):
            vault.add("alice", "x", namespace=NS, memory_type=bad)
    assert vault.count("alice", namespace=NS) == 2


def test_chat_model_and_retriever_take_the_principal_as_its_id(vault: MemVault) -> None:
    from pydantic import ValidationError

    from memos_lc.chat_models import ChatMemOS
    from memos_lc.retrievers import MemCubeRetriever

    vault.add("alice", "Alice keeps bees", namespace=NS)
    retriever = MemCubeRetriever(vault=vault, principal="alice")
    assert retriever.principal == ALICE
    assert [d.page_content for d in retriever.invoke("bees")] == ["Alice keeps bees"]
    assert ChatMemOS(vault=vault, principal="alice").principal == ALICE
    for bad in (7, ""):
        with pytest.raises(ValidationError, match="principal"):
            ChatMemOS(principal=bad)
