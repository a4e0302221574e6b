"""What admins do with existing invitations: resend and delete, one at a time or many at once.

Many at once means the ticked rows of a page (ids) or "all that match" the list's filter, a
million rows if need be. The work is done in SQL, a batch of rows per statement and per
transaction, never a round trip per invitation: each batch is read in id order (locked on
PostgreSQL), sorted into the rows to change and the rows to skip with the reason, and changed
by one UPDATE or DELETE. A batch is all or nothing; the whole is not: if it stops half-way,
running it again finishes the rest (resent and deleted rows no longer qualify).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain import db, outbox
from domain.clock import clock
from domain.errors import DomainError, ErrorCode, Reason
from domain.invitations import feedback
from domain.invitations.jobs import SEND_BATCH, send_batch_job_id, send_job_id
from domain.invitations.listing import InvitationFilter, filtered
from domain.models import (
    DeliveryState,
    Invitation,
    InvitationStatus,
    Registration,
    User,
    WebhookEventType,
)
from domain.settings import get_settings
from domain.webhooks import events as webhook_events

# Ids an admin may tick at once; "all that match" takes the filter instead.
MAX_IDS = 1000
# Rows read and changed per statement (and per transaction).
BATCH = 5000


def _not_found() -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, "There is no such invitation.", "id")


async def resend_invitation(invitation_id: int) -> Invitation:
    """A new mail with the same token; expiry back to 30 days from now, reminder cycle reset.
    A code-only invitation (no address) only gets its expiry reset: its letter keeps working."""
    settings = get_settings()
    async with in_transaction():
        invitation = await Invitation.filter(id=invitation_id).select_for_update().first()
        if invitation is None:
            raise _not_found()
        if invitation.accepted_at is not None or invitation.status is InvitationStatus.ACCEPTED:
            raise DomainError.single(
                ErrorCode.INVITATION_ACCEPTED, "This invitation was accepted already.", "id"
            )
        now = await clock.now()
        if invitation.email:
            await _refuse_taken_address(invitation, now)
        if invitation.email and await feedback.is_suppressed(invitation.email):
            raise DomainError.single(
                ErrorCode.ADDRESS_SUPPRESSED,
                f"{invitation.email} bounced for good or reported our mail as spam, so it is"
                " sent nothing: lift its suppression first (liftMailSuppression).",
                "id",
            )
        invitation.expires_at = now + timedelta(days=settings.invitation_expiry_days)
        invitation.status = InvitationStatus.PENDING
        invitation.reminded_at = None
        invitation.send_no += 1
        invitation.send_attempts = 0
        invitation.last_error = ""
        if invitation.email:
            invitation.send_email = True
            invitation.delivery_state = DeliveryState.QUEUED
            invitation.send_due_at = now
        await invitation.save(
            update_fields=[
                "expires_at",
                "status",
                "reminded_at",
                "send_no",
                "send_attempts",
                "last_error",
                "send_email",
                "delivery_state",
                "send_due_at",
            ]
        )
    if invitation.email:
        outbox.enqueue(
            "send_invitation",
            invitation.id,
            invitation.send_no,
            job_id=send_job_id(invitation.id, invitation.send_no),
        )
    return invitation


async def _refuse_taken_address(invitation: Invitation, now: datetime) -> None:
    """As when inviting: an address that has an account gets no invitation mail (it is given
    the access at once instead), and an address invited already is reported, not invited twice
    (two pending invitations would give it two codes with different grants)."""
    email = invitation.email
    if await User.filter(email=email, email_confirmed_at__isnull=False).exists():
        raise DomainError.single(
            ErrorCode.ALREADY_REGISTERED,
            f"{email} has an account now, so it is mailed no invitation: invite the address"
            " again to give that account the access at once, then delete this invitation.",
            "id",
            value=email,
        )
    other = (
        await Invitation.filter(email=email, status=InvitationStatus.PENDING, expires_at__gt=now)
        .exclude(id=invitation.id)
        .order_by("-id")
        .first()
    )
    if other is not None:
        raise DomainError.single(
            ErrorCode.ALREADY_INVITED,
            f"{email} already has another pending invitation (id {other.id}): resend that one,"
            " or delete it first.",
            "id",
            value=email,
        )


async def delete_invitation(invitation_id: int) -> None:
    """Pending and expired invitations only: the token stops working and its grants go with
    it. Accepted invitations stay as the record of how someone got their access."""
    async with in_transaction():
        invitation = await Invitation.filter(id=invitation_id).select_for_update().first()
        if invitation is None:
            raise _not_found()
        if invitation.accepted_at is None and invitation.status is not InvitationStatus.ACCEPTED:
            # A registration its code was typed with ends too: the letter is withdrawn.
            await Registration.filter(invitation_id=invitation_id).delete()
        deleted = await Invitation.filter(
            id=invitation_id, accepted_at=None, status__not=InvitationStatus.ACCEPTED
        ).delete()
        if not deleted:
            raise DomainError.single(
                ErrorCode.INVITATION_ACCEPTED,
                "An accepted invitation stays as the record; remove the person's roles or"
                " groups instead.",
                "id",
            )
        await webhook_events.record(WebhookEventType.INVITATION_DELETED, [invitation_id])


# ---------------------------------------------------------------------------------------------
# Many at once


class SkipReason(StrEnum):
    NOT_FOUND = "not_found"  # ids only: deleted already, or never there
    ACCEPTED = "accepted"  # accepted invitations stay as the record
    # resends: pending and mailed (its mail not failed), or code-only: nothing to send
    NOT_FAILED_OR_EXPIRED = "not_failed_or_expired"
    SUPPRESSED = "suppressed"  # resends: the address bounced for good or complained
    ALREADY_INVITED = "already_invited"  # resends: another invitation to the address is pending
    ALREADY_REGISTERED = "already_registered"  # resends: the address has an account now


SKIP_MESSAGES = {
    "resend": {
        SkipReason.NOT_FOUND: "There is no such invitation (deleted already?).",
        SkipReason.ACCEPTED: "Accepted already: there is nothing to resend.",
        SkipReason.NOT_FAILED_OR_EXPIRED: "Pending and mailed already, its mail not failed (or"
        " code only: nothing to mail): a bulk resend mails only the invitations not mailed yet,"
        " failed, bounced and expired (resend this one on its own to mail it again).",
        SkipReason.SUPPRESSED: "Its address bounced for good or reported our mail as spam, so it"
        " is sent nothing: lift its suppression first (liftMailSuppression).",
        SkipReason.ALREADY_INVITED: "Another invitation to its address is pending (or is resent"
        " by this action): resend that one, or delete it first.",
        SkipReason.ALREADY_REGISTERED: "Its address has an account now, so it is mailed no"
        " invitation: invite the address again to give that account the access at once, then"
        " delete this invitation.",
    },
    "delete": {
        SkipReason.NOT_FOUND: "There is no such invitation (deleted already?).",
        SkipReason.ACCEPTED: "Accepted invitations stay as the record of how someone got their"
        " access: remove the person's roles or groups instead.",
    },
}


@dataclass(frozen=True, slots=True)
class Selection:
    """The invitations an admin picked: by id (ticked rows) or by the list's filter."""

    ids: tuple[int, ...] | None = None
    filter: InvitationFilter | None = None

    @classmethod
    def of(cls, ids: Sequence[int] | None, filter: InvitationFilter | None) -> Selection:
        if (ids is None) == (filter is None):
            raise DomainError.single(
                ErrorCode.INVALID_INPUT,
                "Give either the ids of the invitations or a filter (all that match it), not both."
                if ids is not None
                else "Give the ids of the invitations, or a filter (all that match it).",
                "ids" if ids is not None else "filter",
                reason=Reason.IDS_OR_FILTER,
            )
        if ids is not None:
            unique = tuple(dict.fromkeys(ids))
            if not unique:
                raise DomainError.single(
                    ErrorCode.INVALID_INPUT,
                    "Pick at least one invitation.",
                    "ids",
                    reason=Reason.NONE_PICKED,
                )
            if len(unique) > MAX_IDS:
                raise DomainError.single(
                    ErrorCode.INVALID_INPUT,
                    f"Pick at most {MAX_IDS:,} invitations by id; for more, use a filter (all"
                    " that match it).",
                    "ids",
                    value=str(MAX_IDS),
                    reason=Reason.TOO_MANY_PICKED,
                )
            return cls(ids=unique)
        return cls(filter=filter)


@dataclass(slots=True)
class BulkResult:
    """What a bulk action did: how many rows it found, changed and skipped (and why); with
    ids, the outcome of each (`skipped_ids`: the ids skipped and why; the rest were done)."""

    matched: int = 0
    done: int = 0
    mailed: int = 0  # resends: invitations that get a mail (code-only ones only a new expiry)
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    skipped_ids: dict[int, SkipReason] = field(default_factory=dict)


class _Sql:
    """A statement's parameters, in the connection's placeholder style."""

    def __init__(self, postgres: bool, params: list[Any] | None = None) -> None:
        self.postgres = postgres
        self.params = params if params is not None else []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"

    def ids(self, ids: list[int], column: str = "i.id") -> str:
        """`column` among `ids`, passed as one parameter: an array on PostgreSQL, JSON on
        SQLite."""
        if self.postgres:
            return f"{column} = ANY({self.param(ids)}::int[])"
        return f"{column} IN (SELECT value FROM json_each({self.param(json.dumps(ids))}))"  # noqa: S608


async def _where(selection: Selection) -> tuple[str, _Sql]:
    """The selection as a WHERE clause over `invitations i`, and its parameters."""
    query = await filtered(selection.filter or InvitationFilter())
    sql = _Sql(query.postgres, query.params)
    if selection.ids is not None:
        return sql.ids(list(selection.ids)), sql
    return query.where(), sql


_ACCEPTED = "(i.accepted_at IS NOT NULL OR i.status = 'accepted')"


def _due_for_resend(now: str) -> str:
    """Invitations with an address never mailed (created without their mail), failed and
    bounced mails, and expired invitations (marked so, or past their expiry). A pending
    code-only invitation has nothing to be mailed."""
    return (
        "(i.delivery_state IN ('failed', 'bounced') OR i.status = 'expired'"
        f" OR i.expires_at <= {now} OR (i.delivery_state = 'not_sent' AND i.email <> ''))"
    )


def _has_account(sql: _Sql) -> str:
    """The address has an account (a proven one, as domain.invitations.lookups finds them)."""
    # Addresses are stored in lower case; the index is on lower(users.email), in the
    # database's collation (invitations.email is "C" on PostgreSQL).
    email = 'i.email COLLATE "default"' if sql.postgres else "i.email"
    return (
        "(i.email <> '' AND EXISTS (SELECT 1 FROM users u WHERE lower(u.email) ="  # noqa: S608
        f" {email} AND u.email_confirmed_at IS NOT NULL))"
    )


def _other_pending(now: str) -> str:
    """Another invitation to the address is pending, as creating invitations counts them."""
    return (
        "(i.email <> '' AND EXISTS (SELECT 1 FROM invitations o WHERE o.email = i.email"  # noqa: S608
        f" AND o.id <> i.id AND o.status = 'pending' AND o.expires_at > {now}))"
    )


# An address that bounced for good or complained is sent nothing (domain.invitations.feedback).
_SUPPRESSED = "(i.email <> '' AND i.email IN (SELECT s.email FROM mail_suppressions s))"


# Why a row is skipped, as an SQL expression over `invitations i` ('' to change it, or a
# SkipReason), written with the statement's parameters.
SkipReasonSql = Callable[[_Sql], str]
# Changes one batch: (the transaction's connection, a fresh _Sql, the ids to change) -> the
# rows changed. Its WHERE checks again that each row still qualifies.
Change = Callable[[BaseDBAsyncClient, _Sql, list[int]], Awaitable[list[dict[str, Any]]]]


async def _in_batches(
    selection: Selection,
    skip_reason: SkipReasonSql,
    change: Change,
    *,
    one_per_address: bool = False,
) -> tuple[BulkResult, list[dict[str, Any]]]:
    """Read the selection a batch at a time in id order, skip what `skip_reason` says, and
    `change` the rest. Only the rows changed are locked (by their UPDATE or DELETE, which
    checks them again): a row someone else changed in between is read again for its reason.
    `one_per_address`: of the rows to change with the same address, the first only (the
    others are ALREADY_INVITED; a later batch sees the first changed)."""
    result = BulkResult()
    changed_rows: list[dict[str, Any]] = []
    clause, sql = await _where(selection)
    reason = skip_reason(sql)
    after = sql.param(0)
    after_index = len(sql.params) - 1
    email = ", i.email AS email" if one_per_address else ""
    query = (
        f"SELECT i.id AS id, {reason} AS skip{email} FROM invitations i"  # noqa: S608
        f" WHERE ({clause}) AND i.id > {after} ORDER BY i.id LIMIT {sql.param(BATCH)}"
    )
    last = 0
    while True:
        sql.params[after_index] = last
        async with in_transaction() as connection:
            rows = await connection.execute_query_dict(query, sql.params)
            if not rows:
                break
            last = int(rows[-1]["id"])
            if one_per_address:
                _first_per_address(rows)
            wanted = [int(row["id"]) for row in rows if not row["skip"]]
            changed = await change(connection, _Sql(sql.postgres), wanted) if wanted else []
            skipped = {int(row["id"]): SkipReason(row["skip"]) for row in rows if row["skip"]}
            done_ids = {int(row["id"]) for row in changed}
            moved = [i for i in wanted if i not in done_ids]
            if moved:  # accepted, resent or deleted meanwhile
                skipped.update(await _reasons_now(connection, sql.postgres, skip_reason, moved))
        result.matched += len(rows)
        result.done += len(changed)
        changed_rows.extend(changed)
        result.skipped.update(skipped.values())
        if selection.ids is not None:
            result.skipped_ids.update(skipped)
        if len(rows) < BATCH:
            break
    if selection.ids is not None:
        seen = {int(row["id"]) for row in changed_rows} | set(result.skipped_ids)
        for invitation_id in selection.ids:
            if invitation_id not in seen:
                result.skipped_ids[invitation_id] = SkipReason.NOT_FOUND
                result.skipped[SkipReason.NOT_FOUND] += 1
    return result, changed_rows


def _first_per_address(rows: list[dict[str, Any]]) -> None:
    """Skip, as ALREADY_INVITED, the rows to change whose address an earlier one has."""
    addresses: set[str] = set()
    for row in rows:
        if row["skip"] or not row["email"]:
            continue
        if row["email"] in addresses:
            row["skip"] = SkipReason.ALREADY_INVITED.value
        addresses.add(row["email"])


async def _reasons_now(
    connection: BaseDBAsyncClient, postgres: bool, skip_reason: SkipReasonSql, ids: list[int]
) -> dict[int, SkipReason]:
    sql = _Sql(postgres)
    reason = skip_reason(sql)
    rows = await connection.execute_query_dict(
        f"SELECT i.id AS id, {reason} AS skip FROM invitations i WHERE {sql.ids(ids)}",  # noqa: S608
        sql.params,
    )
    # Still qualifying now would mean a change raced ours and lost: say it did not qualify.
    found = {int(row["id"]): row["skip"] or SkipReason.NOT_FAILED_OR_EXPIRED.value for row in rows}
    return {i: SkipReason(found.get(i, SkipReason.NOT_FOUND.value)) for i in ids}


async def resend_invitations(
    selection: Selection, *, allow_mails: Callable[[int], Awaitable[None]] | None = None
) -> BulkResult:
    """Send the invitations of the selection not mailed yet, and resend the failed, bounced
    and expired ones, as `resend_invitation` does one (same token, 30 days from now, reminder
    cycle reset): never to a suppressed address, an address that has an account, or one with
    another pending invitation (one per address). Skip the others and say why. `allow_mails`
    hears how many mails this will send before anything changes (and may refuse: the admin's
    daily allowance)."""
    now = await clock.now()
    if allow_mails is not None:
        clause, counting = await _where(selection)
        counted = await db.connection().execute_query_dict(
            f"SELECT COUNT(*) AS n FROM invitations i WHERE ({clause})"  # noqa: S608
            f" AND NOT {_ACCEPTED} AND {_due_for_resend(counting.param(now))}"
            f" AND i.email <> '' AND NOT {_SUPPRESSED} AND NOT {_has_account(counting)}"
            f" AND NOT {_other_pending(counting.param(now))}",
            counting.params,
        )
        await allow_mails(int(counted[0]["n"]))
    expires_at = now + timedelta(days=get_settings().invitation_expiry_days)

    def skip(sql: _Sql) -> str:
        return (
            f"CASE WHEN {_ACCEPTED} THEN '{SkipReason.ACCEPTED.value}'"
            f" WHEN NOT {_due_for_resend(sql.param(now))}"
            f" THEN '{SkipReason.NOT_FAILED_OR_EXPIRED.value}'"
            f" WHEN {_has_account(sql)} THEN '{SkipReason.ALREADY_REGISTERED.value}'"
            f" WHEN {_other_pending(sql.param(now))} THEN '{SkipReason.ALREADY_INVITED.value}'"
            f" WHEN {_SUPPRESSED} THEN '{SkipReason.SUPPRESSED.value}' ELSE '' END"
        )

    async def resend(
        connection: BaseDBAsyncClient, sql: _Sql, ids: list[int]
    ) -> list[dict[str, Any]]:
        at, expires = sql.param(now), sql.param(expires_at)
        # A code-only invitation (no address) gets only its new expiry: no mail to send.
        return await connection.execute_query_dict(
            f"UPDATE invitations AS i SET expires_at = {expires}, status = 'pending',"  # noqa: S608
            " reminded_at = NULL, send_no = send_no + 1, send_attempts = 0, last_error = '',"
            " send_email = CASE WHEN email <> '' THEN TRUE ELSE send_email END,"
            " delivery_state = CASE WHEN email <> '' THEN 'queued' ELSE delivery_state END,"
            f" send_due_at = CASE WHEN email <> '' THEN {at} ELSE send_due_at END"
            f" WHERE {sql.ids(ids)} AND NOT {_ACCEPTED} AND {_due_for_resend(at)}"
            f" AND NOT {_SUPPRESSED} AND NOT {_has_account(sql)} AND NOT {_other_pending(at)}"
            # Unqualified: SQLite's RETURNING does not know the alias.
            " RETURNING id, send_no, CASE WHEN email <> '' THEN 1 ELSE 0 END AS mailed",
            sql.params,
        )

    result, changed = await _in_batches(selection, skip, resend, one_per_address=True)
    by_send: dict[int, list[int]] = defaultdict(list)
    for row in changed:
        if row["mailed"]:
            by_send[int(row["send_no"])].append(int(row["id"]))
    for send_no, ids in by_send.items():
        ids.sort()
        result.mailed += len(ids)
        # One job per hundred mails, as new invitations are sent; each (invitation, send)
        # is in one batch only, so the batch's first id and size name its job.
        for start in range(0, len(ids), SEND_BATCH):
            batch = ids[start : start + SEND_BATCH]
            outbox.enqueue(
                "send_invitations", send_no, *batch, job_id=send_batch_job_id(batch, send_no)
            )
    return result


async def delete_invitations(selection: Selection) -> BulkResult:
    """Delete the pending and expired invitations of the selection, as `delete_invitation`
    does one: their tokens stop working and their grants go with them. Accepted ones are
    skipped (they stay as the record)."""

    def skip(sql: _Sql) -> str:
        return f"CASE WHEN {_ACCEPTED} THEN '{SkipReason.ACCEPTED.value}' ELSE '' END"

    async def delete(
        connection: BaseDBAsyncClient, sql: _Sql, ids: list[int]
    ) -> list[dict[str, Any]]:
        # The grants go with them: a statement trigger (PostgreSQL, migration 0008) or the
        # foreign keys' cascade (SQLite) for groups, the foreign key for projects. A row
        # being accepted is left alone: the acceptance holds its lock, then this checks it.
        # Registrations their codes were typed with end too: the letters are withdrawn.
        withdrawn = (
            await Invitation.filter(id__in=ids, accepted_at=None)
            .exclude(status=InvitationStatus.ACCEPTED)
            .using_db(connection)
            .values_list("id", flat=True)
        )
        if withdrawn:
            await (
                Registration.filter(invitation_id__in=list(withdrawn)).using_db(connection).delete()
            )
        deleted = await connection.execute_query_dict(
            f"DELETE FROM invitations AS i WHERE {sql.ids(ids)} AND NOT {_ACCEPTED}"  # noqa: S608
            " RETURNING id",
            sql.params,
        )
        await webhook_events.record(
            WebhookEventType.INVITATION_DELETED,
            [int(row["id"]) for row in deleted],
            connection=connection,
        )
        return deleted

    result, _ = await _in_batches(selection, skip, delete)
    return result
