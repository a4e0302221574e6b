"""Logging set-up that keeps secrets and personal data out of the logs.

Our own code logs ids and counts only. Some libraries log more at DEBUG: Tortoise logs every
SQL statement with its parameters (addresses, names, digests), aiosmtplib and aiosmtpd log the
SMTP conversation (recipients). Those loggers are held at INFO/WARNING whatever the level asked.
"""

from __future__ import annotations

import logging

# Loggers whose DEBUG output carries query parameters or mail addresses.
_TALKATIVE = {
    "tortoise.db_client": logging.INFO,
    "tortoise": logging.INFO,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "aiosmtplib": logging.WARNING,
    "mail.log": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}


def quiet_talkative_loggers() -> None:
    for name, level in _TALKATIVE.items():
        logging.getLogger(name).setLevel(level)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger().setLevel(level.upper())
    quiet_talkative_loggers()


class AccessLogPrivacy(logging.Filter):
    """uvicorn's access lines without the client address and the query string (an export's
    search filter is a prefix of someone's email)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True
