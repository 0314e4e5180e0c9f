"""Parametric memory: closed-book recall of facts consolidated into a LoRA adapter.

Plants 50 synthetic facts about 50 fictional people (``"Zorblat Quennis's favourite colour
is teal"``; the base model cannot know them; ten attributes with five values each, so recall
must bind the value to the person), consolidates them into one adapter with
:func:`memos_lc.parametric.consolidate_to_adapter`, then asks the bundled SmolLM2 about each
fact with no context in the prompt, with the adapter and without it, through
:class:`~memos_lc.parametric.AdapterRegistry`. A fact is recalled when the greedy answer
contains its value (case-insensitive).

Two phrasings are asked: ``"What is X's Y?"``, the shape the consolidation also trains on
(the intended use: memorize facts to answer questions about them), and a held-out paraphrase
the training never sees (``"I forgot X's Y. Can you remind me?"``). It also measures the
training time (and the machine's load average while training: the cores are shared), the
perplexity of a few bundled paragraphs of unrelated text with and without the adapter (how
much the adapter disturbs everything else; these paragraphs are disjoint from the anchor
prose the training keeps the model close to, ``memos_lc/_anchor.py``), a few general
questions, and checks that the model with no adapter active still computes exactly the base
outputs.

Targets: recall >= 90% on the trained phrasing, perplexity increase <= 10%, training <= 120 s.

Run::

    HF_HUB_OFFLINE=1 python -m benchmarks.lora_recall [--facts 50] [--steps N] [--threads 1]
        [--config '{"anchor_weight": 0}'] [--out benchmarks/results/lora_recall.json]

On a machine whose cores are busy with other work, ``--threads 1`` (and
``OMP_WAIT_POLICY=PASSIVE``) is several times faster than two spinning OpenMP threads.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.common import machine_info  # noqa: E402

FIRST_NAMES = [
    "Zorblat", "Quinara", "Velmor", "Ottrin", "Brisca", "Faldun", "Yselle", "Morvash",
    "Tindra", "Korrik", "Aldrun", "Belvina", "Caspen", "Dorwyn", "Elkara", "Fennick",
    "Galvra", "Hestrin", "Ilsabet", "Jorvik", "Kestrel", "Lunaya", "Marrek", "Nilsa",
    "Orlaith", "Pellam", "Quillon", "Rasmira", "Sorrel", "Tavish", "Ulmara", "Varek",
    "Wendrith", "Xantha", "Yorvel", "Zephrine", "Arkady", "Bryndis", "Calloway", "Deverel",
    "Eskarne", "Florin", "Gwendis", "Halvard", "Isaura", "Jessamy", "Kaelen", "Loriel",
    "Mireth", "Norvald",
]  # fmt: skip
LAST_NAMES = [
    "Quennis", "Drabbel", "Holloway-Nix", "Pemberfrost", "Ulvane", "Ashcombe", "Brackwater",
    "Corvell", "Dunstanby", "Elsworth", "Fairgrave", "Gorrindale", "Hatherly", "Ingleby",
    "Jestrow", "Kettleborne", "Larkspire", "Mossley", "Netherby", "Oakhart", "Pritchley",
    "Quarrington", "Rookwood", "Stellamar", "Thistlewood", "Underhay", "Vantreck",
    "Wexcombe", "Yarrowby", "Zellwood", "Amberlyn", "Blackthorne", "Cressley", "Draycott",
    "Everleigh", "Fenwright", "Glenmoor", "Harrowgate", "Ivesdale", "Jorrington", "Kilbride",
    "Lockhart", "Marlowe", "Northcott", "Orpington", "Pennington", "Ravensworth", "Sallow",
    "Tregarth", "Wycliffe",
]  # fmt: skip
ATTRIBUTES = [
    ("favourite colour", ["teal", "maroon", "ochre", "lilac", "crimson"]),
    ("pet's name", ["Biscuit", "Pomelo", "Gristle", "Waffles", "Juniper"]),
    ("home town", ["Quarnholt", "Ellisport", "Dunmere", "Vexley", "Saltcombe"]),
    ("profession", ["glassblower", "cartographer", "beekeeper", "locksmith", "astronomer"]),
    ("favourite fruit", ["kumquat", "persimmon", "gooseberry", "lychee", "quince"]),
    ("instrument", ["bassoon", "theremin", "ukulele", "harpsichord", "cello"]),
    ("car", ["Volvo", "Fiat", "Saab", "Skoda", "Lancia"]),
    ("lucky number", ["seventeen", "forty-two", "eighty-one", "thirteen", "sixty-four"]),
    ("favourite sport", ["curling", "fencing", "lacrosse", "rowing", "badminton"]),
    ("best friend", ["Marigold Tuck", "Osric Fenn", "Pilar Groot", "Ansel Wade", "Dorit Kade"]),
]
TRAINED_PHRASING = "What is {person}'s {attribute}?"
HELD_OUT_PHRASING = "I forgot {person}'s {attribute}. Can you remind me?"
PHRASINGS = (("trained", TRAINED_PHRASING), ("held_out", HELD_OUT_PHRASING))

# Unrelated text for the perplexity check, written for this file: encyclopedic prose, a
# story, instructions and a letter (none of it shares a topic with the anchor paragraphs and
# chats the training uses, memos_lc/_anchor.py).
UNRELATED = [
    "The water cycle describes how water evaporates from the surface of the earth, rises into "
    "the atmosphere, cools and condenses into clouds, and falls again to the surface as rain "
    "or snow. Water falling on land collects in rivers and lakes, in the soil and in porous "
    "layers of rock, and much of it flows back into the oceans, where it will evaporate again.",
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make sugar and release oxygen. It takes place mainly in the leaves, inside "
    "small structures called chloroplasts that contain the green pigment chlorophyll. Almost "
    "all life on earth depends on it, directly or indirectly, for food and for oxygen.",
    "A computer program is a sequence of instructions that a computer follows to perform a "
    "task. Programs are written in programming languages such as Python or C, which are "
    "translated into machine code either before the program runs, by a compiler, or while it "
    "runs, by an interpreter. Large programs are split into functions and modules so that "
    "people can understand, test and change them.",
    "The Roman Empire was one of the largest empires of the ancient world. At its height it "
    "stretched from Britain in the north to Egypt in the south, and from Spain in the west to "
    "Mesopotamia in the east. Its roads, laws and the Latin language shaped European history "
    "for many centuries after the western empire fell in the fifth century.",
    "Maria had not seen her brother for eleven years when the train finally pulled into the "
    "small station. She recognised him at once, although his hair had turned grey and he "
    "walked with a stick. Neither of them knew what to say, so they laughed, picked up her "
    "suitcase together and walked out into the rain.",
    "To repot a houseplant, choose a pot one size larger than the old one and put a layer of "
    "fresh soil in the bottom. Water the plant an hour before, then tip it out gently, loosen "
    "the roots with your fingers and set it in the new pot at the same depth. Fill the gaps "
    "with soil, press it down lightly and water it well.",
    "Dear Mr. Patel, thank you for your letter of the third of March. I am sorry to hear that "
    "the parcel arrived damaged. We have sent a replacement by express delivery, and it should "
    "reach you within two working days. Please keep the damaged item; there is no need to "
    "return it. Kind regards, the customer service team.",
]
# General questions the base model answers correctly: the adapter should not break them.
GENERAL = [
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Japan?", "Tokyo"),
    ("What color is the sky on a clear day?", "blue"),
    ("How many legs does a spider have?", "eight"),
    ("What do bees make?", "honey"),
    ("What is the opposite of hot?", "cold"),
]


def build_facts(n: int, seed: int = 7) -> list[dict[str, str]]:
    """``n`` facts about ``n`` fictional people (one each): every name and every attribute
    value is used once, so five people share each attribute with five different values and
    recall needs the person, not just the attribute."""
    rng = random.Random(seed)
    firsts, lasts = FIRST_NAMES[:], LAST_NAMES[:]
    rng.shuffle(firsts)
    rng.shuffle(lasts)
    pairs = [(a, v) for a, values in ATTRIBUTES for v in values]
    rng.shuffle(pairs)
    if n > len(pairs):
        raise SystemExit(f"at most {len(pairs)} facts")
    return [
        {
            "person": f"{first} {last}",
            "attribute": attribute,
            "value": value,
            "statement": f"{first} {last}'s {attribute} is {value}.",
        }
        for first, last, (attribute, value) in zip(firsts, lasts, pairs[:n], strict=False)
    ]


def ask(model: Any, tokenizer: Any, question: str, max_new_tokens: int) -> str:
    """Greedy answer to ``question`` alone (no memory, default system prompt)."""
    import torch

    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
    )
    x = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(
            **x, max_new_tokens=max_new_tokens, do_sample=False,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )  # fmt: skip
    return tokenizer.decode(out[0, x["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str]) -> float:
    """Token-weighted perplexity of ``texts`` (each scored on its own)."""
    import torch

    nll, count = 0.0, 0
    with torch.inference_mode():
        for text in texts:
            x = tokenizer(text, return_tensors="pt")
            n = x["input_ids"].shape[1] - 1
            nll += model(**x, labels=x["input_ids"]).loss.item() * n
            count += n
    return math.exp(nll / count)


def base_logits(model: Any, tokenizer: Any) -> Any:
    import torch

    x = tokenizer(UNRELATED[0], return_tensors="pt")
    with torch.inference_mode():
        return model(**x).logits


def lora_machine_info() -> dict[str, Any]:
    info = machine_info(("memos-lc", "torch", "transformers", "peft"))
    return {
        **info,
        "load_average_at_start": list(os.getloadavg()),
    }


class LoadSampler:
    """Samples the 1-minute load average every few seconds while in its ``with`` block: how
    busy the machine was (other processes compete for the same cores)."""

    def __init__(self, every_s: float = 5.0) -> None:
        import threading

        self.every_s, self.samples = every_s, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        s = self.samples
        return {"min": min(s), "mean": round(sum(s) / len(s), 2), "max": max(s)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.lora_recall",
        description=" ".join((__doc__ or "").split("\n\n")[0].split()),
    )
    p.add_argument("--facts", type=int, default=50)
    p.add_argument("--steps", type=int, default=None, help="training steps (config default)")
    p.add_argument("--rank", type=int, default=None, help="LoRA rank (config default)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (config default)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--max-seconds", type=float, default=None, help="training time budget")
    p.add_argument("--seed", type=int, default=None, help="training seed (config default)")
    p.add_argument(
        "--config", type=json.loads, default={},
        help='more AdapterTrainingConfig fields as JSON, e.g. \'{"cloze": true}\'',
    )  # fmt: skip
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=None, help="torch threads (torch's default)")
    p.add_argument(
        "--no-held-out", action="store_true", help="skip the held-out phrasing (quicker)"
    )
    p.add_argument(
        "--no-base", action="store_true",
        help="skip asking the base model (quicker iterations; no base recall in the report)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/lora_recall.json"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Consolidate the facts, ask them with and without the adapter, print and write JSON."""
    args = parse_args(argv)
    started = time.perf_counter()
    machine = lora_machine_info()
    import torch
    from tqdm.auto import tqdm

    if args.threads:
        torch.set_num_threads(args.threads)
    machine["torch_threads"] = torch.get_num_threads()

    from memos_lc import MemCube, MemVault, Principal
    from memos_lc.models import load_causal_lm
    from memos_lc.parametric import AdapterRegistry, AdapterTrainingConfig, consolidate_to_adapter

    overrides = {
        k: v
        for k, v in {
            "steps": args.steps,
            "rank": args.rank,
            "learning_rate": args.lr,
            "batch_size": args.batch_size,
            "max_seconds": args.max_seconds,
            "seed": args.seed,
        }.items()
        if v is not None
    }
    config = AdapterTrainingConfig(**{**args.config, **overrides})
    from memos_lc._anchor import ANCHOR_TEXTS

    if set(UNRELATED) & set(ANCHOR_TEXTS) or set(UNRELATED) & set(config.anchor_texts or ()):
        raise SystemExit("the perplexity paragraphs must not be anchor texts")
    facts = build_facts(args.facts)
    t = time.perf_counter()
    lm = load_causal_lm()
    load_s = time.perf_counter() - t
    ref_logits = base_logits(lm.model, lm.tokenizer)
    ppl_before = perplexity(lm.model, lm.tokenizer, UNRELATED)

    principal = Principal(id="bench")
    with tempfile.TemporaryDirectory(prefix="memos-lora-bench-") as tmp:
        vault = MemVault.open(Path(tmp) / "vault")
        try:
            cubes = vault.put(
                principal,
                [MemCube.from_text(f["statement"], namespace=("bench", "facts")) for f in facts],
                index=False,
            )
            t = time.perf_counter()
            with LoadSampler() as training_load:
                adapter = consolidate_to_adapter(vault, principal, cubes, lm=lm, config=config)
            consolidate_s = time.perf_counter() - t
            machine["load_average_1min_during_training"] = training_load.summary()
            registry = AdapterRegistry(lm)
            t = time.perf_counter()
            name = registry.load(vault, principal, adapter.id)
            registry_load_s = time.perf_counter() - t

            rows: list[dict[str, Any]] = []
            n_models = 1 if args.no_base else 2
            t = time.perf_counter()
            for f in tqdm(facts, desc="asking", unit="fact", leave=False):
                row = dict(f)
                for label, phrasing in PHRASINGS[: 1 if args.no_held_out else 2]:
                    q = phrasing.format(person=f["person"], attribute=f["attribute"])
                    for which, adapter_name in (("adapter", name), ("base", None))[:n_models]:
                        with registry.use(adapter_name) as model:
                            answer = ask(model, lm.tokenizer, q, args.max_new_tokens)
                        row[f"{label}_{which}_answer"] = answer
                        row[f"{label}_{which}_recalled"] = f["value"].lower() in answer.lower()
                rows.append(row)
            ask_s = time.perf_counter() - t

            general = []
            for q, expected in GENERAL:
                row = {"question": q, "expected": expected}
                for which, adapter_name in (("adapter", name), ("base", None)):
                    with registry.use(adapter_name) as model:
                        answer = ask(model, lm.tokenizer, q, args.max_new_tokens)
                    row[f"{which}_answer"] = answer
                    row[f"{which}_correct"] = expected.lower() in answer.lower()
                general.append(row)

            with registry.use(name) as model:
                ppl_adapter = perplexity(model, lm.tokenizer, UNRELATED)
            with registry.use(None) as model:
                ppl_base = perplexity(model, lm.tokenizer, UNRELATED)
                same = torch.equal(base_logits(model, lm.tokenizer), ref_logits)
            blob_bytes = adapter.payload.blob.size
        finally:
            vault.close()

    def rate(key: str) -> float | None:
        if key not in rows[0]:
            return None
        return round(sum(r[key] for r in rows) / len(rows), 4)

    training = dict(adapter.payload.training)
    summary = {
        "facts": len(facts),
        "recall_trained_phrasing_adapter": rate("trained_adapter_recalled"),
        "recall_trained_phrasing_base": rate("trained_base_recalled"),
        "recall_held_out_phrasing_adapter": rate("held_out_adapter_recalled"),
        "recall_held_out_phrasing_base": rate("held_out_base_recalled"),
        "training_s": training["seconds"],
        "training_cpu_s": training.get("cpu_seconds"),
        "training_steps": training["steps"],
        "training_status": training["status"],
        "final_loss": training["loss"],
        "training_tokens": training["tokens"],
        "anchor_kl": training.get("anchor_kl"),
        "bf16": training.get("bf16"),
        "consolidate_s": round(consolidate_s, 2),
        "perplexity_base": round(ppl_base, 4),
        "perplexity_adapter": round(ppl_adapter, 4),
        "perplexity_increase_pct": round(100 * (ppl_adapter / ppl_base - 1), 2),
        "base_outputs_unchanged": same and ppl_base == ppl_before,
        "general_questions": len(GENERAL),
        "general_correct_adapter": sum(r["adapter_correct"] for r in general),
        "general_correct_base": sum(r["base_correct"] for r in general),
        "adapter_bytes": blob_bytes,
        "registry_load_s": round(registry_load_s, 3),
        "model_load_s": round(load_s, 2),
        "ask_s": round(ask_s, 1),
    }
    targets = {
        "recall_ge_90pct": summary["recall_trained_phrasing_adapter"] >= 0.9,
        "perplexity_increase_le_10pct": summary["perplexity_increase_pct"] <= 10.0,
        "training_le_120s": float(training["seconds"]) <= 120.0,
    }
    wall_s = time.perf_counter() - started
    machine["load_average_at_end"] = list(os.getloadavg())
    report = {
        "machine": machine,
        "config": {
            "model": lm.name,
            "model_fingerprint": lm.fingerprint,
            "training": config.model_dump(mode="json"),
            "trained_phrasing": TRAINED_PHRASING,
            "held_out_phrasing": HELD_OUT_PHRASING,
            "max_new_tokens": args.max_new_tokens,
            "unrelated_paragraphs": len(UNRELATED),
            "notes": [
                "closed-book: each question is the only user message, default system prompt, "
                "greedy decoding; recalled = the answer contains the fact's value",
                "the trained phrasing is one of the question shapes consolidation renders "
                "every fact into; the held-out phrasing is never trained on",
                "perplexity: bundled paragraphs unrelated to the facts (prose, a story, "
                "instructions, a letter), no chat template, token-weighted",
                "general: a few general questions the base model answers; an answer is "
                "correct when it contains the expected word",
                "training_s counts optimizer steps only; consolidate_s adds building the "
                "examples, copying the module tree, storing the blob and the cube",
            ],
        },
        "summary": summary,
        "targets": targets,
        "training": training,
        "rows": rows,
        "general": general,
        "wall_s": round(wall_s, 1),
    }
    print_table(summary, targets, rows)
    print(f"wall time: {wall_s:.0f} s (load average {machine['load_average_at_start']} at start)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return report


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def print_table(summary: dict[str, Any], targets: dict[str, bool], rows: list[dict]) -> None:
    """Recall with and without the adapter, cost, and the targets."""
    print(f"\n{'closed-book recall':<34} {'adapter':>8} {'base':>8}")
    print("-" * 52)
    for label, key in (("trained phrasing", "trained"), ("held-out phrasing", "held_out")):
        a = summary[f"recall_{key}_phrasing_adapter"]
        if a is None:
            continue
        b = summary[f"recall_{key}_phrasing_base"]
        print(f"{label + ' (' + str(summary['facts']) + ' facts)':<34} {a:>8.0%} {_pct(b):>8}")
    print(
        f"\ntraining: {summary['training_steps']} steps in {summary['training_s']} s "
        f"(CPU {summary['training_cpu_s']} s; {summary['training_status']}), "
        f"final loss {summary['final_loss']}, "
        f"adapter {summary['adapter_bytes'] / 1e6:.1f} MB"
    )
    print(
        f"perplexity on unrelated text: base {summary['perplexity_base']:.2f}, adapter "
        f"{summary['perplexity_adapter']:.2f} ({summary['perplexity_increase_pct']:+.1f}%)"
    )
    print(
        f"general questions answered correctly: adapter {summary['general_correct_adapter']}"
        f"/{summary['general_questions']}, base {summary['general_correct_base']}"
        f"/{summary['general_questions']}"
    )
    print(f"base outputs unchanged with no adapter active: {summary['base_outputs_unchanged']}")
    misses = [r for r in rows if not r["trained_adapter_recalled"]][:5]
    for r in misses:
        print(f"  missed: {r['statement']!r} -> {r['trained_adapter_answer']!r}")
    print("targets: " + ", ".join(f"{k}={v}" for k, v in targets.items()))


if __name__ == "__main__":
    main()
