"""``memos-lc mcp``: the vault over MCP, driven by the SDK's own clients. The single-principal
(stdio) server in-process over the SDK's memory streams and once as a real ``memos-lc mcp``
subprocess on stdio; the HTTP app under uvicorn on a free loopback port with bearer tokens;
and a LangGraph agent whose tools come from ``langchain-mcp-adapters`` over that HTTP server.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult

from memos_lc import MemVault, Principal
from memos_lc.cli import main
from memos_lc.cube import MemCube
from memos_lc.governance import AuditEvent, audit_channel
from memos_lc.mcp import (
    HTTP_CHANNEL,
    STDIO_CHANNEL,
    TokenTable,
    bind,
    http_app,
    parse_tokens,
    single_principal_server,
    url_of,
)

CONSOLE_SCRIPT = Path(sys.executable).parent / "memos-lc"
ALICE_TOKEN = "alice-7Qm2xV9pLr4sT8wZ"
BOB_TOKEN = "bob-Hn3kD6fJ1cR5yU0e"
ADMIN_TOKEN = "ops-Zt4gB8nW2qX7mK1v"
TOKENS = {
    ALICE_TOKEN: Principal("alice"),
    BOB_TOKEN: Principal("bob"),
    ADMIN_TOKEN: Principal("ops", roles=frozenset({"admin"})),
}
TOOLS = {
    "add_memory",
    "search_memory",
    "get_memory",
    "update_memory",
    "forget_memory",
    "get_memory_history",
    "rollback_memory",
    "list_memories",
    "consolidate_memories",
}
ADMIN = Principal("root", roles=frozenset({"admin"}))


@pytest.fixture
def vault(tmp_path: Path, embeddings) -> Iterator[MemVault]:
    v = MemVault.open(tmp_path / "vault", embeddings=embeddings)
    yield v
    v.close()


@contextlib.asynccontextmanager
async def as_principal(vault: MemVault, who: str) -> AsyncIterator[ClientSession]:
    """A client of the stdio server acting as ``who``, connected in-process."""
    server = single_principal_server(vault, Principal(who))
    async with create_connected_server_and_client_session(server) as session:
        yield session


@contextlib.contextmanager
def http_server(vault: MemVault) -> Iterator[str]:
    """The HTTP app under uvicorn in a thread, on a free loopback port; yields its URL."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(http_app(vault, TOKENS), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            threading.Event().wait(0.02)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.asynccontextmanager
async def over_http(url: str, token: str) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    """The tool's structured result; fails the test on a tool error."""
    result = await session.call_tool(tool, args)
    assert not result.isError, result.content
    assert result.structuredContent is not None
    return result.structuredContent


async def refused(session: ClientSession, tool: str, **args: Any) -> str:
    """The error text of a tool call that must fail."""
    result: CallToolResult = await session.call_tool(tool, args)
    assert result.isError, result.structuredContent
    return result.content[0].text


def events(vault: MemVault, who: str) -> list[AuditEvent]:
    return vault.audit_log(ADMIN, who=who, limit=1000)


# -- the single-principal server, in-process ---------------------------------------------------


async def test_tools_and_resources_are_listed_with_typed_schemas(vault: MemVault) -> None:
    async with as_principal(vault, "alice") as s:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        templates = {t.uriTemplate for t in (await s.list_resource_templates()).resourceTemplates}
    assert set(tools) == TOOLS
    assert all(t.description and t.outputSchema for t in tools.values())
    add = tools["add_memory"].inputSchema
    assert add["required"] == ["text"]
    assert add["properties"]["text"]["minLength"] == 1
    assert add["properties"]["priority"]["anyOf"][0]["maximum"] == 1.0
    assert tools["search_memory"].annotations.readOnlyHint is True
    assert tools["add_memory"].annotations.readOnlyHint is False
    assert templates == {"memos://memories/{cube_id}", "memos://memories/{cube_id}/history"}


async def test_add_search_update_history_and_resources(vault: MemVault) -> None:
    async with as_principal(vault, "alice") as s:
        added = await call(
            s, "add_memory", text="Alice is allergic to peanuts", namespace="alice/health"
        )
        await call(s, "add_memory", text="Alice's standup is at 9:30", namespace="alice/work")
        assert added["version"] == 1 and added["namespace"] == "alice/health"

        found = await call(s, "search_memory", query="what can't she eat?", limit=1)
        assert [h["id"] for h in found["hits"]] == [added["id"]]
        assert found["memory_block"] is None

        new = await call(
            s, "update_memory", id=added["id"], text="Alice is allergic to peanuts and shellfish"
        )
        assert new["version"] == 2
        history = await call(s, "get_memory_history", id=added["id"])
        assert [(m["version"], m["text"]) for m in history["memories"]] == [
            (1, "Alice is allergic to peanuts"),
            (2, "Alice is allergic to peanuts and shellfish"),
        ]
        old = await call(s, "get_memory", id=added["id"], version=1)
        assert old["text"] == "Alice is allergic to peanuts"

        planned = await call(s, "search_memory", query="what food is Alice allergic to?", plan=True)
        assert "peanuts and shellfish" in planned["memory_block"]
        assert 0 < planned["block_tokens"] <= 1024

        doc = await s.read_resource(f"memos://memories/{added['id']}")
        assert json.loads(doc.contents[0].text)["version"] == 2
        versions = await s.read_resource(f"memos://memories/{added['id']}/history")
        assert [v["version"] for v in json.loads(versions.contents[0].text)] == [1, 2]

        gone = await call(s, "forget_memory", id=added["id"], reason="asked to")
        assert gone["status"] == "deleted"
        listed = await call(s, "list_memories")
        assert [m["namespace"] for m in listed["memories"]] == ["alice/work"]
        back = await call(s, "rollback_memory", id=added["id"], version=2)
        assert back["status"] == "active" and back["version"] == 4

    # the vault's audit names the principal and the channel
    mine = events(vault, "alice")
    assert {e.action for e in mine} >= {"put", "search", "update", "history", "delete"}
    assert {e.channel for e in mine} == {STDIO_CHANNEL}


async def test_a_bad_argument_is_a_tool_error_and_changes_nothing(vault: MemVault) -> None:
    async with as_principal(vault, "alice") as s:
        cube = await call(s, "add_memory", text="Alice lives in Lyon", namespace="alice")
        before = await call(s, "list_memories", status="all")
        assert "less than or equal to 1" in await refused(
            s, "update_memory", id=cube["id"], priority=3
        )
        assert "InvalidNamespaceError" in await refused(
            s, "add_memory", text="x", namespace="alice//home"
        )
        assert "text must not be empty" in await refused(s, "add_memory", text="   ")
        assert "nothing to update" in await refused(s, "update_memory", id=cube["id"])
        assert "bad ttl" in await refused(s, "update_memory", id=cube["id"], ttl="soon")
        assert "VersionNotFoundError" in await refused(
            s, "rollback_memory", id=cube["id"], version=7
        )
        assert "ConflictError" in await refused(
            s, "update_memory", id=cube["id"], text="Paris", expected_version=5
        )
        after = await call(s, "list_memories", status="all")
        history = await call(s, "get_memory_history", id=cube["id"])
    assert after == before
    assert [m["version"] for m in history["memories"]] == [1]


async def test_another_principal_cannot_read_or_change_a_memory(vault: MemVault) -> None:
    async with as_principal(vault, "alice") as s:
        cube = await call(s, "add_memory", text="Alice's PIN is 4321", namespace="alice")
    async with as_principal(vault, "bob") as s:
        assert "CubeNotFoundError" in await refused(s, "get_memory", id=cube["id"])
        assert "CubeNotFoundError" in await refused(s, "get_memory_history", id=cube["id"])
        assert "CubeNotFoundError" in await refused(s, "update_memory", id=cube["id"], text="0")
        assert "CubeNotFoundError" in await refused(s, "forget_memory", id=cube["id"])
        assert (await call(s, "search_memory", query="Alice's PIN"))["hits"] == []
        assert (await call(s, "list_memories", status="all"))["memories"] == []
        with pytest.raises(Exception, match="CubeNotFoundError"):
            await s.read_resource(f"memos://memories/{cube['id']}")
    assert vault.get("alice", cube["id"]).version == 1
    denied = [e for e in events(vault, "bob") if e.outcome == "not_found"]
    assert len(denied) >= 4 and {e.channel for e in denied} == {STDIO_CHANNEL}


async def test_owner_says_whose_memory_an_id_names(vault: MemVault) -> None:
    # ids are scoped per owner: bob may hold a memory with the id of alice's
    async with as_principal(vault, "alice") as s:
        cube = await call(s, "add_memory", text="Alice likes jazz", namespace="alice")
    async with as_principal(vault, "bob") as s:
        assert "CubeNotFoundError" in await refused(s, "get_memory", id=cube["id"])
    vault.put("bob", MemCube.from_text("Bob likes opera", namespace=("bob",), id=cube["id"]))
    async with as_principal(vault, "bob") as s:  # his own now
        assert (await call(s, "get_memory", id=cube["id"]))["owner"] == "bob"
    async with as_principal(vault, "root") as s:
        assert "CubeNotFoundError" in await refused(s, "get_memory", id=cube["id"])
    admin = single_principal_server(vault, ADMIN)
    async with create_connected_server_and_client_session(admin) as s:
        assert "AmbiguousCubeError" in await refused(s, "get_memory", id=cube["id"])
        got = await call(s, "get_memory", id=cube["id"], owner="alice")
        assert (got["owner"], got["text"]) == ("alice", "Alice likes jazz")
        await call(s, "update_memory", id=cube["id"], owner="bob", text="Bob likes jazz too")
        history = await call(s, "get_memory_history", id=cube["id"], owner="bob")
        assert [m["text"] for m in history["memories"]] == ["Bob likes opera", "Bob likes jazz too"]
    assert vault.get("alice", cube["id"]).version == 1


def test_a_stored_event_keeps_its_own_channel() -> None:
    with audit_channel(HTTP_CHANNEL):
        made = AuditEvent(principal="alice", action="get")
        read_back = AuditEvent.model_validate_json(
            AuditEvent(principal="alice", action="get", channel=None).model_dump_json()
        )
    assert made.channel == HTTP_CHANNEL
    assert read_back.channel is None  # reading an event never stamps it with the reader's
    assert AuditEvent(principal="alice", action="get").channel is None


# -- the real stdio transport: `memos-lc mcp` as a host starts it ------------------------------


async def test_memos_lc_mcp_on_stdio_acts_as_its_principal(tmp_path: Path, embeddings) -> None:
    location = tmp_path / "vault"
    with MemVault.open(location, embeddings=embeddings) as v:
        secret = v.add("alice", "Alice's PIN is 4321", namespace=("alice",))
    env = {k: v for k, v in os.environ.items() if k != "MEMOS_LC_PRINCIPAL"}
    params = StdioServerParameters(
        command=str(CONSOLE_SCRIPT),
        args=["--vault", str(location), "--principal", "bob", "mcp"],
        env=dict(env, HF_HUB_OFFLINE="1"),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        assert {t.name for t in (await s.list_tools()).tools} == TOOLS
        assert "CubeNotFoundError" in await refused(s, "get_memory", id=secret.id)
        assert (await call(s, "list_memories", status="all"))["memories"] == []
    with MemVault.open(location, embeddings=embeddings) as v:
        bob = v.audit_log(ADMIN, who="bob")
    assert {(e.action, e.outcome, e.channel) for e in bob} == {
        ("get", "not_found", STDIO_CHANNEL),
        ("list", "ok", STDIO_CHANNEL),
    }


# -- streamable HTTP with bearer tokens --------------------------------------------------------


async def test_http_acts_as_each_tokens_principal(vault: MemVault) -> None:
    with http_server(vault) as url:
        async with httpx.AsyncClient() as http:
            ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            accept = {"Accept": "application/json, text/event-stream"}
            anonymous = await http.post(url, json=ping, headers=accept)
            wrong = await http.post(url, json=ping, headers=accept | {"Authorization": "Bearer x"})
        assert (anonymous.status_code, wrong.status_code) == (401, 401)

        async with over_http(url, ALICE_TOKEN) as s:
            cube = await call(s, "add_memory", text="Alice's PIN is 4321", namespace="alice")
            assert (await call(s, "search_memory", query="PIN"))["hits"][0]["id"] == cube["id"]
        async with over_http(url, BOB_TOKEN) as s:
            assert "CubeNotFoundError" in await refused(s, "get_memory", id=cube["id"])
            assert (await call(s, "search_memory", query="Alice's PIN"))["hits"] == []
            mine = await call(s, "add_memory", text="Bob's bike is blue")
            assert mine["namespace"] == "bob"  # the default namespace is the principal's id
        async with over_http(url, ADMIN_TOKEN) as s:  # a token's roles come with it
            assert (await call(s, "get_memory", id=cube["id"]))["text"] == "Alice's PIN is 4321"

    assert {(e.action, e.channel) for e in events(vault, "alice")} == {
        ("put", HTTP_CHANNEL),
        ("search", HTTP_CHANNEL),
    }
    bob = events(vault, "bob")
    assert ("get", "not_found", HTTP_CHANNEL) in {(e.action, e.outcome, e.channel) for e in bob}
    assert vault.get("alice", cube["id"]).version == 1


def test_token_table() -> None:
    table = parse_tokens(
        json.dumps({ALICE_TOKEN: "alice", ADMIN_TOKEN: {"principal": "ops", "roles": ["admin"]}}),
        "tokens.json",
    )
    verifier = TokenTable(table)
    assert verifier.principal_for(ALICE_TOKEN) == Principal("alice")
    assert verifier.principal_for(ADMIN_TOKEN).is_admin
    assert verifier.principal_for(ALICE_TOKEN[:-1]) is None
    assert verifier.principal_for("") is None
    for text, message in (
        ('{"short": "alice"}', "token #1 must be 16-512"),
        (json.dumps({ALICE_TOKEN: "role:admin"}), "token #1 must map to a principal"),
        (json.dumps({ALICE_TOKEN: {"principal": "a", "admin": True}}), "must map"),
        ("{}", "JSON object of token -> principal"),
        ("alice", "not JSON"),
    ):
        with pytest.raises(ValueError, match=message) as e:
            parse_tokens(text, "tokens.json")
        assert ALICE_TOKEN not in str(e.value)  # an error never repeats a secret


def test_cli_refuses_to_start_without_a_principal_or_safe_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MEMOS_LC_PRINCIPAL", raising=False)
    monkeypatch.delenv("MEMOS_LC_MCP_TOKENS", raising=False)
    location = tmp_path / "vault"
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({ALICE_TOKEN: "alice"}))
    tokens.chmod(0o600)
    loose = tmp_path / "loose.json"
    loose.write_text(tokens.read_text())
    loose.chmod(0o644)
    http = ["--vault", str(location), "mcp", "--http", "--port", "0"]
    for argv, message in (
        (["--vault", str(location), "mcp"], "acts as one principal"),
        ([*http], "HTTP needs bearer tokens"),
        ([*http, "--tokens", str(loose)], "chmod 600"),
        ([*http, "--tokens", str(tokens), "--host", "0.0.0.0"], "--allow-remote"),
        ([*http, "--tokens", str(tokens), "--principal", "alice"], "each token names"),
        ([*http[:-1], "70000", "--tokens", str(tokens)], "--port 70000"),
    ):
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err
    assert not location.exists()  # refused before the vault was opened (or created)


# -- a LangGraph agent whose tools come over MCP -----------------------------------------------


class ToolCallingFake(GenericFakeChatModel):
    """langchain_core's scripted chat model, accepting the tools an agent binds."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


def tool_call(name: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}"}])


async def test_langgraph_agent_writes_and_later_recalls_over_mcp(vault: MemVault) -> None:
    with http_server(vault) as url:
        client = MultiServerMCPClient(
            {
                "memory": {
                    "transport": "streamable_http",
                    "url": url,
                    "headers": {"Authorization": f"Bearer {ALICE_TOKEN}"},
                }
            }
        )
        tools = await client.get_tools()
        assert {t.name for t in tools} == TOOLS
        model = ToolCallingFake(
            messages=iter(
                [
                    tool_call(
                        "add_memory", text="My sister Ondine lives in Lyon", namespace="alice"
                    ),
                    AIMessage("Noted."),
                    tool_call("search_memory", query="where does my sister live?"),
                    AIMessage("Your sister lives in Lyon."),
                ]
            )
        )
        agent = create_agent(model, tools)
        first = await agent.ainvoke({"messages": [("user", "Remember: Ondine lives in Lyon.")]})
        # a new conversation: nothing of the first one is in its messages
        second = await agent.ainvoke({"messages": [("user", "Where does my sister live?")]})

    stored = [m for m in first["messages"] if isinstance(m, ToolMessage)]
    assert len(stored) == 1 and stored[0].status != "error"
    recalled = [m for m in second["messages"] if isinstance(m, ToolMessage)]
    assert len(recalled) == 1
    hits = recalled[0].artifact["structured_content"]["hits"]
    assert hits[0]["text"] == "My sister Ondine lives in Lyon"
    assert not any("Lyon" in str(m.content) for m in second["messages"][:2])
    # the memory is alice's, written and read over HTTP
    assert {e.channel for e in events(vault, "alice")} == {HTTP_CHANNEL}
    (cube,) = vault.list("alice", namespace=("alice",))
    assert cube.provenance.origin == "mcp" and cube.id == hits[0]["id"]
