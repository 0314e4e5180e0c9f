"""Retrieval quality on LoCoMo-format conversations, through the public write and read paths.

Each conversation is ingested into its own namespace the way an agent's write-back does it:
its turns become LangChain messages (speaker as ``name``, the session date as timestamp, the
dataset's ``dia_id`` as external id; a shared image is part of the message as its caption),
:class:`~memos_lc.reader.MemReader` (fast mode, default settings) turns them into cubes and
``vault.put`` stores them. Every question of categories 1-4 (5, adversarial, has no answer in
the conversation) is then planned by :class:`~memos_lc.scheduler.MemScheduler` (default
policy; usage counting off so every question sees the same vault) and scored by **evidence
recall**: the share of the question's evidence turns covered

* by the top k = 1, 5, 10 ranked plan items (plan with an unlimited budget, items in plan
  order; an item covers the turns of what was ranked, ``PlanItem.ranked_ids``: a window's
  provenance ``source_ids``);
* by the memory text injected within 512 and 1,024 tokens (plans with those budgets; tokens
  of the exact text block, counted with the bundled chat model's tokenizer). A turn counts
  only if the plan names it (``PlanItem.source_ids``) *and* its ``Speaker: text`` line is in
  ``plan.text``; ids a plan names without injecting them are counted in the output
  (``ids_claimed_not_injected``, 0 for an honest plan);

plus MRR (rank of the first item covering any evidence turn), latency (one hybrid
``vault.search`` and one 1,024-token ``plan`` per question, p50/p95) and the ingest rate
(turns per second for read + embed + store). Malformed evidence entries (``"D8:6; D9:17"``,
``"D:11:26"``) are normalized; ids that name no turn of the conversation are dropped, and a
question left without evidence is skipped (both counted in the output).

A turn that states a preference is also its own preference cube (``PlanItem.ranked_ids`` /
``source_ids``: that turn; its line is the block's preference line), so the same rules count
it. ``benchmarks/prefset.py`` writes a preference dev set in this format.

``--ablate`` adds runs that switch one method choice off at a time (including the preference
tier, the reader's preference cubes and the score-aware lexical fusion), and alternatives to
it (windows only, turns only, voted excerpts, vote normalization, turn votes, other
preference shares), on the same data in the same run; ``--ablate NAME ...`` runs only those,
``--variant NAME=JSON`` any other policy update.
``--skip`` / ``--limit`` select conversations (e.g. tune on some, confirm on the others).

Peers run beside the method on the same data (``--no-peers`` skips them): plain MiniLM and
plain BM25 over single turns (:data:`PEERS`), scored by the same rules; the output gives their
figures and the method's ratio to each (``vs_peers``).

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.locomo --data locomo10.json --out results.json
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402
from tqdm import tqdm  # noqa: E402

from memos_lc import MemVault, Principal  # noqa: E402
from memos_lc.embeddings import LexicalEncoder, default_embeddings  # noqa: E402
from memos_lc.models import load_tokenizer  # noqa: E402
from memos_lc.reader import MemReader  # noqa: E402
from memos_lc.scheduler import (  # noqa: E402
    MemScheduler,
    SchedulerPolicy,
    TokenCounter,
    keyword_query,
    token_counter,
)

CATEGORIES = {1: "multi_hop", 2: "temporal", 3: "open_domain", 4: "single_hop"}
"""LoCoMo question categories as numbered in the released data (5, adversarial, is skipped)."""
KS = (1, 5, 10)
BUDGETS = (512, 1024)
UNLIMITED = 1_000_000
_SESSION = re.compile(r"^session_(\d+)$")
_EVIDENCE = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%I:%M %p on %B %d, %Y")


# -- data -------------------------------------------------------------------------------------


def parse_session_date(value: Any) -> datetime | None:
    """``"1:56 pm on 8 May, 2023"`` (LoCoMo's format) or an ISO date as an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalize_evidence(entries: Iterable[Any]) -> list[str]:
    """Evidence entries as ``"D<session>:<turn>"`` ids: ``"D8:6; D9:17"`` gives two,
    ``"D:11:26"`` gives ``"D11:26"``, an entry without numbers gives none."""
    out: list[str] = []
    for entry in entries or ():
        for a, b in _EVIDENCE.findall(str(entry)):
            out.append(f"D{int(a)}:{int(b)}")
    return list(dict.fromkeys(out))


def conversation_messages(sample: dict[str, Any]) -> list[HumanMessage]:
    """The turns of one LoCoMo sample as messages, sessions in order."""
    conv = sample.get("conversation") or {}
    sessions = sorted((int(m.group(1)), key) for key in conv if (m := _SESSION.match(key)))
    sid = str(sample.get("sample_id", "conv"))
    messages: list[HumanMessage] = []
    for num, key in sessions:
        turns = conv.get(key)
        if not isinstance(turns, list):
            continue
        when = parse_session_date(conv.get(f"{key}_date_time"))
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict):
                continue
            text = str(turn.get("text") or "").strip()
            caption = str(turn.get("blip_caption") or "").strip()
            if caption:  # the image is part of what was said
                text = f"{text} [shares {caption}]".strip()
            if not text:
                continue
            dia_id = str(turn.get("dia_id") or f"D{num}:{i + 1}")
            kwargs: dict[str, Any] = {"source_id": dia_id}
            if when is not None:
                kwargs["timestamp"] = when.isoformat()
            messages.append(
                HumanMessage(
                    content=text,
                    name=str(turn.get("speaker") or "speaker"),
                    id=f"{sid}:{dia_id}",
                    additional_kwargs=kwargs,
                )
            )
    return messages


def questions(sample: dict[str, Any], dia_ids: set[str]) -> tuple[list[dict[str, Any]], int, int]:
    """Questions of categories 1-4 with normalized evidence; also how many were skipped for
    lack of valid evidence and how many evidence ids named no turn."""
    out, skipped, dropped = [], 0, 0
    for qa in sample.get("qa") or ():
        try:
            cat = int(qa.get("category"))
        except (TypeError, ValueError):
            continue
        if cat not in CATEGORIES or not str(qa.get("question") or "").strip():
            continue
        ev = normalize_evidence(qa.get("evidence") or ())
        valid = [e for e in ev if e in dia_ids]
        dropped += len(ev) - len(valid)
        if not valid:
            skipped += 1
            continue
        out.append({"question": str(qa["question"]).strip(), "category": cat, "evidence": valid})
    return out, skipped, dropped


# -- metrics ----------------------------------------------------------------------------------


def recall(evidence: Sequence[str], covered: set[str]) -> float:
    return sum(e in covered for e in evidence) / len(evidence)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [f"R@{k}" for k in KS] + [f"R@{b}tok" for b in BUDGETS] + ["MRR"]
    return (
        {
            "questions": len(rows),
            **{k: round(statistics.fmean(r[k] for r in rows), 4) for k in keys},
        }
        if rows
        else {"questions": 0}
    )


# -- run --------------------------------------------------------------------------------------


class CachedEmbeddings(Embeddings):
    """Remembers vectors by text within one run: an ablation that changes only the scheduler
    does not embed the same cube texts again (the first, default run pays full price, so its
    ingest rate is the real one), and a question is embedded once for all its plans."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self._docs: dict[str, list[float]] = {}
        self._queries: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        todo = list(dict.fromkeys(t for t in texts if t not in self._docs))
        if todo:
            self._docs.update(zip(todo, self.inner.embed_documents(todo), strict=True))
        return [self._docs[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]


PRINCIPAL = Principal(id="locomo")


Conversation = tuple[tuple[str, ...], list[dict[str, Any]], dict[str, list[str]]]
"""``(namespace, questions, dia_id -> the transcript lines of that turn)``."""


def ingest(
    vault: MemVault, data: list[dict[str, Any]], reader: MemReader
) -> tuple[list[Conversation], dict[str, Any]]:
    """Write every conversation into its own namespace (read + embed + store, timed) and
    collect its questions; returns ``[(namespace, questions, turn lines)]`` and ingest
    statistics."""
    convs = []
    seconds = 0.0
    turns = cubes = skipped = dropped = 0
    for n, sample in enumerate(data):
        sid = str(sample.get("sample_id", f"conv-{n}"))
        ns = ("locomo", sid)
        messages = conversation_messages(sample)
        t0 = time.perf_counter()
        made = reader.read(messages, namespace=ns, thread_id=sid)
        for i in range(0, len(made), 512):
            vault.put(PRINCIPAL, made[i : i + 512])
        seconds += time.perf_counter() - t0
        turns += len(messages)
        cubes += len(made)
        qs, s, d = questions(sample, {m.additional_kwargs["source_id"] for m in messages})
        skipped += s
        dropped += d
        lines = {
            m.additional_kwargs["source_id"]: f"{m.name}: {m.text.strip()}".split("\n")
            for m in messages
        }
        convs.append((ns, qs, lines))
    t0 = time.perf_counter()
    vault.optimize()
    stats = {
        "conversations": len(data),
        "turns": turns,
        "cubes": cubes,
        "seconds": round(seconds, 2),
        "turns_per_s": round(turns / seconds, 1) if seconds else None,
        "optimize_s": round(time.perf_counter() - t0, 2),
        "questions_skipped_no_evidence": skipped,
        "evidence_ids_dropped": dropped,
    }
    return convs, stats


def evaluate(
    vault: MemVault,
    convs: list[Conversation],
    policy: SchedulerPolicy,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Plan every question and score evidence recall (usage counting off, so the questions
    are independent of their order)."""
    # budgets in tokens of the bundled chat model (loaded here, outside the timings)
    policy = policy.model_copy(update={"record_use": False})
    scheduler = MemScheduler(vault, policy, count_tokens=load_tokenizer())
    rows: list[dict[str, Any]] = []
    emb = vault.embeddings
    embed_ms: list[float] = []
    search_ms: list[float] = []
    plan_ms: list[float] = []
    over_budget = claimed = 0
    bar = tqdm(total=sum(len(c[1]) for c in convs), desc="questions", disable=not progress)
    for ns, qs, turn_lines in convs:
        for q in qs:
            question, ev = q["question"], q["evidence"]
            # Query embedding is timed on its own; searches and plans then reuse the vectors
            # (the run's embeddings cache them), so their timings are the engine's and the
            # scheduler's work. A plan embeds up to two query variants on top.
            for text in {question, keyword_query(question)} - {""}:
                t0 = time.perf_counter()
                vec = emb.embed_query(text)
                embed_ms.append((time.perf_counter() - t0) * 1000)
            vec = emb.embed_query(question)
            t0 = time.perf_counter()
            vault.search(PRINCIPAL, question, namespace=ns, limit=10, query_vector=vec)
            search_ms.append((time.perf_counter() - t0) * 1000)
            row: dict[str, Any] = {"category": q["category"]}
            full = scheduler.plan(PRINCIPAL, question, namespace=ns, budget_tokens=UNLIMITED)
            seen: set[str] = set()
            rr = 0.0
            for rank, item in enumerate(full.items, 1):
                seen |= set(item.ranked_ids)
                if rank in KS:
                    row[f"R@{rank}"] = recall(ev, seen)
                if not rr and any(e in seen for e in ev):
                    rr = 1.0 / rank
            for k in KS:  # fewer items than k: everything planned counts
                row.setdefault(f"R@{k}", recall(ev, seen))
            row["MRR"] = rr
            for budget in BUDGETS:
                t0 = time.perf_counter()
                plan = scheduler.plan(PRINCIPAL, question, namespace=ns, budget_tokens=budget)
                if budget == BUDGETS[-1]:
                    plan_ms.append((time.perf_counter() - t0) * 1000)
                if scheduler.count_tokens(plan.text) > budget:
                    over_budget += 1
                # a turn counts only if its text is really in the block
                in_text = set(plan.text.split("\n"))
                named = set(plan.source_ids())
                shown = {i for i in named if i in turn_lines and set(turn_lines[i]) <= in_text}
                claimed += len(named - shown)
                row[f"R@{budget}tok"] = recall(ev, shown)
            rows.append(row)
            bar.update(1)
    bar.close()
    return {
        "overall": _summary(rows),
        "per_category": {
            f"{c}_{name}": _summary([r for r in rows if r["category"] == c])
            for c, name in CATEGORIES.items()
        },
        "latency_ms": {
            "embed_query_p50": round(_pct(embed_ms, 0.5), 2),
            "embed_query_p95": round(_pct(embed_ms, 0.95), 2),
            "search_p50": round(_pct(search_ms, 0.5), 2),
            "search_p95": round(_pct(search_ms, 0.95), 2),
            f"plan_{BUDGETS[-1]}_p50": round(_pct(plan_ms, 0.5), 2),
            f"plan_{BUDGETS[-1]}_p95": round(_pct(plan_ms, 0.95), 2),
        },
        "plans_over_budget": over_budget,
        "ids_claimed_not_injected": claimed,
    }


# -- peers: plain retrieval over single turns, run on the same data -----------------------------

PEERS = ("minilm_turns", "minilm_lines", "bm25_lines")
"""Baselines run beside the method on the same data: every turn of a conversation is one
document, ranked for the question by the bundled MiniLM (cosine) over what was said
(``minilm_turns``) or over its ``Speaker: text`` line (``minilm_lines``: a question that names
a speaker then matches), or by BM25 over the line (the vault's own encoder, IDF over the
conversation's turns). Scored by the same rules: a turn covers itself; the token budgets take
whole lines in rank order."""


def _bm25_scores(docs: list[Any], query: Any, idf: dict[int, float]) -> list[float]:
    q = set(query.indices)
    return [
        sum(idf[i] * w for i, w in zip(d.indices, d.values, strict=True) if i in q) for d in docs
    ]


def evaluate_peers(
    convs: list[Conversation], emb: Embeddings, count_tokens: TokenCounter
) -> dict[str, dict[str, Any]]:
    """Evidence recall of the :data:`PEERS` on ``convs`` (see :func:`evaluate`)."""
    lexical = LexicalEncoder()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in PEERS}
    for _ns, qs, turn_lines in convs:
        ids = list(turn_lines)
        lines = ["\n".join(turn_lines[i]) for i in ids]
        cost = [count_tokens(t) + 1 for t in lines]  # + the newline between lines
        said = [line.partition(": ")[2] for line in lines]  # without the "Speaker: " label
        vecs = {
            "minilm_turns": np.asarray(emb.embed_documents(said)),
            "minilm_lines": np.asarray(emb.embed_documents(lines)),
        }
        sparse = [lexical.encode_document(t) for t in lines]
        df = Counter(i for d in sparse for i in set(d.indices))  # turns holding each term
        n = len(sparse)
        idf = {i: math.log(1 + (n - c + 0.5) / (c + 0.5)) for i, c in df.items()}
        for q in qs:
            question, ev = q["question"], q["evidence"]
            qv = emb.embed_query(question)
            scored = {name: list(v @ np.asarray(qv)) for name, v in vecs.items()}
            scored["bm25_lines"] = _bm25_scores(sparse, lexical.encode_query(question), idf)
            for name, scores in scored.items():
                order = sorted(range(len(ids)), key=lambda j: -scores[j])
                row: dict[str, Any] = {"category": q["category"]}
                for k in KS:
                    row[f"R@{k}"] = recall(ev, {ids[j] for j in order[:k]})
                first = next((r for r, j in enumerate(order, 1) if ids[j] in ev), None)
                row["MRR"] = 1.0 / first if first else 0.0
                for budget in BUDGETS:
                    shown, used = set(), 0
                    for j in order:
                        if used + cost[j] > budget:
                            break
                        used += cost[j]
                        shown.add(ids[j])
                    row[f"R@{budget}tok"] = recall(ev, shown)
                rows[name].append(row)
    return {name: _summary(r) for name, r in rows.items()}


def run(
    data: list[dict[str, Any]],
    *,
    reader: MemReader | None = None,
    policies: dict[str, SchedulerPolicy] | None = None,
    embeddings: Embeddings | None = None,
    workdir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    peers: bool = False,
) -> dict[str, Any]:
    """Ingest ``data`` (a parsed LoCoMo-format list) once with ``reader`` and evaluate each
    scheduler policy on it (default: ``{"default": SchedulerPolicy()}``); with ``peers``, the
    :data:`PEERS` too."""
    reader = reader or MemReader()
    policies = policies or {"default": SchedulerPolicy()}
    if not isinstance(embeddings, CachedEmbeddings):
        embeddings = CachedEmbeddings(embeddings or default_embeddings())
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        vault = MemVault.open(Path(tmp) / "vault", embeddings=embeddings, auto_optimize=None)
        try:
            vault.embeddings.embed_query("warm up")  # load the model outside the timings
            convs, stats = ingest(vault, data, reader)
            results = {
                name: evaluate(vault, convs, p, progress=progress) for name, p in policies.items()
            }
            out: dict[str, Any] = {"ingest": stats, "results": results}
            if peers:
                out["peers"] = evaluate_peers(convs, embeddings, token_counter(load_tokenizer()))
        finally:
            vault.close()
    return out


ABLATIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (MemReader kwargs, SchedulerPolicy update as nested dicts)
    "bare_turns (window=0)": ({"window": 0}, {}),
    "window=2": ({"window": 2}, {}),
    "no_dates_in_text": ({"dates": False}, {}),
    "no_query_rewrite": ({}, {"retrieval": {"rewrite": False}}),
    "hybrid (fused in Qdrant, then again)": (
        {},
        {"retrieval": {"hybrid_weight": 1.0, "lexical_weight": 0.0, "dense_weight": 0.0}},
    ),
    "lexical_only": ({}, {"retrieval": {"dense_weight": 0.0}}),
    "dense_only": ({}, {"retrieval": {"lexical_weight": 0.0}}),
    "no_mmr (lambda=1)": ({}, {"selection": {"mmr_lambda": 1.0}}),
    "no_speaker": ({}, {"scoring": {"speaker": 0.0}}),
    "no_preference_tier (share=0)": ({}, {"preferences": {"share": 0.0}}),
    "no_preference_cubes (reader)": ({"preferences": False}, {}),
    "plain_rrf (no lexical coverage)": (
        {},
        {"retrieval": {"lexical_coverage": 0.0}, "preferences": {"lexical_coverage": 0.0}},
    ),
    # alternatives measured against the default, not part of it
    "excerpt=window (windows only)": ({}, {"selection": {"excerpt": "window"}}),
    "excerpt=turn (turns only)": ({}, {"selection": {"excerpt": "turn"}}),
    "window_items=5": ({}, {"selection": {"window_items": 5}}),
    "vote_norm": ({}, {"retrieval": {"vote_norm": True}}),
    "turn_votes": ({}, {"retrieval": {"turn_votes": True}}),
    "excerpt=voted": ({}, {"selection": {"excerpt": "voted"}}),
    "preference_share=0.5": ({}, {"preferences": {"share": 0.5}}),
    "preference_share=1.0": ({}, {"preferences": {"share": 1.0}}),
    "preference_tier_with_lexical (weight 1)": ({}, {"preferences": {"lexical_weight": 1.0}}),
    "preference_tier_with_rewrite": ({}, {"preferences": {"rewrite": True}}),
    "preference_candidates=40": ({}, {"preferences": {"candidates": 40}}),
    "lexical_coverage=0.5": ({}, {"retrieval": {"lexical_coverage": 0.5}}),
    "excerpt=voted+vote_norm": (
        {},
        {"selection": {"excerpt": "voted"}, "retrieval": {"vote_norm": True}},
    ),
}


def _policy(update: dict[str, Any]) -> SchedulerPolicy:
    base = SchedulerPolicy().model_dump()
    for section, values in update.items():
        base[section] = {**base[section], **values}
    return SchedulerPolicy.model_validate(base)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="LoCoMo-format JSON file")
    ap.add_argument("--out", default="benchmarks/results/locomo.json")
    ap.add_argument("--skip", type=int, default=0, help="leave out the first N conversations")
    ap.add_argument("--limit", type=int, default=None, help="N conversations only (after --skip)")
    ap.add_argument(
        "--ablate",
        nargs="*",
        metavar="NAME",
        default=None,
        help="also run the ablations (all, or only those NAMEd)",
    )
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="also run a scheduler policy update, e.g. "
        '\'voted={"selection": {"excerpt": "voted"}}\'',
    )
    ap.add_argument(
        "--no-peers",
        action="store_true",
        help="skip the peers (MiniLM and BM25 over single turns, see PEERS)",
    )
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):  # a single conversation
        data = [data]
    data = data[args.skip :]
    data = data[: args.limit] if args.limit else data

    emb = CachedEmbeddings(default_embeddings())  # ablations re-embed only changed texts
    started = time.time()
    # scheduler ablations share the default ingest; reader ablations ingest again
    by_reader: dict[str, tuple[dict[str, Any], dict[str, SchedulerPolicy]]] = {
        "{}": ({}, {"default": SchedulerPolicy()})
    }
    chosen = dict(ABLATIONS) if args.ablate == [] else {}
    for name in args.ablate or ():
        if name not in ABLATIONS:
            ap.error(f"unknown ablation {name!r}; known: {', '.join(ABLATIONS)}")
        chosen[name] = ABLATIONS[name]
    for spec in args.variant:
        name, _, update = spec.partition("=")
        chosen[name] = ({}, json.loads(update))
    if chosen:
        for name, (rkw, pupd) in chosen.items():
            key = json.dumps(rkw, sort_keys=True)
            by_reader.setdefault(key, (rkw, {}))[1][name] = _policy(pupd)
    runs: dict[str, dict[str, Any]] = {}
    peers: dict[str, Any] = {}
    for rkw, policies in by_reader.values():
        out = run(
            data,
            reader=MemReader(**rkw),
            policies=policies,
            embeddings=emb,
            progress=not args.quiet,
            peers=not rkw and not args.no_peers,
        )
        peers.update(out.get("peers", {}))
        for name, r in out["results"].items():
            runs[name] = {"ingest": out["ingest"], **r}
    default = runs.pop("default")
    result: dict[str, Any] = {
        "data": str(args.data),
        "conversations": [str(s.get("sample_id", "")) for s in data],
        "method": {"reader": repr(MemReader()), "policy": SchedulerPolicy().model_dump()},
        "overall": default["overall"],
        "per_category": default["per_category"],
        "latency_ms": default["latency_ms"],
        "ingest": default["ingest"],
        "plans_over_budget": default["plans_over_budget"],
        "ids_claimed_not_injected": default["ids_claimed_not_injected"],
        "ablations": {
            name: {**r["overall"], "ids_claimed_not_injected": r["ids_claimed_not_injected"]}
            for name, r in runs.items()
        },
        "peers": peers,
        "vs_peers": {
            name: {
                k: round(default["overall"][k] / p[k], 2) if p.get(k) else None
                for k in ("R@5", "R@1024tok")
            }
            for name, p in peers.items()
        },
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "wall_s": round(time.time() - started, 1),
        },
    }
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        print(json.dumps({k: result[k] for k in ("overall", "latency_ms", "ingest")}, indent=2))
        for name, o in result["ablations"].items():
            print(f"{name:28s} R@5 {o['R@5']:.3f}  R@1024tok {o['R@1024tok']:.3f}")
        for name, o in peers.items():
            ratio = result["vs_peers"][name]
            print(
                f"peer {name:23s} R@5 {o['R@5']:.3f}  R@1024tok {o['R@1024tok']:.3f}"
                f"  (memos-lc / peer: {ratio['R@5']}x, {ratio['R@1024tok']}x)"
            )


if __name__ == "__main__":
    main()
