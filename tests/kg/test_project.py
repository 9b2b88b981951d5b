import math
from collections import Counter

from failgraph.kg.build import open_store
from failgraph.kg.project import cause_distribution, project
from failgraph.ontology import load_taxonomy


def test_projection_weights(built_home, full_records):
    g = project(open_store(built_home))
    tax = load_taxonomy()
    oom = tax.leaf("symptom", "Crash - CUDA Error - Out of Memory")
    dist = cause_distribution(g, oom.iri)
    assert math.isclose(sum(dist.values()), 1.0)
    expected = Counter(r.root_cause for r in full_records if r.symptom == oom.label)
    top_label = tax.concept(max(dist, key=dist.get)).label
    assert top_label == expected.most_common(1)[0][0]
    assert g.edges[oom.iri, max(dist, key=dist.get)]["count"] == expected.most_common(1)[0][1]
    assert sum(1 for _, d in g.nodes(data=True) if d["kind"] == "issue") == 703
    assert g.nodes[oom.iri]["kind"] == "symptom"
