"""The error a check across fields raises: the path of the field to change, and why."""

from __future__ import annotations

from pydantic_core import PydanticCustomError


def cross_error(path: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """An error found across fields, carrying the path of the field the user should change."""
    return PydanticCustomError("dockyard_cross", "{message}", {"path": path, "message": message})
