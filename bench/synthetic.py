"""Seeded, streaming generators of realistic synthetic failgraph inputs of any size (benchmarks at 10k … 1M).

Three kinds of data, each derived from the real data failgraph ships with:

* **failure records** (:func:`synthetic_records`): :class:`~failgraph.ingest.records.FailureRecord` objects whose
  (symptom, root cause, stage, model, architecture, repository, status) tuples are drawn from the empirical joint
  distribution of the labeled dataset (:class:`LabelDistribution`), attributed to the dataset so that the study's
  named queries count them;
* **case-like documents** (:func:`synthetic_cases`): :class:`~failgraph.ingest.cases.Case` objects whose report,
  title, error lines, environment and fix are recombined from the curated case base — a primary case chosen so that
  root causes follow the dataset's distribution, library versions and model names swapped for others seen in the case
  base, sentences dropped, a sentence and sometimes an error line borrowed from a donor case with the same root
  cause, an environment line and phrasing added — so that near-duplicates are not trivial;
* **vectors** (:func:`synthetic_vectors`, :func:`document_vectors`): unit vectors near real MiniLM vectors of the
  case base (or of random centres), mixed with the donor's vector like the text is, plus noise along a few
  per-case directions and a little isotropic noise, so that the data has the low intrinsic dimension of real
  sentence embeddings rather than the worst case of isotropic Gaussian clusters.

Everything streams in chunks of :data:`CHUNK` items, each chunk drawn from its own seeded generator: memory stays
constant whatever ``n``, the first ``k`` items are the same for every ``n >= k``, and the same seed gives the same
output. Synthetic issues carry numbers from :data:`RECORD_NUMBER_BASE` / :data:`CASE_NUMBER_BASE` up, so they never
collide with real issues of the same repositories.

>>> recs = list(synthetic_records(3, seed=1))
>>> len(recs), recs[0].provenance.labeler
(3, 'dataset')
>>> [r.issue.url for r in recs] == [r.issue.url for r in synthetic_records(3, seed=1)]
True
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..ingest.cases import Case, Environment, LibraryFact, load_cases
from ..ingest.records import FailureRecord, IssueRef, Provenance

#: Items per independently seeded chunk.
CHUNK = 10_000
#: Synthetic failure records use issue numbers from here up (no real repository has that many issues).
RECORD_NUMBER_BASE = 10_000_000
#: Synthetic case-like documents use issue numbers from here up.
CASE_NUMBER_BASE = 50_000_000

_FIELDS = ("symptom", "root_cause", "stage", "model", "architecture", "repository", "status")


def seeded_rng(seed: int, stream: str, chunk: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{stream}:{chunk}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _pyrng(seed: int, stream: str, chunk: int) -> random.Random:
    return random.Random(f"failgraph-synthetic:{seed}:{stream}:{chunk}")


# ------------------------------------------------------------------------------------------------------ labels
@dataclass(frozen=True)
class LabelTuple:
    """One combination of labels as it occurs in the labeled data."""

    symptom: str
    root_cause: str
    stage: str
    model: str
    architecture: str | None
    repository: str
    status: str | None


class LabelDistribution:
    """The empirical joint distribution of the labeled records' label tuples."""

    def __init__(self, counts: Counter, source: str = "records"):
        if not counts:
            raise ValueError("an empty label distribution")
        self.source = source
        self.tuples: list[LabelTuple] = sorted(counts, key=lambda t: tuple(str(getattr(t, f)) for f in _FIELDS))
        w = np.array([counts[t] for t in self.tuples], dtype=np.float64)
        self.total = int(w.sum())
        self.p = w / w.sum()

    @classmethod
    def from_records(cls, records: Iterable[FailureRecord], source: str = "records") -> LabelDistribution:
        return cls(Counter(LabelTuple(r.symptom, r.root_cause, r.stage, r.model, r.architecture, r.issue.repository,
                                      r.issue.status) for r in records), source)

    @classmethod
    def from_cases(cls, cases: Iterable[Case]) -> LabelDistribution:
        """A fallback when the dataset is not at hand: the curated case base's labels."""
        from ..ontology import load_vocabulary

        vocab = load_vocabulary()
        repo = {"Qwen": "QwenLM/Qwen2.5", "Llama": "meta-llama/llama3", "DeepSeek": "deepseek-ai/DeepSeek-V3"}
        counts = Counter()
        for c in cases:
            series = vocab.series_for_model(c.model, c.repository)
            if series is None or series.label not in repo:
                continue
            counts[LabelTuple(c.symptom, c.root_cause, c.stage, c.model, None, repo[series.label], "closed")] += 1
        return cls(counts, "case base")

    @classmethod
    def load(cls, dataset: str | Path | None = None) -> LabelDistribution:
        """From the labeled dataset (``dataset``, ``$FAILGRAPH_DATASET`` or the cached download)."""
        from ..ingest.dataset import load_dataset

        return cls.from_records(load_dataset(dataset).records, "dataset")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices into :attr:`tuples`, drawn with the empirical probabilities."""
        return rng.choice(len(self.tuples), size=n, p=self.p)

    def marginal(self, field: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for t, p in zip(self.tuples, self.p, strict=True):
            out[getattr(t, field)] += float(p)
        return dict(out)


def _local_dataset() -> Path | None:
    """The dataset without any download: ``$FAILGRAPH_DATASET``, else an already cached download."""
    import os

    from platformdirs import user_cache_dir

    from ..ingest.dataset import DATASET_ENV

    if os.environ.get(DATASET_ENV):
        return Path(os.environ[DATASET_ENV])
    cached = Path(user_cache_dir("failgraph")) / "open-llm-failures"
    return cached if cached.is_dir() else None


@cache
def _default_distribution(dataset: str | None) -> LabelDistribution:
    path = Path(dataset) if dataset else _local_dataset()
    if path is not None:
        return LabelDistribution.load(path)
    # no dataset at hand (and no download from a benchmark): the case base's labels
    return LabelDistribution.from_cases(load_cases().cases)


def default_distribution(dataset: str | Path | None = None) -> LabelDistribution:
    """The labeled dataset's distribution (``dataset``, else ``$FAILGRAPH_DATASET``, else a cached download; loaded
    once per path); with none of them at hand, the case base's labels (``.source`` says which)."""
    return _default_distribution(str(dataset) if dataset else None)


def synthetic_records(n: int, seed: int = 0, dist: LabelDistribution | None = None,
                      source_prefix: str | None = None) -> Iterator[FailureRecord]:
    """``n`` labeled failure records with labels from ``dist`` (default: the dataset's), streamed."""
    dist = dist or default_distribution()
    prefix = source_prefix or f"synthetic/seed-{seed}"
    tuples = dist.tuples
    per_source: Counter = Counter()
    i = 0
    for chunk in range((n + CHUNK - 1) // CHUNK):
        picks = dist.sample(seeded_rng(seed, "records", chunk), CHUNK)
        for k in range(min(CHUNK, n - chunk * CHUNK)):
            t = tuples[picks[k]]
            number = RECORD_NUMBER_BASE + i
            url = f"https://github.com/{t.repository}/issues/{number}"
            issue = IssueRef.model_construct(url=url, repository=t.repository, number=number, status=t.status)
            source = f"{prefix}/{t.repository}.json"  # one source file per repository, like the dataset
            index = per_source[source]
            per_source[source] += 1
            prov = Provenance.model_construct(source=source, kind="dataset", labeler="dataset", index=index)
            yield FailureRecord.model_construct(issue=issue, symptom=t.symptom, root_cause=t.root_cause,
                                                stage=t.stage, model=t.model, architecture=t.architecture,
                                                record_number=i + 1, provenance=prov)
            i += 1


# ------------------------------------------------------------------------------------------------ case texts
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`'\"])")
_CODEISH = re.compile(r"^\s|Traceback|File \"|Error|Exception|^\$|^>>>|\w\(|=|`")


def _segments(report: str, error_lines: list[str]) -> tuple[list[tuple[str, bool]], set[int]]:
    """Sentences of prose lines and whole code/error lines, each with whether a line break follows it, and the
    positions of the segments that hold an error line."""
    segs: list[tuple[str, bool]] = []
    required: set[int] = set()
    for line in report.split("\n"):
        if not line.strip():
            continue
        if any(e in line for e in error_lines) or (_CODEISH.search(line) and len(line) < 400 and ". " not in line):
            if any(e in line for e in error_lines):
                required.add(len(segs))
            segs.append((line, True))
            continue
        parts = [p for p in _SENTENCE.split(line) if p.strip()]
        for k, p in enumerate(parts):
            segs.append((p, k == len(parts) - 1))
    return segs, required

OPENERS = ("", "", "", "Hi, ", "Hello team, ", "Bug report: ", "Not sure if this is a bug, but ", "Question: ",
           "After upgrading, ", "On a fresh environment, ", "Reproducible every time: ")
CLOSERS = ("", "", "", "Any idea what causes this?", "Any help is appreciated.", "Is this a known issue?",
           "The same setup worked last week.", "Happy to provide more logs.", "It happens with every prompt I tried.",
           "Downgrading did not help.", "Full log attached below.", "Thanks in advance!")
TITLE_PREFIXES = ("", "", "", "[Bug] ", "[Question] ", "Help: ", "[Usage] ")


@dataclass(frozen=True)
class _CaseParts:
    case: Case
    segments: tuple[tuple[str, bool], ...]  # (text, line break after)
    required: frozenset[int]  # segments holding an error line: never dropped


@dataclass
class SyntheticDocument:
    """A generated case and where its text came from (used to derive a consistent vector)."""

    case: Case
    primary: int
    donor: int
    mix: float


class CasePool:
    """The case base, split into reusable parts: segments, library versions, model names, donors by root cause."""

    def __init__(self, cases: list[Case], dist: LabelDistribution | None = None):
        if not cases:
            raise ValueError("an empty case base")
        from ..ontology import load_vocabulary

        self.cases = cases
        self.parts: list[_CaseParts] = []
        for c in cases:
            segs, req = _segments(c.report, c.error_lines)
            self.parts.append(_CaseParts(c, tuple(segs), frozenset(req)))
        self.versions: dict[str, list[str]] = defaultdict(list)
        for c in cases:
            for lib in c.environment.libraries:
                if lib.version not in self.versions[lib.name]:
                    self.versions[lib.name].append(lib.version)
        self.gpus = sorted({c.environment.gpu for c in cases if c.environment.gpu})
        self.cudas = sorted({c.environment.cuda for c in cases if c.environment.cuda})
        vocab = load_vocabulary()
        self.models_by_series: dict[str, list[str]] = defaultdict(list)
        self._series_of: dict[str, str] = {}
        for c in cases:
            s = vocab.series_for_model(c.model, c.repository)
            key = s.label if s else "other"
            self._series_of[c.model] = key
            if c.model not in self.models_by_series[key]:
                self.models_by_series[key].append(c.model)
        self.by_cause: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(cases):
            self.by_cause[c.root_cause].append(i)
        # primary cases weighted so that generated root causes follow the dataset's distribution
        dist = dist or default_distribution()
        rc = dist.marginal("root_cause")
        floor = 0.2 / max(1, len(self.by_cause))
        w = np.array([(rc.get(c.root_cause, 0.0) + floor) / len(self.by_cause[c.root_cause]) for c in cases])
        self.weights = w / w.sum()

    @classmethod
    @cache
    def default(cls) -> CasePool:
        return cls(load_cases().cases)

    def _swap_versions(self, text: str, rng: random.Random, libs: list[LibraryFact]) -> tuple[str, list[LibraryFact]]:
        out = []
        for lib in libs:
            alts = self.versions.get(lib.name, [])
            if len(alts) > 1 and len(lib.version) >= 3 and rng.random() < 0.6:
                new = rng.choice(alts)
                if new != lib.version:
                    text = re.sub(rf"(?<![\w.]){re.escape(lib.version)}(?![\w])", new, text)
                    out.append(LibraryFact.model_construct(name=lib.name, version=new))
                    continue
            out.append(lib)
        return text, out

    def document(self, rng: random.Random, primary: int, number: int) -> SyntheticDocument:
        """One case-like document built around case ``primary``."""
        p = self.parts[primary]
        c = p.case
        donors = self.by_cause[c.root_cause]
        donor = rng.choice(donors) if len(donors) > 1 else primary
        if donor == primary and len(donors) > 1:
            donor = donors[(donors.index(primary) + 1) % len(donors)]
        d = self.parts[donor]
        segs = list(p.segments)
        # drop up to two non-essential sentences
        for _ in range(2):
            optional = [i for i in range(len(segs)) if i not in p.required and segs[i][0]]
            if len(optional) > 1 and rng.random() < 0.35:
                i = rng.choice(optional)
                segs[i] = ("", segs[i][1])
        mix = 0.0
        borrowed: list[str] = []
        if d is not p and rng.random() < 0.7:
            extra = [s for i, s in enumerate(d.segments) if i not in d.required] or list(d.segments)
            segs.insert(rng.randint(0, len(segs)), (rng.choice(extra)[0], True))
            mix = 0.15 + 0.25 * rng.random()
            if d.case.error_lines and rng.random() < 0.25:
                line = rng.choice(d.case.error_lines)
                segs.append((line, True))
                borrowed.append(line)
                mix += 0.1
        env_bits = []
        if rng.random() < 0.5:
            lib = rng.choice(("torch", "transformers", "vllm", "peft", "accelerate", "deepspeed"))
            if self.versions.get(lib):
                env_bits.append(f"{lib} {rng.choice(self.versions[lib])}")
            if self.cudas and rng.random() < 0.5:
                env_bits.append(f"CUDA {rng.choice(self.cudas)}")
            if self.gpus and rng.random() < 0.5:
                env_bits.append(f"GPU: {rng.choice(self.gpus)}")
        body = "".join(t + ("\n" if br else " ") for t, br in segs if t).strip()
        opener, closer = rng.choice(OPENERS), rng.choice(CLOSERS)
        text = opener + body
        if env_bits:
            text += "\nEnvironment: " + ", ".join(env_bits) + "."
        if closer:
            text += "\n" + closer
        libs = list(c.environment.libraries)
        text, libs = self._swap_versions(text, rng, libs)
        title, fix = c.title, c.fix
        model = c.model
        same = self.models_by_series.get(self._series_of.get(c.model, "other"), [])
        if len(same) > 1 and rng.random() < 0.4 and len(c.model) >= 4:
            new = rng.choice(same)
            if new != c.model:
                text, title = text.replace(c.model, new), title.replace(c.model, new)
                fix = fix.replace(c.model, new) if fix else fix
                model = new
        for old, new in zip(c.environment.libraries, libs, strict=True):
            if old.version != new.version:
                title = title.replace(old.version, new.version)
        title = (rng.choice(TITLE_PREFIXES) + title)[:160]
        errors = [line for line in [*c.error_lines, *borrowed] if line in text]
        env = Environment.model_construct(libraries=libs, cuda=c.environment.cuda, gpu=c.environment.gpu,
                                          os=c.environment.os, python=c.environment.python,
                                          framework=c.environment.framework)
        url = f"https://github.com/{c.repository}/issues/{number}"
        case = Case.model_construct(source_url=url, repository=c.repository, title=title, summary=c.summary,
                                    report=text, error_lines=errors, environment=env, model=model, stage=c.stage,
                                    symptom=c.symptom, root_cause=c.root_cause, labeler="failgraph-curator",
                                    fix=fix, fix_confirmed=c.fix_confirmed)
        return SyntheticDocument(case=case, primary=primary, donor=donor, mix=mix)

    def sample_primaries(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.cases), size=n, p=self.weights)


def synthetic_documents(n: int, seed: int = 0, pool: CasePool | None = None) -> Iterator[SyntheticDocument]:
    """``n`` case-like documents with their provenance (primary case, donor, mix), streamed."""
    pool = pool or CasePool.default()
    i = 0
    for chunk in range((n + CHUNK - 1) // CHUNK):
        primaries = pool.sample_primaries(seeded_rng(seed, "cases", chunk), CHUNK)
        rng = _pyrng(seed, "cases", chunk)
        for k in range(min(CHUNK, n - chunk * CHUNK)):
            yield pool.document(rng, int(primaries[k]), CASE_NUMBER_BASE + i)
            i += 1


def synthetic_cases(n: int, seed: int = 0, pool: CasePool | None = None) -> Iterator[Case]:
    """``n`` case-like documents (curator-labeled :class:`Case` objects), streamed."""
    for d in synthetic_documents(n, seed, pool):
        yield d.case


# ---------------------------------------------------------------------------------------------------- vectors
@dataclass
class VectorModel:
    """Per-case centres (unit vectors) and per-case noise directions; the recipe for synthetic vectors."""

    centres: np.ndarray  # (cases, dim), unit rows
    directions: np.ndarray  # (cases, rank, dim)
    weights: np.ndarray  # probability of each centre being a primary
    donors: list[np.ndarray]  # candidate donors per centre
    spread: float = 0.45  # norm of the low-rank noise relative to the centre
    isotropic: float = 0.08  # norm of the isotropic noise
    name: str = "gaussian"

    @classmethod
    def build(cls, centres: np.ndarray, *, weights: np.ndarray | None = None,
              donors: list[np.ndarray] | None = None, rank: int = 12, seed: int = 0, spread: float = 0.45,
              isotropic: float = 0.08, name: str = "cases") -> VectorModel:
        centres = np.asarray(centres, dtype=np.float32)
        centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        k, dim = centres.shape
        rng = seeded_rng(seed, "directions", 0)
        dirs = rng.standard_normal((k, rank, dim)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=2, keepdims=True)
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
        if donors is None:
            donors = [np.array([(i + 1) % k, (i + 7) % k]) for i in range(k)]
        return cls(centres, dirs, w, donors, spread, isotropic, name)

    @classmethod
    def gaussian(cls, clusters: int = 640, dim: int = 384, seed: int = 0, **kw) -> VectorModel:
        """Random centres (no model needed): for tests and when the embedding model is not installed."""
        rng = seeded_rng(seed, "centres", 0)
        return cls.build(rng.standard_normal((clusters, dim)).astype(np.float32), seed=seed, name="gaussian", **kw)

    @classmethod
    def from_cases(cls, vectors: np.ndarray, pool: CasePool, seed: int = 0, **kw) -> VectorModel:
        """Centred on real embeddings of the case base (one row per ``pool.cases``), donors by root cause."""
        donors = [np.array(pool.by_cause[c.root_cause]) for c in pool.cases]
        return cls.build(vectors, weights=pool.weights, donors=donors, seed=seed, name="cases", **kw)

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    def make(self, rng: np.random.Generator, primary: np.ndarray, donor: np.ndarray, mix: np.ndarray) -> np.ndarray:
        """Unit vectors for the given primaries, donors and donor weights."""
        n = len(primary)
        rank = self.directions.shape[1]
        z = rng.standard_normal((n, rank)).astype(np.float32) / np.sqrt(rank)
        v = self.centres[primary] + mix[:, None].astype(np.float32) * self.centres[donor]
        v += self.spread * np.einsum("nr,nrd->nd", z, self.directions[primary])
        v += (self.isotropic / np.sqrt(self.dim)) * rng.standard_normal((n, self.dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        primary = rng.choice(len(self.centres), size=n, p=self.weights)
        donor = np.array([self.donors[p][rng.integers(len(self.donors[p]))] for p in primary])
        mix = np.where(rng.random(n) < 0.7, 0.15 + 0.25 * rng.random(n), 0.0)
        return self.make(rng, primary, donor, mix)


def synthetic_vectors(n: int, seed: int = 0, model: VectorModel | None = None,
                      chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """``n`` unit vectors in chunks of ``chunk`` rows (float32), streamed; ``model`` defaults to Gaussian centres."""
    model = model or VectorModel.gaussian()
    done = 0
    c = 0
    while done < n:
        rows = min(chunk, n - done)
        yield model.sample(seeded_rng(seed, f"vectors-{chunk}", c), chunk)[:rows]
        done += rows
        c += 1


def vector_matrix(n: int, seed: int = 0, model: VectorModel | None = None) -> np.ndarray:
    """All ``n`` synthetic vectors as one (n, dim) float32 array."""
    model = model or VectorModel.gaussian()
    out = np.empty((n, model.dim), dtype=np.float32)
    pos = 0
    for block in synthetic_vectors(n, seed, model):
        out[pos:pos + len(block)] = block
        pos += len(block)
    return out


def document_vectors(docs: list[SyntheticDocument], model: VectorModel, seed: int = 0, offset: int = 0) -> np.ndarray:
    """Vectors consistent with the documents' text: near the primary case, mixed with the donor like the text is."""
    rng = seeded_rng(seed, "document-vectors", offset)
    primary = np.array([d.primary for d in docs])
    donor = np.array([d.donor for d in docs])
    mix = np.array([d.mix for d in docs], dtype=np.float32)
    return model.make(rng, primary, donor, mix)


def case_base_vectors(pool: CasePool | None = None, embedder=None, cache_dir: Path | None = None) -> np.ndarray:
    """MiniLM vectors of the case base's texts (title + report), cached on disk by content."""
    from platformdirs import user_cache_dir

    from ..kg.embed import MODEL_ID, Embedder

    pool = pool or CasePool.default()
    texts = [f"{c.title}\n{c.report}" for c in pool.cases]
    h = hashlib.sha256(MODEL_ID.encode())
    for t in texts:
        h.update(t.encode("utf-8") + b"\x00")
    cache_dir = Path(cache_dir or user_cache_dir("failgraph")) / "bench"
    path = cache_dir / f"case-vectors-{h.hexdigest()[:16]}.npy"
    if path.is_file():
        return np.load(path)
    vecs = (embedder or Embedder()).encode(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vecs)
        tmp.replace(path)
    except OSError:
        pass
    return vecs


__all__ = [
    "CASE_NUMBER_BASE",
    "CHUNK",
    "RECORD_NUMBER_BASE",
    "CasePool",
    "LabelDistribution",
    "LabelTuple",
    "SyntheticDocument",
    "VectorModel",
    "case_base_vectors",
    "default_distribution",
    "document_vectors",
    "synthetic_cases",
    "synthetic_documents",
    "synthetic_records",
    "synthetic_vectors",
    "vector_matrix",
]
