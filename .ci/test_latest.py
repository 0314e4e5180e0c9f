"""`make test-latest`: the suite on the newest releases pyproject.toml allows.

1. Re-resolves both locks with --upgrade into .latest/ (the committed locks stay as they are)
   and prints every package whose version changed.
2. Builds .latest/venv from them and runs `make test` there.
3. Passed: the tested locks replace requirements*.lock (review `git diff`, commit).
   Failed: builds .latest/base from the committed locks and upgrades one changed package at
   a time, rerunning only the tests that failed, to name the package whose upgrade breaks them.

Run from the repository root with the project's venv: `make test-latest`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".latest"
LOCKS = ("requirements.lock", "requirements-nodeps.lock")
PYTEST_CACHE = WORK / "pytest_cache"


def sh(*args: str | Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check, **kwargs)


def pins(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)
    }


def make(venv: Path, target: str, locks: Path, **env: str) -> int:
    return sh(
        "make",
        target,
        f"VENV={venv}",
        f"LOCK={locks / LOCKS[0]}",
        f"NODEPS_LOCK={locks / LOCKS[1]}",
        check=False,
        env={**os.environ, **env},
    ).returncode


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    pip_compile = Path(sys.executable).parent / "pip-compile"
    args = os.environ["PIP_COMPILE_ARGS"].split()
    sh(pip_compile, *args, "--upgrade", "-o", WORK / LOCKS[0], "pyproject.toml", "requirements.in")
    sh(sys.executable, ".ci/pin_nodeps.py", "requirements-nodeps.in", "-o", WORK / LOCKS[1])

    old, new = {}, {}
    for name in LOCKS:
        old |= pins(ROOT / name)
        new |= pins(WORK / name)
    changed = {p: (old.get(p, "-"), v) for p, v in new.items() if old.get(p) != v}
    changed |= {p: (v, "-") for p, v in old.items() if p not in new}
    if not changed:
        print("\nThe locks already hold the newest releases pyproject.toml allows.")
        return 0
    print(f"\n{len(changed)} packages differ from the committed locks:")
    for p, (a, b) in sorted(changed.items()):
        print(f"  {p:40} {a:>20} -> {b}")

    pytest_cache = {"PYTEST_ADDOPTS": f"-o cache_dir={PYTEST_CACHE}"}
    if make(WORK / "venv", "test", WORK, **pytest_cache) == 0:
        for name in LOCKS:
            shutil.copy(WORK / name, ROOT / name)
        print("\nThe suite passed on the newest releases; requirements*.lock now hold them.")
        print("Review `git diff requirements*.lock` and commit.")
        return 0

    print("\nThe suite failed on the newest releases. Trying each upgrade alone...")
    base = WORK / "base"
    if make(base, "install", ROOT) != 0:
        print("cannot build a venv from the committed locks")
        return 1
    # the tests that failed, by id: pytest's --lf would forget them after a passing retry
    failed_ids = sorted(json.loads((PYTEST_CACHE / "v/cache/lastfailed").read_text()))
    pip = [base / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps"]
    pytest = [base / "bin" / "python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    culprits = []
    for p, (a, b) in sorted(changed.items()):
        if a == "-" or b == "-":
            continue  # added or dropped: only meaningful with the rest of the new set
        sh(*pip, f"{p}=={b}", check=False)
        failed = sh(*pytest, *failed_ids, check=False).returncode
        sh(*pip, f"{p}=={a}")
        if failed:
            culprits.append(f"{p} {a} -> {b}")
    print()
    if culprits:
        print("Upgraded alone, these fail the tests that failed:")
        print("\n".join(f"  {c}" for c in culprits))
    else:
        print("No single upgrade fails alone: the failure needs several of the changes above.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
