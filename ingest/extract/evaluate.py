"""Measure the extractors against the curated case base.

Run ``python -m failgraph.ingest.extract.evaluate [--cases FILE] [--json] [--all]``.

Gold data, per case of ``ingest/cases/cases.jsonl``:

* **libraries**: ``environment.libraries`` (name, version) is the gold for :func:`extract_libraries` on ``report``,
  as far as the report states the version (a curator may record a version read later in the thread, which no
  extractor can find in the report; such entries are counted apart, as ``not_in_report``).
  Slice: the cases with at least one gold library. A prediction matches when name and version agree after
  normalisation (PEP 503 name with the alias table; version without a leading ``v``, case-insensitive).

  Two precisions are printed. *Strict* counts every prediction that is not in the gold as a false positive. The
  curators annotated a subset of the libraries a report names (often the main stack only, and only the reporter's
  own versions), so *judged* precision counts a prediction only when the gold annotates that library for the case
  (a wrong or extra version of an annotated library is a false positive; a library the gold is silent about is
  "unjudged" and listed with ``--all`` for review).

* **errors**: ``error_lines`` are gold lines, verbatim substrings of ``report``. Slice: the cases with at least one
  gold error line. Recall is measured on the gold lines that are error lines; a gold line is *not* an error line
  when it is a quoted source line of a traceback (``x = f(y)``, ``assert ...``, ``raise ...``), an informational
  log line (``INFO``/``NOTE``/``> ...``) or has no failure vocabulary at all (``Setting `pad_token_id` ...``). This
  filter is written here, independently of the extractor, and deliberately broad. A prediction is a true positive
  when it matches any gold line of its case (same signature, or the predicted line overlaps the gold line in the
  report), so a prediction that finds an annotated non-error line is not penalised either.

* **usage facts** (device, GPU count, launch arguments, model variant, tried fixes, ruled-out things): precision and
  recall per field on the hand-labeled slice ``tests/fixtures/usage_facts.jsonl`` (see :mod:`.usage_eval`; ``--usage
  FILE`` for another slice). Left out when the slice is not there (an installed package without its tests).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cases import Case, load_cases
from ..evaluator import Evaluator, Progress
from .errors import error_signature, extract_errors
from .libraries import extract_libraries, normalise_library_name
from .usage_eval import DEFAULT_SLICE, UsageEvaluation, evaluate_usage, format_usage

# ----------------------------------------------------------------------------------------------- gold error lines

_GOLD_EXCEPTION = re.compile(r"^\s*(?:\[rank\d+\]:\s*)?(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception)\b")
_GOLD_CODE = re.compile(
    r"^\s*(?:\[rank\d+\]:\s*)?(?:File \"|Traceback \(|assert\s|raise\s|return\s|if\s|elif\s|for\s|while\s|import\s"
    r"|from\s+\S+\s+import\s|with\s|def\s|class\s|self\.|--->|[\w.\[\]\"'()]+\s*=\s|[\w.]+\(.*\)\s*:?\s*$)")
_GOLD_INFO = re.compile(r"^\s*(?:>|INFO\b|DEBUG\b|NOTE\b|\[I\s)")
_GOLD_VOCAB = re.compile(
    r"error|exception|fail|fatal|assert|abort|panic|kill|fault|segmentation|core dumped|not supported|unsupported"
    r"|not support|incompatible|insufficient|out of memory|cannot|can't|could not|couldn't|unable|mismatch"
    r"|not found|no module|no attribute|does not exist|not installed|invalid|not divisible|not aligned|not allowed"
    r"|not set|denied|timeout|timed out|degraded|illegal|unexpected|incorrect|too old|missing|unknown|unrecogni[sz]ed"
    r"|deadlock|overflow|no longer|not implemented|must be|isn't|is not|doesn't|does not|not enough|too large"
    r"|too small|exceed|corrupt|warning|deprecated|incomplete|terminated|refused|only supports?|requires|undefined"
    r"|larger than|smaller than|\bnan\b|\binf\b",
    re.IGNORECASE)


def is_gold_error_line(line: str) -> bool:
    """Whether a gold line counts for error-signature recall (see the module docstring).

    >>> is_gold_error_line("RuntimeError: CUDA error: device-side assert triggered")
    True
    >>> is_gold_error_line("    assert seqlen_k == seqlen_q")
    False
    >>> is_gold_error_line("> initializing model parallel with size 1")
    False
    """
    if not line.strip() or _GOLD_INFO.match(line):
        return False
    if _GOLD_CODE.match(line) and not _GOLD_EXCEPTION.match(line):
        return False
    return bool(_GOLD_VOCAB.search(line))


def _spans(text: str, needle: str) -> list[tuple[int, int]]:
    out, i = [], text.find(needle)
    while needle and i >= 0:
        out.append((i, i + len(needle)))
        i = text.find(needle, i + 1)
    return out


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


# ----------------------------------------------------------------------------------------------------- the report


@dataclass
class Metric:
    slice_cases: int = 0
    gold: int = 0
    predicted: int = 0
    tp_pred: int = 0  # predictions that match the gold
    tp_gold: int = 0  # gold items found
    misses: list[dict] = field(default_factory=list)
    false_positives: list[dict] = field(default_factory=list)
    not_in_report: list[str] = field(default_factory=list)  # gold the report does not state (not scored)

    @property
    def precision(self) -> float:
        return self.tp_pred / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.tp_gold / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> dict:
        return {"slice_cases": self.slice_cases, "gold": self.gold, "predicted": self.predicted,
                "true_positive_predictions": self.tp_pred, "found_gold": self.tp_gold,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                **({"gold_not_in_report": len(self.not_in_report)} if self.not_in_report else {})}


@dataclass
class Evaluation:
    cases_file: str
    cases: int
    labeled: int  # cases with >= 1 gold library or >= 1 gold error line
    libraries: Metric
    libraries_judged: Metric
    unjudged: list[dict]
    errors: Metric
    errors_all_gold: Metric
    excluded_gold_lines: list[dict]
    usage: UsageEvaluation | None = None

    def to_dict(self) -> dict:
        return {
            **({"usage": self.usage.to_dict()} if self.usage else {}),
            "cases_file": self.cases_file, "cases": self.cases, "labeled_cases": self.labeled,
            "libraries": {"strict": self.libraries.summary(), "judged": self.libraries_judged.summary(),
                          "unjudged_predictions": len(self.unjudged),
                          "misses": self.libraries.misses, "false_positives": self.libraries_judged.false_positives,
                          "unjudged": self.unjudged},
            "errors": {**self.errors.summary(), "recall_all_gold_lines": round(self.errors_all_gold.recall, 4),
                       "gold_lines_all": self.errors_all_gold.gold,
                       "gold_lines_not_error_lines": len(self.excluded_gold_lines),
                       "misses": self.errors.misses, "false_positives": self.errors.false_positives,
                       "excluded_gold_lines": self.excluded_gold_lines},
        }


def _norm_version(v: str) -> str:
    return v.strip().lower().lstrip("v")


def evaluate_libraries(cases: Sequence[Case]) -> tuple[Metric, Metric, list[dict]]:
    strict, judged, unjudged = Metric(), Metric(), []
    not_in_report = strict.not_in_report
    for case in cases:
        if not case.environment.libraries:
            continue
        low = case.report.lower()
        stated = [g for g in case.environment.libraries if _norm_version(g.version) in low]
        not_in_report.extend(f"{case.source_url}: {g.name} {g.version}" for g in case.environment.libraries
                             if g not in stated)
        if not stated:
            continue
        gold = {(normalise_library_name(g.name), _norm_version(g.version)) for g in stated}
        gold_names = {n for n, _ in gold}
        pred = {(m.name, _norm_version(m.version)): m for m in extract_libraries(case.report)}
        for metric in (strict, judged):
            metric.slice_cases += 1
            metric.gold += len(gold)
            metric.tp_gold += len(gold & pred.keys())
        strict.predicted += len(pred)
        strict.tp_pred += len(gold & pred.keys())
        judged.tp_pred += len(gold & pred.keys())
        judged.predicted += len([k for k in pred if k in gold or k[0] in gold_names])
        for key in sorted(gold - pred.keys()):
            strict.misses.append({"case": case.source_url, "gold": f"{key[0]} {key[1]}"})
        for key, m in pred.items():
            if key in gold:
                continue
            item = {"case": case.source_url, "predicted": f"{key[0]} {key[1]}", "raw": m.raw}
            strict.false_positives.append(item)
            (judged.false_positives if key[0] in gold_names else unjudged).append(item)
    judged.misses = strict.misses
    return strict, judged, unjudged


def evaluate_errors(cases: Sequence[Case]) -> tuple[Metric, Metric, list[dict]]:
    metric, all_gold, excluded = Metric(), Metric(), []
    for case in cases:
        if not case.error_lines:
            continue
        report = case.report
        gold_lines = list(dict.fromkeys(case.error_lines))
        gold_info = []
        for line in gold_lines:
            sig = error_signature(line)
            gold_info.append((line, sig.signature if sig else None, _spans(report, line), is_gold_error_line(line)))
        preds = extract_errors(report)

        def matches(p, g) -> bool:
            _, gsig, gspans, _ = g
            pspan = (p.start or 0, (p.start or 0) + len(p.raw))
            return (gsig is not None and gsig == p.signature) or _overlaps(pspan, gspans)

        for m in (metric, all_gold):
            m.slice_cases += 1
            m.predicted += len(preds)
        for p in preds:
            ok = any(matches(p, g) for g in gold_info)
            metric.tp_pred += ok
            all_gold.tp_pred += ok
            if not ok:
                metric.false_positives.append({"case": case.source_url, "predicted": p.signature, "raw": p.raw})
        for g in gold_info:
            found = any(matches(p, g) for p in preds)
            all_gold.gold += 1
            all_gold.tp_gold += found
            if not g[3]:
                excluded.append({"case": case.source_url, "gold": g[0]})
                continue
            metric.gold += 1
            metric.tp_gold += found
            if not found:
                metric.misses.append({"case": case.source_url, "gold": g[0]})
    return metric, all_gold, excluded


def evaluate(cases_path: str | Path | None = None, usage_path: str | Path | None = None) -> Evaluation:
    """Run the evaluations on a case file (the shipped case base by default), and the usage facts on their slice
    (``usage_path``, the shipped slice by default when present)."""
    loaded = load_cases(cases_path)
    if loaded.problems:
        raise ValueError(f"{len(loaded.problems)} invalid case(s) in {loaded.path}; first: {loaded.problems[0]}")
    libs, judged, unjudged = evaluate_libraries(loaded.cases)
    errs, errs_all, excluded = evaluate_errors(loaded.cases)
    labeled = sum(1 for c in loaded.cases if c.environment.libraries or c.error_lines)
    if usage_path is None and DEFAULT_SLICE.is_file():
        usage_path = DEFAULT_SLICE
    usage = evaluate_usage(usage_path) if usage_path is not None else None
    return Evaluation(cases_file=loaded.path, cases=len(loaded.cases), labeled=labeled, libraries=libs,
                      libraries_judged=judged,
                      unjudged=unjudged, errors=errs, errors_all_gold=errs_all, excluded_gold_lines=excluded,
                      usage=usage)


def _short(s: str, n: int = 150) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _case(url: str) -> str:
    return url.replace("https://github.com/", "").replace("/issues/", "#").replace("/pull/", "#")


def format_report(ev: Evaluation, *, limit: int | None = 15) -> str:
    L, J, E, A = ev.libraries, ev.libraries_judged, ev.errors, ev.errors_all_gold
    cut = (lambda xs: xs) if limit is None else (lambda xs: xs[:limit])
    out = [f"failgraph extraction evaluation — {ev.cases} cases from {ev.cases_file}; labeled slice {ev.labeled} cases "
           f"(each metric on the cases that carry its own gold)", ""]
    out += [
        f"(a) libraries + versions: {L.slice_cases} cases with >= 1 gold library, {L.gold} gold mentions, "
        f"{L.predicted} predicted",
        f"    strict   precision {L.precision:.3f}  recall {L.recall:.3f}  F1 {L.f1:.3f}   "
        f"(TP {L.tp_pred}, FP {L.predicted - L.tp_pred}, FN {L.gold - L.tp_gold})",
        f"    judged   precision {J.precision:.3f}  recall {J.recall:.3f}  F1 {J.f1:.3f}   "
        f"(FP {J.predicted - J.tp_pred} on annotated libraries; {len(ev.unjudged)} predictions of libraries "
        f"the gold does not annotate are unjudged)",
        "",
        f"(b) error signatures: {E.slice_cases} cases with >= 1 gold error line, {A.gold} gold lines of which "
        f"{E.gold} are error lines ({len(ev.excluded_gold_lines)} source/info lines excluded), {E.predicted} predicted",
        f"    precision {E.precision:.3f}  recall {E.recall:.3f}  F1 {E.f1:.3f}   "
        f"(TP {E.tp_pred}, FP {E.predicted - E.tp_pred}, FN {E.gold - E.tp_gold})",
        f"    recall over all {A.gold} gold lines, non-error lines included: {A.recall:.3f}",
        "",
    ]
    out.append(f"library misses ({L.gold - L.tp_gold}):")
    out += [f"  {_case(m['case'])}: {m['gold']}" for m in cut(L.misses)]
    out.append(f"library false positives on annotated libraries ({len(J.false_positives)}):")
    out += [f"  {_case(m['case'])}: {m['predicted']}  <- {_short(m['raw'], 80)!r}" for m in cut(J.false_positives)]
    if limit is None:
        out.append(f"unjudged library predictions ({len(ev.unjudged)}):")
        out += [f"  {_case(m['case'])}: {m['predicted']}  <- {_short(m['raw'], 80)!r}" for m in ev.unjudged]
    out.append(f"error-line misses ({E.gold - E.tp_gold}):")
    out += [f"  {_case(m['case'])}: {_short(m['gold'])}" for m in cut(E.misses)]
    out.append(f"error false positives ({E.predicted - E.tp_pred}):")
    out += [f"  {_case(m['case'])}: {_short(m['predicted'])}" for m in cut(E.false_positives)]
    if limit is None:
        out.append(f"gold lines excluded as not error lines ({len(ev.excluded_gold_lines)}):")
        out += [f"  {_case(m['case'])}: {_short(m['gold'])}" for m in ev.excluded_gold_lines]
    elif any(len(x) > limit for x in (L.misses, J.false_positives, E.misses, E.false_positives)):
        out.append(f"(lists cut at {limit}; --all shows everything, including unjudged predictions and excluded lines)")
    if ev.usage is not None:
        out += ["", *format_usage(ev.usage, limit=limit)]
    return "\n".join(out)


class ExtractionEvaluator(Evaluator[Evaluation]):
    """Precision and recall of the library and error-signature extractors on a case file, and of the usage facts
    per field on their labeled slice."""

    name = "extraction"

    def __init__(self, cases_path: str | Path | None = None, *, limit: int | None = 15,
                 usage_path: str | Path | None = None):
        self.cases_path = cases_path
        self.limit = limit
        self.usage_path = usage_path

    def run(self, progress: Progress | None = None) -> Evaluation:
        result = evaluate(self.cases_path, self.usage_path)
        if progress:
            progress(result.cases)
        return result

    def render(self, result: Evaluation) -> str:
        return format_report(result, limit=self.limit)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m failgraph.ingest.extract.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--cases", help="case file (JSONL); the shipped case base by default")
    ap.add_argument("--json", action="store_true", help="print the metrics and lists as JSON")
    ap.add_argument("--all", action="store_true", help="do not cut the lists of misses and false positives")
    ap.add_argument("--usage", help="labeled slice of usage facts (JSONL); tests/fixtures/usage_facts.jsonl by default")
    args = ap.parse_args(argv)
    evaluator = ExtractionEvaluator(args.cases, limit=None if args.all else 15, usage_path=args.usage)
    try:
        ev = evaluator.run()
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(ev.to_dict(), indent=2, ensure_ascii=False) if args.json else evaluator.render(ev)
    try:
        print(text)
    except BrokenPipeError:  # `... | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter quiet at exit
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["Evaluation", "ExtractionEvaluator", "Metric", "evaluate", "evaluate_errors", "evaluate_libraries",
           "format_report", "is_gold_error_line", "main"]
