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
