"""Operators' commands: `check`, `invitations list|resend|delete`, `imports list|retry`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer

from domain.settings import SettingsError, get_settings

T = TypeVar("T")

invitations_app = typer.Typer(no_args_is_help=True, help="List, resend and delete invitations.")
imports_app = typer.Typer(no_args_is_help=True, help="List Excel imports and run one again.")


def _settings_or_exit() -> None:
    try:
        get_settings()
    except SettingsError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _with_database(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with the database open and its jobs enqueued once it has committed; a
    refusal (a DomainError) is printed and exits with 1."""
    _settings_or_exit()
    from arq import create_pool
    from arq.connections import RedisSettings

    from domain import db, outbox
    from domain.errors import DomainError

    async def run() -> T:
        await db.init()
        redis = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
        try:
            async with outbox.unit_of_work(redis):
                return await work()
        finally:
            await redis.aclose()
            await db.close()

    try:
        return asyncio.run(run())
    except DomainError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def check() -> None:
    """Check the settings, database, migrations, Redis, SMTP relay and DKIM record; exit 1
    when something is wrong (2 when the settings themselves are)."""
    _settings_or_exit()
    from domain.checks import run_checks

    results = asyncio.run(run_checks(get_settings()))
    width = max(len(result.name) for result in results)
    for result in results:
        word = "skip" if result.skipped else "OK" if result.ok else "FAIL"
        color = typer.colors.GREEN if result.ok else typer.colors.RED
        typer.secho(f"{result.name:<{width}}  {word:<4}  {result.detail}", fg=color)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


@invitations_app.command("list")
def list_invitations(
    status: Annotated[
        str | None, typer.Option(help="pending, accepted or expired; default: all.")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Part of an email or a name.")] = None,
    import_id: Annotated[int | None, typer.Option("--import", help="From this import.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """The newest invitations: id, status, delivery, address, created, expires."""
    from domain.invitations.listing import InvitationFilter
    from domain.invitations.listing import list_invitations as listed
    from domain.models import InvitationStatus

    try:
        wanted = InvitationStatus(status) if status else None
    except ValueError:
        typer.secho(f"--status: one of {', '.join(InvitationStatus)}", fg="red", err=True)
        raise typer.Exit(2) from None
    query = InvitationFilter(status=wanted, search=search, import_id=import_id)
    page: Any = _with_database(lambda: listed(query, first=limit))
    for invitation in page.invitations:
        typer.echo(
            f"{invitation.id:>8}  {invitation.status.value:<8}  "
            f"{invitation.delivery_state.value:<10}  {invitation.email or '(code only)':<40}  "
            f"{_when(invitation.created_at)}  {_when(invitation.expires_at)}"
        )
    shown = len(page.invitations)
    more = " (more: narrow the filter or raise --limit)" if page.has_next_page else ""
    typer.echo(f"{shown} invitations{more}.")


@invitations_app.command("resend")
def resend(invitation_ids: list[int]) -> None:
    """Send these invitations again (same token; expiry 30 days from now)."""
    from domain.invitations.management import resend_invitation

    async def work() -> None:
        for invitation_id in invitation_ids:
            await resend_invitation(invitation_id)

    _with_database(work)
    typer.echo(f"{len(invitation_ids)} invitations will be sent again.")


@invitations_app.command("delete")
def delete(
    invitation_ids: list[int],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete pending or expired invitations: their tokens stop working."""
    from domain.invitations.management import delete_invitation

    if not yes:
        typer.confirm(f"Delete {len(invitation_ids)} invitations?", abort=True)

    async def work() -> None:
        for invitation_id in invitation_ids:
            await delete_invitation(invitation_id)

    _with_database(work)
    typer.echo(f"{len(invitation_ids)} invitations deleted.")


@imports_app.command("list")
def list_imports(
    status: Annotated[
        str | None, typer.Option(help="queued, running, done or failed; default: all.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """The newest imports: id, status, rows, invited, problems, file, created."""
    from domain.imports.history import list_imports as listed
    from domain.models import ImportStatus

    try:
        wanted = ImportStatus(status) if status else None
    except ValueError:
        typer.secho(f"--status: one of {', '.join(ImportStatus)}", fg="red", err=True)
        raise typer.Exit(2) from None
    page: Any = _with_database(lambda: listed(first=limit, status=wanted))
    for record in page.imports:
        typer.echo(
            f"{record.id:>6}  {record.status.value:<7}  {record.rows_total:>7} rows  "
            f"{record.invited_count:>7} invited  {len(record.errors):>4} problems  "
            f"{record.file_name}  {_when(record.created_at)}"
        )
    typer.echo(f"{len(page.imports)} imports.")


@imports_app.command("retry")
def retry(import_id: int) -> None:
    """Run a failed or stuck import again from its kept upload."""
    from domain.imports.service import retry_import

    _with_database(lambda: retry_import(import_id))
    typer.echo(f"Import {import_id} queued again.")
