"""What it takes for the invitation mails to arrive: DNS records for the sending domain, and
the allowlisting steps for the receiving organisations' mail admins, filled in with this
deployment's values. Shown to admins (GraphQL `mailDeliverySettings`) and written out as
docs/email-delivery.md (`invitations mail-setup`)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from jinja2 import Environment, PackageLoader, StrictUndefined

from domain import i18n
from domain.settings import Settings

# The deployment docs/email-delivery.md is written for (`make docs`).
EXAMPLE_DEPLOYMENT: dict[str, str] = {
    "env": "production",
    "secret_key": "example-only-" + "x" * 40,
    "public_url": "https://participate.example.org",
    "platform_name": "Participate Example",
    "mail_from": "invitations@mail.participate.example.org",
    "mail_return_path": "bounces@mail.participate.example.org",
    "mail_sending_ip": "203.0.113.25",
    "smtp_host": "smtp.mail.participate.example.org",
}


@dataclass(frozen=True, slots=True)
class DnsRecord:
    type: str
    name: str
    value: str
    purpose: str


@dataclass(frozen=True, slots=True)
class MailSetup:
    sending_domain: str
    from_address: str
    return_path: str
    message_id_domain: str
    smtp_host: str
    sending_ips: list[str]
    dkim_enabled: bool
    dns_records: list[DnsRecord]
    exchange_steps: list[str]
    google_steps: list[str]
    check_commands: list[str]
    check_steps: list[str]


def dkim_public_value(settings: Settings) -> str | None:
    if not settings.dkim_private_key_path:
        return None
    key = serialization.load_pem_private_key(
        settings.dkim_private_key_path.read_bytes(), password=None
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def mail_setup(settings: Settings, locale: str = "en") -> MailSetup:
    """This deployment's set-up, with the records' purposes and the steps in `locale` (the
    admin console's language). The steps name the admin consoles' menus in English, as their
    first step says in the other languages."""
    t = i18n.words(locale)
    domain = settings.mail_domain
    return_path = settings.envelope_sender
    return_domain = return_path.rsplit("@", 1)[1]
    ips = [ip.strip() for ip in settings.mail_sending_ip.split(",") if ip.strip()]
    spf_sources = (
        " ".join(f"ip6:{ip}" if ":" in ip else f"ip4:{ip}" for ip in ips)
        or f"a:{settings.smtp_host}"
    )
    records = [
        DnsRecord("TXT", return_domain, f"v=spf1 {spf_sources} -all", t("mail_setup.purpose_spf"))
    ]
    dkim_value = dkim_public_value(settings)
    dkim_domain = settings.dkim_domain or domain
    if settings.dkim_selector and dkim_value:
        records.append(
            DnsRecord(
                "TXT",
                f"{settings.dkim_selector}._domainkey.{dkim_domain}",
                dkim_value,
                t("mail_setup.purpose_dkim"),
            )
        )
    else:
        records.append(
            DnsRecord(
                "TXT",
                f"<selector>._domainkey.{dkim_domain}",
                "v=DKIM1; k=rsa; p=<public key>",
                t("mail_setup.purpose_dkim_missing"),
            )
        )
    records.append(
        DnsRecord(
            "TXT",
            f"_dmarc.{domain}",
            f"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:dmarc-reports@{domain}",
            t("mail_setup.purpose_dmarc"),
        )
    )
    listed_ips = ", ".join(ips)
    exchange = [
        t("mail_setup.exchange_sign_in"),
        t("mail_setup.exchange_go_to"),
        t("mail_setup.exchange_open_policy"),
        t("mail_setup.exchange_allow_domain", domain=domain),
        *([t("mail_setup.exchange_allow_ips", ips=listed_ips)] if ips else []),
        t("mail_setup.exchange_save"),
    ]
    google = [
        t("mail_setup.google_sign_in"),
        t("mail_setup.google_go_to"),
        t("mail_setup.google_unit"),
        t("mail_setup.google_allow_ips", ips=listed_ips)
        if ips
        else t("mail_setup.google_allow_domain", domain=domain),
        t("mail_setup.google_approved", domain=domain),
    ]
    commands = [
        f"dig +short TXT {return_domain}   # {t('mail_setup.command_spf')}",
        *(
            [
                f"dig +short TXT {settings.dkim_selector}._domainkey.{dkim_domain}"
                f"   # {t('mail_setup.command_dkim')}"
            ]
            if settings.dkim_selector
            else []
        ),
        f"dig +short TXT _dmarc.{domain}   # {t('mail_setup.command_dmarc')}",
    ]
    checks = [
        t("mail_setup.check_test"),
        t(
            "mail_setup.check_headers",
            message_id_domain=settings.mail_message_id_domain or domain,
            return_path=return_path,
        ),
    ]
    return MailSetup(
        sending_domain=domain,
        from_address=settings.mail_from,
        return_path=return_path,
        message_id_domain=settings.mail_message_id_domain or domain,
        smtp_host=settings.smtp_host,
        sending_ips=ips,
        dkim_enabled=bool(settings.dkim_selector and dkim_value),
        dns_records=records,
        exchange_steps=exchange,
        google_steps=google,
        check_commands=commands,
        check_steps=checks,
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Markdown, not HTML: nothing to escape, and every value comes from the settings.
    return Environment(
        loader=PackageLoader("domain.mail", "templates"),
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_setup_document(settings: Settings) -> str:
    return (
        _environment()
        .get_template("email-delivery.md")
        .render(setup=mail_setup(settings, "en"), settings=settings)
    )
