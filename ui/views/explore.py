"""The Explore page: the study's symptom × root-cause matrix as a heat map, and the distributions by model series,
stage and model version — all computed from the graph through ``kg.stats`` and the named queries."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ...kg.named_queries import get_query
from ...kg.stats import category_table
from ...kg.store import GraphStore
from . import state


def matrix_frame(store: GraphStore) -> pd.DataFrame:
    """Long-form category matrix: root_cause_category, symptom_category, records (kg.stats.category_table)."""
    t = category_table(store)
    return pd.DataFrame([{"root_cause_category": rc, "symptom_category": s, "records": n}
                         for rc, row in t.matrix.items() for s, n in row.items()])


def named_frame(store: GraphStore, name: str) -> pd.DataFrame:
    """A named query's rows as a DataFrame (numbers as numbers)."""
    res = store.query(get_query(name).text)
    return pd.DataFrame(res.records(), columns=res.variables)


@st.cache_data(show_spinner=False, max_entries=4)
def _frames(home: str, snapshot: str) -> dict[str, pd.DataFrame]:
    s = state.store(home)
    return {"matrix": matrix_frame(s), "subcategory": named_frame(s, "symptom_cause_subcategory"),
            "series": named_frame(s, "by_series"), "stage": named_frame(s, "by_stage"),
            "model": named_frame(s, "by_model")}


def heatmap(df: pd.DataFrame, y: str, x: str = "symptom_category", title: str = "") -> alt.Chart:
    base = alt.Chart(df, title=title).encode(
        x=alt.X(f"{x}:N", title="Symptom", axis=alt.Axis(labelAngle=-20)),
        y=alt.Y(f"{y}:N", title="Root cause", axis=alt.Axis(labelLimit=320)))
    rect = base.mark_rect().encode(color=alt.Color("records:Q", scale=alt.Scale(scheme="oranges"), title="Records"),
                                   tooltip=[x, y, "records"])
    text = base.mark_text(fontSize=12).encode(
        text="records:Q", color=alt.condition(alt.datum.records > df["records"].max() / 2, alt.value("white"),
                                              alt.value("black")))
    return rect + text


def stacked(df: pd.DataFrame, by: str, title: str) -> alt.Chart:
    agg = df.groupby([by, "root_cause_category"], as_index=False)["records"].sum()
    return alt.Chart(agg, title=title).mark_bar().encode(
        x=alt.X("records:Q", title="Records"), y=alt.Y(f"{by}:N", title=None, sort="-x"),
        color=alt.Color("root_cause_category:N", title="Root-cause category", legend=alt.Legend(orient="bottom",
                                                                                               columns=2)),
        tooltip=[by, "root_cause_category", "records"])


def page(home: str) -> None:
    st.title("Explore the failure graph")
    snap = state.require_graph(home)
    with st.spinner("Querying the graph…"):
        frames = _frames(home, snap)
    m = frames["matrix"]
    st.metric("Labeled failure records", int(m["records"].sum()))
    st.altair_chart(heatmap(m, "root_cause_category", title="Symptom × root-cause category (the study's Table 2)"))
    sub = frames["subcategory"]
    if not sub.empty:
        sub = sub.groupby(["root_cause_subcategory", "symptom_category"], as_index=False)["records"].sum()
        st.altair_chart(heatmap(sub, "root_cause_subcategory", title="Symptom × root-cause sub-category"))
    left, right = st.columns(2)
    with left:
        if not frames["series"].empty:
            st.altair_chart(stacked(frames["series"], "series", "By model series (RQ4)"))
    with right:
        if not frames["stage"].empty:
            st.altair_chart(stacked(frames["stage"], "stage", "By stage (RQ5)"))
    if not frames["model"].empty:
        st.altair_chart(stacked(frames["model"], "model", "By model version (RQ6)"))
    with st.expander("The numbers"):
        st.dataframe(m.pivot(index="root_cause_category", columns="symptom_category", values="records"))
    st.caption("Reproduce with `failgraph stats` and `failgraph sparql by_series --format csv` (also by_stage, "
               "by_model, symptom_cause_subcategory).")


__all__ = ["heatmap", "matrix_frame", "named_frame", "page", "stacked"]
