import io
import json
import zipfile

import httpx
import pytest

from failgraph.ingest.dataset import DATASET_ENV, DatasetError, load_dataset, resolve_dataset


def test_full_dataset_loads(full_records):
    assert len(full_records) == 706
    assert len({r.issue.key for r in full_records}) == 703
    assert all(r.provenance.index is not None and r.provenance.source.startswith("dataset/") for r in full_records)


def test_folder_names_with_stray_spaces(dataset_slice):
    loaded = load_dataset(dataset_slice)
    assert not loaded.problems
    assert len(loaded.files) == 3
    assert {r.model for r in loaded.records} == {"DeepSeek-V2", "DeepSeek-MoE", "Qwen2.5-Math"}
    # the model series comes from the repository owner, not the folder name
    assert all(r.issue.repository.split("/")[0] in {"deepseek-ai", "QwenLM"} for r in loaded.records)


def test_bad_records_are_reported_with_file_and_index(tmp_path, dataset_dir):
    good = json.loads((dataset_dir / "DeepSeek/V2/DeepSeek-V2.json").read_text())
    bad = [dict(good[0]), dict(good[1]), dict(good[2])]
    bad[1]["SYMPTOM"] = "Crash - Invented Symptom"
    del bad[2]["ROOT CAUSE"]
    (tmp_path / "a.json").write_text(json.dumps(bad))
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "c.json").write_text(json.dumps({"number": 1}))
    loaded = load_dataset(tmp_path)
    assert len(loaded.records) == 1
    where = {(p.file.rsplit("/", 1)[-1], p.index) for p in loaded.problems}
    assert where == {("a.json", 1), ("a.json", 2), ("b.json", None), ("c.json", None)}
    msgs = {p.index: p.message for p in loaded.problems if p.file.endswith("a.json")}
    assert "Invented Symptom" in msgs[1]
    assert "ROOT CAUSE" in msgs[2]


def test_resolution_order(tmp_path, dataset_slice, monkeypatch):
    monkeypatch.setenv(DATASET_ENV, str(dataset_slice))
    assert resolve_dataset() == dataset_slice
    assert resolve_dataset(tmp_path) == tmp_path  # explicit path wins
    with pytest.raises(DatasetError, match="does not exist"):
        resolve_dataset(tmp_path / "nope")


def _zip_of(root):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in root.rglob("*.json"):
            zf.write(f, "Open-LLM-Failures-main/" + f.relative_to(root).as_posix())
        zf.writestr("Open-LLM-Failures-main/README.md", "readme")
    return buf.getvalue()


def test_download_is_cached(tmp_path, dataset_slice, monkeypatch):
    monkeypatch.delenv(DATASET_ENV, raising=False)
    calls = []

    def handler(request):
        calls.append(str(request.url))
        return httpx.Response(200, content=_zip_of(dataset_slice))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    root = resolve_dataset(cache_dir=tmp_path / "cache", client=client)
    again = resolve_dataset(cache_dir=tmp_path / "cache", client=client)
    assert root == again and len(calls) == 1
    assert len(load_dataset(root).records) == len(load_dataset(dataset_slice).records)


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(DATASET_ENV, raising=False)
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with pytest.raises(DatasetError, match="could not download"):
        resolve_dataset(cache_dir=tmp_path, client=client)
    assert not any(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("content", ["[]", "  [ ]\n"])
def test_a_file_without_records_is_a_problem(tmp_path, dataset_slice, content):
    import shutil

    shutil.copytree(dataset_slice, tmp_path / "ds")
    (tmp_path / "ds" / "Empty.json").write_text(content)
    loaded = load_dataset(tmp_path / "ds")
    assert len(loaded.records) == len(load_dataset(dataset_slice).records)
    [problem] = loaded.problems
    assert problem.file.endswith("Empty.json") and problem.index is None and "no records" in problem.message


def test_the_build_fails_on_an_empty_file_naming_it_unless_told_to_skip(tmp_path, dataset_slice):
    import shutil

    from typer.testing import CliRunner

    from failgraph.ui.cli import app

    shutil.copytree(dataset_slice, tmp_path / "ds")
    (tmp_path / "ds" / "Empty.json").write_text("[]")
    args = ["build", "--dataset", str(tmp_path / "ds"), "--home", str(tmp_path / "h"), "--no-cases", "--no-index"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "Empty.json" in r.output and "error:" in r.output
    r = CliRunner().invoke(app, [*args, "--skip-invalid"])
    assert r.exit_code == 0 and "Empty.json" in r.output and "built" in r.output
