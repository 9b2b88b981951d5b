"""Issue threads stored under ``<home>/sources/``: one JSONL file of :class:`IssueDocument` per source.

Layout::

    <home>/sources/github/<owner>/<repo>.jsonl        one line per issue (``failgraph ingest github``)
    <home>/sources/github/<owner>/<repo>.state.json   resume cursor of that ingest (not a document file)
    <home>/sources/jsonl/<file-stem>.jsonl            one line per issue (``failgraph ingest jsonl``)

Every file is rewritten whole through :func:`failgraph.kg.home.write_atomic`, so a reader never sees half a file.
The graph build reads them all with :func:`load_issue_documents`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .files import write_atomic
from .records import IssueDocument

SOURCES_DIR = "sources"
GITHUB_DIR = "github"
JSONL_DIR = "jsonl"


class SourceError(ValueError):
    """A stored source file cannot be read; the message names the file and line."""


class StoredSource(BaseModel):
    """One stored document file."""

    kind: str
    name: str
    path: str
    documents: int


def sources_dir(home_root: str | Path) -> Path:
    return Path(home_root) / SOURCES_DIR


def safe_name(name: str) -> str:
    """A file-name component: runs of anything but letters, digits, ``.``, ``_`` and ``-`` become ``_``.

    >>> safe_name("my export (2024)")
    'my_export_2024_'
    >>> safe_name("..hidden")
    'hidden'
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")
    if not cleaned:
        raise ValueError(f"cannot make a file name from {name!r}")
    return cleaned


def github_store_path(home_root: str | Path, owner: str, repo: str) -> Path:
    """Where the documents of one GitHub repository live (lower-cased: GitHub names are case-insensitive)."""
    return sources_dir(home_root) / GITHUB_DIR / safe_name(owner.lower()) / f"{safe_name(repo.lower())}.jsonl"


def jsonl_store_path(home_root: str | Path, stem: str) -> Path:
    """Where the documents imported from an export file with this stem live."""
    return sources_dir(home_root) / JSONL_DIR / f"{safe_name(stem)}.jsonl"


def source_files(home_root: str | Path) -> list[Path]:
    """Every stored document file, GitHub repositories first, each group in name order."""
    root = sources_dir(home_root)
    files = sorted(root.glob(f"{GITHUB_DIR}/*/*.jsonl")) + sorted(root.glob(f"{JSONL_DIR}/*.jsonl"))
    return [f for f in files if f.is_file() and not f.name.startswith(".")]


def read_documents(path: Path) -> list[IssueDocument]:
    """The documents of one stored file, in file order; a bad line raises :class:`SourceError` naming ``file:line``."""
    docs: list[IssueDocument] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SourceError(f"{path}: not UTF-8 text: {e}") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            docs.append(IssueDocument.model_validate_json(line))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(map(str, first["loc"])) or "line"
            raise SourceError(f"{path}:{lineno}: not a stored issue document ({where}: {first['msg']}); "
                              f"delete the file and ingest the source again") from None
    return docs


def write_documents(path: Path, docs: Iterable[IssueDocument]) -> None:
    """Replace ``path`` atomically with one JSON line per document."""
    write_atomic(path, "".join(d.model_dump_json() + "\n" for d in docs))


def list_sources(home_root: str | Path) -> list[StoredSource]:
    """What is stored: one entry per document file, with its kind, source name and number of documents."""
    out = []
    root = sources_dir(home_root)
    for f in source_files(home_root):
        rel = f.relative_to(root).with_suffix("")
        kind = rel.parts[0]
        with f.open("rb") as fh:
            n = sum(1 for line in fh if line.strip())
        out.append(StoredSource(kind=kind, name=rel.as_posix(), path=str(f), documents=n))
    return out


def load_issue_documents(home_root: str | Path) -> list[IssueDocument]:
    """Every stored :class:`IssueDocument` under ``<home_root>/sources/`` (GitHub and JSONL); ``[]`` when none.

    Documents keep their own provenance (``github/OWNER/REPO`` or ``jsonl/STEM``); the same issue stored by two
    sources comes back twice, once per source.
    """
    docs: list[IssueDocument] = []
    for f in source_files(home_root):
        docs.extend(read_documents(f))
    return docs


__all__ = [
    "GITHUB_DIR",
    "JSONL_DIR",
    "SOURCES_DIR",
    "SourceError",
    "StoredSource",
    "github_store_path",
    "jsonl_store_path",
    "list_sources",
    "load_issue_documents",
    "read_documents",
    "safe_name",
    "source_files",
    "sources_dir",
    "write_documents",
]
