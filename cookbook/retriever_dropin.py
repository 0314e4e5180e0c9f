"""Retriever drop-in: governed MemCube recall in any LCEL chain, per user, and as an agent tool.

The chain is the usual RAG shape, ``{"context": retriever | join, "question": ...} | prompt``:
whatever chat model you pipe it into gets the user's memories. Which memories is decided by
the vault for the user the run's config names, so one chain serves every user.

Run: python cookbook/retriever_dropin.py [VAULT_DIR] [--llm]
     (default: a temporary directory; --llm also answers with the bundled SmolLM2)
"""

from __future__ import annotations

import sys
import tempfile

from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.tools import create_retriever_tool

from memos_lc import CubeFilter, MemVault, Principal
from memos_lc.retrievers import MemCubeRetriever

MEMORIES = {
    "alice": [
        ("Alice is allergic to peanuts", "preference"),
        ("Alice is vegetarian and loves mushroom risotto", "preference"),
        ("Alice's team ships on Thursdays", "long_term"),
    ],
    "bob": [
        ("Bob is allergic to shellfish", "preference"),
        ("Bob loves grilled fish tacos", "preference"),
    ],
}


def join(docs: list[Document]) -> str:
    return "\n".join(f"- {d.page_content}" for d in docs)


def main(vault_dir: str, with_llm: bool = False) -> None:
    with MemVault.open(vault_dir) as vault:
        for user, facts in MEMORIES.items():
            for text, memory_type in facts:
                vault.add(
                    Principal(id=user), text, namespace=("users", user), memory_type=memory_type
                )

        # Preferences only: what a cooking assistant needs (any CubeFilter field works here).
        retriever = MemCubeRetriever(
            vault=vault, k=2, filter=CubeFilter(memory_types=("preference",))
        )
        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "Answer using what you remember about the user:\n{context}"),
                ("human", "{question}"),
            ]
        )
        chain = {"context": retriever | join, "question": RunnablePassthrough()} | prompt

        question = "What should I cook for dinner tonight?"
        for user in ("alice", "bob"):
            value = chain.invoke(question, {"configurable": {"user_id": user}})
            print(f"prompt for {user}:")
            print("  " + value.messages[0].content.replace("\n", "\n  "))

        docs = retriever.invoke("allergy", {"configurable": {"user_id": "alice"}})
        meta = docs[0].metadata
        print(
            f"top document: {docs[0].page_content!r} (cube {meta['cube_id'][:8]}, "
            f"v{meta['version']}, {meta['memory_type']}, score {meta['score']:.3f})"
        )
        print("carol sees:", retriever.invoke(question, {"configurable": {"user_id": "carol"}}))

        tool = create_retriever_tool(
            retriever, "recall_memories", "Search what you remember about the user."
        )
        print(
            "tool output for bob:",
            repr(tool.invoke({"query": "seafood"}, {"configurable": {"user_id": "bob"}})),
        )
        hits = vault.get(Principal(id="alice"), docs[0].id).usage.hits
        print(f"recalls counted for the lifecycle's promotion policy: {hits}")

        if with_llm:
            from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
            from transformers import pipeline

            from memos_lc.models import load_causal_lm

            lm = load_causal_lm()
            pipe = pipeline(
                "text-generation",
                model=lm.model,
                tokenizer=lm.tokenizer,
                max_new_tokens=40,
                do_sample=False,
                return_full_text=False,
            )
            llm = ChatHuggingFace(
                llm=HuggingFacePipeline(pipeline=pipe), tokenizer=lm.tokenizer, model_id=lm.name
            )
            answer = (chain | llm).invoke(question, {"configurable": {"user_id": "alice"}})
            print("SmolLM2 for alice:", answer.content)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--llm"]
    main(args[0] if args else tempfile.mkdtemp(prefix="memos-cookbook-"), "--llm" in sys.argv)
