# The service's image: one for the API, the worker and the migrations (see docker-compose.yml).
FROM python:3.11-slim

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

# The fonts the letters print with (INVITES_LETTERS_*_FONT): DejaVu for text and codes, Droid
# Sans Fallback for what DejaVu lacks (Chinese, Japanese, Korean).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-droid-fallback \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from the lock file alone: this layer is reused until uv.lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY README.md ./
COPY domain ./domain
COPY schema ./schema
COPY api ./api
COPY workers ./workers
COPY cli ./cli
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# The code and the virtualenv stay root-owned and read-only to the service's own user.
RUN useradd --system --uid 10001 --no-create-home invitations \
    && mkdir /data && chown invitations /data
USER invitations
ENV INVITES_DATA_DIR=/data

EXPOSE 8000
# The API's readiness (database, Redis, migrations); the slim image has no curl, and urlopen
# fails on a non-2xx answer. A worker's container checks itself with `invitations worker --check`
# (docker-compose.yml overrides this for it).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=3)"]
CMD ["invitations", "serve", "--host", "0.0.0.0"]
