"""Account mutations: sign up, confirm the email, sign in and out."""

from __future__ import annotations

import strawberry

from domain.users import service as users
from schema.accounts.types import (
    ConfirmEmailPayload,
    Session,
    SessionPayload,
    SignOutPayload,
    SignUpPayload,
    User,
)
from schema.boundary import perform
from schema.context import Info


@strawberry.input
class SignUpInput:
    email: str
    password: str
    first_name: str = ""
    last_name: str = ""
    locale: str | None = None


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Create an account; a confirmation code is mailed. The answer is the "
        "same whether or not the address already has an account."
    )
    async def sign_up(self, info: Info, input: SignUpInput) -> SignUpPayload:
        async def sign_up() -> None:
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, input.email):
                await users.sign_up(
                    email=input.email,
                    password=input.password,
                    first_name=input.first_name,
                    last_name=input.last_name,
                    locale=input.locale,
                )

        _, errors = await perform(info, sign_up())
        return SignUpPayload(ok=not errors, errors=errors)

    @strawberry.mutation(description="Mail a new confirmation code to an unconfirmed account.")
    async def request_email_confirmation(self, info: Info, email: str) -> ConfirmEmailPayload:
        async def request() -> None:
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, email):
                await users.request_email_confirmation(email)

        _, errors = await perform(info, request())
        return ConfirmEmailPayload(ok=not errors, errors=errors)

    @strawberry.mutation(description="Confirm an email address with the code mailed to it.")
    async def confirm_email(self, info: Info, email: str, code: str) -> ConfirmEmailPayload:
        async def confirm() -> None:
            async with info.context.limiter.confirm_attempt(info.context.client_ip, email):
                await users.confirm_email(email=email, code=code)

        _, errors = await perform(info, confirm())
        return ConfirmEmailPayload(ok=not errors, errors=errors)

    @strawberry.mutation(description="Open a session with an email and a password.")
    async def sign_in(self, info: Info, email: str, password: str) -> SessionPayload:
        async def sign_in() -> users.NewSession:
            async with info.context.limiter.sign_in_attempt(info.context.client_ip, email):
                return await users.sign_in(email=email, password=password)

        opened, errors = await perform(info, sign_in())
        return SessionPayload(session=session_of(opened), errors=errors)

    @strawberry.mutation(description="End the session whose token authenticates this request.")
    async def sign_out(self, info: Info) -> SignOutPayload:
        token = info.context.session_token
        if token:
            await users.sign_out(token)
        return SignOutPayload(ok=True)


def session_of(opened: users.NewSession | None) -> Session | None:
    if opened is None:
        return None
    return Session(
        token=opened.token, expires_at=opened.expires_at, user=User.from_model(opened.user)
    )
