"""Importing invitations from an Excel file: keep the upload, then check and write it in a job.

The upload is stored in the database (workers may run on other hosts) and the job only gets the
import's id. The job checks every row before it commits anything; the invitations, the import's
counts and its `done` status are committed together, so a job that dies halfway leaves nothing
behind and simply runs again. On PostgreSQL the rows already checked are stored, inside that
transaction, while the next ones are read and checked (see _Write.streamed). Sends are enqueued
after that commit (the sweep recovers them if the enqueue is lost).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import threading
import time
import unicodedata
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from domain import db, i18n, metrics, outbox
from domain.clock import clock
from domain.collector import collector_paused, freeze_parsed, thaw
from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.groups.service import registration_fields_by_key
from domain.imports.rows import Rows, SheetReader, is_header_row
from domain.imports.template import template_workbook
from domain.imports.xlsx import (
    CheckedWorkbook,
    Limits,
    Sheet,
    check_upload,
    check_workbook,
    find_unreadable,
    open_first_sheet,
    unreadable_positions,
)
from domain.invitations import writer
from domain.invitations.checks import (
    BatchCheck,
    InvitationOptions,
    Planned,
    cap_problems,
    check_options,
)
from domain.invitations.jobs import enqueue_sends
from domain.invitations.outcome import Outcome, outcome_of
from domain.invitations.service import creation_times, new_rows, update_existing_users
from domain.invitations.writer import NewInvitation
from domain.models import Group, ImportStatus, InvitationImport, RegistrationField, User
from domain.security.ratelimit import Limiter
from domain.settings import get_settings

log = logging.getLogger(__name__)

IMPORT_JOB = "import_invitations"
# A running import not finished after this long was lost with its worker: report it failed.
# (Only for imports started before heartbeats: a heartbeat tells much sooner.)
STALLED_AFTER = timedelta(minutes=20)
# A queued import not started after this long lost its job (Redis): enqueue it again.
REQUEUE_AFTER = timedelta(minutes=1)
# A running import's worker touches heartbeat_at this often; one silent for DEAD_AFTER has
# lost its worker and is started again, at most MAX_RUNS times in all.
HEARTBEAT_SECONDS = 5.0
DEAD_AFTER = timedelta(seconds=30)
MAX_RUNS = 3
_FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)
# Problems only a new upload fixes (its cells, its columns, the file itself); the others
# (an unknown group, the daily allowance, ...) may pass, and the import can run again.
FIXED_IN_THE_FILE = frozenset(
    {
        ErrorCode.INVALID_EMAIL,
        ErrorCode.INVALID_NAME,
        ErrorCode.UNKNOWN_LOCALE,
        ErrorCode.INVALID_ADDRESS,
        ErrorCode.DUPLICATE_EMAIL,
        ErrorCode.NO_EMAILS,
        ErrorCode.UNPARSEABLE_FILE,
        ErrorCode.NOT_AN_XLSX_FILE,
        ErrorCode.MISSING_COLUMN,
        ErrorCode.UNKNOWN_COLUMN,
        ErrorCode.MALFORMED_ADMIN_VALUE,
        ErrorCode.MALFORMED_GROUPS_VALUE,
        ErrorCode.MALFORMED_FIELD_VALUE,
    }
)


def import_job_id(import_id: int, run: int = 0) -> str:
    # A run after a dead worker's gets an id of its own: the dead one's job is still in arq.
    return f"import:{import_id}" if run == 0 else f"import:{import_id}:{run}"


class ImportSuperseded(Exception):
    """Another run of the import took over (this one was thought dead): nothing of this
    run is committed."""


class Runner:
    """One run of an import: its claim on the import (the run's number) and its heartbeat."""

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.run: int | None = None

    async def claim(self) -> bool:
        """Start the import, unless it is finished or another run is alive."""
        now = await clock.now()
        claimed = await InvitationImport.filter(
            Q(status=ImportStatus.QUEUED)
            | Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - DEAD_AFTER)
            | Q(status=ImportStatus.RUNNING, heartbeat_at=None),
            id=self.import_id,
        ).update(
            status=ImportStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            rows_processed=0,
            runs=F("runs") + 1,
        )
        if not claimed:
            return False
        runs = await InvitationImport.filter(id=self.import_id).values_list("runs", flat=True)
        self.run = int(runs[0])  # type: ignore[call-overload]
        return True

    async def beat(self) -> None:
        if self.run is not None:
            await InvitationImport.filter(
                id=self.import_id, status=ImportStatus.RUNNING, runs=self.run
            ).update(heartbeat_at=await clock.now())

    @asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        """Beat every HEARTBEAT_SECONDS while the block runs (enter it outside any
        transaction: the beats must commit on their own)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                try:
                    await self.beat()
                except Exception as error:  # the import itself will meet a lasting fault
                    log.warning(
                        "import %d: heartbeat failed (%s)", self.import_id, type(error).__name__
                    )

        task = asyncio.get_running_loop().create_task(loop())
        try:
            yield
        finally:
            task.cancel()


async def start_import(
    *,
    admin: User,
    file_name: str,
    content: bytes,
    options: InvitationOptions,
    dry_run: bool = False,
) -> InvitationImport:
    """Keep the file and the form's defaults, and ask a worker to import it. Refuses at once a
    file too large or plainly not a workbook, and defaults that are wrong in themselves. A dry
    run is checked by the worker exactly as an import, and writes nothing: its outcome says
    what the import would do."""
    check_upload(content, Limits.from_settings(get_settings()))
    await check_options(options)
    record = await InvitationImport.create(
        created_by=admin,
        file_name=_clean_file_name(file_name),
        file_size=len(content),
        file_sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        defaults=stored_options(options),
        dry_run=dry_run,
    )
    outbox.enqueue(IMPORT_JOB, record.id, job_id=import_job_id(record.id))
    return record


def _clean_file_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    return "".join(c for c in base if unicodedata.category(c)[0] != "C")[:255]


async def get_import(import_id: int) -> InvitationImport | None:
    """The import without the upload itself, which a client polling the progress has no use
    for (it can weigh 20 MiB)."""
    shown = [name for name in InvitationImport._meta.fields_db_projection if name != "content"]
    return await InvitationImport.filter(id=import_id).only(*shown).first()


async def run_import(
    import_id: int, *, limiter: Limiter | None = None, runner: Runner | None = None
) -> None:
    """The job's work. Idempotent: a finished import is left alone, and so is one another
    live run is working on; an unfinished one (its worker died) starts over, since nothing of
    it was committed. With a limiter, the invitations count towards the uploader's daily
    allowance, as typed-in ones do."""
    record = await InvitationImport.get_or_none(id=import_id)
    if record is None or record.status in _FINISHED:
        return
    runner = runner or Runner(import_id)
    if not await runner.claim():
        return
    record.runs = runner.run or 0
    started = time.monotonic()
    try:
        await _import(record, limiter)
    except DomainError as error:
        await _finish_failed(import_id, list(error.problems))
        log.info("import %d refused: %d problems", import_id, len(error.problems))
        _measured(record, "refused", started)
    except ImportSuperseded:
        raise
    except Exception:
        _measured(record, "crashed", started)
        raise
    else:
        _measured(record, "previewed" if record.dry_run else "done", started)
        metrics.invitations_created.labels("import").inc(record.invited_count)
    finally:
        thaw()


def _measured(record: InvitationImport, outcome: str, started: float) -> None:
    metrics.imports.labels(outcome).inc()
    metrics.import_duration.labels(outcome).observe(time.monotonic() - started)
    metrics.import_rows.labels(outcome).observe(record.rows_total)


async def _import(record: InvitationImport, limiter: Limiter | None) -> None:
    settings = get_settings()
    limits = Limits.from_settings(settings)
    options = options_from(record.defaults)
    fields = await registration_fields_by_key()
    groups = await Group.all()
    started = time.monotonic()
    # The upload is held only while it is read: the model keeps no reference to it.
    content, record.content = record.content or b"", None
    sheet, minted, reserved = await _open(content, limits, for_writing=not record.dry_run)
    del content
    freeze_parsed()
    opened = time.monotonic()
    reader = SheetReader(sheet, fields=fields, groups=groups)
    record.rows_total = reader.rows_expected
    await InvitationImport.filter(id=record.id).update(
        rows_total=reader.rows_expected, sheet_name=sheet.name
    )
    if reader.reader is None:  # the header's problems
        raise DomainError(*_merged(reader.result.problems, []))
    # Row values name groups by title, among all of them.
    check = await BatchCheck.for_platform(options, groups, fields)
    write = _Write(record, reader.result, check, limiter)
    try:
        if record.dry_run:
            await write.preview(reader)
        elif reserved is not None:  # PostgreSQL
            await write.streamed(reader, minted, reserved)
        else:
            await write.after_checks(reader, minted)
    except DomainError:
        # Refused: every row was checked all the same, and the import says how many.
        await InvitationImport.filter(id=record.id, status=ImportStatus.RUNNING).update(
            rows_processed=reader.result.rows_total
        )
        raise
    log.info(
        "import %d%s done: %d rows; file checked and parsed in %.1f s, rows read, checked and"
        " written in %.1f s",
        record.id,
        " (dry run)" if record.dry_run else "",
        reader.result.rows_total,
        opened - started,
        time.monotonic() - opened,
    )


# Rows are read and checked, and on PostgreSQL stored, this many at a time.
PART = 2000
# The progress a poller sees is stored at most this often (seconds): each is a transaction.
PROGRESS_EVERY = 0.2


class _Write:
    """Checks the rows read and writes their invitations, all or nothing: one transaction
    commits the invitations, the accounts' new access and the import's `done` status, only
    once every row has passed.

    The invitations' inviter is the import's uploader (`created_by`), kept once on the import
    rather than on each row: a foreign key on every row would have the database look up the
    same user 100,000 times, at the end of the COPY, a sixth of its work on the import. Readers
    of the inviter fall back on it (`delivery.inviter_of`, the GraphQL `inviter`); deleting
    the user forgets it, as it does a typed-in invitation's inviter."""

    def __init__(
        self, record: InvitationImport, rows: Rows, check: BatchCheck, limiter: Limiter | None
    ) -> None:
        self.record = record
        self.rows = rows  # the problems and counts of the rows read so far
        self.check = check
        self.limiter = limiter
        self.admin_id: int | None = record.created_by_id  # type: ignore[attr-defined]

    async def streamed(
        self, reader: SheetReader, minted: list[writer.Token], reserved: list[int]
    ) -> None:
        """PostgreSQL: each part is stored while the next is read and checked (the database
        works on its own core), inside the transaction; a problem anywhere stops the storing,
        and the transaction is rolled back after the last row has been checked."""
        check = self.check
        outside = contextvars.copy_context()  # not the transaction: visible to a poller

        def on_pool(work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(work, context=outside.copy())

        now, expires_at = await creation_times()
        async with in_transaction() as connection:
            stream = writer.CopyStream.open(
                connection,
                inviter_id=None,  # the import's uploader: see _Write
                import_id=self.record.id,
                now=now,
                expires_at=expires_at,
                count=reader.rows_expected,
                minted=minted,
                reserved=reserved,
            )
            checked = []
            pending: asyncio.Task[None] | None = None
            next_progress = 0.0  # the first part's progress is stored at once
            try:
                while True:
                    with collector_paused():  # no await inside
                        part = reader.next_part(PART)
                        planned = check.entries(part)
                    if not part:
                        break
                    # The transaction's connection is busy with COPY: the pool answers.
                    await on_pool(check.against_accounts(planned))
                    checked.extend(planned)
                    if not (check.failed or self.rows.problems):
                        with collector_paused():
                            rows = new_rows(planned, check.options, check.message)
                        await stream.put(rows)
                    if time.monotonic() >= next_progress:
                        await on_pool(self._progress(self.rows.rows_total))
                        next_progress = time.monotonic() + PROGRESS_EVERY
                # Other invitations to these addresses: one query on the pool, which sees only
                # committed ones, while the database finishes storing this import's rows.
                pending = on_pool(check.against_pending(checked, except_import=self.record.id))
            finally:
                try:
                    ids = await stream.close()
                except BaseException:
                    if pending is not None:
                        pending.cancel()
                    raise
            assert pending is not None
            await pending
            self._refuse_if_empty(checked)
            self._raise_problems()
            await self._finish(checked, ids, stream.rows)

    async def after_checks(self, reader: SheetReader, minted: list[writer.Token]) -> None:
        """SQLite: a write transaction holds its only connection, so every row is read and
        checked first, then the invitations are written at once."""
        check = self.check
        with collector_paused():
            invitees = reader.read_all()
        self._refuse_if_empty(invitees)
        scale = self.rows.rows_total / len(invitees)

        async def progress(checked: int) -> None:
            await self._progress(int(checked * scale))

        planned = await check.all_of(invitees, progress)
        self._raise_problems()
        now, expires_at = await creation_times()
        async with in_transaction():
            with collector_paused():
                rows = new_rows(planned, check.options, check.message)
            ids = await writer.insert_invitations(
                rows,
                inviter_id=None,  # the import's uploader: see _Write
                import_id=self.record.id,
                now=now,
                expires_at=expires_at,
                minted=minted,
            )
            await self._finish(planned, ids, rows)

    async def preview(self, reader: SheetReader) -> None:
        """A dry run: every row read and checked as after_checks does, then only the import's
        record is written, with what the import would do. The daily allowance is checked, not
        used."""
        check = self.check
        with collector_paused():
            invitees = reader.read_all()
        self._refuse_if_empty(invitees)
        scale = self.rows.rows_total / len(invitees)

        async def progress(checked: int) -> None:
            await self._progress(int(checked * scale))

        planned = await check.all_of(invitees, progress)
        self._raise_problems()
        outcome = await outcome_of(planned, check.options)
        if self.limiter is not None and self.admin_id is not None:
            await self.limiter.invitations_allowed(self.admin_id, outcome.invitations)
        await self._done(outcome, invited=0, updated=0)

    def _refuse_if_empty(self, read: Sequence[object]) -> None:
        if not read:
            raise DomainError(
                *(
                    self.rows.problems
                    or [
                        Problem(
                            ErrorCode.NO_EMAILS,
                            "The sheet has no rows to import below its header.",
                            "file",
                        )
                    ]
                )
            )

    def _raise_problems(self) -> None:
        try:
            self.check.raise_problems(None)
        except DomainError as error:
            raise DomainError(*_merged(self.rows.problems, list(error.problems))) from None
        if self.rows.problems:
            raise DomainError(*_merged(self.rows.problems, []))

    async def _progress(self, rows_processed: int) -> None:
        await InvitationImport.filter(id=self.record.id).update(rows_processed=rows_processed)

    async def _finish(
        self, planned: list[Planned], ids: list[int], rows: Sequence[NewInvitation]
    ) -> None:
        """Inside the transaction, once every row passed and the new ones are written."""
        if self.limiter is not None and self.admin_id is not None:
            await self.limiter.invitations_created(self.admin_id, len(ids))
        outcome = await outcome_of(planned, self.check.options)  # before the accounts change
        existing = [e for e in planned if e.existing_user is not None]
        updated = await update_existing_users(existing, list(self.check.options.project_ids))
        await self._done(outcome, invited=len(ids), updated=len(updated))
        enqueue_sends(ids, rows)  # flushed by the job once the transaction has committed

    async def _done(self, outcome: Outcome, *, invited: int, updated: int) -> None:
        """The import DONE with its counts (in the caller's transaction, if it has one)."""
        rows_total = self.rows.rows_total
        done = await InvitationImport.filter(
            id=self.record.id, status=ImportStatus.RUNNING, runs=self.record.runs
        ).update(
            status=ImportStatus.DONE,
            rows_total=rows_total,
            rows_processed=rows_total,
            invited_count=invited,
            existing_users_updated_count=updated,
            skipped_count=self.rows.skipped,
            hidden_count=self.rows.hidden,
            errors=[],
            content=None,
            outcome=outcome.stored(),
            finished_at=await clock.now(),
        )
        if not done:
            raise ImportSuperseded(f"import {self.record.id}: run {self.record.runs} superseded")
        self.record.rows_total, self.record.invited_count = rows_total, invited


async def _open(
    content: bytes, limits: Limits, *, for_writing: bool = True
) -> tuple[Sheet, list[writer.Token], list[int] | None]:
    """Check the file, then parse the sheet it reads; meanwhile, on PostgreSQL, take ids for its
    rows from the invitations' sequence (the database is otherwise idle until rows are read).
    Returns the sheet, tokens minted for its rows and the ids (None on SQLite, and for a dry
    run, which gets no tokens either)."""
    checked = await asyncio.to_thread(check_workbook, content, limits, defer_unreadable=True)
    client = db.connection()
    if not for_writing:
        sheet, _ = await asyncio.to_thread(_parse, content, limits, checked, mint=False)
        return sheet, [], None
    if client.capabilities.dialect != "postgres":
        return (*await asyncio.to_thread(_parse, content, limits, checked), None)
    wanted = max(min(checked.rows_seen, limits.max_rows + 1) - 1, 0)  # the header is a row
    reserving = asyncio.ensure_future(writer.reserve_ids(client, wanted))
    try:
        sheet, minted = await asyncio.to_thread(_parse, content, limits, checked)
    except BaseException:
        reserving.cancel()
        raise
    return sheet, minted, await reserving


def _parse(
    content: bytes, limits: Limits, checked: CheckedWorkbook, *, mint: bool = True
) -> tuple[Sheet, list[writer.Token]]:
    """Parse the sheet of a checked file. While calamine parses (without the GIL),
    another thread looks for the cells that cannot be read, if the check left them (a second
    pass over the sheet's XML), then mints tokens for the rows, which would otherwise cost ~5 us
    a row on the way to the database: as many as the sheet has rows, if the parse lasts long
    enough."""
    wanted = min(checked.rows_seen or limits.max_rows, limits.max_rows) if mint else 0
    minted: list[writer.Token] = []
    unreadable: dict[str, str] = {}
    failed: list[BaseException] = []
    parsed = threading.Event()

    def meanwhile() -> None:
        try:
            unreadable.update(find_unreadable(content, checked))
        except BaseException as error:  # raised in the caller's thread, after the parse
            failed.append(error)
            return
        while not parsed.is_set() and len(minted) < wanted:
            minted.extend(writer.mint_tokens(min(1000, wanted - len(minted))))

    helper = threading.Thread(target=meanwhile, name="import-tokens")
    helper.start()
    try:
        sheet = open_first_sheet(content, limits, {}, checked, is_header_row)
    finally:
        parsed.set()
        helper.join()
    if failed:
        raise failed[0]
    if sheet.checked is not None and sheet.checked is not checked:  # the header's sheet
        unreadable = find_unreadable(content, sheet.checked)
    sheet.unreadable = unreadable_positions(unreadable)
    return sheet, minted


def _merged(ours: list[Problem], theirs: list[Problem]) -> list[Problem]:
    """One list in sheet order (the form's own problems first), all of them: _finish_failed
    keeps the usual number, and says how many it left out."""
    return sorted([*ours, *theirs], key=lambda p: p.row or 0)


async def _finish_failed(import_id: int, problems: list[Problem]) -> None:
    # Never over a finished import: its invitations may be committed (a flush failing after).
    # The upload is kept a while if its problems name rows: the problems file shows them in
    # it (domain.imports.problems_file); recover_imports drops it later.
    stored = cap_problems(problems)
    changes: dict[str, Any] = {} if any(p.row for p in stored) else {"content": None}
    await InvitationImport.filter(id=import_id, status__not_in=_FINISHED).update(
        status=ImportStatus.FAILED,
        errors=[_stored(problem) for problem in stored],
        finished_at=await clock.now(),
        **changes,
    )


def _stored(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code.value,
        "message": problem.message,
        "field": problem.field,
        "row": problem.row,
        "value": problem.value,
        "reason": problem.reason.value if problem.reason else None,
        "groups": list(problem.groups),
        "details": [[name, value] for name, value in problem.details],
    }


def problems_of(record: InvitationImport) -> list[Problem]:
    """The stored errors as Problems again (unknown codes from an older release are kept as
    INVALID_INPUT rather than lost)."""
    result = []
    for item in record.errors:
        try:
            code = ErrorCode(str(item.get("code")))
        except ValueError:
            code = ErrorCode.INVALID_INPUT
        try:
            reason = Reason(str(item.get("reason"))) if item.get("reason") else None
        except ValueError:
            reason = None  # one an older release knew: the code's words say it
        result.append(
            Problem(
                code,
                str(item.get("message") or ""),
                item.get("field"),
                row=item.get("row"),
                value=item.get("value"),
                reason=reason,
                groups=tuple(str(group) for group in item.get("groups") or ()),
                details=tuple(
                    (str(pair[0]), str(pair[1]))
                    for pair in item.get("details") or ()
                    if isinstance(pair, list | tuple) and len(pair) == 2
                ),
            )
        )
    return result


async def record_crash(import_id: int) -> None:
    """An unexpected error stopped the import (logged by the job, without personal data)."""
    await _finish_failed(
        import_id,
        [
            Problem(
                ErrorCode.INVALID_INPUT,
                "The import stopped on an unexpected error; nothing was imported. Upload the file"
                " again, and tell the platform's operators if it happens again.",
                "file",
            )
        ],
    )


async def may_run_again(import_id: int) -> bool:
    """After a fault that may pass (a dropped database connection): queued again for the
    job's next try, unless it has been started MAX_RUNS times already."""
    return bool(
        await InvitationImport.filter(
            id=import_id, status=ImportStatus.RUNNING, runs__lt=MAX_RUNS
        ).update(status=ImportStatus.QUEUED, heartbeat_at=None)
    )


async def recover_imports() -> int:
    """For the workers' cron: enqueue again imports whose job was lost before it started, and
    those whose worker died mid-way (silent for DEAD_AFTER); fail those that died MAX_RUNS
    times; drop the uploads kept for the problems files of imports that failed long ago.
    Returns how many were touched."""
    now = await clock.now()
    touched = 0
    for import_id, runs in await InvitationImport.filter(
        status=ImportStatus.QUEUED, created_at__lt=now - REQUEUE_AFTER
    ).values_list("id", "runs"):
        outbox.enqueue(IMPORT_JOB, int(import_id), job_id=import_job_id(int(import_id), runs))
        touched += 1
    for import_id, runs in await InvitationImport.filter(
        status=ImportStatus.RUNNING, heartbeat_at__lt=now - DEAD_AFTER
    ).values_list("id", "runs"):
        if runs >= MAX_RUNS:
            await record_crash(int(import_id))
        else:
            outbox.enqueue(IMPORT_JOB, int(import_id), job_id=import_job_id(int(import_id), runs))
        touched += 1
    for import_id in await InvitationImport.filter(
        status=ImportStatus.RUNNING, heartbeat_at=None, started_at__lt=now - STALLED_AFTER
    ).values_list("id", flat=True):
        await record_crash(int(import_id))  # type: ignore[call-overload]
        touched += 1
    kept_since = now - timedelta(days=get_settings().import_problems_file_days)
    touched += await InvitationImport.filter(
        status=ImportStatus.FAILED, finished_at__lt=kept_since, content__not_isnull=True
    ).update(content=None)
    return touched


def stored_options(options: InvitationOptions) -> dict[str, Any]:
    return {
        "is_admin": options.is_admin,
        "project_ids": list(options.project_ids),
        "group_ids": list(options.group_ids),
        "registration_field_values": dict(options.registration_field_values),
        "locale": options.locale,
        "personal_message": options.personal_message,
        "send_email": options.send_email,
    }


def options_from(stored: dict[str, Any]) -> InvitationOptions:
    return InvitationOptions(
        is_admin=bool(stored.get("is_admin", False)),
        project_ids=[int(i) for i in stored.get("project_ids", [])],
        group_ids=[int(i) for i in stored.get("group_ids", [])],
        registration_field_values=dict(stored.get("registration_field_values", {})),
        locale=stored.get("locale"),
        personal_message=str(stored.get("personal_message", "")),
        send_email=bool(stored.get("send_email", True)),
    )


async def template(locale: str = i18n.SOURCE_LOCALE) -> bytes:
    """The template for this platform (its languages, groups and registration fields), its
    words in `locale`."""
    groups = await Group.all().order_by("title")
    fields = await RegistrationField.all().order_by("id")
    return template_workbook(
        locales=get_settings().locales, groups=groups, fields=fields, locale=locale
    )


async def retry_import(import_id: int) -> InvitationImport:
    """Run a failed or stuck import again from its kept upload (an operator's command: after
    a crash, or once the groups its rows named exist). A finished one, or one whose upload
    was dropped, is refused."""
    record = await get_import(import_id)
    if record is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "There is no such import.", "id")
    if record.status is ImportStatus.DONE:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, "This import is done: its invitations exist.", "id"
        )
    now = await clock.now()
    alive = record.heartbeat_at is not None and record.heartbeat_at >= now - DEAD_AFTER
    if record.status is ImportStatus.RUNNING and alive:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "This import is running now.", "id")
    if record.status is ImportStatus.FAILED:
        fixed_in_file = [p for p in problems_of(record) if p.code in FIXED_IN_THE_FILE]
        if fixed_in_file:
            first = fixed_in_file[0]
            where = f"row {first.row}: " if first.row else ""
            raise DomainError.single(
                ErrorCode.INVALID_INPUT,
                f"This import failed on problems in its file (first: {where}{first.message})"
                " which running it again would meet the same way: fix them and upload the"
                " file again.",
                "id",
            )
    retried = await InvitationImport.filter(
        id=import_id, status=record.status, content__not_isnull=True
    ).update(status=ImportStatus.QUEUED, errors=[], finished_at=None, heartbeat_at=None)
    if not retried:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "The upload of this import is no longer kept: upload the file again.",
            "id",
        )
    # A job id not used before: the earlier runs' jobs may still be kept by the queue.
    outbox.enqueue(IMPORT_JOB, import_id, job_id=f"{import_job_id(import_id, record.runs)}:retry")
    return await get_import(import_id) or record
