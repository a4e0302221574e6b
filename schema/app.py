"""The schema: every query and mutation of the service."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.accounts.mutations import AccountMutations, ProfileMutations
from schema.accounts.queries import AccountQueries
from schema.extensions import EXTENSIONS, error_kind, is_expected, operation_name
from schema.imports.history import ImportHistoryQueries
from schema.imports.mutations import ImportMutations
from schema.imports.queries import ImportQueries
from schema.invitations.mutations import InvitationMutations
from schema.invitations.queries import InvitationQueries
from schema.mail.mutations import MailMutations
from schema.mail.queries import MailQueries
from schema.platform.mutations import PlatformMutations
from schema.platform.queries import PlatformQueries
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhookQueries

log = logging.getLogger("schema.errors")


@strawberry.type
class Query(
    AccountQueries,
    PlatformQueries,
    InvitationQueries,
    ImportQueries,
    ImportHistoryQueries,
    MailQueries,
    WebhookQueries,
):
    pass


@strawberry.type
class Mutation(
    AccountMutations,
    ProfileMutations,
    PlatformMutations,
    InvitationMutations,
    ImportMutations,
    MailMutations,
    WebhookMutations,
):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log what went wrong without what the client sent: graphql-core quotes a refused
        variable's whole value (passwords, tokens) and strawberry's default adds the
        document's lines (inline literals). Only the operation's name, the field path and the
        kind of error are logged; bugs are logged by MaskUnexpectedErrors with a reference."""
        operation = operation_name(execution_context)
        for error in errors:
            if is_expected(error):
                log.info(
                    "operation %s refused at %s: %s",
                    operation,
                    ".".join(map(str, error.path or [])) or "-",
                    error_kind(error),
                )


schema = Schema(
    query=Query,
    mutation=Mutation,
    extensions=EXTENSIONS,
    config=StrawberryConfig(auto_camel_case=True),
)
