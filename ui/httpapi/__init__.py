"""The HTTP service: the assistant's API and the read-only SPARQL 1.1 endpoint (FastAPI)."""

from .app import create_app
from .routes.sparql import EndpointSettings
from .schemas import ApiLimits

__all__ = ["ApiLimits", "EndpointSettings", "create_app"]
