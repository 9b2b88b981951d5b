"""Measure: diagnosis of the 100 case reports translated to Chinese (``tests/fixtures/cases_zh.jsonl``) against their
English originals, leave-one-out over a knowledge base of the study's records and the whole case base; root-cause
top-1/top-3 at every level, for failgraph and for BM25 alone, with the CJK-aware BM25 tokenizer and without it.

    python tests/assistant/measure_chinese_reports.py [--home DIR] [--limit N]

Slow (a few minutes on two cores: three leave-one-out runs of 100 reports); prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from failgraph.assistant.evaluate import LabeledReport, evaluate
from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.ingest.cases import load_cases
from failgraph.ingest.dataset import load_dataset
from failgraph.kg import vectors
from failgraph.kg.build import GraphInputs, build_graph
from failgraph.kg.home import GraphHome
from failgraph.kg.snapshot_index import index_inputs

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixtures" / "cases_zh.jsonl"
DATASET = HERE.parents[2] / "shared" / "data" / "open-llm-failures"


def items(limit: int | None) -> tuple[list[LabeledReport], list[LabeledReport]]:
    """The English originals and their Chinese translations, labelled alike (labels from the case base)."""
    cases = {c.source_url: c for c in load_cases(None).cases}
    zh = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()][:limit]
    en_items, zh_items = [], []
    for z in zh:
        c = cases[z["source_url"]]
        for out, text in ((en_items, c.report), (zh_items, z["text"])):
            out.append(LabeledReport(text=text, symptom=c.symptom, root_cause=c.root_cause, source_url=c.source_url))
    return en_items, zh_items


def set_tokenizer(kb: KnowledgeBase, cjk: bool) -> None:
    """Rebuild the knowledge base's BM25 index with (or without) the CJK bigrams, and query it the same way."""
    vectors.cjk_bigrams = CJK if cjk else (lambda t: t)
    ids, texts = index_inputs(kb.corpus)
    kb.index.keywords = vectors.KeywordIndex.build(ids, texts)


CJK = vectors.cjk_bigrams


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path)
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    home = GraphHome(a.home or Path(tempfile.mkdtemp()) / "home")
    if home.current_name() is None:
        build_graph(home, GraphInputs(records=load_dataset(DATASET).records, cases=load_cases(None).cases),
                    validate=False)
    kb = KnowledgeBase.from_home(home)
    en, zh = items(a.limit)
    rows = []
    for name, its, cjk in (("English", en, True), ("Chinese, BM25 without CJK bigrams", zh, False),
                           ("Chinese, BM25 with CJK bigrams", zh, True)):
        set_tokenizer(kb, cjk)
        t0 = time.perf_counter()
        r = evaluate(kb, its)
        rows.append((name, r, time.perf_counter() - t0))
    print(f"{len(en)} case reports, leave-one-out; root cause top-1 / top-3")
    for name, r, secs in rows:
        for method in ("failgraph", "bm25_only", "dense_only"):
            cells = "  ".join(f"{lv} {s.top1:.3f}/{s.top3:.3f}" for lv, s in r.methods[method].root_cause.items())
            print(f"{name:<36} {method:<10} {cells}   ({r.items} answered, {secs:.0f} s)")


if __name__ == "__main__":
    main()
