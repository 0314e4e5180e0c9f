"""What every benchmark records about the machine it ran on."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def machine_info(packages: Sequence[str]) -> dict[str, Any]:
    """CPU, Python and the installed versions of ``packages`` (``None`` when missing)."""
    versions: dict[str, str | None] = {}
    for pkg in packages:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write ``report`` as JSON to ``out`` (creating its folder) and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


def bench_main(
    parse_args: Callable[[Sequence[str] | None], Any],
    run: Callable[[Any], dict[str, Any]],
    print_report: Callable[[dict[str, Any]], None],
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A benchmark's entry point: parse the arguments, run, print the report and write it
    to ``--out``."""
    args = parse_args(argv)
    report = run(args)
    print_report(report)
    write_report(report, args.out)
    return report
