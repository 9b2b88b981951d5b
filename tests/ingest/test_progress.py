"""Hang evidence kept apart from crash evidence (ingest/extract/progress.py) and where it points the symptom."""

import pytest

from failgraph.assistant.symptoms import classify_symptoms, hang_votes
from failgraph.ingest.extract.progress import extract_progress
from failgraph.ontology.rules import hang_leaves


@pytest.mark.parametrize(("text", "kind"), [
    ("vllm serve with -tp 2 never finishes starting, no error in the log", "no error"),
    ("[rank1]:[E ProcessGroupNCCL.cpp:607] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1, "
     "OpType=ALLREDUCE) ran for 600000 milliseconds before timing out.", "watchdog or timeout"),
    ("Loading checkpoint shards stays at 0% for an hour", "stuck at a step"),
    ("with the new template the model never stops generating", "generation never ends"),
])
def test_hang_evidence_is_recognised(text, kind):
    e = extract_progress(text)
    assert kind in e.hang and e.hang_only


def test_a_timeout_exception_is_hang_evidence_not_crash_evidence():
    e = extract_progress("torch.distributed.DistBackendError: [Rank 0] Watchdog caught collective operation "
                         "timeout: WorkNCCL(SeqNum=7) ran for 1800000 milliseconds before timing out.")
    assert e.hang == ["watchdog or timeout"] and e.crash == []


@pytest.mark.parametrize("text", [
    "Traceback (most recent call last):\n  File \"x.py\", line 3\nRuntimeError: CUDA error: an illegal memory access",
    "The job was Killed while loading the 70B checkpoint",
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
])
def test_crash_evidence_wins_over_hang_words(text):
    e = extract_progress(text + "\nit seemed stuck for a while before that")
    assert e.crash and not e.hang_only
    assert hang_votes(e) == {}


def test_a_training_hang_points_to_the_fine_tuning_leaf_and_moves_the_distribution():
    e = extract_progress("DeepSpeed ZeRO-3 training hangs at the first step on 8 GPUs, nothing is printed")
    leaves = hang_leaves()
    assert hang_votes(e) == {leaves.fine_tuning: 1.0}
    prior = {leaves.fine_tuning: 0.05, leaves.other: 0.05, "Crash - Other Crashes": 0.9}
    without = classify_symptoms("training", [], prior, progress=None)
    with_hang = classify_symptoms("training", [], prior, progress=e)
    assert with_hang[leaves.fine_tuning] > without[leaves.fine_tuning]
    assert max(with_hang, key=with_hang.get) == leaves.fine_tuning
