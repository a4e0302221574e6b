"""Errors are values: a code from one enum, a message a person can act on, and where it applies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    # Input in general
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    # A part of the service (Redis) does not answer for now: try again after retryAfter.
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    # Accounts
    INVALID_EMAIL = "INVALID_EMAIL"
    # An address whose part before the @ is beyond ASCII, and the relay takes no SMTPUTF8.
    EMAIL_NOT_DELIVERABLE = "EMAIL_NOT_DELIVERABLE"
    ADDRESS_SUPPRESSED = "ADDRESS_SUPPRESSED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_CODE = "INVALID_CODE"
    EMAIL_NOT_CONFIRMED = "EMAIL_NOT_CONFIRMED"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    INVALID_RESET_TOKEN = "INVALID_RESET_TOKEN"
    INVALID_NAME = "INVALID_NAME"
    UNKNOWN_LOCALE = "UNKNOWN_LOCALE"
    # Platform data
    DUPLICATE_TITLE = "DUPLICATE_TITLE"
    INVALID_RULE = "INVALID_RULE"
    NOT_A_MANUAL_GROUP = "NOT_A_MANUAL_GROUP"
    UNKNOWN_USER = "UNKNOWN_USER"
    LAST_ADMIN = "LAST_ADMIN"
    UNKNOWN_GROUP = "UNKNOWN_GROUP"
    # A title that several groups share (in different languages).
    AMBIGUOUS_GROUP = "AMBIGUOUS_GROUP"
    UNKNOWN_PROJECT = "UNKNOWN_PROJECT"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    INVALID_FIELD_VALUE = "INVALID_FIELD_VALUE"
    REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
    FIELD_IN_USE = "FIELD_IN_USE"
    # Invitations
    NO_EMAILS = "NO_EMAILS"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    ALREADY_INVITED = "ALREADY_INVITED"
    SMART_GROUP_RULES_NOT_MET = "SMART_GROUP_RULES_NOT_MET"
    MESSAGE_TOO_LONG = "MESSAGE_TOO_LONG"
    TOO_MANY_INVITATIONS = "TOO_MANY_INVITATIONS"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_CHECK_FAILED = "TOKEN_CHECK_FAILED"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    # Excel imports
    UNPARSEABLE_FILE = "UNPARSEABLE_FILE"
    NOT_AN_XLSX_FILE = "NOT_AN_XLSX_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    MISSING_COLUMN = "MISSING_COLUMN"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    MALFORMED_ADMIN_VALUE = "MALFORMED_ADMIN_VALUE"
    MALFORMED_GROUPS_VALUE = "MALFORMED_GROUPS_VALUE"
    MALFORMED_FIELD_VALUE = "MALFORMED_FIELD_VALUE"
    EXAMPLE_ROW = "EXAMPLE_ROW"  # the template's example row, left in
    # Webhooks
    INVALID_URL = "INVALID_URL"
    INVALID_SECRET = "INVALID_SECRET"
    NO_EVENT_TYPES = "NO_EVENT_TYPES"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input. `field` names the input (or column), `position` the
    entry in a list (0-based), `row` the spreadsheet row (1-based, as Excel shows it)."""

    code: ErrorCode
    message: str
    field: str | None = None
    position: int | None = None
    row: int | None = None
    value: str | None = None


class DomainError(Exception):
    """Input the service refuses: carries the problems; nothing has been changed."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("a DomainError needs at least one problem")
        super().__init__(problems[0].message)
        self.problems: tuple[Problem, ...] = problems
        # False for a refusal that is no guess (a token that was valid a moment ago and was
        # just used by a parallel request): rate limits do not count it as a failed attempt.
        self.counts_as_failure = True

    def not_counted(self) -> DomainError:
        self.counts_as_failure = False
        return self

    @classmethod
    def single(
        cls,
        code: ErrorCode,
        message: str,
        field: str | None = None,
        *,
        value: str | None = None,
    ) -> DomainError:
        return cls(Problem(code=code, message=message, field=field, value=value))

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next one may succeed."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(
            Problem(
                code=ErrorCode.RATE_LIMITED,
                message=message or f"Too many attempts. Try again in {retry_after} seconds.",
            )
        )


class TemporarilyUnavailable(DomainError):
    """The service cannot check this attempt just now (its rate limits live in Redis, which does
    not answer): nothing was done, and `retry_after` seconds is a fair wait before trying again."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            Problem(
                code=ErrorCode.TEMPORARILY_UNAVAILABLE,
                message="The service is briefly unavailable, and nothing was changed."
                f" Try again in {retry_after} seconds.",
            )
        )
        # Nobody guessed anything: no rate limit counts it as a failed attempt.
        self.counts_as_failure = False


class PermissionDenied(Exception):
    """The person asking may not do this. Mapped to a GraphQL top-level error."""


class NotAuthenticated(PermissionDenied):
    """Nobody is signed in."""
