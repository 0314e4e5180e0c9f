"""The ``memos-lc`` command: in-process through ``main()``, plus real console-script runs for
exit codes, stderr and the directory lock."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from memos_lc import MemVault, Principal, cli
from memos_lc.cli import clip, main, parse_namespace, parse_ttl, shown_tags, wrap
from memos_lc.cube import CHECKPOINT_NAMESPACE, MemCube, utcnow
from memos_lc.errors import InvalidInputError, InvalidNamespaceError
from memos_lc.governance import audit_channel

CONSOLE_SCRIPT = Path(sys.executable).parent / "memos-lc"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # tables clip free text to the terminal width; keep assertions independent of it
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("MEMOS_LC_VAULT", raising=False)
    monkeypatch.delenv("MEMOS_LC_PRINCIPAL", raising=False)


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


def run(capsys: pytest.CaptureFixture[str], vault: Path, *args: str, who: str = "alice"):
    """``memos-lc --vault V --principal WHO ARGS``: (exit code, stdout, stderr)."""
    code = main(["--vault", str(vault), "--principal", who, *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], vault: Path, *args: str, who: str = "alice"):
    """Like :func:`run` with ``--json``; asserts success and parses stdout."""
    code, out, err = run(capsys, vault, *args, "--json", who=who)
    assert code == 0, err
    return json.loads(out)


def add(capsys, vault: Path, text: str, ns: str = "users/alice", *extra: str, who="alice"):
    return run_json(capsys, vault, "add", text, "--namespace", ns, *extra, who=who)


# -- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("90s", 90),
        ("15m", 900),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("1d12h", 129600),
        ("1.5h", 5400),
        (" 7D ", 604800),
    ],
)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "0s", "-5m", "7 days", "5x", "d", "1d-2h", "99999w"])
def test_parse_ttl_rejects(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_ttl(text)


def test_parse_namespace() -> None:
    assert parse_namespace("users/alice/prefs") == ("users", "alice", "prefs")
    assert parse_namespace("solo") == ("solo",)
    for bad in ["", "/users", "users/", "users//alice", "a\x01b"]:
        with pytest.raises(InvalidNamespaceError):
            parse_namespace(bad)


def test_clip_keeps_one_printable_line() -> None:
    assert clip("a  b\n c", 10) == "a b c"
    assert clip("abcdefghij", 5) == "abcd…"
    assert clip("red \x1b[31m alert\x9b", 40) == "red ?[31m alert?"  # no escape sequences


def test_wrap_keeps_every_word_and_line() -> None:
    text = "[7 May]\nuser: " + " ".join(f"word{i}" for i in range(40)) + "\n\nred \x1b[31m"
    lines = wrap(text, 30)
    assert all(len(line) <= 30 for line in lines) and lines[0] == "[7 May]"
    assert " ".join(lines).split() == text.replace("\x1b", "?").split()
    assert wrap("", 10) == [""]


def test_help_and_usage_errors_return_codes(capsys) -> None:
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["list", "--status", "bogus"]) == 2
    assert main(["search"]) == 2


# -- round trip ------------------------------------------------------------------------------


def test_round_trip_add_search_get_history_rollback_forget_list(capsys, vault_dir) -> None:
    cube = add(
        capsys,
        vault_dir,
        "Alice is allergic to peanuts",
        "users/alice",
        "--type",
        "preference",
        "--tag",
        "food",
        "--tag",
        "health",
        "--priority",
        "0.8",
        "--key",
        "allergy",
        "--ttl",
        "7d",
    )
    cid = cube["id"]
    assert cube["namespace"] == ["users", "alice"]
    assert (cube["memory_type"], cube["tags"], cube["priority"]) == (
        "preference",
        ["food", "health"],
        0.8,
    )
    assert cube["key"] == "allergy" and cube["expires_at"] is not None
    assert cube["provenance"]["origin"] == "cli" and cube["access"]["owner"] == "alice"
    other = add(capsys, vault_dir, "Alice hikes in the Alps every summer", "users/alice/hobbies")

    hits = run_json(capsys, vault_dir, "search", "peanuts", "--explain", "-k", "2")
    assert hits[0]["cube"]["id"] == cid
    assert hits[0]["lexical_rank"] == 1 and hits[0]["matched_terms"] == ["peanuts"]
    assert hits[0]["dense_rank"] is not None
    scoped = run_json(capsys, vault_dir, "search", "peanuts", "--namespace", "users/alice/hobbies")
    assert [h["cube"]["id"] for h in scoped] == [other["id"]]

    assert run_json(capsys, vault_dir, "get", cid)["payload"]["text"] == (
        "Alice is allergic to peanuts"
    )

    tomb = run_json(capsys, vault_dir, "forget", cid, "--reason", "user asked")
    assert (tomb["version"], tomb["status"]) == (2, "deleted")
    assert tomb["provenance"]["note"] == "user asked"
    assert [c["id"] for c in run_json(capsys, vault_dir, "list")] == [other["id"]]
    assert [c["id"] for c in run_json(capsys, vault_dir, "list", "--status", "deleted")] == [cid]
    assert run_json(capsys, vault_dir, "search", "peanuts", "--namespace", "users/alice") == [
        h for h in run_json(capsys, vault_dir, "search", "peanuts") if h["cube"]["id"] != cid
    ]

    back = run_json(capsys, vault_dir, "rollback", cid, "1")
    assert (back["version"], back["status"]) == (3, "active")
    history = run_json(capsys, vault_dir, "history", cid)
    assert [(c["version"], c["status"]) for c in history] == [
        (1, "active"),
        (2, "deleted"),
        (3, "active"),
    ]
    assert run_json(capsys, vault_dir, "get", cid, "--version", "2")["status"] == "deleted"
    listed = run_json(capsys, vault_dir, "list", "--status", "all")
    assert {c["id"] for c in listed} == {cid, other["id"]}
    assert run_json(capsys, vault_dir, "list", "--limit", "1") == [back]  # newest first

    gone = run_json(capsys, vault_dir, "forget", cid, "--purge", "--yes")
    assert gone == {"purged": cid, "versions_removed": 3}
    assert [c["id"] for c in run_json(capsys, vault_dir, "list", "--status", "all")] == [
        other["id"]
    ]
    code, out, err = run(capsys, vault_dir, "history", cid)
    assert (code, out) == (1, "") and err.startswith(f"error: no cube {cid}")


def test_human_output_shows_prefixes_in_lists_and_full_ids_in_details(capsys, vault_dir) -> None:
    cid = add(
        capsys,
        vault_dir,
        "Alice's dog is a beagle named Biscuit",
        "users/alice/pets",
        "--tag",
        "pet",
    )["id"]
    code, out, _ = run(capsys, vault_dir, "list")
    assert code == 0
    assert cid[:8] in out and cid not in out
    assert re.search(r"^id\s+ver\s+status\s+updated\s+namespace\s+type\s+tags\s+text$", out, re.M)
    assert "users/alice/pets" in out and "Biscuit" in out

    code, out, _ = run(capsys, vault_dir, "search", "what pet does she have", "--explain")
    assert code == 0
    assert out.splitlines()[0].split()[:5] == ["#", "score", "dense", "lexical", "terms"]
    assert cid[:8] in out and "#1" in out

    for command in (["get", cid], ["history", cid]):
        code, out, _ = run(capsys, vault_dir, *command)
        assert code == 0 and cid in out and "Alice's dog is a beagle named Biscuit" in out

    code, out, err = run(capsys, vault_dir, "get", cid[:8])
    assert code == 1 and out == ""
    assert "give the full id" in err and len(err.strip().splitlines()) == 1


def test_global_options_work_after_the_command(capsys, vault_dir, monkeypatch) -> None:
    monkeypatch.setenv("MEMOS_LC_PRINCIPAL", "carol")
    assert main(["add", "x marks the spot", "--namespace", "c", "--vault", str(vault_dir)]) == 0
    capsys.readouterr()
    assert main(["list", "--json", "--vault", str(vault_dir)]) == 0
    (cube,) = json.loads(capsys.readouterr().out)
    assert cube["access"]["owner"] == "carol"  # principal from the environment


# -- governance ------------------------------------------------------------------------------


def test_owner_names_which_owners_cube_an_id_means(capsys, vault_dir) -> None:
    # ids are scoped per owner: alice and bob may each hold one with the same id
    cid = add(capsys, vault_dir, "Alice prefers tea", "users/alice")["id"]
    with MemVault.open(vault_dir) as vault:
        vault.put(
            "bob", MemCube.from_text("Bob prefers coffee", namespace=("users", "bob"), id=cid)
        )
    assert (
        run_json(capsys, vault_dir, "get", cid)["payload"]["text"] == "Alice prefers tea"
    )  # her own
    admin = ("--role", "admin")
    code, _, err = run(capsys, vault_dir, *admin, "get", cid, who="ops")
    assert code == 2 and err.startswith("error: ") and err.endswith("(here: --owner ID)\n"), err
    got = run_json(capsys, vault_dir, *admin, "get", cid, "--owner", "bob", who="ops")
    assert got["payload"]["text"] == "Bob prefers coffee"
    updated = run_json(
        capsys, vault_dir, *admin, "update", cid, "Bob prefers tea now", "--owner", "bob", who="ops"
    )
    assert updated["version"] == 2 and updated["access"]["owner"] == "bob"
    history = run_json(capsys, vault_dir, *admin, "history", cid, "--owner", "bob", who="ops")
    assert [c["payload"]["text"] for c in history] == ["Bob prefers coffee", "Bob prefers tea now"]
    assert run_json(capsys, vault_dir, "history", cid)[-1]["payload"]["text"] == "Alice prefers tea"


def test_audit_shows_the_actions(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "Alice prefers tea", "users/alice")["id"]
    run(capsys, vault_dir, "search", "tea")
    run(capsys, vault_dir, "get", cid)
    run(capsys, vault_dir, "forget", cid)
    run(capsys, vault_dir, "list", who="bob")

    events = run_json(capsys, vault_dir, "audit")
    mine = [(e["action"], e["outcome"]) for e in events]
    assert mine[:4] == [("delete", "ok"), ("get", "ok"), ("search", "ok"), ("put", "ok")]
    assert {e["principal"] for e in events} == {"alice"}  # only your own events
    assert [e["action"] for e in run_json(capsys, vault_dir, "audit", "--cube", cid)] == [
        "delete",
        "get",
        "search",
        "put",
    ]
    assert [e["cube_ids"] for e in run_json(capsys, vault_dir, "audit", "--action", "put")] == [
        [cid]
    ]

    code, _, err = run(capsys, vault_dir, "audit", "--who", "bob")
    assert code == 1 and err.startswith("error: only admins")
    everyone = run_json(capsys, vault_dir, "--role", "admin", "audit", "--limit", "100", who="ops")
    assert {"alice", "bob"} <= {e["principal"] for e in everyone}

    code, out, _ = run(capsys, vault_dir, "audit", "--action", "delete")
    assert code == 0 and re.search(rf"alice\s+-\s+delete\s+ok\s+{cid[:8]}", out)
    # a server's calls name their channel (memos-lc mcp: mcp:stdio / mcp:http)
    with audit_channel("mcp:http"), MemVault.open(vault_dir) as vault:
        vault.list("alice")
    code, out, _ = run(capsys, vault_dir, "audit", "--action", "list", "--limit", "1")
    assert code == 0 and re.search(r"alice\s+mcp:http\s+list\s+ok", out), out


def test_grant_lets_a_second_principal_search(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "Alice's team ships on Thursdays", "users/alice/work")["id"]
    add(capsys, vault_dir, "Alice's diary entry", "users/alice/private")
    assert run_json(capsys, vault_dir, "search", "when does the team ship", who="bob") == []
    code, _, err = run(capsys, vault_dir, "get", cid, who="bob")
    assert code == 1 and "no cube" in err  # existence is not revealed

    grant = run_json(capsys, vault_dir, "grant", "users/alice/work", "bob")
    assert (grant["grantee"], grant["namespace"], grant["permission"]) == (
        "bob",
        ["users", "alice", "work"],
        "read",
    )
    hits = run_json(capsys, vault_dir, "search", "when does the team ship", who="bob")
    assert [h["cube"]["id"] for h in hits] == [cid]  # the private namespace stays private
    assert run_json(capsys, vault_dir, "get", cid, who="bob")["id"] == cid

    code, _, err = run(capsys, vault_dir, "forget", cid, who="bob")  # read, not write
    assert code == 1 and "may read but not change" in err
    run_json(capsys, vault_dir, "grant", "users/alice/work", "bob", "--write")
    assert run_json(capsys, vault_dir, "forget", cid, who="bob")["status"] == "deleted"


def test_sweep_expires_cubes_past_their_ttl(capsys, vault_dir, monkeypatch) -> None:
    keep = add(capsys, vault_dir, "lasting fact", "users/alice")["id"]
    # the ttl is counted from the CLI's clock: set it an hour back so 1m has already passed
    with monkeypatch.context() as m:
        m.setattr(cli, "utcnow", lambda: utcnow() - timedelta(hours=1))
        old = add(capsys, vault_dir, "short-lived fact", "users/alice", "--ttl", "1m")["id"]
    assert [c["id"] for c in run_json(capsys, vault_dir, "list")] == [keep]
    assert run_json(capsys, vault_dir, "sweep") == {"expired": [old]}
    expired = run_json(capsys, vault_dir, "list", "--status", "expired")
    assert [(c["id"], c["version"]) for c in expired] == [(old, 2)]
    code, out, _ = run(capsys, vault_dir, "sweep")
    assert (code, out) == (0, "nothing to expire\n")


# -- bad input and errors --------------------------------------------------------------------


BAD_ADDS = [
    (["add", "", "--namespace", "users/alice"], "text must not be empty"),
    (["add", "   ", "--namespace", "users/alice"], "text must not be empty"),
    (["add", "x", "--namespace", "users//alice"], "bad namespace"),
    (["add", "x", "--namespace", ""], "bad namespace"),
    (["add", "x", "--namespace", "a", "--ttl", "soon"], "bad ttl"),
    (["add", "x", "--namespace", "a", "--priority", "2"], "priority"),
    (["add", "x", "--namespace", "a", "--type", "Not A Type"], "memory_type"),
    (["add", "x", "--namespace", "a", "--priority", "nan"], "priority"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ADDS)
def test_bad_input_exits_2_before_touching_the_vault(capsys, vault_dir, argv, message) -> None:
    code, out, err = run(capsys, vault_dir, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert not vault_dir.exists()  # validated before the vault is opened or created


def test_bad_input_changes_nothing_in_an_existing_vault(capsys, vault_dir) -> None:
    add(capsys, vault_dir, "existing fact", "users/alice")
    before = run_json(capsys, vault_dir, "list", "--status", "all")
    puts = run_json(capsys, vault_dir, "audit", "--action", "put")
    for argv, _ in BAD_ADDS:
        assert run(capsys, vault_dir, *argv)[0] == 2, argv
    assert run_json(capsys, vault_dir, "list", "--status", "all") == before
    assert run_json(capsys, vault_dir, "audit", "--action", "put") == puts  # no write attempted


def test_bad_input_on_other_commands_exits_2(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "fact", "users/alice")["id"]
    for argv in (
        ["search", "   "],
        ["search", "x", "--namespace", "a//b"],
        ["search", "x", "-k", "0"],
        ["list", "--limit", "0"],
        ["grant", "users//alice", "bob"],
        ["grant", "users/alice", "bob\x01"],
    ):
        code, _, err = run(capsys, vault_dir, *argv)
        assert code == 2, argv
        assert err.startswith("error: ") and len(err.splitlines()) == 1
    code, _, err = run(capsys, vault_dir, "--principal", "role:admin", "list")
    assert code == 2 and "bad principal" in err
    assert [c["id"] for c in run_json(capsys, vault_dir, "list")] == [cid]


def test_read_commands_do_not_create_a_vault(capsys, tmp_path) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = run(capsys, missing, "list")
    assert (code, out) == (1, "") and err.startswith(f"error: no vault at {missing}")
    assert not missing.exists()


def test_not_found_errors_exit_1(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "fact", "users/alice")["id"]
    for argv, message in (
        (["get", "00000000-0000-4000-8000-000000000000"], "no cube"),
        (["get", cid, "--version", "7"], "has no version 7"),
        (["rollback", cid, "9"], "has no version 9"),
    ):
        code, out, err = run(capsys, vault_dir, *argv)
        assert (code, out) == (1, "") and message in err


def test_purge_needs_yes_without_a_terminal(capsys, vault_dir, monkeypatch) -> None:
    cid = add(capsys, vault_dir, "fact", "users/alice")["id"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # not a tty: never prompt
    code, _, err = run(capsys, vault_dir, "forget", cid, "--purge")
    assert code == 2 and "--yes" in err
    assert run_json(capsys, vault_dir, "get", cid)["status"] == "active"


def test_purge_asks_on_a_terminal(capsys, vault_dir, monkeypatch) -> None:
    cid = add(capsys, vault_dir, "fact", "users/alice")["id"]

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty("n\n"))
    code, _, err = run(capsys, vault_dir, "forget", cid, "--purge")
    assert code == 1 and "cannot be undone" in err and "aborted" in err
    assert run_json(capsys, vault_dir, "get", cid)["status"] == "active"
    monkeypatch.setattr(sys, "stdin", Tty("y\n"))
    code, out, _ = run(capsys, vault_dir, "forget", cid, "--purge")
    assert code == 0 and out == f"purged {cid}: 1 version(s) removed\n"


# -- the real console script -----------------------------------------------------------------


def console(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEMOS_LC_PRINCIPAL": "alice"}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_console_script_bad_input(vault_dir) -> None:
    done = console("--vault", str(vault_dir), "add", "x", "--namespace", "users//alice")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: bad namespace") and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert not vault_dir.exists()


def test_console_script_reports_a_locked_vault(vault_dir) -> None:
    with MemVault.open(vault_dir):  # this process holds the directory lock
        done = console("--vault", str(vault_dir), "list")
    assert done.returncode == 1 and done.stdout == ""
    assert re.fullmatch(r"error: vault .* is open in another process.*\n", done.stderr)
    assert console("--vault", str(vault_dir), "list").stdout == "no memories\n"


def test_model_free_commands_do_not_import_torch(vault_dir) -> None:
    MemVault.open(vault_dir).close()
    code = (
        "import sys; from memos_lc.cli import main; "
        f"rc = main(['--vault', {str(vault_dir)!r}, 'list']); "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', "
        "'langchain_huggingface') if m in sys.modules]; "
        "print(rc, heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MEMOS_LC_PRINCIPAL": "alice"},
    )
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr


def test_update_writes_a_new_version(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "Alice drinks coffee", "users/alice", "--tag", "drinks")["id"]
    v2 = run_json(capsys, vault_dir, "update", cid, "Alice switched to green tea")
    assert (v2["version"], v2["payload"]["text"], v2["tags"]) == (
        2,
        "Alice switched to green tea",
        ["drinks"],
    )
    v3 = run_json(capsys, vault_dir, "update", cid, "--tag", "tea", "--priority", "0.9")
    assert (v3["version"], v3["payload"]["text"], v3["tags"], v3["priority"]) == (
        3,
        "Alice switched to green tea",
        ["tea"],
        0.9,
    )
    hits = run_json(capsys, vault_dir, "search", "green tea", "-k", "1")
    assert hits[0]["cube"]["version"] == 3
    assert [c["version"] for c in run_json(capsys, vault_dir, "history", cid)] == [1, 2, 3]
    code, _, err = run(capsys, vault_dir, "update", cid)
    assert code == 2 and "nothing to update" in err
    code, _, err = run(capsys, vault_dir, "update", cid, "hijack", who="mallory")
    assert code == 1 and "no cube" in err
    assert [c["version"] for c in run_json(capsys, vault_dir, "history", cid)] == [1, 2, 3]


# -- what the tables show ----------------------------------------------------------------------


def _joined(out: str) -> str:
    """Table output with the wrapped text's line breaks and indents folded away."""
    return " ".join(out.split())


@pytest.mark.parametrize("columns", ["200", "60"])
def test_tables_show_the_full_text_wrapped(capsys, vault_dir, monkeypatch, columns) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    words = " ".join(f"w{i}" for i in range(60))
    text = f"Alice keeps a long list of words: {words} and that is the end"
    add(capsys, vault_dir, text, "users/alice")
    for argv in (["search", "long list of words"], ["list"]):
        code, out, _ = run(capsys, vault_dir, *argv)
        assert code == 0 and "…" not in out
        assert text in _joined(out)  # every word, in order
        if columns == "200":  # room for the text column: nothing wider than the terminal
            assert all(len(line) <= 200 for line in out.splitlines())


def _graph_with_checkpoints_and_store(vault_dir: Path) -> None:
    """Two turns of a graph on a MemCubeSaver and a MemCubeStore item, as alice."""
    from typing import TypedDict

    from langgraph.graph import START, StateGraph

    from memos_lc.checkpoint import MemCubeSaver
    from memos_lc.store import MemCubeStore

    class State(TypedDict):
        x: str

    with MemVault.open(vault_dir) as vault:
        graph = (
            StateGraph(State)
            .add_node("n", lambda s: {"x": s["x"] + "!"})
            .add_edge(START, "n")
            .compile(checkpointer=MemCubeSaver(vault))
        )
        for turn in ("hello", "again"):
            graph.invoke({"x": turn}, {"configurable": {"thread_id": "t1", "user_id": "alice"}})
        store = MemCubeStore(vault, principal="alice")
        store.put(("users", "alice", "prefs"), "drink", {"text": "green tea"}, ttl=60)


def test_list_shows_memories_not_checkpoints_or_bookkeeping(capsys, vault_dir) -> None:
    _graph_with_checkpoints_and_store(vault_dir)
    fact = add(capsys, vault_dir, "Alice is allergic to peanuts", "users/alice", "--tag", "food")
    listed = run_json(capsys, vault_dir, "list")
    assert {c["memory_type"] for c in listed} == {"long_term"}
    assert len(listed) == 2  # the fact and the store item, no checkpoint cube
    item = next(c for c in listed if c["id"] != fact["id"])
    assert item["bookkeeping"]["role"] == "store_item"  # --json keeps everything

    code, out, _ = run(capsys, vault_dir, "list")
    assert code == 0 and "store:" not in out and "checkpoint" not in out
    assert re.search(rf"{fact['id'][:8]}\s.*\sfood\s+Alice is allergic", out)
    code, out, _ = run(capsys, vault_dir, "get", item["id"])
    assert code == 0 and "store:" not in out and re.search(r"^tags\s+-$", out, re.M)

    # asked for: by type, with --all-types, or by the checkpointer's namespace
    every = run_json(capsys, vault_dir, "list", "--all-types", "--limit", "500")
    saved = [c for c in every if c["memory_type"] == "checkpoint"]
    assert saved and len(every) == len(saved) + 2
    assert {c["id"] for c in run_json(capsys, vault_dir, "list", "--type", "checkpoint")} == {
        c["id"] for c in saved
    }
    under = run_json(capsys, vault_dir, "list", "--namespace", "/".join(CHECKPOINT_NAMESPACE))
    assert len(under) == len(saved)
    assert any(t.startswith(("c:", "w:")) for c in saved for t in c["tags"])
    code, out, _ = run(capsys, vault_dir, "list", "--type", "checkpoint")
    assert code == 0 and "checkpoint" in out and not re.search(r"\b[cw][:#]", out)

    # the vault's own default is the same
    with MemVault.open(vault_dir) as vault:
        alice = Principal("alice")
        assert vault.count(alice) == 2
        assert {c.id for c in vault.list(alice)} == {c["id"] for c in listed}
        assert vault.count(alice, filter={"include_internal": True}) == len(every)
        assert vault.count(alice, namespace=CHECKPOINT_NAMESPACE[:1]) == len(saved)


def test_shown_tags_hide_exactly_the_bookkeeping_tags() -> None:
    from memos_lc.cube import Bookkeeping, MemCube

    mine = MemCube.from_text("x", namespace=("a",), tags=("food", "c:not-a-saver-tag"))
    assert shown_tags(mine) == ["food", "c:not-a-saver-tag"]
    kept = mine.replace(bookkeeping=Bookkeeping(role="checkpoint"), tags=("c:abc", "w#0f"))
    assert shown_tags(kept) == []


# -- grants ------------------------------------------------------------------------------------


def test_grants_lists_ids_and_revoke_withdraws(capsys, vault_dir) -> None:
    cid = add(capsys, vault_dir, "Alice's team ships on Thursdays", "users/alice/work")["id"]
    assert run(capsys, vault_dir, "grants")[1] == "no grants\n"
    grant = run_json(capsys, vault_dir, "grant", "users/alice/work", "bob")
    code, out, _ = run(capsys, vault_dir, "grants")
    assert code == 0 and grant["id"] in out and re.search(r"read\s+alice\s+bob\s", out)
    assert [g["id"] for g in run_json(capsys, vault_dir, "grants", who="bob")] == [grant["id"]]
    assert run_json(capsys, vault_dir, "grants", who="carol") == []
    hits = run_json(capsys, vault_dir, "search", "when does the team ship", who="bob")
    assert [h["cube"]["id"] for h in hits] == [cid]

    # only the grantor (or an admin) revokes; a malformed id is bad input; an unknown one is not
    code, out, err = run(capsys, vault_dir, "revoke", grant["id"], who="bob")
    assert (code, out) == (1, "") and "only the grantor" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, vault_dir, "revoke", "g-123")
    assert code == 2 and err.startswith("error: bad grant id") and len(err.splitlines()) == 1
    code, _, err = run(capsys, vault_dir, "revoke", "00000000-0000-4000-8000-000000000000")
    assert code == 1 and err.startswith("error: no grant")
    assert run_json(capsys, vault_dir, "grants", who="bob") != []

    code, out, _ = run(capsys, vault_dir, "revoke", grant["id"])
    assert (code, out) == (0, f"revoked grant {grant['id']}\n")
    assert run_json(capsys, vault_dir, "grants") == []
    assert run_json(capsys, vault_dir, "search", "when does the team ship", who="bob") == []
    again = run_json(capsys, vault_dir, "grant", "users/alice/work", "bob")
    assert run_json(capsys, vault_dir, "revoke", again["id"], "--role", "admin", who="ops") == {
        "revoked": again["id"]
    }
