"""The edge between GraphQL and the domain: run a service, enqueue its jobs after it
committed, turn refused input into payload errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from domain import outbox
from domain.errors import DomainError
from schema.context import Info
from schema.errors import UserError, user_errors

T = TypeVar("T")


async def perform(info: Info, action: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Await a domain service; its outbox jobs reach Redis only if it succeeded."""
    try:
        async with outbox.unit_of_work(info.context.redis):
            result = await action
    except DomainError as error:
        info.context.refused = True
        return None, user_errors(error)
    return result, []
