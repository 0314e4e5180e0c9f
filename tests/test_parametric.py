"""Parametric memory: LoRA consolidation, adapter cubes in the vault, the adapter registry."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_tensors

from memos_lc import CubeFilter, MemCube, MemoryKind, MemVault, Principal
from memos_lc.cube import ParametricPayload
from memos_lc.errors import (
    AdapterFormatError,
    AdapterNotLoadedError,
    BlobIntegrityError,
    CubeKindError,
    CubeNotFoundError,
    InvalidInputError,
    ModelMismatchError,
    TrainingCancelledError,
)
from memos_lc.models import LocalLM, load_causal_lm
from memos_lc.parametric import (
    ADAPTER_FORMAT,
    AdapterRegistry,
    AdapterTrainingConfig,
    QAPair,
    aconsolidate_to_adapter,
    consolidate_to_adapter,
    fact_questions,
    render_conversation,
    training_pairs,
)

FACT = "Zorblat Quennis's favourite colour is teal."
QUESTION = "What is Zorblat Quennis's favourite colour?"
# Enough to make the 135M model recall one fact closed-book; a few seconds of training.
TEACH = AdapterTrainingConfig(steps=12, batch_size=1, pairs_per_sequence=3, learning_rate=3e-3)
# One step: for tests of storage and plumbing, not of what the adapter knows.
QUICK = AdapterTrainingConfig(steps=1, batch_size=1, pairs_per_sequence=2)
NS = ("alice", "kb")


@pytest.fixture(scope="session")
def lm() -> LocalLM:
    return load_causal_lm()


@pytest.fixture
def pvault(tmp_path: Path, embeddings) -> Iterator[MemVault]:
    v = MemVault.open(tmp_path / "vault", embeddings=embeddings)
    yield v
    v.close()


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory, lm: LocalLM, embeddings):
    """A vault with one fact and an adapter trained on it (trained once per module)."""
    alice = Principal(id="alice")
    v = MemVault.open(tmp_path_factory.mktemp("taught") / "vault", embeddings=embeddings)
    fact = v.add(alice, FACT, namespace=NS)
    cube = consolidate_to_adapter(v, alice, [fact.id], lm=lm, config=TEACH, progress=False)
    yield v, fact, cube
    v.close()


def ask(model: torch.nn.Module, lm: LocalLM, question: str) -> str:
    prompt = lm.tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
    )
    x = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**x, max_new_tokens=16, do_sample=False)
    return lm.tokenizer.decode(out[0, x["input_ids"].shape[1] :], skip_special_tokens=True)


def logits(model: torch.nn.Module, lm: LocalLM) -> torch.Tensor:
    x = lm.tokenizer("The capital of France is", return_tensors="pt")
    with torch.inference_mode():
        return model(**x).logits


def random_adapter(
    vault: MemVault,
    principal: Principal,
    lm: LocalLM,
    seed: int,
    *,
    fingerprint: str | None = None,
    drop: str | None = None,
    metadata: dict[str, str] | None = None,
) -> MemCube:
    """A parametric cube whose blob holds random LoRA weights for q_proj/v_proj (rank 4),
    in the stored format: canonical peft key names, LoRA spec and fingerprint as metadata."""
    g = torch.Generator().manual_seed(seed)
    cfg = lm.model.config
    kv = cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads)
    tensors = {}
    for i in range(cfg.num_hidden_layers):
        for proj, out in (("q_proj", cfg.hidden_size), ("v_proj", kv)):
            key = f"model.layers.{i}.self_attn.{proj}"
            tensors[f"{key}.lora_A.weight"] = torch.randn(4, cfg.hidden_size, generator=g) * 0.05
            tensors[f"{key}.lora_B.weight"] = torch.randn(out, 4, generator=g) * 0.05
    if drop:
        del tensors[drop]
    meta = {
        "format": ADAPTER_FORMAT,
        "model_fingerprint": fingerprint or lm.fingerprint,
        "base_model": lm.name,
        "lora": json.dumps({"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]}),
    }
    if metadata is not None:
        meta = metadata
    ref = vault.put_blob(principal, save_tensors(tensors, metadata=meta))
    cube = MemCube(
        namespace=NS,
        payload=ParametricPayload(
            blob=ref,
            model_fingerprint=fingerprint or lm.fingerprint,
            base_model=lm.name,
            description=f"random adapter {seed}",
        ),
    )
    return vault.put(principal, cube, index=False)[0]


def adapters(vault: MemVault, principal: Principal) -> int:
    return vault.count(principal, filter=CubeFilter(kinds=(MemoryKind.PARAMETRIC,)))


def injected(lm: LocalLM) -> list[str]:
    """Adapter names injected into the shared model (there must never be any: each adapter
    has its own peft model over a copy of the module tree)."""
    return sorted(getattr(lm.model, "peft_config", {}) or {})


# -- training data -------------------------------------------------------------------------


def test_fact_questions_by_shape() -> None:
    subject, qs = fact_questions(FACT)
    assert subject == "Zorblat Quennis"
    assert qs[0] == QUESTION
    assert "Do you know Zorblat Quennis's favourite colour?" in qs
    assert fact_questions("Alice prefers tea over coffee") == ("Alice", [])
    assert fact_questions("the printer on floor three is broken") == (
        "the printer on floor three",
        ["What is the printer on floor three?"],
    )
    assert fact_questions("never deploy on fridays") == (None, [])


def test_training_pairs_group_subjects_and_take_given_questions() -> None:
    cubes = [
        MemCube.from_text(FACT, namespace=NS),
        MemCube.from_text("Zorblat Quennis's pet's name is Biscuit", namespace=NS),
        MemCube.model_validate(
            {
                "namespace": NS,
                "payload": {
                    "kind": "plaintext",
                    "text": "Deploys happen on Thursdays",
                    "data": {"questions": ["When do deploys happen?"]},
                },
            }
        ),
    ]
    cfg = AdapterTrainingConfig(questions_per_fact=1, cloze=True, subject_questions=True)
    pairs = training_pairs(cubes, cfg)
    assert QAPair(question=QUESTION, answer=FACT) in pairs
    deploys = QAPair(question="When do deploys happen?", answer="Deploys happen on Thursdays.")
    assert deploys in pairs
    about = [p for p in pairs if p.question == "What do you know about Zorblat Quennis?"]
    assert about == [
        QAPair(
            question="What do you know about Zorblat Quennis?",
            answer=f"{FACT} Zorblat Quennis's pet's name is Biscuit.",
        )
    ]
    assert any(p.question.startswith("Complete this fact: Zorblat Quennis's") for p in pairs)
    default = training_pairs(cubes)
    assert not any(p.question.startswith(("Complete", "What do you know")) for p in default)


def test_render_conversation_learns_only_the_answers(lm: LocalLM) -> None:
    pairs = [QAPair(question="Q one?", answer="A one."), QAPair(question="Q two?", answer="A 2.")]
    ids, labels = render_conversation(lm.tokenizer, pairs, system="Be brief.")
    assert len(ids) == len(labels)
    text = lm.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert text.count("<|im_start|>user") == 2
    learned = lm.tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab != -100])
    assert learned == "A one.<|im_end|>\nA 2.<|im_end|>\n"


# -- consolidation ---------------------------------------------------------------------------


def test_adapter_cube_round_trip(taught, lm: LocalLM) -> None:
    vault, fact, cube = taught
    alice = Principal(id="alice")
    stored = vault.get(alice, cube.id)
    assert stored == cube
    assert stored.kind is MemoryKind.PARAMETRIC
    p = stored.payload
    assert isinstance(p, ParametricPayload)
    assert p.model_fingerprint == lm.fingerprint
    assert p.base_model == lm.name
    assert p.source_cube_ids == (fact.id,)
    assert stored.provenance.derived_from == (fact.id,)
    assert stored.provenance.origin == "consolidation"
    assert stored.namespace == NS
    assert stored.access.owner == "alice"
    assert FACT.rstrip(".") in p.description
    t = p.training
    assert t["status"] == "completed"
    assert t["steps"] == TEACH.steps
    assert t["rank"] == TEACH.rank
    assert float(t["seconds"]) > 0
    assert float(t["loss"]) < float(t["first_loss"])
    meta = vault.blobs.metadata(p.blob)
    assert meta["format"] == ADAPTER_FORMAT
    assert meta["model_fingerprint"] == lm.fingerprint
    tensors = vault.blobs.get_tensors(p.blob)
    assert all(".lora_A.weight" in k or ".lora_B.weight" in k for k in tensors)
    assert any(".mlp.down_proj." in k for k in tensors)
    assert p.blob.size == len(vault.blobs.get_bytes(p.blob))
    # the adapter holds its sources' content: by default only its owner reads it
    with pytest.raises(CubeNotFoundError):
        vault.get(Principal(id="bob"), cube.id)
    # the description makes the adapter findable
    hits = vault.search(alice, "Zorblat Quennis colour", limit=5)
    assert cube.id in [h.cube.id for h in hits]


def test_adapter_recalls_the_fact_closed_book(taught, lm: LocalLM) -> None:
    vault, _, cube = taught
    registry = AdapterRegistry(lm)
    name = registry.load(vault, Principal(id="alice"), cube.id)
    with registry.use(name) as model:
        assert "teal" in ask(model, lm, QUESTION).lower()
    with registry.use(None) as model:
        assert "teal" not in ask(model, lm, QUESTION).lower()
    registry.unload(name)


def test_training_leaves_the_shared_model_alone(pvault: MemVault, alice, lm: LocalLM) -> None:
    before = logits(lm.model, lm)
    flags = [p.requires_grad for p in lm.model.parameters()]
    layers = sum(1 for _ in lm.model.modules())
    fact = pvault.add(alice, FACT, namespace=NS)
    consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=QUICK, progress=False)
    assert [p.requires_grad for p in lm.model.parameters()] == flags
    assert sum(1 for _ in lm.model.modules()) == layers
    assert lm.model.training is False
    assert torch.equal(logits(lm.model, lm), before)


def test_consolidate_rejects_bad_input(pvault: MemVault, alice, bob, lm: LocalLM) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    adapter = random_adapter(pvault, alice, lm, 0)
    with pytest.raises(InvalidInputError):
        consolidate_to_adapter(pvault, alice, [], lm=lm, config=QUICK)
    with pytest.raises(CubeKindError):
        consolidate_to_adapter(pvault, alice, [fact.id, adapter.id], lm=lm, config=QUICK)
    with pytest.raises(CubeNotFoundError):
        consolidate_to_adapter(pvault, bob, [fact.id], lm=lm, config=QUICK)
    other = pvault.add(alice, "Velmor Drabbel's car is a Saab", namespace=("alice2",))
    with pytest.raises(InvalidInputError, match="namespace"):
        consolidate_to_adapter(pvault, alice, [fact, other], lm=lm, config=QUICK)
    with pytest.raises(InvalidInputError):
        consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=QUICK, tags=("bad\x00",))
    with pytest.raises(ValueError):
        AdapterTrainingConfig(target_modules=("q_proj", "x.y"))
    with pytest.raises(InvalidInputError, match="target_modules|cannot adapt"):
        consolidate_to_adapter(
            pvault, alice, [fact], lm=lm, progress=False,
            config=AdapterTrainingConfig(steps=1, target_modules=("no_such_proj",)),
        )  # fmt: skip
    assert adapters(pvault, alice) == 1  # only the random one


# Prose that is neither the fact nor the bundled anchor paragraphs (memos_lc/_anchor.py).
UNRELATED = (
    "The morning train to the coast leaves the central station at seven. It stops in three "
    "small towns on the way, and in summer it is full of families carrying buckets, spades "
    "and folding chairs for a day at the beach."
)


def kl_from_base(model: torch.nn.Module, lm: LocalLM, base: torch.Tensor) -> float:
    """Mean per-token KL(base || model) of the next-token distributions on UNRELATED."""
    x = lm.tokenizer(UNRELATED, return_tensors="pt")
    with torch.inference_mode():
        adapted = model(**x).logits[0].log_softmax(-1)
    return float((base.exp() * (base - adapted)).sum(-1).mean())


def test_anchor_keeps_unrelated_text_close_to_the_base(
    taught, pvault: MemVault, alice, lm: LocalLM
) -> None:
    from memos_lc._anchor import ANCHOR_TEXTS

    assert not any(UNRELATED[:40] in t for t in ANCHOR_TEXTS)
    vault, _, anchored = taught  # TEACH keeps the default anchor loss
    assert TEACH.anchor_weight > 0 and float(anchored.payload.training["anchor_kl"]) >= 0
    fact = pvault.add(alice, FACT, namespace=NS)
    free_cfg = TEACH.model_copy(update={"anchor_weight": 0.0})
    free = consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=free_cfg, progress=False)
    x = lm.tokenizer(UNRELATED, return_tensors="pt")
    with torch.inference_mode():
        base = lm.model(**x).logits[0].log_softmax(-1)
    registry = AdapterRegistry(lm)
    drift = {}
    for label, (v, cube) in {"anchored": (vault, anchored), "free": (pvault, free)}.items():
        name = registry.load(v, alice, cube.id)
        with registry.use(name) as model:
            drift[label] = kl_from_base(model, lm, base)
            if label == "anchored":  # and it still learned the fact
                assert "teal" in ask(model, lm, QUESTION).lower()
        registry.unload(name)
    assert drift["anchored"] < 0.5 * drift["free"], drift


def test_anchor_every_nth_step(pvault: MemVault, alice, lm: LocalLM, monkeypatch) -> None:
    import memos_lc.parametric as parametric

    anchored: list[str] = []  # the text of every anchor target a step used
    real = parametric._anchor_loss

    def spy(model, target):
        anchored.append(lm.tokenizer.decode(target.ids[0]))
        return real(model, target)

    monkeypatch.setattr(parametric, "_anchor_loss", spy)
    fact = pvault.add(alice, FACT, namespace=NS)
    cfg = AdapterTrainingConfig(steps=3, batch_size=1, pairs_per_sequence=2, anchor_every=2)
    cube = consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=cfg, progress=False)
    assert cube.payload.training["anchor_every"] == 2
    # steps 1 and 3, each with a prose paragraph and a chat exchange in the template
    assert len(anchored) == 4, anchored
    chats = [a for a in anchored if a.startswith("<|im_start|>")]
    assert len(chats) == 2 and all("<|im_start|>assistant\n" in c for c in chats)

    anchored.clear()
    cfg = cfg.model_copy(update={"anchor_chats": ()})
    consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=cfg, progress=False)
    assert len(anchored) == 2 and not any(a.startswith("<|im_start|>") for a in anchored)


def test_time_budget_stores_what_was_trained(pvault: MemVault, alice, lm: LocalLM) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    cfg = AdapterTrainingConfig(steps=50, batch_size=1, pairs_per_sequence=2, max_seconds=0.01)
    cube = consolidate_to_adapter(pvault, alice, [fact], lm=lm, config=cfg, progress=False)
    assert cube.payload.training["status"] == "time_budget"
    assert cube.payload.training["steps"] == 1


# -- interruption and cancellation ------------------------------------------------------------


def interrupt_at(step: int):
    def on_step(done: int, loss: float) -> None:
        if done == step:
            raise KeyboardInterrupt

    return on_step


def test_interrupt_discards_by_default(pvault: MemVault, alice, lm: LocalLM) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    blobs = set(pvault.blobs)
    cfg = AdapterTrainingConfig(steps=10, batch_size=1, pairs_per_sequence=2)
    with pytest.raises(KeyboardInterrupt):
        consolidate_to_adapter(
            pvault, alice, [fact], lm=lm, config=cfg, progress=False, on_step=interrupt_at(2)
        )
    assert adapters(pvault, alice) == 0
    assert set(pvault.blobs) == blobs


def test_interrupt_keeps_the_partial_adapter_when_asked(
    pvault: MemVault, alice, lm: LocalLM
) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    cfg = AdapterTrainingConfig(steps=10, batch_size=1, pairs_per_sequence=2, on_interrupt="keep")
    cube = consolidate_to_adapter(
        pvault, alice, [fact], lm=lm, config=cfg, progress=False, on_step=interrupt_at(2)
    )
    assert cube.payload.training["status"] == "interrupted"
    assert cube.payload.training["steps"] == 2
    assert "interrupted" in cube.tags
    assert pvault.get(alice, cube.id) == cube


def test_cancel_event_stores_nothing(pvault: MemVault, alice, lm: LocalLM) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    cancel = threading.Event()
    cfg = AdapterTrainingConfig(steps=10, batch_size=1, pairs_per_sequence=2, on_interrupt="keep")
    with pytest.raises(TrainingCancelledError):
        consolidate_to_adapter(
            pvault, alice, [fact], lm=lm, config=cfg, progress=False, cancel=cancel,
            on_step=lambda step, loss: cancel.set(),
        )  # fmt: skip
    assert adapters(pvault, alice) == 0


async def test_async_consolidate_and_cancel(pvault: MemVault, alice, lm: LocalLM) -> None:
    fact = pvault.add(alice, FACT, namespace=NS)
    cube = await aconsolidate_to_adapter(
        pvault, alice, [fact.id], lm=lm, config=QUICK, progress=False
    )
    assert cube.kind is MemoryKind.PARAMETRIC
    # the registry's async load gives the name the blocking one does
    assert await AdapterRegistry(lm).aload(pvault, alice, cube.id) == AdapterRegistry(lm).load(
        pvault, alice, cube.id
    )
    stepped = threading.Event()
    cfg = AdapterTrainingConfig(steps=1000, batch_size=1, pairs_per_sequence=2)
    task = asyncio.ensure_future(
        aconsolidate_to_adapter(
            pvault,
            alice,
            [fact.id],
            lm=lm,
            config=cfg,
            progress=False,
            on_step=lambda step, loss: stepped.set(),
        )  # fmt: skip
    )
    await asyncio.to_thread(stepped.wait, 120)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the worker has stopped: nothing more is stored, now or later
    assert adapters(pvault, alice) == 1


# -- the registry --------------------------------------------------------------------------------


def test_base_outputs_unchanged_without_an_adapter(pvault: MemVault, alice, lm: LocalLM) -> None:
    before = logits(lm.model, lm)
    registry = AdapterRegistry(lm)
    a = registry.load(pvault, alice, random_adapter(pvault, alice, lm, 1).id)
    with registry.use(a) as model:
        adapted = logits(model, lm)
    assert not torch.equal(adapted, before)
    # outside use(), and inside use(None), the shared model is exactly the base model
    assert torch.equal(logits(lm.model, lm), before)
    with registry.use(None) as model:
        assert model is lm.model
        assert torch.equal(logits(model, lm), before)
    assert injected(lm) == []
    registry.unload(a)
    assert torch.equal(logits(lm.model, lm), before)


def test_registry_switches_adapters_per_call(pvault: MemVault, alice, lm: LocalLM) -> None:
    registry = AdapterRegistry(lm)
    first = random_adapter(pvault, alice, lm, 1)
    a = registry.load(pvault, alice, first.id)
    b = registry.load(pvault, alice, random_adapter(pvault, alice, lm, 2).id)
    assert a != b
    with registry.use(a) as model:
        la = logits(model, lm)
    with registry.use(b) as model:
        lb = logits(model, lm)
    with registry.use(a) as model:
        assert torch.equal(logits(model, lm), la)
    assert not torch.equal(la, lb)
    # loading the same cube again returns the same name and loads nothing new
    assert registry.load(pvault, alice, first.id) == a
    assert [x.name for x in registry.loaded] == [b, a]
    for name in (a, b):
        registry.unload(name)


def test_registry_unloads_least_recently_used(pvault: MemVault, alice, lm: LocalLM) -> None:
    registry = AdapterRegistry(lm, max_loaded=2)
    cubes = [random_adapter(pvault, alice, lm, seed) for seed in (11, 12, 13)]
    a, b = (registry.load(pvault, alice, c.id) for c in cubes[:2])
    with registry.use(a) as in_use:  # a is now more recent than b
        a_logits = logits(in_use, lm)
    c = registry.load(pvault, alice, cubes[2].id)
    assert [x.name for x in registry.loaded] == [a, c]
    assert b not in registry
    with pytest.raises(AdapterNotLoadedError), registry.use(b):
        pass
    with registry.use_cube(pvault, alice, cubes[1].id) as model:  # loads b again, evicts a
        assert model is not lm.model
    assert [x.name for x in registry.loaded] == [c, b]
    assert [x.cube_id for x in registry.loaded] == [cubes[2].id, cubes[1].id]
    # a call still running on an adapter dropped meanwhile keeps its model
    assert torch.equal(logits(in_use, lm), a_logits)
    for name in (b, c):
        assert registry.unload(name)
    assert not registry.unload(a)
    assert injected(lm) == []


def test_registries_over_one_model_are_independent(pvault: MemVault, alice, lm: LocalLM) -> None:
    before = logits(lm.model, lm)
    one, two = AdapterRegistry(lm), AdapterRegistry(lm)
    cube = random_adapter(pvault, alice, lm, 21)
    a = one.load(pvault, alice, cube.id)
    assert two.load(pvault, alice, cube.id) == a  # the name is the blob's
    with one.use(a) as first, two.use(a) as second:
        assert first is not second
        assert torch.equal(logits(first, lm), logits(second, lm))
    one.unload(a)
    assert a in two and a not in one
    with two.use(a) as model:
        assert not torch.equal(logits(model, lm), before)
    two.unload(a)
    assert injected(lm) == []
    assert torch.equal(logits(lm.model, lm), before)


def test_registry_serves_concurrent_callers(pvault: MemVault, alice, lm: LocalLM) -> None:
    registry = AdapterRegistry(lm)
    a = registry.load(pvault, alice, random_adapter(pvault, alice, lm, 31).id)
    with registry.use(a) as model:
        expected_a = logits(model, lm)
    expected_base = logits(lm.model, lm)
    results: dict[str, list[bool]] = {"a": [], "base": []}

    def worker(name: str | None, key: str, expected: torch.Tensor) -> None:
        for _ in range(3):
            with registry.use(name) as model:
                results[key].append(torch.equal(logits(model, lm), expected))

    threads = [
        threading.Thread(target=worker, args=(a, "a", expected_a)),
        threading.Thread(target=worker, args=(None, "base", expected_base)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": [True] * 3, "base": [True] * 3}
    registry.unload(a)


def test_registry_rejects_wrong_cubes(pvault: MemVault, alice, bob, lm: LocalLM) -> None:
    before = logits(lm.model, lm)
    names_before = injected(lm)
    registry = AdapterRegistry(lm)
    fact = pvault.add(alice, FACT, namespace=NS)
    with pytest.raises(CubeKindError):
        registry.load(pvault, alice, fact.id)
    other = random_adapter(pvault, alice, lm, 41, fingerprint="some-other-model:0123456789abcdef")
    with pytest.raises(ModelMismatchError):
        registry.load(pvault, alice, other.id)
    mine = random_adapter(pvault, alice, lm, 42)
    with pytest.raises(CubeNotFoundError):
        registry.load(pvault, bob, mine.id)
    dropped = "model.layers.3.self_attn.v_proj.lora_B.weight"
    missing = random_adapter(pvault, alice, lm, 43, drop=dropped)
    with pytest.raises(AdapterFormatError, match="missing"):
        registry.load(pvault, alice, missing.id)
    foreign = random_adapter(pvault, alice, lm, 44, metadata={"format": "something-else"})
    with pytest.raises(AdapterFormatError):
        registry.load(pvault, alice, foreign.id)
    lying = random_adapter(
        pvault, alice, lm, 45,
        metadata={"format": ADAPTER_FORMAT, "model_fingerprint": "x:1", "lora": "{}"},
    )  # fmt: skip
    with pytest.raises(ModelMismatchError):  # the blob says another model than its cube
        registry.load(pvault, alice, lying.id)
    corrupt = random_adapter(pvault, alice, lm, 46)
    path = next(pvault.blobs.root.glob(f"??/{corrupt.payload.blob.sha256}.safetensors"))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BlobIntegrityError):
        registry.load(pvault, alice, corrupt.id)
    # nothing was left half-loaded
    assert registry.loaded == []
    assert not [n for n in injected(lm) if n not in names_before]
    assert torch.equal(logits(lm.model, lm), before)


# -- with the chat model ------------------------------------------------------------------------


def test_chat_model_answers_from_the_adapter(taught, lm: LocalLM) -> None:
    from memos_lc.chat_models import ChatMemOS

    vault, _, cube = taught
    chat = ChatMemOS(vault=vault, principal=Principal(id="alice"), local_model=lm, max_tokens=16)
    assert "teal" in chat.invoke(QUESTION, adapters=[cube.id]).content.lower()
    assert "teal" not in chat.invoke(QUESTION).content.lower()
    per_user = {"configurable": {"adapter": cube.id, "user_id": "alice"}}
    assert "teal" in chat.invoke(QUESTION, config=per_user).content.lower()
    # another user cannot apply alice's adapter: it reveals what it was trained on
    with pytest.raises(CubeNotFoundError):
        chat.invoke(QUESTION, config={"configurable": {"adapter": cube.id, "user_id": "bob"}})
