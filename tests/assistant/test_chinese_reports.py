"""The Chinese translations of 100 case reports (``tests/fixtures/cases_zh.jsonl``, measured by
``measure_chinese_reports.py``): each names a case of the case base once and its prose is Chinese; the code, commands and
error messages of the original are kept as they are, as Chinese reporters paste them."""

import json
import re
from pathlib import Path

from failgraph.ingest.cases import load_cases
from failgraph.kg.cjk import CJK_RUN

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cases_zh.jsonl"


def test_the_translations_name_100_distinct_cases_of_the_case_base():
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    cases = {c.source_url: c for c in load_cases(None).cases}
    assert len(rows) >= 100 and len({r["source_url"] for r in rows}) == len(rows)
    for r in rows:
        assert r["source_url"] in cases, r["source_url"]
        assert len("".join(CJK_RUN.findall(r["text"]))) >= 5, r["source_url"]
        original = cases[r["source_url"]].report
        # error lines quoted in the original survive the translation verbatim
        for line in re.findall(r"^\w+Error: [^(\n]{10,50}", original, flags=re.M):
            assert line.rstrip() in r["text"], (r["source_url"], line)
