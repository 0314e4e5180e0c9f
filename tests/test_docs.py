"""The README and the docs site: every code block runs (or parses, with a stated reason why
it cannot run here), the README stays a first read, and the site builds with ``--strict``.

The blocks run in two subprocesses side by side (``tests/doc_snippets.py``, with the
cookbook's scripts: the ``page_results`` fixture of ``tests/conftest.py``), page by page in new
directories, so a snippet can never silently break again and the models load once per
subprocess."""

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


@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda s: s.id)
def test_snippet_runs(snippet: Snippet, page_results: dict[str, dict[str, object]]) -> None:
    result = page_results[snippet.id]
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
