"""Structured fixes: the action vocabulary of ``fix_actions.ttl`` and the shape every fix takes in data files
(cases, compatibility rules, error knowledge, playbook) and in answers.

A fix is an *action* (upgrade, set-parameter, …) on a *target* (a library, a parameter, a file, a component…) with
an optional *value* (a version bound, a setting), and *where it applies* (model families, frameworks, stage,
hardware). Two fixes are the same remedy when their :attr:`FixSpec.key` — action and normalised target — agree.

>>> spec = FixSpec(action="set-parameter", target="--Tensor-Parallel-Size", target_kind="parameter", value="2")
>>> spec.key
('set-parameter', 'tensor_parallel_size')
>>> FixSpec(action="change-dtype", target="torch_dtype", target_kind="parameter", value="bfloat16").target
'dtype'
>>> FixSpec(action="upgrade", target="Auto_GPTQ", target_kind="library", value=">=0.7").target
'auto-gptq'
>>> FixSpec(action="upgrade", target="transformers", target_kind="library", value=">=4.37").satisfied_by("4.40.1")
True
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rdflib.namespace import RDF, SKOS

from .files import ontology_view, read_yaml
from .namespaces import FG
from .vocabulary import Term, UnknownTerm, load_vocabulary

TargetKind = Literal["library", "parameter", "file", "component", "model", "hardware", "code", "none"]
"""What a fix acts on: a package (PyPI name), an argument/flag/config field/environment variable, a file of the
model (config.json, tokenizer_config.json…), a component of the stack (chat_template, attention backend, driver…),
the model or checkpoint itself, the hardware or platform, the user's code, or nothing in particular."""


class FixAction(Term):
    """One action of the fix vocabulary; ``name`` is its skos:notation."""

    name: str
    definition: str = ""


@cache
def fix_actions() -> dict[str, FixAction]:
    """The actions of ``fg:FixActionScheme`` by notation, in file order of their notation."""
    g = ontology_view()
    out: dict[str, FixAction] = {}
    for c in g.subjects(SKOS.inScheme, FG.FixActionScheme):
        if (c, RDF.type, SKOS.Concept) not in g:
            continue
        out[str(g.value(c, SKOS.notation))] = FixAction(
            iri=str(c), name=str(g.value(c, SKOS.notation)), label=str(g.value(c, SKOS.prefLabel)),
            definition=str(g.value(c, SKOS.definition) or ""))
    return dict(sorted(out.items()))


def fix_action(name: str) -> FixAction:
    """The action whose notation is ``name`` (case-insensitive, ``_`` read as ``-``)."""
    key = name.strip().casefold().replace("_", "-")
    try:
        return fix_actions()[key]
    except KeyError:
        raise UnknownTerm(f"{name!r} is not a fix action (known: {', '.join(fix_actions())})") from None


def normalise_target(target: str, kind: TargetKind) -> str:
    """The canonical spelling of a target, so that two spellings of one remedy compare equal: PyPI names for
    libraries (``Auto_GPTQ`` → ``auto-gptq``), ``snake_case`` without leading dashes for parameters
    (``--max-model-len`` → ``max_model_len``), lower case for everything else."""
    t = target.strip()
    if kind == "library":
        return canonicalize_name(t)
    spaced = r"[\s-]+" if kind == "parameter" else r"\s+"
    t = re.sub(spaced, "_" if kind == "parameter" else " ", t.lstrip("-") if kind == "parameter" else t).casefold()
    return target_aliases().get(kind, {}).get(t, t)


@cache
def target_aliases() -> dict[str, dict[str, str]]:
    """Target kind → spelling → canonical spelling (``fix_targets.yaml``)."""
    raw = read_yaml("fix_targets.yaml") or {}
    return {kind: {str(k).casefold(): str(v).casefold() for k, v in table.items()} for kind, table in raw.items()}


class Applicability(BaseModel):
    """Where a fix applies; an empty field means "anywhere"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_families: list[str] = Field(default_factory=list, description="Model series labels (Qwen, Llama, DeepSeek)")
    frameworks: list[str] = Field(default_factory=list, description="vllm, transformers, llama.cpp, … (lower case)")
    stage: str | None = Field(None, description="A stage label of the vocabulary (Inference, Fine-tuning)")
    hardware: str | None = Field(None, description="A case-insensitive regular expression on the GPU/platform")

    @field_validator("model_families")
    @classmethod
    def _families(cls, v: list[str]) -> list[str]:
        known = {t.label.casefold(): t.label for t in load_vocabulary().series_by_owner.values()}
        out = []
        for name in v:
            if name.casefold() not in known:
                raise ValueError(f"{name!r} is not a model series (known: {', '.join(sorted(known.values()))})")
            out.append(known[name.casefold()])
        return out

    @field_validator("frameworks")
    @classmethod
    def _frameworks(cls, v: list[str]) -> list[str]:
        return [f.strip().casefold() for f in v]

    @field_validator("stage")
    @classmethod
    def _stage(cls, v: str | None) -> str | None:
        return None if v is None else load_vocabulary().stage(v).label

    @field_validator("hardware")
    @classmethod
    def _hardware(cls, v: str | None) -> str | None:
        if v is not None:
            re.compile(v, re.IGNORECASE)
        return v


class FixSpec(BaseModel):
    """One structured fix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(description="A notation of fg:FixActionScheme")
    target: str = Field("", description="What the fix acts on, normalised (see normalise_target); '' for none")
    target_kind: TargetKind = "none"
    value: str | None = Field(None, description="A version bound (PEP 440 specifier) or the setting to use")
    applies_to: Applicability = Field(default_factory=Applicability)
    generic: bool = Field(False, description="A general step (check versions, read the logs) rather than a remedy")

    @field_validator("action")
    @classmethod
    def _action(cls, v: str) -> str:
        return fix_action(v).name

    @model_validator(mode="after")
    def _normalised(self) -> FixSpec:
        if self.target_kind == "none" and self.target:
            raise ValueError("a fix with a target needs its target_kind")
        if self.target_kind != "none" and not self.target.strip():
            raise ValueError(f"target_kind {self.target_kind!r} needs a target")
        object.__setattr__(self, "target", normalise_target(self.target, self.target_kind) if self.target else "")
        if self.value is not None and self.action in VERSION_ACTIONS and self.target_kind == "library":
            try:
                SpecifierSet(self.value)
            except InvalidSpecifier:
                raise ValueError(f"value {self.value!r} of a {self.action} is not a version bound such as '>=4.37'"
                                 ) from None
        return self

    @property
    def key(self) -> tuple[str, str]:
        """Action and normalised target: what fix@k compares."""
        return (self.action, self.target)

    def satisfied_by(self, installed: str | None) -> bool:
        """True when an upgrade/downgrade/wait-for-release bound is already met by the ``installed`` version, so the
        fix would change nothing; False when unknown."""
        if not installed or self.value is None or self.action not in VERSION_ACTIONS:
            return False
        try:
            return Version(installed.split("+")[0]) in SpecifierSet(self.value, prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return False

    def fixed_in(self) -> str | None:
        """The lowest version a version bound names (``>=4.37.0`` → ``4.37.0``): the release the fix shipped in."""
        if self.value is None or self.action not in ("upgrade", "wait-for-fix-release"):
            return None
        m = re.search(r"(?:>=|==|~=|>)\s*([0-9][0-9A-Za-z.+!-]*)", self.value)
        return m.group(1) if m else None


def remedy_label(key: tuple[str, str]) -> str:
    """A remedy (action, target) as one label string, ``action|target``, e.g. for a text classifier."""
    return f"{key[0]}|{key[1]}"


VERSION_ACTIONS = frozenset({"upgrade", "downgrade", "wait-for-fix-release"})

__all__ = ["VERSION_ACTIONS", "Applicability", "FixAction", "FixSpec", "TargetKind", "fix_action", "fix_actions",
           "normalise_target", "remedy_label", "target_aliases"]
