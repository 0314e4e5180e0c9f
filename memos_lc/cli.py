"""``memos-lc``: the vault from a terminal.

Every command opens the vault, does one thing as one principal and closes it again, so the
embedded vault directory is locked only while a command runs. Commands that need no model
(``get``, ``history``, ``rollback``, ``forget``, ``list``, ``audit``, ``grant``, ``grants``,
``revoke``, ``sweep``) never load MiniLM: the vault embeds lazily and this module imports
nothing heavy.

The human output shows memories: the checkpointer's cubes (memory type ``checkpoint``) are
left out unless asked for (``--type checkpoint``, ``--all-types`` or a namespace under
``langgraph/checkpoints``), and bookkeeping tags (:func:`shown_tags`) are not printed.
``--json`` prints every field of what was selected, internal tags included: it is for scripts.

Example:
    .. code-block:: console

        $ memos-lc add "Alice is allergic to peanuts" --namespace users/alice --tag food
        $ memos-lc search "what can't she eat?" --explain
        $ memos-lc list --json
        $ memos-lc demo
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from memos_lc import __version__
from memos_lc.cube import (
    LifecycleStatus,
    MemCube,
    utcnow,
    validate_namespace,
)
from memos_lc.errors import (
    AmbiguousCubeError,
    CubeNotFoundError,
    InvalidInputError,
    InvalidNamespaceError,
    MemosError,
    MissingExtraError,
    PrincipalRequiredError,
    VaultError,
)
from memos_lc.governance import (
    ENV_PRINCIPAL,
    AuditEvent,
    Grant,
    Permission,
    Principal,
    os_user_principal,
)
from memos_lc.vault import CubeFilter, MemVault, default_vault_path

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
MAX_TTL = timedelta(days=365 * 100)
STATUS_CHOICES = [s.value for s in LifecycleStatus] + ["all"]
AUDIT_OUTCOMES = ["ok", "denied", "not_found", "invalid", "error"]

_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TTL = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_TTL_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
# C0/C1 control characters other than tab and newline: stored text may hold them, and
# printed raw they could drive the terminal (escape sequences)
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bookkeeping the adapters keep in tags, not shown in tables or `get` (``--json`` keeps it):
# MemCubeStore's reserved ``store:`` tags (born, ttl, unindexed) and, on the checkpointer's
# cubes, its lookup tags ``c:<checkpoint id>`` / ``w:<checkpoint id>`` (``c#`` / ``w#`` with
# a digest when the id is long).

Out = Callable[..., None]


# -- small parsing and formatting helpers ----------------------------------------------------


def parse_ttl(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"12h"``, ``"7d"``, ``"2w"``, ``"1d12h"`` or plain seconds."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        seconds = float(s)
    elif _TTL.fullmatch(s):
        seconds = sum(float(n) * _TTL_UNITS[u] for n, u in _TTL_PART.findall(s))
    else:
        raise InvalidInputError(f"bad ttl {text!r}: use e.g. 3600, 90s, 15m, 12h, 7d, 2w, 1d12h")
    if not 0 < seconds <= MAX_TTL.total_seconds():
        raise InvalidInputError(f"ttl {text!r} must be more than 0s and at most 100 years")
    return timedelta(seconds=seconds)


def parse_namespace(text: str) -> tuple[str, ...]:
    """``"users/alice/prefs"`` -> ``("users", "alice", "prefs")``; labels must be non-empty."""
    labels = tuple(text.split("/"))
    if not all(labels):
        raise InvalidNamespaceError(
            f"bad namespace {text!r}: labels are separated by '/' and must be non-empty"
        )
    return validate_namespace(labels)


def check_grantee(grantee: str) -> str:
    """A principal id or ``role:<name>``; the vault stores grantees as given, so check here."""
    name = grantee.removeprefix("role:")
    try:
        Principal(id=name)
    except ValidationError:
        raise InvalidInputError(
            f"bad grantee {grantee!r}: a principal id or role:<name> (1-256 chars, "
            "no control characters)"
        ) from None
    return grantee


def format_namespace(namespace: Sequence[str] | None) -> str:
    return "/".join(namespace) if namespace else "-"


def short_id(cube_id: str) -> str:
    """The 8-character prefix lists show (arguments take full ids)."""
    return cube_id[:8]


def format_time(when: datetime | None, *, seconds: bool = False) -> str:
    """A timestamp in the local time zone, or ``never``."""
    if when is None:
        return "never"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def printable(text: str) -> str:
    """``text`` with control characters (except tab and newline) shown as ``?``."""
    return _UNPRINTABLE.sub("?", text)


def clip(text: str, width: int) -> str:
    """``text`` on one line, printable, cut to ``width`` characters with an ellipsis."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


def wrap(text: str, width: int) -> list[str]:
    """``text`` as printable lines of at most ``width`` characters (its own line breaks kept,
    blank lines dropped): nothing is cut off."""
    lines = [
        part
        for line in printable(text).splitlines()
        for part in textwrap.wrap(line, width, break_on_hyphens=False)
    ]
    return lines or [""]


def shown_tags(cube: MemCube) -> list[str]:
    """The tags a person reads: none on a cube an integration keeps for itself (its
    :class:`~memos_lc.cube.Bookkeeping` says so; the checkpointer's tags are lookup keys)."""
    return [] if cube.bookkeeping is not None else list(cube.tags)


def _join(items: Sequence[str]) -> str:
    return ", ".join(items) or "-"


def _rank(rank: int | None) -> str:
    return "-" if rank is None else f"#{rank}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print aligned columns; the last one (free text) is shown in full, wrapped to the
    terminal width, its further lines indented under it."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers[:-1])]
    indent = sum(widths) + 2 * len(widths)
    room = max(20, shutil.get_terminal_size((100, 24)).columns - indent - 1)
    for row in [headers, *rows]:
        cells = [printable(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        first, *more = wrap(row[-1], room)
        print("  ".join([*cells, first]).rstrip())
        for line in more:
            print(" " * indent + line)


def _emit_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, ensure_ascii=False))


def _cube_json(cube: MemCube) -> dict[str, Any]:
    return cube.model_dump(mode="json")


def _json_or_nothing(args: argparse.Namespace, items: Sequence[BaseModel], nothing: str) -> bool:
    """Print ``items`` as one JSON list with ``--json``, or ``nothing`` when there are none.
    Returns whether that was all (else the caller prints its table)."""
    if args.json:
        _emit_json([item.model_dump(mode="json") for item in items])
        return True
    if not items:
        print(nothing)
        return True
    return False


def _not_found_hint(e: CubeNotFoundError, cube_id: str) -> CubeNotFoundError:
    # lists show 8-char prefixes; a prefix passed back is the likeliest cause of "no cube"
    if len(cube_id) < 32:
        return CubeNotFoundError(f"{e} (give the full id; `memos-lc list --json` shows it)")
    return e


# -- principal and vault -----------------------------------------------------------------------


def _principal(args: argparse.Namespace) -> Principal:
    pid = args.principal or os_user_principal().id
    try:
        return Principal(id=pid, roles=frozenset(args.role or ()))
    except ValidationError:
        raise InvalidInputError(
            f"bad principal {pid!r}: 1-256 chars, no control characters, not 'role:*'"
        ) from None


def _location(args: argparse.Namespace) -> str:
    return args.vault or str(default_vault_path())


@contextlib.contextmanager
def _open_vault(args: argparse.Namespace, *, create: bool = False) -> Iterator[MemVault]:
    """Open the vault for one command; read-only commands refuse to create a new one."""
    location = _location(args)
    is_dir = location != ":memory:" and not location.startswith(("http://", "https://"))
    if is_dir and not create and not Path(location).expanduser().exists():
        raise VaultError(f"no vault at {location} (`memos-lc add` creates one; see --vault)")
    vault = MemVault.open(location)
    try:
        yield vault
    finally:
        vault.close()


def _types(args: argparse.Namespace) -> dict[str, Any]:
    """The memory-type fields of a :class:`CubeFilter` from ``--type`` / ``--all-types``."""
    return {
        "memory_types": tuple(args.type) if args.type else None,
        "include_internal": args.all_types,
    }


# -- commands ----------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    """Store one plaintext memory."""
    principal = _principal(args)
    header: dict[str, Any] = {
        "memory_type": args.type,
        "tags": tuple(args.tag or ()),
        "key": args.key,
        "provenance": {"origin": "cli", "actor": principal.id},
    }
    if args.priority is not None:
        header["priority"] = args.priority
    if args.ttl is not None:
        header["expires_at"] = utcnow() + parse_ttl(args.ttl)
    # validate everything before the vault is opened (or created): bad input changes nothing
    if not isinstance(args.text, str) or not args.text.strip():
        raise InvalidInputError("text must not be empty")
    cube = MemCube.from_text(args.text, namespace=parse_namespace(args.namespace), **header)
    with _open_vault(args, create=True) as vault:
        stored = vault.put(principal, cube)[0]
    if args.json:
        _emit_json(_cube_json(stored))
    else:
        extra = f"  expires {format_time(stored.expires_at)}" if stored.expires_at else ""
        print(
            f"added {stored.id}  {format_namespace(stored.namespace)}  "
            f"{stored.memory_type}  v{stored.version}{extra}"
        )
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """Hybrid search; ``--explain`` shows why each hit was found."""
    principal = _principal(args)
    namespace = parse_namespace(args.namespace) if args.namespace else None
    if not args.query.strip():
        raise InvalidInputError("query must not be empty")
    with _open_vault(args) as vault:
        hits = vault.search(
            principal,
            args.query,
            namespace=namespace,
            filter=CubeFilter(**_types(args)),
            limit=args.k,
            explain=args.explain,
        )
    if _json_or_nothing(args, hits, "no matching memories"):
        return EXIT_OK
    headers = ["#", "score"]
    if args.explain:
        headers += ["dense", "lexical", "terms"]
    headers += ["id", "namespace", "type", "text"]
    rows = []
    for i, h in enumerate(hits, 1):
        row = [str(i), f"{h.score:.3f}"]
        if args.explain:
            row += [_rank(h.dense_rank), _rank(h.lexical_rank), ",".join(h.matched_terms) or "-"]
        row += [short_id(h.cube.id), format_namespace(h.cube.namespace), h.cube.memory_type]
        rows.append([*row, h.cube.text])
    _table(headers, rows)
    return EXIT_OK


def _print_cube(cube: MemCube) -> None:
    prov = cube.provenance
    acc = cube.access
    head = "head" if cube.superseded_by is None else f"superseded by {cube.superseded_by}"
    expired = " (passed)" if cube.is_expired() else ""
    fields = [
        ("id", cube.id),
        ("version", f"{cube.version} ({head})"),
        ("status", cube.status.value),
        ("namespace", format_namespace(cube.namespace)),
        ("type", f"{cube.memory_type}  kind {cube.kind.value}  key {cube.key or '-'}"),
        ("tags", ", ".join(shown_tags(cube)) or "-"),
        ("priority", f"{cube.priority:.2f}  confidence {cube.confidence:.2f}"),
        (
            "access",
            f"owner {acc.owner or '-'}  readers {_join(acc.readers)}  writers {_join(acc.writers)}",
        ),
        ("created", format_time(cube.created_at, seconds=True)),
        ("updated", format_time(cube.updated_at, seconds=True)),
        ("expires", format_time(cube.expires_at, seconds=True) + expired),
        (
            "provenance",
            f"origin {prov.origin}  actor {prov.actor or '-'}  "
            f"thread {prov.thread_id or '-'}  messages {_join(prov.message_ids)}",
        ),
    ]
    if prov.source_ids or prov.derived_from:
        fields.append(("sources", ", ".join([*prov.source_ids, *prov.derived_from])))
    if prov.note:
        fields.append(("note", prov.note))
    blob = getattr(cube.payload, "blob", None)
    if blob is not None:  # activation / parametric: the text above is what search sees
        fields.append(("blob", f"sha256 {blob.sha256}  {blob.size} bytes"))
    last_used = format_time(cube.usage.last_used_at)
    fields.append(("usage", f"{cube.usage.hits} recalls, last {last_used}"))
    for name, value in fields:
        print(f"{name:<11} {printable(value)}")
    print("text")
    for line in cube.text.splitlines() or [""]:
        print(f"  {printable(line)}")


def cmd_get(args: argparse.Namespace) -> int:
    """One cube in full (the head, or ``--version``)."""
    principal = _principal(args)
    with _open_vault(args) as vault:
        try:
            cube = vault.get(
                principal, args.id, version=args.version, include_expired=True, owner=args.owner
            )
        except CubeNotFoundError as e:
            raise _not_found_hint(e, args.id) from None
    if args.json:
        _emit_json(_cube_json(cube))
    else:
        _print_cube(cube)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    """Every version of a cube, oldest first."""
    principal = _principal(args)
    with _open_vault(args) as vault:
        try:
            versions = vault.history(principal, args.id, owner=args.owner)
        except CubeNotFoundError as e:
            raise _not_found_hint(e, args.id) from None
    if args.json:
        _emit_json([_cube_json(c) for c in versions])
        return EXIT_OK
    last = versions[-1]
    print(f"cube {last.id}  {format_namespace(last.namespace)}  {len(versions)} version(s)")
    rows = [
        [
            f"v{c.version}",
            c.status.value,
            format_time(c.updated_at, seconds=True),
            c.provenance.thread_id or c.provenance.origin,
            c.text + (f"  [note: {c.provenance.note}]" if c.provenance.note else ""),
        ]
        for c in versions
    ]
    _table(["ver", "status", "updated", "from", "text"], rows)
    return EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    """Write a new version: new text and/or header fields; the old version stays in history."""
    principal = _principal(args)
    changes: dict[str, Any] = {}
    if args.tag is not None:
        changes["tags"] = tuple(args.tag)
    if args.type is not None:
        changes["memory_type"] = args.type
    if args.priority is not None:
        changes["priority"] = args.priority
    if args.ttl is not None:
        changes["expires_at"] = utcnow() + parse_ttl(args.ttl)
    if args.text is not None and not args.text.strip():
        raise InvalidInputError("text must not be empty")
    if args.text is None and not changes:
        raise InvalidInputError("nothing to update: give new text or --tag/--type/--priority/--ttl")
    with _open_vault(args) as vault:
        try:
            cube = vault.update(principal, args.id, text=args.text, owner=args.owner, **changes)
        except CubeNotFoundError as e:
            raise _not_found_hint(e, args.id) from None
    if args.json:
        _emit_json(_cube_json(cube))
    else:
        print(f"updated {cube.id}: v{cube.version} (v{cube.version - 1} kept in history)")
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    """Restore an old version's content as a new head version."""
    principal = _principal(args)
    with _open_vault(args) as vault:
        try:
            cube = vault.rollback(principal, args.id, args.version, owner=args.owner)
        except CubeNotFoundError as e:
            raise _not_found_hint(e, args.id) from None
    if args.json:
        _emit_json(_cube_json(cube))
    else:
        print(f"rolled back {cube.id}: v{cube.version} restores v{args.version} ({cube.status})")
    return EXIT_OK


def _confirm(prompt: str) -> bool:
    print(f"{prompt} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_forget(args: argparse.Namespace) -> int:
    """Soft-delete (a tombstone version; rollback undoes it) or, with --purge, erase."""
    principal = _principal(args)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if args.purge and not args.yes and not interactive:
        raise InvalidInputError("refusing to purge without --yes when stdin is not a terminal")
    with _open_vault(args) as vault:
        try:
            if not args.purge:
                cube = vault.delete(principal, args.id, reason=args.reason, owner=args.owner)
            else:
                if not args.yes:
                    head = vault.get(principal, args.id, include_expired=True, owner=args.owner)
                    prompt = (
                        f"purge every version of {head.id} ({clip(head.text, 50)!r})? "
                        "This cannot be undone."
                    )
                    if not _confirm(prompt):
                        print("aborted; nothing was changed", file=sys.stderr)
                        return EXIT_ERROR
                removed = vault.purge(principal, args.id, owner=args.owner)
        except CubeNotFoundError as e:
            raise _not_found_hint(e, args.id) from None
    if args.purge:
        if args.json:
            _emit_json({"purged": args.id, "versions_removed": removed})
        else:
            print(f"purged {args.id}: {removed} version(s) removed")
    elif args.json:
        _emit_json(_cube_json(cube))
    else:
        print(
            f"deleted {cube.id} (tombstone v{cube.version}; "
            f"`memos-lc rollback {cube.id} {cube.version - 1}` brings v{cube.version - 1} back)"
        )
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """Head versions, newest first."""
    principal = _principal(args)
    namespace = parse_namespace(args.namespace) if args.namespace else None
    if args.status == "all":
        flt = CubeFilter(statuses=None, include_expired=True, **_types(args))
    elif args.status == LifecycleStatus.ACTIVE.value:
        flt = CubeFilter(**_types(args))
    else:  # expired/deleted/... cubes usually have a past expiry too: do not hide them
        flt = CubeFilter(
            statuses=(LifecycleStatus(args.status),), include_expired=True, **_types(args)
        )
    with _open_vault(args) as vault:
        cubes = vault.list(principal, namespace=namespace, filter=flt, limit=args.limit)
    if _json_or_nothing(args, cubes, "no memories"):
        return EXIT_OK
    rows = [
        [
            short_id(c.id),
            f"v{c.version}",
            c.status.value,
            format_time(c.updated_at),
            format_namespace(c.namespace),
            c.memory_type,
            ",".join(shown_tags(c)) or "-",
            c.text,
        ]
        for c in cubes
    ]
    _table(["id", "ver", "status", "updated", "namespace", "type", "tags", "text"], rows)
    if len(cubes) == args.limit:
        print(f"(first {args.limit}; use --limit for more)")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit events, newest first (admins see everyone's)."""
    principal = _principal(args)
    with _open_vault(args) as vault:
        events = vault.audit_log(
            principal,
            who=args.who,
            action=args.action,
            cube_id=args.cube,
            outcome=args.outcome,
            limit=args.limit,
        )
    if _json_or_nothing(args, events, "no audit events"):
        return EXIT_OK
    _table(
        ["when", "principal", "via", "action", "outcome", "cubes", "namespace", "detail"],
        [_audit_row(e) for e in events],
    )
    return EXIT_OK


def _audit_row(e: AuditEvent) -> list[str]:
    ids = [short_id(i) for i in e.cube_ids[:3]]
    if len(e.cube_ids) > 3:
        ids.append(f"+{len(e.cube_ids) - 3}")
    return [
        format_time(e.at, seconds=True),
        e.principal,
        e.channel or "-",
        e.action,
        e.outcome,
        ",".join(ids) or "-",
        format_namespace(e.namespace),
        e.detail or "",
    ]


def cmd_grant(args: argparse.Namespace) -> int:
    """Share a namespace subtree with another principal (or ``role:<name>``)."""
    principal = _principal(args)
    namespace = parse_namespace(args.namespace)
    check_grantee(args.grantee)
    permission = Permission.WRITE if args.write else Permission.READ
    with _open_vault(args, create=True) as vault:
        grant: Grant = vault.grant(principal, namespace, args.grantee, permission)
    if args.json:
        _emit_json(grant.model_dump(mode="json"))
    else:
        whose = "every owner's cubes" if grant.all_owners else f"{grant.grantor}'s cubes"
        print(
            f"granted {grant.permission.value} on {format_namespace(grant.namespace)}/* "
            f"({whose}) to {grant.grantee}  [grant {grant.id}]"
        )
    return EXIT_OK


def cmd_grants(args: argparse.Namespace) -> int:
    """The grants you issued or received (every grant, for an admin), oldest first."""
    principal = _principal(args)
    with _open_vault(args) as vault:
        grants = sorted(vault.grants(principal), key=lambda g: g.created_at)
    if _json_or_nothing(args, grants, "no grants"):
        return EXIT_OK
    rows = [
        [
            g.id,  # in full: `memos-lc revoke` takes it
            g.permission.value,
            g.grantor + (" (all owners)" if g.all_owners else ""),
            g.grantee,
            format_time(g.created_at),
            f"{format_namespace(g.namespace)}/*",
        ]
        for g in grants
    ]
    _table(["id", "permission", "grantor", "grantee", "created", "namespace"], rows)
    return EXIT_OK


def parse_grant_id(text: str) -> str:
    """A grant id as ``memos-lc grants`` prints it (a UUID)."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise InvalidInputError(
            f"bad grant id {text!r}: a UUID as `memos-lc grants` lists it"
        ) from None


def cmd_revoke(args: argparse.Namespace) -> int:
    """Withdraw a grant (its grantor or an admin may)."""
    principal = _principal(args)
    grant_id = parse_grant_id(args.id)
    with _open_vault(args) as vault:
        vault.revoke(principal, grant_id)
    if args.json:
        _emit_json({"revoked": grant_id})
    else:
        print(f"revoked grant {grant_id}")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """Move every active cube whose TTL has passed to status ``expired``."""
    with _open_vault(args) as vault:
        expired = vault.sweep_expired()
    if args.json:
        _emit_json({"expired": expired})
    elif expired:
        print(f"expired {len(expired)} cube(s): {', '.join(short_id(i) for i in expired)}")
    else:
        print("nothing to expire")
    return EXIT_OK


# -- bundles (MemStore) -----------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (``2025-01-31``, ``2025-01-31T09:30``); no zone = local time."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"bad time {text!r}: use ISO 8601, e.g. 2025-01-31 or 2025-01-31T09:30"
        ) from None
    return when if when.tzinfo else when.astimezone()


def parse_remap(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``"FROM=TO"`` namespace prefixes (``kb/wine=agents/bob/wine``); an empty FROM prefixes
    every namespace, an empty TO strips FROM."""
    if "=" not in text:
        raise InvalidInputError(f"bad remap {text!r}: use FROM=TO, e.g. kb/wine=agents/bob/wine")
    src, dst = text.split("=", 1)
    if not src and not dst:
        raise InvalidInputError("bad remap '=': give FROM, TO or both")
    return (parse_namespace(src) if src else (), parse_namespace(dst) if dst else ())


def _bundle_key(args: argparse.Namespace, *, sign: bool) -> Any:
    """The key of --hmac-key / --ed25519-key: a signing key on export, a trusted key on import."""
    from memos_lc import bundles

    if args.hmac_key and args.ed25519_key:
        raise InvalidInputError("give --hmac-key or --ed25519-key, not both")
    if args.hmac_key:
        return bundles.load_hmac_key(args.hmac_key)
    if args.ed25519_key:
        return bundles.load_ed25519_key(args.ed25519_key, private=sign)
    return None


def cmd_export(args: argparse.Namespace) -> int:
    """Write the memories you may read (filtered) to a portable, optionally signed bundle."""
    from memos_lc.bundles import export_bundle, key_id
    from memos_lc.cube import MemoryKind

    principal = _principal(args)
    namespace = parse_namespace(args.namespace) if args.namespace else None
    try:
        flt = CubeFilter(
            statuses=None if args.status == "all" else (LifecycleStatus(args.status),),
            include_expired=args.status != LifecycleStatus.ACTIVE.value,
            kinds=tuple(MemoryKind(k) for k in args.kind) if args.kind else None,
            tags=tuple(args.tag) if args.tag else None,
            owner=args.owner,
            created_after=parse_time(args.since) if args.since else None,
            created_before=parse_time(args.until) if args.until else None,
            **_types(args),
        )
    except ValidationError as e:
        raise InvalidInputError(f"bad filter: {e.errors()[0]['msg']}") from None
    key = _bundle_key(args, sign=True)
    out = Path(args.file).expanduser()
    if out.exists() and not args.force:
        raise InvalidInputError(f"{out} exists; pass --force to replace it")
    with _open_vault(args) as vault:
        manifest = export_bundle(
            vault,
            principal,
            out,
            namespace=namespace,
            filter=flt,
            history=args.history,
            sign_with=key,
            title=args.title,
            source=args.source,
            overwrite=args.force,
        )
    if args.json:
        _emit_json(manifest.model_dump(mode="json"))
    else:
        kinds = ", ".join(f"{n} {k.value}" for k, n in manifest.kinds.items()) or "nothing"
        signed = f"signed {key_id(key)}" if key is not None else "unsigned"
        print(
            f"exported {manifest.cube_count} memories ({kinds}; {manifest.version_count} "
            f"versions) to {out}  [bundle {manifest.bundle_id}, {signed}]"
        )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Verify a bundle completely, then add its memories to the vault as this principal."""
    from memos_lc.bundles import check_model_fingerprint, import_bundle, read_bundle

    principal = _principal(args)
    remap = [parse_remap(r) for r in args.remap or ()]
    check_model_fingerprint(args.model_fingerprint)
    key = _bundle_key(args, sign=False)
    # the whole bundle is verified before the vault is opened (or created)
    bundle = read_bundle(args.file, verify_with=key, require_signature=args.require_signature)
    with _open_vault(args, create=not args.dry_run) as vault:
        report = import_bundle(
            vault,
            principal,
            bundle,
            remap=remap,
            on_conflict=args.on_conflict,
            model_fingerprint=args.model_fingerprint,
            dry_run=args.dry_run,
            allow_checkpoints=args.allow_checkpoints,
        )
    if args.json:
        _emit_json(report.model_dump(mode="json"))
        return EXIT_OK
    for warning in report.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    title = f" ({printable(report.title)})" if report.title else ""
    signer = f" by {report.signer}" if report.signer else ""
    print(
        f"{'would import' if report.dry_run else 'imported'} {len(report.imported)} memories "
        f"from bundle {report.bundle_id}{title}: {len(report.replaced)} replaced, "
        f"{len(report.skipped)} skipped, {len(report.dormant)} dormant; "
        f"signature {report.signature}{signer}"
    )
    for cube_id in report.skipped:
        print(f"skipped {cube_id}: {report.skip_reasons.get(cube_id, '-')}")
    return EXIT_OK


def cmd_fingerprint(args: argparse.Namespace) -> int:
    """Print the fingerprint of a local model's weights: what activation and parametric
    memory are made for, and what ``import --model-fingerprint`` takes."""
    from memos_lc.models import load_causal_lm

    if args.model is not None and not args.model.strip():
        raise InvalidInputError("model must not be empty (omit it for the bundled SmolLM2)")
    lm = load_causal_lm(args.model)  # offline: main() sets HF_HUB_OFFLINE
    if args.json:
        _emit_json({"model": lm.name, "fingerprint": lm.fingerprint})
    else:
        print(lm.fingerprint)
    return EXIT_OK


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve the vault to MCP hosts: on stdio as one principal, or over streamable HTTP where
    each bearer token names its principal. Every input is checked before the vault opens."""
    from memos_lc.extras import missing_modules

    if missing_modules(["mcp"]):
        raise MissingExtraError("memos-lc mcp requires the MCP SDK: pip install 'memos-lc[mcp]'")
    from memos_lc import mcp

    if not args.http:
        if not (args.principal or os.environ.get(ENV_PRINCIPAL)):
            raise PrincipalRequiredError(
                f"memos-lc mcp acts as one principal: pass --principal ID or set "
                f"${ENV_PRINCIPAL} (it never guesses whose memories an MCP host may use)"
            )
        principal = _principal(args)
        with _open_vault(args, create=True) as vault:
            mcp.serve_stdio(vault, principal)  # stdout is the protocol: print nothing
        return EXIT_OK
    if args.principal or args.role:
        raise InvalidInputError(
            "--principal and --role are for stdio: over HTTP each token names its principal "
            "(--tokens)"
        )
    tokens = mcp.load_tokens(args.tokens)
    mcp.check_address(args.host, args.port, allow_remote=args.allow_remote)
    sock = mcp.bind(args.host, args.port)  # a port in use fails here, before the vault opens
    with sock, _open_vault(args, create=True) as vault:
        app = mcp.http_app(vault, tokens, host=args.host, allow_remote=args.allow_remote)
        print("memos-lc mcp: loading the embedding model...", file=sys.stderr, flush=True)
        vault.embeddings.embed_query("warm up")  # before the first request, not during it
        print(
            f"memos-lc mcp: serving {mcp.url_of(sock)} for {len(tokens)} token(s) "
            f"(vault {_location(args)}); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        mcp.serve_http(app, sock)
    return EXIT_OK


# -- demo --------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """An agent graph with memory over two sessions (:mod:`memos_lc.demo`)."""
    from memos_lc.demo import run_demo

    # with --json the report is stdout and the narrative goes to stderr
    say: Out = functools.partial(print, file=sys.stderr, flush=True) if args.json else print
    # only an explicit --vault is used: the demo never writes into the user's own vault
    scratch = None if args.vault else tempfile.mkdtemp(prefix="memos-demo-")
    location = args.vault or str(Path(scratch or "") / "vault")
    say(f"memos-lc demo: an agent graph with MemOS memory, two sessions (vault {location})")
    try:
        report = run_demo(location, say, fast=args.fast)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        _emit_json(report)
    elif scratch:
        print("(temporary vault removed; pass --vault DIR to keep it)")
    return EXIT_OK


# -- argument parsing --------------------------------------------------------------------------


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # the same options on the main parser (with defaults) and on every subcommand (suppressed,
    # so `memos-lc list --json` and `memos-lc --json list` both work without clobbering)
    d: Callable[[Any], Any] = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    g = parser.add_argument_group("global options")
    g.add_argument(
        "--vault",
        metavar="PATH_OR_URL",
        default=d(None),
        help="vault directory, ':memory:' or a Qdrant URL "
        "(default: $MEMOS_LC_VAULT, else memos-lc/vault in the user data directory)",
    )
    g.add_argument(
        "--principal",
        metavar="ID",
        default=d(None),
        help=f"who is acting (default: ${ENV_PRINCIPAL}, else the OS user name)",
    )
    g.add_argument(
        "--role",
        action="append",
        metavar="ROLE",
        default=d(None),
        help="a role of the principal, e.g. admin (repeatable)",
    )
    g.add_argument(
        "--json", action="store_true", default=d(False), help="print one JSON document on stdout"
    )


def _owner_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--owner",
        metavar="ID",
        help="whose memory the id names, when you may read several owners' (ids are per owner)",
    )


def _type_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type",
        action="append",
        metavar="TYPE",
        help="only this memory type, e.g. preference or checkpoint (repeatable)",
    )
    parser.add_argument(
        "--all-types",
        action="store_true",
        help="include the checkpointer's cubes (memory type checkpoint), left out by default",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``memos-lc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="memos-lc",
        description="MemOS memory vault: add, search, version, govern and audit memories.",
    )
    parser.add_argument("--version", action="version", version=f"memos-lc {__version__}")
    _global_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> Any:
        p = sub.add_parser(name, help=help, description=help)
        _global_options(p, defaults=False)
        p.set_defaults(func=func)
        return p

    p = command("add", cmd_add, "store a plaintext memory")
    p.add_argument("text", help="the memory, e.g. 'Alice is allergic to peanuts'")
    p.add_argument(
        "--namespace",
        required=True,
        metavar="A/B/C",
        help="slash-separated labels, e.g. users/alice/prefs",
    )
    p.add_argument("--type", default="long_term", help="memory type (default: long_term)")
    p.add_argument("--tag", action="append", metavar="TAG", help="a tag (repeatable)")
    p.add_argument("--ttl", help="expire after e.g. 3600, 90s, 15m, 12h, 7d, 2w")
    p.add_argument("--priority", type=float, help="0..1 (default 0.5)")
    p.add_argument("--key", help="an optional key to find the memory by")

    p = command("search", cmd_search, "hybrid (dense + lexical) search")
    p.add_argument("query", help="what to look for, in plain words")
    p.add_argument("--namespace", metavar="A/B/C", help="only this namespace and below")
    p.add_argument("-k", "--limit", dest="k", type=int, default=5, help="hits (default 5)")
    _type_options(p)
    p.add_argument(
        "--explain",
        action="store_true",
        help="show dense rank, lexical rank and matched terms per hit",
    )

    p = command("get", cmd_get, "show one memory in full")
    p.add_argument("id")
    _owner_option(p)
    p.add_argument("--version", type=int, help="an older version")

    p = command("history", cmd_history, "every version of a memory")
    p.add_argument("id")
    _owner_option(p)

    p = command("update", cmd_update, "write a new version of a memory (old one kept)")
    p.add_argument("id")
    _owner_option(p)
    p.add_argument("text", nargs="?", help="the new text (omit to change only header fields)")
    p.add_argument("--tag", action="append", metavar="TAG", help="replace the tags (repeatable)")
    p.add_argument("--type", help="new memory type")
    p.add_argument("--priority", type=float, help="0..1")
    p.add_argument("--ttl", help="expire after e.g. 3600, 90s, 15m, 12h, 7d, 2w from now")

    p = command("rollback", cmd_rollback, "restore an old version as the new head")
    p.add_argument("id")
    _owner_option(p)
    p.add_argument("version", type=int)

    p = command("forget", cmd_forget, "soft-delete a memory (or --purge every version)")
    p.add_argument("id")
    _owner_option(p)
    p.add_argument("--purge", action="store_true", help="erase every version, irreversibly")
    p.add_argument("--reason", help="kept with the tombstone version")
    p.add_argument("-y", "--yes", action="store_true", help="purge without asking")

    p = command("list", cmd_list, "list memories, newest first")
    p.add_argument("--namespace", metavar="A/B/C", help="only this namespace and below")
    p.add_argument("--status", choices=STATUS_CHOICES, default="active")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    _type_options(p)

    p = command("audit", cmd_audit, "the audit log, newest first (admins see all)")
    p.add_argument("--who", metavar="PRINCIPAL")
    p.add_argument("--action", help="e.g. put, search, update, delete, purge, grant")
    p.add_argument("--cube", metavar="ID", help="events touching this cube id")
    p.add_argument("--outcome", choices=AUDIT_OUTCOMES)
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    p = command("grant", cmd_grant, "share a namespace subtree with another principal")
    p.add_argument("namespace", metavar="NAMESPACE")
    p.add_argument("grantee", metavar="GRANTEE", help="a principal id or role:<name>")
    p.add_argument("--write", action="store_true", help="allow changes, not only reads")

    command("grants", cmd_grants, "the grants you issued or received (admins: all)")
    p = command("revoke", cmd_revoke, "withdraw a grant (its grantor or an admin)")
    p.add_argument("id", metavar="GRANT_ID", help="as `memos-lc grants` lists it")

    command("sweep", cmd_sweep, "expire memories whose TTL has passed")

    p = command("export", cmd_export, "write memories to a portable bundle file (MemStore)")
    p.add_argument("file", help="the bundle to write, e.g. expert.memos.zip")
    p.add_argument("--namespace", metavar="A/B/C", help="only this namespace and below")
    p.add_argument("--kind", action="append", choices=["plaintext", "activation", "parametric"])
    p.add_argument("--tag", action="append", metavar="TAG", help="cubes with any of these tags")
    p.add_argument("--owner", metavar="PRINCIPAL", help="only cubes this principal owns")
    p.add_argument("--since", metavar="TIME", help="created at or after (ISO 8601)")
    p.add_argument("--until", metavar="TIME", help="created before (ISO 8601)")
    p.add_argument("--status", choices=STATUS_CHOICES, default="active")
    _type_options(p)
    p.add_argument("--history", action="store_true", help="every version, not only the head")
    p.add_argument("--title", help="a title recorded in the manifest")
    p.add_argument("--source", metavar="LABEL", help="a name for this vault, kept as provenance")
    p.add_argument("--hmac-key", metavar="FILE", help="sign with this shared secret (16+ bytes)")
    p.add_argument("--ed25519-key", metavar="PEM", help="sign with this Ed25519 private key")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("import", cmd_import, "verify a bundle file and add its memories (MemStore)")
    p.add_argument("file", help="the bundle to read")
    p.add_argument(
        "--remap",
        action="append",
        metavar="FROM=TO",
        help="move a namespace prefix, e.g. kb/wine=agents/bob/wine (repeatable)",
    )
    p.add_argument(
        "--on-conflict",
        choices=["skip", "replace"],
        default="skip",
        help="an id already in the vault: keep it (default) or add the bundle's as a new version",
    )
    p.add_argument(
        "--model-fingerprint",
        metavar="FP",
        help="the model this vault serves; activation/parametric cubes for others go dormant",
    )
    p.add_argument("--hmac-key", metavar="FILE", help="verify with this shared secret")
    p.add_argument("--ed25519-key", metavar="PEM", help="verify with the publisher's public key")
    p.add_argument("--require-signature", action="store_true", help="refuse unverified bundles")
    p.add_argument("--dry-run", action="store_true", help="verify and report; write nothing")
    p.add_argument(
        "--allow-checkpoints",
        action="store_true",
        help="import LangGraph checkpoints too (refused by default: graphs run what they hold)",
    )
    p = command("fingerprint", cmd_fingerprint, "print a local model's fingerprint")
    p.add_argument(
        "model",
        nargs="?",
        metavar="MODEL",
        help="a local directory, .gguf file or cached HF model id (default: the bundled SmolLM2)",
    )
    p = command("mcp", cmd_mcp, "serve the vault to MCP hosts (stdio, or --http)")
    p.add_argument(
        "--http", action="store_true", help="streamable HTTP with bearer tokens, not stdio"
    )
    p.add_argument("--host", default="127.0.0.1", help="with --http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="with --http (default 8765; 0: any)")
    p.add_argument(
        "--tokens",
        metavar="FILE",
        help="with --http: JSON object token -> principal id, readable by you only "
        "(default: $MEMOS_LC_MCP_TOKENS holds the JSON)",
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="with --http: allow a non-loopback --host"
    )
    p = command(
        "demo",
        cmd_demo,
        "an agent graph with memory (ChatMemOS on the bundled model) over two sessions with a "
        "consolidation run between them, in a temporary vault (only an explicit --vault is kept)",
    )
    p.add_argument(
        "--fast", action="store_true", help="skip adapter training in the consolidation run"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``memos-lc``; returns the exit code (0 ok, 1 error, 2 bad input)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download at run time
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors: keep main() returning
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    try:
        return args.func(args)
    except AmbiguousCubeError as e:
        print(f"error: {e} (here: --owner ID)", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except MemosError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `memos-lc list | head`: not an error of ours
        with contextlib.suppress(OSError, ValueError):  # silence the flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:  # the file system said no: permissions, a full disk, a path under a file
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
