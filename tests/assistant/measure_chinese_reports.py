"""Measure: diagnosis of the 100 case reports translated to Chinese (``tests/fixtures/cases_zh.jsonl``) against their
English originals, leave-one-out over a knowledge base of the study's records and the whole case base; root-cause
top-1/top-3 at every level, for failgraph and for BM25 alone: with the English glosses of Chinese terms
(``ontology/glossary_zh.yaml``) and the CJK-aware BM25 tokenizer, and without each.

    python tests/assistant/measure_chinese_reports.py [--home DIR] [--limit N]

Slow (a few minutes on two cores: four leave-one-out runs of 100 reports); prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from failgraph.assistant import report
from failgraph.assistant.evaluate import LabeledReport, evaluate
from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.ingest.cases import load_cases
from failgraph.ingest.dataset import load_dataset
from failgraph.kg import keyword
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
    keyword.cjk_bigrams = CJK if cjk else (lambda t: t)
    ids, texts = index_inputs(kb.corpus)
    kb.index.keywords = keyword.KeywordIndex.build(ids, texts)


CJK = keyword.cjk_bigrams
GLOSSES = report.english_glosses


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
    for name, its, cjk, glosses in (("English", en, True, True), ("Chinese (glosses, CJK bigrams)", zh, True, True),
                                    ("Chinese without the glosses", zh, True, False),
                                    ("Chinese without glosses and bigrams", zh, False, False)):
        set_tokenizer(kb, cjk)
        report.english_glosses = GLOSSES if glosses else (lambda t: [])
        t0 = time.perf_counter()
        r = evaluate(kb, its)
        rows.append((name, r, time.perf_counter() - t0))
    print(f"{len(en)} case reports, leave-one-out; root cause top-1 / top-3")
    for name, r, secs in rows:
        for method in ("failgraph", "bm25_only", "dense_only"):
            cells = "  ".join(f"{lv} {s.top1:.3f}/{s.top3:.3f}" for lv, s in r.methods[method].root_cause.items())
            print(f"{name:<38} {method:<10} {cells}   ({r.items} answered, {secs:.0f} s)")


if __name__ == "__main__":
    main()
