"""Step 2 — extract facts from the report with the ingest extractors, in the assistant's output shape."""

from __future__ import annotations

from ..ingest.extract import extract_environment
from ..ingest.extract.environment import EnvironmentFacts
from .models import ExtractedFacts, TriedFixAnswer


def extract_facts(text: str) -> ExtractedFacts:
    """The report's facts in the answer's shape."""
    return facts_of(extract_environment(text))


def facts_of(env: EnvironmentFacts) -> ExtractedFacts:
    """Facts already extracted (:func:`failgraph.ingest.extract.extract_environment`) in the answer's shape."""
    libs: dict[str, str] = {}
    for m in env.libraries:
        libs.setdefault(m.name, m.version)
    usage = env.usage
    return ExtractedFacts(libraries=libs, cuda=env.cuda, gpus=list(env.gpus), os=env.os,
                          frameworks=list(env.frameworks), models=list(env.models),
                          quantization=list(env.quantization),
                          errors=list(dict.fromkeys(e.signature for e in env.errors)),
                          device=usage.device, gpu_count=usage.gpu_count, launch=dict(usage.launch),
                          model_variant=usage.model_variant,
                          tried=[TriedFixAnswer(action=t.action, target=t.target, value=t.value) for t in usage.tried],
                          not_using=list(usage.not_using))


__all__ = ["extract_facts", "facts_of"]
