"""Consolidation: merge near-duplicates, resolve contradictions as new versions, expire, find
promotion candidates, and undo any of it with a rollback.

Memories pile up: the same fact said three ways, a preference that changed, a note that
should have expired. ``consolidate`` tidies them off the answer path (a deferred graph node,
a cron job); every change is a new version, so nothing is lost and everything can be undone.

Run: python cookbook/consolidation.py [VAULT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta

from memos_lc import MemVault, Principal
from memos_lc.cube import utcnow
from memos_lc.lifecycle import LifecyclePolicy, consolidate

NS = ("alice", "memories")


def main(vault_dir: str) -> None:
    alice = Principal(id="alice")
    now = utcnow()

    def days_ago(n: float) -> dict:
        return {"created_at": now - timedelta(days=n), "updated_at": now - timedelta(days=n)}

    with MemVault.open(vault_dir) as vault:
        # The same fact, said three times in three conversations.
        said = [
            vault.add(
                alice,
                "Alice is allergic to peanuts",
                namespace=NS,
                provenance={"source_ids": ("chat-3#12",)},
                **days_ago(20),
            ),
            vault.add(
                alice,
                "alice is allergic to peanuts.",
                namespace=NS,
                provenance={"source_ids": ("chat-9#4",)},
                **days_ago(8),
            ),
            vault.add(
                alice,
                "Alice has an allergy to peanuts",
                namespace=NS,
                provenance={"source_ids": ("chat-14#2",)},
                **days_ago(1),
            ),
        ]
        # A slot whose value changed: the newest statement is the current one.
        vault.add(alice, "Alice lives in Paris", namespace=NS, key="alice:city", **days_ago(90))
        berlin = vault.add(
            alice, "Alice lives in Berlin", namespace=NS, key="alice:city", **days_ago(3)
        )
        # A note that should not outlive the day, and a long-held, often recalled fact.
        vault.add(
            alice,
            "Alice's parking spot today is B12",
            namespace=NS,
            expires_at=now + timedelta(hours=10),
        )
        stable = vault.add(
            alice,
            "Alice's mother tongue is Portuguese",
            namespace=NS,
            usage={"hits": 6},
            **days_ago(60),
        )
        standup = vault.add(alice, "Alice's standup is at 9:30", namespace=NS)
        for _ in range(4):
            vault.record_use(alice, [standup.id])

        later = now + timedelta(hours=12)  # run it as tonight's job
        plan = consolidate(vault, alice, NS, LifecyclePolicy(dry_run=True), now=later)
        print("dry run:", plan.summary())

        report = consolidate(vault, alice, NS, now=later)
        print("run:    ", report.summary())
        dup = report.deduplicated[0]
        merged = vault.get(alice, dup.cube_id)
        print(f"merged {len(dup.sources)} duplicates into {merged.text!r}")
        print(
            f"  derived_from {len(merged.provenance.derived_from)} cubes, "
            f"evidence kept: {sorted(merged.provenance.source_ids)}"
        )
        city = vault.get(alice, berlin.id)
        print(
            f"contradiction resolved: {city.text!r} is v{city.version} of its slot, "
            f"archived {len(report.archived)} older statement(s)"
        )
        print("expired:", [vault.get(alice, i, include_expired=True).text for i in report.expired])
        print(
            "hot (activation candidates):",
            [vault.get(alice, i).text for i in report.activation_candidates],
        )
        print(
            "stable (parametric candidates):",
            [vault.get(alice, i).text for i in report.parametric_candidates],
        )
        assert report.parametric_candidates == (stable.id,)

        print("history of the first statement:")
        for v in vault.history(alice, said[0].id):
            print(f"  v{v.version} {v.status.value:8} {v.text!r}")

        again = consolidate(vault, alice, NS, now=later)
        print(f"second run changed anything: {again.changed}")

        restored = vault.rollback(alice, said[0].id, 1)
        print(
            f"rolled back: {restored.text!r} is {restored.status.value} again (v{restored.version})"
        )
        hits = vault.search(alice, "peanut allergy", namespace=NS, limit=5)
        print("peanut memories now active:", len([h for h in hits if "peanut" in h.cube.text]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
