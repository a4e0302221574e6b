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
    # A registration's code that already confirmed its address (its mail's link, opened again).
    EMAIL_ALREADY_CONFIRMED = "EMAIL_ALREADY_CONFIRMED"
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
    EMAIL_MISMATCH = "EMAIL_MISMATCH"  # another address than the invited one
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


class Reason(StrEnum):
    """What exactly is wrong, within a code that covers several things: the same in every
    language, for a client that words problems itself (the console does, from its catalog).
    New reasons may come; a client that does not know one words the code."""

    # Titles (groups, registration fields and their options)
    TITLE_MISSING = "TITLE_MISSING"
    TITLE_TWICE = "TITLE_TWICE"  # the default language's title given twice, differently
    GROUP_TITLE_TAKEN = "GROUP_TITLE_TAKEN"
    # Registration fields
    KEY_FORMAT = "KEY_FORMAT"
    FIELD_KEY_TAKEN = "FIELD_KEY_TAKEN"
    OPTIONS_MISSING = "OPTIONS_MISSING"  # a select field without options
    OPTIONS_NOT_ALLOWED = "OPTIONS_NOT_ALLOWED"  # options for a field that is not a select
    OPTION_KEY_MISSING = "OPTION_KEY_MISSING"
    OPTION_TWICE = "OPTION_TWICE"  # two options with the same key or title
    OPTION_TESTED = "OPTION_TESTED"  # a removed option a smart group's rule tests
    FIELD_TESTED = "FIELD_TESTED"  # a deleted field a smart group's rule tests
    # Smart groups' rules
    RULES_MISSING = "RULES_MISSING"
    RULES_NOT_ALLOWED = "RULES_NOT_ALLOWED"  # rules for a manual group
    UNKNOWN_ATTRIBUTE = "UNKNOWN_ATTRIBUTE"
    UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
    OPERATOR_NOT_ALLOWED = "OPERATOR_NOT_ALLOWED"  # not one for this attribute or field type
    RULE_FIELD_UNKNOWN = "RULE_FIELD_UNKNOWN"
    VALUE_MISSING = "VALUE_MISSING"
    ONE_VALUE = "ONE_VALUE"  # a list given to an operator that takes one value
    NOT_A_ROLE = "NOT_A_ROLE"
    NOT_A_DOMAIN = "NOT_A_DOMAIN"
    NOT_A_LANGUAGE = "NOT_A_LANGUAGE"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_TRUE_OR_FALSE = "NOT_TRUE_OR_FALSE"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_AN_OPTION = "NOT_AN_OPTION"
    # Addresses
    MIXED_SCRIPTS = "MIXED_SCRIPTS"  # a domain label mixing alphabets: a look-alike address
    # Registrations (INVALID_CODE): a letter's, cancelled by the letter's code typed again
    LETTER_CODE_USED_AGAIN = "LETTER_CODE_USED_AGAIN"
    # Group members
    NO_ACCOUNT = "NO_ACCOUNT"  # an address with no confirmed account
    # Webhooks
    NOT_A_URL = "NOT_A_URL"
    URL_NOT_ABSOLUTE = "URL_NOT_ABSOLUTE"
    URL_CREDENTIALS = "URL_CREDENTIALS"
    URL_NOT_HTTPS = "URL_NOT_HTTPS"
    URL_NOT_PUBLIC = "URL_NOT_PUBLIC"
    URL_TOO_LONG = "URL_TOO_LONG"
    TEST_EVENT = "TEST_EVENT"  # webhook.test asked for as a subscription's event
    DESCRIPTION_TOO_LONG = "DESCRIPTION_TOO_LONG"
    SUBSCRIPTION_OFF = "SUBSCRIPTION_OFF"
    # Invitations picked on the list
    IDS_OR_FILTER = "IDS_OR_FILTER"
    NONE_PICKED = "NONE_PICKED"
    TOO_MANY_PICKED = "TOO_MANY_PICKED"
    # Excel imports (`details` name the column, the cell, the template's columns)
    NOT_A_COLUMN = "NOT_A_COLUMN"  # a header the template does not have
    NO_HEADER = "NO_HEADER"  # a column with values but no header
    COLUMN_TWICE = "COLUMN_TWICE"  # two columns with the same header
    FORMULA_NOT_SAVED = "FORMULA_NOT_SAVED"  # a formula whose result was never saved
    ERROR_VALUE = "ERROR_VALUE"  # a cell holding an error value such as #N/A
    OLD_OR_PROTECTED = "OLD_OR_PROTECTED"  # an .xls file, or a workbook with a password
    # Invitations
    RULE_NOT_MET = "RULE_NOT_MET"  # a smart group's rule, named in `details` (group, rule)
    MORE_PROBLEMS = "MORE_PROBLEMS"  # the problems past the reported ones (`details`: count)
    ENDS_WITH = "ENDS_WITH"  # an address followed by a stray character (`details`: character)
    NON_BREAKING_SPACE = "NON_BREAKING_SPACE"  # a non-breaking space inside an address


class ReasonedError(ValueError):
    """A ValueError that says which `Reason` it is, and the value it is about."""

    def __init__(self, reason: Reason, message: str, value: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.value = value


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input. `field` names the input (or column), `position` the
    entry in a list (0-based), `row` the spreadsheet row (1-based, as Excel shows it);
    `reason` says exactly what within the code, `groups` the smart groups it is about,
    `details` the named values a client's words for the reason fill in (the column, the
    cell, the template's columns, the rule...)."""

    code: ErrorCode
    message: str
    field: str | None = None
    position: int | None = None
    row: int | None = None
    value: str | None = None
    reason: Reason | None = None
    groups: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()


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
        reason: Reason | None = None,
        groups: tuple[str, ...] = (),
    ) -> DomainError:
        return cls(
            Problem(
                code=code, message=message, field=field, value=value, reason=reason, groups=groups
            )
        )

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
