from pathlib import Path

import pytest

from failgraph.ingest.extract import extract_libraries
from failgraph.ingest.extract.listings import is_listing_line, split_listings

LISTINGS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "listings").glob("*.txt"))

NARRATIVE = """Serving Qwen2.5-7B-Instruct-AWQ with vllm 0.6.3 fails at startup.
INFO 10-12 12:00:01 llm_engine.py:237] Initializing an LLM engine (v0.6.3) with config: model='Qwen/Qwen2.5-7B-Instruct-AWQ'
Traceback (most recent call last):
  File "/usr/lib/python3.10/site-packages/vllm/config.py", line 312, in _verify_quantization
    raise ValueError(
ValueError: The quantization method awq is not supported for the current GPU. Minimum capability: 75.
I pinned transformers==4.45.1 as the model card says."""


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda p: p.stem)
def test_each_listing_is_set_aside_whole_and_the_narrative_kept(listing):
    text = listing.read_text(encoding="utf-8")
    narrative, aside = split_listings(f"{NARRATIVE}\n\n{text}\nIt worked last week.")
    assert [line for line in narrative.splitlines() if line.strip()] == [*NARRATIVE.splitlines(), "It worked last week."]
    assert aside.splitlines() == [line for line in text.splitlines() if line.strip()]


def test_listing_in_front_of_the_narrative():
    text = (Path(__file__).resolve().parents[1] / "fixtures" / "listings" / "collect_env.txt").read_text(encoding="utf-8")
    narrative, aside = split_listings(text + "\n" + NARRATIVE)
    assert narrative.strip() == NARRATIVE
    assert extract_libraries(aside)  # the versions are still there for the extractors


def test_short_runs_and_sentences_stay():
    two = "- Python version: 3.10.14\n- PyTorch version (GPU?): 2.4.0+cu121 (True)\nThen generation hangs."
    assert split_listings(two) == (two, "")
    table = "| model | tokens/s |\n|---|---|\n| Qwen2-7B | 35 |\n| Qwen2-7B-AWQ | 12 |"
    assert split_listings(table) == (table, "")  # a results table is part of the story
    for line in NARRATIVE.splitlines()[:-1]:
        assert not is_listing_line(line), line


def test_nothing_but_listings():
    narrative, aside = split_listings("torch==2.4.0\ntransformers==4.45.1\nvllm==0.6.2")
    assert narrative == "" and len(aside.splitlines()) == 3
