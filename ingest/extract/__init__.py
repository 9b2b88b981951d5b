"""Extraction: facts from an issue text or a pasted report (libraries and versions, environment, error signatures).

>>> from failgraph.ingest.extract import extract_environment, error_signature
>>> error_signature("KeyError: 'qwen2'").signature
"KeyError: 'qwen2'"
"""

from .environment import extract_environment
from .errors import error_signature, extract_errors
from .facts import EnvironmentFacts, ErrorSignature, LibraryMention
from .libraries import extract_libraries, normalise_library_name

__all__ = ["EnvironmentFacts", "ErrorSignature", "LibraryMention", "error_signature", "extract_environment",
           "extract_errors", "extract_libraries", "normalise_library_name"]
