"""Settings: one typed object; a missing or invalid one fails at start, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.settings import Settings, SettingsError, SmtpTls, load_settings


def test_defaults_are_the_embedded_development_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("INVITES_ENV", "INVITES_SECRET_KEY", "INVITES_DATABASE_URL", "INVITES_LOCALES"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.is_development
    assert settings.locales == ["en", "nl-BE", "fr-BE"]
    assert settings.invitation_expiry_days == 30 and settings.reminder_delay_days == 3
    assert (
        settings.resolved_database_url == f"sqlite://{(tmp_path / 'invitations.sqlite3').resolve()}"
    )
    assert settings.smtp_tls is SmtpTls.NONE
    # Development generates a secret key once and keeps it in the data folder.
    key = settings.secret_key.get_secret_value()
    assert len(key) >= 32
    assert (tmp_path / "secret_key").read_text() == key
    assert load_settings(data_dir=tmp_path).secret_key.get_secret_value() == key


def test_a_secret_key_is_required_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INVITES_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError) as error:
        load_settings(env="production")
    assert "INVITES_SECRET_KEY is required outside development" in str(error.value)
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings(env="production", secret_key="short")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("INVITES_SMTP_PORT", "seventy", "INVITES_SMTP_PORT"),
        ("INVITES_SMTP_TLS", "maybe", "INVITES_SMTP_TLS"),
        ("INVITES_PUBLIC_URL", "participate.example.org", "INVITES_PUBLIC_URL"),
        ("INVITES_LOCALES", "en,NL", "INVITES_LOCALES"),
        ("INVITES_INVITATION_EXPIRY_DAYS", "0", "INVITES_INVITATION_EXPIRY_DAYS"),
        ("INVITES_MAIL_FROM", "not-an-address", "INVITES_MAIL_FROM"),
        ("INVITES_ENV", "staging", "INVITES_ENV"),
    ],
)
def test_an_invalid_setting_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert named in str(error.value)


def test_lists_are_read_from_comma_separated_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITES_LOCALES", "nl-BE, fr-BE ,en")
    monkeypatch.setenv("INVITES_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
    settings = load_settings()
    assert settings.locales == ["nl-BE", "fr-BE", "en"] and settings.default_locale == "nl-BE"
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.0.2"]
    assert isinstance(settings, Settings)


def test_the_cli_refuses_to_start_with_a_bad_setting(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "INVITES_ENV": "production",
        "INVITES_SECRET_KEY": "",
        "INVITES_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "INVITES_SECRET_KEY" in result.stderr
