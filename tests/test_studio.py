"""End to end: `langgraph dev` serves our graph with MemCubeStore and MemCubeSaver (wired in
langgraph.json), driven by langgraph-sdk; the data lands in the vault directory.

The server runs in a scratch project dir that links the repo's langgraph.json and graphs/, so
the dev server's own state (`.langgraph_api/`: its thread and run list) stays out of the repo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memos_lc import CubeFilter, MemVault, Principal

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
    graphs = {a["graph_id"] for a in client.assistants.search(limit=50)}
    assert {"memory_chat", "consolidation", "memory_notes"} <= graphs
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

    client.store.put_item(["notes", "default"], key="beach", value={"text": "Pixel loves the sea"})
    found = client.store.search_items(["notes", "default"], query="swimming in the sea")
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
        config={"configurable": {"user_id": "alice"}},
    )
    assert out["messages"][-1]["content"] == "Notes I recall:\n- I take my tea with lemon"
    state = client.threads.get_state(alice_thread)
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]
    assert len(client.threads.get_history(alice_thread)) >= 2
    client.threads.delete(alice_thread)

    stop()  # the server holds the vault's lock; then read what it wrote
    with MemVault.open(vault_dir) as vault:
        studio, alice = Principal(id="studio"), Principal(id="alice")
        notes = vault.list(studio, namespace=("notes", "default"))
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
