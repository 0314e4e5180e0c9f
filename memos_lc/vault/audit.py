"""The vault's audit trail: how one call becomes an :class:`~memos_lc.governance.AuditEvent`,
and reading the log back.

Plain functions, no state: the vault decides where an event goes (straight into the engine,
or journaled and written with the next batch) and passes that as ``record``. The event model
and :func:`~memos_lc.governance.audit_channel` live in :mod:`memos_lc.governance`; the stored
shape of an event and the log's filter in :mod:`memos_lc.vault.schema`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from memos_lc.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from memos_lc.governance import AuditEvent, AuditOutcome, Principal
from memos_lc.vault.drivers import Driver
from memos_lc.vault.schema import AUDIT, audit_event_from_payload, audit_filter

EVENT_CUBE_IDS = 200
"""Most cube ids one event names (a batch put names its first ones)."""
DETAIL_CHARS = 500
"""Longest ``detail`` of an event that failed with an invalid input or an error."""


def outcome_of(error: Exception) -> tuple[AuditOutcome, str]:
    """The outcome and detail an event records for a call that raised ``error``."""
    if isinstance(error, PermissionDeniedError):
        return "denied", str(error)
    if isinstance(error, NotFoundError):
        return "not_found", str(error)
    if isinstance(error, InvalidInputError):
        return "invalid", str(error)[:DETAIL_CHARS]
    return "error", f"{type(error).__name__}: {error}"[:DETAIL_CHARS]


def _namespace_of(namespace: Sequence[str] | None) -> tuple[str, ...] | None:
    """``namespace`` as an event names it: a tuple of strings, or none when it is not one
    (the call failed on bad input, and the event must still be recorded)."""
    ns = None
    with contextlib.suppress(Exception):
        ns = tuple(namespace) if namespace is not None else None
    return ns if ns and all(isinstance(x, str) for x in ns) else None


@contextlib.contextmanager
def audited_call(
    record: Callable[[AuditEvent], None],
    principal: Principal,
    action: str,
    namespace: Sequence[str] | None = None,
    *,
    record_ok: bool = True,
    event_id: str | None = None,
) -> Iterator[list[str]]:
    """Audit one call as an event of ``action`` passed to ``record``: yields a list the call
    fills with the cube ids it touched; the outcome is the block's (``ok``, or from the error
    it raised, which propagates). ``record_ok=False`` records only a failure. ``event_id``
    names the event, so that recording it again replaces it."""
    ids: list[str] = []
    outcome: AuditOutcome = "ok"
    detail = None
    try:
        yield ids
    except Exception as e:
        outcome, detail = outcome_of(e)
        raise
    finally:
        if record_ok or outcome != "ok":
            record(
                AuditEvent(
                    **({"id": event_id} if event_id else {}),
                    principal=principal.id,
                    roles=tuple(sorted(principal.roles)),
                    action=action,
                    cube_ids=tuple(ids[:EVENT_CUBE_IDS]),
                    namespace=_namespace_of(namespace),
                    outcome=outcome,
                    detail=detail,
                )
            )


def read_log(
    driver: Driver,
    principal: Principal,
    *,
    who: str | None,
    action: str | None,
    cube_id: str | None,
    outcome: AuditOutcome | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditEvent]:
    """Stored audit events, newest first: everyone's (or ``who``'s) for an admin, else only
    the principal's own (:class:`PermissionDeniedError` when it asks for another's)."""
    if not principal.is_admin and who not in (None, principal.id):
        raise PermissionDeniedError("only admins may read other principals' audit events")
    flt = audit_filter(
        principal=who if principal.is_admin else principal.id,
        action=action,
        cube_id=cube_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    pts = driver.scroll(AUDIT, filter=flt, limit=limit, order_by="ts", descending=True)
    return [audit_event_from_payload(p.payload) for p in pts]
