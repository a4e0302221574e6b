"""Projects: the invitations refer to them for project manager roles."""

from __future__ import annotations

from domain.errors import DomainError, ErrorCode
from domain.models import Project
from domain.validation import clean_name


async def create_project(*, title: str) -> Project:
    title = clean_name(title, "title")
    if not title:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "Give the project a title.", "title")
    return await Project.create(title=title)
