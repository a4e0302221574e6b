"""Checking a batch of invitations: every entry against every rule, before anything is
written.

Used by `createInvitations` (typed emails), `generateInvitationCodes` (letters) and the Excel
import. All-or-nothing: any problem means nothing is written and every problem comes back with
the entry's position (or sheet row).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from domain.collector import collector_paused
from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.groups import service as groups_service
from domain.groups.rules import Facts, first_failing_rule
from domain.invitations.lookups import existing_users, known_projects, pending_invitation_emails
from domain.invitations.message import clean_personal_message, message_problem
from domain.letters.address import clean_postal_address, postal_address_problem
from domain.memo import OncePerValue
from domain.models import Group, GroupKind, RegistrationField, RoleKind, User
from domain.registration_fields.service import check_values
from domain.settings import get_settings
from domain.validation import (
    clean_locale,
    email_problem,
    name_problem,
    normalize_email,
    undeliverable_email_problem,
)

MAX_REPORTED_PROBLEMS = 1000


@dataclass(frozen=True, slots=True)
class InvitationOptions:
    """What the admin chose for the whole batch (the form's defaults)."""

    is_admin: bool = False
    project_ids: Sequence[int] = ()
    group_ids: Sequence[int] = ()
    registration_field_values: Mapping[str, Any] = field(default_factory=dict)
    locale: str | None = None
    personal_message: str = ""
    send_email: bool = True


@dataclass(slots=True)
class Invitee:
    """One entry. Fields left None take the batch's value; set ones override it (a row of
    an Excel file overrides the form the same way for every column)."""

    email: str = ""  # "" = a code-only invitation (letters)
    first_name: str = ""
    last_name: str = ""
    locale: str | None = None
    is_admin: bool | None = None
    group_ids: Sequence[int] | None = None
    typed_groups: Mapping[int, str] | None = None  # a sheet's groups as its cell writes them
    registration_field_values: Mapping[str, Any] = field(default_factory=dict)
    postal_address: str = ""  # as typed: lines separated by line breaks (letters)
    position: int | None = None  # 0-based, typed lists
    row: int | None = None  # 1-based sheet row, imports

    def problem(self, code: ErrorCode, message: str, field: str, value: str | None) -> Problem:
        return Problem(code, message, field, position=self.position, row=self.row, value=value)


@dataclass(slots=True)
class Planned:
    invitee: Invitee
    email: str
    locale: str
    is_admin: bool
    group_ids: list[int]
    field_values: dict[str, Any]
    existing_user: User | None = None
    email_invalid: bool = False
    postal_address: str = ""  # cleaned


@dataclass(slots=True)
class Plan:
    """A validated batch, ready to write."""

    options: InvitationOptions
    message: str
    project_ids: list[int]
    entries: list[Planned]


def _unknown(code: ErrorCode, kind: str, given: int) -> Problem:
    """A group or project id that names none (an id that is no number at all reads as -1:
    schema.ids.parse_id)."""
    if given > 0:
        message, value = f"There is no {kind} with id {given}.", str(given)
    else:
        message, value = f"That is not a {kind}'s id.", None
    field = "groupIds" if kind == "group" else "projectIds"
    return Problem(code, message, field, value=value)


async def _batch_problems(
    options: InvitationOptions,
    groups: Mapping[int, Group],
    projects: set[int],
    fields: Mapping[str, RegistrationField],
) -> tuple[list[Problem], str, dict[str, Any]]:
    settings = get_settings()
    problems: list[Problem] = []
    message_issue = message_problem(
        options.personal_message or "", settings.personal_message_max_length
    )
    if message_issue:
        problems.append(message_issue)
    if options.locale:
        try:
            clean_locale(options.locale)
        except DomainError as error:
            problems.extend(error.problems)
    for group_id in options.group_ids:
        if group_id not in groups:
            problems.append(_unknown(ErrorCode.UNKNOWN_GROUP, "group", group_id))
    for project_id in options.project_ids:
        if project_id not in projects:
            problems.append(_unknown(ErrorCode.UNKNOWN_PROJECT, "project", project_id))
    values, value_problems = check_values(options.registration_field_values, fields)
    problems.extend(value_problems)
    message = (
        ""
        if message_issue
        else clean_personal_message(options.personal_message, settings.personal_message_max_length)
    )
    return problems, message, values


async def check_options(options: InvitationOptions) -> None:
    """Refuse the batch's own choices (the form's defaults) before any entry is looked at: an
    import checks them when the file is uploaded."""
    groups = (
        {g.id: g for g in await Group.filter(id__in=list(options.group_ids))}
        if options.group_ids
        else {}
    )
    projects = await known_projects(options.project_ids)
    fields = await groups_service.registration_fields_by_key()
    problems, _, _ = await _batch_problems(options, groups, projects, fields)
    if problems:
        raise DomainError(*problems)


def cap_problems(problems: list[Problem], limit: int = MAX_REPORTED_PROBLEMS) -> list[Problem]:
    """The first `limit` problems, and one more saying how many were left out (its `details`:
    `count` of them, `shown` the listed ones, `total` all; see `problem_count`)."""
    if len(problems) <= limit:
        return problems
    extra = len(problems) - limit
    return [
        *problems[:limit],
        Problem(
            ErrorCode.INVALID_INPUT,
            f"... and {extra} more problems.",
            None,
            reason=Reason.MORE_PROBLEMS,
            details=(("count", str(extra)), ("shown", str(limit)), ("total", str(len(problems)))),
        ),
    ]


def problem_count(problems: Sequence[Problem]) -> int:
    """How many problems there were, those `cap_problems` left out included."""
    total = len(problems)
    for problem in problems:
        if problem.reason is Reason.MORE_PROBLEMS:
            total += int(dict(problem.details).get("count", "0")) - 1
    return total


async def plan_invitations(
    invitees: Sequence[Invitee],
    options: InvitationOptions,
    *,
    limit: int | None = None,
    report_limit: int | None = MAX_REPORTED_PROBLEMS,
) -> Plan:
    """Check every entry against every rule; raise a DomainError listing all problems (the
    first `report_limit` of them; None: all, for a caller that merges them with its own)."""
    check = await BatchCheck.start(invitees, options, limit=limit)
    planned = await check.all_of(invitees)
    check.raise_problems(report_limit)
    return Plan(
        options=options,
        message=check.message,
        project_ids=list(options.project_ids),
        entries=planned,
    )


class BatchCheck:
    """The rules of plan_invitations, for a batch checked part by part: an import checks one
    part while the database stores the one before. `entries` checks entries on their own and
    against each other; `against_database` checks them against the accounts and invitations
    already there; `raise_problems` reports everything found, in row order."""

    def __init__(
        self,
        options: InvitationOptions,
        groups: Mapping[int, Group],
        fields: Mapping[str, RegistrationField],
        problems: list[Problem],
        message: str,
        batch_values: dict[str, Any],
    ) -> None:
        settings = get_settings()
        self.options = options
        self.groups = groups
        self.message = message
        self.batch_values = batch_values
        self.problems = problems  # the entries' own and the batch's
        self.pending_problems: list[Problem] = []
        self.smart_problems: list[Problem] = []
        self.default_locale = settings.default_locale
        if options.locale and not any(p.code is ErrorCode.UNKNOWN_LOCALE for p in problems):
            self.default_locale = clean_locale(options.locale)
        self.platform_locale = settings.default_locale
        self.locale_list = ", ".join(settings.locales)
        # Hoisted out of the loop: an import checks 100,000 entries and more.
        self.locales = {locale.lower(): locale for locale in settings.locales}
        for locale in settings.locales:
            self.locales.setdefault(locale.split("-", 1)[0].lower(), locale)
        self.default_group_ids = list(options.group_ids)  # shared by entries: never mutated
        self.checked_values = _ValueChecks(fields)
        self.positions_by_email: dict[str, list[Invitee]] = defaultdict(list)
        smart = {g.id: g for g in groups.values() if g.kind is GroupKind.SMART}
        self.smart_groups = smart
        self.rules = {group_id: groups_service.rules_of(g) for group_id, g in smart.items()}

    @classmethod
    async def start(
        cls, invitees: Sequence[Invitee], options: InvitationOptions, *, limit: int | None = None
    ) -> BatchCheck:
        """The batch's own checks (its size, the form's choices); the groups the entries name
        are loaded once."""
        settings = get_settings()
        limit = limit or settings.max_invitations_per_request
        if not invitees:
            raise DomainError.single(
                ErrorCode.NO_EMAILS, "Give at least one email address.", "emails"
            )
        if len(invitees) > limit:
            raise DomainError.single(
                ErrorCode.TOO_MANY_INVITATIONS,
                f"{len(invitees)} invitations at once is more than the limit of {limit}: split"
                " them, or import them from an Excel file.",
                "emails",
            )
        wanted = set(options.group_ids) | {g for i in invitees for g in (i.group_ids or ())}
        return await cls.for_groups(options, wanted)

    @classmethod
    async def for_groups(cls, options: InvitationOptions, group_ids: Iterable[int]) -> BatchCheck:
        """The form's own checks, for a batch whose entries name only these groups."""
        wanted = set(group_ids)
        groups = await Group.filter(id__in=wanted) if wanted else []
        fields = await groups_service.registration_fields_by_key()
        return await cls.for_platform(options, groups, fields)

    @classmethod
    async def for_platform(
        cls,
        options: InvitationOptions,
        groups: Iterable[Group],
        fields: Mapping[str, RegistrationField],
    ) -> BatchCheck:
        """The form's own checks, against groups and registration fields loaded already: an
        import loads all of them once, since its rows name groups by title."""
        by_id = {g.id: g for g in groups}
        projects = await known_projects(options.project_ids)
        problems, message, batch_values = await _batch_problems(options, by_id, projects, fields)
        return cls(options, by_id, fields, problems, message, batch_values)

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.pending_problems or self.smart_problems)

    async def all_of(
        self, invitees: Sequence[Invitee], progress: Callable[[int], Awaitable[None]] | None = None
    ) -> list[Planned]:
        """Every check on the whole batch at once (`progress` hears of every 5,000 entries)."""
        planned = []
        for start in range(0, len(invitees), 5000):
            if progress is not None:
                await progress(start)
            with collector_paused():  # no await inside
                planned.extend(self.entries(invitees[start : start + 5000]))
        await self.against_database(planned)
        return planned

    def entries(self, invitees: Iterable[Invitee]) -> list[Planned]:
        """Check entries on their own; their duplicates are reported by raise_problems."""
        return [self._entry(invitee) for invitee in invitees]

    def _entry(self, invitee: Invitee) -> Planned:
        problems = self.problems
        email = ""
        raw_email = invitee.email.strip()
        if raw_email:
            normalized = normalize_email(invitee.email)
            if normalized is None:
                problems.append(
                    email_problem(invitee.email, field="emails", position=invitee.position)
                    if invitee.row is None
                    else email_problem(invitee.email, field="email", row=invitee.row)
                )
            else:
                email = normalized
                self.positions_by_email[email].append(invitee)
                if not email.isascii():
                    undeliverable = undeliverable_email_problem(
                        email,
                        field="emails" if invitee.row is None else "email",
                        position=invitee.position,
                        row=invitee.row,
                    )
                    if undeliverable is not None:
                        problems.append(undeliverable)
        if invitee.first_name:
            issue = name_problem(invitee.first_name, "first_name")
            if issue:
                problems.append(
                    invitee.problem(issue.code, issue.message, "first_name", invitee.first_name)
                )
        if invitee.last_name:
            issue = name_problem(invitee.last_name, "last_name")
            if issue:
                problems.append(
                    invitee.problem(issue.code, issue.message, "last_name", invitee.last_name)
                )
        locale = self.default_locale
        if invitee.locale:
            wanted = invitee.locale.strip()
            # As clean_locale: blank is the platform's default, '_' reads as '-', any case; a
            # language alone is its first platform locale ('nl' is nl-BE), as i18n.negotiate.
            found = self.locales.get(wanted.replace("_", "-").lower()) if wanted else None
            if found is not None:
                locale = found
            elif not wanted:
                locale = self.platform_locale
            else:
                problems.append(
                    invitee.problem(
                        ErrorCode.UNKNOWN_LOCALE,
                        f"{invitee.locale!r} is not one of the platform's languages:"
                        f" {self.locale_list}.",
                        "language",
                        invitee.locale,
                    )
                )
        if invitee.group_ids is None:
            group_ids = self.default_group_ids
        else:
            group_ids = list(invitee.group_ids)
            for group_id in group_ids:
                if group_id not in self.groups:
                    problems.append(
                        invitee.problem(
                            ErrorCode.UNKNOWN_GROUP,
                            f"There is no group with id {group_id}.",
                            "groups",
                            str(group_id),
                        )
                    )
        field_values = self.batch_values  # shared by entries without values of their own
        if invitee.registration_field_values:
            row_values, value_problems = self.checked_values(invitee.registration_field_values)
            if value_problems:
                problems.extend(
                    Problem(
                        p.code,
                        p.message,
                        p.field,
                        position=invitee.position,
                        row=invitee.row,
                        value=p.value,
                    )
                    for p in value_problems
                )
            if row_values:
                # checked_values returns a new dict: the batch's values only need merging in.
                field_values = (
                    {**self.batch_values, **row_values} if self.batch_values else row_values
                )
        address = ""
        if invitee.postal_address:
            address = clean_postal_address(invitee.postal_address)
            address_issue = postal_address_problem(address)
            if address_issue:
                problems.append(
                    invitee.problem(
                        ErrorCode.INVALID_ADDRESS, address_issue, "address", invitee.postal_address
                    )
                )
        return Planned(
            invitee=invitee,
            email=email,
            locale=locale,
            is_admin=self.options.is_admin if invitee.is_admin is None else invitee.is_admin,
            group_ids=group_ids,
            field_values=field_values,
            email_invalid=bool(raw_email) and not email,
            postal_address=address,
        )

    async def against_database(self, planned: Sequence[Planned]) -> None:
        """Both checks below, for entries written after them."""
        await self.against_accounts(planned)
        await self.against_pending(planned)

    async def against_pending(
        self, planned: Sequence[Planned], *, except_import: int | None = None
    ) -> None:
        """Pending invitations to these addresses (not counting those of `except_import`: an
        import checks its rows after storing them, in its transaction)."""
        emails = [p.email for p in planned if p.email and p.existing_user is None]
        pending = await pending_invitation_emails(emails, except_import=except_import)
        for entry in planned if pending else ():
            if entry.email in pending and entry.existing_user is None:
                self.pending_problems.append(
                    entry.invitee.problem(
                        ErrorCode.ALREADY_INVITED,
                        f"{entry.email} already has a pending invitation: resend that one instead.",
                        "email" if entry.invitee.row is not None else "emails",
                        entry.invitee.email,
                    )
                )

    async def against_accounts(self, planned: Sequence[Planned]) -> None:
        """Accounts of these addresses (their entries get `existing_user`), and the smart
        groups' rules, which an account's own facts feed."""
        options, problems = self.options, self.smart_problems
        emails = [p.email for p in planned if p.email]
        existing = await existing_users(emails)
        roles_of_existing = await groups_service.facts_of_users(list(existing.values()))
        for entry in planned if existing else ():
            entry.existing_user = existing.get(entry.email)
        smart_groups, rules = self.smart_groups, self.rules
        for entry in planned if smart_groups else ():
            if entry.email_invalid:
                # Its address is reported already; rules on its domain would only add noise.
                continue
            smart = [smart_groups[g] for g in entry.group_ids if g in smart_groups]
            if not smart:
                continue
            facts = _facts(entry, options, roles_of_existing)
            for group in smart:
                failing = first_failing_rule(rules[group.id], group.match_all, facts)
                if failing is not None:
                    who = entry.email or "a code-only invitation"
                    invitee = entry.invitee
                    typed = (invitee.typed_groups or {}).get(group.id)
                    problems.append(
                        Problem(
                            ErrorCode.SMART_GROUP_RULES_NOT_MET,
                            f"{group.title!r} is a smart group: {who} does not meet its rule "
                            f"'{failing.describe()}'. Give the registration field values the"
                            " rule tests, or leave the group out.",
                            "groups" if invitee.row is not None else "groupIds",
                            position=invitee.position,
                            row=invitee.row,
                            # A sheet's row: the group as its groups cell writes it.
                            value=(typed or group.title)
                            if invitee.row is not None
                            else invitee.email or group.title,
                            reason=Reason.RULE_NOT_MET,
                            groups=(group.title,),
                            details=(
                                ("group", typed or group.title),
                                ("rule", failing.describe()),
                                *failing.parts(),
                            ),
                        )
                    )

    def raise_problems(self, report_limit: int | None = MAX_REPORTED_PROBLEMS) -> None:
        """Raise a DomainError with every problem found, duplicates included, in row order."""
        problems = [
            *self.problems,
            *self._duplicates(),
            *self.pending_problems,
            *self.smart_problems,
        ]
        if not problems:
            return
        problems.sort(key=lambda p: (p.row or 0, p.position if p.position is not None else -1))
        if report_limit is not None:
            problems = cap_problems(problems, report_limit)
        raise DomainError(*problems)

    def _duplicates(self) -> list[Problem]:
        problems = []
        for email, same in self.positions_by_email.items():
            if len(same) > 1:
                where = ", ".join(
                    f"row {i.row}" if i.row is not None else f"position {i.position}" for i in same
                )
                for invitee in same:
                    problems.append(
                        invitee.problem(
                            ErrorCode.DUPLICATE_EMAIL,
                            f"{email} appears more than once ({where}).",
                            "email" if invitee.row is not None else "emails",
                            invitee.email,
                        )
                    )
        return problems


class _ValueChecks:
    """check_values for one entry's values, each (field, value) checked once."""

    def __init__(self, fields: Mapping[str, RegistrationField]) -> None:
        self.fields = fields
        self.per_field: dict[str, OncePerValue[tuple[dict[str, Any], list[Problem]]]] = {}

    def __call__(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        clean: dict[str, Any] = {}
        problems: list[Problem] = []
        for key, raw in values.items():
            check = self.per_field.get(key)
            if check is None:
                check = self.per_field[key] = OncePerValue(partial(self._check, key))
            checked, issues = check(raw)
            clean.update(checked)
            problems.extend(issues)
        return clean, problems

    def _check(self, key: str, raw: Any) -> tuple[dict[str, Any], list[Problem]]:
        return check_values({key: raw}, self.fields)


def _facts(entry: Planned, options: InvitationOptions, known: Mapping[int, Facts]) -> Facts:
    roles = set()
    if entry.is_admin:
        roles.add(RoleKind.ADMIN.value)
    if options.project_ids:
        roles.add(RoleKind.PROJECT_MANAGER.value)
    user = entry.existing_user
    if user is not None:
        mine = known[user.id]
        return Facts(
            email=user.email,
            locale=user.locale,
            roles=frozenset(roles | set(mine.roles)),
            fields={**entry.field_values, **mine.fields},
        )
    return Facts(
        email=entry.email, locale=entry.locale, roles=frozenset(roles), fields=entry.field_values
    )
