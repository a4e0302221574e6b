"""While Redis does not answer, the attempts its rate limits guard are refused with a typed,
retryable TEMPORARILY_UNAVAILABLE (nothing done, a WARNING logged without personal data): the
limits fail closed, so nobody can guess passwords or codes uncounted during an outage. Once
Redis answers again, the same requests work, without a restart."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from playwright.async_api import expect

from api.app import create_app
from domain.invitations import tokens
from domain.models import Invitation, PasswordReset, Registration, Session, User
from domain.security.ratelimit import OUTAGE_RETRY_AFTER
from domain.settings import get_settings
from domain.users.service import create_admin
from tests.browser import browse, check_accessibility, serve
from tests.conftest import _free_port
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import ACCEPT, BY_TOKEN, PASSWORD, RESEND, create
from tests.test_console import ADMIN_EMAIL, error_text, sign_in

UNAVAILABLE = {"code": "TEMPORARILY_UNAVAILABLE", "retryAfter": OUTAGE_RETRY_AFTER}
ERRORS = "errors { code message field retryAfter }"
SIGN_UP = f"""
mutation($input: SignUpInput!) {{
  signUp(input: $input) {{ ok registration {{ token }} {ERRORS} }}
}}
"""
REQUEST_RESET = f"""
mutation($email: String!) {{ requestPasswordReset(email: $email) {{ ok {ERRORS} }} }}
"""
TOKEN_CHECK = f"""
query($token: String!) {{
  invitationByToken(token: $token) {{ valid invitation {{ email }} {ERRORS} }}
}}
"""
ACCEPT_TYPED = ACCEPT.replace("errors { code message field }", ERRORS)
RESEND_TYPED = RESEND.replace("errors { code message }", ERRORS)
SIGN_IN_TYPED = SIGN_IN.replace("errors { code message field }", ERRORS)


class Outage:
    """The API's Redis swapped for an address where nothing listens, and back."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.working: ArqRedis = app.state.redis
        self.down = ArqRedis.from_url(
            f"redis://127.0.0.1:{_free_port()}/13", socket_timeout=2, socket_connect_timeout=2
        )

    def begin(self) -> None:
        self.app.state.redis = self.down

    def end(self) -> None:
        self.app.state.redis = self.working


@pytest.fixture
async def outage(app: Any) -> AsyncIterator[Outage]:
    outage = Outage(app)
    yield outage
    outage.end()
    await outage.down.aclose()


def typed(errors: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(errors) == 1, errors
    (error,) = errors
    assert "Reference" not in error["message"]
    assert "nothing was changed" in error["message"]
    return {"code": error["code"], "retryAfter": error["retryAfter"]}


def warned_without(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """A WARNING says the limits were unavailable; no log line names the person."""
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("rate limits unavailable" in r.getMessage() for r in warnings), caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    for secret in secrets:
        assert secret.lower() not in caplog.text.lower()


async def test_signing_in_while_redis_is_down_is_refused_typed_and_works_once_it_is_back(
    gql: GraphQLClient, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await create_admin(
        email="ada@example.org", password=ADMIN_PASSWORD, first_name="Ada", last_name="Admin"
    )
    variables = {"email": "ada@example.org", "password": ADMIN_PASSWORD}
    outage.begin()
    with caplog.at_level(logging.INFO):
        refused = (await gql.post(SIGN_IN_TYPED, variables))["data"]["signIn"]
    assert refused["session"] is None
    assert typed(refused["errors"]) == UNAVAILABLE
    assert await Session.all().count() == 0
    warned_without(caplog, "ada@example.org", ADMIN_PASSWORD)

    outage.end()
    signed_in = (await gql(SIGN_IN_TYPED, variables))["signIn"]
    assert signed_in["errors"] == [] and signed_in["session"]["token"]


async def test_signing_up_and_asking_a_reset_while_redis_is_down_change_nothing(
    gql: GraphQLClient, outage: Outage, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    await create_admin(
        email="ada@example.org", password=ADMIN_PASSWORD, first_name="Ada", last_name="Admin"
    )
    sign_up = {"input": {"email": "noor@example.org", "password": "A long enough secret 77"}}
    outage.begin()
    with caplog.at_level(logging.INFO):
        signed_up = (await gql(SIGN_UP, sign_up))["signUp"]
        reset = (await gql(REQUEST_RESET, {"email": "ada@example.org"}))["requestPasswordReset"]
    assert signed_up["ok"] is False and signed_up["registration"] is None
    assert typed(signed_up["errors"]) == UNAVAILABLE
    assert reset["ok"] is False and typed(reset["errors"]) == UNAVAILABLE
    assert await Registration.all().count() == 0
    assert await PasswordReset.all().count() == 0
    assert await User.filter(email="noor@example.org").count() == 0
    warned_without(caplog, "noor@example.org", "ada@example.org")

    outage.end()
    assert (await gql(SIGN_UP, sign_up))["signUp"]["ok"] is True
    assert (await gql(REQUEST_RESET, {"email": "ada@example.org"}))["requestPasswordReset"]["ok"]


async def test_an_invitation_cannot_be_checked_or_accepted_while_redis_is_down(
    admin: GraphQLClient, gql: GraphQLClient, outage: Outage
) -> None:
    invitation = (await create(admin, ["lea@example.org"], sendEmail=False))["invitations"][0]
    token = invitation["token"]
    outage.begin()
    # A valid and an unknown token get the same answer: an outage tells a guesser nothing.
    for asked in (token, tokens.display(tokens.generate())):
        checked = (await gql(TOKEN_CHECK, {"token": asked}))["invitationByToken"]
        assert checked["valid"] is False and checked["invitation"] is None
        assert typed(checked["errors"]) == UNAVAILABLE
    values = {"token": token, "firstName": "Lea", "lastName": "Janssens", "password": PASSWORD}
    accepted = (await gql(ACCEPT_TYPED, {"input": values}))["acceptInvitation"]
    assert accepted["session"] is None and typed(accepted["errors"]) == UNAVAILABLE
    stored = await Invitation.get(id=int(invitation["id"]))
    assert stored.accepted_at is None
    assert await User.filter(email="lea@example.org").count() == 0

    outage.end()
    assert (await gql(BY_TOKEN, {"token": token}))["invitationByToken"]["valid"] is True
    accepted = (await gql(ACCEPT_TYPED, {"input": values}))["acceptInvitation"]
    assert accepted["errors"] == [] and accepted["session"]["user"]["email"] == "lea@example.org"


async def test_resending_while_redis_is_down_is_refused_and_sends_nothing(
    admin: GraphQLClient, outage: Outage, run_worker: Any, smtp_sink: SmtpSink
) -> None:
    invitation = (await create(admin, ["lea@example.org"]))["invitations"][0]
    await run_worker()
    assert len(smtp_sink.to("lea@example.org")) == 1
    before = await Invitation.get(id=int(invitation["id"]))
    outage.begin()
    resent = (await admin(RESEND_TYPED, {"id": invitation["id"]}))["resendInvitation"]
    assert resent["invitation"] is None and typed(resent["errors"]) == UNAVAILABLE
    after = await Invitation.get(id=int(invitation["id"]))
    assert (after.send_no, after.expires_at) == (before.send_no, before.expires_at)

    outage.end()
    resent = (await admin(RESEND_TYPED, {"id": invitation["id"]}))["resendInvitation"]
    assert resent["errors"] == []
    await run_worker()
    assert len(smtp_sink.to("lea@example.org")) == 2


@pytest.mark.browser
async def test_the_residents_pages_say_so_in_their_language(
    admin: GraphQLClient, browser: Any
) -> None:
    """/invite's code check and /account's sign-in show the page's own words, not a bug."""
    invitation = (await create(admin, ["lea@example.org"], sendEmail=False))["invitations"][0]
    app = create_app(get_settings(), manage_database=False)
    down = ArqRedis.from_url(f"redis://127.0.0.1:{_free_port()}/13", socket_timeout=2)
    app.state.redis = down
    try:
        async with serve(app) as url, browse(browser, url) as visit:
            page = visit.page
            await page.goto("/invite?lang=fr-BE")
            await page.fill("#code", invitation["token"])
            await page.press("#code", "Enter")
            await expect(page.locator("#code-error")).to_have_text(
                "Le service est momentanément indisponible et rien n'a été modifié."
                " Réessayez dans une minute."
            )
            await expect(page.locator("#step-unusable")).to_be_hidden()

            await page.goto("/account?lang=nl-BE")
            await page.fill("#email", "ada@example.org")
            await page.fill("#password", ADMIN_PASSWORD)
            await page.press("#password", "Enter")
            await expect(page.locator("#sign-in-status")).to_have_text(
                "De dienst is even niet beschikbaar en er is niets gewijzigd."
                " Probeer het over een minuutje opnieuw."
            )
            await check_accessibility(page)
    finally:
        await down.aclose()


async def test_the_consoles_sign_in_answers_503_not_a_wrong_password(
    admin: GraphQLClient, http: httpx.AsyncClient, outage: Outage
) -> None:
    outage.begin()
    refused = await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(OUTAGE_RETRY_AFTER)
    assert "set-cookie" not in refused.headers
    assert (
        error_text(refused.text) == "Something went wrong on our side. Wait a moment and try again."
    )
    outage.end()
    assert (await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303
