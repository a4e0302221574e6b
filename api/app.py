"""The ASGI application: GraphQL, the /invite page, the admin pages, downloads, health, and
dev tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from arq import create_pool
from arq.connections import RedisSettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from tortoise.contrib.starlette import RegisterTortoise

from api import mail_events
from api.admin import AdminPages
from api.console import Console, console_access
from api.downloads import import_template
from api.exports import export_invitations
from api.graphql import GraphQLView
from api.import_problems import import_problems
from api.invite import ResidentPages
from api.invite_errors import error_handlers
from api.letters import print_letters
from api.security_headers import SecurityHeaders
from api.uploads import BodySizeLimit, BodyTimeLimit
from domain import db
from domain.settings import GraphiqlAccess, Settings, get_settings


async def health(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await db.database_now()
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = type(error).__name__
    try:
        await request.app.state.redis.ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = type(error).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unhealthy", **checks}, status_code=200 if healthy else 503
    )


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The app. Tests that already run Tortoise pass manage_database=False."""
    settings = settings or get_settings()
    console = None if console_access(settings) is GraphiqlAccess.OFF else Console(settings)
    pages = ResidentPages(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if manage_database:
                await stack.enter_async_context(
                    RegisterTortoise(app, config=db.config_from_settings(settings))
                )
            redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
            stack.push_async_callback(redis.aclose)
            app.state.redis = redis
            if settings.is_development:
                from api.devmail import start_mail_catcher

                stack.enter_context(start_mail_catcher(settings))
            yield

    routes: list[BaseRoute] = [
        Route("/graphql", GraphQLView(settings, console=console.page if console else None)),
        *(console.routes() if console else []),
        *(AdminPages(settings, console).routes() if console else []),
        Route("/health", health),
        *pages.routes(),
        Route("/invitations/export.xlsx", export_invitations, methods=["GET"]),
        Route("/invitations/letters.pdf", print_letters, methods=["GET"]),
        Route("/invitations/template.xlsx", import_template, methods=["GET"]),
        *mail_events.routes(settings),
        Route("/invitations/imports/{import_id}/problems.xlsx", import_problems, methods=["GET"]),
    ]
    if settings.is_development:
        from api.devmail import routes as devmail_routes

        routes.extend(devmail_routes(settings))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyTimeLimit, settings=settings),
            Middleware(BodySizeLimit, settings=settings),
        ],
        exception_handlers=error_handlers(pages),
    )
    app.state.settings = settings
    return app
