"""The pages of the Streamlit app (``ui/app.py``) and the pure helpers they render with.

``render`` holds plain functions (escaping, links, graph pictures) that are tested without
Streamlit; ``chat``, ``explore`` and ``sparql`` draw one page each; ``state`` loads the graph and the knowledge base
once per process.
"""
