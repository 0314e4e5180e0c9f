"""Time to first token with and without activation memory (a compiled KV cache of the memory
block), side by side in one run, on the bundled SmolLM2-135M-Instruct.

For each memory block size (tokens of the cached prefix) the block is compiled once into an
activation cube, then every question is answered three ways with greedy decoding:

* ``plain``: the block in the system message, the whole prompt prefilled;
* ``hot``: the same messages with ``activation=<cube id>``, the cache already in RAM (LRU);
* ``cold``: the same with an empty LRU, so the cache is read from its safetensors blob
  (sha256-verified) first.

TTFT is the time from the call to the first streamed chunk (the first generated token). The
answers of the three modes must be identical (checked, reported as ``identical``). Medians
over the questions are reported, with the machine's load average, since other processes
share the CPU.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.ttft [--sizes 500 1000 2500 4000] [--questions 3]
        [--max-tokens 16] [--out benchmarks/results/ttft.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.common import machine_info  # noqa: E402

NAMES = [
    "Alice", "Bruno", "Chloe", "Diego", "Esther", "Felix", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Luis", "Mia", "Noah", "Omar", "Priya", "Rosa", "Sven", "Tara", "Wei",
]  # fmt: skip
THINGS = [
    ("locker number", lambda r: str(r.randint(100, 999))),
    ("favourite city", lambda r: r.choice(["Lisbon", "Kyoto", "Oslo", "Porto", "Hanoi", "Lima"])),
    ("badge colour", lambda r: r.choice(["red", "green", "blue", "amber", "violet", "teal"])),
    ("desk", lambda r: f"{r.choice('ABCDEF')}-{r.randint(1, 60)}"),
    ("team", lambda r: r.choice(["search", "billing", "mobile", "infra", "design", "sales"])),
]
QUESTIONS = [
    "What is Alice's locker number?",
    "Which team is Hugo on?",
    "What colour is Priya's badge?",
    "Where does Noah sit?",
    "What is Wei's favourite city?",
]


BLOCK_HEADER = "Memories about the team (use them to answer):"


def team_block(facts: list[str]) -> str:
    """Facts as one memory block: the header, then one ``- `` line per fact."""
    return "\n".join([BLOCK_HEADER, *(f"- {f}" for f in facts)])


def build_block(
    tokenizer: Any,
    target_tokens: int,
    seed: int,
    block: Callable[[list[str]], str] = team_block,
) -> tuple[str, int]:
    """A memory block of random facts about a team (``Alice's locker number is 123.``)
    whose cached prefix is about ``target_tokens`` long, and that length. ``block`` joins
    the facts."""
    from memos_lc.activation import encode, render_prefix

    rng = random.Random(seed)
    facts: list[str] = []
    while True:
        name = rng.choice(NAMES)
        thing, value = rng.choice(THINGS)
        facts.append(f"{name}'s {thing} is {value(rng)}.")
        text = block(facts)
        count = len(encode(tokenizer, render_prefix(tokenizer, text)))
        if count >= target_tokens:
            return text, count


def timed_stream(chat: Any, messages: Any, **kwargs: Any) -> tuple[float, str, dict]:
    """(seconds to the first chunk, full text, last chunk's response metadata)."""
    start = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    meta: dict = {}
    for chunk in chat.stream(messages, **kwargs):
        if first is None:
            first = time.perf_counter() - start
        parts.append(str(chunk.content))
        meta = chunk.response_metadata or meta
    return (first if first is not None else time.perf_counter() - start), "".join(parts), meta


def load_model(threads: int | None) -> Any:
    """The bundled model, torch using ``threads`` CPU threads (``None``: torch's default)."""
    from memos_lc.models import load_causal_lm

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    return load_causal_lm()


def load_average(before: tuple[float, float, float]) -> dict[str, list[float]]:
    """The machine's load average before the run and now (other processes share the CPU)."""
    return {
        "before": [round(x, 2) for x in before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }


def ttft_machine_info() -> dict[str, Any]:
    import torch

    info = machine_info(("memos-lc", "torch", "transformers", "langchain-core"))
    return {**info, "torch_threads": torch.get_num_threads()}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ttft",
        description=" ".join((__doc__ or "").split("\n\n")[0].split()),
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2500, 4000],
                   help="tokens of the cached memory prefix")  # fmt: skip
    p.add_argument("--questions", type=int, default=3, help="questions (timed runs) per size")
    p.add_argument("--max-tokens", type=int, default=16, help="greedy tokens per answer")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's; 1 helps on a busy CPU)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/ttft.json"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure every size, print the table and write the JSON report."""
    args = parse_args(argv)
    if not 1 <= args.questions <= len(QUESTIONS):
        raise SystemExit(f"--questions must be 1..{len(QUESTIONS)}")
    from langchain_core.messages import HumanMessage, SystemMessage

    from memos_lc import MemVault, Principal
    from memos_lc.chat_models import ChatMemOS

    started = time.perf_counter()
    load_before = os.getloadavg()
    lm = load_model(args.threads)
    me = Principal(id="bench")
    questions = QUESTIONS[: args.questions]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memos-ttft-") as tmp:
        vault = MemVault.open(Path(tmp) / "vault")
        chat = ChatMemOS(local_model=lm, vault=vault, max_tokens=args.max_tokens, principal=me)
        chat.invoke("Hello", max_tokens=2)  # untimed warm-up: first-call allocations
        for size in sorted(args.sizes):
            block, prefix_tokens = build_block(lm.tokenizer, size, args.seed + size)
            t0 = time.perf_counter()
            cube = chat.compile_activation(block, namespace=("bench", str(size)))
            compile_s = time.perf_counter() - t0
            runs: dict[str, list[float]] = {"plain": [], "hot": [], "cold": []}
            identical = True
            for q in questions:
                msgs = [SystemMessage(block), HumanMessage(q)]
                plain_s, plain_text, _ = timed_stream(chat, msgs)
                # a new ChatMemOS has an empty LRU: the cache comes from its blob
                cold_chat = ChatMemOS(local_model=lm, vault=vault, max_tokens=args.max_tokens,
                                      principal=me)  # fmt: skip
                cold_s, cold_text, cold_meta = timed_stream(cold_chat, msgs, activation=cube.id)
                hot_s, hot_text, hot_meta = timed_stream(chat, msgs, activation=cube.id)
                used = all(m.get("memory", {}).get("activation_used") for m in
                           (cold_meta, hot_meta))  # fmt: skip
                identical &= used and plain_text == hot_text == cold_text
                runs["plain"].append(plain_s)
                runs["hot"].append(hot_s)
                runs["cold"].append(cold_s)
            med = {k: statistics.median(v) for k, v in runs.items()}
            r = {
                "target_tokens": size,
                "prefix_tokens": prefix_tokens,
                "blob_mb": round(cube.payload.blob.size / 2**20, 1),
                "compile_s": round(compile_s, 3),
                "ttft_plain_s": round(med["plain"], 4),
                "ttft_hot_s": round(med["hot"], 4),
                "ttft_cold_s": round(med["cold"], 4),
                "speedup_hot": round(med["plain"] / med["hot"], 1),
                "speedup_cold": round(med["plain"] / med["cold"], 1),
                "identical": identical,
                "runs_s": {k: [round(x, 4) for x in v] for k, v in runs.items()},
            }
            results.append(r)
            print(json.dumps(r), flush=True)
        vault.close()
    wall_s = time.perf_counter() - started
    report = {
        "machine": ttft_machine_info(),
        "load_average": load_average(load_before),
        "config": {
            "model": lm.name,
            "fingerprint": lm.fingerprint,
            "sizes": sorted(args.sizes),
            "questions": questions,
            "max_tokens": args.max_tokens,
            "threads": args.threads,
            "seed": args.seed,
            "notes": [
                "TTFT = call to first streamed chunk (first generated token), greedy decoding",
                "plain prefills the whole prompt; hot reuses the KV cache from RAM; cold "
                "loads and sha256-verifies the cache blob first (empty LRU)",
                "identical = the three modes gave the same answer for every question",
                "medians over the questions; the load average shows what else ran",
            ],
        },
        "results": results,
        "wall_s": round(wall_s, 1),
    }
    print_table(results)
    print(f"load average before {report['load_average']['before']}, "
          f"after {report['load_average']['after']} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"wall time: {wall_s:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return report


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(f"{'prefix tok':>10} {'plain s':>9} {'hot s':>8} {'x hot':>7} {'cold s':>8} "
          f"{'x cold':>7} {'compile s':>10} {'blob MB':>8}  identical")  # fmt: skip
    for r in results:
        print(
            f"{r['prefix_tokens']:>10} {r['ttft_plain_s']:>9.3f} {r['ttft_hot_s']:>8.3f} "
            f"{r['speedup_hot']:>7.1f} {r['ttft_cold_s']:>8.3f} {r['speedup_cold']:>7.1f} "
            f"{r['compile_s']:>10.2f} {r['blob_mb']:>8.1f}  {r['identical']}"
        )


if __name__ == "__main__":
    main()
