import math

from failgraph.assistant.statistics import LabelStatistics
from failgraph.kg.corpus import LabeledRecord
from failgraph.ontology import load_taxonomy

OOM = "Crash - CUDA Error - Out of Memory"
GPU = "Hardware and Resource Limitations - GPU Memory Insufficiency"
DEP = "Environment Compatibility Issues - Dependency Library Compatibility"


def test_leave_out_and_backoff():
    recs = [LabeledRecord(key=f"a/b#{i}", symptom=OOM, root_cause=GPU) for i in range(4)]
    recs.append(LabeledRecord(key="a/b#99", symptom=OOM, root_cause=DEP))
    st = LabelStatistics.from_records(recs)
    p = st.cause_given_symptom(OOM)
    assert math.isclose(sum(p.values()), 1.0)
    assert p[GPU] > p[DEP] > p["Model Corruption Issues - Checkpoint Corruption"]
    # leaving out the only DEP issue lowers DEP
    assert st.cause_given_symptom(OOM, frozenset({"a/b#99"}))[DEP] < p[DEP]
    assert st.count(OOM, DEP, frozenset({"a/b#99"})) == 0
    # an unseen symptom leaf backs off to its parents: a sibling CUDA error still favours GPU memory
    sibling = st.cause_given_symptom("Crash - CUDA Error - Kernel Error")
    assert max(sibling, key=sibling.get) == GPU
    assert set(p) == {c.label for c in load_taxonomy().leaves("root_cause")}
