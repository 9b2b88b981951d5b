"""Learning without a rebuild, measured: seconds to add one labeled issue to a published knowledge base of a given
size (``failgraph bench learn --size N``), and what opening the knowledge base with the learned issues costs.

A home is built from ``size`` synthetic case-like issues (text, labels, fixes) with its text index and persisted
models, as ``failgraph build`` makes it; then ``adds`` further synthetic issues are learned one at a time with
:func:`failgraph.kg.learn.learn` (the log, the thread's vector, the graph store, the snapshot's delta). The texts are
embedded by a hashing bag-of-words stand-in (the same for the build and the additions): MiniLM's embedding of one
thread (tens of milliseconds on a CPU, see ``failgraph bench e2e``) comes on top of the figures.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .measure import Machine, peak_rss_mib, scratch_dir, timed
from .synthetic import CasePool, default_distribution, synthetic_cases

DIM = 384


class HashingEmbedder:
    """Words hashed into :data:`DIM` buckets, L2-normalised: deterministic and fast, with some notion of similarity."""

    key = "bench-hashing-bow"
    dim = DIM

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for r, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9_]{3,}", t.lower()):
                out[r, int(hashlib.blake2b(w.encode(), digest_size=4).hexdigest(), 16) % DIM] += 1.0
            out[r, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class LearnBench(BaseModel):
    bench: str = "learn"
    size: int = Field(description="issues in the knowledge base before learning")
    adds: int
    build_s: float = Field(description="failgraph build of the base (graph, index, persisted corpus and models)")
    add_median_s: float = Field(description="seconds to learn one issue (log, vector, graph store, delta)")
    add_max_s: float
    open_base_s: float = Field(description="opening the knowledge base before learning (best of two)")
    open_learned_s: float = Field(description="opening it with the learned issues' delta applied (best of two)")
    apply_per_issue_s: float = Field(description="of which applying the delta, per learned issue (corpus, vectors, "
                                                 "BM25, models)")
    learned_found: bool = Field(description="the last learned issue is the first similar failure of its own text")
    index: str
    peak_rss_mib: float
    machine: Machine


def bench_learn(size: int, *, adds: int = 5, seed: int = 0, workdir: Path | None = None, keep: bool = False,
                dataset: Path | None = None, progress: Callable[[str], None] | None = None) -> LearnBench:
    from ..assistant.diagnose import similar
    from ..assistant.knowledge import KnowledgeBase
    from ..ingest.cases import load_cases
    from ..ingest.learned import LearnedFailure
    from ..kg.build import GraphInputs, build_graph
    from ..kg.home import GraphHome
    from ..kg.learn import learn

    say = progress or (lambda _m: None)
    pool = CasePool(load_cases().cases, default_distribution(dataset))
    emb = HashingEmbedder()
    with scratch_dir(workdir, keep) as d:
        home = GraphHome(d / "home")
        say(f"building a knowledge base of {size:,} synthetic issues (graph, text index, models)")
        cases = list(synthetic_cases(size + adds, seed, pool))
        base, extra = cases[:size], cases[size:]

        def build():
            build_graph(home, GraphInputs(records=[], cases=base), embedder=emb, validate=False)
            return KnowledgeBase.from_home(home, emb)  # persists the corpus and the trained models

        build_s, kb = timed(build)
        index = kb.index.vectors.describe()
        del kb
        open_base_s = min(timed(KnowledgeBase.from_home, home, emb)[0] for _ in range(2))
        say(f"learning {adds} issues one at a time")
        times = []
        for c in extra:
            item = LearnedFailure(url=f"https://github.com/learned/bench/issues/{len(times) + 1}", title=c.title,
                                  text=c.report, root_cause=c.root_cause, symptom=c.symptom, fix=c.fix,
                                  source="github/learned/bench", labeler="bench")
            secs, _ = timed(learn, home, [item], embedder=emb)
            times.append(secs)
            say(f"  learned one issue in {secs:.3f} s")
        opened = [timed(KnowledgeBase.from_home, home, emb) for _ in range(2)]
        open_learned_s = min(s for s, _ in opened)
        kb = opened[-1][1]
        apply_s = min(k.learned_apply_s for _, k in opened)
        del opened
        last = extra[-1]
        hits = similar(kb, f"{last.title}\n\n{last.report}", k=1)
        found = bool(hits) and hits[0].url == f"https://github.com/learned/bench/issues/{adds}"
    return LearnBench(size=size, adds=adds, build_s=round(build_s, 2), add_median_s=round(statistics.median(times), 4),
                      add_max_s=round(max(times), 4), open_base_s=round(open_base_s, 2),
                      open_learned_s=round(open_learned_s, 2),
                      apply_per_issue_s=round(apply_s / adds, 4),
                      learned_found=found, index=index, peak_rss_mib=round(peak_rss_mib(), 1), machine=Machine.now())


__all__ = ["HashingEmbedder", "LearnBench", "bench_learn"]
