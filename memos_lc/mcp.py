"""The vault as an MCP server: ``memos-lc mcp`` for any MCP host (Claude Desktop, IDE agents,
LangGraph through ``langchain-mcp-adapters``), so they all share one governed vault.

Two transports, built on the official ``mcp`` SDK (``pip install 'memos-lc[mcp]'``):

* **stdio** (:func:`single_principal_server`, :func:`serve_stdio`): the host starts
  ``memos-lc mcp`` and every call acts as the one principal it was started as
  (``--principal`` or ``$MEMOS_LC_PRINCIPAL``; there is no default).
* **streamable HTTP** (:func:`http_app`, :func:`serve_http`): each request acts as the
  principal its bearer token maps to (:func:`parse_tokens`: a JSON object ``token ->
  principal``, from a file or ``$MEMOS_LC_MCP_TOKENS``). Tokens are compared in constant
  time; a request without a known token gets 401 and reaches no tool. The server binds to
  loopback unless told otherwise on purpose (``allow_remote``).

The tools (add, search, get, update, forget, history, rollback, list, consolidate) and the
resources (a memory and its history) call the same :class:`~memos_lc.vault.MemVault` the CLI
and the Python API use, so access control, versions and the audit log are the vault's:
every event names the acting principal and, as its ``channel``, the transport
(``"mcp:stdio"`` or ``"mcp:http"``). A vault error comes back as an MCP tool error carrying
the typed error's name and message; a bad argument is refused before anything changes.

Example:
    .. code-block:: python

        from memos_lc import MemVault, Principal
        from memos_lc.mcp import single_principal_server

        vault = MemVault.open("/tmp/vault")
        server = single_principal_server(vault, Principal("alice"))  # a FastMCP server
        server.run()  # stdio, as `memos-lc --principal alice mcp` does
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import re
import signal
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import anyio
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.auth.provider import AccessToken
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Mount

from memos_lc.cli import parse_namespace, parse_ttl, shown_tags
from memos_lc.cube import LifecycleStatus, MemCube, utcnow
from memos_lc.errors import InvalidInputError, MemosError, PermissionDeniedError
from memos_lc.governance import Principal, audit_channel
from memos_lc.lifecycle import ConsolidationReport, LifecyclePolicy, consolidate
from memos_lc.scheduler import MemScheduler
from memos_lc.vault import CubeFilter, MemVault

STDIO_CHANNEL = "mcp:stdio"
HTTP_CHANNEL = "mcp:http"
ENV_TOKENS = "MEMOS_LC_MCP_TOKENS"
"""Holds the HTTP token table as JSON when no token file is given."""
HTTP_PATH = "/mcp"
SERVER_NAME = "memos-lc"
INSTRUCTIONS = (
    "Long-term memory that outlives the conversation. Search it before answering questions "
    "about the user or earlier work (search_memory, or with plan=true for a ready memory "
    "block within a token budget); store durable facts and preferences with add_memory; "
    "correct one with update_memory (a new version; get_memory_history shows every version). "
    "Namespaces are slash-separated labels such as 'alice/prefs'."
)
# RFC 6750 b64token characters; long enough that guessing is hopeless
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]{16,512}=*")
_LOOPBACK_NAMES = frozenset({"localhost"})

T = TypeVar("T")
Acting = Callable[[Context], Principal]
"""Who a request acts as: the configured principal (stdio) or its token's (HTTP)."""


# -- what the tools return ---------------------------------------------------------------------


class MemoryView(BaseModel):
    """One version of a memory, as a model reads it (the resources give every field)."""

    id: str
    owner: str
    version: int
    status: str
    namespace: str
    memory_type: str
    text: str
    tags: list[str]
    priority: float
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None

    @classmethod
    def of(cls, cube: MemCube, **extra: Any) -> Self:
        """The view of ``cube`` (``extra``: a subclass's own fields)."""
        return cls(
            **extra,
            id=cube.id,
            owner=cube.access.owner,
            version=cube.version,
            status=cube.status.value,
            namespace="/".join(cube.namespace),
            memory_type=cube.memory_type,
            text=cube.text,
            tags=shown_tags(cube),  # not the adapters' bookkeeping
            priority=cube.priority,
            created_at=cube.created_at,
            updated_at=cube.updated_at,
            expires_at=cube.expires_at,
        )


class Hit(MemoryView):
    """A memory found by a search, with its score (higher is more relevant)."""

    score: float


class SearchResult(BaseModel):
    hits: list[Hit]
    memory_block: str | None = None
    """With ``plan``: the planned memories as one text block to read (or put in a prompt)."""
    block_tokens: int | None = None
    """With ``plan``: the block's size in (estimated) tokens, at most ``budget_tokens``."""


class MemoryList(BaseModel):
    memories: list[MemoryView]


# -- tool arguments: short descriptions a model reads --------------------------------------------

CubeId = Annotated[str, Field(min_length=1, max_length=200, description="A memory's full id.")]
Text = Annotated[str, Field(min_length=1, max_length=64_000, description="The memory itself.")]
NamespaceArg = Annotated[
    str | None,
    Field(
        max_length=2000,
        description="Slash-separated labels, e.g. 'alice/prefs'; searches include everything "
        "below it.",
    ),
]
Tags = Annotated[list[str] | None, Field(max_length=64, description="Labels to filter by later.")]
MemoryTypes = Annotated[
    list[str] | None,
    Field(max_length=32, description="Only these memory types, e.g. ['preference']."),
]
Priority = Annotated[
    float | None, Field(ge=0.0, le=1.0, description="Importance from 0 to 1 (default 0.5).")
]
Ttl = Annotated[
    str | None,
    Field(max_length=32, description="Forget after this long, e.g. '90s', '12h', '7d', '2w'."),
]
Version = Annotated[int, Field(ge=1, description="A version number, as history shows.")]
Owner = Annotated[
    str | None,
    Field(
        max_length=256,
        description="Whose memory the id names, when you may read several owners' (ids are "
        "per owner; default: your own, else the one you may read).",
    ),
]


# -- principals and tokens ---------------------------------------------------------------------


def fixed_principal(principal: Principal) -> Acting:
    """Every request acts as ``principal`` (the stdio transport: one host, one user)."""
    return lambda ctx: principal


def bearer_principal(ctx: Context) -> Principal:
    """The principal the request's bearer token maps to (set by :class:`TokenTable`)."""
    request = ctx.request_context.request
    user = getattr(request, "user", None)
    if not isinstance(user, AuthenticatedUser):  # RequireAuthMiddleware lets none through
        raise PermissionDeniedError("this request carries no valid bearer token")
    token = user.access_token
    return Principal(id=token.client_id, roles=frozenset((token.claims or {}).get("roles", ())))


class TokenGrant(BaseModel):
    """Whom one token lets its bearer act as (a token file's value, or just the id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    principal: str
    roles: frozenset[str] = frozenset()


def parse_tokens(text: str, source: str) -> dict[str, Principal]:
    """The token table in ``text``: a JSON object mapping each bearer token (16-512
    characters of ``A-Z a-z 0-9 - . _ ~ + /``) to a principal id, or to
    ``{"principal": id, "roles": [...]}``. ``source`` names where it came from in errors,
    which never repeat a token."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{source}: not JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(raw, dict) or not raw:
        raise InvalidInputError(
            f'{source}: give a JSON object of token -> principal, e.g. {{"<token>": "alice"}}'
        )
    table: dict[str, Principal] = {}
    for n, (token, who) in enumerate(raw.items(), 1):
        if not _TOKEN.fullmatch(token):
            raise InvalidInputError(
                f"{source}: token #{n} must be 16-512 characters of A-Z a-z 0-9 - . _ ~ + / "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        try:
            grant = TokenGrant(principal=who) if isinstance(who, str) else TokenGrant(**who)
            table[token] = Principal(id=grant.principal, roles=grant.roles)
        except (TypeError, ValidationError):
            raise InvalidInputError(
                f'{source}: token #{n} must map to a principal id or {{"principal": id, '
                '"roles": [...]}} (ids: 1-256 chars, no control characters, not role:*)'
            ) from None
    return table


def read_token_file(path: str | os.PathLike[str]) -> dict[str, Principal]:
    """The token table in a JSON file that only its owner may read (like an SSH key)."""
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInputError(f"cannot read the token file {p}: {e}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInputError(
            f"token file {p} is open to other users: chmod 600 {p} (it holds secrets)"
        )
    return parse_tokens(text, str(p))


def load_tokens(path: str | os.PathLike[str] | None) -> dict[str, Principal]:
    """The HTTP token table: from ``path``, else from ``$MEMOS_LC_MCP_TOKENS``."""
    if path is not None:
        return read_token_file(path)
    if text := os.environ.get(ENV_TOKENS):
        return parse_tokens(text, f"${ENV_TOKENS}")
    raise InvalidInputError(
        f"HTTP needs bearer tokens: --tokens FILE or ${ENV_TOKENS}, a JSON object mapping "
        'each token to the principal it acts as, e.g. {"<token>": "alice"}'
    )


class TokenTable:
    """The MCP SDK's token verifier over a fixed table: a token that is in it authenticates
    as its principal (the id as ``client_id``, the roles as a claim)."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        if not tokens:
            raise InvalidInputError("the token table is empty: nobody could connect")
        self._entries = [(t.encode(), p) for t, p in tokens.items()]

    def principal_for(self, token: str) -> Principal | None:
        supplied = token.encode("utf-8", "replace")
        found = None
        for known, principal in self._entries:  # every entry, so the time tells nothing
            if hmac.compare_digest(known, supplied) and found is None:
                found = principal
        return found

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.principal_for(token)
        if principal is None:
            return None
        return AccessToken(
            token=token,
            client_id=principal.id,
            scopes=[],
            claims={"roles": sorted(principal.roles)},
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # another host name: it may resolve anywhere
        return False


def check_address(host: str, port: int, *, allow_remote: bool) -> None:
    """Refuse a port out of range, and a non-loopback ``host`` unless ``allow_remote`` says
    so on purpose."""
    if not 0 <= port <= 65535:
        raise InvalidInputError(f"--port {port}: give 0 (any free port) to 65535")
    if not is_loopback(host) and not allow_remote:
        raise InvalidInputError(
            f"--host {host} is reachable from other machines: pass --allow-remote to mean it "
            "(and put TLS in front: bearer tokens travel in clear over plain HTTP)"
        )


# -- the tools ---------------------------------------------------------------------------------


class VaultTools:
    """The tools and resources of one server: each call acts as the principal ``acting``
    names for its request and runs in a worker thread (the vault blocks), with its audit
    events naming ``channel``."""

    def __init__(self, vault: MemVault, acting: Acting, channel: str) -> None:
        self.vault = vault
        self.acting = acting
        self.channel = channel
        self.scheduler = MemScheduler(vault)

    async def _run(self, ctx: Context, call: Callable[[Principal], T]) -> T:
        def in_channel(principal: Principal) -> T:
            with audit_channel(self.channel):
                return call(principal)

        try:
            return await asyncio.to_thread(in_channel, self.acting(ctx))
        except (MemosError, ValidationError) as e:
            raise ToolError(f"{type(e).__name__}: {e}") from None

    async def _tool(self, ctx: Context, call: Callable[[Principal], BaseModel]) -> CallToolResult:
        """:meth:`_run` for a tool: its result as structured content plus the same JSON as
        text (for hosts that read only text). Returned as a ``CallToolResult``, which the
        SDK checks with the pydantic model of the tool's annotation rather than validating
        the JSON schema again (that check cost about 20 ms a call)."""
        result = await self._run(ctx, call)
        return CallToolResult(
            content=[TextContent(type="text", text=result.model_dump_json())],
            structuredContent=result.model_dump(mode="json"),
        )

    async def add_memory(
        self,
        text: Text,
        ctx: Context,
        namespace: NamespaceArg = None,
        memory_type: Annotated[
            str, Field(max_length=64, description="e.g. long_term, preference, episodic.")
        ] = "long_term",
        tags: Tags = None,
        priority: Priority = None,
        ttl: Ttl = None,
        key: Annotated[
            str | None, Field(max_length=512, description="A slot such as 'alice:city'.")
        ] = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Store a new memory: a fact, preference or event worth keeping. Namespace defaults
        to your principal id."""

        def add(who: Principal) -> MemoryView:
            if not text.strip():
                raise InvalidInputError("text must not be empty")
            header: dict[str, Any] = {
                "memory_type": memory_type,
                "tags": tuple(tags or ()),
                "key": key,
                "provenance": {"origin": "mcp", "actor": who.id},
            }
            if priority is not None:
                header["priority"] = priority
            if ttl is not None:
                header["expires_at"] = utcnow() + parse_ttl(ttl)
            ns = parse_namespace(namespace) if namespace else (who.id,)
            return MemoryView.of(self.vault.add(who, text, namespace=ns, **header))

        return await self._tool(ctx, add)

    async def search_memory(
        self,
        query: Annotated[str, Field(min_length=1, max_length=8000, description="In plain words.")],
        ctx: Context,
        namespace: NamespaceArg = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Most hits to return.")] = 5,
        memory_types: MemoryTypes = None,
        plan: Annotated[
            bool,
            Field(
                description="Return the scheduler's plan instead: the memories worth reading "
                "for this query within budget_tokens, also as one text block."
            ),
        ] = False,
        budget_tokens: Annotated[
            int, Field(ge=1, le=32_000, description="With plan: the block's token budget.")
        ] = 1024,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Find memories relevant to a query (dense + keyword search), best first."""

        def search(who: Principal) -> SearchResult:
            ns = parse_namespace(namespace) if namespace else None
            flt = CubeFilter(memory_types=tuple(memory_types)) if memory_types else None
            if plan:
                p = self.scheduler.plan(
                    who, query, namespace=ns, budget_tokens=budget_tokens, filter=flt
                )
                hits = [Hit.of(i.cube, score=i.score) for i in p.items]
                return SearchResult(hits=hits, memory_block=p.text, block_tokens=p.total_tokens)
            found = self.vault.search(who, query, namespace=ns, filter=flt, limit=limit)
            return SearchResult(hits=[Hit.of(h.cube, score=h.score) for h in found])

        return await self._tool(ctx, search)

    async def get_memory(
        self,
        id: CubeId,
        ctx: Context,
        version: Annotated[int | None, Field(ge=1, description="An older version.")] = None,
        owner: Owner = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Read one memory by id (its current version, or an older one)."""
        return await self._tool(
            ctx,
            lambda who: MemoryView.of(
                self.vault.get(who, id, version=version, include_expired=True, owner=owner)
            ),
        )

    async def update_memory(
        self,
        id: CubeId,
        ctx: Context,
        text: Annotated[
            str | None, Field(min_length=1, max_length=64_000, description="The new text.")
        ] = None,
        tags: Tags = None,
        memory_type: Annotated[str | None, Field(max_length=64)] = None,
        priority: Priority = None,
        ttl: Ttl = None,
        expected_version: Annotated[
            int | None, Field(ge=1, description="Fail if the memory moved past this version.")
        ] = None,
        owner: Owner = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Correct a memory: writes a new version; the old one stays in its history."""

        def update(who: Principal) -> MemoryView:
            changes: dict[str, Any] = {}
            if tags is not None:
                changes["tags"] = tuple(tags)
            if memory_type is not None:
                changes["memory_type"] = memory_type
            if priority is not None:
                changes["priority"] = priority
            if ttl is not None:
                changes["expires_at"] = utcnow() + parse_ttl(ttl)
            if text is not None and not text.strip():
                raise InvalidInputError("text must not be empty")
            if text is None and not changes:
                raise InvalidInputError("nothing to update: give text, tags, type, priority or ttl")
            cube = self.vault.update(
                who, id, text=text, expected_version=expected_version, owner=owner, **changes
            )
            return MemoryView.of(cube)

        return await self._tool(ctx, update)

    async def forget_memory(
        self,
        id: CubeId,
        ctx: Context,
        reason: Annotated[str | None, Field(max_length=4000, description="Kept with it.")] = None,
        owner: Owner = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Forget a memory: a deleted version hides it from search and lists; rollback to an
        earlier version brings it back."""
        return await self._tool(
            ctx, lambda who: MemoryView.of(self.vault.delete(who, id, reason=reason, owner=owner))
        )

    async def get_memory_history(
        self, id: CubeId, ctx: Context, owner: Owner = None
    ) -> Annotated[CallToolResult, MemoryList]:
        """Every version of a memory, oldest first."""
        return await self._tool(
            ctx,
            lambda who: MemoryList(
                memories=[MemoryView.of(c) for c in self.vault.history(who, id, owner=owner)]
            ),
        )

    async def rollback_memory(
        self, id: CubeId, version: Version, ctx: Context, owner: Owner = None
    ) -> Annotated[CallToolResult, MemoryView]:
        """Restore an earlier version's content as the memory's new version."""
        return await self._tool(
            ctx, lambda who: MemoryView.of(self.vault.rollback(who, id, version, owner=owner))
        )

    async def list_memories(
        self,
        ctx: Context,
        namespace: NamespaceArg = None,
        status: Annotated[
            LifecycleStatus | Literal["all"], Field(description="Which memories.")
        ] = LifecycleStatus.ACTIVE,
        memory_types: MemoryTypes = None,
        limit: Annotated[int, Field(ge=1, le=500, description="Most to return.")] = 20,
    ) -> Annotated[CallToolResult, MemoryList]:
        """List memories, most recently updated first."""

        def listed(who: Principal) -> MemoryList:
            ns = parse_namespace(namespace) if namespace else None
            flt = CubeFilter(
                statuses=None if status == "all" else (LifecycleStatus(status),),
                # deleted, expired...: their TTL has often passed too
                include_expired=status != LifecycleStatus.ACTIVE,
                memory_types=tuple(memory_types) if memory_types else None,
            )
            cubes = self.vault.list(who, namespace=ns, filter=flt, limit=limit)
            return MemoryList(memories=[MemoryView.of(c) for c in cubes])

        return await self._tool(ctx, listed)

    async def consolidate_memories(
        self,
        ctx: Context,
        namespace: NamespaceArg = None,
        dry_run: Annotated[bool, Field(description="Report only; change nothing.")] = False,
    ) -> Annotated[CallToolResult, ConsolidationReport]:
        """Tidy your memories: expire what is past its TTL, merge near-duplicates and resolve
        memories sharing a key (newest wins). Every change is a new version."""
        policy = LifecyclePolicy(dry_run=dry_run)

        def run(who: Principal) -> ConsolidationReport:
            ns = parse_namespace(namespace) if namespace else None
            return consolidate(self.vault, who, ns, policy)

        return await self._tool(ctx, run)

    # resources: the full record, for hosts that attach context rather than call tools

    async def memory_resource(self, cube_id: str, ctx: Context) -> str:
        """Every field of a memory's current version, as JSON."""
        cube = await self._run(ctx, lambda who: self.vault.get(who, cube_id, include_expired=True))
        return cube.model_dump_json(indent=1)

    async def history_resource(self, cube_id: str, ctx: Context) -> str:
        """Every version of a memory, oldest first, as a JSON list."""
        versions = await self._run(ctx, lambda who: self.vault.history(who, cube_id))
        return json.dumps([c.model_dump(mode="json") for c in versions], indent=1)

    def register(self, server: FastMCP) -> None:
        """Add the tools and resources to ``server``."""
        reads = ToolAnnotations(readOnlyHint=True)
        writes = ToolAnnotations(readOnlyHint=False, destructiveHint=False)
        for fn, hints in (
            (self.add_memory, writes),
            (self.search_memory, reads),
            (self.get_memory, reads),
            (self.update_memory, writes),
            (self.forget_memory, ToolAnnotations(destructiveHint=True, idempotentHint=True)),
            (self.get_memory_history, reads),
            (self.rollback_memory, writes),
            (self.list_memories, reads),
            (self.consolidate_memories, writes),
        ):
            server.add_tool(fn, annotations=hints, structured_output=True)
        server.resource("memos://memories/{cube_id}", name="memory", mime_type="application/json")(
            self.memory_resource
        )
        server.resource(
            "memos://memories/{cube_id}/history",
            name="memory-history",
            mime_type="application/json",
        )(self.history_resource)


def memory_server(
    vault: MemVault,
    acting: Acting,
    channel: str,
    *,
    transport_security: TransportSecuritySettings | None = None,
) -> FastMCP:
    """A FastMCP server with the vault's tools and resources (see :class:`VaultTools`)."""
    server = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
        streamable_http_path=HTTP_PATH,
        # one POST, one JSON answer, no session to keep: the tools neither stream nor ask
        # the client anything, and each request carries its own token
        stateless_http=True,
        json_response=True,
        transport_security=transport_security,
    )
    VaultTools(vault, acting, channel).register(server)
    return server


def single_principal_server(
    vault: MemVault, principal: Principal, *, channel: str = STDIO_CHANNEL
) -> FastMCP:
    """The stdio server: every call acts as ``principal``."""
    return memory_server(vault, fixed_principal(principal), channel)


def http_app(
    vault: MemVault,
    tokens: Mapping[str, Principal],
    *,
    host: str = "127.0.0.1",
    allow_remote: bool = False,
) -> Starlette:
    """The streamable HTTP app (endpoint :data:`HTTP_PATH`): a request must carry
    ``Authorization: Bearer <token>`` with a token of ``tokens`` (else 401) and acts as that
    token's principal. On a loopback ``host`` the SDK also refuses requests whose Host or
    Origin header names another site (DNS rebinding)."""
    check_address(host, 0, allow_remote=allow_remote)
    table = TokenTable(tokens)
    security = None
    if not is_loopback(host):  # any Host header may be right here; the tokens guard the door
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    server = memory_server(vault, bearer_principal, HTTP_CHANNEL, transport_security=security)
    endpoint = server.streamable_http_app()
    # every HTTP request is authenticated (the token, if any, names its principal) and one
    # without a valid token is refused with 401 before it reaches the MCP endpoint
    return Starlette(
        routes=[Mount("/", app=RequireAuthMiddleware(endpoint, required_scopes=[]))],
        middleware=[Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(table))],
        lifespan=lambda app: server.session_manager.run(),
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family)


def url_of(sock: socket.socket) -> str:
    """The MCP endpoint served on ``sock``."""
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{HTTP_PATH}"


def serve_http(app: Starlette, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C or SIGTERM, then return once the requests in
    flight are answered (so the caller closes the vault)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    if threading.current_thread() is not threading.main_thread():
        server.run(sockets=[sock])
        return
    # uvicorn stops gracefully on these signals, then raises them again for the handlers it
    # found: with the defaults, SIGTERM would kill the process before the vault is closed
    stop = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stop}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_stdio(vault: MemVault, principal: Principal) -> None:
    """Serve the vault on stdin/stdout as ``principal`` until the host closes the pipe."""
    anyio.run(single_principal_server(vault, principal).run_stdio_async)
