"""Store-independent SPARQL results, serialisable to the W3C formats (JSON, CSV, TSV, XML)."""

from __future__ import annotations

import csv
import io
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel, ConfigDict

_INTEGER_TYPES = frozenset({"integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger", "unsignedInt"})
_FLOAT_TYPES = frozenset({"decimal", "double", "float"})


def literal_python(lexical: str, datatype: str | None):
    """A literal's plain Python value: int/float/bool for numeric and boolean XSD types, the lexical form otherwise
    (and when it does not parse)."""
    if not datatype:
        return lexical
    local = datatype.rsplit("#", 1)[-1]
    try:
        if local in _INTEGER_TYPES:
            return int(lexical)
        if local in _FLOAT_TYPES:
            return float(lexical)
    except ValueError:
        return lexical
    if local == "boolean":
        return lexical in ("true", "1")
    return lexical


class RDFTerm(BaseModel):
    """An RDF term in the shape of the SPARQL 1.1 JSON results format."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    type: Literal["uri", "literal", "bnode", "triple"]
    value: str
    datatype: str | None = None
    lang: str | None = None

    def to_json(self) -> dict:
        d: dict = {"type": self.type, "value": self.value}
        if self.lang:
            d["xml:lang"] = self.lang
        elif self.datatype and self.type == "literal":
            d["datatype"] = self.datatype
        return d

    def python(self):
        """A plain Python value: int/float/bool for numeric and boolean literals, the string otherwise."""
        if self.type == "literal" and self.datatype:
            return literal_python(self.value, self.datatype)
        return self.value

    def to_ntriples(self) -> str:
        if self.type == "uri":
            return f"<{self.value}>"
        if self.type == "bnode":
            return f"_:{self.value}"
        v = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if self.lang:
            return f'"{v}"@{self.lang}'
        if self.datatype and self.datatype != "http://www.w3.org/2001/XMLSchema#string":
            return f'"{v}"^^<{self.datatype}>'
        return f'"{v}"'


Row = dict[str, RDFTerm]


class SelectResult(BaseModel):
    """Result of a SELECT query."""

    kind: Literal["select"] = "select"
    variables: list[str]
    rows: list[Row]
    truncated: bool = False

    def records(self) -> list[dict]:
        """Rows as plain Python dicts (unbound variables are None)."""
        return [{v: (r[v].python() if v in r else None) for v in self.variables} for r in self.rows]

    def to_json(self) -> dict:
        return {"head": {"vars": self.variables},
                "results": {"bindings": [{k: t.to_json() for k, t in r.items()} for r in self.rows]}}

    def to_csv(self, delimiter: str = ",") -> str:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(self.variables)
        for r in self.rows:
            w.writerow([r[v].value if v in r else "" for v in self.variables])
        return buf.getvalue()

    def to_tsv(self) -> str:
        lines = ["\t".join("?" + v for v in self.variables)]
        for r in self.rows:
            lines.append("\t".join(r[v].to_ntriples() if v in r else "" for v in self.variables))
        return "\n".join(lines) + "\n"

    def to_xml(self) -> str:
        out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "<head>"]
        out += [f"<variable name={quoteattr(v)}/>" for v in self.variables]
        out += ["</head>", "<results>"]
        for r in self.rows:
            out.append("<result>")
            for v, t in r.items():
                if t.type == "uri":
                    inner = f"<uri>{escape(t.value)}</uri>"
                elif t.type == "bnode":
                    inner = f"<bnode>{escape(t.value)}</bnode>"
                else:
                    attrs = f" xml:lang={quoteattr(t.lang)}" if t.lang else (
                        f" datatype={quoteattr(t.datatype)}" if t.datatype else "")
                    inner = f"<literal{attrs}>{escape(t.value)}</literal>"
                out.append(f"<binding name={quoteattr(v)}>{inner}</binding>")
            out.append("</result>")
        out += ["</results>", "</sparql>"]
        return "\n".join(out) + "\n"


class AskResult(BaseModel):
    kind: Literal["ask"] = "ask"
    value: bool

    def to_json(self) -> dict:
        return {"head": {}, "boolean": self.value}


class GraphResult(BaseModel):
    """Result of a CONSTRUCT or DESCRIBE query, as triples of terms."""

    kind: Literal["graph"] = "graph"
    triples: list[tuple[RDFTerm, RDFTerm, RDFTerm]]

    def to_ntriples(self) -> str:
        return "".join(f"{s.to_ntriples()} {p.to_ntriples()} {o.to_ntriples()} .\n" for s, p, o in self.triples)


QueryResult = SelectResult | AskResult | GraphResult

__all__ = ["AskResult", "GraphResult", "QueryResult", "RDFTerm", "Row", "SelectResult", "literal_python"]
