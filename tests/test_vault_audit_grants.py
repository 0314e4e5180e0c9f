"""The vault's audit trail and grant book on their own, without the vault around them."""

from __future__ import annotations

import math

import pytest

from memos_lc.errors import (
    CubeNotFoundError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from memos_lc.governance import AuditEvent, Principal
from memos_lc.vault.audit import EVENT_CUBE_IDS, audited_call
from memos_lc.vault.drivers import ClientDriver, CollectionSpec
from memos_lc.vault.grants import GrantBook
from memos_lc.vault.schema import GRANT_INDEXES, GRANTS

ALICE = Principal(id="alice", roles=frozenset({"analyst", "dev"}))


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (PermissionDeniedError("no"), "denied"),
        (CubeNotFoundError("gone"), "not_found"),
        (InvalidInputError("x" * 900), "invalid"),
        (RuntimeError("boom"), "error"),
    ],
)
def test_a_failed_call_is_recorded_with_its_outcome_and_raises(error, outcome) -> None:
    events: list[AuditEvent] = []
    with (
        pytest.raises(type(error)),
        audited_call(events.append, ALICE, "get", record_ok=False) as ids,
    ):
        ids.append("c1")
        raise error
    (event,) = events
    assert (event.action, event.outcome, event.cube_ids) == ("get", outcome, ("c1",))
    assert event.detail and len(event.detail) <= 500
    assert event.roles == ("analyst", "dev")


def test_a_call_that_succeeds_is_recorded_unless_told_not_to() -> None:
    events: list[AuditEvent] = []
    with audited_call(events.append, ALICE, "put", ("a", "b"), event_id=None) as ids:
        ids.extend(f"c{i}" for i in range(EVENT_CUBE_IDS + 5))
    with audited_call(events.append, ALICE, "put", record_ok=False):
        pass
    (event,) = events
    assert event.outcome == "ok" and event.detail is None
    assert event.namespace == ("a", "b")
    assert len(event.cube_ids) == EVENT_CUBE_IDS  # the first ones, in order
    assert event.cube_ids[0] == "c0"


def test_an_event_is_recorded_even_when_its_namespace_is_not_one() -> None:
    events: list[AuditEvent] = []
    with pytest.raises(InvalidInputError), audited_call(events.append, ALICE, "list", 42):  # type: ignore[arg-type]
        raise InvalidInputError("namespace must be a sequence of strings")
    assert events[0].namespace is None and events[0].outcome == "invalid"


def test_an_event_id_names_the_event() -> None:
    events: list[AuditEvent] = []
    for _ in range(2):
        with audited_call(
            events.append, ALICE, "put", event_id="6f1c1c52-8b1e-4f2a-9d0e-1a2b3c4d5e6f"
        ):
            pass
    assert {e.id for e in events} == {"6f1c1c52-8b1e-4f2a-9d0e-1a2b3c4d5e6f"}


@pytest.fixture
def driver():
    d = ClientDriver(":memory:")
    d.ensure_collection(GRANTS, CollectionSpec(None, False, GRANT_INDEXES))
    yield d
    d.close()


def test_a_grant_book_caches_for_its_ttl_and_its_own_changes_clear_it(driver) -> None:
    """Two books on one engine stand for two processes sharing a server: a grant made by one
    reaches the other's cached answer only after the other's ttl, and at once in the book that
    made it."""
    bob = Principal(id="bob")
    mine, other_exact, other_fresh = (GrantBook(driver, ttl=t) for t in (math.inf, math.inf, 0.0))
    for book in (mine, other_exact, other_fresh):
        assert book.held_by(bob) == []
    g = mine.issue(ALICE, ("alice", "notes"), "bob", "read")
    assert mine.held_by(bob) == [g]
    assert other_exact.held_by(bob) == []  # cached, and no ttl runs out
    assert other_fresh.held_by(bob) == [g]
    assert mine.listing(bob) == [g] and mine.listing(ALICE) == [g]
    with pytest.raises(PermissionDeniedError):
        mine.revoke(bob, g.id)
    mine.revoke(ALICE, g.id)
    assert mine.held_by(bob) == [] and mine.listing(ALICE) == []
    with pytest.raises(NotFoundError):
        mine.revoke(ALICE, g.id)
    with pytest.raises(InvalidInputError):
        mine.issue(ALICE, ("alice",), "bob", "own")
    admin = Principal(id="ops", roles=frozenset({"admin"}))
    everyone = mine.issue(admin, ("shared",), "role:dev", "write")
    assert everyone.all_owners and mine.held_by(ALICE) == [everyone]
    assert mine.held_by(admin) == []  # an admin needs none
