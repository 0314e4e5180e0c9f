"""Every cookbook script runs offline on the bundled models and shows what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COOKBOOK = Path(__file__).resolve().parent.parent / "cookbook"
EXPECTED = {
    "vault_basics.py": [
        "recalled: 'Alice is allergic to peanuts'",
        "v3: Alice is allergic to peanuts",
        "bob before sharing: []",
        "bob after sharing:  [\"Alice's team ships on Thursdays\"]",
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
}


@pytest.mark.parametrize("script", sorted(COOKBOOK.glob("*.py")), ids=lambda p: p.name)
def test_cookbook_script_runs(script: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "vault")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip()
    for expected in EXPECTED.get(script.name, []):
        assert expected in out.stdout
