"""Discord's OpenAPI description (vendored) and a validator for simcord's REST responses."""

from .validator import OpenApiValidator, Operation

__all__ = ["OpenApiValidator", "Operation"]
