"""Importing issue threads from JSONL exports of other trackers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from failgraph.ingest.jsonl import JsonlError, ingest_jsonl, parse_jsonl
from failgraph.ingest.sources import jsonl_store_path, load_issue_documents, read_documents
from failgraph.ui.cli_ingest import ingest_app

GOOD = [
    {"url": "https://github.com/acme-ml/tinyserve/issues/5", "title": "OOM when loading a 70B checkpoint",
     "body": "torch.OutOfMemoryError: CUDA out of memory.\r\nTried to allocate 2.00 GiB",
     "comments": ["Use --max-model-len 4096", {"body": "That fixed it, thanks", "author": "someone"}, {"body": None}],
     "labels": ["bug", {"name": "memory", "color": "f00"}], "created_at": "2024-01-02T03:04:05Z",
     "state": "Closed", "tracker_id": "JIRA-17"},
    {"url": "https://github.com/acme-ml/tinyserve/issues/6", "text": "Server hangs after NCCL init on 8 GPUs"},
    {"url": "https://github.com/other-org/other-repo/pull/7", "title": "Tokenizer drops the BOS token",
     "updated_at": "2024-02-01"},
]


def write_lines(path, lines):
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def test_happy_path_stores_documents_atomically(tmp_path):
    src = write_lines(tmp_path / "tracker export.jsonl", [GOOD[0], "", GOOD[1], "   ", GOOD[2]])
    res = ingest_jsonl(src, tmp_path / "home")
    target = jsonl_store_path(tmp_path / "home", "tracker export")
    assert res.path == str(target) and target.name == "tracker_export.jsonl" and res.stored == 3
    assert [p.name for p in target.parent.iterdir()] == ["tracker_export.jsonl"]  # no temp files left
    docs = read_documents(target)
    d = docs[0]
    assert (d.issue.repository, d.issue.number, d.issue.status) == ("acme-ml/tinyserve", 5, "closed")
    assert d.title == "OOM when loading a 70B checkpoint" and "\r" not in d.body
    assert d.comments == ["Use --max-model-len 4096", "That fixed it, thanks"]
    assert d.labels == ["bug", "memory"] and d.created_at == "2024-01-02T03:04:05Z"
    assert (d.provenance.kind, d.provenance.source, d.provenance.index) == ("jsonl", "jsonl/tracker_export", 0)
    assert docs[1].body == "Server hangs after NCCL init on 8 GPUs" and docs[1].title == ""
    assert docs[1].provenance.index == 2  # zero-based line of the export
    assert docs[2].issue.url.endswith("/pull/7") and docs[2].updated_at == "2024-02-01"
    assert load_issue_documents(tmp_path / "home") == docs


def test_bad_lines_are_reported_with_file_and_line(tmp_path):
    src = tmp_path / "bad.jsonl"
    lines = [GOOD[0],                                                                 # 1 ok
             "{not json",                                                             # 2
             "[1, 2]",                                                                # 3
             {"url": "https://gitlab.com/acme/tinyserve/-/issues/3", "title": "t"},    # 4
             {"url": "https://github.com/acme-ml/tinyserve/issues/4"},                # 5
             {"url": "https://github.com/acme-ml/tinyserve/issues/8", "title": "x", "created_at": "yesterday"},
             {"title": "no url"},                                                     # 7
             {"url": "https://github.com/a/b/issues/9", "body": "a", "text": "b"},    # 8
             {"url": "https://github.com/a/b/issues/10", "title": "x", "labels": "bug"},  # 9
             GOOD[1]]                                                                 # 10 ok
    write_lines(src, lines)
    with src.open("ab") as fh:
        fh.write(b'{"url": "https://github.com/a/b/issues/11", "title": "caf\xe9"}\n')  # 11: Latin-1, not UTF-8
    loaded = parse_jsonl(src)
    problems = {p.line: str(p) for p in loaded.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert all(m.startswith(f"{src}:{n}: ") for n, m in problems.items())
    assert "not valid JSON" in problems[2]
    assert "expected a JSON object, found list" in problems[3]
    assert "not a GitHub issue URL" in problems[4]
    assert "needs a non-empty 'title', 'body' or 'text'" in problems[5]
    assert "created_at: not an ISO 8601 date" in problems[6]
    assert "url: Field required" in problems[7]
    assert "not both" in problems[8]
    assert "labels" in problems[9]
    assert "not UTF-8" in problems[11]
    assert [d.issue.number for d in loaded.documents] == [5, 6]

    with pytest.raises(JsonlError, match="9 malformed line"):
        ingest_jsonl(src, tmp_path / "home")
    assert not jsonl_store_path(tmp_path / "home", "bad").exists()  # nothing stored
    res = ingest_jsonl(src, tmp_path / "home", skip_invalid=True)
    assert res.stored == 2 and len(res.problems) == 9


def test_repeated_urls_keep_the_last_line_and_reimport_replaces(tmp_path):
    src = write_lines(tmp_path / "x.jsonl", [GOOD[1], dict(GOOD[1], text="updated text"), GOOD[2]])
    res = ingest_jsonl(src, tmp_path / "home")
    assert res.stored == 2 and res.duplicates == 1
    docs = load_issue_documents(tmp_path / "home")
    assert [d.body for d in docs if d.issue.number == 6] == ["updated text"]
    write_lines(src, [GOOD[2]])
    ingest_jsonl(src, tmp_path / "home")
    assert [d.issue.number for d in load_issue_documents(tmp_path / "home")] == [7]


def test_utf8_bom_and_missing_or_empty_files(tmp_path):
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD[1]).encode() + b"\n")
    assert ingest_jsonl(src, tmp_path / "home").stored == 1
    with pytest.raises(JsonlError, match="does not exist"):
        ingest_jsonl(tmp_path / "missing.jsonl", tmp_path / "home")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(JsonlError, match="holds no issue documents"):
        ingest_jsonl(tmp_path / "empty.jsonl", tmp_path / "home")


runner = CliRunner()


def run(*args):
    return runner.invoke(ingest_app, [str(a) for a in args])


def test_cli_jsonl(tmp_path):
    home = tmp_path / "home"
    src = write_lines(tmp_path / "export.jsonl", GOOD)
    r = run("jsonl", src, "--home", home)
    assert r.exit_code == 0, r.output
    assert "stored 3 issue(s)" in r.output and "jsonl/export" in r.output and "failgraph build" in r.output

    bad = write_lines(tmp_path / "bad.jsonl", [GOOD[0], "{oops", {"url": "https://example.com/x", "title": "t"}])
    r = run("jsonl", bad, "--home", home)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{bad}:2:" in r.output and f"{bad}:3:" in r.output
    assert r.output.strip().splitlines()[-1].startswith("error: 2 malformed line(s)")
    assert not jsonl_store_path(home, "bad").exists()
    r = run("jsonl", bad, "--home", home, "--skip-invalid")
    assert r.exit_code == 0 and "stored 1 issue(s)" in r.output and "2 bad line(s) skipped" in r.output

    r = run("jsonl", tmp_path / "nope.jsonl", "--home", home)
    assert r.exit_code == 2 and "does not exist" in r.output
