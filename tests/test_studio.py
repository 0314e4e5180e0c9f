"""End to end: `langgraph dev` serves our graph with MemCubeStore and MemCubeSaver (wired in
langgraph.json), driven by langgraph-sdk; the data lands in the vault directory.

The server runs in a scratch project dir that links the repo's langgraph.json and graphs/, so
the dev server's own state (`.langgraph_api/`: its thread and run list) stays out of the repo."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memos_lc import CubeFilter, MemVault, Principal
from memos_lc.errors import PermissionDeniedError

REPO = Path(__file__).resolve().parent.parent
LANGGRAPH = Path(sys.executable).parent / "langgraph"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Callable[[], None]]]:
    """A `langgraph dev` server on a free loopback port with its vault in tmp_path:
    (url, vault dir, stop). It is always stopped, by the test or at teardown."""
    vault_dir = tmp_path / "vault"
    log = tmp_path / "server.log"  # outside the repo: the dev server watches its folder
    project = tmp_path / "project"
    project.mkdir()
    (project / "langgraph.json").symlink_to(REPO / "langgraph.json")
    (project / "graphs").symlink_to(REPO / "graphs", target_is_directory=True)
    env = {
        **os.environ,
        "MEMOS_LC_VAULT": str(vault_dir),
        "MEMOS_LC_PRINCIPAL": "studio",
        "MEMOS_LC_STUDIO_ROLES": "admin",  # the store API's operator sees every user's items
        "HF_HUB_OFFLINE": "1",
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    }
    port = _free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(LANGGRAPH),
                "dev",
                "--no-browser",
                "--no-reload",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop() -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ok", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("langgraph dev did not come up:\n" + log.read_text()[-3000:])
            time.sleep(0.5)
        yield url, vault_dir, stop
    finally:
        stop()


def test_langgraph_dev_serves_our_store_and_checkpointer(server) -> None:
    from langgraph_sdk import get_sync_client

    url, vault_dir, stop = server
    client = get_sync_client(url=url)
    # the MemOS graphs are served too: the memory chat agent and consolidation
    assistants = {a["graph_id"]: a["assistant_id"] for a in client.assistants.search(limit=50)}
    assert {"memory_chat", "consolidation", "memory_notes"} <= assistants.keys()
    for assistant_id in assistants.values():  # Studio's run form asks who the run acts for
        context = client.assistants.get_schemas(assistant_id)["context_schema"]
        assert "user_id" in context["properties"]
    report = client.runs.wait(
        None, "consolidation", input={}, config={"configurable": {"user_id": "alice"}}
    )["report"]
    assert report["principal"] == "alice" and report["merged"] == []

    thread = client.threads.create()
    out = client.runs.wait(
        thread["thread_id"],
        "memory_notes",
        input={"messages": [{"role": "user", "content": "My dog is called Pixel"}]},
    )
    assert out["messages"][-1]["content"] == "Notes I recall:\n- My dog is called Pixel"

    # a run naming nobody acts as $MEMOS_LC_PRINCIPAL (set for this server: "studio")
    client.store.put_item(["notes", "studio"], key="beach", value={"text": "Pixel loves the sea"})
    found = client.store.search_items(["notes", "studio"], query="swimming in the sea")
    assert found["items"][0]["key"] == "beach"
    assert found["items"][0]["score"] is not None

    state = client.threads.get_state(thread["thread_id"])
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]

    # a run as alice: her notes are hers, the thread's state still reads back in Studio
    # (the server reads state without a user id), and deleting the thread deletes it
    alice_thread = client.threads.create()["thread_id"]
    out = client.runs.wait(
        alice_thread,
        "memory_notes",
        input={"messages": [{"role": "user", "content": "I take my tea with lemon"}]},
        context={"user_id": "alice"},  # what Studio's form sends
    )
    assert out["messages"][-1]["content"] == "Notes I recall:\n- I take my tea with lemon"
    # the operator (no auth configured, MEMOS_LC_STUDIO_ROLES=admin) sees what alice's run wrote
    found = client.store.search_items(["notes", "alice"])["items"]
    assert [i["value"] for i in found] == [{"text": "I take my tea with lemon"}]
    state = client.threads.get_state(alice_thread)
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]
    assert len(client.threads.get_history(alice_thread)) >= 2
    client.threads.delete(alice_thread)

    stop()  # the server holds the vault's lock; then read what it wrote
    with MemVault.open(vault_dir) as vault:
        studio, alice = Principal(id="studio"), Principal(id="alice")
        notes = vault.list(studio, namespace=("notes", "studio"))
        assert sorted(c.payload.data["text"] for c in notes) == [
            "My dog is called Pixel",
            "Pixel loves the sea",
        ]
        assert [c.payload.data["text"] for c in vault.list(alice, namespace=("notes",))] == [
            "I take my tea with lemon"
        ]
        checkpoints = CubeFilter(memory_types=("checkpoint",))
        ns = ("langgraph", "checkpoints")
        assert vault.count(studio, namespace=(*ns, thread["thread_id"]), filter=checkpoints) >= 2
        assert vault.count(studio, namespace=(*ns, alice_thread), filter=checkpoints) == 0
        assert vault.count(alice, filter=checkpoints) == 0  # checkpoints are the server's
        # governed like any memory: another principal sees none of it
        assert vault.count(Principal(id="mallory")) == 0


@pytest.fixture
def in_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment `langgraph dev` gives its process (langgraph_api reads it at import),
    and the studio module's: an in-memory vault, the server principal 'studio'."""
    for name, value in {
        "MIGRATIONS_PATH": "__inmem",
        "DATABASE_URI": ":memory:",
        "REDIS_URI": "fake",
        "MEMOS_LC_VAULT": ":memory:",
        "MEMOS_LC_PRINCIPAL": "studio",
    }.items():
        monkeypatch.setenv(name, value)


async def test_store_api_acts_as_the_requests_user(
    in_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store endpoints call the store inside the request's auth context (langgraph_api's
    ApiRoute): an authenticated user acts as itself, a request without auth or from a Studio
    user as the operator."""
    from langgraph_api.auth.custom import SimpleUser
    from langgraph_api.auth.noop import UnauthenticatedUser
    from langgraph_api.auth.studio_user import StudioUser
    from langgraph_api.utils import with_user
    from starlette.authentication import UnauthenticatedUser as AnonymousUser

    from memos_lc import studio

    async def request(user: Any, call: Callable[[], Awaitable[Any]]) -> Any:
        async def handle() -> Any:
            async with with_user(user, ["authenticated"]):
                return await call()

        return await asyncio.create_task(handle())  # a task per request, as in the server

    def texts(items: list[Any]) -> list[str]:
        return sorted(i.value["text"] for i in items)

    monkeypatch.setenv(studio.ENV_STUDIO_ROLES, "admin")
    async with studio.store() as store:
        assert store.principal == Principal("studio")  # a run naming nobody: no roles
        alice, bob = SimpleUser("alice"), SimpleUser("bob")
        await request(alice, lambda: store.aput(("notes", "alice"), "a", {"text": "alice's"}))
        await request(bob, lambda: store.aput(("notes", "bob"), "b", {"text": "bob's"}))
        assert texts(await request(alice, lambda: store.asearch(("notes",)))) == ["alice's"]
        assert texts(await request(bob, lambda: store.asearch(("notes",)))) == ["bob's"]
        assert await request(bob, lambda: store.aget(("notes", "alice"), "a")) is None
        for operator in (UnauthenticatedUser(), StudioUser("dev", is_authenticated=True)):
            found = await request(operator, lambda: store.asearch(("notes",)))
            assert texts(found) == ["alice's", "bob's"]
        with pytest.raises(PermissionDeniedError):  # an app's auth let an anonymous one in
            await request(AnonymousUser(), lambda: store.asearch(("notes",)))
        # no request user: the operator on a server without auth; on one with auth (graph
        # code's in-process client bypasses it) the server's principal, without the roles
        assert texts(await store.asearch(("notes",))) == ["alice's", "bob's"]
        import langgraph_api.config as server_config

        monkeypatch.setattr(server_config, "LANGGRAPH_AUTH", {"path": "auth.py:auth"})
        assert await store.asearch(("notes",)) == []


async def test_a_run_that_names_nobody_is_refused(
    in_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the server, as everywhere in a graph run, no user id and no $MEMOS_LC_PRINCIPAL is
    an error, not the OS user's memories."""
    from langgraph.config import get_store
    from langgraph.graph import START, MessagesState, StateGraph

    from memos_lc import studio
    from memos_lc.errors import PrincipalRequiredError

    def note(state: MessagesState) -> dict[str, Any]:
        get_store().put(("notes",), "n", {"text": state["messages"][-1].content})
        return {}

    monkeypatch.delenv("MEMOS_LC_PRINCIPAL")
    async with studio.store() as store:
        graph = StateGraph(MessagesState).add_node(note).add_edge(START, "note")
        graph = graph.compile(store=store)
        with pytest.raises(PrincipalRequiredError):
            await graph.ainvoke({"messages": [("user", "whose note is this?")]})
        await graph.ainvoke(
            {"messages": [("user", "mine")]}, {"configurable": {"user_id": "alice"}}
        )
        assert await store.vault.acount("alice", namespace=("notes",)) == 1


def test_operator_roles_are_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    from memos_lc.studio import ENV_STUDIO_ROLES, operator_principal

    monkeypatch.setenv("MEMOS_LC_PRINCIPAL", "studio")
    monkeypatch.delenv(ENV_STUDIO_ROLES, raising=False)
    assert operator_principal() == Principal("studio")
    monkeypatch.setenv(ENV_STUDIO_ROLES, " admin, auditor ,")
    assert operator_principal().roles == {"admin", "auditor"}


def test_memory_chat_turn_shows_placement_and_first_token(tmp_path: Path) -> None:
    """graphs/memory_chat.py in-process over a MemCubeStore: a turn's state (what Studio
    shows) carries what the scheduler placed where and why, and the agent node's trace."""
    import importlib.util

    from memos_lc.store import MemCubeStore

    spec = importlib.util.spec_from_file_location("memory_chat", REPO / "graphs/memory_chat.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {"memory_plan", "memory_trace"} <= module.graph.get_output_jsonschema()[
        "properties"
    ].keys()
    with MemVault.open(tmp_path / "vault") as vault:
        alice = Principal(id="alice")
        memory = vault.add(alice, "My sister is called Ondine.", namespace=("memories", "alice"))
        graph = module.graph.copy(update={"store": MemCubeStore(vault)})
        out = graph.invoke(
            {"messages": [("user", "What is my sister called?")]}, context={"user_id": "alice"}
        )
    placed = {i["cube_id"]: i for i in out["memory_plan"]["items"]}
    assert placed[memory.id]["placement"] == "plaintext"  # nothing compiled yet
    assert placed[memory.id]["components"]["relevance"] > 0
    trace = out["memory_trace"]
    assert trace["ttft_ms"] > 0 and trace["activation_used"] is False and trace["output_tokens"]


async def test_the_answering_model_goes_with_the_servers_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One answering model per vault while the server holds it; a closed vault's model is
    dropped with it (kept, it would hold the closed vault alive), and the next server start
    answers over the vault it opens."""
    import gc
    import weakref

    from memos_lc import studio
    from memos_lc.vault.memvault import ENV_VAULT

    monkeypatch.setenv(ENV_VAULT, str(tmp_path / "vault"))
    monkeypatch.setenv("MEMOS_LC_PRINCIPAL", "studio")
    async with studio.store() as store:
        first = studio.answering_model(store.vault)
        assert studio.answering_model(store.vault) is first
        closed = weakref.ref(store.vault)
    del store, first
    gc.collect()
    assert closed() is None
    async with studio.store() as store:
        again = studio.answering_model(store.vault)
        assert again.vault is store.vault
