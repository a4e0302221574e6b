"""Real components for every test: PostgreSQL (or SQLite), Redis, an SMTP sink, a real worker.

Choose the database with TEST_DATABASE=postgres (default) or TEST_DATABASE=sqlite. The tests
use their own PostgreSQL database (invitations_test) and Redis db index (15), never the
defaults a user's data lives in. Only the clock is faked (domain.clock.clock.advance).
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

# Settings are read from the environment once: set them before importing the service.
_TMP = Path(tempfile.mkdtemp(prefix="invitations-tests-"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DATABASE_KIND = os.environ.get("TEST_DATABASE", "postgres")
if DATABASE_KIND == "sqlite":
    DATABASE_URL = f"sqlite://{_TMP / 'test.sqlite3'}"
else:
    DATABASE_URL = os.environ.get(
        "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_test"
    )
SMTP_PORT = _free_port()
os.environ.update(
    {
        "INVITES_ENV": "test",
        "INVITES_SECRET_KEY": "test-secret-key-" + "x" * 40,
        "INVITES_DATABASE_URL": DATABASE_URL,
        "INVITES_REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "INVITES_DATA_DIR": str(_TMP / "data"),
        "INVITES_PUBLIC_URL": "https://participate.example.org",
        "INVITES_PLATFORM_NAME": "Participate Example",
        "INVITES_SMTP_HOST": "127.0.0.1",
        "INVITES_SMTP_PORT": str(SMTP_PORT),
        "INVITES_SMTP_TLS": "none",
        "INVITES_MAIL_FROM": "invitations@participate.example.org",
        "INVITES_SEND_RETRY_BASE_SECONDS": "0",
        # The relay's pauses and a job's wait after a dropped database connection: short.
        "INVITES_RELAY_PAUSE_SECONDS": "0.05",
        "INVITES_RELAY_PAUSE_MAX_SECONDS": "0.2",
        "INVITES_WORKER_DATABASE_RETRY_SECONDS": "0.1",
        "INVITES_WORKER_POLL_DELAY_SECONDS": "0.01",
        # Tests move the clock by more than a month: keep the admin signed in meanwhile.
        "INVITES_SESSION_TTL_DAYS": "365",
    }
)


pytest_plugins = ["tests.fixtures", "tests.browser"]


def pytest_report_header() -> list[str]:
    return [f"database: {DATABASE_KIND} ({DATABASE_URL.split('@')[-1]})"]
