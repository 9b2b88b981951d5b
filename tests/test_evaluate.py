import json

from failgraph.assistant.evaluate import METHODS, evaluate, load_labeled, plot_confusion


def test_leave_one_out_evaluation_runs_every_method(tmp_path, small_kb):
    cases = [f for f in small_kb.corpus.failures if f.root_causes][:12]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps({"report": f.text, "symptom": f.symptoms[0], "root_cause": f.root_causes[0],
                                          "source_url": f.url}) for f in cases))
    items = load_labeled(path)
    res = evaluate(small_kb, items)
    assert res.items == 12 and set(res.methods) == set(METHODS)
    for m in res.methods.values():
        for level in m.root_cause.values():
            assert 0 <= level.top1 <= level.top3 <= 1 and level.n == 12
    assert sum(sum(r.values()) for r in res.confusion.values()) == 12
    png = tmp_path / "c.png"
    plot_confusion(res, png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_items_name_their_line(tmp_path):
    import pytest
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "x", "symptom": "Crash - Nope", "root_cause": "y"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_labeled(p)
