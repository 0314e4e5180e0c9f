"""The code blocks of README.md and docs/, and a runner that runs them (and the cookbook's
scripts) as a reader would.

A page's ``python`` and ``bash`` blocks run in the order they appear, in a new empty
directory that is also where the embedded vault defaults to (``$MEMOS_LC_VAULT``): the
Python blocks of one page share one namespace, as a reader pastes them into one session, and
each bash block runs under ``bash -e -o pipefail`` with the project's ``.venv/bin`` first on
``PATH``. A page's first failing block stops that page (what follows builds on it).

A block that cannot run in a test (it installs from PyPI, or is the command CI runs) is
preceded by ``<!-- not run: REASON -->``; it is still parsed (``bash -n`` or ``compile``).
``json``, ``toml`` and ``yaml`` blocks are parsed. Blocks of any other language (``text``,
the layout tree) are prose.

A page may also be a Python script (``cookbook/*.py``): it is one block, run as
``python SCRIPT VAULT_DIR`` would run it (``runpy``, ``__name__ == "__main__"``), with a vault
directory in the page's new directory.

Run as a script (``python tests/doc_snippets.py RESULTS.json PAGE...``) it runs the pages'
blocks and writes one result per block. :func:`run_pages` deals pages to two such runners
side by side (the machine's two cores), so each model loads once per runner, not per page;
``tests/conftest.py`` runs the docs' pages and the cookbook's scripts in one such call.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import runpy
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


def cookbook(root: Path = ROOT) -> list[Path]:
    """The cookbook's scripts."""
    return sorted((root / "cookbook").glob("*.py"))


def snippets(page: Path, root: Path = ROOT) -> list[Snippet]:
    """The fenced code blocks of ``page``, in order (a ``.py`` script: one block, itself)."""
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".py":
        return [Snippet(str(page.relative_to(root)), 1, "python", text, None)]
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
                    if block.page.endswith(".py"):
                        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                            _run_script(ROOT / block.page, Path(tmp) / "vault")
                    elif block.lang == "python":
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


def _run_script(script: Path, vault: Path) -> None:
    """Run ``script`` as ``python SCRIPT VAULT`` would; ``sys.exit(0)`` is a success."""
    saved_argv = sys.argv
    sys.argv = [str(script), str(vault)]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = saved_argv


# What a page costs to run, in rough seconds on one core of CI's machine: a python block
# (imports are shared within a runner), a shell command (a new process importing the stack),
# one that embeds (it loads the MiniLM first) or loads the chat model (de-quantizing the GGUF),
# and training a LoRA adapter (a few steps).
_BLOCK_S, _COMMAND_S, _EMBED_S, _CHAT_S, _TRAIN_S = 2, 1, 5, 20, 30
_USES_CHAT = re.compile(r"\b(ChatMemOS|load_causal_lm|consolidate_to_adapter)\(")
_TRAINS = re.compile(r"\bconsolidate_to_adapter\(")
_EMBEDS = re.compile(r"^memos-lc\b.*\b(add|search|update|import)\b")
_LOADS_CHAT = re.compile(r"^memos-lc\b.*\b(fingerprint|demo)\b")


def _cost(page: Path) -> tuple[int, bool]:
    """(rough seconds to run ``page``'s blocks, whether they load the chat model in the
    runner); the load itself is counted once per runner, by :func:`deal`."""
    seconds, chat = 0, False
    for block in snippets(page):
        if block.lang not in RUN or block.not_run is not None:
            continue
        if block.lang == "python":
            seconds += _BLOCK_S + (_TRAIN_S if _TRAINS.search(block.code) else 0)
            chat = chat or bool(_USES_CHAT.search(block.code))
            continue
        lines = block.code.splitlines()
        for prev, line in zip(["", *lines], lines, strict=False):
            line = line.split("#", 1)[0].strip()
            if not line or prev.rstrip().endswith("\\"):
                continue  # a comment, or the rest of the command above
            seconds += _COMMAND_S
            seconds += _EMBED_S if _EMBEDS.search(line) else 0
            seconds += _CHAT_S if _LOADS_CHAT.search(line) else 0
    return seconds, chat


def deal(pages_: list[Path], workers: int) -> list[list[Path]]:
    """``pages_`` dealt to ``workers`` runners, the costliest first, each to the runner it
    adds the least to (a page that loads the chat model adds the load only to a runner that
    has not loaded it yet); within a runner the pages keep their given order."""
    costs = {p: _cost(p) for p in pages_}
    shares: list[list[Path]] = [[] for _ in range(workers)]
    loads, has_chat = [0] * workers, [False] * workers
    for page in sorted(pages_, key=lambda p: -(costs[p][0] + _CHAT_S * costs[p][1])):
        seconds, chat = costs[page]
        added = [seconds + (_CHAT_S if chat and not has_chat[i] else 0) for i in range(workers)]
        i = min(range(workers), key=lambda i: (loads[i] + added[i], i))
        shares[i].append(page)
        loads[i] += added[i]
        has_chat[i] = has_chat[i] or chat
    return [sorted(share, key=pages_.index) for share in shares if share]


def run_pages(
    pages_: list[Path], tmp: Path, workers: int = 2, timeout: float = 900
) -> dict[str, dict[str, object]]:
    """Every runnable block's result by :attr:`Snippet.id`, from ``workers`` runner processes
    side by side (each runs its pages one after another, the models loaded once)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    # torch's default is a thread per core in each runner: the runners would share every
    # core, and a thread waiting for its descheduled sibling stalls each op (measured on
    # the cookbook's runners: 94-99 s with the default, 67-74 s with one thread each)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    env.pop("MEMOS_LC_PRINCIPAL", None)  # a snippet names its principal, or shows the error
    outs, procs = [], []
    for i, share in enumerate(deal(pages_, workers)):
        outs.append(tmp / f"results-{i}.json")
        args = [sys.executable, __file__, str(outs[-1]), *map(str, share)]
        procs.append(subprocess.Popen(args, env=env, cwd=ROOT))
    try:
        for proc in procs:
            assert proc.wait(timeout=timeout) == 0
    finally:  # one failed or hung: stop the others, which would run on past the test
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {r["id"]: r for out in outs for r in json.loads(out.read_text())}


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
