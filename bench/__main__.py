"""`python -m bench` runs every benchmark; `python -m bench export invite` runs those named.

A benchmark is a module `bench/<name>_bench.py` with a `main()` that prints its figures.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

SUFFIX = "_bench"


def available() -> list[str]:
    return sorted(
        module.name.removesuffix(SUFFIX)
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if module.name.endswith(SUFFIX)
    )


def run(names: list[str]) -> None:
    known = available()
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; choose from: {', '.join(known)}")
    for name in names or known:
        importlib.import_module(f"bench.{name}{SUFFIX}").main()


if __name__ == "__main__":
    run(sys.argv[1:])
