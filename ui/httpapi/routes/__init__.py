"""One router per resource: health, the assistant (similar, diagnose), issues and the SPARQL endpoint."""

__all__: list[str] = []
