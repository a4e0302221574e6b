"""Read uv.lock: what the image installs, and whether every target has a wheel for it.

    python scripts/lock_wheels.py            # exit 1 and name what is missing

The image runs `uv sync --frozen --no-dev`: the project's own dependencies (no dependency
group, no extra). Each of them must have a wheel for CPython 3.11, 3.12 and 3.13 on Linux
x86_64 and arm64 (aarch64), or be pure Python: otherwise building the image needs a compiler.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "invitations"
PYTHONS = (11, 12, 13)
MACHINES = ("x86_64", "aarch64")
_WHEEL = re.compile(
    r"^(?P<name>.+?)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


def load(path: Path = ROOT / "uv.lock") -> dict[str, dict[str, Any]]:
    packages = tomllib.loads(path.read_text())["package"]
    return {package["name"]: package for package in packages}


def environment(minor: int, machine: str) -> dict[str, str]:
    """The marker environment of CPython 3.<minor> on Linux <machine> (the image)."""
    return {
        "python_version": f"3.{minor}",
        "python_full_version": f"3.{minor}.0",
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def runtime_packages(
    lock: dict[str, dict[str, Any]], env: dict[str, str] | None = None
) -> set[str]:
    """The packages `uv sync --no-dev` installs in `env` (every environment's without one)."""
    from packaging.markers import Marker

    def applies(dependency: dict[str, Any]) -> bool:
        marker = dependency.get("marker")
        return env is None or marker is None or Marker(marker).evaluate(env)

    wanted: set[str] = set()
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = [d for d in lock[PROJECT].get("dependencies", []) if applies(d)]
    while todo:
        dependency = todo.pop()
        name = dependency["name"]
        key = (name, tuple(dependency.get("extra", [])))
        if key in seen:
            continue
        seen.add(key)
        wanted.add(name)
        package = lock[name]
        todo.extend(d for d in package.get("dependencies", []) if applies(d))
        for extra in key[1]:
            optional = package.get("optional-dependencies", {}).get(extra, [])
            todo.extend(d for d in optional if applies(d))
    return wanted


def _fits(wheel: str, minor: int, machine: str) -> bool:
    match = _WHEEL.match(wheel.rsplit("/", 1)[-1])
    if match is None:
        return False
    pythons, abis, platforms = (match.group(part).split(".") for part in ("py", "abi", "plat"))
    if not any(
        plat == "any" or (plat.endswith(machine) and plat.startswith("manylinux"))
        for plat in platforms
    ):
        return False
    for python in pythons:
        if python in ("py3", "py2.py3") or python == f"cp3{minor}":
            return True
        if python.startswith("cp3") and "abi3" in abis and int(python[3:]) <= minor:
            return True
    return False


def missing_wheels(lock: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Runtime packages without a wheel for some (python, machine) they install on."""
    missing: dict[str, list[str]] = {}
    for minor in PYTHONS:
        for machine in MACHINES:
            for name in sorted(runtime_packages(lock, environment(minor, machine))):
                package = lock[name]
                if {"editable", "virtual"} & set(package.get("source", {})):
                    continue
                wheels = [wheel["url"] for wheel in package.get("wheels", [])]
                if not any(_fits(wheel, minor, machine) for wheel in wheels):
                    missing.setdefault(name, []).append(f"cp3{minor}-{machine}")
    return missing


def main() -> int:
    lock = load()
    missing = missing_wheels(lock)
    for name, targets in missing.items():
        print(f"{name} {lock[name]['version']}: no wheel for {', '.join(targets)}")
    if not missing:
        count = len(runtime_packages(lock))
        print(f"{count} runtime packages: wheels for every CPython 3.11-3.13 on x86_64 and arm64.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
