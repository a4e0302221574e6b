"""Operators' commands: `check`, `invitations list|resend|delete`, `imports list|retry`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from domain.settings import SettingsError, get_settings

if TYPE_CHECKING:
    from arq.connections import ArqRedis

T = TypeVar("T")

invitations_app = typer.Typer(
    no_args_is_help=True, help="List, resend and delete invitations.", rich_markup_mode=None
)
imports_app = typer.Typer(
    no_args_is_help=True, help="List Excel imports and run one again.", rich_markup_mode=None
)

# Ids are positive 32-bit integers on every database: anything else names nothing.
MAX_ID = 2**31 - 1
# How long a command waits for the database or Redis to answer.
CONNECT_SECONDS = 10.0


class Unreachable(Exception):
    """The database or Redis does not answer; the message says which, and where."""


def _settings_or_exit() -> None:
    try:
        get_settings()
    except SettingsError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _known(identifier: int) -> bool:
    return 0 < identifier <= MAX_ID


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _sum_up(done: int, failed: int, verb: str) -> None:
    """The last line of a command that acted on each id ("2 invitations resent, 1 invitation
    not."), and exit 1 if some could not be done."""
    typer.echo(
        f"{_plural(done, 'invitation')} {verb}"
        + (f", {_plural(failed, 'invitation')} not." if failed else ".")
    )
    if failed:
        raise typer.Exit(1)


async def open_redis() -> ArqRedis:
    """A connection to the jobs' Redis, or Unreachable at once (no retries: a command answers)."""
    from arq import create_pool
    from arq.connections import RedisSettings

    from domain.checks import failure_reason, redis_location

    settings = RedisSettings.from_dsn(get_settings().redis_url)
    settings.conn_retries = 0
    settings.conn_timeout = int(CONNECT_SECONDS)
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            return await create_pool(settings)
    except Exception as error:
        where = redis_location(get_settings())
        raise Unreachable(f"Redis at {where} does not answer ({failure_reason(error)}).") from None


async def open_database() -> None:
    """Start the database connections, or Unreachable at once (in one line, where it is)."""
    from domain import db
    from domain.checks import database_location, failure_reason, is_unanswered

    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            await db.init()
            await db.database_now()
    except Exception as error:
        await db.close()
        where = database_location(get_settings())
        reason = failure_reason(error)
        said = "does not answer" if is_unanswered(reason) else "cannot be used"
        raise Unreachable(f"The database at {where} {said} ({reason}).") from None


def database_answers_or_exit() -> None:
    """Exit 1 with one line (where, never the password) unless the database answers: for the
    commands that use it at once (`migrate`, `serve`, `worker`, ...), instead of a traceback."""
    from domain import db

    async def probe() -> None:
        await open_database()
        await db.close()

    try:
        asyncio.run(probe())
    except Unreachable as error:
        raise _fail(str(error)) from None


def _with_database(work: Callable[[], Awaitable[T]], *, jobs: bool = False) -> T:
    """Run `work` with the database open; with `jobs`, also Redis (checked first, so that
    nothing changes while it is down), the jobs enqueued once the work has committed. A
    refusal (a DomainError) or a database or Redis that does not answer is printed in one
    line and exits with 1."""
    _settings_or_exit()
    from domain import db, outbox
    from domain.errors import DomainError

    async def run() -> T:
        redis = await open_redis() if jobs else None
        try:
            await open_database()
            try:
                if redis is None:
                    return await work()
                async with outbox.unit_of_work(redis):
                    return await work()
            finally:
                await db.close()
        finally:
            if redis is not None:
                await redis.aclose()

    try:
        return asyncio.run(run())
    except (DomainError, Unreachable) as error:
        raise _fail(str(error)) from None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def check() -> None:
    """Check the settings, database, migrations, Redis, SMTP relay and DKIM record.

    Exit 1 when something is wrong, 2 when the settings themselves are.
    """
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


def worker_health() -> int:
    """`invitations worker --check`: 0 if the worker of this host (the container the check
    runs in) recorded its heartbeat in Redis within its interval, else 1 with one line saying
    why. Other workers' heartbeats do not count: each container answers for its own."""
    from domain.checks import redis_location
    from workers.heartbeat import heartbeat_key, worker_name

    async def beat() -> bytes | None:
        redis = await open_redis()
        try:
            value: bytes | None = await redis.get(heartbeat_key())
            return value
        finally:
            await redis.aclose()

    try:
        heartbeat = asyncio.run(beat())
    except Unreachable as error:
        raise _fail(str(error)) from None
    if not heartbeat:
        seconds = f"{get_settings().worker_heartbeat_seconds + 1:g}"
        raise _fail(
            f"The worker on {worker_name()} has not reported in the last {seconds} s on Redis"
            f" at {redis_location(get_settings())}."
        )
    typer.echo(f"The worker on {worker_name()} reported: {heartbeat.decode(errors='replace')}")
    return 0


@invitations_app.command("list")
def list_invitations(
    status: Annotated[
        str | None, typer.Option(help="pending, accepted or expired; default: all.")
    ] = None,
    delivery: Annotated[
        str | None,
        typer.Option(help="The mail's state: failed, bounced, sent, queued, ...; default: all."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            help="The start of an email address, a first name, a last name or a full name (of"
            " the person who registered with a letter too), a letter's whole code, or its number."
        ),
    ] = None,
    import_id: Annotated[int | None, typer.Option("--import", help="From this import.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """The newest invitations: id, status, delivery, address, created, expires."""
    from domain.invitations.listing import InvitationFilter
    from domain.invitations.listing import list_invitations as listed
    from domain.models import DeliveryState, InvitationImport, InvitationStatus

    try:
        wanted = InvitationStatus(status) if status else None
    except ValueError:
        typer.secho(f"--status: one of {', '.join(InvitationStatus)}", fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        state = DeliveryState(delivery) if delivery else None
    except ValueError:
        typer.secho(f"--delivery: one of {', '.join(DeliveryState)}", fg="red", err=True)
        raise typer.Exit(2) from None
    if import_id is not None and not _known(import_id):
        raise _fail("There is no such import.")
    query = InvitationFilter(status=wanted, delivery=state, search=search, import_id=import_id)

    async def work() -> Any:
        if import_id is not None and not await InvitationImport.exists(id=import_id):
            return None
        return await listed(query, first=limit)

    page: Any = _with_database(work)
    if page is None:
        raise _fail("There is no such import.")
    if page.invitations:
        typer.echo(
            f"{'id':>8}  {'status':<8}  {'delivery':<10}  {'address':<40}  {'created':<16}  expires"
        )
    for invitation in page.invitations:
        typer.echo(
            f"{invitation.id:>8}  {invitation.status.value:<8}  "
            f"{invitation.delivery_state.value:<10}  {invitation.email or '(code only)':<40}  "
            f"{_when(invitation.created_at):<16}  {_when(invitation.expires_at)}"
        )
    more = " (more: narrow the filter or raise --limit)" if page.has_next_page else ""
    typer.echo(f"{_plural(len(page.invitations), 'invitation')}{more}.")


NO_SUCH_INVITATION = "there is no such invitation."


def _unique(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


@invitations_app.command("resend")
def resend(invitation_ids: list[int]) -> None:
    """Send these invitations again (same token; expiry 30 days from now).

    Each id is reported on its own line; the others go on when one cannot be resent (exit 1).
    """
    from domain.errors import DomainError
    from domain.invitations.management import resend_invitation

    ids = _unique(invitation_ids)

    async def work() -> list[tuple[int, str, bool]]:
        outcomes = []
        for invitation_id in ids:
            if not _known(invitation_id):
                outcomes.append((invitation_id, NO_SUCH_INVITATION, False))
                continue
            try:
                invitation = await resend_invitation(invitation_id)
            except DomainError as error:
                outcomes.append((invitation_id, _lower_first(str(error)), False))
                continue
            expires = _when(invitation.expires_at)
            said = (
                f"will be sent again (expires {expires})."
                if invitation.email
                else f"code only, so no mail: its code now works until {expires}."
            )
            outcomes.append((invitation_id, said, True))
        return outcomes

    outcomes = _with_database(work, jobs=True)
    for invitation_id, said, ok in outcomes:
        typer.secho(f"{invitation_id}: {said}", fg=None if ok else typer.colors.RED, err=not ok)
    done = sum(1 for _, _, ok in outcomes if ok)
    _sum_up(done, len(outcomes) - done, "resent")


@invitations_app.command("delete")
def delete(
    invitation_ids: list[int],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete pending or expired invitations: their tokens stop working.

    Each id is reported on its own line; the others go on when one cannot be deleted (exit 1).
    """
    from domain.invitations.management import (
        MAX_IDS,
        SKIP_MESSAGES,
        Selection,
        SkipReason,
        delete_invitations,
    )

    ids = _unique(invitation_ids)
    if not yes:
        typer.confirm(f"Delete {_plural(len(ids), 'invitation')}?", abort=True)
    known = [i for i in ids if _known(i)]

    async def work() -> dict[int, SkipReason]:
        skipped: dict[int, SkipReason] = {}
        for start in range(0, len(known), MAX_IDS):
            result = await delete_invitations(Selection.of(known[start : start + MAX_IDS], None))
            skipped.update(result.skipped_ids)
        return skipped

    skipped = _with_database(work, jobs=True) if known else {}
    failed = 0
    for invitation_id in ids:
        reason = skipped.get(invitation_id) if _known(invitation_id) else SkipReason.NOT_FOUND
        if reason is None:
            typer.echo(f"{invitation_id}: deleted.")
            continue
        failed += 1
        message = _lower_first(SKIP_MESSAGES["delete"][reason])
        typer.secho(f"{invitation_id}: {message}", fg=typer.colors.RED, err=True)
    _sum_up(len(ids) - failed, failed, "deleted")


@imports_app.command("list")
def list_imports(
    status: Annotated[
        str | None, typer.Option(help="queued, running, done or failed; default: all.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """The newest imports: id, status, rows, invited, problems, created, file."""
    from domain.imports.history import list_imports as listed
    from domain.models import ImportStatus

    try:
        wanted = ImportStatus(status) if status else None
    except ValueError:
        typer.secho(f"--status: one of {', '.join(ImportStatus)}", fg="red", err=True)
        raise typer.Exit(2) from None
    page: Any = _with_database(lambda: listed(first=limit, status=wanted))
    if page.imports:
        typer.echo(
            f"{'id':>6}  {'status':<7}  {'rows':>7}  {'invited':>7}  {'problems':>8}  "
            f"{'created':<16}  file"
        )
    for record in page.imports:
        typer.echo(
            f"{record.id:>6}  {record.status.value:<7}  {record.rows_total:>7}  "
            f"{record.invited_count:>7}  {len(record.errors):>8}  "
            f"{_when(record.created_at):<16}  {record.file_name}"
        )
    typer.echo(f"{_plural(len(page.imports), 'import')}.")


@imports_app.command("retry")
def retry(import_id: int) -> None:
    """Run a failed or stuck import again from its kept upload."""
    from domain.imports.service import retry_import

    if not _known(import_id):
        raise _fail("There is no such import.")
    _with_database(lambda: retry_import(import_id), jobs=True)
    typer.echo(f"Import {import_id} queued again.")
