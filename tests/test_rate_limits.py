"""Brute force and spam: token guessing, sign-in, sign-up, resends, invitations per day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.clock import clock
from domain.invitations import tokens
from domain.settings import get_settings
from tests.fixtures import SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import BY_TOKEN, PASSWORD, RESEND, accept, create
from tests.test_invitations import platform
from tests.test_profile import resident

CHECK = """query($token: String!) {
  invitationByToken(token: $token) { valid errors { code retryAfter } }
}"""


@pytest.fixture(autouse=True)
def fresh_windows() -> None:
    """Start every test at the start of a UTC day, so no limit's window (a minute to a day)
    ends in the middle of a test and resets its count."""
    now = clock.local_now()
    clock.advance(
        timedelta(days=1) - (now - now.replace(hour=0, minute=0, second=0, microsecond=0))
    )


def wrong_code() -> str:
    """A well-formed code (right check symbol) that belongs to no invitation."""
    return tokens.display(tokens.generate())


def client_from(app: Any, address: str) -> GraphQLClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return GraphQLClient(httpx.AsyncClient(transport=transport, base_url="http://testserver"))


async def code_result(client: GraphQLClient, code: str) -> dict[str, Any]:
    data = await client(CHECK, {"token": code})
    result: dict[str, Any] = data["invitationByToken"]
    return result


async def test_a_burst_of_wrong_codes_from_one_address_ends_in_rate_limited(
    admin: GraphQLClient, app: Any
) -> None:
    [invitation] = (await create(admin, "target@example.org", sendEmail=False))["invitations"]
    attacker = client_from(app, "192.0.2.10")
    codes = [(await code_result(attacker, wrong_code()))["errors"][0]["code"] for _ in range(12)]
    assert codes[:10] == ["INVALID_TOKEN"] * 10
    assert codes[10:] == ["RATE_LIMITED"] * 2
    limited = await code_result(attacker, invitation["token"])
    assert limited["errors"][0]["code"] == "RATE_LIMITED"
    assert 0 < limited["errors"][0]["retryAfter"] <= 60
    # Accepting is counted the same way: the attacker cannot switch to acceptInvitation.
    refused = await accept(attacker, wrong_code())
    assert refused["errors"][0]["code"] == "RATE_LIMITED"

    someone = client_from(app, "192.0.2.99")
    assert (await code_result(someone, invitation["token"]))["valid"] is True
    assert (await accept(someone, invitation["token"]))["errors"] == []


async def test_wrong_codes_from_many_addresses_make_every_address_stricter_but_a_right_code_works(
    admin: GraphQLClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "limit_token_global_failures_per_minute", 40)
    [invitation] = (await create(admin, "target@example.org", sendEmail=False))["invitations"]
    botnet = [client_from(app, f"203.0.113.{n}") for n in range(1, 9)]
    for bot in botnet:
        for _ in range(5):  # each stays under the per-address limit of 10
            assert (await code_result(bot, wrong_code()))["errors"][0]["code"] == "INVALID_TOKEN"
    # 40 failures in the minute: under attack, an address that failed before gets no more.
    for bot in botnet:
        assert (await code_result(bot, wrong_code()))["errors"][0]["code"] == "RATE_LIMITED"
    fresh = client_from(app, "198.51.100.200")
    assert (await accept(fresh, invitation["token"]))["errors"] == []


async def test_a_request_full_of_aliases_counts_every_alias(admin: GraphQLClient, app: Any) -> None:
    attacker = client_from(app, "192.0.2.20")
    many = (
        "{ "
        + " ".join(
            f'a{i}: invitationByToken(token: "{wrong_code()}") {{ valid }}' for i in range(200)
        )
        + " }"
    )
    refused = await attacker.post(many)
    assert refused["data"] is None
    assert "aliases" in refused["errors"][0]["message"].lower()

    fields = " ".join(
        f'a{i}: invitationByToken(token: "{wrong_code()}") {{ errors {{ code }} }}'
        for i in range(25)
    )
    data = await attacker("{ " + fields + " }")
    codes = [data[f"a{i}"]["errors"][0]["code"] for i in range(25)]
    assert codes.count("INVALID_TOKEN") == 10
    assert codes.count("RATE_LIMITED") == 15


async def test_a_mistyped_code_is_answered_without_lookup_and_is_not_counted(
    admin: GraphQLClient, app: Any
) -> None:
    [invitation] = (await create(admin, "typo@example.org", sendEmail=False))["invitations"]
    person = client_from(app, "192.0.2.30")
    code = invitation["token"]
    wrong_symbol = code[:-1] + ("0" if code[-1] != "0" else "1")
    for _ in range(30):
        result = await code_result(person, wrong_symbol)
        assert result["errors"][0]["code"] == "TOKEN_CHECK_FAILED"
    assert (await code_result(person, code))["valid"] is True


async def test_sign_in_failures_are_limited_per_account_and_per_address(
    admin: GraphQLClient, app: Any
) -> None:
    guesses = [client_from(app, f"192.0.2.{40 + n}") for n in range(11)]
    for guesser in guesses[:10]:
        data = await guesser(
            SIGN_IN, {"email": "admin@participate.example.org", "password": "wrong guess"}
        )
        assert data["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    blocked = await guesses[10](
        SIGN_IN, {"email": "admin@participate.example.org", "password": "wrong guess"}
    )
    assert blocked["signIn"]["errors"][0]["code"] == "RATE_LIMITED"

    sprayer = client_from(app, "192.0.2.60")
    codes = []
    for n in range(31):
        data = await sprayer(
            SIGN_IN, {"email": f"nobody{n}@example.org", "password": "wrong guess"}
        )
        codes.append(data["signIn"]["errors"][0]["code"])
    assert codes[:30] == ["INVALID_CREDENTIALS"] * 30 and codes[30] == "RATE_LIMITED"


async def test_sign_ups_are_limited_per_email(gql: GraphQLClient) -> None:
    mutation = """mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { code } } }"""
    variables = {
        "input": {"email": "spam-target@example.org", "password": "lighthouse keeper rowing 7"}
    }
    results = [(await gql(mutation, variables))["signUp"] for _ in range(4)]
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert results[3]["errors"][0]["code"] == "RATE_LIMITED"


CHANGE_EMAIL = """
mutation($email: String!, $password: String!) {
  changeEmail(email: $email, password: $password) { ok errors { code retryAfter } }
}
"""
SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { code } } }"""


async def changer(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> Any:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)

    async def change(email: str, password: str = PASSWORD) -> dict[str, Any]:
        answer: dict[str, Any] = (
            await person(CHANGE_EMAIL, {"email": email, "password": password})
        )["changeEmail"]
        return answer

    return change


async def sign_up(gql: GraphQLClient, email: str) -> dict[str, Any]:
    answer: dict[str, Any] = (
        await gql(SIGN_UP, {"input": {"email": email, "password": "lighthouse keeper rowing 7"}})
    )["signUp"]
    return answer


async def test_address_changes_cannot_bomb_a_strangers_mailbox(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """Each accepted changeEmail mails a code (five fresh guesses) to the new address."""
    change = await changer(admin, gql, smtp_sink, run_worker)
    # Refused input mails nothing and does not count.
    wrong = await change("stranger@example.org", "not my password 1")
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    answers = []
    for _ in range(5):
        answers.append(await change("stranger@example.org"))
        await run_worker()
    assert [a["ok"] for a in answers] == [True, True, True, False, False]
    refused = answers[3]["errors"][0]
    assert refused["code"] == "RATE_LIMITED" and 0 < refused["retryAfter"] <= 3600
    assert len(smtp_sink.to("stranger@example.org")) == 3


async def test_an_address_mailed_by_sign_ups_and_address_changes_has_one_counter(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    change = await changer(admin, gql, smtp_sink, run_worker)
    assert [(await sign_up(gql, "target@example.org"))["ok"] for _ in range(3)] == [True] * 3
    assert (await change("target@example.org"))["errors"][0]["code"] == "RATE_LIMITED"
    assert (await change("someone-else@example.org"))["ok"] is True


async def test_one_account_cannot_mail_many_addresses(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    change = await changer(admin, gql, smtp_sink, run_worker)
    answers = [await change(f"target{n}@example.org") for n in range(4)]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3]["errors"][0]["code"] == "RATE_LIMITED"


async def test_address_changes_count_against_the_clients_sign_up_allowance(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    change = await changer(admin, gql, smtp_sink, run_worker)
    monkeypatch.setattr(get_settings(), "limit_sign_up_per_address", 2)
    assert (await sign_up(gql, "one@example.org"))["ok"] is True
    assert (await change("two@example.org"))["ok"] is True
    assert (await change("three@example.org"))["errors"][0]["code"] == "RATE_LIMITED"
    assert (await sign_up(gql, "four@example.org"))["errors"][0]["code"] == "RATE_LIMITED"


async def test_resends_per_invitation_and_invitations_per_admin_are_capped(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    [invitation] = (await create(admin, "resend@example.org", sendEmail=False))["invitations"]
    codes = []
    for _ in range(6):
        result = (await admin(RESEND, {"id": invitation["id"]}))["resendInvitation"]
        codes.append(result["errors"][0]["code"] if result["errors"] else "OK")
    assert codes == ["OK"] * 5 + ["RATE_LIMITED"]

    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 4)
    refused = await create(
        admin, ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    )
    assert refused["errors"][0]["code"] == "RATE_LIMITED"
    assert (await create(admin, ["a@example.org", "b@example.org", "c@example.org"]))[
        "errors"
    ] == []
    assert (await create(admin, ["e@example.org"]))["errors"][0]["code"] == "RATE_LIMITED"


async def test_the_same_answer_for_unknown_expired_used_and_deleted(
    admin: GraphQLClient, app: Any
) -> None:
    from datetime import timedelta

    from domain.clock import clock
    from tests.invitations_helpers import DELETE

    made = (
        await create(
            admin, ["used@example.org", "gone@example.org", "old@example.org"], sendEmail=False
        )
    )["invitations"]
    used, gone, old = made
    person = client_from(app, "192.0.2.70")
    assert (await accept(person, used["token"]))["errors"] == []
    await admin(DELETE, {"id": gone["id"]})
    clock.advance(timedelta(days=31))
    answers = [
        (await person(BY_TOKEN, {"token": code}))["invitationByToken"]
        for code in (used["token"], gone["token"], old["token"], wrong_code())
    ]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["errors"][0]["code"] == "INVALID_TOKEN"


async def test_one_account_has_one_sign_in_counter_however_its_address_is_typed(
    admin: GraphQLClient, app: Any
) -> None:
    """Accounts are found by the normalized address (NFKC, IDNA, lower case); their limits are
    kept by the same, or full-width letters would open a fresh counter for the same account."""
    spellings = [
        "admin@participate.example.org",
        "ADMIN@participate.example.org",
        "admin@p\uff41rticipate.example.org",  # full-width a
        "admin@participate.exampl\uff45.org",  # full-width e
        "admin@PARTICIPATE.EXAMPLE.\uff4f\uff52\uff47",
    ]
    codes = []
    for n in range(12):
        guesser = client_from(app, f"192.0.2.{100 + n}")
        data = await guesser(
            SIGN_IN, {"email": spellings[n % len(spellings)], "password": "wrong guess"}
        )
        codes.append(data["signIn"]["errors"][0]["code"])
    assert codes[:10] == ["INVALID_CREDENTIALS"] * 10
    assert codes[10:] == ["RATE_LIMITED"] * 2


async def test_the_daily_allowance_is_checked_and_counted_in_one_step(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 5)
    results = await asyncio.gather(
        *(create(admin, f"at-once{n}@example.org", sendEmail=False) for n in range(12))
    )
    created = [r for r in results if not r["errors"]]
    assert len(created) == 5
    assert all(r["errors"][0]["code"] == "RATE_LIMITED" for r in results if r["errors"])


async def test_a_double_submit_of_one_code_is_not_counted_as_guesses(
    admin: GraphQLClient, app: Any
) -> None:
    import asyncio

    [invitation] = (await create(admin, "twice@example.org", sendEmail=False))["invitations"]
    family = client_from(app, "192.0.2.150")
    # Eight at once (each holds its place in the limits while it runs, so more than the
    # per-minute limit at once would be refused outright).
    answers = await asyncio.gather(*(accept(family, invitation["token"]) for _ in range(8)))
    assert sum(1 for a in answers if a["session"]) == 1
    assert {a["errors"][0]["code"] for a in answers if not a["session"]} == {"INVALID_TOKEN"}
    # None of the seven losers was a guess: this address still has all its tries.
    for _ in range(10):
        assert (await code_result(family, wrong_code()))["errors"][0]["code"] == "INVALID_TOKEN"
    assert (await code_result(family, wrong_code()))["errors"][0]["code"] == "RATE_LIMITED"


async def test_letter_codes_count_against_the_limits_even_when_they_are_accepted(
    admin: GraphQLClient, app: Any
) -> None:
    """A letter's code with an address makes no account until the address is confirmed, so
    every such attempt counts: typing codes with addresses stays slow."""
    from tests.invitations_helpers import GENERATE

    letters = (await admin(GENERATE, {"count": 11}))["generateInvitationCodes"]["invitations"]
    person = client_from(app, "192.0.2.160")
    answers = [
        await accept(person, letter["token"], email=f"reader{n}@example.org")
        for n, letter in enumerate(letters)
    ]
    assert [a["errors"] for a in answers[:10]] == [[]] * 10
    assert answers[10]["errors"][0]["code"] == "RATE_LIMITED"


async def test_a_redis_that_forgot_the_scripts_learns_them_again(
    admin: GraphQLClient, app: Any, redis: Any
) -> None:
    """Scripts go by their SHA-1; a restarted Redis knows none: each is sent whole once."""
    [invitation] = (await create(admin, "target@example.org", sendEmail=False))["invitations"]
    visitor = client_from(app, "192.0.2.20")
    await redis.script_flush()
    assert (await code_result(visitor, invitation["token"]))["valid"] is True
    await redis.script_flush()
    assert (await code_result(visitor, wrong_code()))["errors"][0]["code"] == "INVALID_TOKEN"
    await redis.script_flush()
    assert (await accept(visitor, invitation["token"]))["errors"] == []


SIGN_UP_TO = """mutation($email: String!) {
  signUp(input: {email: $email, password: "lighthouse keeper rowing 7"}) {
    registration { token } errors { code retryAfter }
  }
}"""
NEW_CODE = """mutation($email: String!) {
  requestEmailConfirmation(email: $email) { ok errors { code retryAfter } }
}"""
MOVE_TO = """mutation($email: String!) {
  changeRegistrationEmail(email: $email) { registration { email } errors { code retryAfter } }
}"""


async def test_an_address_is_sent_at_most_ten_codes_a_day_however_they_are_asked_for(
    gql: GraphQLClient, app: Any
) -> None:
    """Each code takes a few wrong guesses: ten codes a day bound the guesses at an address,
    whoever asks (sign-ups, new codes, moved registrations, from any client address)."""
    target = "petra@example.org"
    sent: list[Any] = []
    token = ""
    for hour in range(3):  # three an hour (the hourly limit per email), nine in all
        clock.advance(timedelta(hours=1) if hour else timedelta())
        client = client_from(app, f"192.0.2.{200 + hour}")
        for _ in range(2 if hour == 2 else 3):
            answer = (await client(SIGN_UP_TO, {"email": target}))["signUp"]
            sent.append(answer["errors"])
            token = answer["registration"]["token"]
    # A new code asked with the registration's token goes to its address, whatever is typed.
    renewed = await gql.post(NEW_CODE, {"email": "someone.else@example.org"}, token=token)
    sent.append(renewed["data"]["requestEmailConfirmation"]["errors"])
    clock.advance(timedelta(hours=1))
    elsewhere = (await gql(SIGN_UP_TO, {"email": "typo@example.org"}))["signUp"]
    moved = await gql.post(MOVE_TO, {"email": target}, token=elsewhere["registration"]["token"])
    sent.append(moved["data"]["changeRegistrationEmail"]["errors"])
    assert sent == [[]] * 10

    eleventh = (await client_from(app, "192.0.2.230")(SIGN_UP_TO, {"email": target}))["signUp"]
    [refused] = eleventh["errors"]
    assert refused["code"] == "RATE_LIMITED"
    assert refused["retryAfter"] > 3600  # until the day's end, not the hour's
    again = await gql.post(NEW_CODE, {"email": target}, token=token)
    assert again["data"]["requestEmailConfirmation"]["errors"][0]["code"] == "RATE_LIMITED"
    # Another address is not concerned.
    assert (await gql(SIGN_UP_TO, {"email": "other@example.org"}))["signUp"]["errors"] == []
    # The next day, the address is sent codes again.
    clock.advance(timedelta(days=1))
    assert (await gql(SIGN_UP_TO, {"email": target}))["signUp"]["errors"] == []


async def test_codes_for_a_new_address_and_letters_typed_with_it_count_against_its_day(
    admin: GraphQLClient,
    gql: GraphQLClient,
    app: Any,
    smtp_sink: Any,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.invitations_helpers import GENERATE, PASSWORD
    from tests.test_invitations import platform
    from tests.test_profile import CHANGE_EMAIL, resident

    monkeypatch.setattr(get_settings(), "limit_codes_per_email_per_day", 3)
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    target = "petra@example.org"
    wrong = await person(CHANGE_EMAIL, {"email": target, "password": "not the password 123"})
    assert wrong["changeEmail"]["errors"][0]["code"] == "INVALID_CREDENTIALS"  # sends nothing
    for _ in range(2):
        asked = await person(CHANGE_EMAIL, {"email": target, "password": PASSWORD})
        assert asked["changeEmail"]["errors"] == []
    [letter] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    north = {"registrationFieldValues": [{"key": "neighbourhood", "value": "north"}]}
    assert (await accept(gql, letter["token"], email=target, **north))["errors"] == []  # third

    refused = await person(CHANGE_EMAIL, {"email": target, "password": PASSWORD})
    assert refused["changeEmail"]["errors"][0]["code"] == "RATE_LIMITED"
    other_client = client_from(app, "192.0.2.240")
    again = await accept(other_client, letter["token"], email=target, **north)
    assert again["errors"][0]["code"] == "RATE_LIMITED"
    # Refused before anything was done: the letter still works, with another address.
    paul = await accept(gql, letter["token"], email="paul@example.org", **north)
    assert paul["errors"] == []
