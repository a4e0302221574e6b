"""Groups, Registration fields and Mail delivery in the admin console, in a real Chromium
against the real API: a smart group and its member count, a manual group's members added by
address and removed, a registration field created and its options edited, a field a smart
group tests refused deletion, the mail set-up readable; in Dutch and French, at desktop and
phone width, axe-core on every page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from domain.models import FieldType, Group, GroupKind, Membership, RegistrationField, User
from tests.admin_browser import focus_when_said, said_at, sign_in, watch_status
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.test_platform import person

pytestmark = pytest.mark.browser


def q(text: str) -> str:
    """A value quoted as the Dutch and English console quote it."""
    return f"\u2018{text}\u2019"


async def test_an_admin_makes_a_smart_and_a_manual_group_in_dutch_on_a_phone(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    await person("jan@stad.example.org", last_name="Peeters")
    await person("els@stad.example.org", last_name="Claes")
    await person("tom@elders.example.net", last_name="Maes")

    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=nl-BE")
        await expect(page.locator("h1")).to_have_text("Groepen")
        await expect(page.locator("#empty")).to_be_visible()
        await check_accessibility(page)

        # A smart group: everyone whose address is at stad.example.org.
        await page.fill("#new-title-en", "City staff")
        await page.fill("#new-title-nl-BE", "Stadspersoneel")
        await page.check("#kind-smart")
        rule = page.locator("#rules .rule-row").first
        await expect(rule).to_be_visible()
        await rule.locator("[data-name=attribute]").select_option("EMAIL_DOMAIN")
        await rule.locator("[data-name=operator]").select_option("IS")
        await rule.locator("[data-name=value]").fill("stad.example.org")
        await check_accessibility(page)
        await page.click("#new-group button[type=submit]")
        await expect(page.locator("#done")).to_have_text(
            f"De groep Stadspersoneel is gemaakt. Geen titel in Français voor {q('City staff')}:"
            " wie Français gebruikt, ziet daar de titel in English."
        )
        smart = page.locator("#groups li.card", has_text="Stadspersoneel")
        await expect(smart.locator(".member-count")).to_contain_text("2 leden")
        await expect(smart.locator("ul.rules")).to_have_text(
            "E-maildomein is gelijk aan stad.example.org"
        )

        # Its rules edited: the members follow at once.
        await smart.get_by_role("button", name="Stadspersoneel wijzigen").click()
        edited = page.locator("#edit-rules .rule-row")
        await expect(edited).to_have_count(1)
        await expect(edited.locator("[data-name=value]")).to_have_value("stad.example.org")
        await edited.locator("[data-name=operator]").select_option("IS_ONE_OF")
        await edited.locator("[data-name=value]").fill("stad.example.org, elders.example.net")
        await check_accessibility(page)
        await page.click("#edit-form button[type=submit]")
        await expect(smart.locator(".member-count")).to_contain_text("3 leden")
        await expect(smart.locator("ul.rules")).to_have_text(
            "E-maildomein is een van stad.example.org, elders.example.net"
        )

        # A rule the API refuses is shown, and nothing is made.
        await page.fill("#new-title-en", "Broken")
        await page.check("#kind-smart")
        await page.locator("#rules .rule-row [data-name=attribute]").first.select_option(
            "EMAIL_DOMAIN"
        )
        await page.locator("#rules .rule-row [data-name=value]").first.fill("stad example")
        await page.click("#new-group button[type=submit]")
        value = "#rules .rule-row [data-name=value] >> nth=0"
        assert await said_at(page, value) == (
            f"{q('stad example')} is geen e-maildomein zoals example.org."
        )
        await expect(page.locator(value)).to_be_focused()
        await expect(page.locator("#new-problem")).to_be_hidden()
        assert not await Group.filter(title="Broken").exists()
        await page.locator("#rules .rule-row [data-remove]").first.click()
        await page.check("#kind-manual")

        # A manual group: members added by address (an unknown one named), then one removed.
        await page.fill("#new-title-en", "Neighbourhood council")
        await page.click("#new-group button[type=submit]")
        manual = page.locator("#groups li.card", has_text="Neighbourhood council")
        await expect(manual.locator(".member-count")).to_contain_text("0 leden")
        await visit.screenshot("groups-phone")
        await manual.get_by_role("button", name="Leden van Neighbourhood council").click()
        members = page.locator("#members")
        await expect(members).to_be_visible()
        await page.fill("#member-emails", "jan@stad.example.org, nobody@example.org")
        await page.click("#add-members button[type=submit]")
        assert await said_at(page, "#member-emails") == (
            f"Niemand heeft een account met het adres {q('nobody@example.org')}: nodig die"
            " persoon uit."
        )
        assert await Membership.all().count() == 0
        await page.fill("#member-emails", "jan@stad.example.org, TOM@elders.example.net")
        await page.click("#add-members button[type=submit]")
        await expect(page.locator("#members-count")).to_have_text("2 leden")
        await expect(members.locator("tbody tr")).to_have_count(2)
        await page.fill("#member-search", "to")
        await expect(page.locator("#members-count")).to_have_text("1 lid")
        await page.fill("#member-search", "")
        await expect(members.locator("tbody tr")).to_have_count(2)
        await check_accessibility(page)
        await visit.screenshot("groups-members-phone")
        remove_tom = "tom@elders.example.net uit de groep halen"
        await members.get_by_role("button", name=remove_tom).click()
        await page.locator("#confirm").get_by_role("button", name="Weghalen").click()
        await expect(page.locator("#members-count")).to_have_text("1 lid")
        tom = await User.get(email="tom@elders.example.net")
        assert not await Membership.filter(user=tom).exists()
        await members.get_by_role("button", name="Sluiten").click()
        await expect(manual.locator(".member-count")).to_contain_text("1 lid")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Its invitations are a link away, in the same language.
        link = manual.get_by_role("link", name="Uitnodigingen die Neighbourhood council noemen")
        href = await link.get_attribute("href") or ""
        group_id = (await Group.get(title="Neighbourhood council")).id
        assert href == f"/admin/invitations?groupId={group_id}&lang=nl-BE"

        # Rename, with its Dutch title; then delete after confirming.
        await manual.get_by_role("button", name="Naam van Neighbourhood council wijzigen").click()
        await page.fill("#edit-title-nl-BE", "Wijkraad")
        await page.click("#edit-form button[type=submit]")
        council = page.locator("#groups li.card", has_text="Wijkraad")
        await expect(council).to_be_visible()
        await council.get_by_role("button", name="Wijkraad verwijderen").click()
        await expect(page.locator("#confirm")).to_contain_text("Het enige lid verlaat de groep.")
        await page.locator("#confirm").get_by_role("button", name="Verwijderen").click()
        await expect(page.locator("#done")).to_have_text("De groep Wijkraad is verwijderd.")
        assert await Group.all().count() == 1


async def test_an_admin_sets_up_registration_fields_and_reads_the_mail_set_up_in_french(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    async with browse(browser, live_server, locale="fr-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/fields?lang=fr-BE")
        await expect(page.locator("h1")).to_have_text("Champs d'inscription")
        await check_accessibility(page)

        await page.fill("#new-key", "district")
        await page.select_option("#new-type", "SELECT")
        await page.fill("#new-title-en", "District")
        await page.fill("#new-title-fr-BE", "Quartier")
        options = page.locator("#new-options-box .option-row")
        await options.first.locator("[data-name=key]").fill("north")
        await options.first.locator("[data-name=title-en]").fill("North")
        await page.locator("#new-options-box [data-add-option]").click()
        await options.nth(1).locator("[data-name=key]").fill("south")
        await options.nth(1).locator("[data-name=title-en]").fill("South")
        await options.nth(1).locator("[data-name=title-fr-BE]").fill("Sud")
        await check_accessibility(page)
        await page.click("#new-field button[type=submit]")
        # Saved, with a warning for each language some title is missing in.
        await expect(page.locator("#done")).to_have_text(
            "Le champ Quartier est créé. Pas de titre en Nederlands pour « District », « North »,"
            " « South » : les personnes qui utilisent cette langue voient le titre en English à"
            " la place. Pas de titre en Français pour « North » : les personnes qui utilisent"
            " cette langue voient le titre en English à la place."
        )
        field = page.locator("#fields li.card", has_text="district")
        await expect(field).to_contain_text("Quartier")
        await expect(field).to_contain_text("North, Sud")

        # Edit its options: a French title, one more option, one removed.
        await field.get_by_role("button", name="Modifier Quartier").click()
        edit = page.locator("#edit-options-box .option-row")
        await expect(edit).to_have_count(2)
        assert await edit.first.locator("[data-name=key]").get_attribute("readonly") is not None
        await edit.first.locator("[data-name=title-fr-BE]").fill("Nord")
        await edit.nth(1).locator("[data-remove]").click()
        await page.locator("#edit-options-box [data-add-option]").click()
        await edit.nth(1).locator("[data-name=key]").fill("centre")
        await edit.nth(1).locator("[data-name=title-en]").fill("Centre")
        await check_accessibility(page)
        await page.click("#edit-form button[type=submit]")
        await expect(field).to_contain_text("Nord, Centre")
        stored = await RegistrationField.get(key="district")
        assert [option["key"] for option in stored.options] == ["north", "centre"]
        await visit.screenshot("fields")

        # A field a smart group tests cannot be deleted: no delete is offered, the group named.
        made = await admin(
            """mutation { createGroup(input: {title: "Northerners", kind: SMART, rules: [
                {attribute: FIELD, fieldKey: "district", operator: IS, value: "north"}]}) {
                errors { code } } }"""
        )
        assert made["createGroup"]["errors"] == []
        await field.get_by_role("button", name="Supprimer Quartier").click()
        await expect(page.locator("#in-use")).to_contain_text(
            "Le groupe intelligent « Northerners » a des règles sur ce champ"
        )
        await page.locator("#in-use").get_by_role("button", name="Fermer").click()
        assert await RegistrationField.filter(key="district").exists()

        # Mail delivery: the records and the allowlisting steps, readable.
        await page.click("nav.sections a[href*='/admin/mail']")
        await expect(page.locator("h1")).to_have_text("Distribution des e-mails")
        await expect(page.locator("#dns tbody tr").first).to_be_visible()
        await expect(page.locator("#exchange-steps li").first).to_be_visible()
        await expect(page.locator("#google-steps li").first).to_be_visible()
        # In the page's language, the deployment's values in place.
        await expect(page.locator("#dns tbody tr").first).to_contain_text(
            "SPF : les serveurs autorisés à envoyer"
        )
        await expect(page.locator("#exchange-steps li").nth(3)).to_have_text(
            "Sous Allowed domains, ajoutez participate.example.org."
        )
        await expect(page.locator("#check-commands")).to_contain_text("# la stratégie DMARC")
        await check_accessibility(page)
        await visit.screenshot("mail")
        # On a phone, each record is a card whose long words wrap: nothing scrolls sideways.
        await page.set_viewport_size(PHONE)
        box = page.locator("#dns").locator("xpath=..")
        assert await box.evaluate("b => b.scrollWidth <= b.clientWidth")
        assert await check_accessibility(page) == []  # not even a minor or moderate one
        await page.set_viewport_size(DESKTOP)
        await page.fill("#lift-email", "nobody@example.org")
        await page.click("#lift button[type=submit]")
        await expect(page.locator("#lift-result")).to_have_text(
            "nobody@example.org n'était pas bloquée."
        )


async def test_problems_are_said_in_dutch_at_the_input_they_are_about(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Registration fields and groups: each problem in the admin's language, once, beside the
    input it is about (aria-invalid, read with it), the focus on the first; a title left
    empty in a language is a warning; deleting a field says first how many answers go."""
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/fields?lang=nl-BE")
        await page.fill("#new-key", "Geboorte Jaar")
        await page.fill("#new-title-en", "Year of birth")
        await page.click("#new-field button[type=submit]")
        assert await said_at(page, "#new-key") == (
            "Gebruik een sleutel van kleine letters, cijfers en liggende streepjes, die met een"
            " letter begint (niet admin, email, first_name, groups, language, last_name of"
            " token)."
        )
        await expect(page.locator("#new-key")).to_be_focused()
        await expect(page.locator("#new-problem")).to_be_hidden()
        await check_accessibility(page)

        # Two options with one key: said at the second.
        await page.fill("#new-key", "leeftijd")
        await page.fill("#new-title-en", "Age")
        await page.fill("#new-title-nl-BE", "Leeftijd")
        await page.select_option("#new-type", "SELECT")
        options = page.locator("#new-options-box .option-row")
        await options.first.locator("[data-name=key]").fill("jong")
        await page.locator("#new-options-box [data-add-option]").click()
        await options.nth(1).locator("[data-name=key]").fill("jong")
        await page.click("#new-field button[type=submit]")
        second = "#new-options-box .option-row >> nth=1 >> [data-name=key]"
        assert await said_at(page, second) == (
            f"Twee keuzes heten {q('jong')}: geef elke keuze een eigen sleutel en titel."
        )
        await expect(page.locator(second)).to_be_focused()
        # The mark of the earlier problem is gone.
        assert await page.get_attribute("#new-key", "aria-invalid") is None
        await check_accessibility(page)

        # Saved with an option without a French title: a warning, not a refusal.
        await options.nth(1).locator("[data-name=key]").fill("midden")
        await options.nth(1).locator("[data-name=title-en]").fill("30 to 65")
        await options.nth(1).locator("[data-name=title-nl-BE]").fill("30 tot 65")
        await options.first.locator("[data-name=title-nl-BE]").fill("Jong")
        await options.first.locator("[data-name=title-fr-BE]").fill("Jeune")
        await page.fill("#new-title-fr-BE", "Âge")
        await page.click("#new-field button[type=submit]")
        await expect(page.locator("#done")).to_have_text(
            f"Het veld Leeftijd is gemaakt. Geen titel in Français voor {q('30 to 65')}: wie"
            " Français gebruikt, ziet daar de titel in English."
        )
        assert await RegistrationField.filter(key="leeftijd").exists()

        # The same key again: said at the key, in Dutch.
        await page.fill("#new-key", "leeftijd")
        await page.fill("#new-title-en", "Age again")
        await page.select_option("#new-type", "NUMBER")
        await page.click("#new-field button[type=submit]")
        taken = f"Er is al een veld met de sleutel {q('leeftijd')}."
        assert await said_at(page, "#new-key") == taken

        # Deleting it says first how many answers go with it.
        await person("an@example.org", leeftijd="midden")
        field = page.locator("#fields li.card", has_text="leeftijd")
        await field.get_by_role("button", name="Leeftijd verwijderen").click()
        await expect(page.locator("#confirm")).to_contain_text(
            "Antwoorden die mee gewist worden: 1 persoon, 0 uitnodigingen."
        )
        await page.locator("#confirm").get_by_role("button", name="Annuleren").click()
        assert await RegistrationField.filter(key="leeftijd").exists()

        # Groups: a title taken, and a smart group whose two rules have no value.
        await page.click("nav.sections a[href*='/admin/groups']")
        await page.fill("#new-title-en", "North Avenue Residents")
        await page.click("#new-group button[type=submit]")
        await expect(page.locator("#done")).to_contain_text("North Avenue Residents")
        await page.fill("#new-title-en", "north avenue residents")
        await page.click("#new-group button[type=submit]")
        assert await said_at(page, "#new-title-en") == (
            f"Er is al een groep met de naam {q('north avenue residents')}."
        )
        await page.fill("#new-title-en", "Smart")
        await page.check("#kind-smart")
        await page.click("#add-rule")
        await page.click("#new-group button[type=submit]")
        for nth in (0, 1):
            value = f"#rules .rule-row >> nth={nth} >> [data-name=value]"
            assert await said_at(page, value) == "De regel heeft een waarde nodig."
        await expect(page.locator("#rules .rule-row >> nth=0 >> [data-name=value]")).to_be_focused()
        await expect(page.locator("#new-problem")).to_be_hidden()
        await check_accessibility(page)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_group_members_and_lifting_a_block_say_what_is_not_an_address_in_french(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    group = await Group.create(title="Council", kind=GroupKind.MANUAL)
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=fr-BE")
        card = page.locator("#groups li.card", has_text="Council")
        await card.get_by_role("button", name="Membres de Council").click()
        await page.fill("#member-emails", "pas-une-adresse, inconnu@example.be")
        await page.click("#add-members button[type=submit]")
        assert await said_at(page, "#member-emails") == (
            "« pas-une-adresse » : Ce n'est pas une adresse e-mail valide. Personne n'a de compte"
            " avec l'adresse « inconnu@example.be » : invitez plutôt cette personne."
        )
        await expect(page.locator("#member-emails")).to_be_focused()
        await expect(page.locator("#members-problem")).to_be_hidden()
        await check_accessibility(page)
        assert not await Membership.filter(group=group).exists()
        await page.locator("#members").get_by_role("button", name="Fermer").click()

        await page.click("nav.sections a[href*='/admin/mail']")
        await page.fill("#lift-email", "pas une adresse")
        await page.click("#lift button[type=submit]")
        assert await said_at(page, "#lift-email") == "Ce n'est pas une adresse e-mail valide."
        await expect(page.locator("#lift-email")).to_be_focused()
        await expect(page.locator("#lift-result")).to_be_hidden()
        await check_accessibility(page)


async def test_the_focus_comes_back_to_the_control_a_dialog_was_opened_with_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Closing the members dialog (Close or Escape) and saving a rename rebuild the list: the
    focus goes to the group's rebuilt button; after a deletion, to the list's heading."""
    await Group.create(title="Residents", kind=GroupKind.MANUAL)
    await Group.create(title="Leavers", kind=GroupKind.MANUAL)
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=nl-BE")
        members_button = page.get_by_role("button", name="Leden van Residents")
        await members_button.click()
        await expect(page.locator("#members")).to_be_visible()
        await expect(page.locator("#members-count")).to_have_text("0 leden")
        await page.keyboard.press("Escape")
        await expect(page.locator("#members")).to_be_hidden()
        await expect(members_button).to_be_focused()
        await members_button.click()
        await page.locator("#members").get_by_role("button", name="Sluiten").click()
        await expect(members_button).to_be_focused()

        await page.get_by_role("button", name="Naam van Residents wijzigen").click()
        await page.fill("#edit-title-nl-BE", "Bewoners")
        await watch_status(page)
        await page.click("#edit-form button[type=submit]")
        await expect(page.locator("#done")).to_contain_text("Bewaard.")
        await expect(page.get_by_role("button", name="Naam van Bewoners wijzigen")).to_be_focused()
        # The status is set once the focus is on the rebuilt button, as after a new group.
        [(said, focused, still)] = await focus_when_said(page)
        assert said.startswith("Bewaard.")
        assert (focused, still) == ("Naam van Bewoners wijzigen", True)

        await page.get_by_role("button", name="Leavers verwijderen").click()
        await page.locator("#confirm").get_by_role("button", name="Verwijderen").click()
        await expect(page.locator("#done")).to_have_text("De groep Leavers is verwijderd.")
        await expect(page.locator("#list-title")).to_be_focused()
        await check_accessibility(page)


async def test_a_new_group_gets_the_focus_in_the_list_in_french(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Made with the form (by keyboard): the focus goes to the new group in the list, its
    heading, whose link and buttons come next; the status says it is made."""
    await Group.create(title="Residents", kind=GroupKind.MANUAL)
    async with browse(browser, live_server, locale="fr-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=fr-BE")
        await expect(page.locator("#groups li.card")).to_have_count(1)
        await page.locator("#new-title-en").focus()
        await page.keyboard.type("Neighbourhood council")
        await page.locator("#new-title-nl-BE").fill("Wijkraad")
        await page.locator("#new-title-fr-BE").fill("Conseil de quartier")
        await page.keyboard.press("Enter")
        card = page.locator("#groups li.card", has_text="Conseil de quartier")
        heading = card.get_by_role("heading", name="Conseil de quartier")
        await expect(heading).to_be_focused()
        done = page.get_by_role("status").filter(has_text="Le groupe")
        await expect(done).to_have_text("Le groupe Conseil de quartier est créé.")
        await expect(page.locator("#new-title-en")).to_have_value("")
        await check_accessibility(page)
        # Its link and buttons come next, in order.
        await page.keyboard.press("Tab")
        await expect(
            card.get_by_role("link", name="Invitations qui mentionnent Conseil de quartier")
        ).to_be_focused()
        await page.keyboard.press("Tab")
        await expect(
            card.get_by_role("button", name="Membres de Conseil de quartier")
        ).to_be_focused()


async def test_a_rule_on_a_select_field_a_language_or_a_role_is_picked_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """A select field's value is one of its options, shown by its Dutch title and stored by
    its key; is one of: a check box per option; only the operators that fit are offered; the
    language and the role are picked too, and the cards say the titles."""
    await RegistrationField.create(
        key="wijk",
        title="Neighbourhood",
        title_multiloc={"nl-BE": "Wijk"},
        type=FieldType.SELECT,
        options=[
            {"key": "riverside", "title": "Riverside", "title_multiloc": {"nl-BE": "Rivierkant"}},
            {"key": "centre", "title": "Centre", "title_multiloc": {"nl-BE": "Centrum"}},
            {"key": "harbour", "title": "Harbour", "title_multiloc": {"nl-BE": "Haven"}},
        ],
    )
    await person("an@example.org", wijk="riverside")
    await person("bert@example.org", wijk="centre")
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=nl-BE")
        await page.fill("#new-title-en", "Riverside")
        await page.check("#kind-smart")
        rule = page.locator("#rules .rule-row").first
        await rule.locator("[data-name=attribute]").select_option("FIELD")
        await rule.locator("[data-name=fieldKey]").select_option("wijk")
        await expect(rule.locator("[data-name=operator] option")).to_have_text(
            ["is gelijk aan", "is niet", "is een van"]
        )
        value = rule.get_by_role("combobox", name="Waarde")
        await expect(value.locator("option")).to_have_text(["Rivierkant", "Centrum", "Haven"])
        await value.select_option(label="Rivierkant")
        await check_accessibility(page)
        await page.click("#new-group button[type=submit]")
        card = page.locator("#groups li.card", has_text="Riverside")
        await expect(card.locator("ul.rules")).to_have_text("Wijk is gelijk aan Rivierkant")
        await expect(card.locator(".member-count")).to_contain_text("1 lid")
        group = await Group.get(title="Riverside")
        assert group.rules[0]["value"] == "riverside"

        # Is one of: a check box per option, the one picked before ticked.
        await card.get_by_role("button", name="Riverside wijzigen").click()
        edited = page.locator("#edit-rules .rule-row").first
        await expect(edited.get_by_role("combobox", name="Waarde")).to_have_value("riverside")
        await edited.locator("[data-name=operator]").select_option("IS_ONE_OF")
        choices = edited.get_by_role("group", name="Waarde")
        await expect(choices.get_by_role("checkbox", name="Rivierkant")).to_be_checked()
        await choices.get_by_role("checkbox", name="Centrum").check()
        await check_accessibility(page)
        await page.click("#edit-form button[type=submit]")
        await expect(card.locator("ul.rules")).to_have_text("Wijk is een van Rivierkant, Centrum")
        await expect(card.locator(".member-count")).to_contain_text("2 leden")

        # An option removed since the page was loaded: refused, the options left listed.
        await page.fill("#new-title-en", "Harbour")
        await page.check("#kind-smart")
        harbour = page.locator("#rules .rule-row").first
        await harbour.locator("[data-name=attribute]").select_option("FIELD")
        await harbour.locator("[data-name=fieldKey]").select_option("wijk")
        await harbour.get_by_role("combobox", name="Waarde").select_option(label="Haven")
        field = await RegistrationField.get(key="wijk")
        field.options = field.options[:2]
        await field.save()
        await page.click("#new-group button[type=submit]")
        assert await said_at(page, "#rules .rule-row >> nth=0 >> [data-name=value]") == (
            f"{q('Haven')} is geen van de keuzes van het veld: {q('Rivierkant')}, {q('Centrum')}."
        )
        await harbour.locator("[data-remove]").click()
        await page.check("#kind-manual")
        await page.fill("#new-title-en", "")

        # The language and the role: picked by their names, with the operators that fit.
        await page.fill("#new-title-en", "Dutch admins")
        await page.check("#kind-smart")
        language = page.locator("#rules .rule-row").first
        await language.locator("[data-name=attribute]").select_option("LOCALE")
        await expect(language.locator("[data-name=operator] option")).to_have_text(
            ["is gelijk aan", "is niet", "is een van"]
        )
        await language.get_by_role("combobox", name="Waarde").select_option(label="Nederlands")
        await page.click("#add-rule")
        role = page.locator("#rules .rule-row").nth(1)
        await role.locator("[data-name=attribute]").select_option("ROLE")
        await expect(role.locator("[data-name=operator] option")).to_have_text(
            ["is gelijk aan", "is niet"]
        )
        await expect(role.get_by_role("combobox", name="Waarde").locator("option")).to_have_text(
            ["Beheerder", "Projectbeheerder"]
        )
        await check_accessibility(page)
        await page.click("#new-group button[type=submit]")
        card = page.locator("#groups li.card", has_text="Dutch admins")
        await expect(card.locator("ul.rules li")).to_have_text(
            ["Taal is gelijk aan Nederlands", "Rol is gelijk aan Beheerder"]
        )
        stored = (await Group.get(title="Dutch admins")).rules
        assert [item["value"] for item in stored] == ["nl-BE", "admin"]
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_member_is_removed_after_confirming_and_the_dialog_says_who_in_french(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Removing asks first; Cancel keeps the member and the focus; once removed, the dialog
    itself says who left (the page behind it is inert) and the focus is on the next member's
    Remove button. Adding says who was added, in the dialog too."""
    group = await Group.create(title="Council", kind=GroupKind.MANUAL)
    for name in ("anna", "bram", "cleo"):
        user = await person(f"{name}@example.be", last_name=name.title())
        await Membership.create(group=group, user=user)
    await person("dirk@example.be", last_name="Dirk")
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=fr-BE")
        await page.get_by_role("button", name="Membres de Council").click()
        members = page.locator("#members")
        await expect(members.locator("tbody tr")).to_have_count(3)
        remove_bram = members.get_by_role("button", name="Retirer bram@example.be du groupe")
        await remove_bram.click()
        confirm = page.locator("#confirm")
        await expect(confirm).to_contain_text("Retirer Bram Bram de Council ?")
        await expect(confirm).to_contain_text("bram@example.be ne sera plus membre de Council")
        await check_accessibility(page)
        await confirm.get_by_role("button", name="Annuler").click()
        await expect(remove_bram).to_be_focused()
        assert await Membership.filter(group=group).count() == 3

        await remove_bram.click()
        await confirm.get_by_role("button", name="Retirer").click()
        status = members.locator("[role=status]#members-done")
        await expect(status).to_have_text("bram@example.be ne fait plus partie de Council.")
        await expect(members.locator("tbody tr")).to_have_count(2)
        await expect(
            members.get_by_role("button", name="Retirer cleo@example.be du groupe")
        ).to_be_focused()
        bram = await User.get(email="bram@example.be")
        assert not await Membership.filter(group=group, user=bram).exists()

        await page.fill("#member-emails", "dirk@example.be")
        await page.click("#add-members button[type=submit]")
        await expect(status).to_have_text("1 personne ajoutée : dirk@example.be.")
        await expect(page.locator("#done")).to_be_hidden()
        await check_accessibility(page)


async def test_the_title_in_the_default_language_is_marked_required_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """Only the title in the platform's default language is needed: its box says so (and is
    required for assistive technology); a group with only a Dutch title is refused there,
    saying why."""
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups?lang=nl-BE")
        english = page.get_by_role("textbox", name="Titel (English, verplicht)")
        await expect(english).to_have_attribute("aria-required", "true")
        await expect(english).to_have_attribute("required", "")
        await expect(english).to_have_accessible_description(
            "Verplicht: de titel in English, de standaardtaal van het platform. De titels in de"
            " andere talen zijn niet verplicht."
        )
        await expect(page.get_by_role("textbox", name="Titel (Nederlands)")).not_to_have_attribute(
            "aria-required", "true"
        )
        await page.fill("#new-title-nl-BE", "Wijkraad")
        await page.click("#new-group button[type=submit]")
        assert await said_at(page, "#new-title-en") == (
            "Typ een titel in English: de standaardtaal van het platform heeft er een nodig (de"
            " andere talen niet)."
        )
        await expect(english).to_be_focused()
        await check_accessibility(page)
        assert not await Group.exists()
