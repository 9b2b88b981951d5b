"""The RDF serialisations a graph exports to (format name → file extension); a light module the CLI reads at start."""

from __future__ import annotations

EXPORT_FORMATS = {"turtle": "ttl", "trig": "trig", "nquads": "nq", "ntriples": "nt", "json-ld": "jsonld"}

__all__ = ["EXPORT_FORMATS"]
