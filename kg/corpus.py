"""Read-side views of the graph that the assistant needs: past failures with text, and labeled records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from ..ingest.extract.narrative import matching_text, with_title
from ..ingest.files import write_atomic
from ..ingest.learned import LearnedFailure
from ..ingest.records import issue_key
from ..ontology import FG, load_taxonomy, load_vocabulary
from ..ontology.fixes import Applicability, FixSpec, fix_actions
from .snapshot_files import Header, key_of, load_or_build, source_digest, split_header, with_header

if TYPE_CHECKING:
    from .store import GraphStore


class LabeledRecord(BaseModel):
    key: str
    symptom: str
    root_cause: str


class PastFailure(BaseModel):
    """An issue with text, and the labels its records carry."""

    key: str
    url: str
    title: str = ""
    text: str
    model: str | None = None
    fix: str | None = None
    fix_confirmed: bool = False
    fix_spec: FixSpec | None = None
    symptoms: list[str] = []
    root_causes: list[str] = []
    text_learned: bool = False  # the text is a learned thread (the build gave the issue none)
    labels_learned: bool = False  # every label was learned (the build's inputs labeled it not)

    @property
    def fits(self) -> bool:
        """Whether the models fit their vocabularies and weights on this failure: labeled by the build's inputs, with
        the build's text. Learned failures are counted with what the build fitted, so that adding one changes no
        fitted parameter and an incremental update equals a rebuild (:mod:`failgraph.kg.learned_merge`)."""
        return bool(self.root_causes) and not self.text_learned and not self.labels_learned

    @cached_property
    def index_text(self) -> str:
        """Title and text without issue-template text, environment listings, outer traceback frames and log lines: what
        retrieval and the text models match (see :mod:`failgraph.ingest.extract.narrative`; a report is matched the
        same way)."""
        return with_title(self.title, matching_text(self.text).text)

    @property
    def full_text(self) -> str:
        """Title and the whole text, whatever matching sets aside included: what the extractors read."""
        return with_title(self.title, self.text)

    @property
    def labels(self) -> list[str]:
        return [*self.symptoms, *self.root_causes]


class Corpus(BaseModel):
    failures: list[PastFailure]
    records: list[LabeledRecord]

    def by_key(self) -> dict[str, PastFailure]:
        return {f.key: f for f in self.failures}


class RemedyExamples(BaseModel):
    """Remedy (fix action, target) → the past failures whose fix is that remedy, confirmed fixes first: the words for
    a remedy that the graph's statistics propose."""

    by_remedy: dict[tuple[str, str], list[PastFailure]]

    @classmethod
    def of(cls, corpus: Corpus) -> RemedyExamples:
        out: dict[tuple[str, str], list[PastFailure]] = {}
        for f in corpus.failures:
            if f.fix and f.fix_spec is not None and not f.fix_spec.generic:
                out.setdefault(f.fix_spec.key, []).append(f)
        for fs in out.values():
            fs.sort(key=lambda f: (not f.fix_confirmed, f.key))
        return cls(by_remedy=out)

    def example(self, key: tuple[str, str], exclude: frozenset[str] = frozenset()) -> PastFailure | None:
        """The first past failure with this remedy that is not excluded."""
        return next((f for f in self.by_remedy.get(key, ()) if f.key not in exclude), None)


_FG = str(FG)
_RDF_TYPE = str(RDF.type)
_PREF_LABEL = str(SKOS.prefLabel)
_TITLE = str(DCTERMS.title)
_COMMENT = str(RDFS.comment)


def _values(store: GraphStore, predicate: str) -> dict[str, list]:
    """Subject → its distinct objects of ``predicate``, in store order (one index scan)."""
    out: dict[str, list] = {}
    for s, o in store.subject_objects(predicate):
        vs = out.get(s)
        if vs is None:
            out[s] = [o]
        elif o not in vs:
            vs.append(o)
    return out


def _subjects(store: GraphStore, predicate: str, obj: str) -> dict[str, None]:
    return dict.fromkeys(s for s, _ in store.subject_objects(predicate, obj))


class _FixSpecs:
    """The structured fix of a ``fg:Fix`` node, read back from its ``fg:fixAction``, ``fg:fixTarget``… statements (each
    property in one index scan)."""

    def __init__(self, store: GraphStore):
        self.actions = {a.iri: a.name for a in fix_actions().values()}
        vocab = load_vocabulary()
        self.series = {t.iri: t.label for t in vocab.series_by_owner.values()}
        self.stages = {t.iri: t.label for t in vocab.stages}
        self.values = {p: _values(store, _FG + p) for p in (
            "fixAction", "fixTarget", "fixTargetKind", "fixValue", "genericStep", "appliesToSeries",
            "appliesToFramework", "appliesToStage", "appliesToHardware")}

    def _one(self, prop: str, f: str):
        vs = self.values[prop].get(f)
        return vs[0] if vs else None

    def __call__(self, f: str) -> FixSpec | None:
        action = self.actions.get(self._one("fixAction", f))
        if action is None:
            return None
        stage = self._one("appliesToStage", f)
        return FixSpec(action=action, target=self._one("fixTarget", f) or "",
                       target_kind=self._one("fixTargetKind", f) or "none", value=self._one("fixValue", f),
                       generic=bool(self._one("genericStep", f)),
                       applies_to=Applicability(
                           model_families=[self.series[s] for s in self.values["appliesToSeries"].get(f, ())
                                           if s in self.series],
                           frameworks=list(self.values["appliesToFramework"].get(f, ())),
                           stage=self.stages.get(stage) if stage else None,
                           hardware=self._one("appliesToHardware", f)))


def load_corpus(store: GraphStore) -> Corpus:
    """The corpus of the graph: the build's (:func:`load_base_corpus`) with its learned failures merged in
    (:func:`failgraph.kg.learned_merge.merge_learned`)."""
    from .learned_merge import merge_learned

    return merge_learned(load_base_corpus(store), read_learned(store))


def read_learned(store: GraphStore) -> list[LearnedFailure]:
    """The graph's learned failures (``fg:LearnedFailure`` nodes), by issue key."""
    tax = load_taxonomy()
    values = {p: _values(store, _FG + p) for p in (
        "learnedUrl", "learnedText", "learnedTitle", "learnedRootCause", "learnedSymptom", "learnedFix", "learnedBy",
        "learnedSource")}

    def one(prop: str, node: str):
        vs = values[prop].get(node)
        return vs[0] if vs else None

    out = []
    for node in _subjects(store, _RDF_TYPE, _FG + "LearnedFailure"):
        cause, symptom = one("learnedRootCause", node), one("learnedSymptom", node)
        out.append(LearnedFailure(url=one("learnedUrl", node), title=one("learnedTitle", node) or "",
                                  text=one("learnedText", node) or "",
                                  root_cause=tax.concept(cause).label if cause else None,
                                  symptom=tax.concept(symptom).label if symptom else None,
                                  fix=one("learnedFix", node), labeler=one("learnedBy", node),
                                  source=one("learnedSource", node) or "learned"))
    return sorted(out, key=lambda it: it.key)


def load_base_corpus(store: GraphStore) -> Corpus:
    """Past failures that have text (curated cases, ingested threads) and every labeled record, from the graph.

    Records: every ``fg:FailureRecord`` with the URL of its ``fg:aboutIssue`` and the ``skos:prefLabel`` of its
    ``fg:hasSymptom`` / ``fg:hasRootCause``. Past failures: every ``fg:Issue`` with ``fg:url`` and ``fg:text``, its
    ``dcterms:title``, ``fg:modelName`` and the ``rdfs:comment`` (and ``fg:confirmed``) of a ``fg:resolvedBy`` fix; the
    longest text per issue key wins. Each property is read in one index scan and joined here: on a million issues
    that is minutes faster than a SPARQL join, which looks every record up one by one.
    """
    records: list[LabeledRecord] = []
    labels: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    urls = _values(store, _FG + "url")
    pref = _values(store, _PREF_LABEL)
    about, symptom, cause = (_values(store, _FG + p) for p in ("aboutIssue", "hasSymptom", "hasRootCause"))
    for rec in _subjects(store, _RDF_TYPE, _FG + "FailureRecord"):
        rows = {(url, sl, cl) for issue in about.get(rec, ()) for url in urls.get(issue, ())
                for s in symptom.get(rec, ()) for sl in pref.get(s, ()) for c in cause.get(rec, ())
                for cl in pref.get(c, ())}
        for url, sl, cl in sorted(rows):
            key = issue_key(url)
            records.append(LabeledRecord(key=key, symptom=sl, root_cause=cl))
            s, r = labels[key]
            if sl not in s:
                s.append(sl)
            if cl not in r:
                r.append(cl)
    del about, symptom, cause, pref
    texts = _values(store, _FG + "text")
    titles, models, resolved = (_values(store, p) for p in (_TITLE, _FG + "modelName", _FG + "resolvedBy"))
    comments, confirmed = _values(store, _COMMENT), _values(store, _FG + "confirmed")
    spec_of = _FixSpecs(store)
    failures: dict[str, PastFailure] = {}
    for issue in _subjects(store, _RDF_TYPE, _FG + "Issue"):
        if issue not in texts or issue not in urls:
            continue
        fix, ok, spec = None, None, None
        for f in resolved.get(issue, ()):
            if f in comments:
                fix, ok, spec = comments[f][0], (confirmed.get(f) or [None])[0], spec_of(f)
                break
        for url in urls[issue]:
            key = issue_key(url)
            for text in texts[issue]:
                prev = failures.get(key)
                if prev is not None and len(prev.text) >= len(text):
                    continue
                s, r = labels.get(key, ([], []))
                failures[key] = PastFailure(key=key, url=url, title=(titles.get(issue) or [""])[0], text=text,
                                            model=(models.get(issue) or [None])[0], fix=fix, fix_confirmed=bool(ok),
                                            fix_spec=spec,
                                            symptoms=list(s), root_causes=list(r))
    return Corpus(failures=sorted(failures.values(), key=lambda f: f.key), records=records)


#: The file in a snapshot that holds its corpus (what :func:`load_corpus` reads from the graph), and its format.
CORPUS_FILE = "corpus.json"
CORPUS_FORMAT = 2


class CorpusFile(BaseModel):
    """The body of the corpus file: the build's corpus, each of its past failures' :attr:`PastFailure.index_text`, and
    the learned failures the graph held when it was built (merged in when the file is read)."""

    corpus: Corpus
    index_texts: list[str]
    learned: list[LearnedFailure] = []


class SnapshotCorpus(BaseModel):
    """A snapshot's corpus as its parts: the build's, and the learned failures to merge into it."""

    base: Corpus
    learned: list[LearnedFailure] = []

    def merged(self) -> Corpus:
        from .learned_merge import merge_learned

        return merge_learned(self.base, self.learned)


def corpus_key(snapshot: Path) -> str:
    """The corpus file's key: the snapshot (whose graph never changes once built) and the code that reads it from the
    graph and sets a text's matching part apart."""
    import sys

    from ..ingest.extract import listings, logs, narrative, templates, tracebacks

    return key_of(str(CORPUS_FORMAT), snapshot.name,
                  source_digest(sys.modules[__name__], narrative, listings, logs, templates, tracebacks))


def read_corpus_file(path: Path, key: str) -> SnapshotCorpus | None:
    """The corpus persisted at ``path`` if its header carries ``key`` and this format; None when missing or stale.
    Raises ``ValueError`` (or ``OSError``) when the file is damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    header, body = split_header(data)
    if header.format != CORPUS_FORMAT or header.key != key:
        return None
    stored = CorpusFile.model_validate_json(body)
    if len(stored.index_texts) != len(stored.corpus.failures):
        raise ValueError("the corpus file's index texts do not match its past failures")
    for f, text in zip(stored.corpus.failures, stored.index_texts, strict=True):
        f.__dict__["index_text"] = text  # the cached property, as computed when the file was written
    return SnapshotCorpus(base=stored.corpus, learned=stored.learned)


def write_corpus_file(path: Path, key: str, corpus: SnapshotCorpus) -> None:
    body = CorpusFile(corpus=corpus.base, index_texts=[f.index_text for f in corpus.base.failures],
                      learned=corpus.learned)
    write_atomic(path, with_header(Header(format=CORPUS_FORMAT, key=key), body.model_dump_json().encode("utf-8")))


def read_snapshot_corpus(store: GraphStore) -> SnapshotCorpus:
    """The build's corpus and the learned failures of a graph, apart."""
    return SnapshotCorpus(base=load_base_corpus(store), learned=read_learned(store))


def snapshot_corpus(snapshot: Path, from_graph: Callable[[], SnapshotCorpus]) -> tuple[SnapshotCorpus, bool]:
    """The corpus of the graph in ``snapshot`` from its persisted file (``from_graph()`` reads it back from the graph,
    and it is saved, when the file is missing, stale or damaged). Returns (its parts, read from the graph)."""
    key, path = corpus_key(snapshot), snapshot / CORPUS_FILE
    return load_or_build("corpus", snapshot, lambda: read_corpus_file(path, key), from_graph,
                         lambda corpus: write_corpus_file(path, key, corpus))


__all__ = ["CORPUS_FILE", "CORPUS_FORMAT", "Corpus", "LabeledRecord", "PastFailure", "RemedyExamples",
           "SnapshotCorpus", "corpus_key", "load_base_corpus", "load_corpus", "read_corpus_file", "read_learned",
           "read_snapshot_corpus", "snapshot_corpus", "write_corpus_file"]
