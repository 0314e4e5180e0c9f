"""LangChain drop-ins over a :class:`~memos_lc.MemVault`: a retriever and a chat history.

* :class:`MemCubeRetriever` is a ``BaseRetriever``: ``invoke(query)`` runs the vault's hybrid
  search (dense + BM25, fused by RRF) under the acting principal's access rights and returns
  ``Document`` objects, so any LCEL chain or agent tool that takes a retriever recalls
  governed memories. Each hit's recall is counted (``usage``), which is what the lifecycle's
  promotion policy reads.
* :class:`MemCubeChatMessageHistory` is a ``BaseChatMessageHistory``: each message is one
  episodic MemCube, so a conversation is versioned, audited, isolated per principal and
  searchable like any other memory.

The acting principal of a retriever call is, in order: a ``principal=`` keyword of
``invoke``; the run's ``config["configurable"]`` (``"principal"``, ``"user_id"``,
``"langgraph_user_id"``, ``"langgraph_auth_user_id"``) or LangGraph runtime context, as for
:class:`~memos_lc.store.MemCubeStore` (:func:`~memos_lc.governance.principal_in_run`); the
retriever's ``principal`` field; else ``$MEMOS_LC_PRINCIPAL`` or the OS user. Ids from config
never carry roles.

Example:
    .. code-block:: python

        from memos_lc import MemVault
        from memos_lc.retrievers import MemCubeRetriever

        vault = MemVault.open("/tmp/vault")
        retriever = MemCubeRetriever(vault=vault, k=3, namespace=("alice",))
        docs = retriever.invoke("what is Alice allergic to?",
                                {"configurable": {"user_id": "alice"}})
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, ensure_config
from pydantic import ConfigDict, Field, field_validator

from memos_lc.aio import async_twin
from memos_lc.cube import (
    MAX_TEXT_CHARS,
    MemCube,
    MemoryKind,
    MemoryType,
    Provenance,
    ScoredCube,
    utcnow,
    validate_namespace,
)
from memos_lc.errors import InvalidInputError
from memos_lc.governance import (
    OptionalPrincipal,
    Principal,
    as_principal,
    default_principal,
    principal_in_run,
    require_principal,
)
from memos_lc.vault.qdrant import MAX_LIMIT, CubeFilter, MemVault

__all__ = ["MemCubeChatMessageHistory", "MemCubeRetriever", "cube_to_document"]

SearchMode = Literal["hybrid", "dense", "lexical"]
HISTORY_ORIGIN = "chat_history"


def cube_to_document(cube: MemCube, hit: ScoredCube | None = None) -> Document:
    """A LangChain ``Document`` for ``cube``: its text as ``page_content``, its header (and
    the search score and ranks of ``hit``) as JSON-friendly ``metadata``, its id as ``id``."""
    prov = cube.provenance
    metadata: dict[str, Any] = {
        "cube_id": cube.id,
        "version": cube.version,
        "namespace": list(cube.namespace),
        "key": cube.key,
        "kind": cube.kind.value,
        "memory_type": cube.memory_type,
        "status": cube.status.value,
        "owner": cube.access.owner,
        "tags": list(cube.tags),
        "priority": cube.priority,
        "confidence": cube.confidence,
        "created_at": cube.created_at.isoformat(),
        "updated_at": cube.updated_at.isoformat(),
        "expires_at": cube.expires_at.isoformat() if cube.expires_at else None,
        "origin": prov.origin,
        "thread_id": prov.thread_id,
        "source_ids": list(prov.source_ids),
        "derived_from": list(prov.derived_from),
        "message_ids": list(prov.message_ids),
    }
    if hit is not None:
        metadata.update(score=hit.score, dense_rank=hit.dense_rank, lexical_rank=hit.lexical_rank)
    return Document(id=cube.id, page_content=cube.text, metadata=metadata)


class MemCubeRetriever(BaseRetriever):
    """Retrieves MemCubes from a vault as ``Document`` objects (hybrid search by default).

    Args:
        vault: The vault to search.
        k: How many documents to return (``invoke(query, k=...)`` overrides it per call).
        namespace: Search this namespace and everything below it (``None``: all readable).
        filter: Further narrows the search (memory types, tags, kinds, key, time ...); its
            default considers active, unexpired cubes only.
        principal: Who searches when the run's config names nobody.
        search_mode: ``"hybrid"`` (dense + BM25 by RRF), ``"dense"`` or ``"lexical"``.
        record_use: Count each returned cube as recalled (its ``usage``), which makes hot
            memories visible to :mod:`memos_lc.lifecycle`'s promotion policy.

    Example:
        .. code-block:: python

            from langchain_core.runnables import RunnablePassthrough

            def join(docs):
                return "\n".join(d.page_content for d in docs)

            retriever = MemCubeRetriever(vault=vault, k=2, principal="alice")
            chain = {"context": retriever | join, "question": RunnablePassthrough()} | prompt | llm
            chain.invoke("what should I cook for Alice?")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vault: MemVault
    k: int = Field(default=4, ge=1, le=MAX_LIMIT)
    namespace: tuple[str, ...] | None = None
    filter: CubeFilter | None = None
    principal: OptionalPrincipal = None
    search_mode: SearchMode = "hybrid"
    record_use: bool = True

    @field_validator("namespace", mode="before")
    @classmethod
    def _namespace(cls, v: Any) -> tuple[str, ...] | None:
        return None if v is None else validate_namespace(v)

    @field_validator("principal", mode="before")
    @classmethod
    def _principal(cls, v: Any) -> Principal | None:
        return None if v is None else as_principal(v)

    # The principal comes from the run's config, which BaseRetriever does not hand to
    # _get_relevant_documents: resolve it here and pass it down as a keyword.
    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """Documents relevant to ``input``; ``k``, ``namespace``, ``filter`` and ``principal``
        keywords override the retriever's settings for this call."""
        return super().invoke(input, config, **self._with_principal(config, kwargs))

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """Async twin of :meth:`invoke` (vault calls run in a worker thread)."""
        return await super().ainvoke(input, config, **self._with_principal(config, kwargs))

    def _with_principal(self, config: RunnableConfig | None, kwargs: dict) -> dict[str, Any]:
        if kwargs.get("principal") is None:
            kwargs["principal"] = principal_in_run(ensure_config(config), default=self.principal)
        return kwargs

    def _acting(self, principal: Principal | str | None) -> Principal:
        if principal is not None:
            return as_principal(principal)
        fallback = self.principal if self.principal is not None else default_principal()
        return require_principal(fallback, "MemCubeRetriever")

    def _search_args(
        self,
        k: int | None,
        namespace: Sequence[str] | None,
        filter: CubeFilter | None,
    ) -> dict[str, Any]:
        limit = self.k if k is None else k
        return {
            "namespace": self.namespace if namespace is None else namespace,
            "filter": self.filter if filter is None else filter,
            "limit": limit,
            "mode": self.search_mode,
            "explain": False,
        }

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        namespace: Sequence[str] | None = None,
        filter: CubeFilter | None = None,
        principal: Principal | str | None = None,
    ) -> list[Document]:
        who = self._acting(principal)
        hits = self.vault.search(who, query, **self._search_args(k, namespace, filter))
        if self.record_use and hits:
            self.vault.record_use(who, [h.cube.id for h in hits])
        return [cube_to_document(h.cube, h) for h in hits]

    _aget_relevant_documents = async_twin(_get_relevant_documents)


class MemCubeChatMessageHistory(BaseChatMessageHistory):
    """A chat message history stored as MemCubes, one cube per message.

    Each message is a plaintext cube in ``namespace`` (default ``("chat", session_id)``) of
    ``memory_type`` ``"episodic"``, owned by ``principal``: its text is ``"<type>: <text>"``
    (what search sees), the exact message is kept in ``payload.data`` (LangChain's
    ``message_to_dict`` form, plus a sequence number that orders the conversation), and its
    provenance names the session (``thread_id``) and the message id. Histories are isolated
    per principal: two principals using the same session id each see only their own messages
    (and a reader granted the namespace still sees only the history's owner's).

    ``clear()`` soft-deletes every message (tombstone versions, so the conversation stays in
    the vault's history and audit and can be rolled back); :meth:`purge` removes it for good.

    ``BaseChatMessageHistory`` and ``RunnableWithMessageHistory`` are deprecated in
    langchain-core 1.6.4 in favour of LangGraph persistence (see
    :class:`~memos_lc.checkpoint.MemCubeSaver`); this class keeps existing LangChain code
    working on the vault.

    Args:
        vault: The vault holding the messages.
        session_id: The conversation.
        principal: Who owns and reads the history (default ``$MEMOS_LC_PRINCIPAL`` / OS user).
        namespace: Where the messages live (default ``("chat", session_id)``).
        memory_type: The cubes' memory type.
        ttl: Messages expire this long after they were added (``None``: never).
        index: Embed messages so vault search finds them; ``False`` skips the embedding cost.
        window: Return only the last ``window`` messages from :attr:`messages`.

    Example:
        .. code-block:: python

            from langchain_core.runnables.history import RunnableWithMessageHistory

            chain = RunnableWithMessageHistory(
                runnable,
                lambda session_id: MemCubeChatMessageHistory(vault, session_id,
                                                             principal="alice"),
            )
            chain.invoke({"input": "hi"}, {"configurable": {"session_id": "s1"}})
    """

    def __init__(
        self,
        vault: MemVault,
        session_id: str,
        *,
        principal: Principal | str | None = None,
        namespace: Sequence[str] | None = None,
        memory_type: str = MemoryType.EPISODIC,
        ttl: timedelta | None = None,
        index: bool = True,
        window: int | None = None,
    ) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise InvalidInputError("session_id must be a non-empty string")
        if window is not None and not 1 <= window <= MAX_LIMIT:
            raise InvalidInputError(f"window must be from 1 to {MAX_LIMIT}")
        if ttl is not None and ttl <= timedelta(0):
            raise InvalidInputError("ttl must be positive")
        self.vault = vault
        self.session_id = session_id
        self.principal = require_principal(
            as_principal(principal) if principal is not None else default_principal(),
            "MemCubeChatMessageHistory",
        )
        self.namespace = validate_namespace(
            tuple(namespace) if namespace is not None else ("chat", session_id)
        )
        self.memory_type = str(memory_type)
        self.ttl = ttl
        self.index = index
        self.window = window
        self._lock = threading.Lock()
        self._next_seq: int | None = None

    # -- reading ---------------------------------------------------------------------------

    def _filter(self) -> CubeFilter:
        return CubeFilter(
            namespace=self.namespace,
            namespace_exact=True,
            kinds=(MemoryKind.PLAINTEXT,),
            memory_types=(self.memory_type,),
            owner=self.principal.id,
            data=(("session_id", self.session_id),),
        )

    def _find_args(self) -> dict[str, Any]:
        # Newest first when windowed (the last N), then put back in conversation order.
        return {
            "filter": self._filter(),
            "limit": self.window or MAX_LIMIT,
            "order_by": "created",
            "newest_first": self.window is not None,
        }

    @staticmethod
    def _ordered(cubes: Sequence[MemCube]) -> list[MemCube]:
        return sorted(cubes, key=lambda c: int(_data(c).get("seq", 0)))

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The conversation, oldest first (the last ``window`` messages when windowed)."""
        cubes = self.vault.find(self.principal, **self._find_args())
        return _to_messages(self._ordered(cubes))

    async def aget_messages(self) -> list[BaseMessage]:
        """Async twin of :attr:`messages`."""
        cubes = await self.vault.afind(self.principal, **self._find_args())
        return _to_messages(self._ordered(cubes))

    # -- writing ---------------------------------------------------------------------------

    def _last_seq(self) -> int:
        newest = self.vault.find(
            self.principal,
            filter=self._filter().model_copy(update={"statuses": None, "include_expired": True}),
            limit=1,
            order_by="created",
            newest_first=True,
        )
        return int(_data(newest[0]).get("seq", -1)) if newest else -1

    def _cubes(self, messages: Sequence[BaseMessage], first_seq: int) -> list[MemCube]:
        now = utcnow()
        out = []
        for i, m in enumerate(messages):
            if not isinstance(m, BaseMessage):
                raise InvalidInputError(
                    f"messages must be LangChain BaseMessage objects, got {type(m).__name__}"
                )
            text = f"{m.type}: {m.text}".strip()[:MAX_TEXT_CHARS]
            out.append(
                MemCube.from_text(
                    text,
                    self.namespace,
                    key=f"{self.session_id}:{first_seq + i:012d}",
                    memory_type=self.memory_type,
                    # Distinct creation times keep "newest first" equal to sequence order.
                    created_at=now + timedelta(microseconds=i),
                    updated_at=now + timedelta(microseconds=i),
                    expires_at=now + self.ttl if self.ttl is not None else None,
                    provenance=Provenance(
                        origin=HISTORY_ORIGIN,
                        thread_id=self.session_id[:1024],
                        message_ids=(m.id,) if m.id else (),
                        actor=self.principal.id,
                    ),
                    payload={
                        "kind": "plaintext",
                        "text": text,
                        "data": {
                            "session_id": self.session_id,
                            "seq": first_seq + i,
                            "message": message_to_dict(m),
                        },
                    },
                )
            )
        return out

    def _reserve(self, n: int) -> int:
        """The first of ``n`` consecutive sequence numbers for new messages."""
        if self._next_seq is None:
            self._next_seq = self._last_seq() + 1
        first = self._next_seq
        self._next_seq += n
        return first

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store ``messages`` (in order) as one vault write."""
        messages = list(messages)
        if not messages:
            return
        with self._lock:
            first = self._reserve(len(messages))
            try:
                self.vault.put(self.principal, self._cubes(messages, first), index=self.index)
            except BaseException:
                self._next_seq = None  # re-read from the vault next time
                raise

    aadd_messages = async_twin(add_messages)

    def clear(self) -> None:
        """Soft-delete every message of this history (tombstones; history and rollback keep
        working, search and :attr:`messages` skip them)."""
        live = self._filter().model_copy(update={"include_expired": True})
        with self._lock:
            # Tombstoned messages leave the filter, so each page shrinks what is left.
            while cubes := self.vault.find(self.principal, filter=live, limit=1000):
                for cube in cubes:
                    self.vault.delete(self.principal, cube.id, reason="chat history cleared")

    aclear = async_twin(clear)

    def purge(self) -> int:
        """Remove every message of this history for good, all versions and tombstones
        included (irreversible; the audit log keeps the fact). Returns versions removed."""
        every = self._filter().model_copy(update={"statuses": None, "include_expired": True})
        removed = 0
        with self._lock:
            while cubes := self.vault.find(self.principal, filter=every, limit=1000):
                removed += self.vault.purge_many(self.principal, [c.id for c in cubes])
            self._next_seq = None
        return removed

    def search(self, query: str, *, k: int = 4) -> list[tuple[BaseMessage, float]]:
        """The ``k`` messages of this history most relevant to ``query``, with their scores
        (needs ``index=True``)."""
        hits = self.vault.search(self.principal, query, filter=self._filter(), limit=k)
        return [(_to_messages([h.cube])[0], h.score) for h in hits]


def _to_messages(cubes: Sequence[MemCube]) -> list[BaseMessage]:
    return messages_from_dict([_data(c)["message"] for c in cubes if _data(c).get("message")])


def _data(cube: MemCube) -> dict[str, Any]:
    return getattr(cube.payload, "data", None) or {}
