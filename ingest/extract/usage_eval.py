"""Precision and recall of the usage extractors (device, GPU count, launch arguments, model variant, tried fixes,
ruled-out things) on a hand-labeled slice.

The slice (``tests/fixtures/usage_facts.jsonl``) holds one report a line: either ``source_url`` (the ``report`` of
that case of the shipped case base) or ``text`` (a report written for the slice), and the gold fields:

* ``device``, ``gpu_count``, ``model_variant``: one value or null. A prediction is counted when not null and is
  right when equal; a gold value is found when the prediction equals it.
* ``launch``: ``{name: value}``; scored as (name, value) pairs.
* ``tried``: ``[{action, target, value}]``; scored as (action, target) pairs — the key that makes two fixes the same
  remedy; ``value`` is not scored.
* ``not_using``: names; scored as a set.

Labeling conventions: ``device`` is where the model runs as the report states or shows it (a device string, an
accelerator the run uses, a CUDA error); "GPUs" alone say nothing. ``gpu_count`` is the number of GPUs the run uses
when a number is written (a launcher count, a parallel size, "2x A100", "single GPU"), and the GPUs present when the
launcher asks for more. A parameter given twice keeps its last value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..cases import load_cases
from .environment import extract_usage

#: The shipped slice, next to the tests (present in a source checkout).
DEFAULT_SLICE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "usage_facts.jsonl"
FIELDS = ("device", "gpu_count", "launch", "model_variant", "tried", "not_using")


class GoldTried(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str
    target: str
    value: str | None = None


class UsageGold(BaseModel):
    """One labeled report of the slice."""

    model_config = ConfigDict(extra="forbid")

    source_url: str | None = None
    text: str | None = None
    device: Literal["cuda", "cpu", "mps", "npu", "xpu", "rocm"] | None = None
    gpu_count: int | None = Field(None, ge=1)
    launch: dict[str, str] = Field(default_factory=dict)
    model_variant: Literal["base", "instruct"] | None = None
    tried: list[GoldTried] = Field(default_factory=list)
    not_using: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> UsageGold:
        if (self.source_url is None) == (self.text is None):
            raise ValueError("give exactly one of source_url and text")
        return self


@dataclass
class FieldScore:
    gold: int = 0
    predicted: int = 0
    correct: int = 0
    misses: list[dict] = field(default_factory=list)
    false_positives: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0

    def summary(self) -> dict:
        return {"gold": self.gold, "predicted": self.predicted, "correct": self.correct,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


@dataclass
class UsageEvaluation:
    slice_file: str
    reports: int
    fields: dict[str, FieldScore]

    def to_dict(self) -> dict:
        return {"slice_file": self.slice_file, "reports": self.reports,
                **{name: {**f.summary(), "misses": f.misses, "false_positives": f.false_positives}
                   for name, f in self.fields.items()}}


def load_slice(path: str | Path) -> list[tuple[str, str, UsageGold]]:
    """(id, report text, gold) for each line; a ``source_url`` is looked up in the shipped case base."""
    reports = {c.source_url: c.report for c in load_cases().cases}
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                gold = UsageGold.model_validate(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "line"
                raise ValueError(f"{path}:{n}: {where}: {first['msg']}") from None
            if gold.source_url is not None:
                if gold.source_url not in reports:
                    raise ValueError(f"{path}:{n}: {gold.source_url} is not a case of the case base")
                out.append((gold.source_url, reports[gold.source_url], gold))
            else:
                out.append((f"line {n}", gold.text or "", gold))
    return out


def _as_sets(values: dict) -> dict[str, set]:
    return {
        "device": {values["device"]} - {None}, "gpu_count": {values["gpu_count"]} - {None},
        "model_variant": {values["model_variant"]} - {None},
        "launch": {(k, str(v).casefold()) for k, v in values["launch"].items()},
        "tried": {(t["action"], t["target"]) for t in values["tried"]},
        "not_using": set(values["not_using"]),
    }


def evaluate_usage(path: str | Path = DEFAULT_SLICE, items: Sequence[tuple[str, str, UsageGold]] | None = None
                   ) -> UsageEvaluation:
    """Score :func:`failgraph.ingest.extract.environment.extract_usage` on the slice."""
    items = load_slice(path) if items is None else items
    fields = {name: FieldScore() for name in FIELDS}
    for ident, text, gold in items:
        predicted = _as_sets(extract_usage(text).model_dump())
        expected = _as_sets(gold.model_dump())
        for name, score in fields.items():
            p, g = predicted[name], expected[name]
            score.gold += len(g)
            score.predicted += len(p)
            score.correct += len(p & g)
            score.misses += [{"report": ident, "gold": repr(x)} for x in sorted(g - p, key=repr)]
            score.false_positives += [{"report": ident, "predicted": repr(x)} for x in sorted(p - g, key=repr)]
    return UsageEvaluation(slice_file=str(path), reports=len(items), fields=fields)


def format_usage(ev: UsageEvaluation, *, limit: int | None = 15) -> list[str]:
    """The per-field figures, then the misses and false positives, as report lines."""
    out = [f"(c) usage facts: {ev.reports} hand-labeled reports from {ev.slice_file}"]
    for name, f in ev.fields.items():
        out.append(f"    {name:<14} precision {f.precision:.3f}  recall {f.recall:.3f}   "
                   f"(gold {f.gold}, predicted {f.predicted}, correct {f.correct})")
    for name, f in ev.fields.items():
        for kind, items, key in (("misses", f.misses, "gold"), ("false positives", f.false_positives, "predicted")):
            if items:
                shown = items if limit is None else items[:limit]
                out.append(f"{name} {kind} ({len(items)}):")
                out += [f"  {_short(i['report'])}: {i[key]}" for i in shown]
    return out


def _short(ident: str) -> str:
    return ident.replace("https://github.com/", "").replace("/issues/", "#").replace("/pull/", "#")


__all__ = ["DEFAULT_SLICE", "FIELDS", "FieldScore", "UsageEvaluation", "UsageGold", "evaluate_usage",
           "format_usage", "load_slice"]
