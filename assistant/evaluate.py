"""Leave-one-out evaluation of the diagnosis engine against baselines, measured side by side in one run.

Each labeled report is diagnosed with its own issue excluded from retrieval and from the statistics. Accuracy is
reported at every level of both taxonomies (top-1, top-3, MRR) for failgraph and for the baselines: the majority
class, the study's heuristic (crash → dependency, incorrect output → control tokens, hang → distributed), BM25-only
and dense-only neighbour voting.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from ..ingest.evaluator import Evaluator, Progress
from ..ontology import Level, SchemeName, load_taxonomy
from ..ontology.fixes import FixSpec
from ..ontology.rules import study_heuristics
from .diagnose import analyse, fixes_for
from .knowledge import KnowledgeBase
from .models import ReportRequest
from .probability import normalise
from .rank import ranked_leaves, roll_up
from .report import ReportError
from .symptoms import neighbour_votes, rule_hits
from .weights import COMMENT_THRESHOLD, DiagnosisWeights

LEVELS: dict[SchemeName, list[Level]] = {
    "root_cause": [Level.category, Level.subcategory, Level.group, Level.leaf],
    "symptom": [Level.category, Level.group, Level.leaf],
}
METHODS = ["failgraph", "majority", "study_heuristic", "bm25_only", "dense_only"]
#: Two reports whose MiniLM vectors have at least this cosine similarity count as near duplicates.
NEAR_DUPLICATE = 0.8
AGREEMENT_BLOCK = 2048


class LabeledReport(BaseModel):
    """One evaluation item: a case-base line or any JSONL with text/report, symptom, root_cause, source_url."""

    text: str
    symptom: str
    root_cause: str
    source_url: str | None = None
    fix_spec: FixSpec | None = Field(None, description="The fix that resolved it, structured (for fix@k)")
    fix_confirmed: bool = False
    date: datetime.date | None = Field(None, description="When the issue was opened (for a time split)")

    @model_validator(mode="before")
    @classmethod
    def _text_from_report(cls, data):
        if isinstance(data, dict) and "text" not in data and "report" in data:
            data = {**data, "text": data["report"]}
        return data


class LevelScore(BaseModel):
    top1: float
    top3: float
    mrr: float
    n: int


class MethodScores(BaseModel):
    root_cause: dict[str, LevelScore]
    symptom: dict[str, LevelScore]


class FixScores(BaseModel):
    """Did the first fix (or one of the first three) have the resolving fix's action and target?"""

    fix_at_1: float
    fix_at_3: float
    action_at_1: float = Field(0.0, description="the first fix has the resolving fix's action (any target)")
    first_generic: float = Field(description="share of answers whose first fix is a generic step")
    n: int = Field(description="reports with a structured, non-generic fix")
    confirmed_fix_at_1: float = Field(description="fix@1 over the reports whose fix a thread confirmed")
    confirmed_n: int


class AboveThreshold(BaseModel):
    """The answers a bot that speaks only when sure would give: first root cause scored at least ``threshold``."""

    threshold: float
    share: float = Field(description="share of the reports answered")
    category_top1: float
    leaf_top1: float
    fix_at_1: float
    fix_n: int


class LabelAgreement(BaseModel):
    """How often near-duplicate reports carry the same root-cause label: the noise in the labels that any method
    reading the text meets. (Not an upper bound on accuracy: a cluster labeled 80/20 agrees in 68% of its pairs,
    yet answering its majority label is right 80% of the time.)"""

    threshold: float = Field(description="cosine similarity of the reports' MiniLM vectors, at least")
    pairs: int
    same: dict[str, float] = Field(description="root-cause level → share of the pairs labeled alike at that level")


class ReliabilityBin(BaseModel):
    mean_score: float
    accuracy: float
    n: int


class Calibration(BaseModel):
    """Is the first answer's score its chance of being right? Equal-count bins of that score."""

    mean_score: float
    accuracy: float
    ece: float = Field(description="expected calibration error: the bins' |mean score − accuracy|, weighted by size")
    bins: list[ReliabilityBin]


class Unanswered(BaseModel):
    """A report the engine could not diagnose (empty once issue-template text is stripped, or not text)."""

    source_url: str | None
    reason: str


class EvaluationResult(BaseModel):
    items: int = Field(description="reports diagnosed and scored (every method is scored on the same ones)")
    unanswered: list[Unanswered] = Field([], description="reports left out of every method's figures, and why")
    methods: dict[str, MethodScores]
    agreement: LabelAgreement
    calibration: dict[str, Calibration] = Field(description="failgraph's first answer at the root-cause leaf and "
                                                            "category levels")
    confusion: dict[str, dict[str, int]] = Field(description="failgraph root-cause category: gold → predicted")
    confusion_symptom: dict[str, dict[str, int]]
    fixes: dict[str, FixScores] = Field(default_factory=dict, description="fix@k per method (failgraph and the "
                                                                          "dense-only and BM25-only neighbours' fixes)")
    above_threshold: list[AboveThreshold] = Field(default_factory=list)


def load_labeled(path: Path) -> list[LabeledReport]:
    tax = load_taxonomy()
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = LabeledReport.model_validate(json.loads(line))
            tax.leaf("symptom", item.symptom)
            tax.leaf("root_cause", item.root_cause)
        except (json.JSONDecodeError, ValidationError, ValueError) as e:
            raise ValueError(f"{path}:{n}: {e}") from e
        out.append(item)
    if not out:
        raise ValueError(f"{path} holds no labeled reports")
    return out


def _rank_of(dist: dict[str, float], gold: str, ordered: list[str] | None = None) -> int | None:
    ordered = ordered or [k for k, _ in sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ordered.index(gold) + 1 if gold in ordered else None


class _Tally:
    def __init__(self):
        self.ranks: dict[tuple[str, str, str], list[int | None]] = {}

    def add(self, method: str, scheme: SchemeName, leaf_dist: dict[str, float], gold_leaf: str) -> None:
        tax = load_taxonomy()
        gold = tax.leaf(scheme, gold_leaf)
        for level in LEVELS[scheme]:
            g = tax.at_level(gold, level)
            if g is None:
                continue
            if level == Level.leaf:  # in the order answers are given (see rank.ranked_leaves)
                rank = _rank_of(leaf_dist, g.label, [k for k, _ in ranked_leaves(leaf_dist, scheme)])
            else:
                rank = _rank_of(roll_up(leaf_dist, scheme, level), g.label)
            self.ranks.setdefault((method, scheme, level.value), []).append(rank)

    def scores(self, method: str) -> MethodScores:
        out = {}
        for scheme, levels in LEVELS.items():
            out[scheme] = {}
            for level in levels:
                ranks = self.ranks.get((method, scheme, level.value), [])
                n = len(ranks)
                out[scheme][level.value] = LevelScore(
                    top1=sum(1 for r in ranks if r == 1) / n if n else 0.0,
                    top3=sum(1 for r in ranks if r and r <= 3) / n if n else 0.0,
                    mrr=sum(1 / r for r in ranks if r) / n if n else 0.0, n=n)
        return MethodScores(**out)


def _heuristic(text: str, cause_prior: dict[str, float], symptom_prior: dict[str, float]) -> tuple[dict, dict]:
    """The study's rule of thumb: symptom from the symptom rules alone, cause from the symptom's category."""
    tax = load_taxonomy()
    hits = rule_hits(text)
    symptom = max(hits, key=hits.get) if hits else max(symptom_prior, key=symptom_prior.get)
    category = tax.label_at("symptom", symptom, Level.category)
    cause = study_heuristics().get(category) or max(cause_prior, key=cause_prior.get)
    sym_dist = {s: (1.0 if s == symptom else 0.0) + 1e-6 * p for s, p in symptom_prior.items()}
    cause_dist = {c: (1.0 if c == cause else 0.0) + 1e-6 * p for c, p in cause_prior.items()}
    return sym_dist, cause_dist


def label_agreement(vectors, items: list[LabeledReport], threshold: float = NEAR_DUPLICATE) -> LabelAgreement:
    """Over all pairs of items whose report vectors are at least ``threshold`` alike: the share labeled alike at each
    root-cause level."""
    import numpy as np

    tax = load_taxonomy()
    v = np.asarray(vectors, dtype=np.float32).reshape(len(items), -1) if items else np.zeros((0, 1), np.float32)
    pairs = []  # in row blocks: an n × n similarity matrix of a large file would not fit in memory
    for start in range(0, len(v), AGREEMENT_BLOCK):
        rows, cols = np.nonzero(v[start:start + AGREEMENT_BLOCK] @ v.T >= threshold)
        rows += start
        pairs.append((rows[cols > rows], cols[cols > rows]))
    first = np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0, int)
    second = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, int)
    same = {}
    for level in LEVELS["root_cause"]:
        labels = [tax.label_at("root_cause", it.root_cause, level) for it in items]
        alike = sum(1 for i, j in zip(first, second, strict=True) if labels[i] is not None and labels[i] == labels[j])
        same[level.value] = alike / len(first) if len(first) else 0.0
    return LabelAgreement(threshold=threshold, pairs=len(first), same=same)


def calibration(scores: list[float], correct: list[bool], bins: int = 5) -> Calibration:
    """Reliability of a score over equal-count bins (fewer when there are fewer items than bins)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    n = len(order)
    out = []
    for b in range(min(bins, n)):
        part = order[b * n // min(bins, n):(b + 1) * n // min(bins, n)]
        out.append(ReliabilityBin(mean_score=sum(scores[i] for i in part) / len(part),
                                  accuracy=sum(correct[i] for i in part) / len(part), n=len(part)))
    return Calibration(mean_score=sum(scores) / n if n else 0.0, accuracy=sum(correct) / n if n else 0.0,
                       ece=sum(abs(b.mean_score - b.accuracy) * b.n for b in out) / n if n else 0.0, bins=out)


FIX_METHODS = ["failgraph", "dense_only", "bm25_only"]
#: First-cause scores at which :class:`AboveThreshold` figures are reported.
THRESHOLDS = (0.3, 0.5, COMMENT_THRESHOLD, 0.7)


def neighbour_fix_keys(neighbours, k: int = 3) -> list[tuple[str, str]]:
    """The first ``k`` distinct remedies among the neighbours' structured fixes, nearest first (the baselines)."""
    keys: list[tuple[str, str]] = []
    for n in neighbours:
        spec = n.failure.fix_spec
        if spec is not None and not spec.generic and spec.key not in keys:
            keys.append(spec.key)
    return keys[:k]


class _FixTally:
    def __init__(self):
        self.rows: dict[str, list[tuple[int | None, bool, bool, bool]]] = {m: [] for m in FIX_METHODS}

    def add(self, method: str, keys: list[tuple[str, str]], gold: FixSpec, confirmed: bool,
            first_generic: bool = False) -> None:
        rank = keys.index(gold.key) + 1 if gold.key in keys else None
        self.rows[method].append((rank, confirmed, first_generic, bool(keys) and keys[0][0] == gold.action))

    def scores(self) -> dict[str, FixScores]:
        out = {}
        for m, rows in self.rows.items():
            n = len(rows)
            conf = [r for r in rows if r[1]]
            out[m] = FixScores(fix_at_1=sum(r[0] == 1 for r in rows) / n if n else 0.0,
                               fix_at_3=sum(1 for r in rows if r[0] and r[0] <= 3) / n if n else 0.0,
                               action_at_1=sum(r[3] for r in rows) / n if n else 0.0,
                               first_generic=sum(r[2] for r in rows) / n if n else 0.0, n=n,
                               confirmed_fix_at_1=sum(r[0] == 1 for r in conf) / len(conf) if conf else 0.0,
                               confirmed_n=len(conf))
        return out


def evaluate(kb: KnowledgeBase, items: list[LabeledReport],
             progress: Callable[[int], None] | None = None,
             weights: DiagnosisWeights | None = None, also_exclude: list[str] | None = None) -> EvaluationResult:
    """Leave-one-out: each item is diagnosed with its own issue excluded, by failgraph (with ``weights``) and by the
    baselines, side by side. ``also_exclude``: issues left out of every diagnosis besides each item's own, and the
    compatibility rules and error entries that cite them (a time split: see :func:`time_split`)."""
    w = weights or DiagnosisWeights()
    tax = load_taxonomy()
    tally = _Tally()
    cats_rc = [c.label for c in tax.concepts("root_cause", Level.category)]
    cats_s = [c.label for c in tax.concepts("symptom", Level.category)]
    confusion = {g: {p: 0 for p in cats_rc} for g in cats_rc}
    confusion_s = {g: {p: 0 for p in cats_s} for g in cats_s}
    vectors = []
    first: dict[str, tuple[list[float], list[bool]]] = {"leaf": ([], []), "category": ([], [])}
    answered: list[LabeledReport] = []
    unanswered: list[Unanswered] = []
    fix_tally = _FixTally()
    sure: list[tuple[float, bool, bool, bool | None]] = []  # first-cause score, category right, leaf right, fix@1
    for item in items:
        own = [item.source_url] if item.source_url else []
        req = ReportRequest(text=item.text, exclude_urls=[*own, *(also_exclude or [])])
        strict = bool(also_exclude)
        try:
            a = analyse(kb, req, weights=w, strict_rules=strict)
        except ReportError as e:
            unanswered.append(Unanswered(source_url=item.source_url, reason=str(e)))
            if progress:
                progress(1)
            continue
        answered.append(item)
        qv = a.query_vector  # the other methods match the same vector
        vectors.append(qv)
        tally.add("failgraph", "root_cause", a.cause_dist, item.root_cause)
        tally.add("failgraph", "symptom", a.symptom_dist, item.symptom)
        gold_c = tax.label_at("root_cause", item.root_cause, Level.category)
        cats = roll_up(a.cause_dist, "root_cause", Level.category)
        pred_c = max(cats.items(), key=lambda kv: kv[1])[0]
        confusion[gold_c][pred_c] += 1
        top_leaf, top_p = ranked_leaves(a.cause_dist, "root_cause")[0]
        for level, score, right in (("leaf", top_p, top_leaf == item.root_cause),
                                    ("category", cats[pred_c], pred_c == gold_c)):
            first[level][0].append(score)
            first[level][1].append(right)
        fix_right = None
        if item.fix_spec is not None and not item.fix_spec.generic:
            ranked = fixes_for(kb, a, w)
            keys = [(f.action, f.target or "") for f in ranked]
            fix_tally.add("failgraph", keys[:3], item.fix_spec, item.fix_confirmed,
                          first_generic=bool(ranked) and ranked[0].generic)
            fix_right = bool(keys) and keys[0] == item.fix_spec.key
        sure.append((top_p, pred_c == gold_c, top_leaf == item.root_cause, fix_right))
        gold_s = tax.label_at("symptom", item.symptom, Level.category)
        pred_s = max(roll_up(a.symptom_dist, "symptom", Level.category).items(), key=lambda kv: kv[1])[0]
        confusion_s[gold_s][pred_s] += 1

        exclude = a.exclude
        cprior, sprior = kb.stats.cause_prior(exclude), kb.stats.symptom_prior(exclude)
        tally.add("majority", "root_cause", cprior, item.root_cause)
        tally.add("majority", "symptom", sprior, item.symptom)
        hs, hc = _heuristic(a.text, cprior, sprior)
        tally.add("study_heuristic", "root_cause", hc, item.root_cause)
        tally.add("study_heuristic", "symptom", hs, item.symptom)
        for method, mode in (("bm25_only", "keyword"), ("dense_only", "dense")):
            b = analyse(kb, req, mode=mode, query_vector=qv, weights=w, strict_rules=strict)
            if item.fix_spec is not None and not item.fix_spec.generic:
                fix_tally.add(method, neighbour_fix_keys(b.neighbours), item.fix_spec, item.fix_confirmed)
            cv = neighbour_votes(b.neighbours, "root_causes", w.vote_power)
            sv = neighbour_votes(b.neighbours, "symptoms", w.vote_power)
            # ties and unseen labels fall back to the prior, scaled far below any vote
            tally.add(method, "root_cause", normalise({c: cv.get(c, 0.0) + 1e-6 * p for c, p in cprior.items()}),
                      item.root_cause)
            tally.add(method, "symptom", normalise({s: sv.get(s, 0.0) + 1e-6 * p for s, p in sprior.items()}),
                      item.symptom)
        if progress:
            progress(1)
    return EvaluationResult(items=len(answered), unanswered=unanswered, methods={m: tally.scores(m) for m in METHODS},
                            agreement=label_agreement(vectors, answered),
                            calibration={level: calibration(*pair) for level, pair in first.items()},
                            confusion=confusion,
                            confusion_symptom=confusion_s, fixes=fix_tally.scores(),
                            above_threshold=[above_threshold(sure, t) for t in THRESHOLDS])


def above_threshold(sure: list[tuple[float, bool, bool, bool | None]], threshold: float) -> AboveThreshold:
    kept = [s for s in sure if s[0] >= threshold]
    fixes = [s[3] for s in kept if s[3] is not None]
    n = len(kept)
    return AboveThreshold(threshold=threshold, share=n / len(sure) if sure else 0.0,
                          category_top1=sum(s[1] for s in kept) / n if n else 0.0,
                          leaf_top1=sum(s[2] for s in kept) / n if n else 0.0,
                          fix_at_1=sum(fixes) / len(fixes) if fixes else 0.0, fix_n=len(fixes))


def time_split(items: list[LabeledReport], before: datetime.date) -> tuple[list[LabeledReport], list[str]]:
    """The items opened on or after ``before`` (to diagnose), and the URLs of every such item (to leave out of the
    knowledge each one is diagnosed with): what a bot would have known on that day. Undated items count as earlier."""
    after = [i for i in items if i.date is not None and i.date >= before]
    return after, [i.source_url for i in after if i.source_url]


class DiagnosisEvaluator(Evaluator[EvaluationResult]):
    """Leave-one-out accuracy of the diagnosis at every taxonomy level, against the baselines, in one run."""

    name = "diagnosis"

    def __init__(self, kb: KnowledgeBase, items: list[LabeledReport], weights: DiagnosisWeights | None = None,
                 also_exclude: list[str] | None = None):
        self.kb = kb
        self.items = items
        self.weights = weights
        self.also_exclude = also_exclude

    def run(self, progress: Progress | None = None) -> EvaluationResult:
        return evaluate(self.kb, self.items, progress, self.weights, self.also_exclude)

    def render(self, result: EvaluationResult) -> str:
        lines = [f"leave-one-out over {result.items} reports ({len(result.unanswered)} could not be diagnosed); "
                 "top-1 / top-3 / MRR"]
        for scheme in ("root_cause", "symptom"):
            levels = list(getattr(result.methods["failgraph"], scheme))
            lines.append(f"{scheme:<16} " + "  ".join(f"{lv:>20}" for lv in levels))
            for method, scores in result.methods.items():
                cells = [f"{s.top1:.3f}/{s.top3:.3f}/{s.mrr:.3f}" for s in getattr(scores, scheme).values()]
                lines.append(f"  {method:<14} " + "  ".join(f"{c:>20}" for c in cells))
        for level, cal in result.calibration.items():
            lines.append(f"first {level} answer: mean score {cal.mean_score:.3f}, right {cal.accuracy:.3f}, "
                         f"ECE {cal.ece:.3f}")
        for method, f in result.fixes.items():
            lines.append(f"fixes {method:<10} fix@1 {f.fix_at_1:.3f}  fix@3 {f.fix_at_3:.3f}  first generic "
                         f"{f.first_generic:.3f}  (n={f.n}; confirmed fixes: fix@1 {f.confirmed_fix_at_1:.3f}, "
                         f"n={f.confirmed_n})")
        return "\n".join(lines)


def plot_evaluation(result: EvaluationResult, path: Path) -> None:
    """Both category-level confusion matrices and the reliability of the first answer's score, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(21, 6.5), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    matrices = [("Root-cause category", result.confusion), ("Symptom category", result.confusion_symptom)]
    for ax, (title, conf) in zip(axes[:2], matrices, strict=True):  # the third axis: the reliability plot
        labels = list(conf)
        m = np.array([[conf[g][p] for p in labels] for g in labels])
        ax.imshow(m, cmap="Blues")
        short = [lab.replace(" and ", " & ").replace("Configuration", "Config.") for lab in labels]
        ax.set_xticks(range(len(labels)), short, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), short, fontsize=8)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, str(m[i, j]), ha="center", va="center",
                        color="white" if m[i, j] > m.max() / 2 else "black")
        acc = np.trace(m) / max(m.sum(), 1)
        ax.set_title(f"{title}: top-1 {acc:.3f} (n={m.sum()})")
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
    ax = axes[2]
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for level, cal in result.calibration.items():
        ax.plot([b.mean_score for b in cal.bins], [b.accuracy for b in cal.bins], marker="o",
                label=f"first {level} answer (ECE {cal.ece:.3f})")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_xlabel("score of the first answer (mean per equal-count bin)")
    ax.set_ylabel("share of those answers that were right")
    ax.set_title("Reliability of the root-cause score")
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("failgraph leave-one-out evaluation")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = [
    "FIX_METHODS",
    "METHODS",
    "NEAR_DUPLICATE",
    "THRESHOLDS",
    "AboveThreshold",
    "Calibration",
    "DiagnosisEvaluator",
    "EvaluationResult",
    "FixScores",
    "LabelAgreement",
    "LabeledReport",
    "LevelScore",
    "MethodScores",
    "ReliabilityBin",
    "Unanswered",
    "above_threshold",
    "calibration",
    "evaluate",
    "label_agreement",
    "load_labeled",
    "neighbour_fix_keys",
    "plot_evaluation",
    "time_split",
]
