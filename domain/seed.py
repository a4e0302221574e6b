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
NEIGHBOURHOODS = (
    {"key": "north_avenue", "title": "North Avenue"},
    {"key": "riverside", "title": "Riverside"},
    {"key": "old_town", "title": "Old Town"},
)
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
            created_field = await create_registration_field(
                key="neighbourhood",
                title="Neighbourhood",
                type=FieldType.SELECT,
                options=NEIGHBOURHOODS,
                required=True,
            )
            fields.append(created_field.key)
        groups = []
        if not await Group.filter(title__iexact=MANUAL_GROUP).exists():
            groups.append((await create_group(title=MANUAL_GROUP, kind=GroupKind.MANUAL)).title)
        if not await Group.filter(title__iexact=SMART_GROUP).exists():
            smart = await create_group(
                title=SMART_GROUP,
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
