"""The code blocks of README.md and docs/, and a runner that runs them as a reader would.

A page's ``python`` and ``bash`` blocks run in the order they appear, in a new empty
directory that is also where the embedded vault defaults to (``$MEMOS_LC_VAULT``): the
Python blocks of one page share one namespace, as a reader pastes them into one session, and
each bash block runs under ``bash -e -o pipefail`` with the project's ``.venv/bin`` first on
``PATH``. A page's first failing block stops that page (what follows builds on it).

A block that cannot run in a test (it installs from PyPI, or is the command CI runs) is
preceded by ``<!-- not run: REASON -->``; it is still parsed (``bash -n`` or ``compile``).
``json``, ``toml`` and ``yaml`` blocks are parsed. Blocks of any other language (``text``,
the layout tree) are prose.

Run as a script (``python tests/doc_snippets.py RESULTS.json PAGE...``) it runs the pages'
blocks and writes one result per block; ``tests/test_docs.py`` runs it once, in one process,
so the models load once for every page.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
RUN = frozenset({"python", "bash"})
PARSED = frozenset({"json", "toml", "yaml"})

# A fence opens at a line's start (any indent), names its language, and closes with the same
# indent; blocks inside list items are indented.
_FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ ]*$",
    re.M | re.S,
)
# the comment must end right before the fence; the reason may not span another comment
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>(?:(?!-->).)*?)\s*-->\Z", re.S)


class Snippet(NamedTuple):
    """One fenced code block: where it is, its language, its code, and why it is not run
    (``None``: it runs)."""

    page: str
    line: int
    lang: str
    code: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages(root: Path = ROOT) -> list[Path]:
    """README.md and every page of the docs site."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def snippets(page: Path, root: Path = ROOT) -> list[Snippet]:
    """The fenced code blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for m in _FENCE.finditer(text):
        indent = len(m["indent"])
        code = "\n".join(line[indent:] for line in m["body"].splitlines())
        mark = _NOT_RUN.search(text[: m.start()].rstrip())
        not_run = mark["reason"] if mark else None
        line = text.count("\n", 0, m.start()) + 1
        found.append(
            Snippet(str(page.relative_to(root)), line, m["lang"].lower(), code + "\n", not_run)
        )
    return found


def _run_page(blocks: list[Snippet], venv_bin: Path) -> list[dict[str, object]]:
    """Run one page's runnable blocks in a new directory; one result per block."""
    results: list[dict[str, object]] = []
    namespace: dict[str, object] = {"__name__": "__main__"}
    failed: str | None = None
    with tempfile.TemporaryDirectory(prefix="memos-doc-") as tmp:
        env = dict(os.environ, MEMOS_LC_VAULT=str(Path(tmp) / "vault"))
        env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.update(env)
        os.chdir(tmp)
        try:
            for block in blocks:
                if failed is not None:
                    results.append({"id": block.id, "ok": False, "error": f"after {failed}"})
                    continue
                out = io.StringIO()
                start = time.perf_counter()
                try:
                    if block.lang == "python":
                        code = compile(block.code, block.id, "exec")
                        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                            exec(code, namespace)
                    else:
                        done = subprocess.run(
                            ["bash", "-e", "-o", "pipefail", "-c", block.code],
                            env=env,
                            cwd=tmp,
                            capture_output=True,
                            text=True,
                            timeout=600,
                        )
                        out.write(done.stdout + done.stderr)
                        if done.returncode:
                            raise RuntimeError(f"exit {done.returncode}")
                except BaseException as e:  # noqa: BLE001 - every failure is a result
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    failed = block.id
                    error = "".join(traceback.format_exception(e)[-6:])
                    results.append(
                        {"id": block.id, "ok": False, "error": error, "output": out.getvalue()}
                    )
                else:
                    seconds = round(time.perf_counter() - start, 2)
                    results.append(
                        {"id": block.id, "ok": True, "output": out.getvalue(), "s": seconds}
                    )
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
    return results


def main(argv: list[str]) -> int:
    out_path, *page_paths = argv
    venv_bin = Path(sys.executable).parent
    results: list[dict[str, object]] = []
    for page in page_paths:
        blocks = [s for s in snippets(Path(page).resolve()) if s.lang in RUN and s.not_run is None]
        if blocks:
            results.extend(_run_page(blocks, venv_bin))
    Path(out_path).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
