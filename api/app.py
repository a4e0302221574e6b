"""The ASGI application: GraphQL, the /invite page, the admin pages, downloads, health, and
dev tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp
from tortoise.contrib.starlette import RegisterTortoise

from api import cors, mail_events, observability
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
from api.uploads import BodyLimits
from domain import db
from domain.settings import GraphiqlAccess, Settings, get_settings


class App(Starlette):
    # INVITES_CORS_ORIGINS: none by default, and then no CORS layer at all.
    cors_origins: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own layers (ServerErrorMiddleware answers a 500): a failed
        # request's answer and log lines carry its id too, and a listed origin may read it.
        app = super().build_middleware_stack()
        if self.cors_origins:
            app = cors.Answers(app, self.cors_origins)
        return observability.RequestIds(app)


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
            # Connected on first use, not at startup: the API starts, answers /health/live and
            # says "not ready" on /health/ready while Redis is down.
            redis = ArqRedis.from_url(settings.redis_url, socket_connect_timeout=1)
            stack.push_async_callback(redis.aclose)
            app.state.redis = redis
            if settings.is_development:
                from api.devmail import start_mail_catcher

                stack.enter_context(start_mail_catcher(settings))
            yield

    routes: list[BaseRoute] = [
        # The busiest first: the router tries each route in turn.
        Route("/graphql", GraphQLView(settings, console=console.page if console else None)),
        *observability.probe_routes(),
        *(console.routes() if console else []),
        *(AdminPages(settings, console).routes() if console else []),
        *observability.metrics_routes(settings),
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
    app = App(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders, settings=settings),
            Middleware(BodyLimits, settings=settings),
        ],
        exception_handlers=error_handlers(pages),
    )
    app.state.settings = settings
    app.cors_origins = tuple(settings.cors_origins)
    return app
