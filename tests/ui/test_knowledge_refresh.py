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
