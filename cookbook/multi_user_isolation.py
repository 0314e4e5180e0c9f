"""Multi-user isolation and sharing: one vault, one retriever, many users.

Access is deny-by-default: each user recalls only their own memories, and the same chat
session id gives each user their own history. Sharing is explicit: a grant on a namespace
lets another user (or a role) read, or write, what the grantor owns there; revoking it takes
effect at once. Every call, allowed or denied, lands in the audit log.

Run: python cookbook/multi_user_isolation.py [VAULT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import sys
import tempfile

from langchain_core.messages import AIMessage, HumanMessage

from memos_lc import MemVault, Principal
from memos_lc.errors import CubeNotFoundError, PermissionDeniedError
from memos_lc.retrievers import MemCubeChatMessageHistory, MemCubeRetriever


def main(vault_dir: str) -> None:
    alice, bob = Principal(id="alice"), Principal(id="bob")
    ops = Principal(id="ops", roles=frozenset({"admin"}))
    with MemVault.open(vault_dir) as vault:
        vault.add(alice, "Alice's blood type is O negative", namespace=("alice", "health"))
        roadmap = vault.add(
            alice, "The Q3 roadmap focuses on offline sync", namespace=("alice", "work")
        )
        vault.add(bob, "Bob's Q3 goal is to cut cloud costs by 20%", namespace=("bob", "work"))

        retriever = MemCubeRetriever(vault=vault, k=5, record_use=False)

        def recall(user: str, query: str) -> list[str]:
            docs = retriever.invoke(query, {"configurable": {"user_id": user}})
            return sorted(d.page_content for d in docs)

        query = "Q3 plans and health"
        print("alice recalls:", recall("alice", query))
        print("bob recalls:  ", recall("bob", query))
        try:
            vault.get(bob, roadmap.id)
        except CubeNotFoundError:
            print("bob reading alice's cube by id: CubeNotFoundError (not even its existence)")

        vault.grant(alice, ("alice", "work"), "bob")  # read-only, work only
        print("bob after alice shares work:", recall("bob", query))
        try:
            vault.update(bob, roadmap.id, text="The Q3 roadmap is cancelled")
        except PermissionDeniedError:
            print("bob editing the shared roadmap: PermissionDeniedError (read grant)")

        vault.grant(alice, ("alice", "work"), "bob", "write")
        edited = vault.update(
            bob, roadmap.id, text="The Q3 roadmap focuses on offline sync and cost cuts"
        )
        print(
            f"bob with a write grant: v{edited.version} {edited.text!r} "
            f"(owner still {edited.access.owner})"
        )

        for g in vault.grants(alice):
            vault.revoke(alice, g.id)
        print("bob after alice revokes:", recall("bob", query))
        print("'ops' named in config:", recall("ops", query), "(ids from config carry no roles)")
        everything = retriever.invoke(query, {"configurable": {"principal": ops}})
        print(f"ops as an admin Principal: {len(everything)} memories")

        # One session id, two users: two separate histories.
        a_chat = MemCubeChatMessageHistory(vault, "support-42", principal=alice)
        b_chat = MemCubeChatMessageHistory(vault, "support-42", principal=bob)
        a_chat.add_messages(
            [HumanMessage("My card was charged twice"), AIMessage("I've refunded one charge.")]
        )
        b_chat.add_messages([HumanMessage("How do I export my data?")])
        print("alice's session support-42:", [m.content for m in a_chat.messages])
        print("bob's session support-42:  ", [m.content for m in b_chat.messages])

        denied = vault.audit_log(ops, who="bob", outcome="denied", limit=10)
        print("audit, bob's denied calls:", [(e.action, e.outcome) for e in denied])
        sharing = [
            e.action for e in vault.audit_log(alice, limit=100) if e.action in ("grant", "revoke")
        ]
        print(
            f"audit, alice's sharing: {sharing.count('grant')} grants, "
            f"{sharing.count('revoke')} revokes"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
