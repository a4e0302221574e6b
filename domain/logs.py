"""Logging set-up that keeps secrets and personal data out of the logs.

Our own code logs ids and counts only. Some libraries log more at DEBUG: Tortoise logs every
SQL statement with its parameters (addresses, names, digests), aiosmtplib and aiosmtpd log the
SMTP conversation (recipients). Those loggers are held at INFO/WARNING whatever the level asked.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

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


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def private_traceback(error: BaseException) -> str:
    """A traceback with its frames and the exceptions' types, without their messages.

    Exception messages quote what they were given: a database error names the row's values
    (an address, a last name), a parser the input it choked on. The frames say where it
    happened; the message is left out (the `reference` of a masked error finds the request).
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    lines: list[str] = []
    for number, exception in enumerate(reversed(chain)):
        if number:
            lines.append("\nThe above led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(exception.__traceback__))
        kind = type(exception)
        lines.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)\n")
    return "".join(lines).rstrip("\n")


class PrivateFormatter(logging.Formatter):
    """Tracebacks without exception messages (see private_traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached the record's full traceback text: never reuse it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: ExcInfo) -> str:
        error = ei[1]
        return private_traceback(error) if error is not None else ""


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        handler.setFormatter(PrivateFormatter(FORMAT))
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
