"""Logging set-up that keeps secrets and personal data out of the logs.

Our own code logs ids and counts only. Some libraries log more at DEBUG: Tortoise logs every
SQL statement with its parameters (addresses, names, digests), aiosmtplib and aiosmtpd log the
SMTP conversation (recipients). Those loggers are held at INFO/WARNING whatever the level asked.
fontTools writes a score of INFO lines for each font it subsets (every letters download): held
at WARNING too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

# Loggers whose DEBUG output carries query parameters or mail addresses, or that say too much.
_TALKATIVE = {
    "tortoise.db_client": logging.INFO,
    "tortoise": logging.INFO,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "aiosmtplib": logging.WARNING,
    "mail.log": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # Glyph ids and counts at INFO for every font of every letters or cards PDF.
    "fontTools": logging.WARNING,
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


# What a line belongs to: the HTTP request (api: X-Request-ID) or the job (workers: its id).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)


class WithContext(logging.Filter):
    """Puts the request's or the job's id on each record (`request_id`, `job_id`, and
    `context` for the text format: `request=...`, `job=...` or `-`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request, job = request_id.get(), job_id.get()
        record.request_id = request
        record.job_id = job
        record.context = f"request={request}" if request else f"job={job}" if job else "-"
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s]: %(message)s"


class RoutinePeriodicJobs(logging.Filter):
    """Leaves out arq's start and finish lines of the periodic jobs ("cron:..." ids: the sweeps
    run every 5 to 20 seconds, some 50,000 lines a day from each worker that say nothing, and
    in `invitations dev` they scroll the first run's admin password away within a minute).
    What a periodic job did it logs itself; its failures and retries, every other job's lines
    and, at DEBUG, everything stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = job_id.get()
        return (
            record.levelno != logging.INFO
            or job is None
            or not job.startswith("cron:")
            or not isinstance(record.msg, str)
            or not (" → " in record.msg or " ← " in record.msg)
            or logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        )


def quiet_routine_jobs() -> None:
    """RoutinePeriodicJobs on arq's worker logger (once)."""
    worker = logging.getLogger("arq.worker")
    if not any(isinstance(existing, RoutinePeriodicJobs) for existing in worker.filters):
        worker.addFilter(RoutinePeriodicJobs())


class JsonFormatter(PrivateFormatter):
    """One JSON object a line: time, level, logger, message, request_id or job_id, and the
    traceback without exception messages (PrivateFormatter)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "job_id"):
            value = getattr(record, name, None)
            if value:
                line[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else PrivateFormatter(TEXT_FORMAT)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """The root logger writes to stderr, as text (development) or JSON lines."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level.upper())
    for handler in root.handlers:
        handler.setFormatter(formatter(log_format))
        if not any(isinstance(existing, WithContext) for existing in handler.filters):
            handler.addFilter(WithContext())
    quiet_talkative_loggers()
    quiet_routine_jobs()


class AccessLogPrivacy(logging.Filter):
    """uvicorn's access lines without the client address and the query string (an export's
    search filter is a prefix of someone's email)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True
