"""A required registration field added after a resident registered: /account says at the top,
in her language, that a new question needs her answer, and marks it; just signed in, the focus
is on that notice; once answered and saved, it is gone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from domain.models import User
from tests.browser import PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import PASSWORD
from tests.test_platform import create_field
from tests.test_resident_journeys import a_resident

pytestmark = pytest.mark.browser


async def test_a_new_required_question_is_said_on_the_account_page_in_french(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    await a_resident("sam@example.org", "fr-BE")
    housing = await create_field(
        admin,
        "housing",
        "SELECT",
        title="Housing",
        required=True,
        options=[{"key": "owner", "title": "Owner"}, {"key": "tenant", "title": "Tenant"}],
    )
    assert housing["errors"] == []

    async with browse(browser, live_server, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/account")
        await page.fill("#email", "sam@example.org")
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")
        # The page comes again in her language; the focus on what needs her answer.
        notice = page.locator("#fields-needed")
        await expect(notice).to_have_text(
            "Une nouvelle question attend votre réponse : Housing. Répondez-y sous Vos données"
            " et enregistrez."
        )
        await expect(notice).to_be_focused()
        await expect(page).to_have_url(re.compile(r"/account\?lang=fr-BE$"))
        question = page.locator("#field-housing")
        await expect(question).to_have_accessible_description(
            re.compile("^Nouvelle question : merci d'y répondre.")
        )
        await expect(page.locator(".field-new")).to_have_count(1)
        await check_accessibility(page)
        await visit.screenshot("account-new-question")

        # Opened again later: still said, the focus left where a page leaves it.
        await page.reload()
        await expect(notice).to_be_visible()
        await expect(notice).not_to_be_focused()

        # Answered and saved: nothing more to say.
        await page.fill("#firstName", "Samira")
        await question.select_option("tenant")
        await page.click("#profile-form button[type=submit]")
        await expect(page.locator("#profile-progress")).to_have_text("Enregistré.")
        await expect(notice).to_be_hidden()
        await expect(page.locator(".field-new")).to_have_count(0)
        user = await User.get(email="sam@example.org")
        assert (user.first_name, user.registration_field_values["housing"]) == (
            "Samira",
            "tenant",
        )
        await check_accessibility(page)
