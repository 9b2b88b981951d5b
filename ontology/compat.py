"""The compatibility knowledge base: known-broken and risky environment combinations, kept as data.

``rules/compat.yaml`` holds two things:

* ``compute_capability``: NVIDIA GPU name patterns → compute capability and architecture, so that a report that
  names a card ("Tesla V100-SXM2-32GB") can be checked against rules written on capabilities ("bf16 needs >= 8.0");
* ``rules``: each with an id, a severity (``error`` = known-broken combination, ``warning`` = risky, ``info``), the
  condition (:class:`Condition`: library version specifiers, model-name regexes, GPU capability, CUDA / driver
  versions, OS, framework, quantisation format, dtype, stage, features read from the report), a message, a concrete
  fix (in words, and as a :class:`~failgraph.ontology.fixes.FixSpec` in ``fix_spec``), evidence URLs, how the
  versions were checked (``verified``) and two sample environments (``example_bad`` fires, ``example_good`` does not)
  that the tests run.

Versions are compared with :mod:`packaging` (PEP 440; local labels such as ``+cu121`` are ignored by ``==``,
pre-releases are allowed). A condition on a fact the environment does not state never matches, so a rule fires only
on what the report says, except that a library *named* without a version can fire a rule at its
``if_version_unknown`` severity.

>>> kb = load_compat_kb()
>>> env = CompatEnvironment.from_spec({"model": "Qwen2-7B-Instruct", "libraries": {"transformers": "4.36.2"}})
>>> [hit.rule.id for hit in kb.evaluate(env)]
['transformers-qwen2-min']
>>> kb.compute_capability("NVIDIA V100")
('7.0', 'Volta')
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .files import data_path, read_yaml
from .fixes import FixSpec

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
OsFamily = Literal["linux", "wsl", "windows", "macos", "android"]
Stage = Literal["inference", "fine-tuning"]
Vendor = Literal["nvidia", "apple", "amd", "ascend", "intel"]

COMPAT_FILE = "rules/compat.yaml"

#: Framework spellings that mean the same thing (library name → framework name used in conditions).
FRAMEWORK_ALIASES: dict[str, str] = {
    "text-generation-inference": "tgi", "llama-cpp-python": "llama.cpp", "llamafile": "llama.cpp",
    "tensorrt-llm": "tensorrt-llm", "llama-factory": "llamafactory", "ms-swift": "ms-swift",
    "autoawq": "autoawq", "auto-gptq": "auto-gptq",
}


def parse_version(v: str | None) -> Version | None:
    """A PEP 440 version, or None when ``v`` is missing or not a version (``4.x``, ``nightly``)."""
    if not v:
        return None
    try:
        return Version(v.strip().lstrip("vV"))
    except InvalidVersion:
        m = re.match(r"\d+(?:\.\d+)+", v.strip().lstrip("vV"))
        if not m:
            return None
        try:
            return Version(m.group(0))
        except InvalidVersion:  # pragma: no cover - the regex only keeps digits and dots
            return None


def _spec(s: str | None) -> SpecifierSet | None:
    if s is None:
        return None
    try:
        return SpecifierSet(s)
    except InvalidSpecifier as e:
        raise ValueError(f"bad version specifier {s!r}: {e}") from e


def satisfies(version: str | Version | None, spec: str | SpecifierSet) -> bool:
    """Whether ``version`` satisfies ``spec`` (pre-releases allowed); False for an unparseable version.

    >>> satisfies("2.3.0+cu121", "==2.3.0"), satisfies("4.50.0.dev0", ">=4.47.0"), satisfies("4.x", "<5")
    (True, True, False)
    """
    v = version if isinstance(version, Version) else parse_version(version)
    if v is None:
        return False
    s = spec if isinstance(spec, SpecifierSet) else SpecifierSet(spec)
    return s.contains(v, prereleases=True)


# --------------------------------------------------------------------------------------------- environment


class GpuInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    vendor: Vendor | None = None
    compute_capability: str | None = None
    arch: str | None = None


class CompatEnvironment(BaseModel):
    """The facts the rules are evaluated on (built by the doctor from a report, ``--here``, or a rule example)."""

    model_config = ConfigDict(extra="forbid")

    libraries: dict[str, str] = Field(default_factory=dict, description="Normalised package name → version")
    named: list[str] = Field(default_factory=list, description="Libraries/frameworks named without a version")
    complete_listing: bool = Field(False, description="The input listed every installed package (pip freeze, ...)")
    gpus: list[GpuInfo] = Field(default_factory=list)
    cuda: str | None = Field(None, description="CUDA runtime the software was built for (torch +cuXYZ, nvcc)")
    driver: str | None = Field(None, description="NVIDIA driver version")
    driver_cuda: str | None = Field(None, description="Highest CUDA version the driver supports (nvidia-smi)")
    os: OsFamily | None = None
    os_name: str | None = None
    python: str | None = None
    frameworks: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    stage: Stage | None = None
    quantization: list[str] = Field(default_factory=list)
    dtype: str | None = Field(None, description="float16, bfloat16, float32 or auto; None when not stated")
    features: list[str] = Field(default_factory=list, description="Usage facts read from the report, e.g. "
                                                                 "'torch-distributed', 'nccl-backend'")

    def version_of(self, name: str) -> str | None:
        return self.libraries.get(name)

    def mentions(self, name: str) -> bool:
        """The library or framework appears, with or without a version."""
        return name in self.libraries or name in self.named or name in self.all_frameworks()

    def all_frameworks(self) -> set[str]:
        out = set(self.frameworks)
        for lib in [*self.libraries, *self.named]:
            out.add(lib)
            if lib in FRAMEWORK_ALIASES:
                out.add(FRAMEWORK_ALIASES[lib])
        return out

    def nvidia_gpus(self) -> list[GpuInfo]:
        return [g for g in self.gpus if g.vendor == "nvidia" and g.compute_capability]

    @classmethod
    def from_spec(cls, spec: dict[str, Any], kb: CompatKB | None = None) -> CompatEnvironment:
        """An environment from the compact form used by rule examples and tests.

        ``gpu``/``gpus`` take GPU names (their capability comes from the knowledge base's table); ``os`` takes a
        family or a name (``Windows 11``); ``libraries`` maps names to versions (``None``: named, no version).
        """
        kb = kb or load_compat_kb()
        data = dict(spec)
        for k in ("cuda", "driver", "driver_cuda", "python"):
            if data.get(k) is not None:
                data[k] = str(data[k])
        gpus = data.pop("gpus", None) or []
        if "gpu" in data:
            gpus = [data.pop("gpu"), *list(gpus)]
        libs = data.pop("libraries", None) or {}
        named = list(data.pop("named", None) or [])
        versions = {}
        for k, v in libs.items():
            if v is None:
                named.append(k)
            else:
                versions[k.lower()] = str(v)
        if "model" in data:
            data["models"] = [data.pop("model"), *list(data.get("models", []))]
        os_value = data.pop("os", None)
        env = cls(libraries=versions, named=named, gpus=[kb.gpu_info(g) for g in gpus], **data)
        if os_value:
            env.os, env.os_name = os_family(os_value), os_value
        return env


def os_family(name: str | None) -> OsFamily | None:
    """The family of an OS name: ``wsl`` wins over ``windows``; Linux distributions are ``linux``.

    >>> os_family("Windows 10 / WSL"), os_family("Ubuntu 22.04"), os_family("macOS (Apple M1)"), os_family("win11")
    ('wsl', 'linux', 'macos', 'windows')
    """
    if not name:
        return None
    low = name.lower()
    if re.search(r"\bwsl", low):
        return "wsl"
    if re.search(r"android", low):
        return "android"
    if re.search(r"windows|\bwin(?:dows)?_?\d{1,2}\b|\bwin32|win_amd64", low):
        return "windows"
    if re.search(r"mac\s?os|os\s?x|darwin|macbook|\bmac\b|apple", low):
        return "macos"
    if re.search(r"linux|ubuntu|debian|centos|rhel|red hat|rocky|fedora|arch|suse|alma|amazon|jetson|l4t", low):
        return "linux"
    return None


# ------------------------------------------------------------------------------------------------ conditions


class LibraryCondition(BaseModel):
    """A condition on one installed library's version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str | None = Field(None, description="Specifier the installed version satisfies")
    outside: str | None = Field(None, description="Specifier the installed version does NOT satisfy")
    prerelease: bool | None = Field(None, description="True: only a pre-/dev-release (a nightly) matches")
    local: str | None = Field(None, description="Regex the local label (after '+', '' when none) must fully match, "
                                                "e.g. '(cu\\d+)?' for official builds")

    @field_validator("version", "outside")
    @classmethod
    def _valid(cls, v: str | None) -> str | None:
        _spec(v)
        return v

    @model_validator(mode="after")
    def _something(self) -> LibraryCondition:
        if self.version is None and self.outside is None and self.prerelease is None and self.local is None:
            raise ValueError("a library condition needs version, outside, prerelease or local")
        if self.local is not None:
            re.compile(self.local)
        return self

    def check(self, version: Version) -> bool:
        if self.version is not None and not satisfies(version, self.version):
            return False
        if self.outside is not None and satisfies(version, self.outside):
            return False
        if self.prerelease is not None and version.is_prerelease != self.prerelease:
            return False
        return self.local is None or re.fullmatch(self.local, version.local or "") is not None

    def describe(self) -> str:
        parts = [p for p in (self.version, f"not {self.outside}" if self.outside else None,
                             "a pre-release" if self.prerelease else None) if p]
        return ", ".join(parts)


class Outcome(BaseModel):
    """What a condition matched: the facts, and whether a library was only named (version unknown)."""

    facts: list[str] = Field(default_factory=list)
    unknown_versions: list[str] = Field(default_factory=list)


class Condition(BaseModel):
    """All fields must hold (``any_of``: at least one of the sub-conditions; ``unless``: none of them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = Field(None, description="Case-insensitive regex searched in the model name")
    model_not: str | None = Field(None, description="Regex the model name must not contain")
    libraries: dict[str, LibraryCondition] = Field(default_factory=dict)
    installed: list[str] = Field(default_factory=list, description="Present, any version (or a feature of that "
                                                                    "name read from the report)")
    absent: list[str] = Field(default_factory=list, description="Missing from a complete package listing")
    frameworks: list[str] = Field(default_factory=list, description="Any of these frameworks/libraries in use")
    gpu_cc: str | None = Field(None, description="Specifier on the lowest NVIDIA compute capability, e.g. '<8.0'")
    gpu_name: str | None = Field(None, description="Regex on a canonical GPU name")
    gpu_vendor: list[Vendor] = Field(default_factory=list)
    cuda: str | None = Field(None, description="Specifier on the CUDA runtime version")
    driver: str | None = Field(None, description="Specifier on the NVIDIA driver version")
    driver_cuda: str | None = Field(None, description="Specifier on the driver's highest CUDA version")
    python: str | None = Field(None, description="Specifier on the Python version, e.g. '>=3.14'")
    cuda_ahead_of_driver: Literal["major", "minor"] | None = None
    os: list[OsFamily] = Field(default_factory=list)
    quantization: list[str] = Field(default_factory=list)
    stage: Stage | None = None
    dtype: list[str] = Field(default_factory=list, description="'auto' also matches an unstated dtype")
    features: list[str] = Field(default_factory=list, description="Any of these usage facts")
    version_mismatch: list[str] = Field(default_factory=list, description="Two libraries that must be installed at "
                                        "the same release: holds when both versions are stated and differ (local "
                                        "labels such as +cu129 ignored)")
    any_of: list[Condition] = Field(default_factory=list)
    unless: list[Condition] = Field(default_factory=list)

    @field_validator("libraries", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k).lower(): ({"version": c} if isinstance(c, str) else c) for k, c in v.items()}
        return v

    @field_validator("version_mismatch")
    @classmethod
    def _pair(cls, v: list[str]) -> list[str]:
        if v and len(v) != 2:
            raise ValueError("version_mismatch names exactly two libraries")
        return [n.lower() for n in v]

    @field_validator("model", "model_not", "gpu_name")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"bad regex {v!r}: {e}") from e
        return v

    @field_validator("gpu_cc", "cuda", "driver", "driver_cuda", "python")
    @classmethod
    def _specifier(cls, v: str | None) -> str | None:
        _spec(v)
        return v

    # --------------------------------------------------------------------------------------- evaluation
    def evaluate(self, env: CompatEnvironment) -> Outcome | None:
        """The matched facts, or None when the condition does not hold (or a needed fact is not stated)."""
        out = Outcome()
        if self.model is not None:
            hit = next((m for m in env.models if re.search(self.model, m, re.IGNORECASE)), None)
            if hit is None:
                return None
            if self.model_not is not None and re.search(self.model_not, hit, re.IGNORECASE):
                return None
            out.facts.append(f"model {hit}")
        elif self.model_not is not None and any(re.search(self.model_not, m, re.IGNORECASE) for m in env.models):
            return None
        for name, cond in self.libraries.items():
            written = env.version_of(name)
            v = _parse_installed(written)
            if v is None:
                if env.mentions(name):
                    out.unknown_versions.append(name)
                    out.facts.append(f"{name} (version not stated)")
                    continue
                return None
            if not cond.check(v):
                return None
            out.facts.append(f"{name} {written}")
        if self.version_mismatch:
            pair = [(n, env.version_of(n), _parse_installed(env.version_of(n))) for n in self.version_mismatch]
            if any(v is None for _, _, v in pair) or Version(pair[0][2].public) == Version(pair[1][2].public):
                return None
            out.facts.append(" vs ".join(f"{n} {w}" for n, w, _ in pair))
        for name in self.installed:
            if not (env.mentions(name) or name in env.features):
                return None
            out.facts.append(f"{name} installed")
        if self.absent:
            if not env.complete_listing:
                return None
            for name in self.absent:
                if name in env.libraries:
                    return None
                out.facts.append(f"{name} not installed")
        if self.frameworks:
            fw = env.all_frameworks()
            hit_fw = next((f for f in self.frameworks if f in fw), None)
            if hit_fw is None:
                return None
            out.facts.append(f"uses {hit_fw}")
        if self.gpu_vendor:
            g = next((g for g in env.gpus if g.vendor in self.gpu_vendor), None)
            if g is None:
                return None
            out.facts.append(g.name)
        if self.gpu_name is not None:
            g = next((g for g in env.gpus if re.search(self.gpu_name, g.name, re.IGNORECASE)), None)
            if g is None:
                return None
            out.facts.append(g.name)
        if self.gpu_cc is not None:
            cards = env.nvidia_gpus()
            if not cards:
                return None
            low = min(cards, key=lambda g: Version(g.compute_capability or "0"))
            if not satisfies(low.compute_capability, self.gpu_cc):
                return None
            out.facts.append(f"{low.name} (compute capability {low.compute_capability}, {low.arch})")
        for field, label in (("cuda", "CUDA"), ("driver", "NVIDIA driver"), ("driver_cuda", "driver CUDA"),
                             ("python", "Python")):
            spec = getattr(self, field)
            if spec is not None:
                value = getattr(env, field)
                if not satisfies(value, spec):
                    return None
                out.facts.append(f"{label} {value}")
        if self.cuda_ahead_of_driver is not None:
            fact = _cuda_ahead(env, self.cuda_ahead_of_driver)
            if fact is None:
                return None
            out.facts.append(fact)
        if self.os:
            if env.os not in self.os:
                return None
            out.facts.append(f"OS {env.os_name or env.os}")
        if self.quantization:
            q = next((q for q in self.quantization if q in env.quantization), None)
            if q is None:
                return None
            out.facts.append(f"{q} quantization")
        if self.stage is not None:
            if env.stage != self.stage:
                return None
            out.facts.append(f"stage {env.stage}")
        if self.dtype:
            dtype = env.dtype or "auto"
            if dtype not in self.dtype:
                return None
            out.facts.append(f"dtype {dtype}" + ("" if env.dtype else " (not stated: the model's default)"))
        if self.features:
            f = next((f for f in self.features if f in env.features), None)
            if f is None:
                return None
            out.facts.append(f)
        if self.any_of:
            for sub in self.any_of:
                got = sub.evaluate(env)
                if got is not None:
                    out.facts += got.facts
                    out.unknown_versions += got.unknown_versions
                    break
            else:
                return None
        for sub in self.unless:
            got = sub.evaluate(env)
            if got is not None and not got.unknown_versions:
                return None
        return out

    def subjects(self) -> set[str]:
        """What the condition is about: ``library:<name>``, ``gpu``, ``os``, ``cuda``, ``model``, ``framework``..."""
        out: set[str] = {f"library:{n}" for n in self.libraries}
        out |= {f"library:{n}" for n in self.installed} | {f"library:{n}" for n in self.absent}
        out |= {f"library:{n}" for n in self.version_mismatch}
        if self.frameworks:
            out.add("framework")
        if self.gpu_cc or self.gpu_name or self.gpu_vendor:
            out.add("gpu")
        if self.cuda or self.driver or self.driver_cuda or self.cuda_ahead_of_driver:
            out.add("cuda")
        if self.python:
            out.add("python")
        if self.os:
            out.add("os")
        if self.model:
            out.add("model")
        for name in ("quantization", "dtype", "features"):
            if getattr(self, name):
                out.add(name)
        if self.stage:
            out.add("stage")
        for sub in self.any_of:
            out |= sub.subjects()
        return out


def _parse_installed(written: str | None) -> Version | None:
    return parse_version(written) if written else None


def _cuda_ahead(env: CompatEnvironment, level: str) -> str | None:
    """A fact when the CUDA runtime is newer than what the driver supports (major, or minor within one major)."""
    rt = parse_version(env.cuda)
    if rt is None:
        return None
    drv = parse_version(env.driver_cuda)
    if drv is None and level == "major":
        drv_major = _driver_major_cuda(env.driver)
        if drv_major is None:
            return None
        drv = Version(f"{drv_major}.0")
    if drv is None:
        return None
    if level == "major" and rt.major > drv.major:
        return f"CUDA runtime {env.cuda} needs a CUDA {rt.major}.x driver; the driver supports CUDA {drv.major}.x"
    if level == "minor" and rt.major == drv.major and rt.minor > drv.minor:
        return f"CUDA runtime {env.cuda} is newer than the driver's CUDA {env.driver_cuda}"
    return None


def _driver_major_cuda(driver: str | None) -> int | None:
    """The CUDA major release family a Linux driver supports (NVIDIA's minor-version compatibility table:
    CUDA 11.x needs >= 450, 12.x >= 525, 13.x >= 580)."""
    v = parse_version(driver)
    if v is None:
        return None
    if v.major >= 580:
        return 13
    if v.major >= 525:
        return 12
    if v.major >= 450:
        return 11
    return 10


Condition.model_rebuild()


# ---------------------------------------------------------------------------------------------------- rules


class RuleHit(BaseModel):
    """One rule that fired on an environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    rule: CompatRule
    severity: Severity
    facts: list[str]
    unknown_versions: list[str] = Field(default_factory=list)


class CompatRule(BaseModel):
    """One compatibility rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    severity: Severity
    library: str | None = Field(None, description="The library the finding is about (None: the platform)")
    title: str = Field(min_length=5)
    when: Condition
    message: str = Field(min_length=10)
    fix: str = Field(min_length=5)
    fix_spec: FixSpec | None = Field(None, description="The fix as a structured remedy (action, target, value)")
    evidence: list[str] = Field(min_length=1)
    verified: str = Field(min_length=5, description="How the versions in the rule were checked")
    if_version_unknown: Severity | None = Field(None, description="Severity when a library in the condition is named "
                                                                  "without a version (None: do not fire)")
    example_bad: dict[str, Any]
    example_good: dict[str, Any]

    @field_validator("evidence")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        return https_urls(v)

    @field_validator("library")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return v.lower() if v else v

    def evaluate(self, env: CompatEnvironment) -> RuleHit | None:
        out = self.when.evaluate(env)
        if out is None:
            return None
        severity: Severity = self.severity
        if out.unknown_versions:
            if self.if_version_unknown is None:
                return None
            if SEVERITY_RANK[self.if_version_unknown] > SEVERITY_RANK[severity]:
                severity = self.if_version_unknown
        return RuleHit(rule=self, severity=severity, facts=out.facts, unknown_versions=out.unknown_versions)

    def subjects(self) -> set[str]:
        return self.when.subjects()


RuleHit.model_rebuild()


class GpuPattern(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str
    cc: str | None = None
    arch: str
    vendor: Vendor = "nvidia"

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        re.compile(v)
        return v


class CompatKB(BaseModel):
    """The loaded knowledge base: the GPU table and the rules."""

    model_config = ConfigDict(frozen=True)

    path: str
    gpu_table: list[GpuPattern]
    rules: list[CompatRule]

    @model_validator(mode="after")
    def _unique(self) -> CompatKB:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id {r.id!r}")
            seen.add(r.id)
        return self

    def rule(self, rule_id: str) -> CompatRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"unknown compatibility rule {rule_id!r}")

    def gpu_info(self, name: str) -> GpuInfo:
        """Vendor, compute capability and architecture of a GPU name (first matching pattern of the table)."""
        low = name.lower()
        for p in self.gpu_table:
            if re.search(p.pattern, low):
                return GpuInfo(name=name, vendor=p.vendor, compute_capability=p.cc, arch=p.arch)
        vendor: Vendor | None = "nvidia" if re.search(r"nvidia|geforce|tesla|quadro|rtx|gtx", low) else None
        return GpuInfo(name=name, vendor=vendor)

    def compute_capability(self, name: str) -> tuple[str, str] | None:
        g = self.gpu_info(name)
        return (g.compute_capability, g.arch or "") if g.compute_capability else None

    def evaluate(self, env: CompatEnvironment) -> list[RuleHit]:
        """Every rule that fires, most severe first (file order within a severity)."""
        hits = [h for r in self.rules if (h := r.evaluate(env)) is not None]
        return sorted(hits, key=lambda h: SEVERITY_RANK[h.severity])


def _load(path: Path) -> CompatKB:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or "rules" not in raw:
        raise ValueError(f"{path}: expected a mapping with 'compute_capability' and 'rules'")
    table = [GpuPattern.model_validate(g) for g in raw.get("compute_capability", [])]
    rules = []
    for i, r in enumerate(raw["rules"]):
        try:
            rules.append(CompatRule.model_validate(r))
        except ValueError as e:
            rid = r.get("id", f"#{i}") if isinstance(r, dict) else f"#{i}"
            raise ValueError(f"{path}: rule {rid}: {e}") from e
    return CompatKB(path=str(path), gpu_table=table, rules=rules)


@cache
def _load_cached(path: str) -> CompatKB:
    return _load(Path(path))


def https_urls(urls: list[str]) -> list[str]:
    """Evidence lists (compatibility rules, error knowledge) hold https URLs only; raises ``ValueError`` otherwise."""
    for u in urls:
        if not re.match(r"^https://[\w.-]+\.[a-z]{2,}/\S*$", u):
            raise ValueError(f"evidence must be https URLs, got {u!r}")
    return urls


def load_compat_kb(path: str | Path | None = None) -> CompatKB:
    """The compatibility knowledge base (the shipped ``rules/compat.yaml`` by default), validated and cached."""
    return _load_cached(str(Path(path) if path else data_path(COMPAT_FILE)))


def compat_rules() -> tuple[CompatRule, ...]:
    return tuple(load_compat_kb().rules)


__all__ = [
    "COMPAT_FILE",
    "FRAMEWORK_ALIASES",
    "SEVERITY_RANK",
    "CompatEnvironment",
    "CompatKB",
    "CompatRule",
    "Condition",
    "GpuInfo",
    "LibraryCondition",
    "Outcome",
    "RuleHit",
    "Severity",
    "compat_rules",
    "load_compat_kb",
    "os_family",
    "parse_version",
    "satisfies",
]
