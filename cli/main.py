"""`invitations` commands for operators and developers."""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
import sys
from typing import Annotated

import typer

from cli import operations
from domain.settings import SettingsError, get_settings

# Click's plain help: typer's rich panels label every flag `<bool>` (`--help <bool>`), as if
# it took a value.
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)


def _settings_or_exit() -> None:
    try:
        get_settings()
    except SettingsError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _logging() -> None:
    from domain.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format.value)


@app.command()
def migrate() -> None:
    """Apply the database migrations that have not run yet."""
    _settings_or_exit()
    operations.database_answers_or_exit()
    from domain import db
    from domain.checks import database_location, failure_reason

    async def run() -> None:
        try:
            await db.migrate(db.config_from_settings())
        finally:
            await db.close()

    try:
        asyncio.run(run())
    except Exception as error:
        if not db.is_connection_error(error):
            raise
        where = database_location(get_settings())
        typer.secho(
            f"The database at {where} stopped answering during the migrations"
            f" ({failure_reason(error)}): run `invitations migrate` again.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo("Migrations applied.")


@app.command("create-admin")
def create_admin(
    email: str,
    first_name: Annotated[str, typer.Option()] = "",
    last_name: Annotated[str, typer.Option()] = "",
    password: Annotated[
        str | None,
        typer.Option(
            help="'-': read from stdin (its first line), for scripts and containers; asked for"
            " on the terminal when omitted.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create an admin with a confirmed email address."""
    _settings_or_exit()
    if password is None and not sys.stdin.isatty():
        typer.secho(
            "No terminal to ask for the password: give it on stdin with --password -"
            " (printf '%s\\n' \"$PASSWORD\" | invitations create-admin EMAIL --password -).",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    operations.database_answers_or_exit()
    from domain import db
    from domain.errors import DomainError
    from domain.users.service import create_admin as create

    if password == "-":
        password = sys.stdin.readline().rstrip("\n")
    elif password is None:
        password = getpass.getpass("Password: ")

    async def run() -> None:
        await db.init(apply_migrations=True)
        try:
            user = await create(
                email=email, password=password, first_name=first_name, last_name=last_name
            )
        finally:
            await db.close()
        typer.echo(f"Admin {user.email} created (id {user.id}).")

    try:
        asyncio.run(run())
    except DomainError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command("read-bounce")
def read_bounce(
    to: Annotated[
        str | None,
        typer.Option(help="The address the bounce was delivered to (an MTA's ${recipient})."),
    ] = None,
) -> None:
    """Record a bounce message (RFC 3464) or abuse report read from stdin: for an MTA's pipe
    to the return path's mailbox (README, "Bounces and complaints")."""
    _settings_or_exit()
    from domain import db
    from domain.invitations import feedback
    from domain.mail.dsn import dsn_events

    raw = sys.stdin.buffer.read(10 * 1024 * 1024)
    events = dsn_events(raw, envelope_recipient=to)
    if events:
        operations.database_answers_or_exit()

    async def run() -> int:
        await db.init()
        try:
            return await feedback.record_all(events)
        finally:
            await db.close()

    matched = asyncio.run(run()) if events else 0
    typer.echo(f"{len(events)} delivery events, {matched} matched an invitation.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API (uvicorn)."""
    _settings_or_exit()
    operations.database_answers_or_exit()  # Redis may be away: the API waits for it, not ready
    import uvicorn

    from api.app import create_app
    from api.tracing import traced
    from domain.logs import AccessLogPrivacy

    settings = get_settings()
    _logging()
    logging.getLogger("uvicorn.access").addFilter(AccessLogPrivacy())
    try:
        application = traced(create_app(settings), settings)
    except SettingsError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    # What every request keeps using (the schema, the ORM's models, the templates) moves out
    # of the collector's reach: its full passes no longer walk it, which is what pauses a
    # busy process for tens of milliseconds now and then (the slowest answers).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        proxy_headers=False,  # the app decides which proxies to trust
        log_level=settings.log_level.lower(),
        log_config=None,  # ours (domain.logs): no personal data in the access log
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 0 if this host's worker recorded its heartbeat in Redis lately, else 1"
            " (a container's health check).",
        ),
    ] = False,
) -> None:
    """Run an arq worker: sends, reminders, imports, and the sweep."""
    _settings_or_exit()
    if check:
        # Not the worker's Redis settings (which wait for Redis forever): a check answers.
        raise typer.Exit(operations.worker_health())
    operations.database_answers_or_exit()  # Redis may be away: the worker waits for it
    from workers.settings import run

    _logging()
    run(burst=burst)


@app.command()
def dev() -> None:
    """Run the service locally: migrations, first-run data, Redis, the API and a worker.

    A private Redis is started when none answers at INVITES_REDIS_URL; the API catches the
    mails and shows them at /dev/mail. Ctrl-C stops everything.
    """
    from cli.dev import run

    raise typer.Exit(run())


@app.command("mail-setup")
def mail_setup(
    write: Annotated[
        str | None, typer.Option(help="Write the document to this file instead of printing it.")
    ] = None,
    example: Annotated[
        bool, typer.Option(help="Use the example deployment (for docs/email-delivery.md).")
    ] = False,
) -> None:
    """The mail delivery set-up (DNS records, allowlisting steps) for this deployment."""
    from pathlib import Path

    from domain.mail.setup import EXAMPLE_DEPLOYMENT, render_setup_document
    from domain.settings import load_settings

    if example:
        settings = load_settings(**EXAMPLE_DEPLOYMENT)
    else:
        _settings_or_exit()
        settings = get_settings()
    document = render_setup_document(settings)
    if write:
        Path(write).write_text(document)
        typer.echo(f"Wrote {write}.")
    else:
        typer.echo(document, nl=False)


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt and re-digest tokens and codes under the current SECRET_KEY."""
    _settings_or_exit()
    operations.database_answers_or_exit()
    from domain import db
    from domain.security.keys import rotate_keys as rotate

    async def run() -> None:
        await db.init()
        try:
            report = await rotate()
        finally:
            await db.close()
        typer.echo(
            f"Rotated {report.invitations} invitation tokens, {report.confirmations}"
            f" confirmation codes, {report.reset_links} password reset links and"
            f" {report.webhook_secrets} webhook secrets."
        )

    asyncio.run(run())


app.command()(operations.check)
app.add_typer(operations.invitations_app, name="invitations")
app.add_typer(operations.imports_app, name="imports")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
