"""The facts that the extraction layer pulls out of an issue text or a pasted report.

All models are frozen: a fact is a value, two equal facts are interchangeable. ``raw`` always keeps the text the fact
was read from, verbatim, so that a UI can highlight it and a reviewer can check it.

>>> e = ErrorSignature(exception_type="KeyError", message="'qwen2'", signature="KeyError: 'qwen2'",
...                    raw="KeyError: 'qwen2'")
>>> e.id
'0ed6c24ace95'
>>> LibraryMention(name="torch", version="2.1.0+cu118", raw="torch 2.1.0+cu118").name
'torch'
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class LibraryMention(BaseModel):
    """A library named together with a version, e.g. ``transformers==4.31.0`` or ``PyTorch version: 2.7.0+cu126``."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Lower-case PyPI name")
    version: str = Field(min_length=1, description="The version as written, less a leading 'v'")
    raw: str = Field(description="The text the mention was read from")


class ErrorSignature(BaseModel):
    """One error (or important warning) line, with a machine-independent signature.

    ``signature`` masks what differs between two machines hitting the same failure (paths, numbers, sizes, hex
    addresses, hashes, GPU names) and keeps the first sentence of the message; ``id`` is a short hash of it.
    """

    model_config = ConfigDict(frozen=True)

    exception_type: str | None = Field(description="Short exception or error kind: 'OutOfMemoryError', 'CUDA error', "
                                                   "'Killed', 'panic'...; None for bare error log lines")
    message: str = Field(description="The message as written, without the exception type and log prefixes")
    signature: str = Field(min_length=1)
    raw: str = Field(description="The text the error was read from (usually one whole line)")
    severity: Literal["error", "warning"] = "error"
    start: int | None = Field(default=None, description="Offset of raw in the text it was extracted from")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        """Twelve hex digits of the SHA-1 of the signature."""
        return hashlib.sha1(self.signature.encode("utf-8")).hexdigest()[:12]


class TriedFix(BaseModel):
    """Something the report says was already tried without success, in the fix vocabulary
    (``ontology/fix_actions.ttl``): ``action`` is a notation, ``target`` is spelled as ``docs/labeling-guide.md`` says
    (PyPI names, snake_case parameters, components, files), ``value`` is the setting or version tried, if written."""

    model_config = ConfigDict(frozen=True)

    action: str = Field(min_length=1, description="A notation of the fix-action vocabulary")
    target: str = Field(description="What was acted on, normalised; '' for nothing in particular")
    value: str | None = None
    raw: str = Field(default="", description="The sentence it was read from")

    @property
    def key(self) -> tuple[str, str]:
        """Action and target: what makes two fixes the same remedy (as ``FixSpec.key``)."""
        return (self.action, self.target)


class UsageFacts(BaseModel):
    """How the report runs the model, and what it has already ruled out (see :mod:`.usage` and :mod:`.tried`)."""

    model_config = ConfigDict(frozen=True)

    device: Literal["cuda", "cpu", "mps", "npu", "xpu", "rocm"] | None = Field(
        default=None, description="Where the model runs")
    gpu_count: int | None = Field(default=None, ge=1, description="GPUs the run uses, from the launcher, the "
                                                                  "parallel sizes or the prose")
    launch: dict[str, str] = Field(default_factory=dict, description="Launcher and engine arguments: normalised "
                                                                     "parameter name -> value as written")
    model_variant: Literal["base", "instruct"] | None = Field(default=None, description="Base or instruct/chat model")
    tried: list[TriedFix] = Field(default_factory=list, description="Fixes the report already tried")
    not_using: list[str] = Field(default_factory=list, description="Libraries and features the report rules out")


class EnvironmentFacts(BaseModel):
    """Everything the extractors found in one text."""

    model_config = ConfigDict(frozen=True)

    libraries: list[LibraryMention] = Field(default_factory=list)
    cuda: str | None = Field(default=None, description="CUDA version, major.minor")
    driver: str | None = Field(default=None, description="NVIDIA driver version")
    gpus: list[str] = Field(default_factory=list, description="Canonical accelerator names, e.g. 'NVIDIA A100'")
    os: str | None = None
    python: str | None = None
    frameworks: list[str] = Field(default_factory=list, description="Inference / training frameworks named")
    models: list[str] = Field(default_factory=list, description="Model names as written, e.g. 'Qwen2.5-7B-Instruct'")
    model_sizes: list[str] = Field(default_factory=list, description="Parameter counts, e.g. '7B', '8x7B'")
    quantization: list[str] = Field(default_factory=list, description="'gptq', 'awq', 'fp8', 'int4', 'bnb-4bit'...")
    errors: list[ErrorSignature] = Field(default_factory=list)
    usage: UsageFacts = Field(default_factory=UsageFacts)


__all__ = ["EnvironmentFacts", "ErrorSignature", "LibraryMention", "TriedFix", "UsageFacts"]
