"""docker-compose.yml and the Dockerfile agree with the code (no Docker engine needed to check)."""

from __future__ import annotations

import ipaddress
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
import yaml

from cli.main import app
from domain.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
LONG_RUNNING = ("postgres", "redis", "api", "worker", "proxy", "mailpit")
OUR_IMAGE = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    result: dict[str, Any] = compose["services"]
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    value = service["command"]
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def test_every_service_of_the_production_shape_is_there(services: dict[str, Any]) -> None:
    assert set(services) == {*LONG_RUNNING, "migrate"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert services["proxy"]["image"].startswith("caddy:2")


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert any("/health/ready" in part for part in services["api"]["healthcheck"]["test"])


def test_the_api_is_checked_by_its_readiness_probe_and_the_worker_by_its_heartbeat(
    services: dict[str, Any],
) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    program, subcommand, *args = services["worker"]["healthcheck"]["test"][1:]
    assert (program, subcommand, args) == ("invitations", "worker", ["--check"])
    group.commands[subcommand].make_context(subcommand, list(args))
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (.+)$", dockerfile, re.MULTILINE)
    assert healthcheck and "/health/ready" in healthcheck.group(1)
    # The service runs as its own user, never root.
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_logs_are_json_and_metrics_can_be_scraped_in_the_production_shape(
    services: dict[str, Any],
) -> None:
    for name in OUR_IMAGE:
        env = environment(services[name])
        assert env[f"{ENV_PREFIX}LOG_FORMAT"] == "json"
        assert env[f"{ENV_PREFIX}WORKER_METRICS_PORT"].isdigit()
        assert env[f"{ENV_PREFIX}METRICS_TOKEN"].startswith("${")  # the operator's, never a default


def test_the_api_through_its_proxy_and_mailpit_ui_are_published_and_smtp_is_internal(
    services: dict[str, Any],
) -> None:
    assert services["proxy"]["ports"] == ["8000:8000"]
    assert "ports" not in services["api"]  # its replicas are reached through the proxy
    assert services["mailpit"]["ports"] == ["8025:8025"]
    assert environment(services["api"])[f"{ENV_PREFIX}SMTP_PORT"] == "1025"


def replicas(service: dict[str, Any]) -> int:
    """The replica count compose starts when its variable is not set."""
    value = str(service["deploy"]["replicas"])
    default = re.fullmatch(r"\$\{[A-Z_]+:-(\d+)\}", value)
    return int(default[1] if default else value)


def test_several_apis_behind_the_proxy_and_several_workers_share_one_database_and_redis(
    services: dict[str, Any],
) -> None:
    assert services["api"]["deploy"]["replicas"] == "${API_REPLICAS:-2}"
    assert services["worker"]["deploy"]["replicas"] == "${WORKER_REPLICAS:-2}"
    assert replicas(services["api"]) >= 2 and replicas(services["worker"]) >= 2
    for name in ("postgres", "redis", "migrate", "proxy", "mailpit"):
        assert "deploy" not in services[name], f"{name} runs once"
    # The proxy asks Docker's DNS for every api replica, again and again as they come and go.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    [config] = services["proxy"]["configs"]
    caddyfile = compose["configs"][config["source"]]["content"]
    assert config["target"] == "/etc/caddy/Caddyfile"
    assert re.search(r"dynamic a \{\s*name api\s*port 8000\s*refresh \d+s", caddyfile)
    assert "lb_policy round_robin" in caddyfile and ":8000 {" in caddyfile
    # The API believes the client address the proxy forwards, from the proxy only.
    address = services["proxy"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    for name in OUR_IMAGE:
        assert environment(services[name])[f"{ENV_PREFIX}TRUSTED_PROXIES"] == address
    assert any("/health" in part for part in services["proxy"]["healthcheck"]["test"])


def test_api_and_worker_wait_for_healthy_postgres_and_redis_and_the_migration(
    services: dict[str, Any],
) -> None:
    for name in ("api", "worker"):
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["restart"] == "no"


def test_the_services_get_only_real_settings_and_the_ones_production_needs(
    services: dict[str, Any],
) -> None:
    for name in OUR_IMAGE:
        env = environment(services[name])
        settings = {variable for variable in env if variable.startswith(ENV_PREFIX)}
        assert settings == set(env), f"{name}: not INVITES_* settings: {set(env) - settings}"
        unknown = {
            variable
            for variable in settings
            if variable.removeprefix(ENV_PREFIX).lower() not in Settings.model_fields
        }
        assert not unknown, f"{name}: no such setting: {unknown}"
        for required in ("ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SMTP_HOST"):
            assert f"{ENV_PREFIX}{required}" in env, (name, required)
        assert env[f"{ENV_PREFIX}ENV"] == "production"
        assert env[f"{ENV_PREFIX}DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in env[f"{ENV_PREFIX}DATABASE_URL"]
        assert env[f"{ENV_PREFIX}REDIS_URL"] == "redis://redis:6379/0"
        assert env[f"{ENV_PREFIX}SMTP_HOST"] == "mailpit"
        assert env[f"{ENV_PREFIX}SMTP_TLS"] == "none"
        # Compose refuses to start without a key instead of running with an empty one.
        assert re.fullmatch(r"\$\{INVITES_SECRET_KEY:\?.+\}", env[f"{ENV_PREFIX}SECRET_KEY"])


def test_the_commands_are_real_cli_commands_with_real_options(services: dict[str, Any]) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name in OUR_IMAGE:
        program, subcommand, *args = command(services[name])
        assert program == "invitations", name
        assert subcommand in group.commands, f"{name}: no command {subcommand!r}"
        # Parsing (without running) fails on an unknown option or a missing argument.
        group.commands[subcommand].make_context(subcommand, list(args))
    assert command(services["api"])[1:] == ["serve", "--host", "0.0.0.0"]
    assert command(services["migrate"])[1:] == ["migrate"]
    assert command(services["worker"])[1:] == ["worker"]


def test_the_image_is_built_from_the_lock_file_without_dev_dependencies(
    services: dict[str, Any],
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert "uv sync --frozen --no-dev" in dockerfile
    images = {services[name]["image"] for name in OUR_IMAGE}
    assert len(images) == 1
    assert all(services[name].get("build") == "." for name in OUR_IMAGE)
    # Every package the code lives in is copied into the image.
    for package in ("domain", "schema", "api", "workers", "cli"):
        assert f"COPY {package} ./{package}" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".data" in ignored
