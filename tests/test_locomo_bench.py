"""benchmarks/locomo.py runs end to end on a tiny LoCoMo-format file (one synthetic
conversation, written here) and copes with the malformed evidence real files contain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import locomo, prefset
from memos_lc.embeddings import default_embeddings

SESSION_1 = [
    ("Ana", "Hi Ben! I adopted a puppy named Biscuit yesterday."),
    ("Ben", "Congrats! What breed is Biscuit?"),
    ("Ana", "A golden retriever, super fluffy."),
    ("Ben", "I started learning the violin last month."),
    ("Ana", "Wow, who is your teacher?"),
    ("Ben", "Mrs. Kowalski, she played in the Warsaw philharmonic."),
]
SESSION_2 = [
    ("Ben", "Ana, how is Biscuit doing?"),
    ("Ana", "Great, we went hiking at Mount Tam on Sunday."),
    ("Ben", "I performed my first violin recital last weekend!"),
    ("Ana", "That's amazing, I wish I could have been there."),
]


def sample() -> dict:
    conv: dict = {"speaker_a": "Ana", "speaker_b": "Ben"}
    for n, (turns, date) in enumerate(
        [(SESSION_1, "1:56 pm on 8 May, 2023"), (SESSION_2, "10:37 am on 27 June, 2023")], 1
    ):
        conv[f"session_{n}_date_time"] = date
        conv[f"session_{n}"] = [
            {"speaker": s, "dia_id": f"D{n}:{i}", "text": t} for i, (s, t) in enumerate(turns, 1)
        ]
    conv["session_2"][2]["blip_caption"] = "a photo of a violin on a stage"
    qa = [
        {
            "question": "What is the name of Ana's puppy?",
            "answer": "Biscuit",
            "evidence": ["D1:1"],
            "category": 4,
        },
        {
            "question": "When did Ana adopt her puppy?",
            "answer": "7 May 2023",
            "evidence": ["D1:1"],
            "category": 2,
        },
        {
            "question": "Who teaches Ben the violin?",
            "answer": "Mrs. Kowalski",
            "evidence": ["D1:5; D1:6"],
            "category": 1,
        },  # two ids in one entry
        {
            "question": "Where did Ana hike with her dog?",
            "answer": "Mount Tam",
            "evidence": ["D:2:2", "D9:99"],
            "category": 3,
        },  # malformed + unknown id
        {
            "question": "Has Ben ever performed?",
            "answer": "yes",
            "evidence": ["D"],
            "category": 1,
        },  # no valid evidence: skipped
        {"question": "What did Ana name her cat?", "evidence": ["D1:1"], "category": 5},
    ]
    return {"sample_id": "synthetic-1", "conversation": conv, "qa": qa}


def test_normalize_evidence_and_dates() -> None:
    assert locomo.normalize_evidence(["D8:6; D9:17", "D:11:26", "D", "D1:3", "D1:3"]) == [
        "D8:6",
        "D9:17",
        "D11:26",
        "D1:3",
    ]
    assert locomo.parse_session_date("1:56 pm on 8 May, 2023") == datetime(
        2023, 5, 8, 13, 56, tzinfo=UTC
    )
    assert locomo.parse_session_date("2023-05-08") == datetime(2023, 5, 8, tzinfo=UTC)
    assert locomo.parse_session_date("someday") is None


def test_conversation_messages_carry_ids_times_and_captions() -> None:
    msgs = locomo.conversation_messages(sample())
    assert len(msgs) == 10
    assert msgs[0].name == "Ana" and msgs[0].id == "synthetic-1:D1:1"
    assert msgs[0].additional_kwargs == {
        "source_id": "D1:1",
        "timestamp": "2023-05-08T13:56:00+00:00",
    }
    assert msgs[8].text.endswith("[shares a photo of a violin on a stage]")


def test_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps([sample()]))
    out = tmp_path / "results.json"
    locomo.main(["--data", str(data), "--out", str(out), "--quiet", "--ablate"])
    result = json.loads(out.read_text())
    overall = result["overall"]
    assert overall["questions"] == 4  # category 5 and the question without evidence are out
    assert result["ingest"]["questions_skipped_no_evidence"] == 1
    assert result["ingest"]["evidence_ids_dropped"] == 1  # D9:99 names no turn
    # a window per turn, and a preference cube for "I started learning the violin last month"
    assert result["ingest"]["turns"] == 10 and result["ingest"]["cubes"] == 11
    assert result["plans_over_budget"] == 0
    # R@tok counts only turns whose text is in the block, and every named turn is there
    assert result["ids_claimed_not_injected"] == 0
    assert all(a["ids_claimed_not_injected"] == 0 for a in result["ablations"].values())
    # the whole conversation fits in 512 tokens, so every evidence turn is injected
    assert overall["R@512tok"] == overall["R@1024tok"] == 1.0
    assert 0 < overall["R@1"] <= overall["R@5"] <= overall["R@10"] <= 1.0
    assert 0 < overall["MRR"] <= 1.0
    assert result["per_category"]["4_single_hop"]["questions"] == 1
    assert result["per_category"]["4_single_hop"]["R@5"] == 1.0
    assert set(result["latency_ms"]) == {
        "embed_query_p50",
        "embed_query_p95",
        "search_p50",
        "search_p95",
        "plan_1024_p50",
        "plan_1024_p95",
    }
    assert set(result["ablations"]) == set(locomo.ABLATIONS)
    # the peers ran on the same data: ten short turns all fit in 512 tokens
    assert set(result["peers"]) == set(locomo.PEERS) == set(result["vs_peers"])
    for peer in result["peers"].values():
        assert peer["questions"] == 4 and peer["R@512tok"] == 1.0 and peer["R@10"] == 1.0


def test_peers_rank_single_turns() -> None:
    lines = {
        "D1:1": ["Ana: We adopted a puppy and named him Biscuit."],
        "D1:2": ["Ben: The weather was grey all week."],
        "D1:3": ["Ana: My violin teacher is strict."],
    }
    q = {"question": "What is the name of the puppy?", "evidence": ["D1:1"], "category": 4}
    convs = [(("locomo", "t"), [q], lines)]
    peers = locomo.evaluate_peers(convs, default_embeddings(), lambda t: len(t.split()))
    assert set(peers) == set(locomo.PEERS)
    for summary in peers.values():
        assert summary["R@1"] == 1.0 and summary["MRR"] == 1.0


def test_preference_dev_set_is_clean_and_runs_through_the_benchmark(tmp_path: Path) -> None:
    data = prefset.generate(users=1, prefs=30, questions=30, seed=3)
    prefset.check(data)  # evidence ids exist; no question shares a content word with it
    assert data == prefset.generate(users=1, prefs=30, questions=30, seed=3)  # deterministic
    path = tmp_path / "prefs.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "results.json"
    locomo.main(["--data", str(path), "--out", str(out), "--quiet"])
    result = json.loads(out.read_text())
    assert result["overall"]["questions"] == 30
    assert result["per_category"]["4_single_hop"]["questions"] == 30
    assert result["ids_claimed_not_injected"] == 0 and result["plans_over_budget"] == 0
    # the preference turns were read as preferences (they are most of what the user says
    # that is not a request), and the tier finds them for implied questions
    assert result["ingest"]["cubes"] > result["ingest"]["turns"]
    assert result["overall"]["R@1024tok"] > 0.5
