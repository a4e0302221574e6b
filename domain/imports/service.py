"""Importing invitations from an Excel file: keep the upload, then check and write it in a job.

The upload is stored in the database (workers may run on other hosts) and the job only gets the
import's id. The job checks every row before it writes anything; the invitations, the import's
counts and its `done` status are committed together, so a job that dies halfway leaves nothing
behind and simply runs again. Sends are enqueued after that commit (the sweep recovers them if
the enqueue is lost).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import unicodedata
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.errors import DomainError, ErrorCode, Problem
from domain.groups.service import registration_fields_by_key
from domain.imports.rows import Rows, read_rows
from domain.imports.template import template_workbook
from domain.imports.xlsx import Limits, check_upload, read_first_sheet
from domain.invitations.service import (
    InvitationOptions,
    cap_problems,
    check_options,
    plan_invitations,
    write_plan,
)
from domain.models import Group, ImportStatus, InvitationImport, RegistrationField, User
from domain.security.ratelimit import Limiter
from domain.settings import get_settings

log = logging.getLogger(__name__)

IMPORT_JOB = "import_invitations"
# A running import not finished after this long was lost with its worker: report it failed.
STALLED_AFTER = timedelta(minutes=20)
# A queued import not started after this long lost its job (Redis): enqueue it again.
REQUEUE_AFTER = timedelta(minutes=1)
_FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)


def import_job_id(import_id: int) -> str:
    return f"import:{import_id}"


async def start_import(
    *, admin: User, file_name: str, content: bytes, options: InvitationOptions
) -> InvitationImport:
    """Keep the file and the form's defaults, and ask a worker to import it. Refuses at once a
    file too large or plainly not a workbook, and defaults that are wrong in themselves."""
    check_upload(content, Limits.from_settings(get_settings()))
    await check_options(options)
    record = await InvitationImport.create(
        created_by=admin,
        file_name=_clean_file_name(file_name),
        file_size=len(content),
        file_sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        defaults=stored_options(options),
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


async def run_import(import_id: int, *, limiter: Limiter | None = None) -> None:
    """The job's work. Idempotent: a finished import is left alone; an unfinished one (its
    worker died) starts over, since nothing of it was committed. With a limiter, the
    invitations count towards the uploader's daily allowance, as typed-in ones do."""
    record = await InvitationImport.get_or_none(id=import_id)
    if record is None or record.status in _FINISHED:
        return
    await InvitationImport.filter(id=import_id).update(
        status=ImportStatus.RUNNING, started_at=await clock.now(), rows_processed=0
    )
    try:
        await _import(record, limiter)
    except DomainError as error:
        await _finish_failed(import_id, list(error.problems))
        log.info("import %d refused: %d problems", import_id, len(error.problems))


async def _import(record: InvitationImport, limiter: Limiter | None) -> None:
    settings = get_settings()
    limits = Limits.from_settings(settings)
    options = options_from(record.defaults)
    fields = await registration_fields_by_key()
    groups = await Group.all()
    started = time.monotonic()
    # The upload is held only while it is read: the model keeps no reference to it.
    content, record.content = record.content or b"", None
    rows = await asyncio.to_thread(_read, content, limits, fields, groups)
    del content
    read = time.monotonic()
    await InvitationImport.filter(id=record.id).update(
        rows_total=rows.rows_total, skipped_count=rows.skipped
    )
    if not rows.invitees:
        raise DomainError(
            *(
                rows.problems
                or [
                    Problem(
                        ErrorCode.NO_EMAILS,
                        "The sheet has no rows to import below its header.",
                        "file",
                    )
                ]
            )
        )
    scale = rows.rows_total / len(rows.invitees)

    async def progress(checked: int) -> None:
        await InvitationImport.filter(id=record.id).update(rows_processed=int(checked * scale))

    try:
        plan = await plan_invitations(
            rows.invitees, options, limit=limits.max_rows, progress=progress, report_limit=None
        )
    except DomainError as error:
        raise DomainError(*_merged(rows.problems, list(error.problems))) from None
    if rows.problems:
        raise DomainError(*_merged(rows.problems, []))
    checked = time.monotonic()
    admin_id: int | None = record.created_by_id  # type: ignore[attr-defined]
    if limiter is not None and admin_id is not None:
        new = sum(1 for entry in plan.entries if entry.existing_user is None)
        await limiter.invitations_created(admin_id, new)
    async with in_transaction():
        result = await write_plan(plan, inviter_id=admin_id, import_id=record.id)
        await InvitationImport.filter(id=record.id).update(
            status=ImportStatus.DONE,
            rows_processed=rows.rows_total,
            invited_count=result.invited_count,
            existing_users_updated_count=len(result.existing_users),
            skipped_count=rows.skipped,
            errors=[],
            content=None,
            finished_at=await clock.now(),
        )
    log.info(
        "import %d done: %d rows read in %.1f s, checked in %.1f s, written in %.1f s",
        record.id,
        rows.rows_total,
        read - started,
        checked - read,
        time.monotonic() - checked,
    )


def _read(
    content: bytes, limits: Limits, fields: dict[str, RegistrationField], groups: list[Group]
) -> Rows:
    return read_rows(read_first_sheet(content, limits), fields=fields, groups=groups)


def _merged(ours: list[Problem], theirs: list[Problem]) -> list[Problem]:
    """One list in sheet order (the form's own problems first), at most the usual number."""
    problems = sorted([*ours, *theirs], key=lambda p: p.row or 0)
    return cap_problems(problems)


async def _finish_failed(import_id: int, problems: list[Problem]) -> None:
    # Never over a finished import: its invitations may be committed (a flush failing after).
    await InvitationImport.filter(id=import_id, status__not_in=_FINISHED).update(
        status=ImportStatus.FAILED,
        errors=[_stored(problem) for problem in cap_problems(problems)],
        content=None,
        finished_at=await clock.now(),
    )


def _stored(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code.value,
        "message": problem.message,
        "field": problem.field,
        "row": problem.row,
        "value": problem.value,
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
        result.append(
            Problem(
                code,
                str(item.get("message") or ""),
                item.get("field"),
                row=item.get("row"),
                value=item.get("value"),
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


async def recover_imports() -> int:
    """For the workers' cron: enqueue again imports whose job was lost before it started, and
    fail those whose worker died mid-way and never came back. Returns how many were touched."""
    now = await clock.now()
    touched = 0
    for import_id in await InvitationImport.filter(
        status=ImportStatus.QUEUED, created_at__lt=now - REQUEUE_AFTER
    ).values_list("id", flat=True):
        outbox.enqueue(IMPORT_JOB, int(import_id), job_id=import_job_id(int(import_id)))  # type: ignore[call-overload]
        touched += 1
    for import_id in await InvitationImport.filter(
        status=ImportStatus.RUNNING, started_at__lt=now - STALLED_AFTER
    ).values_list("id", flat=True):
        await record_crash(int(import_id))  # type: ignore[call-overload]
        touched += 1
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


async def template() -> bytes:
    """The template for this platform: its languages, groups and registration fields."""
    groups = await Group.all().order_by("title")
    fields = await RegistrationField.all().order_by("id")
    return template_workbook(locales=get_settings().locales, groups=groups, fields=fields)
