"""The diagnosis engine: report → extract → retrieve → walk → rank → explain.

The pipeline's functions live in :mod:`failgraph.assistant.diagnose` (``diagnose``, ``analyse``, ``similar``); they are
not re-exported here so that the name ``diagnose`` keeps meaning the module. The names below are loaded on first use,
so that importing one light module of the package (the doctor, the models) does not load the text models and their
numeric libraries.
"""

from importlib import import_module

_EXPORTS = {"KnowledgeBase": ".knowledge", "CauseAnswer": ".models", "Diagnosis": ".models",
            "ExtractedFacts": ".models", "LabelScore": ".models", "PathStep": ".models", "ReportRequest": ".models",
            "SimilarFailure": ".models", "ReportError": ".report"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CauseAnswer", "Diagnosis", "ExtractedFacts", "KnowledgeBase", "LabelScore", "PathStep", "ReportError",
           "ReportRequest", "SimilarFailure"]
