"""Step 2c — errors that explain themselves: the error-knowledge entries (``ontology/rules/errors.yaml``) whose
message pattern the report matches, as evidence for their root cause and as fixes.

An entry learnt from an issue is knowledge *about* that issue: when the issue is excluded (leave-one-out, a bot
triaging it), every entry that cites it as evidence is left out too.
"""

from __future__ import annotations

from ..ingest.records import issue_key
from ..ontology.error_knowledge import ErrorEntry, matching_errors
from .probability import noisy_or


def cites(evidence: list[str], exclude: frozenset[str]) -> bool:
    """Whether any evidence URL is an excluded issue (documentation pages and release notes never are)."""
    for url in evidence:
        try:
            if issue_key(url) in exclude:
                return True
        except ValueError:
            continue
    return False


def known_errors(text: str, exclude: frozenset[str] = frozenset()) -> list[ErrorEntry]:
    """The entries the text matches, most decisive first, without those whose evidence cites an excluded issue."""
    return [e for e in matching_errors(text) if not (exclude and cites(e.evidence, exclude))]


def error_evidence(entries: list[ErrorEntry]) -> dict[str, tuple[float, list[str]]]:
    """Root-cause leaf → (noisy-or of the entries' weights, what they say) for the walk."""
    out: dict[str, tuple[float, list[str]]] = {}
    for e in entries:
        w, titles = out.get(e.cause, (0.0, []))
        out[e.cause] = (noisy_or(w, e.weight), [*titles, f"known error {e.id}"])
    return out


__all__ = ["cites", "error_evidence", "known_errors"]
