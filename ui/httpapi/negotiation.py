"""Content negotiation: the ``Accept`` header against the media types a response can be sent in."""

from __future__ import annotations


class NotAcceptable(Exception):
    """None of the accepted media types is offered."""


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values.

    >>> parse_accept("text/csv;q=0.5, application/sparql-results+json")
    [('text/csv', 0.5), ('application/sparql-results+json', 1.0)]
    """
    out = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
        out.append((fields[0].lower(), q))
    return out


def negotiate(header: str | None, offers: list[tuple[str, str]]) -> str:
    """The format to answer with: the offer whose best-matching range has the highest q (ties: server order);
    raises :class:`NotAcceptable` when no offer is acceptable.

    >>> offers = [("application/sparql-results+json", "json"), ("text/csv", "csv")]
    >>> negotiate(None, offers), negotiate("text/csv", offers), negotiate("text/*;q=0.9", offers)
    ('json', 'csv', 'csv')
    """
    ranges = parse_accept(header)
    if not ranges:
        return offers[0][1]
    best, best_q = None, 0.0
    for media, fmt in offers:
        kind = media.split("/")[0]
        q, spec = None, -1
        for rng, rq in ranges:
            s = 2 if rng == media else 1 if rng == f"{kind}/*" else 0 if rng == "*/*" else -1
            if s > spec:
                q, spec = rq, s
        if q is not None and q > best_q:
            best, best_q = fmt, q
    if best is None:
        raise NotAcceptable
    return best


__all__ = ["NotAcceptable", "negotiate", "parse_accept"]
