"""Tenant isolation across every access path, with 20 principals and 10,000 random queries.

Twenty principals each own plaintext cubes, store items and checkpoint threads (all under the
same namespace shapes, with shared words and a shared thread id, so a missing filter would
show). A few grants and reader lists share some cubes on purpose. The expected visibility is
computed here from those seeding decisions, independently of the library's ACL code. Random
queries by random principals then go through each access path and every answer must stay
inside what that principal may see; probes of other tenants' ids must look exactly like ids
that do not exist. Finally every access must be in the audit log, under the principal that
made it.

Access paths are the entries of :data:`ACCESS_PATHS`: a function ``(world, rng, principal)``
that makes one query through its path, asserts the answer, and returns the vault audit actions
that query must have left. A new path (the retriever, the LangGraph memory nodes) is one more
function registered there; the query budget is spread over whatever is registered.

The CLI runs in-process against the shared vault (``_open_vault`` patched: opening the vault
is not what isolates tenants), and vectors come from :class:`robustness_kit.HashEmbeddings`.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.base import empty_checkpoint
from robustness_kit import HashEmbeddings, fsck

import memos_lc.cli as cli
from memos_lc import CubeFilter, MemCube, MemVault, Principal
from memos_lc.bundles import export_bundle, import_bundle, read_bundle
from memos_lc.checkpoint import MemCubeSaver
from memos_lc.cube import utcnow
from memos_lc.errors import CubeNotFoundError, PermissionDeniedError
from memos_lc.nodes import MemoryNodes
from memos_lc.retrievers import MemCubeRetriever
from memos_lc.store import MemCubeStore

N_PRINCIPALS = 20
QUERIES = 10_000
CUBES_EACH = 12
ITEMS_EACH = 4
TOPICS = ("food", "travel", "work")
WORDS = ("tea", "oslo", "kayak", "chess", "peanut", "sourdough", "budget", "deadline")
SHARED_THREAD = "shared-thread"
ADMIN = Principal(id="root", roles=frozenset({"admin"}))
EVERYTHING = CubeFilter(statuses=None, include_expired=True, include_internal=True)


@dataclass
class World:
    vault: MemVault
    principals: list[Principal]
    tmp: Path
    owner: dict[str, str] = field(default_factory=dict)  # cube id -> owner id
    namespace: dict[str, tuple[str, ...]] = field(default_factory=dict)
    visible: dict[str, set[str]] = field(default_factory=dict)  # principal id -> cube ids
    items: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    threads: dict[str, list[str]] = field(default_factory=dict)  # principal id -> thread ids
    vectors: dict[str, list[float]] = field(default_factory=dict)
    bundles: dict[str, bytes] = field(default_factory=dict)  # principal id -> its export
    nodes: MemoryNodes | None = None
    probes: list[tuple[str, str]] = field(default_factory=list)  # (principal, hidden cube id)

    @property
    def all_ids(self) -> list[str]:
        return sorted(self.owner)

    def store(self, p: Principal) -> MemCubeStore:
        return MemCubeStore(self.vault, principal=p)


def ns_of(pid: str, topic: str) -> tuple[str, ...]:
    return ("t", pid, topic)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("tenants")
    emb = HashEmbeddings()
    vault = MemVault.open(tmp / "vault", embeddings=emb, blobs=tmp / "blobs")
    ids = [f"p{i:02d}" for i in range(N_PRINCIPALS)]
    principals = [Principal(id=pid, roles=frozenset({"auditor"}) if i == 19 else frozenset())
                  for i, pid in enumerate(ids)]  # fmt: skip
    w = World(vault, principals, tmp)
    w.vectors = {word: emb.embed_query(word) for word in WORDS}
    readers: dict[str, set[str]] = {}
    rng = random.Random(20)
    for i, p in enumerate(principals):
        cubes = []
        for j in range(CUBES_EACH):
            topic = TOPICS[j % len(TOPICS)]
            access: dict[str, Any] = {}
            if j == 0:  # shared with the next principal by name
                access = {"readers": (ids[(i + 1) % N_PRINCIPALS],)}
            elif j == 1:  # shared with a role
                access = {"readers": ("role:auditor",)}
            words = " ".join(rng.sample(WORDS, 3))
            cubes.append(MemCube.model_validate({
                "namespace": ns_of(p.id, topic), "access": access, "tags": (topic,),
                "payload": {"kind": "plaintext", "text": f"{p.id} note {j}: {words}"},
            }))  # fmt: skip
        for c in vault.put(p, cubes):
            w.owner[c.id], w.namespace[c.id] = p.id, c.namespace
            readers[c.id] = set(c.access.readers)
        if i % 2 == 0:  # even principals share their travel notes with the one after next
            vault.grant(p, ns_of(p.id, "travel"), ids[(i + 2) % N_PRINCIPALS])
        store = w.store(p)
        for k in range(ITEMS_EACH):
            store.put(ns_of(p.id, "store"), f"item{k}", {"text": f"{p.id} item {k} tea"})
        w.items[p.id] = [(ns_of(p.id, "store"), f"item{k}") for k in range(ITEMS_EACH)]
        saver = MemCubeSaver(vault, principal=p)
        w.threads[p.id] = [SHARED_THREAD, f"own-{p.id}"]
        for t in w.threads[p.id]:
            config: dict[str, Any] = {"configurable": {"thread_id": t, "checkpoint_ns": ""}}
            for step in range(2):
                ck = empty_checkpoint()
                versions = {"owner": "1", "step": str(step + 1)}
                ck["channel_values"] = {"owner": p.id, "step": step}
                ck["channel_versions"] = versions
                config = saver.put(config, ck, {"step": step}, versions)
    # store items and checkpoints are cubes too: their owners see them, nobody else
    for c in vault.find(ADMIN, filter=EVERYTHING, limit=10_000):
        if c.id not in w.owner:
            w.owner[c.id], w.namespace[c.id] = c.access.owner or "", c.namespace
            readers[c.id] = set()
    # the expected visibility, from the seeding decisions above
    for i, p in enumerate(principals):
        mine = {cid for cid, o in w.owner.items() if o == p.id}
        names = {p.id, *(f"role:{r}" for r in p.roles)}
        named = {cid for cid, r in readers.items() if r & names}
        granted = {
            cid for cid, o in w.owner.items()
            if (j := ids.index(o) if o in ids else -1) % 2 == 0 and j >= 0
            and (j + 2) % N_PRINCIPALS == i and w.namespace[cid] == ns_of(o, "travel")
        }  # fmt: skip
        w.visible[p.id] = mine | named | granted
    for p in principals:
        out = tmp / f"{p.id}.zip"
        export_bundle(vault, p, out, namespace=("t", p.id))
        w.bundles[p.id] = out.read_bytes()
    assert len(w.owner) > N_PRINCIPALS * (CUBES_EACH + ITEMS_EACH)
    yield w
    vault.close()


# -- access paths --------------------------------------------------------------------------------


def _hidden(w: World, rng: random.Random, p: Principal, *, probe: bool = True) -> str:
    """A cube id ``p`` must not see (another tenant's), recorded as a probe of that one cube
    (a batch lookup such as ``find`` is audited as one event, not per id asked)."""
    while True:
        cid = rng.choice(w.all_ids)
        if cid not in w.visible[p.id]:
            if probe:
                w.probes.append((p.id, cid))
            return cid


def _any_namespace(w: World, rng: random.Random, p: Principal) -> tuple[str, ...] | None:
    other = rng.choice(w.principals).id
    return rng.choice([None, ("t",), ("t", p.id), ("t", other), ns_of(other, "travel"),
                       ("langgraph",), ns_of(other, "store")])  # fmt: skip


def vault_search(w: World, rng: random.Random, p: Principal) -> list[str]:
    word = rng.choice(WORDS)
    mode = rng.choice(["lexical", "dense", "hybrid"])
    hits = w.vault.search(
        p, f"{word} note", namespace=_any_namespace(w, rng, p), mode=mode, limit=20,
        query_vector=w.vectors[word] if mode != "lexical" else None,
    )  # fmt: skip
    assert {h.cube.id for h in hits} <= w.visible[p.id]
    return ["search"]


def vault_list(w: World, rng: random.Random, p: Principal) -> list[str]:
    ns = _any_namespace(w, rng, p)
    got = {c.id for c in w.vault.list(p, namespace=ns, filter=EVERYTHING, limit=1000)}
    expected = {cid for cid in w.visible[p.id] if ns is None or w.namespace[cid][: len(ns)] == ns}
    assert got == expected  # everything visible, nothing else
    return ["list"]


def vault_count(w: World, rng: random.Random, p: Principal) -> list[str]:
    other = rng.choice(w.principals).id
    n = w.vault.count(p, namespace=("t", other), filter=EVERYTHING)
    assert n == sum(1 for cid in w.visible[p.id] if w.namespace[cid][:2] == ("t", other))
    return ["count"]


def vault_get(w: World, rng: random.Random, p: Principal) -> list[str]:
    if rng.random() < 0.5:
        cid = rng.choice(sorted(w.visible[p.id]))
        assert w.vault.get(p, cid).id == cid
    else:
        with pytest.raises(CubeNotFoundError, match="no cube"):  # as if it did not exist
            w.vault.get(p, _hidden(w, rng, p))
    return ["get"]


def vault_history(w: World, rng: random.Random, p: Principal) -> list[str]:
    with pytest.raises(CubeNotFoundError, match="no cube"):
        w.vault.history(p, _hidden(w, rng, p))
    return ["history"]


def vault_find(w: World, rng: random.Random, p: Principal) -> list[str]:
    asked = rng.sample(w.all_ids, 10)
    got = {c.id for c in w.vault.find(p, cube_ids=asked, filter=EVERYTHING)}
    assert got == set(asked) & w.visible[p.id]
    return ["find"]


def vault_write(w: World, rng: random.Random, p: Principal) -> list[str]:
    """Changing another tenant's cube: not found if hidden, denied if only shared for reading;
    either way nothing changes."""
    shared = sorted(w.visible[p.id] - {c for c, o in w.owner.items() if o == p.id})
    cid = rng.choice(shared) if shared and rng.random() < 0.5 else _hidden(w, rng, p)
    before = w.vault.get(ADMIN, cid, include_expired=True).version
    action = rng.choice(["update", "delete", "purge"])
    with pytest.raises(CubeNotFoundError if cid not in w.visible[p.id] else PermissionDeniedError):
        if action == "update":
            w.vault.update(p, cid, text="taken over")
        elif action == "delete":
            w.vault.delete(p, cid)
        else:
            w.vault.purge(p, cid)
    assert w.vault.get(ADMIN, cid, include_expired=True).version == before
    return [action]


def _as(p: Principal, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` inside a LangGraph/LangChain run whose config names ``p`` (how a graph's
    store and checkpointer learn the principal)."""
    return RunnableLambda(lambda _: fn()).invoke(None, {"configurable": {"user_id": p.id}})


def store_get(w: World, rng: random.Random, p: Principal) -> list[str]:
    q = rng.choice(w.principals)
    ns, key = rng.choice(w.items[q.id])
    shared = MemCubeStore(w.vault, principal="nobody")
    item = _as(p, lambda: shared.get(ns, key)) if rng.random() < 0.5 else w.store(p).get(ns, key)
    assert (item is not None) == (q.id == p.id)
    return ["list"]


def store_search(w: World, rng: random.Random, p: Principal) -> list[str]:
    prefix = rng.choice([("t",), ("t", rng.choice(w.principals).id), ()])
    shared = MemCubeStore(w.vault, principal="nobody")
    found = _as(p, lambda: shared.search(prefix, limit=1000))
    assert all(tuple(it.namespace)[:2] == ("t", p.id) for it in found)
    if prefix in ((), ("t",), ("t", p.id)):
        assert len(found) == ITEMS_EACH
    return ["list"]


def store_namespaces(w: World, rng: random.Random, p: Principal) -> list[str]:
    got = w.store(p).list_namespaces(prefix=("t",))
    assert got == [ns_of(p.id, "store")]
    return ["list"]


def saver_get(w: World, rng: random.Random, p: Principal) -> list[str]:
    q = rng.choice(w.principals)
    thread = rng.choice(w.threads[q.id])
    saver = MemCubeSaver(w.vault, principal="nobody")
    tup = saver.get_tuple({"configurable": {"thread_id": thread, "user_id": p.id}})
    if thread == SHARED_THREAD or q.id == p.id:  # the same thread id: each sees its own
        assert tup is not None and tup.checkpoint["channel_values"]["owner"] == p.id
    else:
        assert tup is None
    return ["find"]


def saver_list(w: World, rng: random.Random, p: Principal) -> list[str]:
    saver = MemCubeSaver(w.vault, principal=p)
    config = rng.choice([None, {"configurable": {"thread_id": SHARED_THREAD}}])
    tuples = list(saver.list(config))
    assert tuples and all(t.checkpoint["channel_values"]["owner"] == p.id for t in tuples)
    return ["find"]


def retriever_invoke(w: World, rng: random.Random, p: Principal) -> list[str]:
    """The LangChain retriever, with the principal on the retriever or from the run config."""
    ns = _any_namespace(w, rng, p)
    query = f"{rng.choice(WORDS)} note"
    if rng.random() < 0.5:
        retriever = MemCubeRetriever(vault=w.vault, principal=p, namespace=ns, k=20)
        docs = retriever.invoke(query)
    else:
        retriever = MemCubeRetriever(vault=w.vault, principal="nobody", namespace=ns, k=20)
        docs = retriever.invoke(query, {"configurable": {"user_id": p.id}})
    assert {d.id for d in docs} <= w.visible[p.id]
    return ["search"]


def _nodes(w: World) -> MemoryNodes:
    # one namespace for everyone: only the vault's rights keep tenants apart here
    if w.nodes is None:
        w.nodes = MemoryNodes(vault=w.vault, namespace=("t",), principal="nobody")
    return w.nodes


def nodes_read_schedule(w: World, rng: random.Random, p: Principal) -> list[str]:
    """The memory nodes as a graph runs them (principal from the run config). Candidates are
    graph state, which a client can edit (Studio, ``update_state``): a forged list of other
    tenants' ids must still plan nothing the principal may not read."""
    nodes, config = _nodes(w), {"configurable": {"user_id": p.id, "thread_id": "t1"}}
    state: dict[str, Any] = {"messages": [HumanMessage(f"what about {rng.choice(WORDS)}?")]}
    state |= nodes.read(state, config)
    assert state["memory_candidates"] is not None
    found = [i for r in state["memory_candidates"]["lists"] for i in r["ids"]]
    assert set(found) <= w.visible[p.id]
    if rng.random() < 0.5:
        hidden = [_hidden(w, rng, p, probe=False) for _ in range(3)]
        state["memory_candidates"]["lists"] = [[1.0, hidden + found]]
    plan = nodes.schedule(state, config)["memory_plan"]
    assert {i["cube_id"] for i in plan["items"]} <= w.visible[p.id]
    return ["search", "find"]


def _cli(w: World, p: Principal, *argv: str) -> tuple[int, str, str]:
    @contextlib.contextmanager
    def shared_vault(args: Any, *, create: bool = False) -> Iterator[MemVault]:
        yield w.vault

    roles = [x for r in sorted(p.roles) for x in ("--role", r)]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "_open_vault", shared_vault)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["--principal", p.id, *roles, "--json", *argv])
    return code, out.getvalue(), err.getvalue()


def cli_list(w: World, rng: random.Random, p: Principal) -> list[str]:
    ns = _any_namespace(w, rng, p)
    code, out, err = _cli(w, p, "list", "--status", "all", "--limit", "1000",
                          *(["--namespace", "/".join(ns)] if ns else []))  # fmt: skip
    assert code == 0, err
    assert {c["id"] for c in json.loads(out)} <= w.visible[p.id]
    return ["list"]


def cli_get(w: World, rng: random.Random, p: Principal) -> list[str]:
    code, out, err = _cli(w, p, "get", _hidden(w, rng, p))
    assert code == 1 and "no cube" in err and out == ""
    return ["get"]


def cli_search(w: World, rng: random.Random, p: Principal) -> list[str]:
    code, out, err = _cli(w, p, "search", f"{rng.choice(WORDS)} note", "-k", "20")
    assert code == 0, err
    assert {h["cube"]["id"] for h in json.loads(out)} <= w.visible[p.id]
    return ["search"]


def bundle_export(w: World, rng: random.Random, p: Principal) -> list[str]:
    dest = w.tmp / f"export-{p.id}.zip"
    export_bundle(w.vault, p, dest, namespace=rng.choice([None, ("t",)]), overwrite=True)
    assert {c.id for c in read_bundle(dest).cubes} <= w.visible[p.id]
    return ["list"]


def bundle_import(w: World, rng: random.Random, p: Principal) -> list[str]:
    """Importing another tenant's bundle over its ids neither touches that tenant's cubes nor
    says anything of them: ids are scoped per owner, so every cube of the bundle would be the
    importer's own new cube (planned in a dry run: a real one gives the importer copies of
    what the bundle holds, which the world's model does not track)."""
    q = rng.choice([x for x in w.principals if x.id != p.id])
    report = import_bundle(w.vault, p, w.bundles[q.id], on_conflict="replace", dry_run=True)
    assert report.replaced == [] and report.skipped == []
    assert set(report.imported) == {c.id for c in read_bundle(w.bundles[q.id]).cubes}
    return ["import", "find"]


AccessPath = Callable[[World, random.Random, Principal], list[str]]
ACCESS_PATHS: dict[str, tuple[AccessPath, int]] = {
    # name: (query function, weight in the query mix)
    "vault.search": (vault_search, 20),
    "vault.list": (vault_list, 8),
    "vault.count": (vault_count, 4),
    "vault.get": (vault_get, 10),
    "vault.history": (vault_history, 4),
    "vault.find": (vault_find, 5),
    "vault.write": (vault_write, 4),
    "store.get": (store_get, 10),
    "store.search": (store_search, 6),
    "store.list_namespaces": (store_namespaces, 3),
    "checkpointer.get_tuple": (saver_get, 8),
    "checkpointer.list": (saver_list, 4),
    "retriever.invoke": (retriever_invoke, 6),
    "nodes.read+schedule": (nodes_read_schedule, 4),
    "cli.list": (cli_list, 1),
    "cli.get": (cli_get, 1),
    "cli.search": (cli_search, 1),
    "bundles.export": (bundle_export, 1),
    "bundles.import": (bundle_import, 1),
}


# -- the run -------------------------------------------------------------------------------------


def test_every_path_keeps_tenants_apart_and_is_audited(world: World) -> None:
    rng = random.Random(7)
    names = list(ACCESS_PATHS)
    weights = [ACCESS_PATHS[n][1] for n in names]
    t0: datetime = utcnow()
    expected: dict[str, Counter[str]] = {p.id: Counter() for p in world.principals}
    used: Counter[str] = Counter()
    for i in range(QUERIES):
        p = rng.choice(world.principals)
        name = rng.choices(names, weights)[0]
        try:
            actions = ACCESS_PATHS[name][0](world, rng, p)
        except AssertionError as e:
            raise AssertionError(f"query {i} via {name} as {p.id}: {e}") from e
        expected[p.id].update(actions)
        used[name] += 1
    assert set(used) == set(ACCESS_PATHS)  # every path was exercised

    # every access is in the audit log, under the principal that made it
    for pid, want in expected.items():
        events = world.vault.audit_log(ADMIN, who=pid, since=t0, limit=10_000)
        assert len(events) < 10_000
        have = Counter(e.action for e in events)
        missing = want - have
        assert not missing, f"{pid}: accesses missing from the audit log: {dict(missing)}"
    # and a probe of another tenant's cube is logged as a miss on that cube
    for pid, cid in random.Random(3).sample(world.probes, 50):
        events = world.vault.audit_log(ADMIN, who=pid, cube_id=cid, since=t0, limit=50)
        assert events and all(e.outcome in ("not_found", "denied") for e in events), (pid, cid)
    fsck(world.vault)
