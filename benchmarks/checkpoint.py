"""LangGraph checkpointers side by side: memos-lc's MemCubeSaver (Qdrant Edge, embedded)
against LangGraph's InMemorySaver and SqliteSaver, in one process run.

Workload: a real ``StateGraph`` that loops 20 times (one node appends a message each step),
run on 100 threads (conversation threads, run one after another) by each checkpointer.

* **graph run**: wall time of the 100 ``invoke`` calls and per-invoke p50/p95. Systems take
  turns in rounds (a slice of the threads each), so machine noise hits all of them alike.
* **saver calls**: the exact ``put`` / ``put_writes`` / ``get_tuple`` calls one graph run
  makes are recorded, then replayed on 100 new threads against each saver from one Python
  thread, timing every call (p50/p95): ``run`` (all the calls of one graph run, summed; for
  MemCubeSaver with the flush of its deferred puts), ``put``, ``put_writes``,
  ``get_tuple_new`` (the graph's first call, on a thread not yet there), ``get_tuple``
  (latest), ``get_tuple`` by checkpoint id, and ``list`` (a full history). MemCubeSaver's
  vault round trips per call are counted too. The graph run is what a user waits for; the
  replay shows where the time goes, with no LangGraph threads competing for the GIL.

SQLite runs twice: as ``SqliteSaver.from_conn_string`` opens it (WAL, ``synchronous=FULL``:
an fsync per commit, survives power loss) and with ``synchronous=NORMAL`` (survives a crash
of the process, not power loss - the guarantee of the embedded vault without ``fsync``).

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.checkpoint [--threads 100] [--steps 20]
        [--rounds 5] [--profile] [--out benchmarks/results/checkpoint.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import operator  # noqa: E402
import pstats  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Any, TypedDict  # noqa: E402

from langgraph.checkpoint.base import BaseCheckpointSaver  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402

from benchmarks.common import machine_info  # noqa: E402
from memos_lc.checkpoint import MemCubeSaver  # noqa: E402

MEMORY = "langgraph_inmemory"
SQLITE = "langgraph_sqlite"
SQLITE_NORMAL = "langgraph_sqlite_normal"
OURS = "memos_lc_memcube"
SYSTEMS = (MEMORY, SQLITE, SQLITE_NORMAL, OURS)
CALLS = ("run", "put", "put_writes", "get_tuple_new", "get_tuple", "get_tuple_by_id", "list")


class State(TypedDict):
    messages: Annotated[list[str], operator.add]
    step: int
    topic: str


def build_graph(saver: BaseCheckpointSaver, steps: int) -> Any:
    """A node that appends a ~200-character message, looping ``steps`` times."""

    def agent(state: State) -> dict[str, Any]:
        n = state["step"]
        text = f"step {n} on {state['topic']}: " + "lorem ipsum dolor sit amet " * 7
        return {"messages": [text], "step": n + 1}

    def route(state: State) -> str:
        return "agent" if state["step"] < steps else END

    builder = StateGraph(State)
    builder.add_node("agent", agent)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route)
    return builder.compile(checkpointer=saver)


def first_input(i: int) -> dict[str, Any]:
    return {"messages": [], "step": 0, "topic": f"topic {i}"}


@contextlib.contextmanager
def open_saver(name: str, root: Path) -> Iterator[BaseCheckpointSaver]:
    """A fresh saver of each kind, on its own files under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if name == MEMORY:
        yield InMemorySaver()
    elif name in (SQLITE, SQLITE_NORMAL):
        conn = sqlite3.connect(str(root / "checkpoints.sqlite"), check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()
        if name == SQLITE_NORMAL:
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield saver
        finally:
            conn.close()
    elif name == OURS:
        # the peers have no principals; ours acts as one user named here (a graph run names
        # nobody, and a saver with no principal refuses it: see docs/concepts.md)
        with MemCubeSaver.from_path(str(root / "vault"), principal="bench") as saver:
            yield saver
    else:  # pragma: no cover - argparse restricts the names
        raise ValueError(name)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 0.50) * 1e3, 3),
        "p95_ms": round(pct(values, 0.95) * 1e3, 3),
        "mean_ms": round(statistics.fmean(values) * 1e3, 3),
    }


# -- graph runs ----------------------------------------------------------------------------------


def run_graphs(
    systems: Sequence[str], root: Path, threads: int, steps: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """Each system runs ``threads`` graph invocations, in ``rounds`` interleaved slices."""
    per_invoke: dict[str, list[float]] = defaultdict(list)
    with contextlib.ExitStack() as stack:
        graphs = {
            s: build_graph(stack.enter_context(open_saver(s, root / f"graph-{s}")), steps)
            for s in systems
        }
        for g in graphs.values():  # warm up: imports, first writes, caches
            g.invoke(first_input(-1), {"configurable": {"thread_id": "warmup"}})
        bounds = [threads * r // rounds for r in range(rounds + 1)]
        for r in range(rounds):
            for s, g in graphs.items():
                for i in range(bounds[r], bounds[r + 1]):
                    t0 = time.perf_counter()
                    out = g.invoke(first_input(i), {"configurable": {"thread_id": f"t-{i}"}})
                    per_invoke[s].append(time.perf_counter() - t0)
                    assert out["step"] == steps and len(out["messages"]) == steps, s
        for g in graphs.values():  # every system kept every thread's full state
            state = g.get_state({"configurable": {"thread_id": f"t-{threads - 1}"}})
            assert state.values["step"] == steps and len(state.values["messages"]) == steps
    return {
        s: {"total_s": round(sum(v), 3), "invoke": summary_ms(v)} for s, v in per_invoke.items()
    }


# -- saver calls ---------------------------------------------------------------------------------


def record_calls(steps: int) -> list[tuple[str, tuple[Any, ...]]]:
    """The checkpointer calls one graph run makes, in order (deep copies of the arguments)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Recorder(InMemorySaver):
        def put(self, *args: Any) -> Any:
            calls.append(("put", copy.deepcopy(args)))
            return super().put(*args)

        def put_writes(self, *args: Any) -> Any:
            calls.append(("put_writes", copy.deepcopy(args)))
            return super().put_writes(*args)

        def get_tuple(self, config: Any) -> Any:
            calls.append(("get_tuple", (copy.deepcopy(config),)))
            return super().get_tuple(config)

    build_graph(Recorder(), steps).invoke(first_input(0), {"configurable": {"thread_id": "r"}})
    return calls


def retarget(args: tuple[Any, ...], thread_id: str) -> tuple[Any, ...]:
    args = copy.deepcopy(args)
    args[0]["configurable"]["thread_id"] = thread_id
    return args


class VaultCounter:
    """Counts MemVault calls (round trips) made through a MemCubeSaver."""

    def __init__(self, saver: MemCubeSaver) -> None:
        self.counts: Counter[str] = Counter()
        self.saver = saver
        self.inner = saver.vault

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if name != "waiting":  # a look at the vault's own memory, not a round trip
                self.counts[name] += 1
            return attr(*args, **kwargs)

        return call

    def __enter__(self) -> VaultCounter:
        self.saver.vault = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.saver.vault = self.inner


def replay_thread(
    saver: BaseCheckpointSaver,
    thread_id: str,
    calls: list[tuple[str, tuple[Any, ...]]],
    timings: dict[str, list[float]],
    trips: Counter[str] | None,
    profiler: cProfile.Profile | None,
) -> None:
    """One recorded graph run on a new thread, then reads of its latest checkpoint, of one in
    the middle and of its history, each call timed. ``get_tuple_new`` is the graph's first
    call, on a thread that does not exist yet; ``run`` is the sum of the recorded calls, the
    saver's whole share of one graph run (for MemCubeSaver with the flush of its deferred
    puts, which the next vault call would otherwise pay)."""
    counter = VaultCounter(saver) if trips is not None and isinstance(saver, MemCubeSaver) else None

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        before = sum(counter.counts.values()) if counter else 0
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
        timings[name].append(elapsed)
        if counter is not None and trips is not None:
            trips[name] += sum(counter.counts.values()) - before
            trips[f"_{name}_calls"] += 1
        return result

    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    with counter or contextlib.nullcontext():
        run = 0.0
        for name, args in calls:
            fn = functools.partial(getattr(saver, name), *retarget(args, thread_id))
            label = "get_tuple_new" if name == "get_tuple" else name
            timed(label, fn)
            run += timings[label][-1]
        if isinstance(saver, MemCubeSaver):  # the run's deferred puts, into the engine
            t0 = time.perf_counter()
            saver.vault.flush()
            run += time.perf_counter() - t0
        timings["run"].append(run)
        history = list(saver.list(config))
        middle = history[len(history) // 2].config
        assert timed("get_tuple", lambda: saver.get_tuple(config)) is not None
        assert timed("get_tuple_by_id", lambda: saver.get_tuple(middle)) is not None
        assert len(timed("list", lambda: list(saver.list(config)))) == len(history)


def replay_calls(
    systems: Sequence[str],
    root: Path,
    calls: list[tuple[str, tuple[Any, ...]]],
    threads: int,
    profile: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, float], str | None]:
    """Replay one graph run's calls on ``threads`` new threads per system, timing each."""
    timings: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in systems}
    trips: Counter[str] = Counter()
    profiler = cProfile.Profile() if profile else None
    with contextlib.ExitStack() as stack:
        savers = {s: stack.enter_context(open_saver(s, root / f"replay-{s}")) for s in systems}
        for saver in savers.values():  # warm up, untimed
            replay_thread(saver, "warmup", calls, defaultdict(list), None, None)
        for t in range(threads):  # systems take turns thread by thread
            for s, saver in savers.items():
                replay_thread(
                    saver,
                    f"r-{t}",
                    calls,
                    timings[s],
                    trips if s == OURS else None,
                    profiler if s == OURS else None,
                )
    report = None
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
        report = out.getvalue()
    results = {s: {name: summary_ms(v) for name, v in timings[s].items()} for s in systems}
    per_call = {
        name: round(trips[name] / trips[f"_{name}_calls"], 2)
        for name in CALLS
        if trips[f"_{name}_calls"]
    }
    return results, per_call, report


# -- report ----------------------------------------------------------------------------------------


def ratios(graph: dict[str, Any], calls: dict[str, Any]) -> dict[str, Any]:
    """How MemCubeSaver compares: time of ours / time of theirs (below 1: ours is faster)."""
    out: dict[str, Any] = {}
    if OURS not in graph:
        return out
    for peer in (s for s in graph if s != OURS):
        entry = {
            "graph_total": round(graph[OURS]["total_s"] / graph[peer]["total_s"], 2),
            "graph_invoke_p50": round(
                graph[OURS]["invoke"]["p50_ms"] / graph[peer]["invoke"]["p50_ms"], 2
            ),
        }
        for name in CALLS:
            if name in calls.get(OURS, {}) and name in calls.get(peer, {}):
                entry[f"{name}_p50"] = round(
                    calls[OURS][name]["p50_ms"] / max(calls[peer][name]["p50_ms"], 1e-6), 2
                )
        out[f"vs_{peer}"] = entry
    return out


def print_table(graph: dict[str, Any], calls: dict[str, Any], rt: dict[str, Any]) -> None:
    print("\ngraph runs (one invoke = one thread, 20-step loop)")
    print(f"{'system':26s} {'total s':>9s} {'p50 ms':>9s} {'p95 ms':>9s}")
    for s, r in graph.items():
        inv = r["invoke"]
        print(f"{s:26s} {r['total_s']:9.2f} {inv['p50_ms']:9.2f} {inv['p95_ms']:9.2f}")
    print("\nsaver calls, p50 / p95 ms (run: all calls of one graph run, summed)")
    print(f"{'system':26s}" + "".join(f"{n:>20s}" for n in CALLS))
    for s, r in calls.items():
        cells = "".join(
            f"{r[n]['p50_ms']:>10.3f} /{r[n]['p95_ms']:>8.3f}" if n in r else f"{'-':>20s}"
            for n in CALLS
        )
        print(f"{s:26s}{cells}")
    print("\nMemCubeSaver time / peer time (below 1: MemCubeSaver is faster)")
    for peer, entry in rt.items():
        print(f"  {peer:30s} " + "  ".join(f"{k}={v}" for k, v in entry.items()))


PACKAGES = (
    "memos-lc",
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "qdrant-edge-py",
)


def environment() -> dict[str, Any]:
    """The machine, the packages compared and the SQLite library SqliteSaver runs on."""
    return {**machine_info(PACKAGES), "sqlite": sqlite3.sqlite_version}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=100, help="threads (graph runs) per system")
    p.add_argument("--steps", type=int, default=20, help="loop iterations of the graph")
    p.add_argument("--rounds", type=int, default=5, help="interleaved slices of the threads")
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    p.add_argument("--profile", action="store_true", help="cProfile MemCubeSaver's calls")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/checkpoint.json"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="memos-ckpt-bench-") as tmp:
        root = Path(tmp)
        graph = run_graphs(args.systems, root, args.threads, args.steps, args.rounds)
        recorded = record_calls(args.steps)
        calls, trips, profile = replay_calls(
            args.systems, root, recorded, args.threads, args.profile
        )
    rt = ratios(graph, calls)
    result = {
        "benchmark": "checkpoint",
        "params": {
            "threads": args.threads,
            "steps": args.steps,
            "rounds": args.rounds,
            "recorded_calls": dict(Counter(name for name, _ in recorded)),
        },
        "environment": environment(),
        "graph": graph,
        "calls": calls,
        "memcube_vault_calls_per_saver_call": trips,
        "ratios": rt,
        "seconds": round(time.time() - started, 1),
    }
    print_table(graph, calls, rt)
    print(f"\nMemCubeSaver vault round trips per call: {trips}")
    if profile:
        print("\nprofile of MemCubeSaver's calls (tottime):\n" + profile)
        result["profile_top"] = profile
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
