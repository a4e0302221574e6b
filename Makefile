# Everyday commands. `make run` starts the service on embedded defaults; `make test` runs
# every check and the whole suite (PostgreSQL, then SQLite).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync

.PHONY: docs migrations install run test check lint format typecheck contracts schema pytest pytest-postgres pytest-sqlite bench clean console-screenshots

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen
	@bash scripts/ensure-system-packages.sh

run: install
	$(RUN) invitations dev

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format:
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck:
	$(RUN) mypy

contracts:
	$(RUN) lint-imports

migrations:
	$(RUN) tortoise -c domain.db.TORTOISE_ORM makemigrations

docs:
	$(RUN) invitations mail-setup --example --write docs/email-delivery.md

schema:
	$(RUN) strawberry export-schema schema.app:schema --output schema/schema.graphql

check: lint typecheck contracts

pytest-postgres:
	TEST_DATABASE=postgres $(RUN) pytest -q

pytest-sqlite:
	TEST_DATABASE=sqlite $(RUN) pytest -q

pytest: pytest-postgres pytest-sqlite

test: install check pytest

# The admin console's pages as docs/console/*.png (the README shows them): its browser tests,
# told to take their screenshots there. Needs the tests' database and Redis (TEST_*_URL).
console-screenshots:
	INVITES_TEST_SCREENSHOTS=docs/console TEST_DATABASE=$${TEST_DATABASE:-postgres} \
		$(RUN) pytest -q -p no:cacheprovider tests/test_admin_*.py

bench: install
	$(RUN) python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
