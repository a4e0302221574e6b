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


def mail_setup(settings: Settings) -> MailSetup:
    domain = settings.mail_domain
    return_path = settings.envelope_sender
    return_domain = return_path.rsplit("@", 1)[1]
    ips = [ip.strip() for ip in settings.mail_sending_ip.split(",") if ip.strip()]
    spf_sources = (
        " ".join(f"ip6:{ip}" if ":" in ip else f"ip4:{ip}" for ip in ips)
        or f"a:{settings.smtp_host}"
    )
    records = [
        DnsRecord(
            "TXT",
            return_domain,
            f"v=spf1 {spf_sources} -all",
            "SPF: the servers allowed to send for the envelope sender's domain.",
        )
    ]
    dkim_value = dkim_public_value(settings)
    dkim_domain = settings.dkim_domain or domain
    if settings.dkim_selector and dkim_value:
        records.append(
            DnsRecord(
                "TXT",
                f"{settings.dkim_selector}._domainkey.{dkim_domain}",
                dkim_value,
                "DKIM: the public key receivers check the mails' signatures with.",
            )
        )
    else:
        records.append(
            DnsRecord(
                "TXT",
                f"<selector>._domainkey.{dkim_domain}",
                "v=DKIM1; k=rsa; p=<public key>",
                "DKIM (not configured yet): once INVITES_DKIM_SELECTOR and"
                " INVITES_DKIM_PRIVATE_KEY_PATH are set, this shows the exact record.",
            )
        )
    records.append(
        DnsRecord(
            "TXT",
            f"_dmarc.{domain}",
            f"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:dmarc-reports@{domain}",
            "DMARC: tells receivers to trust only mails that pass SPF or DKIM for this domain.",
        )
    )
    exchange = [
        "Sign in to the Exchange admin center (admin.exchange.microsoft.com) or, for Microsoft 365,"
        " the Microsoft Defender portal (security.microsoft.com).",
        "Go to Email & collaboration > Policies & rules > Threat policies > Anti-spam policies"
        " (on-premises Exchange: Protection > Spam filter).",
        "Open the inbound policy in use (usually 'Anti-spam inbound policy (Default)') and choose"
        " Edit allowed and blocked senders and domains (Exchange: Edit > Allow lists).",
        f"Under Allowed domains, add {domain}.",
        *(
            [
                "Under Connection filter policy > Always allow messages from these IP"
                f" addresses, add {', '.join(ips)}."
            ]
            if ips
            else []
        ),
        "Save. Changes can take up to an hour to apply.",
    ]
    google = [
        "Sign in to the Google Admin console (admin.google.com) as an administrator.",
        "Go to Apps > Google Workspace > Gmail > Spam, Phishing and Malware.",
        "Select the top-level organizational unit.",
        "Under Email allowlist, add "
        + (f"the IP address(es) {', '.join(ips)}" if ips else f"the sending servers of {domain}")
        + ", then Save.",
        f"Optionally, under Spam > Approved senders, add the domain {domain} and tick"
        " 'Bypass spam filters for messages received from addresses or domains within these"
        " approved senders lists' (only works when the mails pass SPF or DKIM).",
    ]
    commands = [
        f"dig +short TXT {return_domain}   # the SPF record",
        *(
            [f"dig +short TXT {settings.dkim_selector}._domainkey.{dkim_domain}   # the DKIM key"]
            if settings.dkim_selector
            else []
        ),
        f"dig +short TXT _dmarc.{domain}   # the DMARC policy",
    ]
    checks = [
        "Invite a test address at Gmail or Outlook.com, open the mail's original source and"
        " check: spf=pass, dkim=pass, dmarc=pass in the Authentication-Results header.",
        f"Check that Message-ID ends in @{settings.mail_message_id_domain or domain} and that"
        f" Return-Path is {return_path}.",
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
        .render(setup=mail_setup(settings), settings=settings)
    )
