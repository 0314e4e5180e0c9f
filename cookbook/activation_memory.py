"""Activation memory: compile a memory block into a KV cache once, answer on top of it.

The block is run through the model once and stored as an activation MemCube (a safetensors
KV cache tied to the model's fingerprint). Answers that use it prefill only the question, and
are the same greedy answers as with the whole block in the prompt.

Run: python cookbook/activation_memory.py [VAULT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402

from memos_lc import MemVault, Principal  # noqa: E402
from memos_lc.chat_models import ChatMemOS  # noqa: E402
from memos_lc.errors import ActivationFallbackWarning  # noqa: E402

TEAM = [
    ("Alice", "Lisbon", "pilot", 312), ("Bruno", "Kyoto", "baker", 118),
    ("Chloe", "Oslo", "nurse", 907), ("Diego", "Porto", "chemist", 450),
    ("Esther", "Hanoi", "architect", 233), ("Felix", "Nairobi", "teacher", 671),
    ("Grace", "Montreal", "violinist", 529), ("Hugo", "Seoul", "carpenter", 384),
]  # fmt: skip
BLOCK = "What you know about the team:\n" + "\n".join(
    f"- {name} lives in {city}, works as a {job} and has locker {locker}. "
    f"{name}'s manager reviews {name.lower()}'s work every {day}."
    for (name, city, job, locker), day in zip(
        TEAM * 4, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"] * 7, strict=False
    )
)


def timed(chat: ChatMemOS, messages: list, **kwargs: object) -> tuple[float, str]:
    """Seconds to the first streamed token, and the whole answer."""
    start, first, parts = time.perf_counter(), None, []
    for chunk in chat.stream(messages, **kwargs):
        first = first or time.perf_counter() - start
        parts.append(str(chunk.content))
    return first or 0.0, "".join(parts)


def main(vault_dir: str) -> None:
    me = Principal(id="alice")
    with MemVault.open(vault_dir) as vault:
        chat = ChatMemOS(vault=vault, principal=me, max_tokens=24)
        cube = chat.compile_activation(BLOCK, namespace=("alice", "team-kv"))
        again = chat.compile_activation(BLOCK, namespace=("alice", "team-kv"))
        kv = cube.payload
        print(
            f"activation cube {cube.id[:8]}: {kv.prefix_tokens} prefix tokens, "
            f"{kv.blob.size / 2**20:.1f} MB KV cache for {kv.model_fingerprint}"
        )
        print(f"compiled once: {again.id == cube.id}")

        question = "What is Chloe's locker number?"
        messages = [SystemMessage(BLOCK), HumanMessage(question)]
        plain_s, plain = timed(chat, messages)
        cached_s, cached = timed(chat, messages, activation=cube.id)
        print(f"Q: {question}")
        print(f"  full prefill: {plain_s:.2f} s to first token -> {plain!r}")
        print(f"  KV cache:     {cached_s:.2f} s to first token -> {cached!r}")
        print(f"same answer with and without the cache: {plain == cached}")

        reply = chat.invoke("Who works as a pilot?", activation=cube.id)
        print(f"cache_read tokens: {reply.usage_metadata['input_token_details']['cache_read']}")

        # a prompt that does not start with the cached block is answered without the cache
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            chat.invoke([SystemMessage("Be brief.\n" + BLOCK), HumanMessage(question)],
                        activation=cube.id, max_tokens=4)  # fmt: skip
        kinds = {w.category.__name__ for w in caught if w.category is ActivationFallbackWarning}
        print(f"diverged prompt -> fallback warning: {', '.join(sorted(kinds)) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
