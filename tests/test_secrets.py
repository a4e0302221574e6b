"""Secrets stay secret: never in logs, job arguments, or Redis keys and values."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from domain.logs import FORMAT, PrivateFormatter, quiet_talkative_loggers
from tests.fixtures import SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    BY_TOKEN,
    ME,
    PASSWORD,
    accept,
    create,
    enqueue_sweep,
    token_from,
)

INVITEE = "secret.keeper@example.org"


async def redis_dump(redis: Any) -> list[bytes]:
    """Every key and every value in the test's Redis db, as raw bytes."""
    dump: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        dump.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            dump.append(await redis.get(key))
        elif kind == "zset":
            dump.extend(member for member, _ in await redis.zrange(key, 0, -1, withscores=True))
        elif kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                dump.extend((field, value))
        elif kind == "list":
            dump.extend(await redis.lrange(key, 0, -1))
        elif kind == "set":
            dump.extend(await redis.smembers(key))
    return dump


def job_arguments(dump: list[bytes]) -> list[Any]:
    """The arguments of every arq job (queued or kept as a result) found in the dump."""
    found = []
    for value in dump:
        try:
            data = pickle.loads(value)
        except Exception:
            continue
        if isinstance(data, dict) and "a" in data:
            found.append(data["a"])
    return found


async def test_the_whole_flow_at_debug_leaves_no_token_password_or_session_behind(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    redis: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_talkative_loggers()  # what the service's logging set-up does

    [invitation] = (await create(admin, INVITEE, personalMessage="Welcome!"))["invitations"]
    await run_worker()
    token = token_from(smtp_sink.to(INVITEE)[0])
    assert (await gql(BY_TOKEN, {"token": token}))["invitationByToken"]["valid"] is True
    await enqueue_sweep(redis)
    accepted = await accept(gql, token)
    session = accepted["session"]["token"]
    assert (await gql(ME, token=session))["me"]["email"] == INVITEE
    signed_in = await gql(SIGN_IN, {"email": INVITEE, "password": PASSWORD})
    second_session = signed_in["signIn"]["session"]["token"]
    await gql(BY_TOKEN, {"token": "ABCDE-FGHJK-MNPQR"})  # a failed attempt, counted in Redis

    dump = await redis_dump(redis)
    assert any(key.startswith(b"rl:token:") for key in dump), "expected rate-limit counters"
    assert job_arguments(dump), "expected arq jobs in Redis"
    for arguments in job_arguments(dump):
        assert all(isinstance(value, int) for value in arguments), arguments

    logs = "\n".join(record.getMessage() for record in caplog.records)
    logs += "\n".join(str(record.args) for record in caplog.records)
    assert caplog.records, "expected some logging at DEBUG"
    secrets = {
        "token": token,
        "token, canonical": token.replace("-", ""),
        "password": PASSWORD,
        "session token": session,
        "second session token": second_session,
        "invitee address": INVITEE,
    }
    haystack = [logs.encode(), *dump]
    for name, secret in secrets.items():
        for value in haystack:
            assert secret.encode() not in value, f"the {name} leaked"
    assert invitation["id"]


async def test_failing_requests_leave_no_password_token_code_or_address_in_the_log(
    admin: GraphQLClient,
    gql: GraphQLClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused variables (graphql-core quotes their whole value), inline literals in a document
    with an error, and a bug whose message quotes the input: the log, as the service writes
    it (domain.logs.PrivateFormatter), holds none of what the client sent."""
    caplog.set_level(logging.DEBUG)
    quiet_talkative_loggers()
    secret = {
        "password": "Sup3r secret passphrase of 2026",
        "token": "QRSTV-WXYZ0-12345",
        "code": "493817",
        "address": "very.private@example.org",
        "last name": "Vandersecretlaan",
    }
    accept = (
        "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { errors { code } } }"
    )
    # A required field missing (the token): graphql-core's message quotes the whole input.
    missing = await gql.post(
        accept,
        {
            "i": {
                "password": secret["password"],
                "firstName": "Zelda",
                "lastName": secret["last name"],
            }
        },
    )
    # A field the input does not have, and a value of the wrong type.
    unknown = await gql.post(
        accept,
        {
            "i": {
                "token": secret["token"],
                "password": secret["password"],
                "firstName": "Z",
                "lastName": secret["last name"],
                "secretField": secret["code"],
            }
        },
    )
    wrong_type = await gql.post(
        "mutation($c: String!, $e: String!) { confirmEmail(email: $e, code: $c) { ok } }",
        {"c": 493817, "e": secret["address"]},
    )
    # Inline literals in a document that does not validate (its lines are quoted by default).
    inline = await gql.post(
        f'mutation Leaky {{ signIn(email: "{secret["address"]}",'
        f' password: "{secret["password"]}") {{ nothing }} }}'
    )
    for body in (missing, unknown, wrong_type, inline):
        assert body["errors"] and not body.get("data"), body

    # A bug whose exception quotes what it was given: masked for the client, and logged with
    # its reference and frames but without its message.
    from domain.users import registrations

    async def broken(**values: Any) -> None:
        raise RuntimeError(f"could not store {values['email']} {values['last_name']}")

    monkeypatch.setattr(registrations, "start", broken)
    masked = await gql.post(
        "mutation($i: SignUpInput!) { signUp(input: $i) { ok } }",
        {
            "i": {
                "email": secret["address"],
                "password": secret["password"],
                "lastName": secret["last name"],
            }
        },
    )
    [error] = masked["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    reference = error["extensions"]["reference"]

    formatter = PrivateFormatter(FORMAT)
    log = "\n".join(formatter.format(record) for record in caplog.records)
    assert reference in log and "RuntimeError (message withheld)" in log
    assert "operation Leaky refused at -: invalid document or variables" in log
    for name, value in secret.items():
        assert value not in log, f"the {name} reached the log"
