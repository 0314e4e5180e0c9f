"""Time to first token measured in a memory graph: the same turn answered with a ~2k-token
memory as plaintext, then after a consolidation run promoted it to an activation (KV) cube
that the scheduler places.

The graph is ``memory_chat``'s: ``read -> schedule -> inject -> agent -> write_back ->
consolidate`` (:func:`memos_lc.nodes.with_memory`) with :func:`memos_lc.nodes.memory_agent`
answering through ChatMemOS on the bundled SmolLM2-135M-Instruct, greedy, over a MemVault
(with MemCubeStore as the graph's store) in a temporary directory. One memory cube holds a
block of team facts (``--block-tokens``, default 2000):

* ``plaintext``: each question is a turn of the graph; the scheduler places the block as
  text, the whole prompt is prefilled;
* ``consolidate(..., model=chat)`` (:mod:`memos_lc.lifecycle`) finds the block hot (recalled
  by every question) and compiles it into an activation cube for the chat model;
* ``activation``: the same questions again; the scheduler places the KV cube instead of the
  text (the memory nodes know the model's fingerprint), ChatMemOS reuses the prefix.

TTFT is what the agent node records in ``memory_trace`` (from its model call to the first
streamed token: planning, cube load, prefill and the first decoding step); the graph's other
nodes are timed too (``graph_s``). Each turn's write-back is purged after it, so every turn
sees the same memory and the two prompts are the same text. The replies of the two modes are
compared per question. Medians, the load average and the machine go in the JSON.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.ttft_graph [--block-tokens 2000] [--questions 3]
        [--max-tokens 16] [--out benchmarks/results/ttft_graph.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.common import bench_main  # noqa: E402
from benchmarks.ttft import (  # noqa: E402
    BLOCK_HEADER,
    QUESTIONS,
    build_block,
    load_average,
    load_model,
    ttft_machine_info,
)

NAMESPACE = ("memories", "bench")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ttft_graph",
        description=" ".join((__doc__ or "").split("\n\n")[0].split()),
    )
    p.add_argument("--block-tokens", type=int, default=2000, help="tokens of the memory block")
    p.add_argument("--questions", type=int, default=3, help="turns per mode (1..5)")
    p.add_argument("--max-tokens", type=int, default=16, help="greedy tokens per answer")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/ttft_graph.json"))
    args = p.parse_args(argv)
    if not 1 <= args.questions <= len(QUESTIONS):
        p.error(f"--questions must be 1..{len(QUESTIONS)}")
    return args


def memory_text(facts: list[str]) -> str:
    """The facts as ONE memory, one paragraph: the scheduler renders a memory as ``- `` and
    its text with runs of white space made one, the KV block as ``- `` and its text."""
    return f"- {BLOCK_HEADER} {' '.join(facts)}"


def turn(graph: Any, vault: Any, me: Any, question: str, thread: str) -> dict[str, Any]:
    """One graph turn, then its write-back purged (the next turn sees the same memory)."""
    config = {"configurable": {"thread_id": thread, "user_id": me.id}}
    started = time.perf_counter()
    out = graph.invoke({"messages": [("user", question)]}, config)
    graph_s = time.perf_counter() - started
    if out.get("memory_written"):
        vault.purge_many(me, out["memory_written"])
    plan = out.get("memory_plan") or {}
    return {
        "question": question,
        "ttft_s": out["memory_trace"]["ttft_ms"] / 1000,
        "graph_s": round(graph_s, 3),
        "reply": out["messages"][-1].content,
        "trace": out["memory_trace"],
        "placed": [(i["placement"], i["cube_id"], i["tokens"]) for i in plan.get("items", [])],
        "text_tokens": plan.get("text_tokens"),
        "total_tokens": plan.get("total_tokens"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from memos_lc import MemVault, Principal
    from memos_lc.chat_models import ChatMemOS
    from memos_lc.lifecycle import LifecyclePolicy, consolidate
    from memos_lc.nodes import MemoryNodes, memory_agent, with_memory
    from memos_lc.store import MemCubeStore

    started = time.perf_counter()
    load_before = os.getloadavg()
    lm = load_model(args.threads)
    me = Principal(id="bench")
    questions = QUESTIONS[: args.questions]
    block, block_tokens = build_block(lm.tokenizer, args.block_tokens, args.seed, memory_text)
    with tempfile.TemporaryDirectory(prefix="memos-ttft-graph-") as tmp:
        vault = MemVault.open(Path(tmp) / "vault")
        try:
            chat = ChatMemOS(local_model=lm, vault=vault, max_tokens=args.max_tokens)
            chat.invoke("Hello", max_tokens=2)  # untimed warm-up: first-call allocations
            memory = vault.add(me, block.removeprefix("- "), namespace=NAMESPACE)
            # the whole block fits; no header, so the text block and the KV block are the
            # same text
            nodes = MemoryNodes(
                vault, budget_tokens=block_tokens + 512, model=chat, header="",
                consolidate_every=0,
            )  # fmt: skip
            graph = with_memory(memory_agent(chat), nodes, store=MemCubeStore(vault))
            plain = [turn(graph, vault, me, q, f"plain-{n}") for n, q in enumerate(questions)]
            t0 = time.perf_counter()
            policy = LifecyclePolicy(hot_min_hits=len(questions), train_adapters=False)
            report = consolidate(vault, me, NAMESPACE, policy, model=chat)
            consolidate_s = time.perf_counter() - t0
            kv = [turn(graph, vault, me, q, f"kv-{n}") for n, q in enumerate(questions)]
            promoted = [vault.get(me, i) for i in report.activation_cubes]
        finally:
            vault.close()
    wall_s = time.perf_counter() - started
    pairs = list(zip(plain, kv, strict=True))
    ttft_plain = statistics.median(p["ttft_s"] for p in plain)
    ttft_kv = statistics.median(k["ttft_s"] for k in kv)
    return {
        "machine": ttft_machine_info(),
        "load_average": load_average(load_before),
        "config": {
            "model": lm.name,
            "fingerprint": lm.fingerprint,
            "block_tokens": block_tokens,
            "questions": questions,
            "max_tokens": args.max_tokens,
            "threads": args.threads,
            "seed": args.seed,
            "notes": [
                "TTFT = the agent node's model call to its first streamed token "
                "(memory_trace.ttft_ms), greedy decoding; graph_s = the whole graph turn",
                "plaintext: the memory cube placed as text; activation: after "
                "consolidate(model=chat) compiled it, the KV cube placed instead",
                "each turn's write-back is purged so every turn sees the same memory",
            ],
        },
        "memory_cube": memory.id,
        "consolidation": {
            "seconds": round(consolidate_s, 2),
            "summary": report.summary(),
            "activation_cubes": [
                {
                    "id": c.id,
                    "prefix_tokens": c.payload.prefix_tokens,
                    "derived_from": list(c.provenance.derived_from),
                }
                for c in promoted
            ],
        },
        "plaintext": plain,
        "activation": kv,
        "ttft_plaintext_s": round(ttft_plain, 4),
        "ttft_activation_s": round(ttft_kv, 4),
        "ratio": round(ttft_plain / ttft_kv, 1),
        "kv_placed_every_turn": all(
            any(p[0] == "activation" for p in k["placed"]) and k["trace"]["activation_used"]
            for k in kv
        ),
        "identical_replies": all(p["reply"] == k["reply"] for p, k in pairs),
        "different_replies": [
            {"question": p["question"], "plaintext": p["reply"], "activation": k["reply"]}
            for p, k in pairs
            if p["reply"] != k["reply"]
        ],
        "wall_s": round(wall_s, 1),
    }


def print_report(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print(
        f"\nmemory block {cfg['block_tokens']} tokens, {len(cfg['questions'])} turns per mode, "
        f"greedy {cfg['max_tokens']} tokens ({cfg['model']})"
    )
    print(f"consolidation: {report['consolidation']['summary']} "
          f"in {report['consolidation']['seconds']} s")  # fmt: skip
    print(f"{'question':<34} {'plain s':>8} {'KV s':>7} {'x':>6}  reused  same reply")
    for p, k in zip(report["plaintext"], report["activation"], strict=True):
        print(
            f"{p['question']:<34} {p['ttft_s']:>8.3f} {k['ttft_s']:>7.3f} "
            f"{p['ttft_s'] / k['ttft_s']:>6.1f}  {str(k['trace']['activation_used']):<6}  "
            f"{p['reply'] == k['reply']}"
        )
    print(
        f"median TTFT in the graph: plaintext {report['ttft_plaintext_s']:.3f} s, activation "
        f"{report['ttft_activation_s']:.3f} s: {report['ratio']}x lower; identical replies: "
        f"{report['identical_replies']}"
    )
    load = report["load_average"]
    print(f"load average before {load['before']}, after {load['after']} on "
          f"{report['machine']['cpu_count']} CPUs; wall {report['wall_s']} s")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return bench_main(parse_args, run, print_report, argv)


if __name__ == "__main__":
    main()
