"""Address checks: the fast path agrees with email-validator on everything."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.validation import normalize_email

ADDRESS_LIKE = st.text(alphabet="abcXYZ019.-_+!#@ü", min_size=1, max_size=30)


def reference(raw: str) -> str | None:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@settings(max_examples=2000)
@given(ADDRESS_LIKE)
@example("Jan.Peeters@Example.ORG")
@example("x@localhost")
@example("a@x.test")
@example("a@xn--bcher-kva.example")
@example("a@ab--c.org")
@example("a..b@x.org")
@example("a@münchen.de")
def test_normalize_email_agrees_with_email_validator(raw: str) -> None:
    assert normalize_email(raw) == reference(raw)


@given(st.emails())
def test_real_looking_addresses_are_accepted_in_lower_case(address: str) -> None:
    assert normalize_email(address) == reference(address)


def test_a_domain_label_mixing_alphabets_is_no_address() -> None:
    """An "example.org" with a Cyrillic ie (U+0435) reads as example.org: a look-alike is
    refused, with its own reason; a label wholly in one script (or one writing system) is
    fine."""
    from domain.errors import ErrorCode, Reason
    from domain.validation import email_problem

    for look_alike in (
        "admin@\u0435xample.org",
        "admin@xn--xample-2of.org",  # the same, as IDNA
        "admin@ex\u03b1mple.com",  # a Greek alpha
        "admin@example.\u043erg",
    ):
        assert normalize_email(look_alike) is None, look_alike
        problem = email_problem(look_alike, row=4)
        assert problem.code is ErrorCode.INVALID_EMAIL and problem.row == 4
        assert problem.reason is Reason.MIXED_SCRIPTS
        assert "domain mixes alphabets" in problem.message
    for fine in ("a@bücher.de", "a@москва.рф", "a@αβγ.gr", "a@例え.jp", "a@テスト例.jp"):
        assert normalize_email(fine) is not None, fine
    assert email_problem("not an address").reason is None
