"""Fine mode (LLM extraction) on the bundled local model, on LoCoMo-format conversations.

:class:`~memos_lc.reader.MemReader` fine mode with :class:`~memos_lc.chat_models.ChatMemOS`
(the bundled SmolLM2-135M; structured output decoded under the ``MemoryExtraction`` schema)
reads each conversation batch by batch. Reported: batches, parse failures (a batch whose
output did not parse falls back to fast mode with a ``ReaderFallbackWarning``: counted),
facts per turn, the share of facts that cite their own turns (the others name the whole
batch), seconds per turn; then LoCoMo evidence recall (``benchmarks.locomo``'s ingest and
scoring, default scheduler) of three memories side by side: fast only (the default), fine
only, fast + fine.

``R@k`` counts the evidence turns named by the provenance of the top k plan items, so a fine
fact counts for the turns it cites. ``R@<n>tok`` counts a turn only if its ``Speaker: text``
line is in the injected block: fine facts are paraphrases, so they count there only beside
fast cubes.

``--conversations`` / ``--sessions`` take the first N conversations and the first N sessions
of each (questions keep the evidence inside them; those left without any are skipped).
Ctrl-C stops the extraction: the conversations read so far are scored and written.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.fine_mode --conversations 2 --sessions 2
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.common import machine_info, write_report
from benchmarks.locomo import CachedEmbeddings, conversation_messages, run
from memos_lc.chat_models import ChatMemOS
from memos_lc.cube import MemCube
from memos_lc.embeddings import default_embeddings
from memos_lc.reader import MemReader, ReaderFallbackWarning

DEFAULT_DATA = "/work/shared/data/locomo/locomo_dev.json"
_SESSION_KEY = re.compile(r"^session_(\d+)(_date_time)?$")
RUNS = ("fast", "fine", "fast+fine")
METRICS = ("R@1", "R@5", "R@10", "R@512tok", "R@1024tok", "MRR")


def first_sessions(sample: dict[str, Any], sessions: int | None) -> dict[str, Any]:
    """``sample`` with only its first ``sessions`` sessions (all when ``None``)."""
    if sessions is None:
        return sample
    conv = {
        k: v
        for k, v in (sample.get("conversation") or {}).items()
        if not (m := _SESSION_KEY.match(k)) or int(m.group(1)) <= sessions
    }
    return {**sample, "conversation": conv}


class Replay:
    """A reader for ``benchmarks.locomo.run`` that hands back cubes read before (fine mode is
    run once; its cubes are scored alone and beside fast mode's)."""

    def __init__(self, cubes: dict[str, list[MemCube]], fast: MemReader | None = None) -> None:
        self.cubes = cubes
        self.fast = fast

    def read(self, messages: Sequence[Any], *, namespace: Sequence[str], thread_id: str) -> list:
        made = (
            self.fast.read(messages, namespace=namespace, thread_id=thread_id) if self.fast else []
        )
        return [*made, *self.cubes.get(thread_id, [])]


def extract(
    data: list[dict[str, Any]], reader: MemReader
) -> tuple[dict[str, list[MemCube]], dict[str, Any]]:
    """Fine-read every conversation one batch at a time (namespaces and thread ids as
    ``benchmarks.locomo`` ingests them); Ctrl-C stops after the batch in progress."""
    plan = []
    for n, sample in enumerate(data):
        sid = str(sample.get("sample_id", f"conv-{n}"))
        messages = conversation_messages(sample)
        for start in range(0, len(messages), reader.batch_size):
            plan.append((sid, messages, start))
    cubes: dict[str, list[MemCube]] = {}
    done: set[str] = set()
    stats = {"batches": 0, "parse_failures": 0, "turns": 0, "facts": 0, "facts_citing": 0}
    failures: list[str] = []
    seconds = 0.0
    interrupted = False
    bar = tqdm(plan, desc="fine extraction", unit="batch")
    try:
        for sid, messages, start in bar:
            end = min(len(messages), start + reader.batch_size)
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ReaderFallbackWarning)
                made = reader.read(
                    messages[:end], namespace=("locomo", sid), thread_id=sid, start=start
                )
            seconds += time.perf_counter() - t0
            fell_back = [w for w in caught if issubclass(w.category, ReaderFallbackWarning)]
            failures += [str(w.message) for w in fell_back]
            facts = [c for c in made if "fine" in c.tags]
            stats["batches"] += 1
            stats["parse_failures"] += len(fell_back)
            stats["turns"] += end - start
            stats["facts"] += len(facts)
            stats["facts_citing"] += sum(len(c.provenance.source_ids) < end - start for c in facts)
            cubes.setdefault(sid, []).extend(made)
            if end == len(messages):
                done.add(sid)
            bar.set_postfix(failures=stats["parse_failures"], facts=stats["facts"])
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: scoring the conversations read so far")
    finally:
        bar.close()
    turns = stats["turns"] or 1
    summary = {
        **stats,
        "facts_per_turn": round(stats["facts"] / turns, 3),
        "share_citing_own_turns": round(stats["facts_citing"] / (stats["facts"] or 1), 3),
        "seconds": round(seconds, 1),
        "seconds_per_turn": round(seconds / turns, 2),
        "failure_messages": failures[:10],
        "interrupted": interrupted,
    }
    return {sid: cubes[sid] for sid in done}, summary


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    data = [data] if isinstance(data, dict) else data
    data = [first_sessions(s, args.sessions) for s in data[: args.conversations]]
    chat = ChatMemOS(max_tokens=args.max_tokens)
    chat.lm  # noqa: B018 - load the model outside the timings
    fine = MemReader("fine", llm=chat, batch_size=args.batch_size, progress=False)
    cubes, extraction = extract(data, fine)
    read = [s for n, s in enumerate(data) if str(s.get("sample_id", f"conv-{n}")) in cubes]
    embeddings = CachedEmbeddings(default_embeddings())
    readers = {"fast": MemReader(), "fine": Replay(cubes), "fast+fine": Replay(cubes, MemReader())}
    recall = {}
    for name in RUNS:
        out = run(read, reader=readers[name], embeddings=embeddings)  # type: ignore[arg-type]
        recall[name] = out["results"]["default"]["overall"]
    return {
        "data": str(args.data),
        "conversations": [str(s.get("sample_id", "")) for s in read],
        "sessions_per_conversation": args.sessions,
        "model": chat.model_name,
        "max_tokens": args.max_tokens,
        "batch_size": args.batch_size,
        "extraction": extraction,
        "evidence_recall": recall,
        "ratio_vs_fast": {
            name: {
                k: round(recall[name][k] / recall["fast"][k], 3) if recall["fast"].get(k) else None
                for k in METRICS
            }
            for name in RUNS[1:]
        },
        "environment": machine_info(["torch", "transformers", "llguidance"]),
    }


def print_report(report: dict[str, Any]) -> None:
    ex = report["extraction"]
    print(
        f"{ex['batches']} batches, {ex['parse_failures']} parse failures, "
        f"{ex['facts_per_turn']} facts/turn ({ex['share_citing_own_turns']:.0%} cite their "
        f"turns), {ex['seconds_per_turn']} s/turn"
    )
    questions = report["evidence_recall"]["fast"].get("questions", 0)
    print(f"evidence recall on {questions} questions ({', '.join(report['conversations'])})")
    print(f"{'':10s}" + "".join(f"{m:>14s}" for m in METRICS))
    for name, row in report["evidence_recall"].items():
        ratio = report["ratio_vs_fast"].get(name, {})
        cells = [
            f"{row.get(m, float('nan')):.3f}" + (f" ({ratio[m]:.2f}x)" if ratio.get(m) else "")
            for m in METRICS
        ]
        print(f"{name:10s}" + "".join(f"{c:>14s}" for c in cells))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="LoCoMo-format JSON file")
    ap.add_argument("--conversations", type=int, default=2, help="the first N conversations")
    ap.add_argument("--sessions", type=int, default=2, help="the first N sessions of each")
    ap.add_argument("--batch-size", type=int, default=16, help="messages per extraction call")
    ap.add_argument("--max-tokens", type=int, default=128, help="new tokens per extraction")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/fine_mode.json"))
    args = ap.parse_args(argv)
    report = measure(args)
    print_report(report)
    write_report(report, args.out)
    return report


if __name__ == "__main__":
    main()
