"""The /invite page in a real Chromium: mail link, typed code, mistyped and used codes, letters.

The shared set-up (a real uvicorn, Debian's Chromium, axe-core) is in tests/browser.py.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from domain.invitations import tokens
from domain.models import FieldType, User
from tests.browser import DESKTOP, PHONE, Visit, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import GENERATE, ME, PASSWORD, accept, create, registered
from tests.test_accounts import code_in
from tests.test_invitations import platform

pytestmark = pytest.mark.browser

LINK_IN_MAIL = re.compile(r"https://participate\.example\.org(/invite#token=[0-9A-Z-]{17})")


def link_from(smtp_sink: SmtpSink, address: str) -> str:
    [mail] = smtp_sink.to(address)
    match = LINK_IN_MAIL.search(mail.text)
    assert match, mail.text
    return match.group(1)


async def fill_profile(page: Page, *, password: str = PASSWORD, **names: str) -> None:
    await page.fill("#firstName", names.get("first", "Lea"))
    await page.fill("#lastName", names.get("last", "Janssens"))
    await page.fill("#password", password)


async def test_the_mail_link_leads_to_the_profile_and_then_to_the_grants(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    visit: Visit,
) -> None:
    data = await platform()
    result = await create(
        admin,
        "lea@example.org",
        projectIds=[str(data["project"].id)],
        groupIds=[str(data["manual"].id), str(data["smart"].id)],
        registrationFieldValues=[{"key": "neighbourhood", "value": "north"}],
        locale="nl-BE",
    )
    assert result["errors"] == []
    await run_worker()
    path = link_from(smtp_sink, "lea@example.org")
    token = path.split("=", 1)[1]

    page = visit.page
    await page.goto(path)  # in an English browser (tests/browser.py)
    # The invitation is Dutch: the page reloads in Dutch, the token still in the fragment.
    await page.wait_for_url(re.compile(r"/invite\?lang=nl-BE#token="))
    await page.wait_for_selector("#step-profile:not([hidden])")
    await check_accessibility(page)
    assert await page.get_attribute("html", "lang") == "nl-BE"
    assert await page.text_content("h1") == "Aanvaard je uitnodiging"
    assert await page.input_value("#email") == "lea@example.org"
    assert await page.locator("#email").get_attribute("readonly") is not None
    assert await page.is_visible("#email-fixed")
    assert await page.input_value("#locale") == "nl-BE"  # the invitation's language
    assert await page.is_hidden("#registration-fields")  # the invitation sets the one required

    # Errors come back beside their fields.
    await page.fill("#firstName", "")
    await page.fill("#lastName", "Janssens")
    await page.fill("#password", "password1234")
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#password-error:not(:empty)")
    assert "te makkelijk te raden" in (await page.text_content("#password-error") or "")
    assert await page.text_content("#firstName-error") == "Vul dit in."
    assert await page.get_attribute("#firstName", "aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.id") == "firstName"
    assert "vragen je aandacht" in (await page.text_content("#profile-status") or "")

    await fill_profile(page)
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#step-done:not([hidden])")
    await check_accessibility(page)
    assert await page.text_content("#done-title") == "Je bent binnen!"
    assert await page.is_hidden("#done-confirm")
    assert "#token" not in page.url  # used up: nothing left to come back to

    # No host platform is set (INVITES_PLATFORM_URL): the service's own landing page.
    assert await page.text_content("#done-next") == "Verder"
    await page.focus("#done-next")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/welcome\?lang=nl-BE$"))
    assert await page.text_content("h1") == "Je account is klaar"
    await check_accessibility(page)

    me = (await gql(ME, token=await visit.session_token()))["me"]
    assert me["email"] == "lea@example.org" and me["emailConfirmed"] is True
    assert (me["firstName"], me["lastName"], me["locale"]) == ("Lea", "Janssens", "nl-BE")
    assert me["roles"] == [{"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}}]
    assert sorted(g["title"] for g in me["groups"]) == ["North Avenue Residents", "Northerners"]

    # The token went to /graphql in POST bodies only, never in a URL.
    asked = visit.graphql_requests()
    assert asked and all(r.method == "POST" for r in asked)
    canonical = token.replace("-", "")
    assert not [r.url for r in visit.requests if canonical in r.url.replace("-", "").upper()]
    assert any(canonical in (r.post_data or "") for r in asked)


async def test_someone_who_registered_before_opening_the_mail_signs_in_to_accept(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    visit: Visit,
) -> None:
    """Invited, then registered the usual way: the link asks for the account's password
    (no profile to fill in again), and the invitation's access is added to that account."""
    data = await platform()
    await create(admin, "kim@example.org", groupIds=[str(data["manual"].id)], locale="nl-BE")
    await run_worker()
    await registered("kim@example.org", first_name="Kim", last_name="Claes", locale="nl-BE")

    page = visit.page
    await page.goto(link_from(smtp_sink, "kim@example.org"))
    await page.wait_for_selector("#step-sign-in:not([hidden])")
    await check_accessibility(page)
    assert await page.get_attribute("html", "lang") == "nl-BE"
    assert await page.is_hidden("#step-profile")
    assert await page.text_content("#sign-in-title") == "Log in om te aanvaarden"
    assert await page.evaluate("document.activeElement.id") == "sign-in-title"
    assert await page.input_value("#account-email") == "kim@example.org"

    # With the keyboard: a wrong password says so and leads to a new one.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "account-password"
    await page.keyboard.type("not the password at all")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#account-password-error:not(:empty)")
    assert "niet het wachtwoord van dit account" in (
        await page.text_content("#account-password-error") or ""
    )
    assert await page.evaluate("document.activeElement.id") == "account-password"
    assert "/reset-password" in (await page.get_attribute("#sign-in-reset", "href") or "")
    await check_accessibility(page)

    await page.fill("#account-password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-done:not([hidden])")
    await check_accessibility(page)
    assert await page.is_visible("#done-existing")
    assert await page.is_hidden("#done-text")
    assert "#token" not in page.url

    me = (await gql(ME, token=await visit.session_token()))["me"]
    assert (me["email"], me["firstName"], me["lastName"]) == ("kim@example.org", "Kim", "Claes")
    assert [g["title"] for g in me["groups"]] == ["North Avenue Residents"]


async def test_signed_in_as_someone_else_the_page_says_the_invitation_makes_another_account(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, visit: Visit
) -> None:
    await create(admin, "gus@example.org", locale="nl-BE")
    await run_worker()
    await registered("hana@example.org", first_name="Hana", last_name="Wouters", locale="nl-BE")
    page = visit.page
    await page.goto("/account?lang=nl-BE")
    await page.fill("#email", "hana@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#step-account:not([hidden])")

    await page.goto(link_from(smtp_sink, "gus@example.org"))
    await page.wait_for_selector("#step-profile:not([hidden])")
    notice = page.locator("#signed-in-other")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_text(
        "Je bent ingelogd als hana@example.org. Deze uitnodiging maakt een ander account: als"
        " je ze aanvaardt, word je uitgelogd bij hana@example.org en ingelogd op het nieuwe."
    )
    await check_accessibility(page)
    await fill_profile(page, first="Gus")
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#step-done:not([hidden])")
    me = (await gql(ME, token=await visit.session_token()))["me"]
    assert me["email"] == "gus@example.org"


async def test_a_typed_lower_case_code_without_dashes_is_accepted_and_enter_submits(
    admin: GraphQLClient, gql: GraphQLClient, visit: Visit
) -> None:
    data = await platform()
    [invitation] = (
        await create(
            admin,
            "typed@example.org",
            sendEmail=False,
            admin=True,
            groupIds=[str(data["manual"].id)],
            registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
        )
    )["invitations"]
    page = visit.page
    await page.goto("/invite")
    assert await page.is_visible("#step-code")
    await page.focus("#code")
    await page.keyboard.type(invitation["token"].lower().replace("-", ""))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.input_value("#email") == "typed@example.org"

    await fill_profile(page, first="Tom", last="Peeters")
    await page.focus("#password")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-done:not([hidden])")
    me = (await gql(ME, token=await visit.session_token()))["me"]
    assert me["roles"] == [{"kind": "ADMIN", "project": None}]
    assert me["groups"] == [{"title": "North Avenue Residents"}]


async def test_a_mistyped_code_is_caught_before_the_server_is_asked(visit: Visit) -> None:
    token = tokens.generate()
    wrong = token[:6] + ("X" if token[6] != "X" else "Y") + token[7:]
    swapped = token[:3] + token[4] + token[3] + token[5:]
    page = visit.page
    await page.goto("/invite")
    for typed in (tokens.display(wrong), swapped if swapped != token else wrong, token[:10]):
        await page.fill("#code", typed)
        await page.press("#code", "Enter")
        await expect(page.locator("#code-error")).to_have_text(re.compile("^Check the code"))
        assert await page.get_attribute("#code", "aria-invalid") == "true"
        assert await page.evaluate("document.activeElement.id") == "code"
        await page.fill("#code", "")
        await page.press("#code", "Enter")
        await expect(page.locator("#code-error")).to_have_text(re.compile("^Type the code"))

    # The link's fragment is checked the same way.
    await page.goto(f"/invite#token={tokens.display(wrong)}")
    await expect(page.locator("#code-error")).to_have_text(re.compile("^Check the code"))
    assert await page.input_value("#code") == tokens.display(wrong)
    assert visit.graphql_requests() == []


async def test_a_used_or_unknown_code_gets_one_calm_message(
    admin: GraphQLClient, gql: GraphQLClient, visit: Visit
) -> None:
    [invitation] = (await create(admin, "used@example.org", sendEmail=False))["invitations"]
    assert (await accept(gql, invitation["token"]))["errors"] == []
    page = visit.page
    messages = []
    for code in (invitation["token"], tokens.display(tokens.generate())):
        await page.goto("/invite")
        await page.fill("#code", code)
        await page.click("#code-form button[type=submit]")
        await page.wait_for_selector("#step-unusable:not([hidden])")
        assert await page.is_hidden("#step-code")
        assert await page.evaluate("document.activeElement.id") == "unusable-title"
        messages.append(await page.inner_text("#step-unusable"))
    assert messages[0] == messages[1]
    assert "Ask the administrator who invited you" in messages[0]
    assert len(visit.graphql_requests()) == 2
    # Someone who already has an account (or used the link already) is led on, by keyboard.
    await check_accessibility(page)
    assert "Already have an account? Sign in" in messages[0]
    await page.focus("#try-other")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "unusable-sign-in"
    assert await page.get_attribute("#unusable-sign-in", "href") == "/account"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Forgot your password?"
    assert await page.get_attribute("#unusable-reset", "href") == "/reset-password"

    await page.click("#try-other")
    assert await page.is_visible("#step-code")
    assert await page.evaluate("document.activeElement.id") == "code"


async def test_a_code_only_invitation_asks_the_email_then_the_code_mailed_there(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    visit: Visit,
) -> None:
    from domain.registration_fields.service import create_registration_field

    data = await platform()
    await create_registration_field(
        key="member", title="I live here", type=FieldType.CHECKBOX, required=True
    )
    await create_registration_field(key="born", title="Born on", type=FieldType.DATE, required=True)
    await create_registration_field(
        key="household", title="People at home", type=FieldType.NUMBER, required=True
    )
    await create_registration_field(
        key="street", title="Street", type=FieldType.TEXT, required=True
    )
    generated = (
        await admin(
            GENERATE,
            {"count": 1, "options": {"groupIds": [str(data["manual"].id)], "locale": "fr-BE"}},
        )
    )["generateInvitationCodes"]
    code = generated["invitations"][0]["token"]

    page = visit.page
    await page.goto(f"/invite?lang=fr-BE#token={code}")
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.get_attribute("html", "lang") == "fr-BE"
    assert await page.text_content("label[for=email]") == "Adresse e-mail *"
    assert await page.input_value("#email") == ""
    assert await page.locator("#email").get_attribute("readonly") is None
    assert await page.is_visible("#email-hint") and await page.is_hidden("#email-fixed")
    assert await page.is_visible("#registration-fields")
    assert await page.text_content("#field-neighbourhood option[value=north]") == "North"

    # Nothing filled in: every missing thing is named beside its field.
    await page.fill("#firstName", "")
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#email-error:not(:empty)")
    assert await page.text_content("#email-error") == (
        "Saisissez une adresse e-mail valide, comme nom@exemple.be."
    )
    assert await page.text_content("#field-neighbourhood-error") == "Complétez ce champ."
    assert await page.text_content("#field-born-error") == "Complétez ce champ."
    assert await page.text_content("#field-member-error") == "Complétez ce champ."
    assert await page.text_content("#firstName-error") == "Complétez ce champ."
    assert await page.text_content("#password-error") != ""

    # An address the platform's mail relay cannot take (no SMTPUTF8): said before any code.
    await page.fill("#email", "zoë@example.org")
    await fill_profile(page, first="Louise", last="Dubois")
    await page.select_option("#field-neighbourhood", "south")
    await page.fill("#field-born", "1990-04-12")
    await page.check("#field-member")
    await page.fill("#field-household", "2,5")  # a decimal comma, as typed in Belgium
    await page.fill("#field-street", "12")  # text that looks like a number stays text
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#email-error:not(:empty)")
    assert (await page.text_content("#email-error") or "").startswith(
        "Cette plateforme ne peut pas envoyer de mail à cette adresse"
    )
    assert await page.evaluate("document.activeElement.id") == "email"

    await page.fill("#email", "Letter.Reader@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("#profile-form button[type=submit]")
    # A letter proves nothing about the address: the confirmation step comes first.
    await page.wait_for_selector("#step-confirm:not([hidden])")
    assert await page.evaluate("document.activeElement.id") == "confirm-title"
    assert await page.text_content("#confirm-intro") == (
        "Nous avons envoyé un code de 8 chiffres à letter.reader@example.org. Tapez-le ici, ou"
        " ouvrez le lien de cet e-mail."
    )

    await run_worker()
    [mail] = smtp_sink.to("letter.reader@example.org")
    assert "code de confirmation" in mail.subject
    # No account yet, and no session: the letter's grants wait for the address. This browser
    # keeps the registration (for the mail's link, in another tab), which is no session.
    stored = json.loads(
        await page.evaluate("localStorage.getItem('invitations.registration')") or "{}"
    )
    assert stored["email"] == "letter.reader@example.org"
    assert (await gql(ME, token=stored["token"]))["me"] is None
    assert await page.context.cookies() == []
    assert not await User.filter(email="letter.reader@example.org").exists()

    await page.fill("#confirm-code", code_in(mail))
    await page.press("#confirm-code", "Enter")
    await page.wait_for_selector("#step-done:not([hidden])")
    assert await page.is_hidden("#done-text")
    assert (await page.text_content("#done-confirmed") or "").startswith(
        "Votre adresse est confirmée"
    )
    assert await page.evaluate("localStorage.getItem('invitations.registration')") is None
    me = (await gql(ME, token=await visit.session_token()))["me"]
    assert me["emailConfirmed"] is True and me["locale"] == "fr-BE"
    assert me["groups"] == [{"title": "North Avenue Residents"}]
    user = await User.get(email="letter.reader@example.org")
    assert user.registration_field_values == {
        "neighbourhood": "south",
        "born": "1990-04-12",
        "member": True,
        "household": 2.5,
        "street": "12",
    }


async def test_the_page_speaks_the_invitations_language_and_the_switch_overrides_it(
    admin: GraphQLClient, visit: Visit
) -> None:
    [invitation] = (await create(admin, "switch@example.org", sendEmail=False, locale="fr-BE"))[
        "invitations"
    ]
    page = visit.page
    # A typed code in an English browser: the invitation's French wins.
    await page.goto("/invite")
    await page.fill("#code", invitation["token"])
    await page.press("#code", "Enter")
    await page.wait_for_url(re.compile(r"\?lang=fr-BE#token="))
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.text_content("h1") == "Accepter votre invitation"
    assert await page.input_value("#locale") == "fr-BE"

    # The reader's own choice wins over the invitation's, and the token goes along, with the
    # names typed so far (never the password).
    await fill_profile(page, first="Élise", last="Dubois")
    await page.focus("a[hreflang=nl-BE]")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"\?lang=nl-BE#token="))
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.text_content("h1") == "Aanvaard je uitnodiging"
    assert await page.input_value("#email") == "switch@example.org"
    assert await page.input_value("#firstName") == "Élise"
    assert await page.input_value("#lastName") == "Dubois"
    assert await page.input_value("#password") == ""
    assert await page.evaluate("JSON.stringify(sessionStorage)") == "{}"
    assert await page.get_attribute("a[hreflang=nl-BE]", "aria-current") == "true"
    assert await page.input_value("#locale") == "fr-BE"  # the account's language is still asked


async def test_a_weak_password_is_refused_in_the_pages_language(
    admin: GraphQLClient, visit: Visit
) -> None:
    [invitation] = (await create(admin, "zwak@example.org", sendEmail=False))["invitations"]
    page = visit.page
    for lang, expected in (
        ("nl-BE", "Dit wachtwoord is te kort of te makkelijk te raden"),
        ("fr-BE", "Ce mot de passe est trop court ou trop facile à deviner"),
        ("en", "common"),  # the server's own explanation
    ):
        await page.goto(f"/invite?lang={lang}#token={invitation['token']}")
        await page.wait_for_selector("#step-profile:not([hidden])")
        await fill_profile(page, password="password1234")
        await page.click("#profile-form button[type=submit]")
        await page.wait_for_selector("#password-error:not(:empty)")
        assert expected in (await page.text_content("#password-error") or ""), lang
        assert await page.get_attribute("#password", "aria-invalid") == "true"


async def test_the_page_fits_a_phone_and_shows_where_the_focus_is(
    admin: GraphQLClient, visit: Visit
) -> None:
    [invitation] = (await create(admin, "phone@example.org", sendEmail=False))["invitations"]
    page = visit.page
    await page.set_viewport_size({"width": 360, "height": 640})
    await page.goto(f"/invite#token={invitation['token']}")
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.focus("#firstName")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "lastName"
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    font_size = await page.evaluate("getComputedStyle(document.activeElement).fontSize")
    assert float(font_size.removesuffix("px")) >= 16


RESIDENT_PAGES = {
    # path: (status, the h1 in en, nl-BE, fr-BE)
    "/": (
        200,
        (
            "Welcome to Participate Example",
            "Welkom bij Participate Example",
            "Bienvenue sur Participate Example",
        ),
    ),
    # Signed out: nobody's account is ready, the page leads on as the home page does.
    "/welcome": (
        200,
        (
            "Welcome to Participate Example",
            "Welkom bij Participate Example",
            "Bienvenue sur Participate Example",
        ),
    ),
    "/no/such/page": (404, ("Page not found", "Pagina niet gevonden", "Page introuvable")),
}


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_landing_and_error_pages_speak_each_language_and_fit_a_phone(
    visit: Visit, size: dict[str, int]
) -> None:
    page = visit.page
    await page.set_viewport_size(size)
    for path, (status, titles) in RESIDENT_PAGES.items():
        for locale, title in zip(("en", "nl-BE", "fr-BE"), titles, strict=True):
            response = await page.goto(f"{path}?lang={locale}")
            assert response is not None and response.status == status, (path, locale)
            if status != 200:
                # Chromium reports the page's own status; anything else failing still counts.
                visit.problems.remove(
                    f"Failed to load resource: the server responded with a status of {status}"
                    " (Not Found)"
                )
            assert await page.get_attribute("html", "lang") == locale
            assert await page.text_content("h1") == title
            assert await page.evaluate("document.documentElement.scrollWidth") <= size["width"]
            await check_accessibility(page)
        # Keyboard: the skip link first, then on to the page's links.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        await page.keyboard.press("Enter")
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.closest('main') !== null")
        assert focused, path
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid", path


async def test_too_many_attempts_say_how_long_to_wait_in_the_right_plural(visit: Visit) -> None:
    page = visit.page
    await page.goto("/invite?lang=nl-BE")
    status = page.locator("#code-error")
    for _ in range(30):
        await page.fill("#code", tokens.display(tokens.generate()))  # well-formed, unknown
        await page.press("#code", "Enter")
        await page.wait_for_selector("#code-error:not(:empty), #step-unusable:not([hidden])")
        if await status.text_content():
            break
        await page.click("#try-other")
    # The per-minute limit: at most a minute to wait, and Dutch says "1 minuut".
    assert await status.text_content() == (
        "Te veel pogingen. Wacht 1 minuut en probeer het dan opnieuw."
    )


async def test_the_code_box_puts_in_the_dashes_as_it_is_typed_or_pasted(
    admin: GraphQLClient, visit: Visit
) -> None:
    [invitation] = (await create(admin, "paste@example.org", sendEmail=False))["invitations"]
    page = visit.page
    await page.goto("/invite")
    code = page.locator("#code")

    async def box() -> tuple[str, int]:
        return await code.input_value(), await code.evaluate("input => input.selectionStart")

    await code.focus()
    await page.keyboard.type("abcde")
    assert await box() == ("abcde", 5)
    await page.keyboard.type("f")
    assert await box() == ("abcde-f", 7)
    await page.keyboard.type("ghjk m")  # a typed space is a separator too
    assert await box() == ("abcde-fghjk-m", 13)
    # A symbol typed in the middle pushes the rest on; the caret stays right after it.
    for _ in range(9):
        await page.keyboard.press("ArrowLeft")
    await page.keyboard.type("x")
    assert await box() == ("abcdx-efghj-km", 5)
    # Backspace just after a dash takes the symbol before it, not only the dash.
    await page.keyboard.press("ArrowRight")
    assert await box() == ("abcdx-efghj-km", 6)
    await page.keyboard.press("Backspace")
    assert await box() == ("abcde-fghjk-m", 4)

    # A pasted code, as mails and letters write it or not, lands formatted and works.
    await code.fill("")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pasted = " " + invitation["token"].lower().replace("-", " ") + " "
    await page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    await code.focus()
    await page.keyboard.press("Control+V")
    assert await box() == (invitation["token"].lower(), 17)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.input_value("#email") == "paste@example.org"


async def test_the_code_box_formatting_keeps_every_symbol_and_the_caret_after_the_same_ones(
    visit: Visit,
) -> None:
    await visit.page.goto("/invite")
    cases = [
        ("", 0, "", 0),
        ("ABCDE", 5, "ABCDE", 5),
        ("ABCDEF", 6, "ABCDE-F", 7),
        ("ABCDE-FGHJK-MNPQR", 17, "ABCDE-FGHJK-MNPQR", 17),
        ("ab cd-ef_gh.jk", 3, "abcde-fghjk", 2),
        ("ABCDE-FGHJK-MNPQRS", 18, "ABCDE-FGHJK-MNPQR-S", 19),
        ("ABCDé!FG", 8, "ABCDé-!FG", 9),
        ("-ABC", 1, "ABC", 0),
    ]
    answers = await visit.page.evaluate(
        "cases => cases.map(([raw, caret]) => window.inviteToken.formatAsTyped(raw, caret))",
        [[raw, caret] for raw, caret, _, _ in cases],
    )
    for (raw, caret, value, position), answer in zip(cases, answers, strict=True):
        assert answer == {"value": value, "caret": position}, (raw, caret)


def token_inputs() -> list[str]:
    """Codes as people type them, and every kind of slip."""
    rng = random.Random(4)
    cases = ["", "-", " ", "U" * 15, "a" * 65, "ß" * 15, "ABCDE_FGHJK.MNPQR", "\uff21\uff22\uff23"]
    for _ in range(60):
        token = tokens.generate()
        shown = tokens.display(token)
        position = rng.randrange(tokens.LENGTH)
        other = rng.choice(tokens.ALPHABET.replace(token[position], ""))
        swap = rng.randrange(tokens.LENGTH - 1)
        cases += [
            token,
            shown,
            shown.lower(),
            " " + shown.lower().replace("-", " ") + "\t",
            shown.replace("-", "\u2013"),
            token.replace("0", "o").replace("1", rng.choice("iIlL")),
            token[:position] + other + token[position + 1 :],
            token[:swap] + token[swap + 1] + token[swap] + token[swap + 2 :],
            token[:-1],
            token + rng.choice(tokens.ALPHABET),
            token[:position] + rng.choice("U!é") + token[position + 1 :],
        ]
    return cases


async def test_the_pages_code_check_is_the_servers_exactly(visit: Visit) -> None:
    cases = token_inputs()
    await visit.page.goto("/invite")
    answers = await visit.page.evaluate(
        "cases => cases.map(c => [window.inviteToken.normalize(c), window.inviteToken.parse(c)])",
        cases,
    )
    for case, (normalized, parsed) in zip(cases, answers, strict=True):
        expected = tokens.parse(case)
        if len(case) <= 64:
            assert normalized == tokens.normalize(case), json.dumps(case)
        if isinstance(expected, tokens.TokenProblem):
            assert parsed == {"problem": expected.value}, json.dumps(case)
        else:
            assert parsed == {"token": expected}, json.dumps(case)
    assert {"problem": "check_failed"} in [parsed for _, parsed in answers]


async def test_registration_field_titles_follow_the_pages_language(
    admin: GraphQLClient, visit: Visit
) -> None:
    from domain.registration_fields.service import create_registration_field

    await create_registration_field(
        key="district",
        title="District",
        type=FieldType.SELECT,
        required=True,
        titles={"nl-BE": "Wijk", "fr-BE": "Quartier"},
        options=[
            {"key": "north", "title": "North", "titles": {"nl-BE": "Noord", "fr-BE": "Nord"}},
            {"key": "south", "title": "South", "titles": {"nl-BE": "Zuid"}},
        ],
    )
    [invitation] = (await create(admin, "titles@example.org", sendEmail=False))["invitations"]
    page = visit.page
    for lang, label, options in (
        ("nl-BE", "Wijk *", ["Kies…", "Noord", "Zuid"]),
        ("fr-BE", "Quartier *", ["Choisissez…", "Nord", "South"]),  # no French title: the default
        ("en", "District *", ["Choose…", "North", "South"]),
    ):
        await page.goto(f"/invite?lang={lang}#token={invitation['token']}")
        await page.wait_for_selector("#step-profile:not([hidden])")
        assert await page.text_content("label[for=field-district]") == label, lang
        assert await page.locator("#field-district option").all_text_contents() == options
