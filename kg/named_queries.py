"""The named SPARQL queries shipped in ``kg/queries/*.rq``.

Each file starts with ``# title:`` and ``# description:`` comment lines.

>>> "symptom_cause_category" in {q.name for q in list_queries()}
True
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from pydantic import BaseModel


class NamedQuery(BaseModel):
    name: str
    title: str
    description: str
    kind: str = "other"
    text: str


def _queries_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("queries")))


def _parse(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    meta = {}
    for line in text.splitlines():
        if line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            meta[k.strip()] = v.strip()
    return NamedQuery(name=path.stem, title=meta.get("title", path.stem), description=meta.get("description", ""),
                      kind=meta.get("kind", "other"), text=text)


def list_queries() -> list[NamedQuery]:
    return [_parse(p) for p in sorted(_queries_dir().glob("*.rq"))]


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def get_query(name: str) -> NamedQuery:
    p = _queries_dir() / f"{name}.rq"
    if not _NAME.fullmatch(name) or not _is_file(p):
        raise KeyError(f"no named query {name!r} (known: {', '.join(q.name for q in list_queries())})")
    return _parse(p)


def _is_file(p: Path) -> bool:
    """``p.is_file()``, False for names the file system cannot even look up (too long, NUL bytes)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def resolve_query_text(file_or_query: str) -> str:
    """A query given as a file path, a named query (with or without ``.rq``, or ``kg/queries/NAME.rq``), or text.

    One-line query text that happens to contain slashes (IRIs) is query text, not a path:

    >>> resolve_query_text("SELECT * WHERE { ?s <http://e/" + "x" * 300 + "> ?o }")[:16]
    'SELECT * WHERE {'
    """
    p = Path(file_or_query)
    if len(file_or_query) < 4096 and "\n" not in file_or_query:
        if _is_file(p):
            return p.read_text(encoding="utf-8")
        stem = p.name[:-3] if p.name.endswith(".rq") else p.name
        if (_NAME.fullmatch(stem) and _is_file(_queries_dir() / f"{stem}.rq")
                and (p.suffix == ".rq" or stem == file_or_query)):
            return get_query(stem).text
        if p.suffix == ".rq":
            raise FileNotFoundError(f"query file {file_or_query} not found")
    return file_or_query


__all__ = ["NamedQuery", "get_query", "list_queries", "resolve_query_text"]
