"""What a user installs: the wheel and sdist build and pass ``twine check``, and the wheel
without extras installs in a fresh venv with no torch and runs a store + checkpointer graph.

The fresh venv takes the locked versions (requirements.lock as constraints), so this test
checks the package, not whatever PyPI released today.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the `local` extra brings; none of it may reach a core install.
HEAVY = ("torch", "transformers", "peft", "sentence_transformers", "langchain_huggingface")


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert out.returncode == 0, f"{args}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with the locked setuptools instead of today's release
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def test_wheel_and_sdist_pass_twine_check(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"], files
    _run(sys.executable, "-m", "twine", "check", "--strict", *files)


def test_wheel_ships_types_and_keeps_the_heavy_parts_in_extras(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = Parser().parsestr(
            zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        )
    assert "memos_lc/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "cookbook/"))]
    core = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    local = [r for r in meta.get_all("Requires-Dist") if 'extra == "local"' in r]
    names_of = [re.split(r"[<>=!~ ;\[]", r)[0] for r in core]
    for heavy in ("torch", "transformers", "peft", "safetensors"):
        assert heavy not in names_of
        assert any(r.startswith(heavy) for r in local), heavy
    torch_req = next(r for r in local if r.startswith("torch"))
    assert "==" not in torch_req.split(";")[0], "a range, not a pin that clashes with the user's"


def _constraints(tmp: Path) -> Path:
    """requirements.lock as pip constraints: pip refuses hashes there, so they go."""
    text = (ROOT / "requirements.lock").read_text()
    path = tmp / "constraints.txt"
    path.write_text(re.sub(r"\s*\\\n\s*--hash=sha256:[0-9a-f]+", "", text))
    return path


def test_core_wheel_installs_without_torch_and_runs_a_graph(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir)
    py = env_dir / "bin" / "python"
    # the test's own pip installs into it (`pip --python`): seeding the venv with ensurepip's
    # older pip and resolving with it took 12 s more, and that pip is not under test
    pip = (sys.executable, "-m", "pip", "--python", py, "--disable-pip-version-check")
    _run(*pip, "install", "-q", "-c", _constraints(tmp_path), wheel)

    found = _run(
        py, "-c", f"import importlib.util as u; print([m for m in {HEAVY} if u.find_spec(m)])"
    )
    assert found.stdout.strip() == "[]", f"a core install brought {found.stdout}"
    _run(
        py,
        "-c",
        "from memos_lc import MemVault, MemCubeStore, MemCubeSaver, MemoryNodes, "
        "MemCubeRetriever, MemScheduler, MemReader",
    )
    # the cookbook's core example: a store + checkpointer graph with a fake embedding,
    # and the typed error for the bundled model the core install leaves out
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = _run(py, ROOT / "cookbook" / "core_install.py", tmp_path / "vault", cwd=tmp_path, env=env)
    assert "alice: 2 notes: Buy oat milk; Call the dentist" in out.stdout
    assert "bob:   1 notes: Water the plants" in out.stdout
    assert "alice's thread t-1 holds 4 messages" in out.stdout
    assert "bob's view of thread t-1: 0 messages" in out.stdout
    assert "without embeddings=: MissingExtraError" in out.stdout
    assert "pip install 'memos-lc[local]'" in out.stdout
    out = _run(py, "-c", CORE_CHECKS, tmp_path / "vault2", cwd=tmp_path, env=env)
    assert out.stdout.split() == ["plan", "ok", "load_causal_lm", "ActivationMemory"], out.stdout


# On a core install the scheduler plans with a model-free token count, and what needs the
# local extra fails before doing anything, with MissingExtraError naming the install.
CORE_CHECKS = """
import sys
from langchain_core.embeddings import DeterministicFakeEmbedding
from memos_lc import MemVault, Principal
from memos_lc.errors import MissingExtraError
from memos_lc.scheduler import MemScheduler

alice = Principal(id="alice")
with MemVault.open(sys.argv[1], embeddings=DeterministicFakeEmbedding(size=32)) as vault:
    vault.add(alice, "Alice keeps bees", namespace=("alice",))
    plan = MemScheduler(vault).plan(alice, "Alice keeps bees", namespace=("alice",))
    assert "bees" in plan.text and 0 < plan.total_tokens <= 1024, plan
    print("plan ok")
    from memos_lc.activation import ActivationMemory
    from memos_lc.models import load_causal_lm
    for name, call in [("load_causal_lm", load_causal_lm),
                       ("ActivationMemory", lambda: ActivationMemory(vault))]:
        try:
            call()
        except MissingExtraError as e:
            assert "pip install 'memos-lc[local]'" in str(e), e
            print(name)
"""


def test_the_lock_pins_everything_the_extras_ask_for() -> None:
    """Every requirement of pyproject.toml's core, `local`, `test` and `docs` sets is in the lock,
    pinned with a hash (the Makefile installs it with --require-hashes --no-deps)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [
        r for extra in ("local", "test", "docs") for r in project["optional-dependencies"][extra]
    ]
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        m.group(1).lower().replace("_", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M)
    }
    for req in wanted:
        name = re.split(r"[<>=!~ ;\[]", req)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: run make lock"
    assert pinned["torch"].endswith("+cpu"), "the lock must keep torch's CPU build"
    assert not re.search(r"^nvidia-", lock, re.M)
