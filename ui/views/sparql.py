"""The SPARQL page: an editor preloaded with the named queries, a result table and a CSV download. Queries go through
the same read-only guard, time limit and row cap as the ``/sparql`` endpoint."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...kg.named_queries import list_queries
from ...kg.remote import QueryBusy, QueryTimeout
from ...kg.results import AskResult, GraphResult, SelectResult
from ...kg.sparql_service import QueryOutcome
from ...kg.store import StoreError
from . import state
from .render import md_escape

CUSTOM = "(your own query)"


def result_frame(res: SelectResult) -> pd.DataFrame:
    """Rows as a DataFrame of plain values (numbers as numbers, unbound as empty)."""
    return pd.DataFrame(res.records(), columns=res.variables)


def run(home: str, text: str) -> QueryOutcome | str:
    """The outcome, or an error message to show."""
    try:
        return state.query_service(home).run(text)
    except QueryTimeout as e:
        return f"{e}. Narrow the query or add a LIMIT."
    except (QueryBusy, StoreError) as e:
        return str(e)


def page(home: str) -> None:
    st.title("SPARQL")
    st.caption("Read-only SPARQL 1.1 over the failure graph; the default graph is the union of all sources (use "
               "GRAPH ?g to see which source said what). The same endpoint is served at /sparql by `failgraph serve`.")
    named = list_queries()
    titles = {f"{q.title} ({q.name})": q for q in named}
    choice = st.selectbox("Example", [*titles, CUSTOM], index=0)
    default = titles[choice].text if choice in titles else "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10\n"
    if choice in titles and titles[choice].description:
        st.caption(md_escape(titles[choice].description))
    text = st.text_area("Query", value=default, height=260, key=f"fg_query_{choice}")
    if not st.button("Run query", type="primary"):
        return
    with st.spinner("Running the query…"):
        outcome = run(home, text or "")
    if isinstance(outcome, str):
        st.error(md_escape(outcome))
        return
    res = outcome.result
    if outcome.truncated:
        st.warning(f"Only the first {state.query_service(home).limits.max_rows:,} rows are shown: add a LIMIT or "
                   "narrow the query.")
    if isinstance(res, AskResult):
        st.success(f"ASK: {'true' if res.value else 'false'}")
    elif isinstance(res, GraphResult):
        nt = res.to_ntriples()
        st.caption(f"{len(res.triples)} triples")
        st.code(nt[:20_000] or "(no triples)", language=None)
        st.download_button("Download N-Triples", nt, file_name="result.nt", mime="application/n-triples")
    else:
        st.caption(f"{len(res.rows)} row(s)")
        st.dataframe(result_frame(res), hide_index=True)
        st.download_button("Download CSV", res.to_csv(), file_name="result.csv", mime="text/csv")


__all__ = ["page", "result_frame", "run"]
