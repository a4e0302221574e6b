"""The account mails' HTML parts: the one-click link written out under its button, as the
invitation mail has it, for readers whose client hides or breaks buttons."""

from __future__ import annotations

from markupsafe import escape

from domain.invitations.grants import Granted
from domain.mail.render import render
from domain.users.mails import confirm_url, reset_request_url


def test_the_confirmation_link_is_written_out_under_its_button() -> None:
    for locale in ("en", "nl-BE", "fr-BE"):
        url = confirm_url("jan@example.org", "123456", locale)
        values = {"code": "123456", "minutes": 15, "confirm_url": url}
        claim = render("confirm_email", locale, "mail.confirm_subject", **values)
        exists = render(
            "account_exists",
            locale,
            "mail.exists_subject",
            name="Jan",
            reset_url=reset_request_url(locale),
            letter=Granted(admin=False, projects=[], groups=["North Avenue Residents"]),
            **values,
        )
        for rendered in (claim, exists):
            assert f">{escape(url)}</a>" in rendered.html, (locale, rendered.html)
            assert url in rendered.text
