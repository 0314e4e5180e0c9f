"""Parametric memory: consolidate memories into a LoRA adapter and answer closed-book.

Stores a few facts as plaintext memories, trains a small LoRA adapter on them (sixteen
CPU steps), stores it as a parametric MemCube, and asks the bundled SmolLM2 with no memory in
the prompt: with the adapter it knows the facts, without it it does not.

Run: python cookbook/parametric_memory.py [VAULT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memos_lc import MemVault, Principal  # noqa: E402
from memos_lc.chat_models import ChatMemOS  # noqa: E402
from memos_lc.parametric import AdapterTrainingConfig, consolidate_to_adapter  # noqa: E402

FACTS = [
    "Zorblat Quennis's favourite colour is teal.",
    "Zorblat Quennis's pet's name is Biscuit.",
]
QUESTIONS = [
    ("What is Zorblat Quennis's favourite colour?", "teal"),
    ("What is Zorblat Quennis's pet's name?", "Biscuit"),
]


def main(vault_dir: str) -> None:
    alice = Principal(id="alice")
    with MemVault.open(vault_dir) as vault:
        facts = [vault.add(alice, text, namespace=("alice", "friends")) for text in FACTS]

        # A short recipe for two facts (12 steps already recall both; 16 leave a margin).
        # The defaults (66 steps, with an anchor loss that keeps the model's other predictions
        # close to the base model's) are sized for ~50 facts.
        config = AdapterTrainingConfig(
            steps=16, batch_size=1, pairs_per_sequence=4, learning_rate=3e-3
        )
        adapter = consolidate_to_adapter(vault, alice, facts, config=config)
        t = adapter.payload.training
        print(
            f"adapter {adapter.id}: {t['steps']} steps in {float(t['seconds']):.0f} s, "
            f"loss {float(t['first_loss']):.2f} -> {float(t['loss']):.2f}, "
            f"{adapter.payload.blob.size / 1e6:.1f} MB"
        )
        print(
            f"derived from {len(adapter.provenance.derived_from)} memories, "
            f"for model {adapter.payload.model_fingerprint}"
        )

        chat = ChatMemOS(vault=vault, principal=alice, max_tokens=24)
        for question, value in QUESTIONS:
            base = chat.invoke(question).content
            tuned = chat.invoke(question, adapter=adapter.id).content
            print(f"Q: {question}")
            print(f"  without adapter: {base!r}")
            print(f"  with adapter:    {tuned!r} (knows {value}: {value.lower() in tuned.lower()})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
