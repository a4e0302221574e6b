"""Registration fields in the admin console, in a real Chromium against the real API: a field
a smart group tests is not offered for deletion (the dialog names the groups, in the console's
language, one group or several), a refusal reached all the same names them in that language;
the title the platform's default language needs is marked required and said to be; a new or
edited field gets the focus in the list before the status says so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from domain.models import RegistrationField
from tests.admin_browser import focus_when_said, said_at, sign_in, watch_status
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.test_platform import create_field, create_group, person, rule

pytestmark = pytest.mark.browser
NL = "nl-BE"


def q(text: str) -> str:
    """A value quoted as the Dutch console quotes it."""
    return f"\u2018{text}\u2019"


async def smart_group(admin: GraphQLClient, title: str, dutch: str, key: str, value: Any) -> None:
    rules = [rule("FIELD", "IS", value, fieldKey=key)]
    titles = [{"locale": NL, "text": dutch}]
    made = await create_group(admin, title, "SMART", rules=rules, titles=titles)
    assert made["errors"] == []


async def test_a_field_smart_groups_test_is_not_offered_for_deletion_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    made = await create_field(
        admin,
        "neighbourhood",
        "SELECT",
        title="Neighbourhood",
        titles=[{"locale": NL, "text": "Wijk"}],
        options=[{"key": "north", "title": "North"}, {"key": "river", "title": "Riverside"}],
    )
    assert made["errors"] == []
    assert (
        await create_field(admin, "age", "NUMBER", titles=[{"locale": NL, "text": "Leeftijd"}])
    )["errors"] == []
    await smart_group(admin, "Riverside neighbourhood", "Wijk Rivierkant", "neighbourhood", "river")
    for n in range(4):
        await person(f"p{n}@example.org", neighbourhood="river")

    async with browse(browser, live_server, locale=NL, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/fields?lang=nl-BE")
        wijk = page.locator("#fields li.card", has_text="neighbourhood")
        delete = wijk.get_by_role("button", name="Wijk verwijderen")
        await delete.click()
        in_use = page.locator("#in-use")
        await expect(in_use.get_by_role("heading")).to_have_text(
            "Het veld Wijk kan niet verwijderd worden"
        )
        await expect(in_use.locator("p")).to_have_text(
            f"De slimme groep {q('Wijk Rivierkant')} heeft regels op dit veld: pas die regels"
            " eerst aan of verwijder ze, op de pagina Groepen."
        )
        # Nothing there deletes: a delete would be refused.
        await expect(in_use.get_by_role("button", name="Verwijderen")).to_have_count(0)
        await expect(page.locator("#confirm")).to_be_hidden()
        await expect(in_use.get_by_role("button", name="Sluiten")).to_be_focused()
        await expect(in_use.get_by_role("link", name="Naar Groepen")).to_be_visible()
        await check_accessibility(page)
        await visit.screenshot("field-in-use")
        await in_use.get_by_role("button", name="Sluiten").click()
        await expect(in_use).to_be_hidden()
        await expect(delete).to_be_focused()

        # Two groups: said in the plural.
        await smart_group(admin, "Northerners", "Noorderlingen", "neighbourhood", "north")
        await delete.click()
        await expect(in_use.locator("p")).to_have_text(
            f"De slimme groepen {q('Noorderlingen')}, {q('Wijk Rivierkant')} hebben regels op dit"
            " veld: pas die regels eerst aan of verwijder ze, op de pagina Groepen."
        )
        await page.keyboard.press("Escape")
        await expect(in_use).to_be_hidden()
        assert await RegistrationField.filter(key="neighbourhood").exists()

        # A field no group tests is offered for deletion; a group that came to test it
        # meanwhile has the delete refused, in Dutch, its one group's Dutch title.
        age = page.locator("#fields li.card", has_text="age")
        await age.get_by_role("button", name="Leeftijd verwijderen").click()
        confirm = page.locator("#confirm")
        await expect(confirm).to_contain_text("Het veld Leeftijd verwijderen?")
        await smart_group(admin, "Adults", "Volwassenen", "age", "30")
        await confirm.get_by_role("button", name="Verwijderen").click()
        await expect(page.locator("#problem")).to_have_text(
            f"De slimme groep {q('Volwassenen')} heeft regels op Leeftijd: pas die regels eerst"
            " aan of verwijder ze."
        )
        assert await RegistrationField.filter(key="age").exists()


async def test_the_title_the_default_language_needs_is_marked_and_said_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    async with browse(browser, live_server, locale=NL, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/fields?lang=nl-BE")
        english = page.locator("#new-title-en")
        await expect(page.locator("label[for=new-title-en]")).to_have_text(
            "Titel (English, verplicht)"
        )
        await expect(english).to_have_attribute("required", "")
        await expect(english).to_have_attribute("aria-required", "true")
        hint = (
            "Een titel in English, de standaardtaal van het platform, is verplicht. De andere"
            " talen zijn optioneel: wie een taal leeg laat, toont er de titel in English."
        )
        await expect(english).to_have_accessible_description(hint)
        for other in ("#new-title-nl-BE", "#new-title-fr-BE"):
            assert await page.locator(other).get_attribute("required") is None

        # Only the Dutch title: said at the English one, and why.
        await page.fill("#new-key", "housing")
        await page.fill("#new-title-nl-BE", "Woonsituatie")
        await page.click("#new-field button[type=submit]")
        assert await said_at(page, "#new-title-en") == (
            "Typ een titel in English: de standaardtaal van het platform heeft er een nodig."
            " Titels in de andere talen zijn optioneel."
        )
        await expect(english).to_be_focused()
        await check_accessibility(page)

        # In the edit dialog too.
        await page.fill("#new-title-en", "Housing")
        await page.click("#new-field button[type=submit]")
        card = page.locator("#fields li.card", has_text="housing")
        await card.get_by_role("button", name="Woonsituatie wijzigen").click()
        await page.fill("#edit-title-en", "")
        await page.click("#edit-form button[type=submit]")
        assert (await said_at(page, "#edit-title-en")).startswith("Typ een titel in English:")
        await expect(page.locator("label[for=edit-title-en]")).to_have_text(
            "Titel (English, verplicht)"
        )
        await check_accessibility(page)


async def test_a_new_field_gets_the_focus_in_the_list_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Made with the form (by keyboard): the focus goes to the new field in the list, its
    heading, whose buttons come next; then the status says it is made. Saved in the edit
    dialog: the focus goes back to the field's Edit button, then the status says so."""
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    async with browse(browser, live_server, locale=NL, viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/fields?lang=nl-BE")
        await expect(page.locator("#fields li.card")).to_have_count(1)
        await watch_status(page)
        await page.locator("#new-key").focus()
        await page.keyboard.type("housing")
        await page.locator("#new-title-en").fill("Housing")
        await page.locator("#new-title-nl-BE").fill("Woonsituatie")
        await page.locator("#new-title-fr-BE").fill("Logement")
        await page.locator("#new-title-fr-BE").press("Enter")
        card = page.locator("#fields li.card", has_text="housing")
        heading = card.get_by_role("heading", name="Woonsituatie")
        await expect(heading).to_be_focused()
        await expect(page.get_by_role("status").filter(has_text="Het veld")).to_have_text(
            "Het veld Woonsituatie is gemaakt."
        )
        assert await focus_when_said(page) == [
            ("Het veld Woonsituatie is gemaakt.", "Woonsituatie", True)
        ]
        await expect(page.locator("#new-key")).to_have_value("")
        await check_accessibility(page)
        # Its buttons come next, in order.
        await page.keyboard.press("Tab")
        edit = card.get_by_role("button", name="Woonsituatie wijzigen")
        await expect(edit).to_be_focused()

        await watch_status(page)
        await page.keyboard.press("Enter")
        await expect(page.locator("#edit")).to_be_visible()
        await page.locator("#edit-title-nl-BE").fill("Woonvorm")
        await page.locator("#edit-title-nl-BE").press("Enter")
        await expect(page.locator("#edit")).to_be_hidden()
        edit = card.get_by_role("button", name="Woonvorm wijzigen")
        await expect(edit).to_be_focused()
        await expect(page.locator("#done")).to_have_text("Bewaard.")
        assert await focus_when_said(page) == [("Bewaard.", "Woonvorm wijzigen", True)]
        await check_accessibility(page)
