"""The environment doctor (issue #8): check an environment against the compatibility knowledge base.

The input is an environment report — ``pip freeze``, ``pip list``, ``conda list``, ``python -m
torch.utils.collect_env``, ``transformers env`` / ``transformers-cli env``, ``nvidia-smi``, or any prose that names
versions — or the running interpreter (:func:`here_environment`), plus an optional model name, stage and framework.
The facts are read with the shared extractors (:func:`failgraph.ingest.extract.extract_environment`) and what they
do not cover (GPU compute capability from GPU names, the runtime CUDA as opposed to the driver's, nvidia-smi's
driver CUDA version, dtype, whether the listing is complete, usage facts such as ``torchrun``), then evaluated
against ``ontology/rules/compat.yaml`` (:mod:`failgraph.ontology.compat`).

When past environments are given (from the graph: :func:`past_environments_from_store`, or from the case base:
:func:`past_environments_from_cases`), each finding lists the past failures whose environment matches the same
rule — what happened to others with that combination. Without them the doctor works the same, minus those links.

>>> report = diagnose_environment("transformers==4.36.2\\ntorch==2.1.2+cu121\\ntokenizers==0.15.2",
...                               model="Qwen2-7B-Instruct")
>>> [(f.rule, f.severity) for f in report.findings]
[('transformers-qwen2-min', 'error')]
>>> report.findings[0].fix
'pip install "transformers>=4.37.0"'
"""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..ingest.extract import extract_environment
from ..ingest.extract.environment import extract_frameworks, extract_quantization
from ..ingest.extract.hardware import find_gpus
from ..ingest.extract.libraries import normalise_library_name
from ..ontology.compat import (
    SEVERITY_RANK,
    CompatEnvironment,
    CompatKB,
    CompatRule,
    GpuInfo,
    Severity,
    load_compat_kb,
    os_family,
    parse_version,
)

Stage = Literal["inference", "fine-tuning"]

#: Framework names from the extractors → the library that provides them (a framework named without a version).
_FRAMEWORK_LIBRARY = {"tgi": "text-generation-inference", "llama.cpp": "llama-cpp-python", "lm-studio": "lm-studio"}

#: Environment-compatibility root causes (their past failures are listed first under a finding).
ENV_CAUSE_PREFIX = "Environment Compatibility Issues"


class DoctorError(ValueError):
    """The doctor's input cannot be used (empty report, unknown stage...)."""


class EnvironmentHints(BaseModel):
    """Facts stated outside the report text (a case's curated environment, CLI options); they win over the text."""

    model_config = ConfigDict(extra="forbid")

    libraries: dict[str, str] = Field(default_factory=dict)
    cuda: str | None = None
    driver: str | None = None
    gpu: str | None = None
    os: str | None = None
    python: str | None = None
    framework: str | None = None


class Finding(BaseModel):
    """One rule that fires on the environment."""

    rule: str
    severity: Severity
    library: str | None
    title: str
    message: str
    fix: str
    evidence: list[str]
    facts: list[str] = Field(default_factory=list, description="What in the environment matched the rule")
    past_failures: list[str] = Field(default_factory=list, description="Past failures (issue URLs) whose "
                                                                        "environment matches the same rule")


class EnvironmentSummary(BaseModel):
    """What the doctor read (shown with the findings so a user can check it)."""

    libraries: dict[str, str]
    named_without_version: list[str]
    complete_listing: bool
    gpus: list[str]
    cuda: str | None
    driver: str | None
    driver_cuda: str | None
    os: str | None
    python: str | None
    frameworks: list[str]
    models: list[str]
    stage: str | None
    quantization: list[str]
    dtype: str | None
    features: list[str]


class DoctorReport(BaseModel):
    findings: list[Finding]
    environment: EnvironmentSummary
    past_failures_searched: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


class PastEnvironment(BaseModel):
    """The environment of one past failure, for linking findings to what happened to others."""

    url: str
    environment: CompatEnvironment
    root_causes: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------------- parsing

_PIP_FREEZE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[\w,.-]+\])?\s*(?:==|@)\s*\S+\s*$", re.MULTILINE)
#: One ``name==version`` line (pip freeze); read line by line as well, so that nothing on the next line can change how
#: the extractor reads the version's end.
_FREEZE_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[\w,.-]+\])?\s*==\s*v?(\d[^\s;#,]*)\s*$", re.MULTILINE)
_PIP_LIST_HEADER = re.compile(r"^Package\s+Version\s*(?:Editable project location\s*)?\n-{3,}\s+-{3,}", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s+v?\d+(?:\.\d+)+\S*(?:\s+\S+){0,3}\s*$", re.MULTILINE)
_NVSMI_CUDA = re.compile(r"Driver Version:\s*[\d.]+[\s,;|]+CUDA Version:\s*(\d+\.\d+)")
_BUILT_CUDA = re.compile(r"CUDA used to build PyTorch:\s*(\d+\.\d+)|torch\.version\.cuda\D{0,10}(\d+\.\d+)"
                         r"|CUDA runtime version:\s*(\d+\.\d+)|Cuda compilation tools, release (\d+\.\d+)"
                         r"|CUDA (?:compiler|toolkit)\s*[:=]?\s*(?:version\s*)?(\d+\.\d+)", re.IGNORECASE)
_TORCH_LOCAL_CUDA = re.compile(r"\+cu(\d{2,3})\b")
_CC_STATEMENT = re.compile(r"compute capability(?: of)?\s*[:=]?\s*(\d{1,2}\.\d)\b|\bsm_?(\d)(\d)\b", re.IGNORECASE)
_EXTRA_GPUS = re.compile(r"titan\s+rtx|titan\s+v\b|quadro\s+rtx\s*\d{4}|rtx\s+a\d000|tesla\s+m\d0\b|intel\s+(?:arc|gpu)",
                         re.IGNORECASE)
#: A tool's version printed by its CLI ("`ollama --version` shows 0.5.1"), which the prose extractor does not read.
_CLI_VERSION = re.compile(r"\b(ollama|vllm)`?\s+(?:-v|--version)`?\s+(?:shows|prints|reports|says|gives|returns|is)?\s*:?"
                          r"\s*(?:ollama version is\s*)?v?(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
#: Lines that quote an error or a suggestion: a dtype named there is not the user's setting.
_NOT_A_SETTING = re.compile(r"error|exception|warning|for example|e\.g\.|instead|you can use", re.IGNORECASE)
_KV_CACHE_FP8 = re.compile(r"kv[-_ ]cache[-_ ]dtype[\s=:'\"]+\S+|fp8 kv[-_ ]cache|kv[-_ ]cache[^\n]{0,20}fp8", re.IGNORECASE)

_DTYPE_PATTERNS = (
    re.compile(r"--dtype[= ]+['\"]?(\w+)", re.IGNORECASE),
    re.compile(r"\b(?:torch_)?dtype\s*[=:]\s*['\"]?(?:torch\.)?(float16|bfloat16|half|bf16|fp16|float32|float|auto)\b"),
    re.compile(r"vllm_dtype\s*[:=]\s*['\"]?(\w+)"),
)
_BF16_FLAG = re.compile(r"--bf16(?:[= ]+(?:true|True|1))?(?![\w=-])(?!\s+(?:false|False|0))|\bbf16\s*[=:]\s*(?:true|True|1)\b"
                        r"|\"bf16\"\s*:\s*\{\s*\"enabled\"\s*:\s*(?:true|\"auto\")")
_FP16_FLAG = re.compile(r"--fp16(?:[= ]+(?:true|True|1))?(?![\w=-])(?!\s+(?:false|False|0))|\bfp16\s*[=:]\s*(?:true|True|1)\b")
_DTYPE_NAMES = {"float16": "float16", "half": "float16", "fp16": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16",
                "float32": "float32", "float": "float32", "fp32": "float32", "auto": "auto"}

#: Usage facts read from the report (code and commands; each pattern names the fact, never a root cause).
_FEATURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("torch-distributed", re.compile(r"\btorchrun\b|torch\.distributed|init_process_group|--nproc[_-]per[_-]node"
                                     r"|accelerate launch|\bdeepspeed\s+(?:--\w|\S+\.py)", re.IGNORECASE)),
    ("nccl-backend", re.compile(r"init_process_group\(\s*(?:backend\s*=\s*)?['\"]nccl|backend\s*=\s*['\"]nccl"
                                r"|--(?:dist[-_])?backend[= ]+nccl", re.IGNORECASE)),
    ("gloo-backend", re.compile(r"init_process_group\(\s*(?:backend\s*=\s*)?['\"]gloo|backend\s*=\s*['\"]gloo"
                                r"|--(?:dist[-_])?backend[= ]+gloo", re.IGNORECASE)),
    ("meta-reference-code", re.compile(r"example_(?:chat_|text_)?completion\.py|example_instructions\.py"
                                       r"|example_infilling\.py|\bLlama\.build\b|llama/generation\.py"
                                       r"|torchrun\b[^\n]*\bexample\.py|--ckpt_dir\b")),
    ("attn-flash-attention-2", re.compile(r"attn_implementation\s*=\s*['\"]flash_attention_2"
                                          r"|use_flash_attention_2\s*=\s*True|flash_attn\s*:\s*fa2", re.IGNORECASE)),
    ("flash-attn", re.compile(r"pip3? install[^\n]*flash[-_]attn|install(?:ed|ing)\s+(?:the\s+)?flash[-_ ]?att"
                              r"(?:n|ention)|flash[-_ ]?attn(?:ention)?\s+(?:is\s+)?installed", re.IGNORECASE)),
    ("peft-int8-training-api", re.compile(r"prepare_model_for_int8_training")),
    ("trust-remote-code", re.compile(r"trust_remote_code|--trust-remote-code|remote[- ]code", re.IGNORECASE)),
    ("hf-transformers-api", re.compile(r"AutoModel\w*\.from_pretrained|pipeline\(\s*['\"]text-generation"
                                       r"|\b(?:through|with|using|via|in) (?:hugging ?face |hf )?transformers\b", re.IGNORECASE)),
    ("mps-device", re.compile(r"['\"]mps['\"]|\bmps:\d|\.to\(\s*['\"]mps|torch\.backends\.mps|llama[-_]?(?:v2[-_])?mps",
                              re.IGNORECASE)),
)


def _first_versions(mentions) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in mentions:
        out.setdefault(m.name, m.version)
    return out


def _complete_listing(text: str) -> bool:
    """A pip freeze / pip list / conda list of a whole environment (not a few versions quoted in prose)."""
    if "# packages in environment at" in text or _PIP_LIST_HEADER.search(text):
        return True
    rows = len(_PIP_FREEZE.findall(text)) + len(_TABLE_ROW.findall(text))
    lines = sum(1 for ln in text.splitlines() if ln.strip())
    return rows >= 5 and rows >= 0.6 * lines


def _runtime_cuda(text: str, torch_version: str | None, extracted: str | None, driver_cuda: str | None) -> str | None:
    """The CUDA the software was built for: collect_env / nvcc / torch's +cuXYZ, else the extractor's value unless
    it is only nvidia-smi's (driver) CUDA version."""
    m = _BUILT_CUDA.search(text)
    if m:
        return next(g for g in m.groups() if g)
    if torch_version:
        m = _TORCH_LOCAL_CUDA.search(torch_version)
        if m:
            v = m.group(1)
            return f"{v[:-1]}.{v[-1]}"
    if extracted and extracted != driver_cuda:
        return extracted
    return None


def _setting_lines(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if not _NOT_A_SETTING.search(ln))


def _dtype(text: str) -> str | None:
    """The dtype the user set (--dtype, torch_dtype=..., --bf16/--fp16), ignoring lines that quote errors."""
    text = _setting_lines(text)
    for rx in _DTYPE_PATTERNS:
        for m in rx.finditer(text):
            name = _DTYPE_NAMES.get(m.group(1).lower())
            if name:
                return name
    if _BF16_FLAG.search(text):
        return "bfloat16"
    if _FP16_FLAG.search(text):
        return "float16"
    return None


def _gpus(text: str, kb: CompatKB) -> list[GpuInfo]:
    names = find_gpus(text)
    names += [m.group(0) for m in _EXTRA_GPUS.finditer(text) if m.group(0) not in names]
    gpus = [kb.gpu_info(n) for n in names]
    if not any(g.compute_capability for g in gpus):
        for m in _CC_STATEMENT.finditer(text):
            cc = m.group(1) or f"{m.group(2)}.{m.group(3)}"
            if parse_version(cc):
                gpus.append(GpuInfo(name=f"GPU of compute capability {cc}", vendor="nvidia", compute_capability=cc,
                                    arch=f"sm_{cc.replace('.', '')}"))
                break
    return gpus


def _frameworks(text: str) -> list[str]:
    return extract_frameworks(text) if text else []


def parse_report(text: str, *, model: str | None = None, stage: Stage | None = None, framework: str | None = None,
                 hints: EnvironmentHints | None = None, kb: CompatKB | None = None) -> CompatEnvironment:
    """The environment a report describes (``hints`` are facts stated elsewhere and take precedence)."""
    kb = kb or load_compat_kb()
    hints = hints or EnvironmentHints()
    facts = extract_environment(text) if text.strip() else None
    libraries = _first_versions(facts.libraries) if facts else {}
    for m in _FREEZE_LINE.finditer(text):
        libraries.setdefault(normalise_library_name(m.group(1)), m.group(2))
    for m in _CLI_VERSION.finditer(text):
        libraries.setdefault(m.group(1).lower(), m.group(2))
    for name, version in hints.libraries.items():
        libraries[normalise_library_name(name)] = version
    driver_cuda = m.group(1) if (m := _NVSMI_CUDA.search(text)) else None
    cuda = _runtime_cuda(text, libraries.get("torch"), facts.cuda if facts else None, driver_cuda)
    if hints.cuda and hints.cuda != driver_cuda:
        cuda = hints.cuda
    gpus = _gpus(text, kb)
    if hints.gpu:
        hinted = _gpus(hints.gpu, kb) or ([GpuInfo(name="Intel GPU", vendor="intel", arch="Intel GPU")]
                                          if "intel" in hints.gpu.lower() else [])
        gpus = hinted or gpus
    os_name = hints.os or (facts.os if facts else None)
    frameworks: list[str] = []
    if framework:
        frameworks += _frameworks(framework) or [normalise_library_name(framework)]
    if hints.framework:
        frameworks += _frameworks(hints.framework)
    frameworks += facts.frameworks if facts else []
    frameworks = list(dict.fromkeys(frameworks))
    named = [_FRAMEWORK_LIBRARY.get(f, f) for f in frameworks if _FRAMEWORK_LIBRARY.get(f, f) not in libraries]
    models = [model] if model else (facts.models if facts else [])
    quant = extract_quantization(" ".join(models)) + extract_quantization(_KV_CACHE_FP8.sub(" ", text))
    features = [name for name, rx in _FEATURES if rx.search(text)]
    return CompatEnvironment(
        libraries=libraries, named=list(dict.fromkeys(named)), complete_listing=_complete_listing(text), gpus=gpus,
        cuda=cuda, driver=hints.driver or (facts.driver if facts else None), driver_cuda=driver_cuda,
        os=os_family(os_name), os_name=os_name, python=hints.python or (facts.python if facts else None),
        frameworks=frameworks, models=models, stage=stage, quantization=list(dict.fromkeys(quant)),
        dtype=_dtype(text), features=features)


def here_environment(*, model: str | None = None, stage: Stage | None = None, framework: str | None = None,
                     probe_torch: bool = True, kb: CompatKB | None = None) -> CompatEnvironment:
    """The running interpreter's environment: installed distributions, and CUDA/GPUs from torch when importable."""
    kb = kb or load_compat_kb()
    libraries: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            libraries.setdefault(normalise_library_name(name), dist.version)
    gpus: list[GpuInfo] = []
    cuda = driver_cuda = None
    if probe_torch and "torch" in libraries:
        try:
            import torch

            cuda = torch.version.cuda
            if torch.cuda.is_available():
                for i in range(torch.cuda.device_count()):
                    name = torch.cuda.get_device_name(i)
                    major, minor = torch.cuda.get_device_capability(i)
                    info = kb.gpu_info(name)
                    gpus.append(GpuInfo(name=name, vendor="nvidia", compute_capability=f"{major}.{minor}",
                                        arch=info.arch or f"sm_{major}{minor}"))
                try:
                    v = torch._C._cuda_getDriverVersion()  # e.g. 12020 → "12.2"
                    driver_cuda = f"{v // 1000}.{(v % 1000) // 10}"
                except (AttributeError, RuntimeError):  # pragma: no cover - private API, absent in some builds
                    driver_cuda = None
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                gpus.append(kb.gpu_info("Apple MPS"))
        except (ImportError, OSError, RuntimeError, AttributeError):  # pragma: no cover - a broken torch install
            gpus, cuda, driver_cuda = [], None, None  # the packages are still checked
    system = platform.system()
    os_name = {"Darwin": "macOS", "Windows": "Windows", "Linux": "Linux"}.get(system, system)
    if system == "Linux" and "microsoft" in platform.release().lower():
        os_name = "WSL2"
    frameworks = ([normalise_library_name(framework)] if framework else [])
    models = [model] if model else []
    return CompatEnvironment(
        libraries=libraries, complete_listing=True, gpus=gpus, cuda=cuda, driver_cuda=driver_cuda,
        os=os_family(os_name), os_name=os_name, python=platform.python_version(), frameworks=frameworks,
        models=models, stage=stage, quantization=extract_quantization(model or ""))


# ---------------------------------------------------------------------------------------------- evaluation


def _summary(env: CompatEnvironment) -> EnvironmentSummary:
    return EnvironmentSummary(
        libraries=env.libraries, named_without_version=env.named, complete_listing=env.complete_listing,
        gpus=[g.name + (f" (compute capability {g.compute_capability})" if g.compute_capability else "")
              for g in env.gpus],
        cuda=env.cuda, driver=env.driver, driver_cuda=env.driver_cuda, os=env.os_name or env.os, python=env.python,
        frameworks=env.frameworks, models=env.models, stage=env.stage, quantization=env.quantization,
        dtype=env.dtype, features=env.features)


def matching_past_failures(rule: CompatRule, past: Sequence[PastEnvironment], limit: int = 5) -> list[str]:
    """URLs of past failures whose environment matches ``rule`` (versions stated, not guessed), environment
    root causes first."""
    hits = []
    for p in past:
        hit = rule.evaluate(p.environment)
        if hit is None or hit.unknown_versions:
            continue
        env_cause = any(c.startswith(ENV_CAUSE_PREFIX) for c in p.root_causes)
        hits.append((not env_cause, p.url))
    return [url for _, url in sorted(hits)[:limit]]


def evaluate_environment(env: CompatEnvironment, *, kb: CompatKB | None = None,
                         past: Sequence[PastEnvironment] | None = None) -> DoctorReport:
    """Every rule that fires on ``env`` (most severe first), with matching past failures when ``past`` is given."""
    kb = kb or load_compat_kb()
    findings = []
    for hit in kb.evaluate(env):
        r = hit.rule
        findings.append(Finding(rule=r.id, severity=hit.severity, library=r.library, title=r.title,
                                message=r.message, fix=r.fix, evidence=list(r.evidence), facts=hit.facts,
                                past_failures=matching_past_failures(r, past) if past else []))
    findings.sort(key=lambda f: SEVERITY_RANK[f.severity])
    return DoctorReport(findings=findings, environment=_summary(env), past_failures_searched=past is not None)


def diagnose_environment(text: str | None = None, *, here: bool = False, model: str | None = None,
                         stage: Stage | None = None, framework: str | None = None,
                         hints: EnvironmentHints | None = None, past: Sequence[PastEnvironment] | None = None,
                         kb: CompatKB | None = None) -> DoctorReport:
    """Parse a report (or read the running environment with ``here=True``) and evaluate the rules."""
    if stage is not None and stage not in ("inference", "fine-tuning"):
        raise DoctorError(f"unknown stage {stage!r}: use inference or fine-tuning")
    kb = kb or load_compat_kb()
    if here:
        env = here_environment(model=model, stage=stage, framework=framework, kb=kb)
        if text:
            extra = parse_report(text, model=model, stage=stage, framework=framework, kb=kb)
            env = env.model_copy(update={k: getattr(extra, k) or getattr(env, k) for k in
                                         ("gpus", "driver", "driver_cuda", "dtype", "features")})
    else:
        if text is None or not text.strip():
            raise DoctorError("the environment report is empty: paste pip freeze / collect_env / nvidia-smi output "
                              "or use --here")
        env = parse_report(text, model=model, stage=stage, framework=framework, hints=hints, kb=kb)
    return evaluate_environment(env, kb=kb, past=past)


# -------------------------------------------------------------------------------------------- past failures


def past_environments_from_cases(cases: Iterable, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments from curated cases (:class:`failgraph.ingest.cases.Case`)."""
    kb = kb or load_compat_kb()
    out = []
    for c in cases:
        env = parse_report(c.report, model=c.model, stage=_stage(c.stage), hints=hints_from_case(c.environment),
                           kb=kb)
        out.append(PastEnvironment(url=c.source_url, environment=env, root_causes=[c.root_cause]))
    return out


def hints_from_case(environment) -> EnvironmentHints:
    """Hints from a case's curated ``environment`` (:class:`failgraph.ingest.cases.Environment`)."""
    return EnvironmentHints(libraries={lib.name: lib.version for lib in environment.libraries},
                            cuda=environment.cuda, gpu=environment.gpu, os=environment.os,
                            python=environment.python, framework=environment.framework)


def _stage(label: str | None) -> Stage | None:
    if not label:
        return None
    low = label.lower()
    return "fine-tuning" if "fine" in low or "train" in low else "inference" if "infer" in low else None


_PAST_QUERY = """
PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX doap: <http://usefulinc.com/ns/doap#>
SELECT ?url (SAMPLE(?text) AS ?report) (SAMPLE(?model) AS ?modelName) (SAMPLE(?cuda) AS ?cudaVersion)
       (SAMPLE(?os) AS ?osName) (SAMPLE(?hw) AS ?gpu) (SAMPLE(?fw) AS ?framework)
       (GROUP_CONCAT(DISTINCT ?lib; separator="\\u001f") AS ?libs)
       (GROUP_CONCAT(DISTINCT ?cause; separator="\\u001f") AS ?causes)
       (SAMPLE(?stageLabel) AS ?stage)
WHERE {
  ?i a fg:Issue ; fg:url ?url ; fg:text ?text .
  OPTIONAL { ?i fg:modelName ?model }
  OPTIONAL { ?i fg:cudaVersion ?cuda }
  OPTIONAL { ?i fg:operatingSystem ?os }
  OPTIONAL { ?i fg:onHardware ?h . ?h rdfs:label ?hw }
  OPTIONAL { ?i fg:framework ?fw }
  OPTIONAL { ?i fg:involvesLibraryVersion ?lv . ?lv fg:ofLibrary ?l . ?l doap:name ?ln . ?lv doap:revision ?lr .
             BIND(CONCAT(?ln, "==", ?lr) AS ?lib) }
  OPTIONAL { ?r fg:aboutIssue ?i ; fg:hasRootCause ?rc . ?rc skos:prefLabel ?cause .
             OPTIONAL { ?r fg:stage ?st . ?st rdfs:label ?stageLabel } }
}
GROUP BY ?url
"""


def past_environments_from_corpus(corpus, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments from an already loaded :class:`failgraph.kg.corpus.Corpus` (e.g. ``KnowledgeBase.corpus``):
    the facts in each failure's text and model name (no curated facts: use :func:`past_environments_from_store` for
    those)."""
    kb = kb or load_compat_kb()
    return [PastEnvironment(url=f.url, environment=parse_report(f.full_text, model=f.model, kb=kb),
                            root_causes=list(f.root_causes)) for f in corpus.failures]


def past_environments_from_store(store, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments of every issue with text in the graph (curated cases carry their curated facts)."""
    kb = kb or load_compat_kb()
    out = []
    for row in store.query(_PAST_QUERY).records():
        libs = {}
        for item in (row.get("libs") or "").split("\x1f"):
            if "==" in item:
                name, version = item.split("==", 1)
                libs[name] = version
        hints = EnvironmentHints(libraries=libs, cuda=row.get("cudaVersion"), gpu=row.get("gpu"),
                                 os=row.get("osName"), framework=row.get("framework"))
        env = parse_report(row.get("report") or "", model=row.get("modelName"), stage=_stage(row.get("stage")),
                           hints=hints, kb=kb)
        causes = [c for c in (row.get("causes") or "").split("\x1f") if c]
        out.append(PastEnvironment(url=str(row["url"]), environment=env, root_causes=causes))
    return out


__all__ = ["DoctorError", "DoctorReport", "EnvironmentHints", "EnvironmentSummary", "Finding", "PastEnvironment",
           "diagnose_environment", "evaluate_environment", "here_environment", "hints_from_case",
           "matching_past_failures", "parse_report", "past_environments_from_cases", "past_environments_from_corpus",
           "past_environments_from_store"]
