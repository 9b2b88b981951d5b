"""How learned failures combine with the corpus a build read from its inputs — one function, used both when the
graph is read back (a full build) and when a published snapshot's delta is applied (learning without a rebuild), so
the two give the same corpus by construction.

Per issue (the last learned failure of an issue wins):

- the build's text, title, URL and model stay; the learned thread is the text only of an issue the build gave none;
- the learned root cause and symptom join the issue's labels (after the build's own, each once), and a learned
  (symptom, root cause) pair is one more labeled record; records are the build's, then the learned ones by key;
- a learned fix replaces the build's fix (the maintainer's word is the newer one);
- a failure whose text is learned is marked ``text_learned``, one whose labels are all learned ``labels_learned``:
  such failures are counted by every model and index but fit none of their vocabularies, IDF weights or IVF lists
  (see :attr:`failgraph.kg.corpus.PastFailure.fits`), so learning never changes what a build fitted.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..ingest.learned import LearnedFailure
from .corpus import Corpus, LabeledRecord, PastFailure


def _labels_of(records: Iterable[LabeledRecord]) -> dict[str, tuple[list[str], list[str]]]:
    out: dict[str, tuple[list[str], list[str]]] = {}
    for r in records:
        s, c = out.setdefault(r.key, ([], []))
        if r.symptom not in s:
            s.append(r.symptom)
        if r.root_cause not in c:
            c.append(r.root_cause)
    return out


def _with(labels: list[str], label: str | None) -> list[str]:
    return [*labels, label] if label and label not in labels else list(labels)


def merged_failure(base: PastFailure | None, item: LearnedFailure,
                   record_labels: tuple[list[str], list[str]] | None) -> PastFailure:
    """The past failure an issue becomes with ``item`` learned (``base``: the build's, if it had text;
    ``record_labels``: the build's labels of the issue when it had none)."""
    if base is not None:
        had_labels = bool(base.symptoms or base.root_causes)
        update = {"symptoms": _with(base.symptoms, item.symptom), "root_causes": _with(base.root_causes,
                                                                                     item.root_cause),
                  "labels_learned": base.labels_learned or not had_labels}
        if item.fix:
            update |= {"fix": item.fix, "fix_confirmed": True, "fix_spec": None}
        return base.model_copy(update=update)
    symptoms, causes = record_labels or ([], [])
    return PastFailure(key=item.key, url=item.url, title=item.title, text=item.text,
                       fix=item.fix, fix_confirmed=bool(item.fix), symptoms=_with(symptoms, item.symptom),
                       root_causes=_with(causes, item.root_cause), text_learned=True,
                       labels_learned=not (symptoms or causes))


def learned_records(items: Iterable[LearnedFailure]) -> list[LabeledRecord]:
    """The labeled records the learned failures add, by issue key."""
    return [LabeledRecord(key=it.key, symptom=it.symptom, root_cause=it.root_cause)
            for it in sorted(items, key=lambda it: it.key) if it.symptom and it.root_cause]


def merge_learned(base: Corpus, items: Iterable[LearnedFailure]) -> Corpus:
    """The corpus with the learned failures (one per issue: the last one wins) added to ``base``, the build's."""
    latest: dict[str, LearnedFailure] = {}
    for it in items:
        latest[it.key] = it
    if not latest:
        return base
    failures = base.by_key()
    by_record: dict[str, tuple[list[str], list[str]]] | None = None
    for key, it in latest.items():
        prev = failures.get(key)
        if prev is None and by_record is None:
            by_record = _labels_of(base.records)
        failures[key] = merged_failure(prev, it, None if prev is not None else by_record.get(key))
    return Corpus(failures=sorted(failures.values(), key=lambda f: f.key),
                  records=[*base.records, *learned_records(latest.values())])


__all__ = ["learned_records", "merge_learned", "merged_failure"]
