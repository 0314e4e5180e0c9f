"""Every cookbook script runs offline on the bundled models and shows what it promises.

The scripts run as ``python SCRIPT VAULT_DIR`` would, in two runner processes side by side
with the docs' blocks (the ``page_results`` fixture of ``tests/conftest.py``), so each model
loads once per runner instead of once per script."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_snippets import ROOT, cookbook

SCRIPTS = cookbook()
EXPECTED = {
    "activation_memory.py": [
        "compiled once: True",
        "same answer with and without the cache: True",
        "cache_read tokens: ",
        "diverged prompt -> fallback warning: ActivationFallbackWarning",
    ],
    "parametric_memory.py": [
        "adapter ",
        ": 16 steps in ",
        "derived from 2 memories, for model smollm2-135m-instruct.q4_1:",
        "(knows teal: True)",
        "(knows Biscuit: True)",
    ],
    "vault_basics.py": [
        "recalled: 'Alice is allergic to peanuts'",
        "v3: Alice is allergic to peanuts",
        "bob before sharing: []",
        'bob after sharing:  ["Alice\'s team ships on Thursdays"]',
    ],
    "domain_expert_bundle.py": [
        "published 30 wine facts",
        "verified signature ed25519:",
        "installed 30 memories into agents/rookie/kb/wine (0 skipped)",
        "installing again: 0 new, 30 skipped",
        "recalled: 'Barolo is made from Nebbiolo grapes in Piedmont'",
        "recalled: 'Blue cheese such as Roquefort pairs well with Sauternes'",
        "owner rookie-agent, origin import, from bundle:",
        "tampered bundle rejected: BundleSignatureError",
        "memories after the rejected import: 30 (was 30)",
    ],
    "retriever_dropin.py": [
        "  - Alice is allergic to peanuts",
        "  - Bob is allergic to shellfish",
        "top document: 'Alice is allergic to peanuts'",
        "carol sees: []",
        "tool output for bob: 'Bob is allergic to shellfish",
    ],
    "multi_user_isolation.py": [
        'bob recalls:   ["Bob\'s Q3 goal is to cut cloud costs by 20%"]',
        "bob reading alice's cube by id: CubeNotFoundError",
        "'The Q3 roadmap focuses on offline sync']",
        "bob editing the shared roadmap: PermissionDeniedError",
        "bob with a write grant: v2",
        'bob after alice revokes: ["Bob\'s Q3 goal is to cut cloud costs by 20%"]',
        "'ops' named in config: []",
        "bob's session support-42:   ['How do I export my data?']",
        "audit, bob's denied calls: [('update', 'denied')]",
    ],
    "consolidation.py": [
        "1 expired, 1 merges of duplicates, 1 contradictions resolved (3 merged, 1 archived)",
        "merged 3 duplicates into 'Alice has an allergy to peanuts'",
        "evidence kept: ['chat-14#2', 'chat-3#12', 'chat-9#4']",
        "contradiction resolved: 'Alice lives in Berlin' is v2 of its slot",
        'expired: ["Alice\'s parking spot today is B12"]',
        'hot (activation candidates): ["Alice\'s standup is at 9:30"]',
        "v2 merged   'Alice is allergic to peanuts'",
        "second run changed anything: False",
        "is active again (v3)",
    ],
}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_cookbook_script_runs(script: Path, page_results: dict[str, dict[str, object]]) -> None:
    result = page_results[f"{script.relative_to(ROOT)}:1"]
    output = str(result.get("output", ""))
    assert result["ok"], f"{script.name} failed:\n{result['error']}\n{output[-2000:]}"
    assert output.strip()
    for expected in EXPECTED.get(script.name, []):
        assert expected in output, f"{script.name}: {expected!r} not in\n{output[-2000:]}"
