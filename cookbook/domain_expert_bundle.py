"""Domain expert bundle: publish what one agent knows as a signed bundle, install it elsewhere.

A sommelier agent's vault holds a few dozen wine facts. It exports them as one signed bundle
file (MemStore); a brand-new agent verifies the signature, installs the facts under its own
namespace and answers questions from them. A copy someone edited on the way is refused before
anything is written.

Run: python cookbook/domain_expert_bundle.py [DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from memos_lc import MemVault, Principal
from memos_lc.bundles import export_bundle, generate_ed25519_key, import_bundle
from memos_lc.errors import BundleError

WINE_FACTS = [
    "Barolo is made from Nebbiolo grapes in Piedmont",
    "Barbaresco is a Nebbiolo wine from near Alba, usually lighter than Barolo",
    "Chablis is a dry white Burgundy made from Chardonnay",
    "Sancerre is a Loire Valley white made from Sauvignon Blanc",
    "Sauternes is a sweet white Bordeaux made from grapes affected by noble rot",
    "Champagne is made sparkling by a second fermentation in the bottle",
    "Prosecco gets its bubbles from a second fermentation in a steel tank",
    "Rioja is a Spanish red made mostly from Tempranillo",
    "Chianti Classico is a Tuscan red made mostly from Sangiovese",
    "Brunello di Montalcino is made entirely from Sangiovese",
    "Amarone is made from partly dried Corvina grapes in Valpolicella",
    "Port is a fortified wine from the Douro Valley in Portugal",
    "Sherry is a fortified wine from Jerez in Andalusia",
    "Malbec is the signature red grape of Mendoza in Argentina",
    "Carmenere is a red grape mostly grown in Chile today",
    "Zinfandel and Primitivo are the same grape variety",
    "Syrah and Shiraz are the same grape variety",
    "Riesling from the Mosel is often low in alcohol with high acidity",
    "Gewurztraminer smells of lychee and rose",
    "Gruner Veltliner is the flagship white grape of Austria",
    "Albarino is a crisp white grape from Rias Baixas in Galicia",
    "Beaujolais is made from Gamay, often by carbonic maceration",
    "Pinot Noir is the red grape of Burgundy",
    "Tannins come from grape skins, seeds and oak barrels",
    "Light red wines like Pinot Noir are served slightly cool, around 14 degrees Celsius",
    "Sparkling wine is served well chilled, around 6 to 8 degrees Celsius",
    "Decanting a young tannic red for an hour softens it",
    "Goat cheese pairs well with Sauvignon Blanc",
    "Blue cheese such as Roquefort pairs well with Sauternes",
    "Oysters pair well with Chablis or Muscadet",
]
QUESTIONS = [
    "Which grape is Barolo made from?",
    "What should I drink with Roquefort?",
    "How cold should I serve Champagne?",
]


def tampered_copy(bundle: Path, out: Path) -> None:
    """Someone edits a fact on the way and fixes the checksums, but cannot re-sign."""
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["cubes.jsonl"] = members["cubes.jsonl"].replace(b"Nebbiolo", b"Merlot")
    manifest = json.loads(members["manifest.json"])
    data = members["cubes.jsonl"]
    manifest["members"]["cubes.jsonl"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    members["manifest.json"] = json.dumps(manifest).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    out.write_bytes(buf.getvalue())


def main(workdir: str) -> None:
    root = Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    sommelier, rookie = Principal(id="sommelier"), Principal(id="rookie-agent")
    bundle = root / "wine-expert.memos.zip"

    # 1. the expert publishes: its key signs, its public key is what others trust
    key = generate_ed25519_key()
    with MemVault.open(root / "expert-vault") as expert:
        for fact in WINE_FACTS:
            expert.add(
                sommelier,
                fact,
                namespace=("kb", "wine"),
                tags=("wine",),
                provenance={"origin": "curated", "actor": "sommelier"},
            )
        manifest = export_bundle(
            expert,
            sommelier,
            bundle,
            namespace=("kb", "wine"),
            sign_with=key,
            title="Wine basics",
            source="sommelier-vault",
            overwrite=True,
        )
    print(
        f"published {manifest.cube_count} wine facts in {bundle.name} "
        f"({bundle.stat().st_size} bytes, bundle {manifest.bundle_id[:8]})"
    )

    # 2. a new agent installs it under its own namespace, after verifying the signature
    with MemVault.open(root / "agent-vault") as agent:
        report = import_bundle(
            agent,
            rookie,
            bundle,
            verify_with=key.public_key(),
            remap={("kb",): ("agents", "rookie", "kb")},
        )
        print(f"verified signature {report.signer}")
        print(
            f"installed {len(report.imported)} memories into agents/rookie/kb/wine "
            f"({len(report.skipped)} skipped)"
        )
        again = import_bundle(
            agent,
            rookie,
            bundle,
            verify_with=key.public_key(),
            remap={("kb",): ("agents", "rookie", "kb")},
        )
        print(f"installing again: {len(again.imported)} new, {len(again.skipped)} skipped")

        # 3. recall from the installed knowledge
        for question in QUESTIONS:
            hit = agent.search(rookie, question, namespace=("agents", "rookie"), limit=1)[0]
            print(f"Q: {question}\n   recalled: {hit.cube.text!r}")
        cube = hit.cube
        print(
            f"   owner {cube.access.owner}, origin {cube.provenance.origin}, "
            f"from {[s for s in cube.provenance.source_ids if s.startswith('bundle:')][0][:15]}"
        )

        # 4. a copy edited on the way is refused, and nothing is written
        before = agent.count(rookie, namespace=("agents",))
        tampered = root / "tampered.memos.zip"
        tampered_copy(bundle, tampered)
        try:
            import_bundle(agent, rookie, tampered, verify_with=key.public_key())
        except BundleError as e:
            print(f"tampered bundle rejected: {type(e).__name__}: {e}")
        print(
            f"memories after the rejected import: {agent.count(rookie, namespace=('agents',))}"
            f" (was {before})"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="memos-cookbook-"))
