"""Vault basics: store, search, version, roll back, share and audit memories.

Run: python cookbook/vault_basics.py [VAULT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import sys
import tempfile

from memos_lc import MemVault, Principal


def main(vault_dir: str) -> None:
    alice, bob = Principal(id="alice"), Principal(id="bob")
    with MemVault.open(vault_dir) as vault:
        allergy = vault.add(
            alice,
            "Alice is allergic to peanuts",
            namespace=("alice", "health"),
            memory_type="preference",
        )
        vault.add(alice, "Alice's team ships on Thursdays", namespace=("alice", "work"))

        hit = vault.search(alice, "what food should I avoid?", limit=1, explain=True)[0]
        print(
            f"recalled: {hit.cube.text!r} (dense rank {hit.dense_rank}, "
            f"lexical rank {hit.lexical_rank})"
        )

        vault.update(alice, allergy.id, text="Alice is allergic to peanuts and shellfish")
        vault.rollback(alice, allergy.id, 1)
        for v in vault.history(alice, allergy.id):
            print(f"  v{v.version}: {v.text}")

        print("bob before sharing:", [h.cube.text for h in vault.search(bob, "ships")])
        vault.grant(alice, ("alice", "work"), "bob")
        print("bob after sharing: ", [h.cube.text for h in vault.search(bob, "ships")])

        for event in vault.audit_log(alice, limit=3):
            print(f"  audit: {event.principal} {event.action} -> {event.outcome}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
