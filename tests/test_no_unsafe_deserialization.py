"""No unsafe deserialization anywhere in the library: an ``ast`` scan of ``memos_lc/`` fails on
pickle-family imports (``pickle``, ``cPickle``, ``dill``, ``joblib``, ``marshal``, ``shelve``,
``cloudpickle``), ``torch.load`` without ``weights_only=True``, ``eval`` / ``exec``,
``yaml.load`` without a safe loader (and ``yaml.unsafe_load`` / ``full_load``),
``numpy.load(..., allow_pickle=<not False>)`` and a LangGraph serializer with
``pickle_fallback=True``. Aliases (``import torch as t``, ``from numpy import load``) are
resolved. The scanner itself is tested on planted examples, so a scan that finds nothing means
something."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [ROOT / "memos_lc"]

BANNED_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "joblib",
    "marshal",
    "shelve",
    "cloudpickle",
}
SAFE_YAML_LOADERS = {"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader", "yaml.CBaseLoader"}
UNSAFE_YAML = {"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.aliases: dict[str, str] = {}  # local name -> dotted origin
        self.findings: list[Finding] = []

    def _flag(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.path, getattr(node, "lineno", 0), what))

    # -- imports ---------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name.split(".")[0] in BANNED_MODULES:
                self._flag(node, f"import {a.name}")
            local = a.asname or a.name.split(".")[0]
            self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        if mod.split(".")[0] in BANNED_MODULES:
            self._flag(node, f"from {mod} import ...")
        for a in node.names:
            if a.name in BANNED_MODULES:
                self._flag(node, f"from {mod} import {a.name}")
            self.aliases[a.asname or a.name] = f"{mod}.{a.name}" if mod else a.name
        self.generic_visit(node)

    # -- calls -----------------------------------------------------------------------------

    def _dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    @staticmethod
    def _kw(node: ast.Call, name: str) -> ast.expr | None:
        return next((k.value for k in node.keywords if k.arg == name), None)

    @staticmethod
    def _is_const(node: ast.expr | None, value: object) -> bool:
        return isinstance(node, ast.Constant) and node.value is value

    def visit_Call(self, node: ast.Call) -> None:
        name = self._dotted(node.func) or ""
        if name in ("eval", "exec", "builtins.eval", "builtins.exec"):
            self._flag(node, f"{name}()")
        elif name in ("__import__", "builtins.__import__") and node.args:
            mod = node.args[0]
            if not isinstance(mod, ast.Constant) or str(mod.value).split(".")[0] in BANNED_MODULES:
                self._flag(node, "__import__ of a pickle module or a computed name")
        elif name in ("importlib.import_module",) and node.args:
            mod = node.args[0]
            if isinstance(mod, ast.Constant) and str(mod.value).split(".")[0] in BANNED_MODULES:
                self._flag(node, f"importlib.import_module({mod.value!r})")
        elif name == "torch.load":
            if not self._is_const(self._kw(node, "weights_only"), True):
                self._flag(node, "torch.load() without weights_only=True")
        elif name in ("yaml.load", "yaml.load_all"):
            loader = self._kw(node, "Loader")
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            if (self._dotted(loader) if loader is not None else None) not in SAFE_YAML_LOADERS:
                self._flag(node, f"{name}() without a safe Loader")
        elif name in UNSAFE_YAML:
            self._flag(node, f"{name}()")
        elif name == "numpy.load":
            allow = self._kw(node, "allow_pickle")
            if allow is not None and not self._is_const(allow, False):
                self._flag(node, "numpy.load(allow_pickle=...)")
        if any(
            k.arg == "pickle_fallback" and not self._is_const(k.value, False) for k in node.keywords
        ):
            self._flag(node, f"{name or 'a call'}(pickle_fallback=...)")
        self.generic_visit(node)


def scan_source(source: str, path: str = "<string>") -> list[Finding]:
    """Every unsafe-deserialization construct in ``source``."""
    scanner = _Scanner(path)
    scanner.visit(ast.parse(source, filename=path))
    return scanner.findings


def scan_tree(roots: list[Path], base: Path = ROOT) -> list[Finding]:
    """Every finding in the ``.py`` files under ``roots``, paths relative to ``base``."""
    out: list[Finding] = []
    for root in roots:
        for f in sorted(root.rglob("*.py")):
            out.extend(scan_source(f.read_text(encoding="utf-8"), str(f.relative_to(base))))
    return out


def test_library_has_no_unsafe_deserialization() -> None:
    files = [f for root in SCANNED for f in root.rglob("*.py")]
    assert len(files) >= 10  # the scan really ran over the package
    findings = scan_tree(SCANNED)
    assert not findings, "unsafe deserialization:\n" + "\n".join(map(str, findings))


PLANTED = {
    "import pickle": "import pickle",
    "import cPickle as p": "import cPickle",
    "import _pickle": "import _pickle",
    "from pickle import loads": "from pickle import",
    "import dill": "import dill",
    "from joblib import load": "from joblib import",
    "import marshal": "import marshal",
    "import shelve": "import shelve",
    "import cloudpickle": "import cloudpickle",
    "import pickle.util": "import pickle.util",
    "eval('1+1')": "eval()",
    "exec(code)": "exec()",
    "import builtins\nbuiltins.eval(s)": "builtins.eval()",
    "__import__('pickle')": "__import__",
    "__import__(name)": "__import__",
    "import importlib\nimportlib.import_module('dill')": "import_module",
    "import torch\ntorch.load(f)": "torch.load() without weights_only=True",
    "import torch\ntorch.load(f, weights_only=False)": "torch.load() without",
    "import torch as t\nt.load(f, map_location='cpu')": "torch.load() without",
    "from torch import load\nload(f)": "torch.load() without",
    "import yaml\nyaml.load(s)": "yaml.load() without a safe Loader",
    "import yaml\nyaml.load(s, Loader=yaml.Loader)": "yaml.load() without",
    "import yaml\nyaml.load(s, yaml.UnsafeLoader)": "yaml.load() without",
    "import yaml\nyaml.load_all(s)": "yaml.load_all() without",
    "import yaml\nyaml.unsafe_load(s)": "yaml.unsafe_load()",
    "import yaml\nyaml.full_load(s)": "yaml.full_load()",
    "import numpy as np\nnp.load(f, allow_pickle=True)": "numpy.load(allow_pickle=...)",
    "from numpy import load\nload(f, allow_pickle=flag)": "numpy.load(allow_pickle=...)",
    "JsonPlusSerializer(pickle_fallback=True)": "pickle_fallback",
    "def f():\n    import pickle\n    return pickle.loads(b)": "import pickle",
}

SAFE = [
    "import json\njson.loads(s)",
    "import torch\ntorch.load(f, weights_only=True, map_location='cpu')",
    "import yaml\nyaml.load(s, Loader=yaml.SafeLoader)",
    "import yaml\nyaml.load(s, yaml.CSafeLoader)",
    "import yaml\nyaml.safe_load(s)",
    "import numpy as np\nnp.load(f)\nnp.load(f, allow_pickle=False)",
    "from safetensors.torch import load_file\nload_file(p)",
    "JsonPlusSerializer(pickle_fallback=False)",
    "model.eval()",  # a method named eval is not the builtin
    "import ormsgpack\normsgpack.unpackb(b)",
    "x = 'import pickle'  # a string is not an import",
    "importlib.import_module('json')",
]


@pytest.mark.parametrize("source", list(PLANTED))
def test_scanner_catches_planted_examples(source: str) -> None:
    findings = scan_source(textwrap.dedent(source))
    assert findings, f"not caught: {source!r}"
    assert any(PLANTED[source] in f.what for f in findings), findings


@pytest.mark.parametrize("source", SAFE)
def test_scanner_passes_safe_code(source: str) -> None:
    assert scan_source(source) == []


def test_scanner_catches_a_planted_file(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "ok.py").write_text("import json\n")
    (pkg / "sub" / "bad.py").write_text("import json\n\n\ndef f(b):\n    return eval(b)\n")
    findings = scan_tree([pkg], base=tmp_path)
    assert [(f.path, f.line, f.what) for f in findings] == [("pkg/sub/bad.py", 5, "eval()")]
