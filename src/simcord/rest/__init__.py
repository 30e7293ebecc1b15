"""simcord's REST API under /api/v10."""

from simcord.rest.app import RestExchange, RestServer, build_app

__all__ = ["RestExchange", "RestServer", "build_app"]
