"""The one shape every evaluation harness has: labeled items in, a typed result out, and a plain-text report.

Three harnesses follow it: the extractors (:class:`failgraph.ingest.extract.evaluate.ExtractionEvaluator`), the
environment doctor (:class:`failgraph.assistant.doctor_eval.DoctorEvaluator`) and the diagnosis
(:class:`failgraph.assistant.evaluate.DiagnosisEvaluator`). It lives in the lowest layer that has a harness.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

ResultT = TypeVar("ResultT")

#: Called with the number of items scored since the last call.
Progress = Callable[[int], None]


class Evaluator(ABC, Generic[ResultT]):
    """A harness that scores one part of failgraph against labeled data, without side effects."""

    #: What it evaluates, for reports and file names.
    name: ClassVar[str]

    @abstractmethod
    def run(self, progress: Progress | None = None) -> ResultT:
        """Score every item and return the figures."""

    @abstractmethod
    def render(self, result: ResultT) -> str:
        """The figures as plain text for a terminal."""

    def report(self, progress: Progress | None = None) -> str:
        """Run, then render."""
        return self.render(self.run(progress))


__all__ = ["Evaluator", "Progress", "ResultT"]
