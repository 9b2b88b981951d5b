"""failgraph's Streamlit app: the troubleshooting chat, the graph explorer and a SPARQL page.

Start it with ``failgraph ui [--port P] [--home DIR]`` (or ``streamlit run ui/app.py -- --home DIR``). It reads only
through the ``assistant`` and ``kg`` public functions; the knowledge base loads once per process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from failgraph.ui.views import chat, environment, explore, sparql, state

#: The favicon, served by the app itself (an emoji or ``:material/…:`` icon would be fetched from a font CDN).
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
PAGES = {"Chat": chat.page, "Check my environment": environment.page, "Explore": explore.page, "SPARQL": sparql.page}


def main() -> None:
    st.set_page_config(page_title="failgraph", page_icon=str(ICON), layout="wide")
    home = state.home_from_argv(sys.argv[1:])
    with st.sidebar:
        st.header("failgraph")
        name = st.radio("Page", list(PAGES), key="fg_page")
        st.caption("Knowledge-graph troubleshooting for fine-tuning and serving open-source LLMs.")
    PAGES[name](home)


main()
