"""First-run sample data: one admin with a generated password, and a few things to invite into."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from domain.errors import DomainError
from domain.groups.service import create_group
from domain.models import FieldType, Group, GroupKind, Project, RegistrationField, User
from domain.projects.service import create_project
from domain.registration_fields.service import create_registration_field
from domain.settings import Settings
from domain.users import passwords
from domain.users.service import create_admin
from domain.validation import normalize_email

FALLBACK_DOMAIN = "example.org"
PROJECTS = ("Riverside park redesign", "Participatory budget 2027")
MANUAL_GROUP = "North Avenue Residents"
SMART_GROUP = "Residents of Example City"
# The sample's titles in each language the catalogs have: a page in Dutch or French shows
# its own words around them (a platform's other locales get the default locale's title).
SAMPLE_TITLES = {
    "neighbourhood": {"en": "Neighbourhood", "nl-BE": "Wijk", "fr-BE": "Quartier"},
    MANUAL_GROUP: {
        "en": MANUAL_GROUP,
        "nl-BE": "Bewoners Noordlaan",
        "fr-BE": "Habitants de l'avenue du Nord",
    },
    SMART_GROUP: {
        "en": SMART_GROUP,
        "nl-BE": "Inwoners van Example City",
        "fr-BE": "Habitants d'Example City",
    },
    # The neighbourhood field's options.
    "north_avenue": {"en": "North Avenue", "nl-BE": "Noordlaan", "fr-BE": "Avenue du Nord"},
    "riverside": {"en": "Riverside", "nl-BE": "Rivierkant", "fr-BE": "Bord de rivière"},
    "old_town": {"en": "Old Town", "nl-BE": "Oude Stad", "fr-BE": "Vieille Ville"},
}
NEIGHBOURHOODS = ("north_avenue", "riverside", "old_town")
# Crockford's base32 alphabet in lower case: no i, l, o, u to misread when typing it over.
_PASSWORD_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_PASSWORD_GROUPS = 4
_PASSWORD_GROUP_LENGTH = 5  # 4 x 5 symbols x 5 bits = 100 bits


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What the first run created. The password exists nowhere else: show it once."""

    admin_email: str
    admin_password: str = field(repr=False)
    projects: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    registration_fields: tuple[str, ...] = ()


def admin_email(settings: Settings) -> str:
    """admin@ the public host when it is a real domain; admin@example.org on a laptop."""
    host = (urlsplit(settings.public_url).hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        is_address = True
    except ValueError:
        is_address = False
    if host and "." in host and not is_address:
        candidate = normalize_email(f"admin@{host}")
        if candidate is not None:
            return candidate
    return f"admin@{FALLBACK_DOMAIN}"


def generate_password() -> str:
    """A random password that is easy to copy and type: xxxxx-xxxxx-xxxxx-xxxxx."""
    while True:
        password = "-".join(
            "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_GROUP_LENGTH))
            for _ in range(_PASSWORD_GROUPS)
        )
        try:
            return passwords.check_strength(password)
        except DomainError:
            # 100 random bits nearly always pass; draw again if a pattern checker disagrees.
            continue


def sample_titles(settings: Settings, name: str) -> tuple[str, dict[str, str]]:
    """A sample's title in the platform's default locale, and its titles in the others."""
    known = SAMPLE_TITLES[name]
    default = settings.default_locale
    others = {locale: known[locale] for locale in settings.locales if locale in known}
    others.pop(default, None)
    return known.get(default, known["en"]), others


async def seed_first_run(settings: Settings) -> SeedResult | None:
    """On a database without users, create the first admin and some sample data.

    Returns None (and changes nothing) once any user exists, so it is safe on every start.
    """
    if await User.exists():
        return None
    email = admin_email(settings)
    password = generate_password()
    async with in_transaction():
        # Sample data is created only where missing, in case someone made it by hand first.
        await create_admin(email=email, password=password, first_name="Ada", last_name="Admin")
        projects = []
        for title in PROJECTS:
            if not await Project.filter(title=title).exists():
                projects.append((await create_project(title=title)).title)
        fields = []
        if not await RegistrationField.filter(key="neighbourhood").exists():
            title, titles = sample_titles(settings, "neighbourhood")
            options = []
            for key in NEIGHBOURHOODS:
                option_title, option_titles = sample_titles(settings, key)
                options.append({"key": key, "title": option_title, "titles": option_titles})
            created_field = await create_registration_field(
                key="neighbourhood",
                title=title,
                titles=titles,
                type=FieldType.SELECT,
                options=options,
                required=True,
            )
            fields.append(created_field.key)
        groups = []
        title, titles = sample_titles(settings, MANUAL_GROUP)
        if not await Group.filter(title__iexact=title).exists():
            manual = await create_group(title=title, titles=titles, kind=GroupKind.MANUAL)
            groups.append(manual.title)
        title, titles = sample_titles(settings, SMART_GROUP)
        if not await Group.filter(title__iexact=title).exists():
            smart = await create_group(
                title=title,
                titles=titles,
                kind=GroupKind.SMART,
                rules=[
                    {"attribute": "email_domain", "operator": "ends_with", "value": FALLBACK_DOMAIN}
                ],
            )
            groups.append(smart.title)
    return SeedResult(
        admin_email=email,
        admin_password=password,
        projects=tuple(projects),
        groups=tuple(groups),
        registration_fields=tuple(fields),
    )
