"""Account mutations: sign up, confirm the address, sign in and out, reset a password."""

from __future__ import annotations

import strawberry

from domain.users import registrations, resets
from domain.users import service as users
from schema.accounts.types import (
    ConfirmEmailPayload,
    PendingRegistration,
    RegistrationPayload,
    RequestPasswordResetPayload,
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
        description="Register: a code is mailed to the address, and the answer holds a pending "
        "registration whose token confirms it (confirmEmail). The same answer whether or not "
        "the address already has an account: its owner's mail says so."
    )
    async def sign_up(self, info: Info, input: SignUpInput) -> SignUpPayload:
        async def sign_up() -> registrations.PendingRegistration:
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, input.email):
                return await users.sign_up(
                    email=input.email,
                    password=input.password,
                    first_name=input.first_name,
                    last_name=input.last_name,
                    locale=input.locale,
                )

        pending, errors = await perform(info, sign_up())
        return SignUpPayload(
            ok=not errors, registration=PendingRegistration.from_domain(pending), errors=errors
        )

    @strawberry.mutation(
        description="Mail a new code for a pending registration: the one whose token "
        "authenticates the request, or else the newest on the address. The same answer for "
        "every address."
    )
    async def request_email_confirmation(self, info: Info, email: str) -> ConfirmEmailPayload:
        async def request() -> None:
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, email):
                await registrations.request_code(email=email, token=info.context.session_token)

        _, errors = await perform(info, request())
        return ConfirmEmailPayload(ok=not errors, session=None, errors=errors)

    @strawberry.mutation(
        description="Confirm an address with the code mailed to it, and sign in. Send the "
        "pending registration's token (`Authorization: Bearer`), or, from another device, the "
        "password chosen when registering (or the password of the account the address has)."
    )
    async def confirm_email(
        self, info: Info, email: str, code: str, password: str | None = None
    ) -> ConfirmEmailPayload:
        async def confirm() -> users.NewSession:
            async with info.context.limiter.confirm_attempt(info.context.client_ip, email):
                return await registrations.confirm(
                    email=email, code=code, token=info.context.session_token, password=password
                )

        opened, errors = await perform(info, confirm())
        return ConfirmEmailPayload(ok=not errors, session=session_of(opened), errors=errors)

    @strawberry.mutation(
        description="Correct the address of a pending registration (a mistyped one): a new code "
        "goes to the new address. Send the registration's token, or the address and the "
        "password it was made with (`currentEmail`, `password`)."
    )
    async def change_registration_email(
        self,
        info: Info,
        email: str,
        current_email: str | None = None,
        password: str | None = None,
    ) -> RegistrationPayload:
        async def change() -> registrations.PendingRegistration:
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, email):
                return await registrations.correct_address(
                    new_email=email,
                    token=info.context.session_token,
                    email=current_email,
                    password=password,
                )

        pending, errors = await perform(info, change())
        return RegistrationPayload(
            registration=PendingRegistration.from_domain(pending), errors=errors
        )

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

    @strawberry.mutation(
        description="Forgot the password: a single-use link to choose a new one is mailed to "
        "the address if it has an account (or an unconfirmed registration, which the link then "
        "turns into the account). The same answer, and the same work, for every address."
    )
    async def request_password_reset(self, info: Info, email: str) -> RequestPasswordResetPayload:
        async def request() -> None:
            async with info.context.limiter.password_reset_request(info.context.client_ip, email):
                await resets.request_reset(email)

        _, errors = await perform(info, request())
        return RequestPasswordResetPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        description="Choose a new password with the token of the mailed link: every earlier "
        "session ends, and the answer is a new one."
    )
    async def reset_password(self, info: Info, token: str, password: str) -> SessionPayload:
        async def reset() -> users.NewSession:
            async with info.context.limiter.password_reset_attempt(info.context.client_ip):
                return await resets.reset_password(token=token, password=password)

        opened, errors = await perform(info, reset())
        return SessionPayload(session=session_of(opened), errors=errors)


def session_of(opened: users.NewSession | None) -> Session | None:
    if opened is None:
        return None
    return Session(
        token=opened.token, expires_at=opened.expires_at, user=User.from_model(opened.user)
    )
