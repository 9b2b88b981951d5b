"""Learning without a rebuild: answers after incremental updates equal those after a full build over the same data."""


import numpy as np
import pytest
from stand_in_embedders import BowEmbedder

from failgraph.assistant.diagnose import diagnose
from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.assistant.models import ReportRequest
from failgraph.ingest.cases import load_cases
from failgraph.ingest.dataset import load_dataset
from failgraph.ingest.learned import LearnedFailure, load_learned
from failgraph.ingest.records import IssueDocument, IssueRef, Provenance
from failgraph.kg.build import GraphInputs, build_graph, open_store
from failgraph.kg.delta import read_delta
from failgraph.kg.home import GraphHome
from failgraph.kg.learn import learn
from failgraph.ontology import load_taxonomy

CASES = load_cases().cases
BASE_CASES = CASES[:120:2]
QUERIES = [c for c in CASES[1:200:9]]


def _doc(url: str, title: str, body: str) -> IssueDocument:
    return IssueDocument(issue=IssueRef.from_url(url), title=title, body=body,
                         provenance=Provenance(source="jsonl/threads", kind="jsonl"))


def _leaves(scheme):
    return [c.label for c in load_taxonomy().leaves(scheme)]


@pytest.fixture(scope="module")
def data(dataset_dir):
    records = load_dataset(dataset_dir).records[:900]
    other = [c for c in CASES[300:] if c.key not in {r.issue.key for r in records}]
    docs = [_doc(c.source_url, c.title, c.report) for c in other[:15]]  # unlabeled threads in the base
    causes, symptoms = _leaves("root_cause"), _leaves("symptom")
    fresh = [c for c in other[15:40]]
    labeled_case = BASE_CASES[3]
    record_only = next(r for r in records if r.issue.key not in {c.key for c in CASES})
    rounds = [
        [  # new issues, labeled by a maintainer, one with a fix and no symptom
            LearnedFailure(url=fresh[0].source_url, title=fresh[0].title, text=fresh[0].report,
                           root_cause=fresh[0].root_cause, symptom=fresh[0].symptom, fix=fresh[0].fix,
                           source="github/" + fresh[0].repository, labeler="maint"),
            LearnedFailure(url=fresh[1].source_url, title=fresh[1].title, text=fresh[1].report,
                           root_cause=fresh[1].root_cause, source="github/" + fresh[1].repository, labeler="maint"),
        ],
        [  # an unlabeled thread of the base gets a cause; a curated case a second one and a fix; a record-only issue
            # gets its thread; an unlabeled new thread
            LearnedFailure(url=docs[0].issue.url, title=docs[0].title, text=docs[0].body,
                           root_cause=causes[5], symptom=symptoms[7], source="github/x/y", labeler="maint"),
            LearnedFailure(url=labeled_case.source_url, title="closed", text="a shorter thread",
                           root_cause=causes[11] if causes[11] != labeled_case.root_cause else causes[12],
                           fix="pin transformers to 4.44", source="github/x/y", labeler="owner"),
            LearnedFailure(url=record_only.issue.url, title="the thread", text=fresh[2].report,
                           root_cause=record_only.root_cause, symptom=record_only.symptom, source="jsonl/export"),
            LearnedFailure(url=fresh[3].source_url, title=fresh[3].title, text=fresh[3].report, source="jsonl/export"),
        ],
        [  # learned again: a new thread and another cause for the first new issue
            LearnedFailure(url=fresh[0].source_url, title=fresh[0].title + " (edited)",
                           text=fresh[0].report + "\n\nUpdate: it also happens with " + fresh[4].report,
                           root_cause=fresh[4].root_cause, symptom=fresh[4].symptom, source="github/a/b",
                           labeler="maint"),
            *[LearnedFailure(url=c.source_url, title=c.title, text=c.report, root_cause=c.root_cause,
                             symptom=c.symptom, fix=c.fix, source="github/" + c.repository, labeler="maint")
              for c in fresh[5:12]],
        ],
    ]
    return GraphInputs(records=records, cases=BASE_CASES, documents=docs), rounds


def _answers(kb: KnowledgeBase):
    out = []
    for c in QUERIES:
        d = diagnose(kb, ReportRequest(text=c.report, title=c.title, top_k=5))
        out.append(([(x.label, x.score) for x in d.root_causes], [(x.label, x.score) for x in d.symptoms],
                    [(f.text, f.score) for f in d.fixes], [(s.url, s.score) for s in d.similar]))
    return out


def _same(a, b):
    for (ca, sa, fa, ka), (cb, sb, fb, kb) in zip(a, b, strict=True):
        for xs, ys in ((ca, cb), (sa, sb), (fa, fb), (ka, kb)):
            assert [x for x, _ in xs] == [y for y, _ in ys]
            assert np.allclose([s for _, s in xs], [s for _, s in ys], rtol=0, atol=1e-9)


def test_incremental_learning_equals_a_rebuild(tmp_path, data):
    inputs, rounds = data
    emb = BowEmbedder()
    inc = GraphHome(tmp_path / "incremental")
    build_graph(inc, inputs, embedder=emb, validate=False)
    base = KnowledgeBase.from_home(inc, emb)  # persists the corpus and the trained models, as `failgraph build` does
    assert base.learned == 0
    before = _answers(base)
    for items in rounds:
        report = learn(inc, items, embedder=emb)
        assert report.applied == len(items)
    assert len(read_delta(inc.current())) == sum(map(len, rounds))
    kb_inc = KnowledgeBase.from_home(inc, emb)
    assert kb_inc.learned == sum(map(len, rounds))
    assert not kb_inc.models_trained  # the persisted models were updated, not trained again

    full = GraphHome(tmp_path / "rebuilt")
    latest = {it.key: it for items in rounds for it in items}
    build_graph(full, inputs.model_copy(update={"learned": list(latest.values())}), embedder=emb, validate=False)
    kb_full = KnowledgeBase.from_home(full, emb)

    assert [f.model_dump() for f in kb_inc.corpus.failures] == [f.model_dump() for f in kb_full.corpus.failures]
    assert sorted(r.model_dump_json() for r in kb_inc.corpus.records) == \
        sorted(r.model_dump_json() for r in kb_full.corpus.records)
    after = _answers(kb_inc)
    _same(after, _answers(kb_full))
    assert after != before  # learning changed what the knowledge base answers
    # a learned issue is found as a similar past failure of its own text
    first = rounds[2][0]
    d = diagnose(kb_inc, ReportRequest(text=first.text, title=first.title))
    assert first.url in [s.url for s in d.similar]


def test_learned_failures_reach_the_graph_and_survive_a_rebuild(tmp_path, data):
    inputs, rounds = data
    emb = BowEmbedder()
    home = GraphHome(tmp_path / "h")
    build_graph(home, inputs, embedder=emb, validate=False)
    learn(home, rounds[0], embedder=emb)
    q = ("PREFIX fg: <https://w3id.org/failgraph/ontology#> SELECT ?u ?by WHERE { ?n a fg:LearnedFailure ; "
         "fg:learnedUrl ?u ; fg:learnedBy ?by }")
    with open_store(home) as store:
        rows = {(r["u"], r["by"]) for r in store.select_rows(q)}
    assert rows == {(it.url, "maint") for it in rounds[0]}
    assert [it.key for it in load_learned(home.root)] == [it.key for it in rounds[0]]
    build_graph(home, inputs, embedder=emb, validate=False)  # a full build keeps what was learned (from the log)
    assert not read_delta(home.current())
    kb = KnowledgeBase.from_home(home, emb)
    assert {it.key for it in rounds[0]} <= set(kb.failures)
    assert kb.failures[rounds[0][0].key].root_causes == [rounds[0][0].root_cause]
