"""Account mutations: sign up, confirm the address, sign in and out, reset a password."""

from __future__ import annotations

import strawberry

from domain.models import User as UserModel
from domain.users import profile, registrations, resets
from domain.users import service as users
from schema.accounts.types import (
    ConfirmEmailPayload,
    OkPayload,
    PendingRegistration,
    ProfilePayload,
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
from schema.field_values import FieldValueInput, field_values
from schema.permissions import IsAuthenticated


@strawberry.input
class SignUpInput:
    email: str
    password: str
    first_name: str = ""
    last_name: str = ""
    locale: str | None = None


@strawberry.input(description="What to change; a part left out stays as it is.")
class ProfileInput:
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    registration_field_values: list[FieldValueInput] | None = strawberry.field(
        default=None,
        description="The fields to change; a blank value clears an optional field.",
    )


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
            # Counted against the address the code goes to: the token's registration's.
            to = await registrations.code_address(email=email, token=info.context.session_token)
            async with info.context.limiter.sign_up_attempt(info.context.client_ip, to):
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


@strawberry.type
class ProfileMutations:
    """A signed-in person's own account (the /account page, or any client)."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Change your names, language or registration field values; smart groups "
        "follow the new values.",
    )
    async def update_profile(self, info: Info, input: ProfileInput) -> ProfilePayload:
        user = await signed_in(info)
        values = (
            field_values(input.registration_field_values)
            if input.registration_field_values is not None
            else None
        )
        updated, errors = await perform(
            info,
            profile.update_profile(
                user,
                first_name=input.first_name,
                last_name=input.last_name,
                locale=input.locale,
                field_values=values,
            ),
        )
        return ProfilePayload(user=User.from_model(updated) if updated else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Choose a new password, giving the current one: your other sessions end.",
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> OkPayload:
        user = await signed_in(info)

        async def change() -> None:
            async with info.context.limiter.sign_in_attempt(info.context.client_ip, user.email):
                await profile.change_password(
                    user,
                    current_password=current_password,
                    new_password=new_password,
                    session_token=info.context.session_token,
                )

        _, errors = await perform(info, change())
        return OkPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Change your address, giving your password: a code goes to the new "
        "address, and the address changes when it comes back (confirmEmailChange).",
    )
    async def change_email(self, info: Info, email: str, password: str) -> OkPayload:
        user = await signed_in(info)

        async def change() -> None:
            limiter, client = info.context.limiter, info.context.client_ip
            # Wrong passwords count as sign-in failures; accepted changes, which each mail
            # the new address a code, count as sign-ups do and against its codes a day.
            async with (
                limiter.sign_in_attempt(client, user.email),
                limiter.email_change_request(client, user.email, email),
                limiter.code_mail_attempt(email),
            ):
                await profile.request_email_change(user, new_email=email, password=password)

        _, errors = await perform(info, change())
        return OkPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Confirm the new address with the code mailed there: every earlier session "
        "ends, and the answer is a new one.",
    )
    async def confirm_email_change(self, info: Info, code: str) -> SessionPayload:
        user = await signed_in(info)

        async def confirm() -> users.NewSession:
            async with info.context.limiter.confirm_attempt(info.context.client_ip, user.email):
                return await profile.confirm_email_change(user, code=code)

        opened, errors = await perform(info, confirm())
        return SessionPayload(session=session_of(opened), errors=errors)


async def signed_in(info: Info) -> UserModel:
    viewer = await info.context.viewer()
    assert viewer is not None  # IsAuthenticated ran first
    return viewer


def session_of(opened: users.NewSession | None) -> Session | None:
    if opened is None:
        return None
    return Session(
        token=opened.token, expires_at=opened.expires_at, user=User.from_model(opened.user)
    )
