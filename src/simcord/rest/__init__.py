"""simcord's REST API under /api/v10."""

from simcord.rest.app import build_app
from simcord.rest.common import RestExchange, RestServer

__all__ = ["RestExchange", "RestServer", "build_app"]
