"""The diagnosis engine: report → extract → retrieve → walk → rank → explain.

The pipeline's functions live in :mod:`failgraph.assistant.diagnose` (``diagnose``, ``analyse``, ``similar``); they are
not re-exported here so that the name ``diagnose`` keeps meaning the module.
"""

from .knowledge import KnowledgeBase
from .models import (
           CauseAnswer,
           Diagnosis,
           ExtractedFacts,
           LabelScore,
           PathStep,
           ReportRequest,
           SimilarFailure,
)
from .report import ReportError

__all__ = ["CauseAnswer", "Diagnosis", "ExtractedFacts", "KnowledgeBase", "LabelScore", "PathStep", "ReportError",
           "ReportRequest", "SimilarFailure"]
