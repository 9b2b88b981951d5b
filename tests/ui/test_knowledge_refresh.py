"""The server's knowledge base reloads in the background after the bot learned a past failure."""

from failgraph.ui.httpapi.knowledge import LazyKnowledgeBase


def test_refresh_swaps_in_a_new_knowledge_base_and_keeps_the_old_on_failure():
    made = []

    def factory():
        if len(made) == 2:
            raise OSError("the graph could not be read")
        made.append(object())
        return made[-1]

    lazy = LazyKnowledgeBase(factory)
    assert lazy.refresh() is None  # nothing loaded yet: the first use loads the current graph
    first = lazy.get()
    lazy.refresh().join(5)
    second = lazy.get()
    assert second is not first and second is made[1]
    lazy.refresh().join(5)  # fails: the loaded one keeps answering
    assert lazy.get() is second and lazy.state == "loaded"


def test_a_new_version_of_the_graph_is_loaded_in_the_background():
    import time

    version = [0]
    made = []

    def factory():
        made.append(object())
        return made[-1]

    lazy = LazyKnowledgeBase(factory, version=lambda: version[0])
    lazy.VERSION_EVERY_S = 0.0
    first = lazy.get()
    assert lazy.get() is first and len(made) == 1  # unchanged: not loaded again
    version[0] = 1  # e.g. `failgraph ingest jsonl` learned a past failure in another process
    lazy.get()
    deadline = time.monotonic() + 5
    while lazy.get() is first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lazy.get() is made[1] and len(made) == 2
