"""The schema: every query and mutation of the service."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.extensions import EXTENSIONS
from schema.imports.history import ImportHistoryQueries
from schema.imports.mutations import ImportMutations
from schema.imports.queries import ImportQueries
from schema.invitations.mutations import InvitationMutations
from schema.invitations.queries import InvitationQueries
from schema.mail.queries import MailQueries
from schema.platform.mutations import PlatformMutations
from schema.platform.queries import PlatformQueries


@strawberry.type
class Query(
    AccountQueries,
    PlatformQueries,
    InvitationQueries,
    ImportQueries,
    ImportHistoryQueries,
    MailQueries,
):
    pass


@strawberry.type
class Mutation(AccountMutations, PlatformMutations, InvitationMutations, ImportMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=EXTENSIONS,
    config=StrawberryConfig(auto_camel_case=True),
)
