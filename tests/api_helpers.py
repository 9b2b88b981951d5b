"""What the API, UI, fuzz and load tests share: the small knowledge base (built once per test session: the study's
records and a slice of the curated case base, so only ~100 texts are embedded), sample reports, a uvicorn server on
loopback and the check of an error response."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

# ---------------------------------------------------------------------------------------------- shared helpers
#: Cases every small home keeps (besides every 5th case), so the reports used by the UI tests have close neighbours.
KEEP_CASES = {"openrlhf/openrlhf#424", "meta-llama/llama#136"}
REPORT = """Loading Qwen2-7B-Instruct with transformers fails right away:

Traceback (most recent call last):
  File "chat.py", line 4, in <module>
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B-Instruct", device_map="auto")
  File ".../transformers/models/auto/configuration_auto.py", line 1039, in from_pretrained
    config_class = CONFIG_MAPPING[config_dict["model_type"]]
KeyError: 'qwen2'

transformers==4.36.2, torch==2.1.0, CUDA 12.1, one A100 80GB
"""
OOM_REPORT = ("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.69 GiB total capacity; "
              "21.9 GiB already allocated) while running LLaMA 7B example.py with max_batch_size 32 on an RTX 3090")

_SHARED: dict = {}
_LOCK = threading.Lock()


def small_home(tmp_path_factory, dataset_dir: Path):
    """A graph home with all labeled records and a slice of the case base (built once per session)."""
    with _LOCK:
        if "home" not in _SHARED:
            from failgraph.ingest.cases import load_cases
            from failgraph.ingest.dataset import load_dataset
            from failgraph.ingest.extract import error_signature
            from failgraph.kg.build import GraphInputs, build_graph
            from failgraph.kg.home import GraphHome

            records = load_dataset(dataset_dir).records
            cases = [c for i, c in enumerate(load_cases(None).cases) if i % 5 == 0 or c.key in KEEP_CASES]
            home = GraphHome(tmp_path_factory.mktemp("small-home"))
            build_graph(home, GraphInputs(records=records, cases=cases), validate=False,
                        signature_of=error_signature)
            _SHARED["home"] = home
        return _SHARED["home"]


def small_kb(tmp_path_factory, dataset_dir: Path):
    """The knowledge base of :func:`small_home` (its text index is saved in the snapshot for other processes)."""
    home = small_home(tmp_path_factory, dataset_dir)
    with _LOCK:
        if "kb" not in _SHARED:
            from failgraph.assistant.knowledge import KnowledgeBase
            _SHARED["kb"] = KnowledgeBase.from_home(home)
        return _SHARED["kb"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UvicornThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread (stopped on exit)."""

    def __init__(self, app):
        import uvicorn
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(15)


def assert_error(r, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    for w in words:
        assert w in body["detail"], body
    return body
