"""Memory over MCP under concurrent clients, beside direct vault calls: the same workload
(80% search, 20% add by default; each client acts as its own principal in its own namespace)
first from threads calling the vault in this process, then from concurrent MCP client
sessions over streamable HTTP on loopback to a ``memos-lc mcp --http`` subprocess serving
the same vault. Reports ops/s, p50/p95/p99 per operation and every error for both, and the
ratios MCP / direct.

Both sides embed each query and each added text with the bundled MiniLM (an MCP client
sends text; the server embeds it), so the ratio is what MCP adds to a call: JSON-RPC over
HTTP, the bearer-token check, the hop to a worker thread, and the clients' own work, which
shares the machine's cores with the server.

Data: a bulk-loaded vault of ``--size`` synthetic memories (``benchmarks/vault.py``'s corpus,
100 owners: ``benchmarks/load.py``'s ``multi`` layout), searched with its generated questions.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.mcp_load --size 10000 --seconds 30 --clients 4 \\
        --out benchmarks/results/mcp_load.json
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.common import bench_main, machine_info  # noqa: E402
from benchmarks.load import corpus_options, load, summary  # noqa: E402
from benchmarks.vault import Corpus, build_corpus, build_queries, owner_name  # noqa: E402

LIMIT = 10
LAYOUT = "multi"
CONSOLE_SCRIPT = Path(sys.executable).parent / "memos-lc"
PACKAGES = ("memos-lc", "mcp", "qdrant-edge-py", "uvicorn", "httpx")


class Script:
    """One client's seeded sequence of operations: ``("search", question)`` or
    ``("add", text)``; both phases replay the same sequences."""

    def __init__(self, n: int, corpus: Corpus, queries: Corpus, args: argparse.Namespace) -> None:
        self.rng = random.Random(args.seed * 1000 + n)
        self.n, self.corpus, self.queries, self.ratio = n, corpus, queries, args.search_ratio
        self.adds = 0

    def next(self, phase: str) -> tuple[str, str]:
        if self.rng.random() < self.ratio:
            return "search", self.rng.choice(self.queries.texts)
        self.adds += 1
        base = self.rng.choice(self.corpus.texts)
        return "add", f"{base} (noted again over {phase}, client {self.n} #{self.adds})"


class Tally:
    """Latencies (ms) per operation and errors of one client."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {"search": [], "add": []}
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.ended = 0.0
        """When its last operation ended (a phase's clock stops at the last one)."""

    def failed(self, op: str, what: str) -> None:
        self.errors[f"{op}: {what.split(':')[0][:80]}"] += 1
        if len(self.samples) < 5:
            self.samples.append(what[:500])


def phase_report(tallies: Sequence[Tally], started: float) -> dict[str, Any]:
    elapsed = max(t.ended for t in tallies) - started
    ms = {op: [x for t in tallies for x in t.ms[op]] for op in ("search", "add")}
    errors: Counter[str] = Counter()
    for t in tallies:
        errors.update(t.errors)
    ops = sum(len(v) for v in ms.values())
    return {
        "elapsed_s": round(elapsed, 2),
        "ops": ops,
        "ops_per_s": round(ops / elapsed, 1),
        "search": summary(ms["search"]),
        "add": summary(ms["add"]),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "error_samples": [s for t in tallies for s in t.samples][:5],
    }


# -- direct: threads calling the vault -----------------------------------------------------------


def direct_phase(vault: Any, scripts: list[Script], seconds: float) -> dict[str, Any]:
    from memos_lc import Principal

    tallies = [Tally() for _ in scripts]
    barrier = threading.Barrier(len(scripts) + 1)
    deadline = [0.0]

    def client(script: Script, tally: Tally) -> None:
        who = Principal(owner_name(LAYOUT, script.n))
        ns = (who.id,)
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            op, text = script.next("direct")
            t0 = time.perf_counter()
            try:
                if op == "search":
                    vault.search(who, text, namespace=ns, limit=LIMIT)
                else:
                    vault.add(who, text, namespace=ns)
            except Exception as e:  # counted and reported: the target is zero
                tally.failed(op, f"{type(e).__name__}: {e}")
                continue
            tally.ms[op].append((time.perf_counter() - t0) * 1000)
        tally.ended = time.perf_counter()

    threads = [
        threading.Thread(target=client, args=(s, t), daemon=True)
        for s, t in zip(scripts, tallies, strict=True)
    ]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    return phase_report(tallies, t0)


# -- MCP: client sessions over streamable HTTP ---------------------------------------------------


class Server:
    """``memos-lc mcp --http`` on a free loopback port, as a subprocess."""

    def __init__(self, location: Path, tokens: dict[str, str]) -> None:
        env = dict(os.environ, MEMOS_LC_MCP_TOKENS=json.dumps(tokens))
        env.pop("MEMOS_LC_PRINCIPAL", None)
        cmd = [str(CONSOLE_SCRIPT), "--vault", str(location), "mcp", "--http", "--port", "0"]
        self.proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        self.url = ""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # until it says where it serves
            self.log.append(line)
            if " serving " in line:
                self.url = line.split(" serving ", 1)[1].split()[0]
                break
        if not self.url:
            raise RuntimeError("memos-lc mcp did not start:\n" + "".join(self.log))
        self._drain = threading.Thread(target=self._read, daemon=True)  # a full pipe blocks it
        self._drain.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        self.log.extend(self.proc.stderr)

    def stop(self) -> float:
        """Stop it as Ctrl-C would (the vault closes); returns its CPU seconds."""
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.proc.send_signal(2)
        if self.proc.wait(timeout=60) != 0:
            raise RuntimeError("memos-lc mcp failed:\n" + "".join(self.log))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)


async def mcp_phase(
    url: str, tokens: dict[int, str], scripts: list[Script], seconds: float
) -> dict[str, Any]:
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    tallies = [Tally() for _ in scripts]
    ready = asyncio.Barrier(len(scripts) + 1)
    go = asyncio.Event()  # set once the deadline is
    deadline = [0.0]

    async def client(script: Script, tally: Tally) -> None:
        ns = owner_name(LAYOUT, script.n)
        headers = {"Authorization": f"Bearer {tokens[script.n]}"}
        async with (
            httpx.AsyncClient(headers=headers, timeout=60) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()  # untimed, as a host does once
            await ready.wait()
            await go.wait()
            while time.perf_counter() < deadline[0]:
                op, text = script.next("mcp")
                if op == "search":
                    tool, args = "search_memory", {"query": text, "namespace": ns, "limit": LIMIT}
                else:
                    tool, args = "add_memory", {"text": text, "namespace": ns}
                t0 = time.perf_counter()
                try:
                    result = await session.call_tool(tool, args)
                except Exception as e:  # transport failures count too
                    tally.failed(op, f"{type(e).__name__}: {e}")
                    continue
                if result.isError:
                    tally.failed(op, result.content[0].text if result.content else "tool error")
                    continue
                tally.ms[op].append((time.perf_counter() - t0) * 1000)
            tally.ended = time.perf_counter()  # closing the session is not timed

    tasks = [asyncio.create_task(client(s, t)) for s, t in zip(scripts, tallies, strict=True)]
    await ready.wait()
    deadline[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    return phase_report(tallies, t0)


# -- the run ---------------------------------------------------------------------------------------


def ratio(num: float | None, den: float | None) -> float | None:
    return round(num / den, 2) if num is not None and den else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    from memos_lc import MemVault, Principal
    from memos_lc.embeddings import default_embeddings
    from memos_lc.vault import CubeFilter

    started = time.perf_counter()
    emb = default_embeddings()
    queries = build_queries(args.queries, args.seed, emb)
    corpus, embed_s = build_corpus(args.size, args.pool, args.noise, args.seed, emb)
    args.layout = LAYOUT  # what benchmarks.load.load() reads
    report: dict[str, Any] = {
        "machine": machine_info(PACKAGES),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "size": args.size,
            "seconds": args.seconds,
            "clients": args.clients,
            "search_ratio": args.search_ratio,
            "layout": LAYOUT,
            "limit": LIMIT,
            "pool": args.pool,
            "pool_embed_s": round(embed_s, 2),
            "queries": args.queries,
            "seed": args.seed,
            "notes": [
                "each client acts as its own principal (user0, user1, ...) over its own "
                "namespace; search: hybrid, limit 10; add: one plaintext memory",
                "both phases embed every query and added text with MiniLM (no precomputed "
                "vectors): the ratio is the cost MCP adds to the same vault work",
                "direct: threads in this process; mcp: one MCP session per client (asyncio, "
                "this process) to a `memos-lc mcp --http` subprocess on 127.0.0.1 "
                "(stateless streamable HTTP, JSON responses, bearer tokens)",
            ],
        },
    }
    tokens = {n: secrets.token_urlsafe(24) for n in range(args.clients)}
    with tempfile.TemporaryDirectory(prefix="bench-mcp-", ignore_cleanup_errors=True) as tmp:
        location = Path(tmp) / "vault"
        vault = MemVault.open(location, embeddings=emb, auto_optimize=None)
        try:
            report["load"] = load(vault, corpus, args)
            print(f"loaded {args.size} cubes: {report['load']}")
            for q in queries.texts[: args.warmup]:  # untimed
                vault.search(Principal(owner_name(LAYOUT, 0)), q, limit=LIMIT)
            scripts = [Script(n, corpus, queries, args) for n in range(args.clients)]
            report["direct"] = direct_phase(vault, scripts, args.seconds)
            print(f"direct: {report['direct']['ops_per_s']} ops/s")
        finally:
            vault.close()  # the server opens it next

        server = Server(location, {tokens[n]: owner_name(LAYOUT, n) for n in tokens})
        try:
            scripts = [Script(n, corpus, queries, args) for n in range(args.clients)]
            report["mcp"] = asyncio.run(mcp_phase(server.url, tokens, scripts, args.seconds))
        finally:
            report["mcp_server_cpu_s"] = server.stop()
        print(f"mcp: {report['mcp']['ops_per_s']} ops/s")

        with MemVault.open(location, embeddings=emb) as vault:
            admin = Principal("root", roles=frozenset({"admin"}))
            stored = vault.count(admin, filter=CubeFilter(statuses=None))
    added = report["direct"]["add"]["count"] + report["mcp"]["add"]["count"]
    report["cubes_after"] = stored
    report["no_lost_adds"] = stored == args.size + added
    d, m = report["direct"], report["mcp"]
    report["ratios_mcp_over_direct"] = {
        "ops_per_s": ratio(m["ops_per_s"], d["ops_per_s"]),
        **{
            f"{op}_{q}": ratio(m[op][f"{q}_ms"], d[op][f"{q}_ms"])
            for op in ("search", "add")
            for q in ("p50", "p99")
        },
    }
    report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def print_report(r: dict[str, Any]) -> None:
    c = r["config"]
    print(
        f"\n{c['size']} cubes ({c['layout']}), {c['clients']} clients, "
        f"{c['search_ratio']:.0%} search, {c['seconds']:g} s per side"
    )
    for side in ("direct", "mcp"):
        w = r[side]
        errors = f"errors {w['errors']} {w['errors_by_kind'] or ''}"
        print(f"  {side:<6} {w['ops_per_s']} ops/s  {errors}")
        for op in ("search", "add"):
            s = w[op]
            print(
                f"    {op:<6} n={s['count']:<6} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  "
                f"p99 {s['p99_ms']} ms  max {s['max_ms']} ms"
            )
    ratios = "  ".join(f"{k} {v}x" for k, v in r["ratios_mcp_over_direct"].items())
    print(f"  mcp/direct: {ratios}")
    print(f"  server CPU {r['mcp_server_cpu_s']} s; no lost adds: {r['no_lost_adds']}")
    print(f"  load average before {r['loadavg_before']} after {r['loadavg_after']}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.mcp_load",
        description=" ".join((__doc__ or "").split("\n\n")[0].split()),
    )
    p.add_argument("--size", type=int, default=10_000, help="cubes loaded before the workload")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each timed side")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (each a principal)")
    p.add_argument("--search-ratio", type=float, default=0.8, help="share of searches")
    corpus_options(p, pool=1000, queries=300, warmup=10)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/mcp_load.json"))
    args = p.parse_args(argv)
    if not 0 <= args.search_ratio <= 1 or not 1 <= args.clients <= 100 or args.size < 100:
        p.error("need 0 <= --search-ratio <= 1, 1 <= --clients <= 100 and --size >= 100")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return bench_main(parse_args, run, print_report, argv)


if __name__ == "__main__":
    main()
