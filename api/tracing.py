"""OpenTelemetry traces, off by default: on with INVITES_OTLP_ENDPOINT and the `traces` extra.

A span per HTTP request (the ASGI middleware) and per GraphQL operation, parse, validation and
resolver (strawberry's extension). What could carry personal data stays out: the query string,
the client's address, the GraphQL document (inline literals: a token, a password) and the
resolvers' arguments.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from starlette.types import ASGIApp

from domain.settings import Settings, SettingsError
from schema import prepared
from schema.app import schema
from schema.metrics import operation_label

# Attributes the ASGI instrumentation sets that may hold a query string or the client.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target")
_DROPPED_ATTRIBUTES = ("url.query", "net.peer.ip", "client.address", "http.client_ip")


def traced(app: ASGIApp, settings: Settings, *, exporter: Any = None) -> ASGIApp:
    """The app wrapped in tracing when an endpoint (or, in tests, an exporter) is given."""
    if not settings.otlp_endpoint and exporter is None:
        return app
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise SettingsError(
            "INVITES_OTLP_ENDPOINT is set but OpenTelemetry is not installed: install the"
            " 'traces' extra (pip install 'invitations[traces]')"
        ) from None

    provider = TracerProvider(resource=Resource.create({"service.name": "invitations"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    extension = _operation_tracing(provider)
    if extension not in schema.extensions:
        schema.extensions = (*schema.extensions, extension)
    prepared.tracer = provider.get_tracer("invitations")  # the same span for prepared answers

    def request_hook(span: Any, scope: dict[str, Any]) -> None:
        if not span.is_recording():
            return
        path = scope.get("path", "")
        for name in _URL_ATTRIBUTES:
            span.set_attribute(name, path)
        for name in _DROPPED_ATTRIBUTES:
            span.set_attribute(name, "-")

    return OpenTelemetryMiddleware(
        app,
        tracer_provider=provider,
        server_request_hook=request_hook,
        exclude_spans=["receive", "send"],
    )


_extensions: dict[int, Any] = {}


def _operation_tracing(provider: Any) -> Any:
    """strawberry's OpenTelemetryExtension without the document, the arguments or the
    client's operation name: the span is named after the operation's root field."""
    if id(provider) in _extensions:
        return _extensions[id(provider)]
    from opentelemetry.trace import SpanKind
    from strawberry.extensions.tracing import OpenTelemetryExtension
    from strawberry.extensions.tracing.opentelemetry import LifecycleStep

    class PrivateOperationTracing(OpenTelemetryExtension):
        def __init__(self, *, execution_context: Any = None) -> None:
            super().__init__(
                execution_context=execution_context,
                arg_filter=lambda args, info: {},
                tracer_provider=provider,
            )

        def on_operation(self) -> Generator[None, None, None]:
            span = self._tracer.start_span("GraphQL", kind=SpanKind.SERVER)
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            yield
            span.update_name(f"GraphQL {operation_label(self.execution_context)}")
            span.end()

    _extensions[id(provider)] = PrivateOperationTracing
    return PrivateOperationTracing
