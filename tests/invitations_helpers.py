"""GraphQL documents and small helpers shared by the invitation tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.clock import clock
from domain.invitations.writer import NewInvitation, insert_invitations
from domain.models import User
from domain.users.passwords import hash_password
from tests.fixtures import CaughtMail, GraphQLClient, SmtpSink

INVITATION_FIELDS = """
id email firstName lastName locale status sendEmail personalMessage
createdAt sentAt remindedAt expiresAt acceptedAt token link
delivery { state attempts lastError }
grants { admin projects { title } groups { title } registrationFieldValues { key value } }
inviter { email }
acceptedUser { email }
"""

CREATE = f"""
mutation($input: CreateInvitationsInput!) {{
  createInvitations(input: $input) {{
    invitedCount
    invitations {{ {INVITATION_FIELDS} }}
    existingUsersUpdated {{ email roles {{ kind }} groups {{ title }} }}
    errors {{ code message field position value }}
  }}
}}
"""

GENERATE = f"""
mutation($count: Int!, $options: InvitationOptionsInput) {{
  generateInvitationCodes(count: $count, options: $options) {{
    invitedCount
    invitations {{ {INVITATION_FIELDS} }}
    errors {{ code message field position value }}
  }}
}}
"""

BY_TOKEN = """
query($token: String!) {
  invitationByToken(token: $token) {
    valid
    invitation {
      email firstName lastName locale codeOnly hasAccount requiredFields { key title type }
    }
    errors { code message field }
  }
}
"""

ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    session { token user { id email emailConfirmed } }
    emailConfirmationSent
    registration { token email expiresAt }
    errors { code message field }
  }
}
"""

ME = """
{ me { email firstName lastName locale emailConfirmed
       roles { kind project { title } } groups { title } } }
"""

INVITATION = f"query($id: ID!) {{ invitation(id: $id) {{ {INVITATION_FIELDS} }} }}"

RESEND = f"""
mutation($id: ID!) {{
  resendInvitation(id: $id) {{ invitation {{ {INVITATION_FIELDS} }} errors {{ code message }} }}
}}
"""

DELETE = "mutation($id: ID!) { deleteInvitation(id: $id) { deletedId errors { code message } } }"

PASSWORD = "paper boats on the canal 19"
TOKEN_IN_LINK = re.compile(r"/invite#token=([0-9A-Z-]{17})")


def token_from(mail: CaughtMail) -> str:
    match = TOKEN_IN_LINK.search(mail.text)
    assert match, mail.text
    return match.group(1)


async def create(client: GraphQLClient, emails: Any, **options: Any) -> dict[str, Any]:
    data = await client(CREATE, {"input": {"emails": emails, **options}})
    result: dict[str, Any] = data["createInvitations"]
    return result


async def accept(
    gql: GraphQLClient, token: str, *, session: str | None = None, **extra: Any
) -> dict[str, Any]:
    """acceptInvitation with a new account's details (unless changed), signed in with
    `session` if given."""
    values = {"token": token, "firstName": "Lea", "lastName": "Janssens", "password": PASSWORD}
    values.update(extra)
    data = await gql(ACCEPT, {"input": values}, token=session)
    result: dict[str, Any] = data["acceptInvitation"]
    return result


async def accept_letter(
    gql: GraphQLClient, token: str, email: str, sink: SmtpSink, run_worker: Any
) -> dict[str, Any]:
    """A letter's code accepted as a resident does it: typed with an address, which is then
    confirmed with the mailed code (until then the letter stays pending). The confirmation."""
    from tests.test_accounts import CONFIRM, code_in

    taken = await accept(gql, token, email=email)
    assert taken["errors"] == [], taken
    await run_worker()
    mail = sink.to(email)[-1]
    data = await gql(
        CONFIRM, {"email": email, "code": code_in(mail)}, token=taken["registration"]["token"]
    )
    confirmed: dict[str, Any] = data["confirmEmail"]
    assert confirmed["errors"] == [], confirmed
    return confirmed


async def sample_platform(*, required: bool = False) -> dict[str, Any]:
    """A manual group, a smart group over a select registration field, a project and the field."""
    from domain.groups.service import create_group
    from domain.models import FieldType, GroupKind
    from domain.projects.service import create_project
    from domain.registration_fields.service import create_registration_field

    await create_registration_field(
        key="neighbourhood",
        title="Neighbourhood",
        type=FieldType.SELECT,
        options=[{"key": "north", "title": "North"}, {"key": "south", "title": "South"}],
        required=required,
    )
    rule = {"attribute": "field", "field_key": "neighbourhood", "operator": "is", "value": "north"}
    return {
        "manual": await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL),
        "smart": await create_group(title="Northerners", kind=GroupKind.SMART, rules=[rule]),
        "project": await create_project(title="Riverside park"),
    }


async def enqueue_sweep(redis: Any) -> None:
    await redis.enqueue_job("sweep")


def new_invitation(email: str, **changes: Any) -> NewInvitation:
    """A row for `store_invitations`: no names, English, no grants, no mail (unless changed)."""
    values: dict[str, Any] = {
        "email": email,
        "first_name": "",
        "last_name": "",
        "locale": "en",
        "personal_message": "",
        "is_admin": False,
        "registration_field_values": {},
        "send_email": False,
        "group_ids": [],
        "project_ids": [],
    }
    return NewInvitation(**(values | changes))


async def store_invitations(
    rows: Sequence[NewInvitation], *, import_id: int | None = None
) -> list[int]:
    """Written straight by the writer, as an import writes them; their ids."""
    now = await clock.now()
    async with in_transaction():
        return await insert_invitations(
            rows, inviter_id=None, import_id=import_id, now=now, expires_at=now + timedelta(days=30)
        )


async def registered(
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    locale: str = "en",
    password: str = PASSWORD,
) -> User:
    """An account made the usual way (its address confirmed), whose password is `password`."""
    return await User.create(
        email=email,
        first_name=first_name,
        last_name=last_name,
        locale=locale,
        password_hash=await hash_password(password),
        email_confirmed_at=await clock.now(),
    )
