"""MemCubeStore: LangGraph's BaseStore on MemCubes, checked against LangGraph's InMemoryStore.

The differential tests drive both stores with the same seeded random operations and compare
every result (keys, namespaces, values, order); the other tests cover what InMemoryStore lacks:
hybrid search over a real index, TTL, principals, versions, and LangMem's tools on top.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    PutOp,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore
from typing_extensions import TypedDict

from memos_lc import CubeFilter, LifecycleStatus, MemCube, MemVault, Principal
from memos_lc.errors import InvalidInputError, PermissionDeniedError
from memos_lc.errors import InvalidNamespaceError as MemosNamespaceError
from memos_lc.store import MemCubeStore, StoreNamespaceError


@pytest.fixture
def store(plain_vault: MemVault) -> MemCubeStore:
    return MemCubeStore(plain_vault, principal="alice")


@pytest.fixture
def indexed(vault: MemVault) -> MemCubeStore:
    return MemCubeStore(vault, index=True, principal="alice")


# -- differential: MemCubeStore vs InMemoryStore --------------------------------------------

NAMESPACES = [
    ("users", "alice"),
    ("users", "alice", "prefs"),
    ("users", "bob"),
    ("docs",),
    ("docs", "v1"),
    ("cache", "x", "v1"),
    ("cache", "y", "v2"),
    ("ü", "spaced label"),
]
KEYS = ["k0", "k1", "k2", "k3", "k4", "key with space", "ключ"]
TAGS = ["red", "green", "blue"]


def random_value(rng: random.Random) -> dict[str, Any]:
    value: dict[str, Any] = {
        "n": rng.randint(0, 9),
        "f": round(rng.uniform(-5, 5), 3),
        "tag": rng.choice(TAGS),
        "nested": {"a": rng.randint(0, 3), "b": rng.choice(["x", "y"]), "deep": {"z": [1, 2]}},
        "list": rng.choice([[1, 2], [2, 1], [], ["a", {"b": 1}]]),
        "flag": rng.choice([True, False, None]),
        "text": rng.choice(["tea", "coffee", "hiking in the Alps", "ünïcödé"]),
    }
    for field in ("tag", "nested", "list", "flag", "text"):  # filters on missing fields
        if rng.random() < 0.08:
            del value[field]
    if rng.random() < 0.7:
        value["opt"] = rng.randint(0, 3)  # a range filter on it raises when it is missing
    return value


def random_filter(rng: random.Random) -> dict[str, Any] | None:
    choices: list[dict[str, Any] | None] = [
        None,
        None,
        {"tag": rng.choice(TAGS)},
        {"n": {"$gt": rng.randint(0, 9)}},
        {"n": {"$gte": 3, "$lt": 7}},
        {"n": {"$lte": rng.randint(0, 9)}, "tag": {"$ne": rng.choice(TAGS)}},
        {"n": {"$eq": rng.randint(0, 9)}},
        {"f": {"$lt": 0}},
        {"nested": {"a": rng.randint(0, 3)}},
        {"nested": {"b": "x", "deep": {"z": [1, 2]}}},
        {"list": rng.choice([[1, 2], [], [2, 1]])},
        {"flag": rng.choice([True, False, None])},
        {"text": "tea", "n": {"$ne": 3}},
        {"missing": None},
        {"opt": {"$gte": 2}},
        {"tag": "red", "opt": {"$gt": 1}},  # only red items reach the range: may not raise
        {"opt": {"$gt": 1}, "tag": "red"},  # every item reaches it: raises if one lacks opt
        {"nested": {"b": {"$eq": "y"}}, "text": {"$ne": "tea"}},
    ]
    return rng.choice(choices)


def random_path(rng: random.Random) -> tuple[str, ...]:
    ns = rng.choice(NAMESPACES)
    path = list(ns[: rng.randint(1, len(ns))])
    if rng.random() < 0.3:
        path[rng.randrange(len(path))] = "*"
    return tuple(path)


def random_op(rng: random.Random) -> tuple[str, dict[str, Any]]:
    kind = rng.choices(
        ["put", "delete", "get", "search", "list", "batch"], weights=[34, 8, 14, 26, 10, 8]
    )[0]
    ns, key = rng.choice(NAMESPACES), rng.choice(KEYS)
    if kind == "put":
        return kind, {"namespace": ns, "key": key, "value": random_value(rng)}
    if kind in ("delete", "get"):
        return kind, {"namespace": ns, "key": key}
    if kind == "search":
        prefix = rng.choice([(), ns[:1], ns, ns[: max(1, len(ns) - 1)]])
        return kind, {
            "prefix": prefix,
            "filter": random_filter(rng),
            "limit": rng.choice([1, 2, 3, 5, 10, 100]),
            "offset": rng.choice([0, 0, 0, 1, 2, 5]),
        }
    if kind == "list":
        return kind, {
            "prefix": random_path(rng) if rng.random() < 0.5 else None,
            "suffix": tuple(rng.choice(NAMESPACES)[-1:]) if rng.random() < 0.3 else None,
            "max_depth": rng.choice([None, None, 1, 2]),
            "limit": rng.choice([1, 3, 100]),
            "offset": rng.choice([0, 0, 1]),
        }
    ops: list[Any] = []  # a raw batch: reads see the state before the batch's writes
    for _ in range(rng.randint(2, 5)):
        ns, key = rng.choice(NAMESPACES), rng.choice(KEYS)
        roll = rng.random()
        if roll < 0.35:
            ops.append(PutOp(ns, key, random_value(rng)))
        elif roll < 0.45:
            ops.append(PutOp(ns, key, None))
        elif roll < 0.75:
            ops.append(GetOp(ns, key))
        elif roll < 0.9:
            ops.append(SearchOp(ns[:1], random_filter(rng), 5, 0))
        else:
            ops.append(ListNamespacesOp(max_depth=2))
    return kind, {"ops": ops}


def apply(store: Any, kind: str, args: dict[str, Any]) -> Any:
    if kind == "put":
        return store.put(args["namespace"], args["key"], args["value"])
    if kind == "delete":
        return store.delete(args["namespace"], args["key"])
    if kind == "get":
        return store.get(args["namespace"], args["key"])
    if kind == "search":
        return store.search(
            args["prefix"], filter=args["filter"], limit=args["limit"], offset=args["offset"]
        )
    if kind == "list":
        return store.list_namespaces(
            prefix=args["prefix"],
            suffix=args["suffix"],
            max_depth=args["max_depth"],
            limit=args["limit"],
            offset=args["offset"],
        )
    return store.batch(args["ops"])


async def aapply(store: Any, kind: str, args: dict[str, Any]) -> Any:
    if kind == "put":
        return await store.aput(args["namespace"], args["key"], args["value"])
    if kind == "delete":
        return await store.adelete(args["namespace"], args["key"])
    if kind == "get":
        return await store.aget(args["namespace"], args["key"])
    if kind == "search":
        return await store.asearch(
            args["prefix"], filter=args["filter"], limit=args["limit"], offset=args["offset"]
        )
    if kind == "list":
        return await store.alist_namespaces(
            prefix=args["prefix"],
            suffix=args["suffix"],
            max_depth=args["max_depth"],
            limit=args["limit"],
            offset=args["offset"],
        )
    return await store.abatch(args["ops"])


def comparable(result: Any) -> Any:
    """What must agree between the stores: everything but timestamps and scores."""
    if isinstance(result, list):
        return [comparable(x) for x in result]
    if hasattr(result, "key") and hasattr(result, "value"):
        assert result.created_at <= result.updated_at
        return (type(result).__name__, result.namespace, result.key, result.value)
    return result


class _Namespace(dict):
    """A namespace's items that joins the store's table on its first write."""

    def __init__(self, table: dict, name: tuple[str, ...]) -> None:
        super().__init__()
        self.table, self.name = table, name

    def __setitem__(self, key: str, item: Any) -> None:
        self.table.setdefault(self.name, self)
        super().__setitem__(key, item)


class _Namespaces(dict):
    def __missing__(self, name: tuple[str, ...]) -> _Namespace:
        return _Namespace(self, name)


def reference_store() -> InMemoryStore:
    """LangGraph's InMemoryStore, run by its own code, minus one quirk: its namespace table is a
    defaultdict, so a get creates an empty namespace (listed by list_namespaces and placed in
    the search order) and a namespace emptied by deletes stays listed. In MemCubeStore a
    namespace exists while it holds items; see also :func:`prune`."""
    reference = InMemoryStore()
    reference._data = _Namespaces()
    return reference


def prune(reference: InMemoryStore) -> None:
    """Drop the reference's namespaces that deletes emptied (after each call)."""
    for ns in [ns for ns, items in reference._data.items() if not items]:
        del reference._data[ns]


def outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except Exception as e:  # both stores must fail alike
        return type(e).__name__, None


class Tracker:
    """created_at is kept on overwrite and new after a delete; updated_at moves on put."""

    def __init__(self) -> None:
        self.seen: dict[tuple[tuple[str, ...], str], Any] = {}

    def check(self, store: MemCubeStore, kind: str, args: dict[str, Any], before: Any) -> None:
        if kind not in ("put", "delete"):
            return
        pair = (args["namespace"], args["key"])
        after = store.get(*pair)
        if kind == "delete":
            assert after is None
            return
        assert after is not None and after.value == args["value"]
        if before is not None:
            assert after.created_at == before.created_at
            assert after.updated_at > before.updated_at
        else:
            assert after.created_at == after.updated_at
            if pair in self.seen:
                assert after.created_at > self.seen[pair].created_at
        self.seen[pair] = after


def run_differential(store: MemCubeStore, seed: int, n_ops: int) -> dict[str, int]:
    rng = random.Random(seed)
    reference = reference_store()
    tracker = Tracker()
    seen: dict[str, int] = {}
    for step in range(n_ops):
        kind, args = random_op(rng)
        before = store.get(args["namespace"], args["key"]) if kind in ("put", "delete") else None
        got = outcome(lambda: comparable(apply(store, kind, args)))  # noqa: B023
        want = outcome(lambda: comparable(apply(reference, kind, args)))  # noqa: B023
        prune(reference)
        assert got == want, f"seed {seed} step {step}: {kind} {args}"
        if got[0] == "ok":
            tracker.check(store, kind, args, before)
        label = kind if got[0] == "ok" else f"{kind}:{got[0]}"
        seen[label] = seen.get(label, 0) + 1
        if kind == "search" and got[0] == "ok" and got[1]:
            seen["search:nonempty"] = seen.get("search:nonempty", 0) + 1
    return seen


@pytest.mark.parametrize("seed", [7, 2024])
def test_differential_against_in_memory_store(store: MemCubeStore, seed: int) -> None:
    seen = run_differential(store, seed, 220)
    # the sequence really exercised every op and the interesting outcomes
    for label in ("put", "delete", "get", "search", "list", "batch", "search:nonempty"):
        assert seen.get(label, 0) >= 5, seen
    assert seen.get("search:TypeError", 0) >= 1, seen  # $gt on a missing field, like InMemory
    assert len(store.list_namespaces()) >= 5


async def test_differential_async_twins(store: MemCubeStore) -> None:
    rng = random.Random(99)
    reference = reference_store()
    kinds = set()
    for step in range(120):
        kind, args = random_op(rng)

        async def both(s: Any, kind: str = kind, args: dict = args) -> tuple[str, Any]:
            try:
                return "ok", comparable(await aapply(s, kind, args))
            except Exception as e:
                return type(e).__name__, None

        got, want = await both(store), await both(reference)
        prune(reference)
        assert got == want, f"step {step}: {kind} {args}"
        kinds.add(kind)
    assert kinds == {"put", "delete", "get", "search", "list", "batch"}


def test_batch_reads_before_writes_and_last_put_wins(store: MemCubeStore) -> None:
    reference = reference_store()
    ops = [
        PutOp(("a",), "x", {"v": 1}),
        GetOp(("a",), "x"),
        PutOp(("a",), "y", {"v": 2}),
        PutOp(("a",), "x", {"v": 3}),
        SearchOp(("a",)),
        ListNamespacesOp(),
    ]
    assert (
        comparable(store.batch(ops))
        == comparable(reference.batch(ops))
        == [
            None,
            None,
            None,
            None,
            [],
            [],
        ]
    )
    after = [SearchOp(("a",)), GetOp(("a",), "x")]
    assert comparable(store.batch(after)) == comparable(reference.batch(after))
    assert [i.key for i in store.search(("a",))] == ["x", "y"]  # first put's position
    assert store.get(("a",), "x").value == {"v": 3}


def test_order_without_query_follows_insertion(store: MemCubeStore) -> None:
    reference = reference_store()
    script = [
        ("put", ("n1",), "a"),
        ("put", ("n2",), "b"),
        ("put", ("n1",), "c"),
        ("put", ("n1",), "a"),  # overwrite keeps its place
        ("delete", ("n1",), "a"),  # n1 still exists (c) and keeps its place before n2
        ("put", ("n1",), "a"),  # re-put after delete goes last in n1
        ("delete", ("n2",), "b"),  # n2 empties ...
        ("put", ("n2",), "d"),  # ... and comes back after n1
    ]
    for i, (op, ns, key) in enumerate(script):
        for s in (store, reference):
            s.put(ns, key, {"i": i}) if op == "put" else s.delete(ns, key)
        prune(reference)
        assert comparable(store.search(())) == comparable(reference.search(()))
    assert [(i.namespace, i.key) for i in store.search(())] == [
        (("n1",), "c"),
        (("n1",), "a"),
        (("n2",), "d"),
    ]


# -- validation ----------------------------------------------------------------------------

BAD_NAMESPACES: list[Any] = [
    (),
    ("langgraph", "x"),
    ("a.b",),
    ("",),
    ("a", ""),
    ("ok", 1),
    ("nul\x00",),
]


def test_namespace_validation_matches_in_memory_store(store: MemCubeStore) -> None:
    reference = reference_store()
    for namespace in BAD_NAMESPACES:
        calls = [
            lambda s: s.put(namespace, "k", {"v": 1}),  # noqa: B023
            lambda s: s.get(namespace, "k"),  # noqa: B023
            lambda s: s.delete(namespace, "k"),  # noqa: B023
            lambda s: s.search(namespace),  # noqa: B023
            lambda s: s.list_namespaces(prefix=namespace or None),  # noqa: B023
            lambda s: s.list_namespaces(suffix=namespace or None),  # noqa: B023
        ]
        for call in calls:
            results = []
            for s in (store, reference):
                try:
                    results.append(("ok", comparable(call(s))))
                except Exception as e:
                    results.append((type(e), str(e)))
            assert results[0] == results[1], namespace
    assert store.vault.count(store.principal) == 0


def test_limits_beyond_langgraph_raise_typed_errors(store: MemCubeStore) -> None:
    for namespace in [tuple(f"l{i}" for i in range(17)), ("x" * 257,), ("tab\tlabel",)]:
        with pytest.raises(StoreNamespaceError) as info:
            store.put(namespace, "k", {"v": 1})
        assert isinstance(info.value, InvalidNamespaceError)  # LangGraph's
        assert isinstance(info.value, MemosNamespaceError)  # and ours
        assert store.get(namespace, "k") is None
        assert store.search(namespace) == []
    for key in ["", "k" * 1025, "bad\nkey"]:
        with pytest.raises(InvalidInputError):
            store.put(("a",), key, {"v": 1})
        assert store.get(("a",), key) is None
    for value in [{"x": float("nan")}, {"x": object()}]:
        with pytest.raises(InvalidInputError):
            store.put(("a",), "k", value)
    with pytest.raises(InvalidInputError):  # a bad op fails the batch before any write
        store.batch([PutOp(("a",), "good", {"v": 1}), PutOp(("a",), "bad", {"x": {1, 2}})])
    assert store.vault.count(store.principal) == 0


# -- a real index: hybrid search with the bundled MiniLM ------------------------------------

FACTS = {
    "peanuts": "Alice is allergic to peanuts",
    "hiking": "Alice goes hiking in the Alps every summer",
    "dog": "Alice's dog is a beagle named Biscuit",
    "standup": "Alice prefers async standups over meetings",
}


def test_semantic_search_finds_the_right_item_first(indexed: MemCubeStore) -> None:
    for n, (key, text) in enumerate(FACTS.items()):
        indexed.put(("alice", "facts"), key, {"text": text, "kind": "fact", "n": n})
    for query, key in [
        ("what pet does she have?", "dog"),
        ("which foods can't she eat?", "peanuts"),
        ("mountain trips", "hiking"),
        ("Biscuit", "dog"),
    ]:
        hits = indexed.search(("alice",), query=query, limit=2)
        assert hits[0].key == key, (query, [h.key for h in hits])
        assert hits[0].score is not None and hits[0].score >= hits[1].score
    # a value filter narrows ranked results; offset pages through them
    hits = indexed.search(("alice",), query="what pet does she have?", filter={"n": {"$gt": 2}})
    assert [h.key for h in hits] == ["standup"]
    for query in ("Alice", "what does Alice like?"):  # RRF ties: pages slice one ranking
        ranking = [h.key for h in indexed.search(("alice",), query=query, limit=10)]
        assert sorted(ranking) == sorted(FACTS)
        for limit in (1, 2, 3):
            pages = [
                h.key
                for offset in range(0, 4, limit)
                for h in indexed.search(("alice",), query=query, offset=offset, limit=limit)
            ]
            assert pages == ranking, (query, limit)
    # without a query the order is insertion order and scores are None
    plain = indexed.search(("alice",))
    assert [h.key for h in plain] == list(FACTS) and {h.score for h in plain} == {None}


def test_index_fields_and_per_put_index(vault: MemVault) -> None:
    store = MemCubeStore(vault, index={"fields": ["memory.text", "notes[*]"]}, principal="alice")
    store.put(("m",), "pets", {"memory": {"text": "a beagle named Biscuit"}, "other": "x"})
    store.put(("m",), "food", {"memory": {"text": "unrelated"}, "notes": ["loves peanut butter"]})
    store.put(("m",), "raw", {"memory": {"text": "a dog"}}, index=False)
    store.put(("m",), "none", {"unindexed": "nothing at the configured paths"})
    store.put(("m",), "chosen", {"a": "x", "b": "quantum chromodynamics"}, index=["b"])
    assert store.search(("m",), query="dog", limit=1)[0].key == "pets"
    assert store.search(("m",), query="peanut butter", limit=1)[0].key == "food"
    assert store.search(("m",), query="particle physics", limit=1)[0].key == "chosen"
    # unindexed items are never ranked, but fill a short page with score None like InMemoryStore
    hits = store.search(("m",), query="dog", limit=10)
    assert [h.key for h in hits[-2:]] == ["raw", "none"]
    assert [h.score is None for h in hits] == [False, False, False, True, True]
    cube = vault.list(store.principal, filter=CubeFilter(key="food"))[0]
    assert cube.text == "unrelated\nloves peanut butter"  # what was embedded
    raw = vault.list(store.principal, filter=CubeFilter(key="raw"))[0]
    assert raw.text == '{"memory": {"text": "a dog"}}'  # JSON rendering, unindexed
    # overwriting changes what is indexed
    store.put(("m",), "raw", {"memory": {"text": "a beagle puppy"}})
    assert store.search(("m",), query="beagle puppy", limit=1)[0].key == "raw"
    store.put(("m",), "pets", {"memory": {"text": "a beagle"}}, index=False)
    assert "pets" not in [h.key for h in store.search(("m",), query="beagle", limit=3)]


def test_without_index_a_query_is_ignored(store: MemCubeStore) -> None:
    reference = reference_store()
    for s in (store, reference):
        s.put(("d",), "a", {"text": "tea"})
        s.put(("d",), "b", {"text": "coffee"})
    assert comparable(store.search(("d",), query="coffee")) == comparable(
        reference.search(("d",), query="coffee")
    )
    assert [h.score for h in store.search(("d",), query="coffee")] == [None, None]


def test_index_dims_must_match_the_vault(plain_vault: MemVault) -> None:
    with pytest.raises(InvalidInputError):
        MemCubeStore(plain_vault, index={"dims": 8, "embed": lambda xs: [[1.0] * 8] * len(xs)})


# -- TTL -----------------------------------------------------------------------------------


def expiry(store: MemCubeStore, key: str):
    return store.vault.list(store.principal, filter=CubeFilter(key=key))[0].expires_at


def test_ttl_expires_items_and_reads_refresh_it(store: MemCubeStore) -> None:
    assert store.supports_ttl
    store.put(("t",), "short", {"v": 1}, ttl=0.01)  # 0.6 s
    store.put(("t",), "long", {"v": 2}, ttl=10)
    store.put(("t",), "forever", {"v": 3})
    first = expiry(store, "long")
    time.sleep(0.05)
    assert store.get(("t",), "long", refresh_ttl=False) is not None
    assert expiry(store, "long") == first
    assert store.get(("t",), "long").value == {"v": 2}  # refresh_on_read defaults to True
    refreshed = expiry(store, "long")
    assert refreshed > first
    store.search(("t",))
    assert expiry(store, "long") > refreshed
    history = store.vault.history(
        store.principal, store.vault.list(store.principal, filter=CubeFilter(key="long"))[0].id
    )
    assert len(history) == 1  # a refresh is not a new version
    time.sleep(0.7)
    assert store.get(("t",), "short") is None
    assert [i.key for i in store.search(("t",))] == ["long", "forever"]
    assert store.list_namespaces() == [("t",)]
    # an expired item is gone: a put starts a fresh one
    store.put(("t",), "short", {"v": 4})
    assert store.get(("t",), "short").value == {"v": 4}


def test_default_ttl_and_sweeper(plain_vault: MemVault) -> None:
    store = MemCubeStore(
        plain_vault,
        ttl={"default_ttl": 0.005, "refresh_on_read": False, "sweep_interval_minutes": 0.002},
        principal="alice",
    )
    store.put(("t",), "a", {"v": 1})
    store.put(("t",), "b", {"v": 2}, ttl=None)
    created = expiry(store, "a")
    store.get(("t",), "a")
    assert expiry(store, "a") == created  # refresh_on_read=False
    future = store.start_ttl_sweeper()
    assert store.start_ttl_sweeper() is future
    deadline = time.monotonic() + 10
    expired = CubeFilter(key="a", statuses=(LifecycleStatus.EXPIRED,), include_expired=True)
    while not store.vault.list(store.principal, filter=expired) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.vault.list(store.principal, filter=expired), "the sweeper never ran"
    assert store.stop_ttl_sweeper(timeout=5) and future.done()
    assert [i.key for i in store.search(("t",))] == ["b"]


def test_sweep_covers_the_store_items_only(plain_vault: MemVault) -> None:
    from datetime import timedelta

    from memos_lc.cube import utcnow

    store = MemCubeStore(plain_vault, ttl={"default_ttl": 0.001}, principal="alice")
    store.put(("swept",), "a", {"v": 1})
    other = MemCube.from_text(
        "a checkpoint-like cube", namespace=("other",), memory_type="checkpoint",
        expires_at=utcnow() + timedelta(milliseconds=1),
    )  # fmt: skip
    plain_vault.put(Principal(id="alice"), [other], index=False)
    time.sleep(0.1)
    assert store.sweep_ttl() == 1
    everything = CubeFilter(statuses=None, include_expired=True, include_internal=True)
    got = {c.id: c.status for c in plain_vault.list(Principal(id="alice"), filter=everything)}
    assert got[other.id] is LifecycleStatus.ACTIVE  # not the store's: left to its owner
    with pytest.raises(InvalidInputError):
        plain_vault.sweep_expired(memory_types="long_term")


# -- principals ----------------------------------------------------------------------------


class State(TypedDict):
    action: str
    out: list


def memory_graph(store: MemCubeStore):
    from langgraph.config import get_store

    def node(state: State) -> dict:
        s = get_store()
        if state["action"] == "write":
            s.put(("shared", "notes"), "n1", {"text": "written in a run"})
        return {"out": [(i.key, i.value) for i in s.search(("shared",))]}

    return StateGraph(State).add_node(node).add_edge(START, "node").compile(store=store)


def test_principal_comes_from_the_run_config(store: MemCubeStore) -> None:
    graph = memory_graph(store)
    alice = {"configurable": {"user_id": "alice", "thread_id": "t-1"}}
    bob = {"configurable": {"user_id": "bob"}}
    assert graph.invoke({"action": "write", "out": []}, alice)["out"] == [
        ("n1", {"text": "written in a run"})
    ]
    assert graph.invoke({"action": "read", "out": []}, bob)["out"] == []
    graph.invoke({"action": "write", "out": []}, bob)  # bob's own item, same namespace/key
    assert len(store.vault.list(Principal(id="root", roles=frozenset({"admin"})))) == 2
    cube = store.vault.list(Principal(id="alice"))[0]
    assert cube.access.owner == "alice"
    assert cube.provenance.origin == "store" and cube.provenance.thread_id == "t-1"
    # a Principal object in config carries roles; outside a run the store's own principal acts
    root = {"configurable": {"principal": Principal(id="root", roles=frozenset({"admin"}))}}
    assert len(graph.invoke({"action": "read", "out": []}, root)["out"]) == 1  # one per pair
    assert store.principal.id == "alice" and store.get(("shared", "notes"), "n1") is not None
    carol = MemCubeStore(store.vault, principal="carol")
    assert carol.get(("shared", "notes"), "n1") is None and carol.list_namespaces() == []


def test_principal_from_the_runtime_context(store: MemCubeStore) -> None:
    from dataclasses import dataclass

    from langgraph.config import get_store

    @dataclass
    class Context:
        user_id: str

    def node(state: State) -> dict:
        get_store().put(("ctx",), "k", {"v": 1})
        return {"out": []}

    graph = (
        StateGraph(State, context_schema=Context)
        .add_node("node", node)
        .add_edge(START, "node")
        .compile(store=store)
    )
    graph.invoke({"action": "write", "out": []}, context=Context(user_id="erin"))
    assert store.vault.list(Principal(id="erin"))[0].access.owner == "erin"
    assert store.get(("ctx",), "k") is None  # alice (the store's principal) sees nothing


def test_grants_share_items_read_only(store: MemCubeStore) -> None:
    store.put(("team", "alice"), "plan", {"v": 1})
    bob = MemCubeStore(store.vault, principal="bob")
    assert bob.get(("team", "alice"), "plan") is None
    store.vault.grant(store.principal, ("team", "alice"), "bob")
    assert bob.get(("team", "alice"), "plan").value == {"v": 1}
    with pytest.raises(PermissionDeniedError):
        bob.put(("team", "alice"), "plan", {"v": 2})
    assert store.get(("team", "alice"), "plan").value == {"v": 1}


# -- versions ------------------------------------------------------------------------------


def test_overwrite_is_a_new_version_and_delete_a_tombstone(store: MemCubeStore) -> None:
    vault, me = store.vault, store.principal
    store.put(("h",), "k", {"v": 1})
    first = store.get(("h",), "k")
    store.put(("h",), "k", {"v": 2})
    cube = vault.list(me, filter=CubeFilter(key="k"))[0]
    history = vault.history(me, cube.id)
    assert [c.version for c in history] == [1, 2]
    assert [c.payload.data for c in history] == [{"v": 1}, {"v": 2}]
    assert history[0].superseded_by == history[1].version_id
    store.delete(("h",), "k")
    assert [c.status for c in vault.history(me, cube.id)][-1] is LifecycleStatus.DELETED
    store.put(("h",), "k", {"v": 3})  # a fresh item: a new cube, the old history survives
    fresh = store.get(("h",), "k")
    assert fresh.created_at > first.created_at
    every = vault.list(me, filter=CubeFilter(key="k", statuses=None))
    assert sorted(c.version for c in every) == [1, 3]
    assert len(vault.history(me, cube.id)) == 3
    assert vault.audit_log(me, action="update")  # store writes are audited vault calls


# -- opening, persistence ------------------------------------------------------------------


def test_from_path_persists_and_closes(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    with MemCubeStore.from_path(path, principal="alice") as store:
        store.put(("p",), "k", {"v": [1, 2.5, "x", None, True]})
    with MemCubeStore.from_path(path, principal="alice") as store:
        assert store.get(("p",), "k").value == {"v": [1, 2.5, "x", None, True]}
        assert store.list_namespaces() == [("p",)]


async def test_async_context_manager_and_twins() -> None:
    async with MemCubeStore.from_path(":memory:", principal="alice") as store:
        await store.aput(("a",), "k", {"v": 1}, ttl=5)
        assert (await store.aget(("a",), "k")).value == {"v": 1}
        assert [i.key for i in await store.asearch(("a",), filter={"v": 1})] == ["k"]
        assert await store.alist_namespaces(prefix=("a",)) == [("a",)]
        await store.adelete(("a",), "k")
        assert await store.aget(("a",), "k") is None
        assert await store.asweep_ttl() == 0
        results = await asyncio.gather(*(store.aput(("c",), f"k{i}", {"i": i}) for i in range(8)))
        assert results == [None] * 8
        assert sorted(i.key for i in await store.asearch(("c",), limit=20)) == [
            f"k{i}" for i in range(8)
        ]


# -- LangMem on top ------------------------------------------------------------------------


def test_langmem_tools_work_on_the_store(indexed: MemCubeStore) -> None:
    from langmem import create_manage_memory_tool, create_search_memory_tool

    manage = create_manage_memory_tool(namespace=("memories", "{langgraph_user_id}"), store=indexed)
    search = create_search_memory_tool(namespace=("memories", "{langgraph_user_id}"), store=indexed)
    alice = {"configurable": {"langgraph_user_id": "alice"}}
    bob = {"configurable": {"langgraph_user_id": "bob"}}
    out = manage.invoke({"content": "User prefers green tea in the morning"}, alice)
    memory_id = out.split()[-1]
    manage.invoke({"content": "User's cat is called Miso"}, alice)
    found = search.invoke({"query": "favourite hot beverage"}, alice)
    assert "green tea" in found.split("Miso")[0]  # the tea memory ranks first
    manage.invoke(
        {"action": "update", "id": memory_id, "content": "User prefers oolong tea"}, alice
    )
    item = indexed.get(("memories", "alice"), memory_id)
    assert item.value == {"content": "User prefers oolong tea"}
    assert item.created_at < item.updated_at
    # the principal came from LangMem's own config key; bob sees nothing of alice's
    cube = indexed.vault.list(Principal(id="alice"), filter=CubeFilter(key=memory_id))[0]
    assert cube.access.owner == "alice" and cube.version == 2
    assert "tea" not in search.invoke({"query": "tea"}, bob)
    manage.invoke({"action": "delete", "id": memory_id}, alice)
    assert indexed.get(("memories", "alice"), memory_id) is None


async def test_langmem_async_tools(indexed: MemCubeStore) -> None:
    from langmem import create_manage_memory_tool, create_search_memory_tool

    manage = create_manage_memory_tool(namespace=("memories", "{langgraph_user_id}"), store=indexed)
    search = create_search_memory_tool(namespace=("memories", "{langgraph_user_id}"), store=indexed)
    cfg = {"configurable": {"langgraph_user_id": "dora"}}
    await manage.ainvoke({"content": "Dora runs marathons"}, cfg)
    assert "marathons" in await search.ainvoke({"query": "sports"}, cfg)
    assert indexed.vault.list(Principal(id="dora"))[0].access.owner == "dora"


def test_refresh_does_not_touch_items_without_ttl(store: MemCubeStore) -> None:
    store.put(("x",), "k", {"v": 1})
    assert expiry(store, "k") is None
    store.get(("x",), "k")
    assert expiry(store, "k") is None
