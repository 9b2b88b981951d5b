"""Loader for the released Open-LLM-Failures labels (one JSON list per model family).

Resolution of the dataset directory: an explicit path, else ``$FAILGRAPH_DATASET``, else a cached download of the
public repository into the user's cache directory.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import httpx
from platformdirs import user_cache_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..ontology import UnknownLabel, UnknownTerm, load_taxonomy, load_vocabulary
from .records import FailureRecord, IssueRef, Provenance

DATASET_ENV = "FAILGRAPH_DATASET"
DATASET_REPOSITORY = "PapersSubmit/Open-LLM-Failures"
DATASET_ARCHIVE_URL = f"https://codeload.github.com/{DATASET_REPOSITORY}/zip/refs/heads/main"


class DatasetError(Exception):
    """The dataset cannot be found, fetched or read at all."""


class RawDatasetRecord(BaseModel):
    """One entry of a released JSON file, with the field names the study used."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    number: int
    link: str
    status: str
    symptom: str = Field(alias="SYMPTOM", min_length=1)
    root_cause: str = Field(alias="ROOT CAUSE", min_length=1)
    stage: str = Field(alias="STAGE", min_length=1)
    model: str = Field(min_length=1)
    architecture: str = Field(min_length=1)


class RecordProblem(BaseModel):
    """A record that could not be loaded, with where it is."""

    file: str
    index: int | None = Field(description="Zero-based index in the file's list; None when the whole file is unreadable")
    message: str

    def __str__(self) -> str:
        where = self.file if self.index is None else f"{self.file} record #{self.index}"
        return f"{where}: {self.message}"


class DatasetLoad(BaseModel):
    """Records that loaded, problems with those that did not, and the files read."""

    root: str
    files: list[str]
    records: list[FailureRecord]
    problems: list[RecordProblem]


def _download(cache_dir: Path, client: httpx.Client | None = None) -> Path:
    """Fetch the public dataset archive and unpack its JSON files into ``cache_dir`` atomically."""
    target = cache_dir / "open-llm-failures"
    if target.is_dir() and any(target.rglob("*.json")):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    own = client is None
    client = client or httpx.Client(timeout=60, follow_redirects=True)
    try:
        resp = client.get(DATASET_ARCHIVE_URL)
        resp.raise_for_status()
    except httpx.HTTPError as e:
        raise DatasetError(f"could not download the dataset from {DATASET_ARCHIVE_URL}: {e}. "
                           f"Pass --dataset PATH or set {DATASET_ENV}.") from e
    finally:
        if own:
            client.close()
    tmp = Path(tempfile.mkdtemp(prefix=".open-llm-failures-", dir=cache_dir))
    try:
        with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
            for info in zf.infolist():
                name = Path(info.filename)
                if info.is_dir() or name.suffix != ".json" or ".." in name.parts:
                    continue
                dest = tmp.joinpath(*name.parts[1:])  # drop the archive's top folder
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(zf.read(info))
        if not any(tmp.rglob("*.json")):
            raise DatasetError(f"the archive from {DATASET_ARCHIVE_URL} holds no JSON files")
        os.replace(tmp, target)
    except zipfile.BadZipFile as e:
        raise DatasetError(f"the download from {DATASET_ARCHIVE_URL} is not a zip archive: {e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_dataset(path: str | Path | None = None, *, cache_dir: Path | None = None,
                    client: httpx.Client | None = None) -> Path:
    """The dataset directory to read: ``path``, else ``$FAILGRAPH_DATASET``, else a cached download."""
    chosen = path or os.environ.get(DATASET_ENV)
    if chosen:
        p = Path(chosen).expanduser()
        if not p.exists():
            raise DatasetError(f"dataset path {p} does not exist")
        if p.is_file() and p.suffix != ".json":
            raise DatasetError(f"dataset path {p} is neither a directory nor a .json file")
        return p
    return _download(cache_dir or Path(user_cache_dir("failgraph")), client)


def dataset_files(root: Path) -> list[Path]:
    """Every JSON file under ``root`` (folder names may carry stray spaces), in a stable order."""
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*.json") if p.is_file())
    if not files:
        raise DatasetError(f"no .json files under {root}")
    return files


def record_from_raw(raw: RawDatasetRecord, source: str, index: int) -> FailureRecord:
    """Check a raw entry against the taxonomy and vocabulary and turn it into a :class:`FailureRecord`."""
    tax, vocab = load_taxonomy(), load_vocabulary()
    issue = IssueRef.from_url(raw.link, status=raw.status)
    symptom = tax.leaf("symptom", raw.symptom).label
    root_cause = tax.leaf("root_cause", raw.root_cause).label
    stage = vocab.stage(raw.stage).label
    architecture = vocab.architecture(raw.architecture).label
    owner = issue.repository.split("/")[0]
    if vocab.series_for_owner(owner) is None:
        raise UnknownTerm(f"repository owner {owner!r} belongs to no known model series")
    return FailureRecord(issue=issue, symptom=symptom, root_cause=root_cause, stage=stage, model=raw.model,
                         architecture=architecture, record_number=raw.number,
                         provenance=Provenance(source=source, kind="dataset", labeler="dataset", index=index))


def load_dataset(path: str | Path | None = None, **resolve_kw) -> DatasetLoad:
    """Read and validate every record; problems are collected with file and index, never raised per record."""
    root = resolve_dataset(path, **resolve_kw)
    files = dataset_files(root)
    records: list[FailureRecord] = []
    problems: list[RecordProblem] = []
    base = root if root.is_dir() else root.parent
    for f in files:
        rel = f.relative_to(base).as_posix()
        source = "dataset/" + rel
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            problems.append(RecordProblem(file=str(f), index=None, message=f"not valid JSON: {e}"))
            continue
        if not isinstance(data, list):
            problems.append(RecordProblem(file=str(f), index=None,
                                          message=f"expected a JSON list of records, found {type(data).__name__}"))
            continue
        if not data:
            problems.append(RecordProblem(file=str(f), index=None, message="holds no records (an empty JSON list)"))
            continue
        for i, item in enumerate(data):
            try:
                raw = RawDatasetRecord.model_validate(item)
                records.append(record_from_raw(raw, source, i))
            except ValidationError as e:
                msg = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'record'}: {err['msg']}" for err in e.errors())
                problems.append(RecordProblem(file=str(f), index=i, message=msg))
            except (UnknownLabel, UnknownTerm, ValueError) as e:
                problems.append(RecordProblem(file=str(f), index=i, message=str(e)))
    return DatasetLoad(root=str(root), files=[str(f) for f in files], records=records, problems=problems)


__all__ = [
    "DATASET_ARCHIVE_URL",
    "DATASET_ENV",
    "DatasetError",
    "DatasetLoad",
    "RawDatasetRecord",
    "RecordProblem",
    "dataset_files",
    "load_dataset",
    "record_from_raw",
    "resolve_dataset",
]
