"""Sustained load on one embedded vault: bulk-load N cubes, build the index, then run a mixed
workload (80% search, 20% add by default) from several threads for a fixed time, and report
throughput, latency percentiles per operation and every error.

Data: the same synthetic memory sentences as ``benchmarks/vault.py``. A pool of unique sentences
(``--pool``, default 3000) is embedded with the bundled MiniLM; every cube takes a pool
sentence with a re-drawn date as its text and the pool vector plus a little Gaussian noise
(re-normalized) as its vector, so 100k cubes cost the embedding of 3k sentences (~15 s)
instead of 100k (~8 min). Queries are real MiniLM embeddings of generated questions. Cubes
added during the workload are drawn the same way (a corpus vector plus fresh noise).

Timed calls get precomputed vectors: latencies are the vault's (filters, ACL, hybrid dense +
BM25 search with RRF, audit record), not the embedding model's. A search runs as the
principal that owns the cubes it may find (``--layout single``: one owner of all N cubes, so
every search ranks all of them; ``multi``: 100 owners, searches filtered to one). Adds are
``vault.put`` of one new cube as a random owner.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.load --size 100000 --seconds 60 \\
        --out benchmarks/results/load.json
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from benchmarks.common import bench_main, machine_info  # noqa: E402
from benchmarks.vault import (  # noqa: E402
    DIMS,
    PACKAGES,
    USERS,
    Corpus,
    build_corpus,
    build_queries,
    owner_name,
    plan_batches,
)

LIMIT = 10
SEARCH_P99_TARGET_MS = 50.0


def pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def summary(lat: list[float]) -> dict[str, Any]:
    """Count and latency percentiles (ms) of one operation."""
    return {
        "count": len(lat),
        "mean_ms": round(float(np.mean(lat)), 3) if lat else None,
        "p50_ms": pct(lat, 50),
        "p95_ms": pct(lat, 95),
        "p99_ms": pct(lat, 99),
        "max_ms": round(max(lat), 3) if lat else None,
    }


class Worker(threading.Thread):
    """One client thread: a seeded mix of searches and adds until the deadline."""

    def __init__(
        self,
        n: int,
        vault: Any,
        corpus: Corpus,
        queries: Corpus,
        args: argparse.Namespace,
        start: threading.Barrier,
        deadline: list[float],
    ) -> None:
        super().__init__(name=f"load-{n}", daemon=True)
        self.rng = random.Random(args.seed * 1000 + n)
        self.nrng = np.random.default_rng(args.seed * 1000 + n)
        self.vault, self.corpus, self.queries, self.args = vault, corpus, queries, args
        self.start_barrier, self.deadline = start, deadline
        self.search_ms: list[float] = []
        self.add_ms: list[float] = []
        self.hits: list[int] = []
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.added = 0

    def _principal(self, user: int) -> Any:
        from memos_lc import Principal

        return Principal(id=owner_name(self.args.layout, user))

    def search(self) -> None:
        j = self.rng.randrange(len(self.queries.texts))
        user = self.rng.randrange(USERS)
        ns = (owner_name(self.args.layout, user),) if self.args.layout == "multi" else None
        t0 = time.perf_counter()
        hits = self.vault.search(
            self._principal(user),
            self.queries.texts[j],
            query_vector=self.queries.vectors[j],
            namespace=ns,
            limit=LIMIT,
        )
        self.search_ms.append((time.perf_counter() - t0) * 1000)
        self.hits.append(len(hits))

    def add(self) -> None:
        from memos_lc.cube import MemCube

        i = self.rng.randrange(len(self.corpus.texts))
        vec = self.corpus.vectors[i] + self.nrng.standard_normal(DIMS, dtype=np.float32) * (
            self.args.noise / np.sqrt(DIMS)
        )
        vec /= np.linalg.norm(vec)
        user = self.rng.randrange(USERS)
        text = f"{self.corpus.texts[i]} (noted again, {self.name} #{self.added})"
        t0 = time.perf_counter()
        cube = MemCube.from_text(text, namespace=(owner_name(self.args.layout, user),))
        self.vault.put(self._principal(user), cube, vectors=[vec])
        self.add_ms.append((time.perf_counter() - t0) * 1000)
        self.added += 1

    def run(self) -> None:
        self.start_barrier.wait()
        while time.perf_counter() < self.deadline[0]:
            op = self.search if self.rng.random() < self.args.search_ratio else self.add
            try:
                op()
            except Exception as e:  # counted and reported: the target is zero
                self.errors[f"{op.__name__}: {type(e).__name__}"] += 1
                if len(self.samples) < 5:
                    self.samples.append(traceback.format_exc(limit=3))


def load(vault: Any, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    """Batched puts of the whole corpus, then an index build; returns the timings."""
    from memos_lc import Principal
    from memos_lc.cube import MemCube

    n = len(corpus.texts)
    users = [Principal(id=owner_name(args.layout, u)) for u in range(USERS)]
    t0 = time.perf_counter()
    for u, idx in tqdm(plan_batches(n, args.layout, args.batch), desc="load", mininterval=2):
        ns = (owner_name(args.layout, u),)
        cubes = [MemCube.from_text(corpus.texts[i], namespace=ns) for i in idx]
        vault.put(users[u], cubes, vectors=corpus.vectors[idx].tolist())
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vault.optimize()
    optimize_s = time.perf_counter() - t0
    return {
        "cubes": n,
        "upsert_s": round(upsert_s, 2),
        "upsert_per_s": round(n / upsert_s, 1),
        "optimize_s": round(optimize_s, 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from memos_lc import MemVault, Principal
    from memos_lc.embeddings import default_embeddings
    from memos_lc.vault.qdrant import CubeFilter

    started = time.perf_counter()
    emb = default_embeddings()
    queries = build_queries(args.queries, args.seed, emb)
    corpus, embed_s = build_corpus(args.size, args.pool, args.noise, args.seed, emb)
    report: dict[str, Any] = {
        "machine": machine_info(PACKAGES),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "size": args.size,
            "seconds": args.seconds,
            "threads": args.threads,
            "search_ratio": args.search_ratio,
            "layout": args.layout,
            "users": USERS,
            "limit": LIMIT,
            "batch": args.batch,
            "pool": args.pool,
            "pool_embed_s": round(embed_s, 2),
            "queries": args.queries,
            "noise": args.noise,
            "seed": args.seed,
            "notes": [
                f"{args.pool} unique sentences embedded with the bundled MiniLM; every cube is "
                "a pool sentence with a re-drawn date and the pool vector plus Gaussian noise",
                "queries are MiniLM embeddings of generated questions",
                "timed calls get precomputed vectors: latencies exclude embedding",
                "search: hybrid dense + BM25 with RRF, as the owning principal (ACL, head, "
                "status and expiry filters applied), limit 10; add: vault.put of one cube",
                "the vault is opened with auto_optimize=None: bulk load, optimize(), then the "
                "workload (cubes added meanwhile are searched without an index build)",
            ],
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-load-", ignore_cleanup_errors=True) as tmp:
        vault = MemVault.open(Path(tmp) / "vault", auto_optimize=None)
        try:
            report["load"] = load(vault, corpus, args)
            print(f"loaded {args.size} cubes: {report['load']}")
            for j in range(args.warmup):  # untimed
                vault.search(Principal(id=owner_name(args.layout, 0)), queries.texts[j],
                             query_vector=queries.vectors[j], limit=LIMIT)  # fmt: skip
            deadline = [0.0]
            barrier = threading.Barrier(args.threads + 1)
            workers = [
                Worker(n, vault, corpus, queries, args, barrier, deadline)
                for n in range(args.threads)
            ]
            for w in workers:
                w.start()
            deadline[0] = time.perf_counter() + args.seconds
            t0 = time.perf_counter()
            barrier.wait()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - t0
            admin = Principal(id="root", roles=frozenset({"admin"}))
            stored = vault.count(admin, filter=CubeFilter(statuses=None))
        finally:
            vault.close()
    search_ms = [x for w in workers for x in w.search_ms]
    add_ms = [x for w in workers for x in w.add_ms]
    errors: Counter[str] = Counter()
    for w in workers:
        errors.update(w.errors)
    added = sum(w.added for w in workers)
    ops = len(search_ms) + len(add_ms)
    report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    report["workload"] = {
        "elapsed_s": round(elapsed, 2),
        "ops": ops,
        "ops_per_s": round(ops / elapsed, 1),
        "search": summary(search_ms),
        "add": summary(add_ms),
        "mean_hits": round(float(np.mean([h for w in workers for h in w.hits])), 2)
        if search_ms
        else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "error_samples": [s for w in workers for s in w.samples][:5],
        "cubes_after": stored,
        "no_lost_adds": stored == args.size + added,
    }
    p99 = report["workload"]["search"]["p99_ms"]
    report["targets"] = {
        "zero_errors": report["workload"]["errors"] == 0,
        f"search_p99_le_{SEARCH_P99_TARGET_MS:g}ms": p99 is not None
        and p99 <= SEARCH_P99_TARGET_MS,
    }
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def print_report(r: dict[str, Any]) -> None:
    w = r["workload"]
    c = r["config"]
    print(
        f"\n{c['size']} cubes ({c['layout']}), {c['threads']} threads, "
        f"{c['search_ratio']:.0%} search, {w['elapsed_s']} s: {w['ops_per_s']} ops/s"
    )
    for op in ("search", "add"):
        s = w[op]
        print(
            f"  {op:<6} n={s['count']:<7} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  "
            f"p99 {s['p99_ms']} ms  max {s['max_ms']} ms"
        )
    print(f"  errors {w['errors']} {w['errors_by_kind'] or ''}  no lost adds: {w['no_lost_adds']}")
    print(f"  load average before {r['loadavg_before']} after {r['loadavg_after']}")
    print(f"  targets {r['targets']}")


def corpus_options(p: argparse.ArgumentParser, *, pool: int, queries: int, warmup: int) -> None:
    """The options of the synthetic corpus, its loading and its queries."""
    p.add_argument("--batch", type=int, default=1000, help="cubes per put while loading")
    p.add_argument("--pool", type=int, default=pool, help="unique sentences embedded with MiniLM")
    p.add_argument("--queries", type=int, default=queries, help="distinct query texts")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed searches before the run")
    p.add_argument("--noise", type=float, default=0.15, help="norm of the noise added to vectors")
    p.add_argument("--seed", type=int, default=7)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=" ".join((__doc__ or "").split("\n\n")[0].split()),
    )
    p.add_argument("--size", type=int, default=100_000, help="cubes loaded before the workload")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the timed workload")
    p.add_argument("--threads", type=int, default=4, help="client threads")
    p.add_argument("--search-ratio", type=float, default=0.8, help="share of searches")
    p.add_argument("--layout", choices=["single", "multi"], default="single")
    corpus_options(p, pool=3000, queries=500, warmup=20)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/load.json"))
    args = p.parse_args(argv)
    if not 0 <= args.search_ratio <= 1 or args.threads < 1 or args.size < USERS:
        p.error("need 0 <= --search-ratio <= 1, --threads >= 1 and --size >= 100")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return bench_main(parse_args, run, print_report, argv)


if __name__ == "__main__":
    main()
