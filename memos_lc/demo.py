"""``memos-lc demo``: a LangGraph agent with MemOS memory, over two sessions.

The agent is the graph :func:`~memos_lc.nodes.with_memory` builds (``read -> schedule ->
inject -> agent -> write_back -> consolidate``) with :func:`~memos_lc.nodes.memory_agent`
answering through :class:`~memos_lc.chat_models.ChatMemOS` on the bundled SmolLM2-135M,
:class:`~memos_lc.checkpoint.MemCubeSaver` as its checkpointer and
:class:`~memos_lc.store.MemCubeStore` as its store, all on one vault directory:

1. session 1 (thread ``session-1``): the user says a few things about themselves; each turn
   prints what the scheduler placed (text / KV / adapter) and why, the reply, the time to
   first token and the memories the write-back stored;
2. the vault is closed and reopened from disk, and a consolidation run
   (:func:`memos_lc.lifecycle.consolidate` with the chat model) compiles the memories the
   agent recalled into an activation (KV) cube and, unless ``fast``, trains the stable ones
   into an adapter;
3. session 2 (thread ``session-2``): questions that need session 1, one of them implicit
   ("what should I cook tonight?" needs "I'm vegetarian"); the KV cube is placed and its
   prefix reused;
4. another principal asks the same and is given nothing.

Only the user's messages are scripted (they are the input); everything else printed is what
the graph, the vault and the model returned.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from memos_lc.cli import clip, short_id, wrap
from memos_lc.errors import ActivationFallbackWarning
from memos_lc.governance import Principal
from memos_lc.vault import MemVault

__all__ = ["DEMO_GUEST", "DEMO_USER", "run_demo"]

Out = Callable[..., None]

DEMO_USER = "demo-user"
DEMO_GUEST = "guest"
SESSION_1 = (
    "Hi! I'm vegetarian, so I never eat meat or fish.",
    "I have a border collie called Pixel.",
)
SESSION_2 = (
    "What should I cook tonight?",
    "What is my dog called?",
)
GUEST_QUESTION = SESSION_2[0]
NAMESPACE = ("users", "{user_id}")
BUDGET_TOKENS = 384
MAX_TOKENS = 40
ADAPTER_STEPS = 12
ADAPTER_SECONDS = 20.0
WIDTH = 100
PLACED_AS = {"plaintext": "text", "activation": "KV", "parametric": "adapter"}


def _config(thread: str, user: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, "user_id": user}}


def _policy(train_adapters: bool) -> Any:
    from memos_lc.lifecycle import LifecyclePolicy

    # a demo cannot wait the default week for a memory to be "stable", nor three recalls
    # for it to be "hot": one recall in the last day makes it both
    return LifecyclePolicy(
        hot_min_hits=1,
        hot_window=timedelta(days=1),
        stable_min_age=timedelta(0),
        stable_min_hits=1,
        train_adapters=train_adapters,
        adapter_max_seconds=ADAPTER_SECONDS,
    )


class _Session:
    """The agent graph over one open vault, and how its turns are printed."""

    def __init__(self, vault: MemVault, lm: Any, say: Out) -> None:
        from memos_lc.chat_models import ChatMemOS
        from memos_lc.checkpoint import MemCubeSaver
        from memos_lc.nodes import MemoryNodes, memory_agent, with_memory
        from memos_lc.store import MemCubeStore

        self.vault, self.say = vault, say
        self.chat = ChatMemOS(local_model=lm, vault=vault, max_tokens=MAX_TOKENS)
        nodes = MemoryNodes(
            vault, namespace=NAMESPACE, budget_tokens=BUDGET_TOKENS, model=self.chat,
            consolidate_every=0,  # consolidation runs between the sessions, on its own
        )  # fmt: skip
        self.graph = with_memory(
            memory_agent(self.chat), nodes,
            checkpointer=MemCubeSaver(vault), store=MemCubeStore(vault),
        )  # fmt: skip

    def text(self, who: Principal, cube_id: str) -> str:
        return self.vault.get(who, cube_id).text

    def turn(self, thread: str, who: Principal, message: str) -> dict[str, Any]:
        say = self.say
        say(f"  {who.id} > {message}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ActivationFallbackWarning)
            out = self.graph.invoke({"messages": [("user", message)]}, _config(thread, who.id))
        plan = out.get("memory_plan") or {"items": []}
        by_cube: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in plan["items"]:
            by_cube.setdefault((item["cube_id"], item["placement"]), []).append(item)
        if by_cube:
            say(
                f"      plan     {plan['total_tokens']} of {plan['budget_tokens']} tokens "
                f"({plan['text_tokens']} as text)"
            )
        else:
            say("      placed   nothing: the scheduler found no memory of this principal")
        placed = [self._placed(who, items) for items in by_cube.values()]
        trace = out["memory_trace"]
        if trace["activation"]:
            reused = (
                f"reused ({trace['cached_tokens']} prompt tokens not prefilled)"
                if trace["activation_used"]
                else "not reused, the prompt was prefilled"
            )
            say(f"      KV       prefix {short_id(trace['activation'])} {reused}")
        for w in caught:
            first, *more = wrap(str(w.message), WIDTH - 15)
            say(f"      warning  {first}")
            for line in more:
                say(f"               {line}")
        reply = out["messages"][-1].content
        lines = wrap(reply, WIDTH - 15) if reply.strip() else ["(empty reply)"]
        say(f"      reply    {lines[0]}")
        for line in lines[1:]:
            say(f"               {line}")
        say(
            f"      TTFT     {trace['ttft_ms']:.0f} ms to the first token "
            f"({trace['input_tokens']} prompt tokens, {trace['output_tokens']} generated)"
        )
        written = [self.vault.get(who, i) for i in out.get("memory_written") or []]
        for c in written:
            say(f"      wrote    {c.memory_type:<11} {short_id(c.id)} {clip(c.text, WIDTH - 36)}")
        return {
            "thread": thread,
            "principal": who.id,
            "message": message,
            "placed": placed,
            "reply": reply,
            "trace": trace,
            "warnings": [str(w.message) for w in caught],
            "written": [
                {"id": c.id, "memory_type": c.memory_type, "text": c.text} for c in written
            ],
        }

    def _placed(self, who: Principal, items: list[dict[str, Any]]) -> dict[str, Any]:
        """One planned memory: its items (a conversation window may be placed whole and by
        single turns: several items of one cube) shown as one."""
        best = max(items, key=lambda i: i["score"])
        tokens = sum(i["tokens"] for i in items)
        where = PLACED_AS.get(best["placement"], best["placement"])
        parts = ", ".join(f"{k} {v:.2f}" for k, v in best["components"].items())
        size = f"{tokens} tokens" + (f" in {len(items)} excerpts" if len(items) > 1 else "")
        head = f"      placed   {where:<7} {best['memory_type']:<10} {short_id(best['cube_id'])}"
        if best["derived_from"]:
            self.say(f"{head} ({size}), built from {len(best['derived_from'])} memories")
        else:
            self.say(f"{head} ({size})")
            self.say(f"               {clip(self.text(who, best['cube_id']), WIDTH - 15)}")
        self.say(f"               why: score {best['score']:.2f} ({parts})")
        for source in best["derived_from"]:
            text = clip(self.text(who, source), WIDTH - 30)
            self.say(f"               from {short_id(source)} {text}")
        return {**best, "tokens": tokens, "items": len(items), "placed_as": where}


def _consolidate(session: _Session, user: Principal, fast: bool, say: Out) -> dict[str, Any]:
    from memos_lc.lifecycle import consolidate

    policy = _policy(train_adapters=not fast)
    namespace = tuple(label.replace("{user_id}", user.id) for label in NAMESPACE)
    say(
        f"CONSOLIDATION  {user.id}'s memories (hot: recalled >= {policy.hot_min_hits} time in "
        f"the last day; stable: the same, at any age)"
    )
    if fast:
        say("  --fast: no adapter training")
    parametrize = None
    if not fast:
        from memos_lc.parametric import AdapterTrainingConfig, adapter_promoter

        # cloze prompts ("Complete this fact: ...") give every memory something to train
        # on: the question templates fit "X's Y is Z" facts, not what a user says
        config = AdapterTrainingConfig(steps=ADAPTER_STEPS, cloze=True, max_seconds=ADAPTER_SECONDS)
        parametrize = adapter_promoter(session.chat.lm, config=config)
        say(f"  adapter: LoRA, {config.steps} steps at most, {ADAPTER_SECONDS:.0f} s at most")
    started = time.perf_counter()
    report = consolidate(
        session.vault, user, namespace, policy, model=session.chat, parametrize=parametrize
    )
    seconds = time.perf_counter() - started
    for line in wrap(report.summary(), WIDTH - 2):
        say(f"  {line}")
    made = []
    for cube_id in (*report.activation_cubes, *report.parametric_cubes):
        cube = session.vault.get(user, cube_id)
        sources = list(cube.provenance.derived_from)
        extra = (
            f"{cube.payload.prefix_tokens} tokens of KV cache"
            if cube.kind == "activation"
            else "a LoRA adapter"
        )
        say(f"  made {cube.kind} {short_id(cube.id)}: {extra}, from {len(sources)} memories")
        made.append({"id": cube.id, "kind": str(cube.kind), "derived_from": sources})
    say(f"  ({seconds:.1f} s)")
    return {"seconds": round(seconds, 1), "report": report.model_dump(mode="json"), "made": made}


def run_demo(location: str, say: Out, *, fast: bool = False) -> dict[str, Any]:
    """Both sessions over the vault at ``location``; returns what happened, for ``--json``.
    ``fast`` skips adapter training in the consolidation run."""
    from memos_lc.models import load_causal_lm

    started = time.perf_counter()
    user, guest = Principal(id=DEMO_USER), Principal(id=DEMO_GUEST)
    report: dict[str, Any] = {"vault": location, "fast": fast}

    t0 = time.perf_counter()
    lm = load_causal_lm()
    say(f"  chat model: {lm.name} ({lm.fingerprint}), loaded in {time.perf_counter() - t0:.1f} s")
    report["model"] = {"name": lm.name, "fingerprint": lm.fingerprint}

    say(f"SESSION 1  principal {DEMO_USER}, thread session-1")
    vault = MemVault.open(location)
    try:
        session = _Session(vault, lm, say)
        report["session_1"] = [session.turn("session-1", user, m) for m in SESSION_1]
    finally:
        vault.close()  # what follows really comes back from disk
    say("  vault closed")
    say("")

    vault = MemVault.open(location)
    try:
        session = _Session(vault, lm, say)
        stored = vault.count(user, namespace=("users", DEMO_USER))
        say(f"vault reopened from disk: {stored} memories of {DEMO_USER}")
        report["consolidation"] = _consolidate(session, user, fast, say)
        say("")
        say(f"SESSION 2  principal {DEMO_USER}, thread session-2")
        report["session_2"] = [session.turn("session-2", user, m) for m in SESSION_2]
        history = session.graph.get_state(_config("session-1", DEMO_USER)).values
        say(
            f"  thread session-1 resumes from MemCubeSaver: "
            f"{len(history.get('messages', []))} messages"
        )
        say("")
        say(f"ANOTHER PRINCIPAL  {DEMO_GUEST}, thread guest-1")
        hits = vault.search(guest, GUEST_QUESTION, limit=10)
        theirs = session.graph.get_state(_config("session-1", DEMO_GUEST)).values
        say(
            f"  {DEMO_GUEST} searches the vault for {GUEST_QUESTION!r}: {len(hits)} hits; "
            f"reads thread session-1: {len(theirs.get('messages', []))} messages"
        )
        report["guest"] = guest_turn = session.turn("guest-1", guest, GUEST_QUESTION)
        report["guest_search_hits"] = len(hits)
        report["guest_thread_messages"] = len(theirs.get("messages", []))
    finally:
        vault.close()

    turns: Sequence[dict[str, Any]] = [*report["session_1"], *report["session_2"]]
    kv_turns = sum(1 for t in report["session_2"] if t["trace"]["activation_used"])
    report["wall_s"] = round(time.perf_counter() - started, 1)
    say("")
    say(
        f"summary: {sum(len(t['written']) for t in turns)} memories written, "
        f"{len(report['consolidation']['made'])} cubes promoted, KV prefix reused in "
        f"{kv_turns}/{len(report['session_2'])} session-2 turns, {DEMO_GUEST} was given "
        f"{len(guest_turn['placed'])} memories; {report['wall_s']:.0f} s"
    )
    return report
