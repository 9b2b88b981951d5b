import shutil
from pathlib import Path

import pytest

#: The ``home`` and ``kb`` fixtures that the API, UI, fuzz and load tests share (a module may define its own instead).
pytest_plugins = ["api_fixtures"]

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "data" / "open-llm-failures"


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    if not DATASET.is_dir():
        pytest.fail(f"the shared dataset is missing at {DATASET}; tests expect ../shared beside the checkout")
    return DATASET


@pytest.fixture
def dataset_slice(tmp_path, dataset_dir) -> Path:
    """A small real slice of the dataset, with the stray-space folder names of the published archive."""
    root = tmp_path / "slice"
    for rel, dest in [("DeepSeek/V2/DeepSeek-V2.json", "DeepSeek/V2 /DeepSeek-V2.json"),
                      ("DeepSeek/MoE/DeepSeek-MoE.json", "DeepSeek/MoE /DeepSeek-MoE.json"),
                      ("QwenLM/Qwen2.5-Math/Qwen2dot5-Math.json", "QwenLM/Qwen2.5-Math/Qwen2dot5-Math.json")]:
        (root / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(dataset_dir / rel, root / dest)
    return root


@pytest.fixture(scope="session")
def full_records(dataset_dir):
    from failgraph.ingest.dataset import load_dataset
    loaded = load_dataset(dataset_dir)
    assert not loaded.problems
    return loaded.records


@pytest.fixture(scope="session")
def built_home(tmp_path_factory, full_records):
    from failgraph.kg.build import build_graph
    from failgraph.kg.home import GraphHome
    home = GraphHome(tmp_path_factory.mktemp("home"))
    build_graph(home, full_records)
    return home


@pytest.fixture(scope="session")
def small_kb(tmp_path_factory, full_records):
    """A knowledge base over the whole labeled dataset and a real slice of the case base (the real MiniLM model)."""
    from failgraph.assistant.knowledge import KnowledgeBase
    from failgraph.ingest.cases import load_cases
    from failgraph.kg.build import GraphInputs, build_graph
    from failgraph.kg.home import GraphHome
    cases = load_cases().cases
    picked = cases[::5]  # every fifth case: ~100 real cases across all repositories
    home = GraphHome(tmp_path_factory.mktemp("kbhome"))
    build_graph(home, GraphInputs(records=full_records, cases=picked))
    return KnowledgeBase.from_home(home)
