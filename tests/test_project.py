"""The project's own consistency: schema file, migrations, compose file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strawberry.printer import print_schema
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from domain import db
from schema.app import schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_graphql_schema_matches_the_code() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed.strip() == print_schema(schema).strip(), (
        "schema/schema.graphql is out of date: run `make schema` and commit it"
    )


async def test_models_and_migrations_agree(database: None) -> None:
    config = db.tortoise_config("sqlite://:memory:")
    detector = MigrationAutodetector(Tortoise.apps, config["apps"])  # type: ignore[arg-type]
    changes = await detector.changes()
    assert not changes, "models changed without a migration: run `make migrations`"


def test_the_api_serves_on_uvloop_and_httptools() -> None:
    # `invitations serve` leaves uvicorn's loop and HTTP parser on "auto": the fast ones when
    # installed (runtime dependencies), else asyncio and h11 at a fraction of the throughput.
    import uvicorn

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    config = uvicorn.Config(app, log_config=None)
    config.load()
    assert config.http_protocol_class.__module__ == "uvicorn.protocols.http.httptools_impl"
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
