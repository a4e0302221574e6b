"""POST /mail/events/{mailgun,ses,postmark,dsn}: bounces and complaints reported after the
relay took a mail. Each endpoint answers 404 until its provider is set up (README, "Bounces
and complaints"), and believes nothing it cannot verify: Mailgun's signature, SNS's signature
and certificate address, Postmark's basic-auth credentials, the DSN intake's bearer token."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.invitations import feedback
from domain.mail.dsn import dsn_events
from domain.mail.events import DeliveryEvent
from domain.mail.providers import (
    CertificateSource,
    EventRejected,
    HttpsCertificates,
    MalformedEvent,
    mailgun_events,
    postmark_events,
    ses_events,
)
from domain.settings import Settings

log = logging.getLogger(__name__)


def _answer(status: int, **body: object) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _recorded(events: list[DeliveryEvent], source: str) -> Response:
    matched = await feedback.record_all(events)
    log.info("%s: %d events, %d matched", source, len(events), matched)
    return _answer(200, events=len(events), matched=matched)


def _secret_matches(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def routes(settings: Settings) -> list[Route]:
    async def mailgun(request: Request) -> Response:
        key = settings.mailgun_webhook_signing_key.get_secret_value()
        if not key:
            return _answer(404, error="not set up")
        try:
            events = mailgun_events(await request.body(), key)
        except EventRejected as error:
            return _answer(403, error=str(error))
        except MalformedEvent as error:
            return _answer(400, error=str(error))
        return await _recorded(events, "mailgun")

    async def ses(request: Request) -> Response:
        if not settings.ses_sns_topic_arns:
            return _answer(404, error="not set up")
        certificates: CertificateSource = getattr(
            request.app.state, "sns_certificates", None
        ) or _default_certificates(request)
        try:
            events, subscribe = await ses_events(
                await request.body(), topics=settings.ses_sns_topic_arns, certificates=certificates
            )
        except EventRejected as error:
            return _answer(403, error=str(error))
        except MalformedEvent as error:
            return _answer(400, error=str(error))
        if subscribe is not None:
            await certificates.confirm(subscribe)
            log.info("SNS subscription confirmed")
            return _answer(200, subscribed=True)
        return await _recorded(events, "ses")

    async def postmark(request: Request) -> Response:
        user = settings.postmark_webhook_user
        password = settings.postmark_webhook_password.get_secret_value()
        if not (user and password):
            return _answer(404, error="not set up")
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            given_user, _, given_password = (
                base64.b64decode(value, validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            given_user = given_password = ""
        if not (
            scheme.lower() == "basic"
            and _secret_matches(given_user, user)
            and _secret_matches(given_password, password)
        ):
            return Response(
                status_code=401, headers={"WWW-Authenticate": 'Basic realm="mail events"'}
            )
        try:
            events = postmark_events(await request.body())
        except MalformedEvent as error:
            return _answer(400, error=str(error))
        return await _recorded(events, "postmark")

    async def dsn(request: Request) -> Response:
        token = settings.dsn_intake_token.get_secret_value()
        if not token:
            return _answer(404, error="not set up")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _secret_matches(given, token):
            return _answer(401, error="a bearer token is required")
        events = dsn_events(
            await request.body(), envelope_recipient=request.headers.get("x-envelope-to")
        )
        return await _recorded(events, "dsn")

    return [
        Route("/mail/events/mailgun", mailgun, methods=["POST"]),
        Route("/mail/events/ses", ses, methods=["POST"]),
        Route("/mail/events/postmark", postmark, methods=["POST"]),
        Route("/mail/events/dsn", dsn, methods=["POST"]),
    ]


def _default_certificates(request: Request) -> CertificateSource:
    source = HttpsCertificates()
    request.app.state.sns_certificates = source
    return source
