"""The translations: every catalog complete and consistent, plural forms, choosing a locale."""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.catalog import Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from starlette.requests import Request

from api.admin import PAGES
from api.admin_manage import MANAGE_PROBLEM_WORDS
from api.languages import download_locale
from domain import i18n
from domain.errors import ErrorCode, Reason
from domain.settings import SettingsError, load_settings

ROOT = Path(__file__).parent.parent
SOURCES = [ROOT / "api", ROOT / "domain", ROOT / "schema", ROOT / "workers", ROOT / "cli"]
TEMPLATE_CALL = re.compile(r"""\bt(?:\.plural)?\(\s*["']([\w.]+)["']""")


def read(locale: str) -> PoCatalog:
    with i18n.catalog_files()[locale].open("rb") as po:
        return read_po(po, locale=locale.replace("-", "_"))


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def texts(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def messages(catalog: PoCatalog) -> dict[str, Message]:
    return {key(message): message for message in catalog if message.id}


def placeholders(text: str) -> set[str]:
    return set(i18n.PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def source() -> dict[str, Message]:
    return messages(read(i18n.SOURCE_LOCALE))


def test_the_platform_locales_each_have_a_catalog() -> None:
    assert set(i18n.catalog_files()) >= {"en", "nl-BE", "fr-BE"}


@pytest.mark.parametrize("locale", sorted(i18n.catalog_files()))
def test_every_catalog_has_every_message_with_the_same_placeholders(
    locale: str, source: dict[str, Message]
) -> None:
    catalog = read(locale)
    own = messages(catalog)
    assert sorted(own.keys() - source.keys()) == [], "messages the source catalog lacks"
    assert sorted(source.keys() - own.keys()) == [], "missing translations"
    for name, message in own.items():
        original = source[name]
        assert message.pluralizable == original.pluralizable, name
        assert not message.fuzzy, f"{name}: a fuzzy entry is not a translation yet"
        wanted = set().union(*(placeholders(text) for text in texts(original)))
        for text in texts(message):
            assert text.strip(), f"{locale} {name}: empty"
            # Braces only ever open and close a {name} placeholder: nothing else to escape.
            assert "{" not in i18n.PLACEHOLDER.sub("", text), (locale, name, text)
            assert "}" not in i18n.PLACEHOLDER.sub("", text), (locale, name, text)
            got = placeholders(text)
            # A plural form may leave {count} out ("one minute"); every other value stays.
            assert got - {"count"} == wanted - {"count"} and got <= wanted, (locale, name, text)
        if locale != i18n.SOURCE_LOCALE and i18n.language_of(locale) != "en":
            assert texts(message) != texts(original), f"{locale} {name}: still English"


@pytest.mark.parametrize("locale", sorted(i18n.catalog_files()))
def test_plural_forms_are_the_languages_own_and_agree_with_its_cldr_rules(locale: str) -> None:
    catalog = read(locale)
    expected = get_plural(locale.replace("-", "_"))
    assert catalog.num_plurals == expected.num_plurals, catalog.plural_forms
    assert catalog.plural_expr == expected.plural_expr, catalog.plural_forms
    for message in catalog:
        if message.id and message.pluralizable:
            assert len(message.string) == catalog.num_plurals, key(message)
    # Scripts pick a form by CLDR category (Intl.PluralRules): each category must mean one
    # gettext form, whatever the number.
    words = i18n.catalog(locale)
    forms = words.plural_forms("invite.rate_limited")
    assert set(forms) == set(words.babel_locale.plural_form.tags) | {"other"}
    for count in (0, 1, 2, 3, 5, 11, 21, 101, 1_000_000):
        category = words.babel_locale.plural_form(count)
        assert words.plural("invite.rate_limited", count) == i18n.fill(
            forms[category], {"count": count}
        ), (locale, count)


def test_every_message_a_template_asks_for_exists_and_every_message_is_used(
    source: dict[str, Message],
) -> None:
    asked: set[str] = set()
    text = ""
    for folder in SOURCES:
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".txt", ".py", ".js") and "catalogs" not in path.parts:
                content = path.read_text(encoding="utf-8")
                text += content
                if path.suffix in (".html", ".txt"):
                    asked |= set(TEMPLATE_CALL.findall(content))
    assert sorted(asked - source.keys()) == []
    unused = [name for name in source if f'"{name}"' not in text and f"'{name}'" not in text]
    assert unused == []


# The services (and resolvers) behind the console's management pages: Registration fields,
# Groups and their members, Webhooks, lifting a block on Mail delivery, and deleting and
# resending on All invitations.
MANAGED = [
    "domain/errors.py",
    "domain/validation.py",
    "domain/titles.py",
    "domain/registration_fields/service.py",
    "domain/groups/service.py",
    "domain/groups/rules.py",
    "domain/webhooks/subscriptions.py",
    "domain/webhooks/addresses.py",
    "domain/webhooks/signing.py",
    "domain/invitations/feedback.py",
    "domain/invitations/management.py",
    "schema/platform/mutations.py",
    "schema/webhooks/mutations.py",
    "schema/mail/mutations.py",
    "schema/invitations/mutations.py",
]


def _reasonless_invalid_input() -> list[str]:
    """Where a managed module refuses with INVALID_INPUT and no reason (which would leave the
    console only the code's words: there are none, INVALID_INPUT covers too much)."""
    found = []
    for path in MANAGED:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            code = node.args[0] if node.args else None
            code = next((k.value for k in node.keywords if k.arg == "code"), code)
            if (
                isinstance(code, ast.Attribute)
                and code.attr == "INVALID_INPUT"
                and not any(k.arg == "reason" for k in node.keywords)
            ):
                found.append(f"{path}:{node.lineno}")
    return found


# The modules behind the residents' confirmation step (/confirm, /invite, /account): the
# reasons they give are worded there (confirm.<reason>).
RESIDENTS = ["domain/users/registrations.py"]

# The modules behind an import at /admin/invite: its file, its rows, and the checks of every
# invitation.
IMPORTING = [
    "domain/imports/xlsx.py",
    "domain/imports/rows.py",
    "domain/imports/service.py",
    "domain/invitations/checks.py",
]


def _named(enum: str, paths: list[str] = MANAGED) -> set[str]:
    """The members of `enum` (ErrorCode, Reason) the managed modules (or `paths`) name."""
    found: set[str] = set()
    for path in paths:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == enum
            ):
                found.add(node.attr)
    return found


def test_every_problem_the_management_pages_can_get_has_words_in_every_language() -> None:
    codes = _named("ErrorCode")
    reasons = _named("Reason")
    assert {"INVALID_INPUT", "INVALID_RULE", "INVALID_URL", "FIELD_IN_USE"} <= codes
    assert {"OPTION_TWICE", "VALUE_MISSING", "URL_NOT_PUBLIC", "NO_ACCOUNT"} <= reasons
    given_elsewhere = _named("Reason", IMPORTING) | _named("Reason", RESIDENTS)
    assert reasons | given_elsewhere == {reason.name for reason in Reason}, (
        "a reason no managed, importing or residents' module gives"
    )
    given = set(MANAGE_PROBLEM_WORDS)
    assert _reasonless_invalid_input() == []
    assert sorted({f"admin.problem.{code}" for code in codes - {"INVALID_INPUT"}} - given) == []
    worded_reasons = {key.split(".")[3] for key in given if key.count(".") == 3}
    assert sorted(reasons - worded_reasons) == []
    for key in given:
        if key.count(".") == 3:
            assert key.split(".")[2] in {code.value for code in ErrorCode}, key
    for locale in ("en", "nl-BE", "fr-BE"):
        own = messages(read(locale))
        assert sorted(given - own.keys()) == [], locale
        for key in given:
            assert texts(own[key])[0].strip(), (locale, key)
    # Every management page has them (and so never shows the API's English instead).
    for page in PAGES:
        if page.path in ("fields", "groups", "webhooks", "mail", "invitations"):
            assert given <= set(page.words), page.path


def test_every_reason_a_residents_confirmation_gets_has_words_on_its_pages() -> None:
    from api.invite import CONFIRM_STEP_KEYS

    reasons = _named("Reason", RESIDENTS)
    assert "LETTER_CODE_USED_AGAIN" in reasons
    for reason in reasons:
        key = f"confirm.{reason.lower()}"
        assert key in CONFIRM_STEP_KEYS, key
        for locale in ("en", "nl-BE", "fr-BE"):
            assert texts(messages(read(locale))[key])[0].strip(), (locale, key)


def test_every_reason_an_import_gives_has_words_on_the_invite_page_in_every_language() -> None:
    reasons = _named("Reason", IMPORTING) | _named("Reason", ["domain/validation.py"])
    assert {"NOT_A_COLUMN", "FORMULA_NOT_SAVED", "RULE_NOT_MET", "MORE_PROBLEMS"} <= reasons
    invite = next(page for page in PAGES if page.path == "invite")
    given = set(invite.words)
    worded = {key.split(".")[-1] for key in given if key.startswith("admin.reason.")} | {
        key.split(".")[3] for key in given if key.count(".") == 3
    }
    assert sorted(reasons - worded) == []
    for locale in ("en", "nl-BE", "fr-BE"):
        own = messages(read(locale))
        assert sorted(given - own.keys()) == [], locale


@pytest.mark.parametrize("locale", ["en", "nl-BE", "fr-BE"])
def test_one_thing_has_one_name_in_each_language(locale: str) -> None:
    words = i18n.catalog(locale)
    # The code a letter or card gives is the one /invite asks for, by the same name.
    code = words("invite.code_label").lower()
    assert code in words("letter.code_label").lower()
    assert words("letter.card_label").lower() == code
    assert words("admin.invitations.code").lower() == code
    # A console page is called what its link in the navigation calls it.
    assert words("admin.nav.mail") == words("admin.mail.title")


def test_plurals_read_naturally_in_every_language() -> None:
    assert (
        i18n.catalog("en")
        .plural("invite.rate_limited", 1)
        .startswith("Too many attempts. Wait 1 minute,")
    )
    assert "Wait 2 minutes," in i18n.catalog("en").plural("invite.rate_limited", 2)
    assert "Wacht 1 minuut " in i18n.catalog("nl-BE").plural("invite.rate_limited", 1)
    assert "Wacht 5 minuten " in i18n.catalog("nl-BE").plural("invite.rate_limited", 5)
    assert "Attendez 1 minute," in i18n.catalog("fr-BE").plural("invite.rate_limited", 1)
    assert "Attendez 0 minute," in i18n.catalog("fr-BE").plural("invite.rate_limited", 0)
    assert "Attendez 3 minutes," in i18n.catalog("fr-BE").plural("invite.rate_limited", 3)
    assert (
        i18n.catalog("nl-BE").plural("mail.confirm_expiry", 15) == "De code is 15 minuten geldig."
    )


def test_a_missing_message_or_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError, match=r"invite\.nothing"):
        i18n.catalog("nl-BE")("invite.nothing")
    with pytest.raises(KeyError, match="plural message"):
        i18n.catalog("en").plural("invite.title", 2)
    with pytest.raises(KeyError, match=r"\{platform\}"):
        i18n.catalog("en")("invite.intro")
    words = i18n.words("fr-BE", platform="Participez")
    assert words("invite.intro").startswith("Vous êtes invité à rejoindre Participez.")


def test_values_are_put_in_once_and_never_read_as_placeholders() -> None:
    words = i18n.words("en", platform="{platform} & {count}")
    assert words("invite.done_next") == "Go to {platform} & {count}"


def test_scripts_get_plural_forms_by_category_and_the_common_values() -> None:
    words = i18n.words("fr-BE", platform="Participez").for_script(
        ["invite.rate_limited", "confirm.step_intro", "invite.intro"]
    )
    assert words["invite.rate_limited"] == {
        "one": "Trop de tentatives. Attendez {count} minute, puis réessayez.",
        "many": "Trop de tentatives. Attendez {count} minutes, puis réessayez.",
        "other": "Trop de tentatives. Attendez {count} minutes, puis réessayez.",
    }
    assert "{email}" in str(words["confirm.step_intro"])  # for the script to fill in
    assert "Participez" in str(words["invite.intro"])


@pytest.mark.parametrize(
    ("locale", "served_by"),
    [
        ("en", "en"),
        ("nl-BE", "nl-BE"),
        ("NL-be", "nl-BE"),
        ("nl-NL", "nl-BE"),
        ("nl", "nl-BE"),
        ("fr-FR", "fr-BE"),
        ("en-GB", "en"),
        ("de", None),
    ],
)
def test_a_locale_is_served_by_its_own_catalog_or_one_of_its_language(
    locale: str, served_by: str | None
) -> None:
    assert i18n.catalog_locale(locale) == served_by
    assert i18n.catalog(locale).locale == (served_by or "en")


def test_choose_locale_prefers_the_given_ones_then_the_browser_then_the_platform_default() -> None:
    locales = ["nl-BE", "fr-BE", "en"]
    assert i18n.choose_locale(locales, "EN", accept_language="fr-BE") == "en"
    assert i18n.choose_locale(locales, None, "fr", accept_language="nl") == "fr-BE"
    assert i18n.choose_locale(locales, "de", None, accept_language="") == "nl-BE"
    assert i18n.choose_locale(locales, accept_language="fr-FR, en;q=0.5") == "fr-BE"
    assert i18n.choose_locale(locales, accept_language="nl-NL") == "nl-BE"
    assert i18n.choose_locale(locales, accept_language="es, pt;q=0.8") == "nl-BE"
    assert i18n.choose_locale(locales, accept_language="en-US,en;q=0.9") == "en"
    assert i18n.choose_locale(locales, accept_language="*, fr;q=0.1") == "fr-BE"


def test_an_admins_file_speaks_the_links_language_then_theirs_then_english() -> None:
    def asked(query: str, account: str | None, accept: str = "") -> str:
        headers = [(b"accept-language", accept.encode())] if accept else []
        scope = {"type": "http", "query_string": query.encode(), "headers": headers}
        return download_locale(Request(scope), ["nl-BE", "fr-BE"], account)

    assert asked("lang=fr-BE", "nl-BE", "nl") == "fr-BE"
    assert asked("", "nl-BE", "fr") == "nl-BE"
    assert asked("lang=de", "de", "fr-FR") == "fr-BE"
    assert asked("lang=de", "de") == "en"  # none is a platform language: English
    assert asked("", None) == "en"


def test_the_switch_names_each_language_in_itself() -> None:
    assert i18n.locale_names(["en", "nl-BE", "fr-BE"]) == {
        "en": "English",
        "nl-BE": "Nederlands",
        "fr-BE": "Français",
    }
    both = i18n.locale_names(["nl-BE", "nl-NL", "de"])
    assert both == {
        "nl-BE": "Nederlands (België)",
        "nl-NL": "Nederlands (Nederland)",
        "de": "Deutsch",
    }


def test_dates_are_written_the_way_each_language_does() -> None:
    day = date(2026, 5, 31)
    assert i18n.format_date(day, "en") == "May 31, 2026"
    assert i18n.format_date(day, "nl-BE") == "31 mei 2026"
    assert i18n.format_date(day, "fr-BE") == "31 mai 2026"


@pytest.fixture
def catalogs_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for path in i18n.catalog_files().values():
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(i18n, "CATALOG_DIR", tmp_path)
    i18n.reload()
    yield tmp_path
    monkeypatch.undo()
    i18n.reload()


def test_a_fourth_language_is_one_catalog_file(catalogs_elsewhere: Path) -> None:
    with pytest.raises(SettingsError, match=r"no catalog speaks 'de'.*catalogs/de\.po"):
        load_settings(locales="en,nl-BE,fr-BE,de")

    german = (catalogs_elsewhere / "en.po").read_text(encoding="utf-8")
    german = german.replace('"Language: en\\n"', '"Language: de\\n"').replace(
        '"Accept your invitation"', '"Nehmen Sie Ihre Einladung an"'
    )
    (catalogs_elsewhere / "de.po").write_text(german, encoding="utf-8")
    i18n.reload()  # as a restart of the service would
    settings = load_settings(locales="en,nl-BE,fr-BE,de")
    assert settings.locales[-1] == "de"
    assert i18n.catalog("de-AT")("invite.title") == "Nehmen Sie Ihre Einladung an"
    assert i18n.choose_locale(settings.locales, accept_language="de-DE") == "de"


def test_french_speaks_to_a_signed_in_person_the_same_way_on_every_page() -> None:
    """One form for "signed in" and "signed out" across the pages: the inclusive one."""
    for message in read("fr-BE"):
        for text in texts(message) if message.id else []:
            assert not re.search(r"êtes (?:dé)?connecté(?!·e)", text), (key(message), text)


def test_french_headings_name_the_action_rather_than_order_it() -> None:
    """Headings say what a section is for ("Modifier votre mot de passe"), in the infinitive,
    as French interfaces do, rather than an order ("Changez…")."""
    words = i18n.catalog("fr-BE")
    assert words("account.password_title") == "Modifier votre mot de passe"
    for message in read("fr-BE"):
        name = key(message)
        if message.id and name.endswith("title") and not name.startswith(("admin.", "mail.")):
            first = str(message.string).split()[0]
            assert not re.fullmatch(r"\w+ez(-vous)?", first), (name, message.string)


def test_deleting_a_group_with_one_member_says_so_naturally() -> None:
    cases = [
        ("en", 1, "Its only member leaves it."),
        ("en", 3, "Its 3 members leave it."),
        ("nl-BE", 1, "Het enige lid verlaat de groep."),
        ("nl-BE", 4, "De 4 leden verlaten de groep."),
        # French says 0 and 1 alike: a wording true of both.
        ("fr-BE", 0, "0 membre le quitte."),
        ("fr-BE", 1, "1 membre le quitte."),
        ("fr-BE", 5, "5 membres le quittent."),
    ]
    for locale, count, expected in cases:
        assert i18n.catalog(locale).plural("admin.groups.delete_members", count) == expected


def test_an_imports_progress_agrees_with_the_rows_checked() -> None:
    progress = "admin.invite.progress"
    assert i18n.catalog("fr-BE").plural(progress, 1, total=1) == "1 ligne vérifiée sur 1"
    assert i18n.catalog("fr-BE").plural(progress, 0, total=4) == "0 ligne vérifiée sur 4"
    assert i18n.catalog("fr-BE").plural(progress, 3, total=4) == "3 lignes vérifiées sur 4"
    assert i18n.catalog("nl-BE").plural(progress, 3, total=4) == "3 van 4 rijen gecontroleerd"
    assert i18n.catalog("en").plural(progress, 3, total=4) == "3 of 4 rows checked"
