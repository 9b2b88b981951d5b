import json
import re

import pytest

from failgraph.ontology import Level, UnknownLabel, load_taxonomy

PAPER_SYMPTOM = {"Crash": "Runtime Crash", "Loading Failure": "Runtime Crash", "Hang": "Process Hang",
                 "Incorrect Functionality": "Incorrect Functionality", "Poor Performance": "Poor Performance"}
PAPER_CAUSE = {
    "Environment Compatibility Issues": ("Dependency and Incompatibility Issue", "Environment and Infrastructure Fault"),
    "Hardware and Resource Limitations": ("Insufficient Hardware Resource", "Environment and Infrastructure Fault"),
    "Distributed and Parallel Computing Issues": ("Distributed Computing Issue", "Environment and Infrastructure Fault"),
    "Configuration and Parameter Setting Errors": ("Incorrect Configuration Setting", "User Configuration and Usage Fault"),
    "API Usage and Interface Issues": ("Improper API Usage", "User Configuration and Usage Fault"),
    "Model Corruption Issues": ("Corrupted Asset File", "Data and Input Fault"),
    "Data and Computation Issues": ("Quantization and Numerical Computation Issue", "Data and Input Fault"),
    "Algorithm Implementation Defects": ("Core Algorithm Defect", "Software Implementation Defect"),
    "Tokenizer and Text Processing Issues": ("Tokenizer and Text Processing Defect", "Software Implementation Defect"),
}


def released_labels(dataset_dir):
    sym, rc = set(), set()
    for f in dataset_dir.rglob("*.json"):
        for r in json.loads(f.read_text()):
            sym.add(r["SYMPTOM"])
            rc.add(r["ROOT CAUSE"])
    return sym, rc


def test_every_released_label_reaches_exactly_one_paper_category(dataset_dir):
    tax = load_taxonomy()
    sym, rc = released_labels(dataset_dir)
    for raw in sym:
        leaf = tax.leaf("symptom", raw)
        cats = [c for c in tax.ancestors(leaf) if Level.category in c.levels]
        assert len(cats) == 1
        assert cats[0].label == PAPER_SYMPTOM[raw.split(" - ")[0].strip()]
    for raw in rc:
        leaf = tax.leaf("root_cause", raw)
        chain = tax.ancestors(leaf)
        cats = [c for c in chain if Level.category in c.levels]
        assert len(cats) == 1
        sub, cat = PAPER_CAUSE[raw.split(" - ")[0].strip()]
        assert cats[0].label == cat
        assert tax.at_level(leaf, Level.subcategory).label == sub
        assert tax.at_level(leaf, Level.group).label == raw.split(" - ")[0].strip()


def test_leaves_are_exactly_the_released_labels(dataset_dir):
    tax = load_taxonomy()
    sym, rc = released_labels(dataset_dir)
    def norm(s):
        return re.sub(r"\s+", " ", s).strip()
    assert {c.label for c in tax.leaves("symptom")} == {norm(s) for s in sym}
    assert {c.label for c in tax.leaves("root_cause")} == {norm(s) for s in rc}


def test_whitespace_variants_and_unknown_labels():
    tax = load_taxonomy()
    a = tax.leaf("root_cause", "Environment Compatibility Issues -  Architecture Compatibility")
    assert a.label == "Environment Compatibility Issues - Architecture Compatibility"
    with pytest.raises(UnknownLabel):
        tax.leaf("symptom", "Crash - Something Nobody Saw")
    with pytest.raises(UnknownLabel):  # a category is not a leaf
        tax.leaf("symptom", "Runtime Crash")


def test_middle_levels_are_concepts_and_every_concept_is_defined():
    tax = load_taxonomy()
    middles = {c.label for c in tax.concepts("symptom", Level.middle)}
    assert {"Crash - CUDA Error", "Crash - Value-related Error",
            "Incorrect Functionality - Generation Quality Anomaly"} <= middles
    for scheme in ("symptom", "root_cause"):
        assert len(tax.concepts(scheme, Level.category)) == 4
        for c in tax.concepts(scheme):
            assert len(c.definition) > 20, c.label
    assert len(tax.concepts("root_cause", Level.subcategory)) == 9

