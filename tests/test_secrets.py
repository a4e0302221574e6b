"""Secrets stay secret: never in logs, job arguments, or Redis keys and values."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from domain.logs import quiet_talkative_loggers
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
