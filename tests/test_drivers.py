"""Engine-specific guarantees: the embedded vault's lock, corruption checks, persistence and
crash safety; the server driver's retries."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memos_lc import MemVault, Principal
from memos_lc.errors import (
    BackendUnavailableError,
    VaultConfigError,
    VaultCorruptError,
)
from memos_lc.vault.drivers import ClientDriver, EdgeDriver


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_reopen_keeps_cubes_versions_and_search(tmp_path: Path, embeddings) -> None:
    alice = Principal(id="alice")
    with MemVault.open(tmp_path / "v", embeddings=embeddings) as v:
        c = v.add(alice, "Alice's sister is called Maren", namespace=("alice",))
        v.update(alice, c.id, text="Alice's sister Maren lives in Oslo")
    with MemVault.open(tmp_path / "v", embeddings=embeddings) as v:
        assert [x.version for x in v.history(alice, c.id)] == [1, 2]
        assert v.search(alice, "Maren Oslo", limit=1)[0].cube.id == c.id
        assert {e.action for e in v.audit_log(alice)} >= {"put", "update", "history"}


def test_second_process_gets_a_clear_lock_error(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "v"
    with MemVault.open(path, embeddings=embeddings):
        out = run_python(
            """
            import sys
            from memos_lc import MemVault
            from memos_lc.errors import VaultLockedError
            try:
                MemVault.open(sys.argv[1])
            except VaultLockedError as e:
                print("locked:", e)
            """,
            str(path),
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("locked:")
    # released on close: the same process (or another) can open it again
    MemVault.open(path, embeddings=embeddings).close()


def test_one_directory_is_one_shared_vault_in_a_process(tmp_path: Path, embeddings) -> None:
    """A store and a saver (or any two opens) of one path in one process share its vault; it
    closes with the last close, and the lock still keeps other processes out meanwhile."""
    from memos_lc import MemCubeSaver, MemCubeStore

    alice = Principal(id="alice")
    with MemCubeStore.from_path(tmp_path / "v", principal=alice) as store:
        with MemCubeSaver.from_path(str(tmp_path / "v"), principal=alice) as saver:
            assert saver.vault is store.vault
            store.put(("docs",), "a", {"text": "shared"})
        # the saver's exit did not close the store's vault
        assert store.get(("docs",), "a").value == {"text": "shared"}
        again = MemVault.open(tmp_path / "v")
        assert again is store.vault
        again.close()
        out = run_python(
            """
            import sys
            from memos_lc import MemVault
            from memos_lc.errors import VaultLockedError
            try:
                MemVault.open(sys.argv[1])
            except VaultLockedError:
                print("locked")
            """,
            str(tmp_path / "v"),
        )
        assert out.stdout.strip() == "locked", out.stderr
    with MemVault.open(tmp_path / "v") as reopened:  # closed by the last close: a new vault
        assert reopened is not store.vault
        assert len(reopened.list(alice)) == 1


def test_a_shared_vault_refuses_other_embeddings(tmp_path: Path, embeddings) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    with MemVault.open(tmp_path / "v", embeddings=embeddings), pytest.raises(VaultConfigError):
        MemVault.open(tmp_path / "v", embeddings=DeterministicFakeEmbedding(size=384))


def test_foreign_or_damaged_directories_are_refused(tmp_path: Path, embeddings) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(VaultCorruptError):
        MemVault.open(foreign, embeddings=embeddings)
    assert sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]  # nothing written

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(VaultCorruptError):
        MemVault.open(not_a_dir, embeddings=embeddings)

    path = tmp_path / "v"
    MemVault.open(path, embeddings=embeddings).close()
    (path / "memos-vault.json").write_text("{garbage")
    with pytest.raises(VaultCorruptError):
        MemVault.open(path, embeddings=embeddings)

    path2 = tmp_path / "v2"
    MemVault.open(path2, embeddings=embeddings).close()
    (path2 / "cubes" / "edge_config.json").write_text("not json")
    with pytest.raises(VaultCorruptError):
        MemVault.open(path2, embeddings=embeddings)


def test_embedding_size_mismatch_is_refused(tmp_path: Path, embeddings) -> None:
    from langchain_core.embeddings import Embeddings

    class Tiny(Embeddings):
        """A real (if poor) 8-dim embedding: character histogram."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(t) for t in texts]

        def embed_query(self, text: str) -> list[float]:
            v = [0.0] * 8
            for ch in text:
                v[ord(ch) % 8] += 1.0
            return v

    MemVault.open(tmp_path / "v", embeddings=embeddings).close()
    with pytest.raises(VaultConfigError, match="384-dim"):
        MemVault.open(tmp_path / "v", embeddings=Tiny())
    with MemVault.open(tmp_path / "tiny", embeddings=Tiny()) as v:
        c = v.add(Principal(id="a"), "works with any LangChain embeddings", namespace=("a",))
        assert v.search(Principal(id="a"), "embeddings")[0].cube.id == c.id


def test_acknowledged_writes_survive_sigkill(tmp_path: Path, embeddings) -> None:
    """A writer process is killed with SIGKILL mid-stream; every write it acknowledged (printed
    after put/update returned) is present and readable after reopening."""
    path = tmp_path / "v"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
            import sys, random
            from memos_lc import MemVault, MemCube, Principal
            p = Principal(id="w")
            rng = random.Random(7)
            v = MemVault.open(sys.argv[1])
            vec = lambda: [rng.uniform(0.1, 1.0) for _ in range(384)]
            first = None
            for i in range(100000):
                c = v.put(p, MemCube.from_text(f"fact {i}", namespace=("w",)), vectors=[vec()])[0]
                print("put", c.id, flush=True)
                if first is None:
                    first = c
                elif i % 10 == 0:
                    u = v.update(p, first.id, priority=round(rng.random(), 3))
                    print("update", u.id, u.version, flush=True)
            """
            ),
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    acked: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        acked.append(line.split())
        if len(acked) >= 150:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for line in proc.stdout:  # lines acknowledged before the kill landed
        acked.append(line.split())

    with MemVault.open(path, embeddings=embeddings) as v:
        admin = Principal(id="root", roles=frozenset({"admin"}))
        ids = {a[1] for a in acked if a[0] == "put"}
        for cid in ids:
            assert v.get(admin, cid).text.startswith("fact ")
        updates = [int(a[2]) for a in acked if a[0] == "update"]
        if updates:
            first_id = acked[0][1]
            assert v.get(admin, first_id).version >= max(updates)
            versions = [c.version for c in v.history(admin, first_id)]
            assert versions == list(range(1, len(versions) + 1))
        assert v.count(admin) >= len(ids)


def test_server_driver_retries_then_raises_typed_error() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = ClientDriver(
        f"http://127.0.0.1:{port}", retries=2, timeout=1, check_compatibility=False
    )
    with pytest.raises(BackendUnavailableError, match="2 attempts"):
        driver.count("cubes", filter=None)


def test_server_driver_uses_qdrant_json_filters(embeddings) -> None:
    # the same JSON filter the edge driver converts must validate as qdrant-client models
    driver = ClientDriver(":memory:")
    flt = {
        "must": [
            {"key": "owner", "match": {"value": "a"}},
            {"should": [{"key": "tags", "match": {"any": ["x"]}}, {"is_empty": {"key": "tags"}}]},
            {"key": "ts", "range": {"gte": 1.0}},
        ],
        "must_not": [{"key": "status", "match": {"except": ["active"]}}],
    }
    assert json.loads(driver._filter(flt).model_dump_json(exclude_none=True))["must"][0] == {
        "key": "owner",
        "match": {"value": "a"},
    }


def test_index_builds_explicitly_and_in_the_background(tmp_path: Path, embeddings) -> None:
    import random
    import time

    from memos_lc import MemCube

    rng = random.Random(3)
    p = Principal(id="p")
    with MemVault.open(tmp_path / "v", embeddings=embeddings, auto_optimize=300) as v:
        v.driver.idle_seconds = 0.2  # keep the test quick
        cubes = [MemCube.from_text(f"note {i}", namespace=("p",)) for i in range(400)]
        v.put(p, cubes, vectors=[[rng.uniform(0.1, 1) for _ in range(384)] for _ in cubes])
        deadline = time.monotonic() + 60
        while v.driver._pending.get("cubes", 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert v.driver._pending.get("cubes", 0) == 0  # the idle build ran
        assert v.driver._shards["cubes"].info().indexed_vectors_count >= 400
        assert v.search(p, "note 7", limit=3, mode="lexical")[0].cube.text == "note 7"
        v.add(p, "one more note after the build", namespace=("p",))
        v.optimize()  # explicit build; cheap when little is pending
        assert v.search(p, "one more note after the build", limit=1)[0].cube.text.startswith("one")


@pytest.mark.parametrize("given", [False, True], ids=["opened", "client-given"])
def test_local_mode_client_is_safe_across_threads(embeddings, given: bool) -> None:
    """qdrant-client's local mode is not thread-safe on its own; the driver serializes it,
    a local-mode client passed in as well (the checkpointer relies on it)."""
    import random
    import threading

    from qdrant_client import QdrantClient

    from memos_lc import MemCube

    if given:
        driver = ClientDriver(client=QdrantClient(location=":memory:"))
        vault = MemVault(driver, embeddings=embeddings)
    else:
        vault = MemVault.open(":memory:", embeddings=embeddings)
    p = Principal(id="a")
    errors: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for i in range(30):
                vault.put(
                    p,
                    MemCube.from_text(f"t{seed} {i}", namespace=("a",)),
                    vectors=[[rng.uniform(0.1, 1) for _ in range(384)]],
                )
                vault.list(p, limit=5)
                vault.count(p)
        except Exception as e:  # collected: a failure in a thread must fail the test
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert vault.count(p) == 180
    vault.close()


def test_drivers_declare_what_their_engine_allows(tmp_path: Path) -> None:
    """The vault and the checkpointer adapt to capabilities, not to driver classes."""
    edge = EdgeDriver(tmp_path / "edge", fsync=True)
    try:
        caps = edge.capabilities
        assert caps.exclusive and caps.directory == tmp_path / "edge"
        assert caps.fsync and caps.lists_ids
    finally:
        edge.close()
    client = ClientDriver(":memory:")
    try:
        caps = client.capabilities
        assert not caps.exclusive and caps.directory is None and not caps.lists_ids
        with pytest.raises(NotImplementedError):
            next(iter(client.point_ids("cubes")))
    finally:
        client.close()
