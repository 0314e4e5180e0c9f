"""Nobody's memories by default: a caller that names no principal gets an error, never the
memories of whoever else forgot to name one (the OS-user default is the CLI's alone)."""

from __future__ import annotations

import getpass
from typing import TypedDict

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store.base import BaseStore

from memos_lc import (
    MemCubeChatMessageHistory,
    MemCubeRetriever,
    MemCubeSaver,
    MemCubeStore,
    MemVault,
    Principal,
)
from memos_lc.errors import InvalidInputError, PermissionDeniedError, PrincipalRequiredError
from memos_lc.governance import ENV_PRINCIPAL, os_user_principal
from memos_lc.nodes import MemoryNodes, with_memory


class State(TypedDict):
    x: str


def _store_graph(store: MemCubeStore):
    def node(state: State, *, store: BaseStore) -> dict:
        store.put(("notes",), "n", {"text": state["x"]})
        return {"x": str([i.value["text"] for i in store.search(("notes",))])}

    return StateGraph(State).add_node("n", node).add_edge(START, "n").compile(store=store)


@pytest.fixture(autouse=True)
def _no_configured_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_PRINCIPAL, raising=False)


def test_two_callers_without_a_user_id_share_nothing(plain_vault: MemVault) -> None:
    graph = _store_graph(MemCubeStore(plain_vault))
    with pytest.raises(PrincipalRequiredError, match="user_id"):
        graph.invoke({"x": "My PIN is 4321"}, {"configurable": {}})
    with pytest.raises(PrincipalRequiredError):
        graph.invoke({"x": "what is my PIN?"})
    admin = Principal(id="root", roles=("admin",))
    assert plain_vault.list(admin) == []
    # named, it works, and each user sees their own
    assert graph.invoke({"x": "a"}, {"configurable": {"user_id": "alice"}})["x"] == "['a']"
    assert graph.invoke({"x": "b"}, {"configurable": {"user_id": "bob"}})["x"] == "['b']"


def test_a_default_configured_on_purpose_is_used(
    plain_vault: MemVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = _store_graph(MemCubeStore(plain_vault, principal="app"))
    assert graph.invoke({"x": "a"})["x"] == "['a']"
    monkeypatch.setenv(ENV_PRINCIPAL, "service")
    graph = _store_graph(MemCubeStore(plain_vault))
    assert graph.invoke({"x": "b"})["x"] == "['b']"  # another principal's namespace
    assert [c.access.owner for c in plain_vault.list(Principal(id="service"))] == ["service"]


def test_store_calls_outside_a_run_need_a_principal(plain_vault: MemVault) -> None:
    store = MemCubeStore(plain_vault)
    with pytest.raises(PrincipalRequiredError):
        store.put(("alice", "prefs"), "k", {"text": "tea"})
    with pytest.raises(PrincipalRequiredError):
        store.search(("alice",))
    MemCubeStore(plain_vault, principal="alice").put(("alice", "prefs"), "k", {"text": "tea"})


def test_the_saver_needs_a_principal_and_never_no_ops(plain_vault: MemVault) -> None:
    saver = MemCubeSaver(plain_vault)
    config = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
    with pytest.raises(PrincipalRequiredError):
        saver.put(config, empty_checkpoint(), {}, {})
    with pytest.raises(PrincipalRequiredError):
        saver.get_tuple(config)
    alice = {"configurable": {"thread_id": "t-1", "checkpoint_ns": "", "user_id": "alice"}}
    saver.put(alice, empty_checkpoint(), {}, {})
    put_again = saver.put(alice, empty_checkpoint(), {}, {})
    for thread_level in (
        lambda: saver.prune(["t-1"]),
        lambda: saver.delete_thread("t-1"),
        lambda: saver.delete_for_runs(["r"]),
        lambda: saver.copy_thread("t-1", "t-2"),
    ):
        with pytest.raises(PrincipalRequiredError):
            thread_level()
    saver.with_principal("alice").prune(["t-1"])
    assert len(list(saver.list(alice))) == 1
    assert (
        saver.get_tuple(alice).config["configurable"]["checkpoint_id"]
        == (put_again["configurable"]["checkpoint_id"])
    )


def test_retriever_history_and_nodes_need_a_principal(plain_vault: MemVault) -> None:
    with pytest.raises(PrincipalRequiredError):
        MemCubeRetriever(vault=plain_vault, record_use=False).invoke("PIN")
    with pytest.raises(PrincipalRequiredError):
        MemCubeChatMessageHistory(plain_vault, "s-1")

    def agent(state: MessagesState) -> dict:
        return {"messages": [AIMessage("ok")]}

    graph = with_memory(agent, MemoryNodes(plain_vault, budget_tokens=64))
    with pytest.raises(PrincipalRequiredError):
        graph.invoke({"messages": [("user", "My PIN is 4321")]})


def test_the_cli_default_is_the_os_user() -> None:
    assert os_user_principal() == Principal(id=getpass.getuser())


def test_a_namespace_templated_for_another_user_is_refused(plain_vault: MemVault) -> None:
    store = MemCubeStore(plain_vault, owner_namespace=("users", "{user_id}"))

    def node(state: State, *, store: BaseStore) -> dict:
        store.put(tuple(state["x"].split("/")), "k", {"text": "mine"})
        return {"x": "ok"}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile(store=store)
    alice = {"configurable": {"user_id": "alice"}}
    assert graph.invoke({"x": "users/alice/prefs"}, alice)["x"] == "ok"
    assert graph.invoke({"x": "notes/shared"}, alice)["x"] == "ok"  # not templated
    with pytest.raises(PermissionDeniedError, match="belongs to 'bob'"):
        graph.invoke({"x": "users/bob/prefs"}, alice)
    admin = Principal(id="root", roles=("admin",))
    assert sorted(c.namespace for c in plain_vault.list(admin)) == [
        ("notes", "shared"),
        ("users", "alice", "prefs"),
    ]
    with pytest.raises(InvalidInputError):
        MemCubeStore(plain_vault, owner_namespace=("users",))
