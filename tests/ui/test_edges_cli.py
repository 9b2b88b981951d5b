"""Input decoding at the command line: non-UTF-8 arguments, standard input and batch files; batch lines answered on
their own; a quiet model load; output that fits 80 columns without cutting URLs or scores."""

from __future__ import annotations

import io
import json
import os

import pytest
from api_helpers import OOM_REPORT
from typer.testing import CliRunner

from failgraph.ui import cli

GBK_LOG = """训练 Qwen2-7B 时出错：
Traceback (most recent call last):
  File "train.py", line 88, in <module>
    trainer.train()
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB
显存不足，请问如何解决？使用的是 transformers 4.36.2 和 torch 2.1.0，单张 RTX 3090 显卡。
"""
LATIN1_LOG = ("Erreur au démarrage du serveur vLLM : le modèle dépasse la mémoire du GPU (mémoire insuffisante)\n"
              "RuntimeError: CUDA out of memory. Größe der Anfrage: 2.00 GiB; déjà alloué 21.9 GiB\n")


@pytest.fixture
def seen(kb, monkeypatch):
    """The CLI on the test knowledge base; records the reports it diagnoses."""
    from failgraph.assistant import diagnose as engine

    reports: list = []
    real = engine.diagnose

    def spy(kb_, req):
        reports.append(req)
        return real(kb_, req)

    monkeypatch.setattr(cli, "_load_kb", lambda home, embedder=None: kb)
    monkeypatch.setattr(engine, "diagnose", spy)
    monkeypatch.setattr("failgraph.assistant.batch.diagnose", spy)
    return reports


def run(*args, input=None):
    return CliRunner().invoke(cli.app, [str(a) for a in args], input=input)


def one_line_error(r, *words):
    assert r.exit_code == 2, r.output
    assert ("Traceback" not in r.output and r.exception is None) or isinstance(r.exception, SystemExit)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_a_non_utf8_argument_is_read_in_its_encoding(seen):
    arg = os.fsdecode(LATIN1_LOG.encode("latin-1"))  # what Python makes of Latin-1 bytes in argv
    assert "\udce9" in arg
    r = run("diagnose", arg, "--json", "--title", os.fsdecode("Fehler beim Laden: Größe".encode("latin-1")))
    assert r.exit_code == 0, r.output
    assert seen[0].text == LATIN1_LOG and seen[0].title == "Fehler beim Laden: Größe"
    assert json.loads(r.stdout)["root_causes"]


@pytest.mark.parametrize("text,encoding", [(GBK_LOG, "gbk"), (LATIN1_LOG, "latin-1"), (GBK_LOG, "utf-8"),
                                           (LATIN1_LOG, "utf-16")])
def test_stdin_is_decoded_utf8_first_else_its_legacy_encoding(kb, seen, text, encoding):
    from failgraph.assistant.diagnose import diagnose
    from failgraph.assistant.models import ReportRequest

    r = run("diagnose", "-", "--json", input=text.encode(encoding))
    assert r.exit_code == 0, r.output
    assert seen[0].text == text
    assert json.loads(r.stdout) == diagnose(kb, ReportRequest(text=text)).model_dump(mode="json")


@pytest.mark.parametrize("data,word", [(bytes(range(256)) * 4, "binary"), (b"\x00\x01\x02\x03" * 50, "binary"),
                                       (b"   \n", "empty")])
def test_unreadable_stdin_is_one_line_and_exit_2(seen, data, word):
    one_line_error(run("diagnose", "-", input=data), word)


def test_a_lone_surrogate_argument_is_refused_in_one_line(seen):
    one_line_error(run("diagnose", "CUDA error \ud800 on load"), "lone surrogate")


def test_batch_lines_are_answered_on_their_own(tmp_path, seen):
    lines = [json.dumps({"id": 1, "text": OOM_REPORT, "source": "extra fields are fine in a batch"}).encode(),
             b"not json",
             b'{"id": "s1", "text": "RuntimeError \\ud800 CUDA out of memory"}',
             b'{"id": "t2", "text": "CUDA error", "title": "bad \\udcff"}',
             ('{{"id": "latin", "text": "{}"}}'.format(LATIN1_LOG.replace("\n", "\\n"))).encode("latin-1"),
             b'{"id": "deep", "text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
             b"",
             b'["not", "an", "object"]',
             json.dumps({"id": "last", "text": GBK_LOG}).encode()]
    batch = tmp_path / "in.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    r = run("diagnose", "--batch", batch, "--json")
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o.get("id") for o in out] == [1, None, "s1", "t2", "latin", None, None, "last"]  # unparsed: no id
    assert ["error" in o for o in out] == [False, True, True, True, False, True, True, False]
    errors = {o["id"]: o["error"] for o in out if "error" in o}
    assert "lone surrogate" in errors["s1"] and errors["s1"].startswith("invalid report: text:")
    assert "title" in errors["t2"] and "Traceback" not in r.output
    assert out[0]["root_causes"] and out[4]["root_causes"] and out[-1]["root_causes"]
    assert [req.text for req in seen if req.id == "latin"] == [LATIN1_LOG]
    assert "Traceback" not in r.stderr and len([x for x in r.stderr.splitlines() if ":2:" in x]) == 1


def test_the_model_loads_without_a_progress_bar(capfd):
    from transformers.utils import logging as hf_logging

    from failgraph.kg.embed import Embedder

    assert Embedder().encode(["CUDA out of memory"]).shape == (1, 384)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # the setting is restored for everyone else


def _column(text: str, index: int) -> list[str]:
    """The cells of one table column, the folded lines of each row joined."""
    cells: list[str] = []
    for line in text.splitlines():
        parts = line.split("│")
        if len(parts) != 5:
            continue
        piece = parts[index].strip()
        if parts[1].strip():  # a new row starts where the score column has text
            cells.append(piece)
        elif cells:
            cells[-1] += piece
    return cells


def test_80_columns_wrap_urls_labels_and_scores_never_cut():
    from rich.console import Console

    from failgraph.assistant.models import CauseAnswer, Diagnosis, LabelScore, PathStep, SimilarFailure

    urls = ["https://github.com/huggingface/text-generation-inference/issues/123456",
            "https://github.com/OpenRLHF/OpenRLHF/issues/424"]
    label = "Dependency Library Version Incompatibility Between The Framework And The Model Architecture Code"
    d = Diagnosis(symptoms=[LabelScore(label="Crash", score=0.8123)], root_causes=[CauseAnswer(
        label=label, score=0.8765, category="Environment and Dependency Issues", group="Dependency Library",
        fixes=["pip install -U 'transformers>=4.37.0' (https://github.com/huggingface/transformers/releases/tag/"
               "v4.37.0-very-long-release-name)"],
        path=[PathStep(source="report", edge="similar to", target=urls[1], weight=0.9123)])],
        similar=[SimilarFailure(url=u, score=0.91234 - i / 10, labels=[label, "Crash (Runtime Error)"])
                 for i, u in enumerate(urls)])
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    cli._print_diagnosis(d, console)
    text = console.export_text()
    assert "…" not in text and max(len(x) for x in text.splitlines()) <= 80
    assert _column(text, 2) == urls
    assert _column(text, 1) == ["0.91", "0.81"]
    flat = " ".join(text.split())
    assert "score 0.88" in flat and "0.91)→" in flat
    assert " ".join(label.split()[:6]) in flat


def test_doctor_reads_legacy_encodings_and_refuses_binary(tmp_path, monkeypatch):
    from failgraph.ui.cli_doctor import doctor

    monkeypatch.setenv("FAILGRAPH_HOME", str(tmp_path / "no-graph-here"))
    app = __import__("typer").Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(doctor)
    listing = "环境信息（中文 Windows 导出）：\ntransformers==4.36.2\ntorch==2.1.0\n显卡：RTX 3090\n"
    path = tmp_path / "freeze.txt"
    path.write_bytes(listing.encode("gbk"))
    for args, data in (([str(path)], None), (["-"], listing.encode("gbk"))):
        r = CliRunner().invoke(app, [*args, "--model", "Qwen2-7B-Instruct", "--json"], input=data)
        assert r.exit_code == 0, r.output
        assert "transformers-qwen2-min" in {f["rule"] for f in json.loads(r.stdout)["findings"]}
    path.write_bytes(bytes(range(256)) * 8)
    one_line_error(CliRunner().invoke(app, [str(path)]), "binary")
