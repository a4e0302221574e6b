"""Errors a client can act on, returned inside payloads (never as top-level GraphQL errors)."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError, ErrorCode, Problem

strawberry.enum(
    ErrorCode, name="ErrorCode", description="What is wrong, for a client to branch on."
)


@strawberry.type(
    description="A named value a problem's reason is about (the column, the cell, the rule...)."
)
class ProblemDetail:
    name: str
    value: str


@strawberry.type(description="One problem with the input. Nothing was changed.")
class UserError:
    code: ErrorCode
    message: str = strawberry.field(description="For people: says what to do.")
    field: str | None = strawberry.field(
        default=None, description="The input field (or spreadsheet column) concerned."
    )
    position: int | None = strawberry.field(
        default=None, description="The 0-based position of the entry in a list input."
    )
    row: int | None = strawberry.field(
        default=None, description="The spreadsheet row, numbered as the spreadsheet shows it."
    )
    value: str | None = strawberry.field(default=None, description="The offending value.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="For RATE_LIMITED and TEMPORARILY_UNAVAILABLE: seconds to wait.",
    )
    reason: str | None = strawberry.field(
        default=None,
        description="What exactly is wrong, where a code covers several things (e.g."
        " OPTION_TWICE for INVALID_INPUT on a field's options): the same in every language, for"
        " clients that word problems themselves. New reasons may come: word the code for one"
        " you do not know.",
    )
    groups: list[str] = strawberry.field(
        default_factory=list,
        description="The smart groups the problem is about (FIELD_IN_USE: those whose rules"
        " test the field), by title.",
    )
    details: list[ProblemDetail] = strawberry.field(
        default_factory=list,
        description="The values a reason's words name, by name: `column` (a letter), `columns`"
        " (the template's, comma-separated), `first` (the other column of COLUMN_TWICE),"
        " `cell` (e.g. C2), `group` and `rule` (RULE_NOT_MET, the rule in the default"
        " language), `character` (ENDS_WITH), `count` (MORE_PROBLEMS: the problems not"
        " listed), `shown` and `total`.",
    )

    @classmethod
    def from_problem(cls, problem: Problem, retry_after: int | None = None) -> UserError:
        return cls(
            code=problem.code,
            message=problem.message,
            field=problem.field,
            position=problem.position,
            row=problem.row,
            value=problem.value,
            retry_after=retry_after,
            reason=problem.reason.value if problem.reason else None,
            groups=list(problem.groups),
            details=[ProblemDetail(name=name, value=value) for name, value in problem.details],
        )


def user_errors(error: DomainError) -> list[UserError]:
    retry_after = getattr(error, "retry_after", None)
    return [UserError.from_problem(problem, retry_after) for problem in error.problems]
