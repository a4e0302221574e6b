"""The service's settings: one typed object read from `INVITES_*` environment variables."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain import i18n

ENV_PREFIX = "INVITES_"
# The databases the service runs on (asyncpg is PostgreSQL's driver).
DATABASE_SCHEMES = ("postgres", "postgresql", "asyncpg", "sqlite")
# Where Debian's fonts-dejavu-core and fonts-droid-fallback put their fonts (the Dockerfile
# installs them).
_FONTS = Path("/usr/share/fonts/truetype")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SmtpTls(StrEnum):
    """How the mailer secures its SMTP connection. Always explicit: no silent plaintext fallback."""

    NONE = "none"  # plaintext, only sensible for a local catcher
    STARTTLS = "starttls"  # connect in plaintext, then require STARTTLS
    TLS = "tls"  # implicit TLS from the first byte (port 465)


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class GraphiqlAccess(StrEnum):
    ALL = "all"
    ADMINS = "admins"
    OFF = "off"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it by its environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", validate_default=True
    )

    env: Environment = Environment.DEVELOPMENT
    public_url: str = "http://localhost:8000"
    platform_name: str = "Participation platform"
    # Where residents go once they have accepted (the host platform); empty: this service's
    # own landing page (/welcome).
    platform_url: str = ""
    data_dir: Path = Path(".data")
    database_url: str = ""  # empty: an SQLite file in data_dir
    redis_url: str = "redis://127.0.0.1:6379/0"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: SmtpTls = SmtpTls.NONE
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    smtp_ca_file: Path | None = None  # certificates to trust for TLS; empty: the system's
    # Connections to the relay per worker process, each kept busy (bench/README.md, "Mail").
    smtp_connections: int = Field(default=8, ge=1, le=64)
    # The relay accepts SMTPUTF8 (RFC 6531): addresses whose local part is not ASCII
    # (josé@example.org) are accepted at input and sent. Off: refused at input.
    smtp_utf8: bool = False
    mail_from: str = "invitations@localhost"
    mail_from_name: str = ""  # empty: the platform name
    mail_return_path: str = ""  # envelope sender (bounces); empty: mail_from
    mail_message_id_domain: str = ""  # empty: the domain of mail_from
    dkim_selector: str = ""
    dkim_private_key_path: Path | None = None
    dkim_domain: str = ""  # empty: the domain of mail_from
    # Return-Path per mail (bounces+<reference>@domain of the return path) so that a bounce
    # names its invitation; needs the return path's mailbox to take '+' addresses.
    mail_verp: bool = False
    # Delivery events (bounces, complaints). Each provider's endpoint answers 404 until set.
    mailgun_webhook_signing_key: SecretStr = SecretStr("")
    ses_sns_topic_arns: Annotated[list[str], NoDecode] = []
    postmark_webhook_user: str = ""
    postmark_webhook_password: SecretStr = SecretStr("")
    dsn_intake_token: SecretStr = SecretStr("")  # bearer token of POST /mail/events/dsn
    mail_sending_ip: str = ""  # published to receiving admins for allowlisting

    secret_key: SecretStr = SecretStr("")
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = []

    locales: Annotated[list[str], NoDecode] = ["en", "nl-BE", "fr-BE"]
    invitation_expiry_days: int = Field(default=30, ge=1, le=365)
    reminder_delay_days: int = Field(default=3, ge=1, le=365)
    password_min_length: int = Field(default=12, ge=8, le=1024)
    session_ttl_days: int = Field(default=30, ge=1, le=365)
    confirmation_code_ttl_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    # An unconfirmed registration (a claim on an address) is dropped after this long.
    registration_ttl_days: int = Field(default=7, ge=1, le=90)
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    personal_message_max_length: int = Field(default=2000, ge=1, le=20000)
    max_invitations_per_request: int = Field(default=10_000, ge=1, le=1_000_000)
    # Excel imports: the upload's size and the sheet's data rows (README "Excel import").
    import_max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    import_max_rows: int = Field(default=200_000, ge=1, le=1_000_000)
    # How long a failed import's upload is kept for its problems file (its rows, marked).
    import_problems_file_days: int = Field(default=7, ge=0, le=90)
    # Letters and cards (GET /invitations/letters.pdf, README "Letters").
    letters_max_per_download: int = Field(default=20_000, ge=1, le=200_000)
    letters_return_address: str = ""  # one line above the address; empty: the platform name
    letters_help_contact: str = ""  # "Questions? ..."; empty: the public URL
    letters_font: Path = _FONTS / "dejavu" / "DejaVuSans.ttf"
    letters_bold_font: Path = _FONTS / "dejavu" / "DejaVuSans-Bold.ttf"
    letters_code_font: Path = _FONTS / "dejavu" / "DejaVuSansMono-Bold.ttf"
    # What the fonts above lack (中): a TrueType font with the CJK ideographs.
    letters_fallback_font: Path = _FONTS / "droid" / "DroidSansFallbackFull.ttf"
    # Any other request body (JSON GraphQL requests); answered 413 beyond it.
    max_request_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # How long a client may take to send a request's body (a slow sender holds a connection):
    # uploads, and any other request. Beyond it the answer is 408. Headers: see docs/security.md.
    upload_body_timeout_seconds: float = Field(default=120, gt=0, le=3600)
    request_body_timeout_seconds: float = Field(default=15, gt=0, le=3600)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    graphiql: GraphiqlAccess = GraphiqlAccess.ADMINS
    introspection: GraphiqlAccess = GraphiqlAccess.ADMINS
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Web apps on other origins that may call /graphql with bearer tokens (CORS), as exact
    # origins like https://app.example.org; never with cookies (docs/security.md).
    cors_origins: Annotated[list[str], NoDecode] = []
    log_level: str = "INFO"
    # text: readable lines (development); json: one JSON object a line (production).
    log_format: LogFormat = LogFormat.TEXT
    # Bearer token of GET /metrics (Prometheus); empty: /metrics is off (404).
    metrics_token: SecretStr = SecretStr("")
    # Each worker serves its metrics on this port (0: off), at this address.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    # OpenTelemetry traces exported over OTLP/HTTP (e.g. http://collector:4318); empty: off.
    # Needs the `traces` extra (pip install 'invitations[traces]').
    otlp_endpoint: str = ""

    worker_max_jobs: int = Field(default=50, ge=1, le=10_000)
    worker_poll_delay_seconds: float = Field(default=0.05, gt=0, le=10)
    # Each worker records its heartbeat in Redis this often (`invitations worker --check`
    # fails once its own is older than this plus a second).
    worker_heartbeat_seconds: float = Field(default=60, ge=1, le=3600)
    # A temporary refusal (4xx, a dropped connection) defers that mail: retried after
    # base, 2x, 4x ... up to the cap, and failed only when still refused after give_up_hours.
    send_retry_base_seconds: float = Field(default=30, ge=0)
    send_retry_max_seconds: float = Field(default=900, ge=0)
    send_give_up_hours: float = Field(default=24, gt=0, le=24 * 7)
    # While the relay is down (no connection, 421, three temporary refusals in a row) every
    # worker pauses sending: first for relay_pause_seconds, doubling up to the maximum between
    # two tries, so a relay that came back waits at most that long.
    relay_pause_seconds: float = Field(default=5, ge=0)
    relay_pause_max_seconds: float = Field(default=30, ge=0)
    # A job whose database connection dropped (a restart, a failover) runs again this much
    # later (an import at most 3 times in all).
    worker_database_retry_seconds: float = Field(default=5, ge=0)

    # Rate limits (docs/security.md). Token use: failed attempts per client address, and
    # globally; while the global count is over its limit ("under attack"), each address gets
    # only `limit_token_attack_per_address` failures per 15 minutes.
    limit_token_failures_per_minute: int = Field(default=10, ge=1)
    limit_token_failures_per_day: int = Field(default=50, ge=1)
    limit_token_global_failures_per_minute: int = Field(default=300, ge=1)
    limit_token_global_failures_per_day: int = Field(default=5000, ge=1)
    limit_token_attack_per_address: int = Field(default=1, ge=1)
    limit_sign_in_failures_per_address: int = Field(default=30, ge=1)  # per 10 minutes
    limit_sign_in_failures_per_account: int = Field(default=10, ge=1)  # per 15 minutes
    limit_sign_up_per_address: int = Field(default=20, ge=1)  # per hour
    limit_sign_up_per_email: int = Field(default=3, ge=1)  # per hour
    # Codes proving a mailbox mailed to one address (claims, new codes, email changes): each
    # allows a few guesses, so this bounds the guesses at an address per day.
    limit_codes_per_email_per_day: int = Field(default=10, ge=1)
    limit_confirm_failures_per_address: int = Field(default=30, ge=1)  # per 10 minutes
    limit_confirm_failures_per_account: int = Field(default=10, ge=1)  # per hour
    limit_password_reset_per_address: int = Field(default=20, ge=1)  # per hour
    limit_password_reset_per_email: int = Field(default=3, ge=1)  # per hour
    limit_password_reset_failures_per_address: int = Field(default=30, ge=1)  # per 10 minutes
    limit_invitations_per_admin_per_day: int = Field(default=200_000, ge=1)
    limit_resends_per_invitation_per_day: int = Field(default=5, ge=1)

    # Events for the host platform (docs/webhooks.md). Deliveries to loopback, private,
    # link-local, multicast or reserved addresses are refused unless allowed; production
    # requires https URLs unless http is allowed. A receiver that fails is tried again after
    # base, 2x, 4x ... up to the cap, until give_up_hours after the event.
    webhooks_allow_private: bool = False
    webhooks_allow_http: bool = False
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=30)
    webhooks_retry_base_seconds: float = Field(default=10, ge=0)
    webhooks_retry_max_seconds: float = Field(default=3600, ge=0)
    webhooks_give_up_hours: float = Field(default=24, gt=0, le=24 * 7)
    # Delivered and failed deliveries (with their attempts) are kept this long for admins.
    webhooks_keep_days: int = Field(default=30, ge=1)

    @field_validator(
        "locales", "trusted_proxies", "ses_sns_topic_arns", "cors_origins", mode="before"
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("locales")
    @classmethod
    def _check_locales(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one locale is required")
        for locale in value:
            parts = locale.split("-")
            if not (2 <= len(parts[0]) <= 3 and parts[0].isalpha() and parts[0].islower()):
                raise ValueError(f"{locale!r} is not a locale like 'en' or 'nl-BE'")
            if i18n.catalog_locale(locale) is None:
                raise ValueError(
                    f"no catalog speaks {locale!r}: add domain/i18n/catalogs/{locale}.po"
                    " (see the README, 'Add a language')"
                )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "must be an absolute http(s) URL, like https://participate.example.org"
            )
        return value.rstrip("/")

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            parts = urlsplit(origin)
            exact = (
                parts.scheme in ("http", "https")
                and parts.hostname
                and "*" not in origin
                and not (parts.path or parts.query or parts.fragment or parts.username)
                and origin.endswith(parts.netloc)
            )
            if not exact:
                raise ValueError(
                    f"{origin!r} is not an exact origin like https://app.example.org"
                    " (scheme and host, a port if any; no path, no wildcard)"
                )
            # As browsers send it in the Origin header: lowercase scheme and host.
            origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
        return origins

    @field_validator("platform_url")
    @classmethod
    def _check_platform_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(
                "must be empty or an absolute http(s) URL, like https://participate.example.org"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        scheme = urlsplit(value).scheme
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                "must be empty (SQLite in the data folder) or a postgres:// or sqlite:// URL,"
                " like postgres://user:password@host:5432/invitations"
            )
        from tortoise.backends.base.config_generator import expand_db_url
        from tortoise.exceptions import ConfigurationError

        try:
            expand_db_url(value)
        except (ConfigurationError, ValueError):
            raise ValueError(
                "is not a database URL like postgres://user:password@host:5432/invitations"
            ) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        from redis.connection import parse_url

        try:
            parse_url(value)
            database = urlsplit(value).path.strip("/")
            if urlsplit(value).scheme != "unix" and database and not database.isdigit():
                raise ValueError("the database is a number")  # as the workers read it
        except ValueError:
            # Not the value: it may hold a password.
            raise ValueError(
                "must be a redis://, rediss:// or unix:// URL, like redis://127.0.0.1:6379/0"
            ) from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("must be an email address")
        return value

    @model_validator(mode="after")
    def _secret_key_outside_development(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env is not Environment.DEVELOPMENT and not key:
            raise ValueError(
                f"{ENV_PREFIX}SECRET_KEY is required outside development (generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if key and len(key) < 32:
            raise ValueError(f"{ENV_PREFIX}SECRET_KEY must be at least 32 characters")
        if self.dkim_selector and not self.dkim_private_key_path:
            raise ValueError(f"{ENV_PREFIX}DKIM_PRIVATE_KEY_PATH is required with a DKIM selector")
        return self

    # Derived values

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'invitations.sqlite3').resolve()}"

    @property
    def mail_domain(self) -> str:
        return self.mail_from.rsplit("@", 1)[1]

    @property
    def envelope_sender(self) -> str:
        return self.mail_return_path or self.mail_from

    def secret_key_value(self) -> str:
        key = self.secret_key.get_secret_value()
        if not key:
            raise SettingsError(f"{ENV_PREFIX}SECRET_KEY is not set")
        return key


def _development_secret_key(data_dir: Path) -> str:
    """Development keeps one generated key in its data folder, so tokens survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, failing with a message that names each bad variable.

    With INVITES_SECRETS_DIR set, a setting may also be a file of that folder named after its
    variable (INVITES_SECRET_KEY, INVITES_SMTP_PASSWORD: Docker and Kubernetes secrets); an
    environment variable wins over the file."""
    secrets_dir = os.environ.get(f"{ENV_PREFIX}SECRETS_DIR") or None
    if secrets_dir is not None and not Path(secrets_dir).is_dir():
        raise SettingsError(f"{ENV_PREFIX}SECRETS_DIR: {secrets_dir} is not a directory")
    try:
        settings = Settings(_secrets_dir=secrets_dir, **overrides)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) if item["loc"] else ""
            variable = f"{ENV_PREFIX}{name.upper()}" if name else "settings"
            problems.append(f"{variable}: {item['msg']}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems)) from None
    if not settings.secret_key.get_secret_value() and settings.is_development:
        settings.secret_key = SecretStr(_development_secret_key(settings.data_dir))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
