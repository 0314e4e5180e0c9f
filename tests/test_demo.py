"""``memos-lc demo``: what the agent graph did, from its JSON report and the vault it kept.

One ``--fast`` run per session (the model loads once; no adapter training): the report is
stdout, the narrative stderr."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from memos_lc import MemVault, Principal
from memos_lc.cli import build_parser, main
from memos_lc.demo import DEMO_GUEST, DEMO_USER


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    """(report, narrative, kept vault) of one ``memos-lc --json demo --fast --vault DIR``."""
    vault = tmp_path_factory.mktemp("demo") / "vault"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--json", "demo", "--fast", "--vault", str(vault)])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue()), err.getvalue(), vault


def test_session_1_writes_what_the_user_said(demo) -> None:
    report, _, location = demo
    assert report["vault"] == str(location) and report["fast"] is True
    turns = report["session_1"]
    assert [t["thread"] for t in turns] == ["session-1"] * len(turns) and len(turns) >= 2
    assert turns[0]["placed"] == []  # nothing known yet
    assert all(t["written"] and t["trace"]["ttft_ms"] > 0 and t["reply"] for t in turns)
    written = [w for t in turns for w in t["written"]]
    prefs = [w for w in written if w["memory_type"] == "preference"]
    assert any("vegetarian" in w["text"] for w in prefs)
    # the second turn was given the first one's memories, as text (nothing compiled yet)
    assert {p["placed_as"] for p in turns[1]["placed"]} == {"text"}
    with MemVault.open(location) as vault:  # kept: --vault
        for w in written:
            assert vault.get(Principal(id=DEMO_USER), w["id"]).text == w["text"]


def test_consolidation_compiles_kv_that_session_2_reuses(demo) -> None:
    report, _, _ = demo
    made = report["consolidation"]["made"]
    assert [m["kind"] for m in made] == ["activation"]  # --fast: no adapter
    kv = made[0]
    session_1 = {w["id"] for t in report["session_1"] for w in t["written"]}
    assert kv["derived_from"] and set(kv["derived_from"]) <= session_1
    first = report["session_2"][0]
    assert first["message"] == "What should I cook tonight?"
    placed = {p["cube_id"]: p for p in first["placed"]}
    assert placed[kv["id"]]["placed_as"] == "KV"
    assert first["trace"]["activation"] == kv["id"] and first["trace"]["activation_used"]
    assert first["trace"]["cached_tokens"] > 0 and not first["warnings"]
    # the implicit question got the stated preference (in the KV block or as text)
    given = [*placed[kv["id"]]["derived_from"], *placed]
    texts = {w["id"]: w["text"] for t in report["session_1"] for w in t["written"]}
    assert any("vegetarian" in texts.get(i, "") for i in given)


def test_another_principal_sees_nothing(demo) -> None:
    report, _, location = demo
    guest = report["guest"]
    assert guest["principal"] == DEMO_GUEST and guest["placed"] == []
    assert report["guest_search_hits"] == 0 and report["guest_thread_messages"] == 0
    with MemVault.open(location) as vault:
        assert vault.count(Principal(id=DEMO_GUEST), namespace=("users", DEMO_USER)) == 0


def test_the_narrative_prints_what_the_system_returned(demo) -> None:
    report, narrative, _ = demo
    for header in ("SESSION 1", "CONSOLIDATION", "SESSION 2", "ANOTHER PRINCIPAL"):
        assert header in narrative
    flat = " ".join(narrative.split())
    for turn in [*report["session_1"], *report["session_2"], report["guest"]]:
        assert " ".join(turn["reply"].split()) in flat  # the model's reply, as it came
        assert f"TTFT {turn['trace']['ttft_ms']:.0f} ms" in flat
        for w in turn["written"]:
            assert w["id"][:8] in narrative
    assert report["consolidation"]["made"][0]["id"][:8] in narrative
    assert "KV prefix reused in 1/2 session-2 turns" in flat or "reused in 2/2" in flat
    ours = [line for line in narrative.splitlines() if "it/s]" not in line]  # not tqdm's bars
    assert max(map(len, ours)) <= 120


def test_demo_fast_is_an_option() -> None:
    args = build_parser().parse_args(["demo", "--fast"])
    assert args.fast is True and args.func.__name__ == "cmd_demo"
