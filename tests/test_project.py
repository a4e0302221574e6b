"""The project's own consistency: schema file, migrations, compose file."""

from __future__ import annotations

from pathlib import Path

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
