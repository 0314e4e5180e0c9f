"""The README and the docs site: every code block runs (or parses, with a stated reason why
it cannot run here), the README stays a first read, and the site builds with ``--strict``.

The blocks run in one subprocess (``tests/doc_snippets.py``), page by page in new
directories, so a snippet can never silently break again and the models load once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from doc_snippets import PARSED, ROOT, RUN, Snippet, pages, snippets

ALL = [s for page in pages() for s in snippets(page)]
RUNNABLE = [s for s in ALL if s.lang in RUN and s.not_run is None]
README_MAX_LINES = 250


def _shares(workers: int) -> list[list[Path]]:
    """The pages dealt to ``workers`` runners, the heaviest first. The weight is a rough
    cost: a shell command is a new process that imports the stack (most of the run's time,
    on one core), a Python block about four of them (it may load a model)."""
    weight = {
        p: sum(
            s.code.count("\n") if s.lang == "bash" else 4
            for s in snippets(p)
            if s.lang in RUN and s.not_run is None
        )
        for p in pages()
    }
    shares: list[list[Path]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for page in sorted(weight, key=lambda p: (-weight[p], str(p))):
        i = loads.index(min(loads))
        shares[i].append(page)
        loads[i] += weight[page] + 1
    return shares


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every block's result, from two runners side by side (the machine's two cores)."""
    tmp = tmp_path_factory.mktemp("docs")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("MEMOS_LC_PRINCIPAL", None)  # a snippet names its principal, or shows the error
    runner = str(ROOT / "tests" / "doc_snippets.py")
    outs, procs = [], []
    for i, share in enumerate(_shares(2)):
        outs.append(tmp / f"results-{i}.json")
        args = [sys.executable, runner, str(outs[-1]), *map(str, share)]
        procs.append(subprocess.Popen(args, env=env, cwd=ROOT))
    for proc in procs:
        assert proc.wait(timeout=900) == 0
    return {r["id"]: r for out in outs for r in json.loads(out.read_text())}


@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda s: s.id)
def test_snippet_runs(snippet: Snippet, results: dict[str, dict[str, object]]) -> None:
    result = results[snippet.id]
    assert result["ok"], f"{snippet.id} failed:\n{result['error']}\n{result.get('output', '')}"


@pytest.mark.parametrize("snippet", [s for s in ALL if s.not_run is not None], ids=lambda s: s.id)
def test_a_block_not_run_says_why_and_parses(snippet: Snippet) -> None:
    assert len(snippet.not_run or "") >= 10, f"{snippet.id}: say why it is not run"
    if snippet.lang == "bash":
        subprocess.run(["bash", "-n", "-c", snippet.code], check=True)
    elif snippet.lang == "python":
        compile(snippet.code, snippet.id, "exec")
    else:
        pytest.fail(f"{snippet.id}: only bash and python blocks can be marked not run")


@pytest.mark.parametrize("snippet", [s for s in ALL if s.lang in PARSED], ids=lambda s: s.id)
def test_a_data_block_parses(snippet: Snippet) -> None:
    {"json": json.loads, "toml": tomllib.loads, "yaml": yaml.safe_load}[snippet.lang](snippet.code)


def test_every_block_names_its_language() -> None:
    unnamed = [s.id for s in ALL if not s.lang]
    assert not unnamed, f"fence without a language (use text for prose): {unnamed}"


def test_the_readme_is_a_first_read() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail to docs/"
    assert RUNNABLE and any(s.page == "README.md" for s in RUNNABLE)


def test_the_docs_site_builds_strict(tmp_path: Path) -> None:
    """mkdocs-material + mkdocstrings: a broken link, a page left out of the nav, or an API
    reference that does not resolve fails the build."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").exists()
