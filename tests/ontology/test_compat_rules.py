"""The compatibility knowledge base (ontology/rules/compat.yaml): every rule fires on its sample environment and not
on its fixed one, and the file is validated as data."""

from __future__ import annotations

import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from failgraph.ontology.compat import (
    CompatEnvironment,
    CompatRule,
    Condition,
    load_compat_kb,
    os_family,
    parse_version,
    satisfies,
)
from failgraph.ontology.files import data_path
from failgraph.ontology.fixes import VERSION_ACTIONS

KB = load_compat_kb()


def test_the_knowledge_base_is_large_and_well_formed():
    assert len(KB.rules) >= 60
    ids = [r.id for r in KB.rules]
    assert len(ids) == len(set(ids))
    severities = {r.severity for r in KB.rules}
    assert {"error", "warning"} <= severities
    for r in KB.rules:
        assert r.evidence, r.id
        assert all(re.match(r"^https://\S+$", u) for u in r.evidence), r.id
        assert r.verified.strip(), r.id
        # a concrete fix: a pip pin, a setting or an action
        assert len(r.fix) > 10, r.id


@pytest.mark.parametrize("rule", KB.rules, ids=[r.id for r in KB.rules])
def test_rule_fires_on_its_bad_example_and_not_on_its_good_one(rule: CompatRule):
    bad = CompatEnvironment.from_spec(rule.example_bad, KB)
    good = CompatEnvironment.from_spec(rule.example_good, KB)
    hit = rule.evaluate(bad)
    assert hit is not None, f"{rule.id} does not fire on example_bad {rule.example_bad}"
    assert hit.severity == rule.severity
    assert hit.facts, "a finding says what matched"
    assert rule.evaluate(good) is None, f"{rule.id} fires on example_good {rule.example_good}"


def test_rule_examples_do_not_cover_every_rule_by_accident():
    """The fixed example of a rule is not itself a broken environment for the same library pin (sanity)."""
    fired = {h.rule.id for r in KB.rules for h in KB.evaluate(CompatEnvironment.from_spec(r.example_bad, KB))}
    assert len(fired) == len(KB.rules)


@pytest.mark.parametrize("name, cc", [
    ("NVIDIA V100", "7.0"), ("NVIDIA Quadro GV100", "7.0"), ("NVIDIA T4", "7.5"), ("NVIDIA RTX 2080 Ti", "7.5"),
    ("Titan RTX 24GB", "7.5"), ("NVIDIA A100", "8.0"), ("NVIDIA A800", "8.0"), ("NVIDIA A10G", "8.6"),
    ("NVIDIA RTX 3090", "8.6"), ("NVIDIA L20", "8.9"), ("NVIDIA RTX 4090", "8.9"), ("NVIDIA H100", "9.0"),
    ("NVIDIA H20", "9.0"), ("NVIDIA H200", "9.0"), ("NVIDIA RTX 5090", "12.0"), ("NVIDIA K80", "3.7"),
    ("NVIDIA P100", "6.0"), ("NVIDIA Jetson AGX Orin", "8.7"),
])
def test_compute_capability_from_gpu_names(name, cc):
    assert KB.gpu_info(name).compute_capability == cc
    assert KB.gpu_info(name).vendor == "nvidia"


@pytest.mark.parametrize("name, vendor", [("Apple M2 Max", "apple"), ("AMD MI300X", "amd"), ("Ascend 910B", "ascend")])
def test_other_accelerators_have_a_vendor_and_no_capability(name, vendor):
    info = KB.gpu_info(name)
    assert info.vendor == vendor and info.compute_capability is None


def test_version_semantics():
    assert satisfies("2.3.0+cu121", "==2.3.0")          # local labels are ignored by ==
    assert not satisfies("2.3.0+cu121", "!=2.3.0")
    assert satisfies("4.50.0.dev0", ">=4.47.0")          # pre-releases count
    assert satisfies("2.5.9-post1", "==2.5.9.post1")     # normalised post release
    assert not satisfies("4.x", "<5")                    # not a version: never matches
    assert not satisfies(None, "<5")


def test_os_families():
    assert os_family("Windows 10 / WSL") == "wsl"
    assert os_family("windows10") == "windows"
    assert os_family("Ubuntu 20.04.6 LTS") == "linux"
    assert os_family("macOS (Apple M1)") == "macos"
    assert os_family("something else") is None


def test_an_unstated_fact_never_matches_and_a_named_library_uses_if_version_unknown():
    rule = KB.rule("transformers-qwen2-min")
    assert rule.evaluate(CompatEnvironment.from_spec({"model": "Qwen2-7B"})) is None
    named = rule.evaluate(CompatEnvironment.from_spec({"model": "Qwen2-7B", "libraries": {"transformers": None}}))
    assert named is not None and named.severity == "info" and named.unknown_versions == ["transformers"]
    assert KB.rule("vllm-torch-pin-2.4.0").evaluate(
        CompatEnvironment.from_spec({"libraries": {"vllm": None, "torch": "2.5.1"}})) is None


def test_absent_needs_a_complete_listing():
    rule = KB.rule("qwen1-tiktoken-missing")
    partial = CompatEnvironment.from_spec({"model": "Qwen-7B-Chat", "libraries": {"transformers": "4.32.0"}})
    assert rule.evaluate(partial) is None


def test_custom_vllm_builds_are_not_held_to_pypi_pins():
    rule = KB.rule("vllm-torch-pin-2.5.1")
    vendor = CompatEnvironment.from_spec({"libraries": {"vllm": "0.7.3+ppu1.5.0.oe", "torch": "2.6.0.7+ppu1.5.0"}})
    github = CompatEnvironment.from_spec({"libraries": {"vllm": "0.7.3+cu118", "torch": "2.6.0"}})
    assert rule.evaluate(vendor) is None
    assert rule.evaluate(github) is not None


def test_unless_with_nested_unless():
    cond = Condition.model_validate({"libraries": {"transformers": ">=4.48.0,<4.48.2"},
                                     "unless": [{"frameworks": ["vllm"], "unless": [{"features": ["trust-remote-code"]}]}]})
    base = {"libraries": {"transformers": "4.48.0"}}
    assert cond.evaluate(CompatEnvironment.from_spec(base)) is not None
    assert cond.evaluate(CompatEnvironment.from_spec({**base, "frameworks": ["vllm"]})) is None
    assert cond.evaluate(CompatEnvironment.from_spec({**base, "frameworks": ["vllm"],
                                                      "features": ["trust-remote-code"]})) is not None


def test_the_rules_file_is_plain_data():
    raw = yaml.safe_load(data_path("rules/compat.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {"version", "compute_capability", "rules"}
    for r in raw["rules"]:
        assert {"id", "severity", "when", "message", "fix", "evidence", "example_bad", "example_good"} <= set(r)


def test_bad_rules_are_rejected_with_the_rule_id(tmp_path):
    rule = {"id": "broken-rule", "severity": "error", "title": "a broken rule", "when": {"libraries": {"x": "<<1"}},
            "message": "something is broken", "fix": "pip install x", "evidence": ["https://example.org/x"],
            "verified": "by hand", "example_bad": {}, "example_good": {}}
    path = tmp_path / "compat.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "compute_capability": [], "rules": [rule]}), encoding="utf-8")
    with pytest.raises(ValueError, match="broken-rule"):
        load_compat_kb(path)
    rule["when"] = {"libraries": {"x": "<1"}}
    rule["evidence"] = ["not a url"]
    path.write_text(yaml.safe_dump({"version": 1, "compute_capability": [], "rules": [rule]}), encoding="utf-8")
    with pytest.raises(ValueError, match="https"):
        load_compat_kb(path)


# ------------------------------------------------------------------------------------------------- structured fixes


def test_every_rule_has_a_structured_fix():
    missing = [r.id for r in KB.rules if r.fix_spec is None]
    assert missing == []
    assert all(not r.fix_spec.generic and r.fix_spec.target for r in KB.rules)


def _version_fixes() -> list[CompatRule]:
    """Rules whose fix upgrades/downgrades a library that their own condition tests."""
    return [r for r in KB.rules if r.fix_spec.action in VERSION_ACTIONS and r.fix_spec.value
            and r.fix_spec.target in {canonicalize_name(n) for n in r.when.libraries}]


def test_most_rules_fix_a_version_of_what_they_test():
    assert len(_version_fixes()) >= 60


@pytest.mark.parametrize("rule", _version_fixes(), ids=[r.id for r in _version_fixes()])
def test_a_version_fix_is_met_by_the_good_example_and_not_by_the_bad_one(rule: CompatRule):
    spec = rule.fix_spec
    bound = SpecifierSet(spec.value)
    good = CompatEnvironment.from_spec(rule.example_good, KB).version_of(spec.target)
    bad = CompatEnvironment.from_spec(rule.example_bad, KB).version_of(spec.target)
    assert good is not None and satisfies(good, bound), f"example_good {spec.target} {good} misses {spec.value}"
    assert bad is not None and not satisfies(bad, bound), f"example_bad {spec.target} {bad} already meets {spec.value}"
    direction = Version(parse_version(good).base_version) > Version(parse_version(bad).base_version)
    assert direction == (spec.action != "downgrade"), f"{spec.action} but good {good} vs bad {bad}"


def test_a_bad_fix_spec_is_rejected_with_the_rule_id(tmp_path):
    rule = {"id": "bad-spec-rule", "severity": "error", "title": "a rule with a bad fix", "when": {"libraries":
            {"x": "<1"}}, "message": "something is broken", "fix": "pip install x>=1", "evidence":
            ["https://example.org/x"], "verified": "by hand", "example_bad": {}, "example_good": {},
            "fix_spec": {"action": "upgrade", "target": "x", "target_kind": "library", "value": "soon"}}
    path = tmp_path / "compat.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "compute_capability": [], "rules": [rule]}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"(?s)bad-spec-rule.*not a version bound"):
        load_compat_kb(path)
    rule["fix_spec"]["value"] = ">=1"
    path.write_text(yaml.safe_dump({"version": 1, "compute_capability": [], "rules": [rule]}), encoding="utf-8")
    assert load_compat_kb(path).rule("bad-spec-rule").fix_spec.key == ("upgrade", "x")


def test_a_python_condition_needs_a_stated_python_version():
    cond = Condition.model_validate({"libraries": {"vllm": ">=0.32.0"}, "python": "<3.11"})
    assert cond.evaluate(CompatEnvironment.from_spec({"libraries": {"vllm": "0.32.0"}})) is None
    hit = cond.evaluate(CompatEnvironment.from_spec({"libraries": {"vllm": "0.32.0"}, "python": "3.10.12"}))
    assert hit is not None and "Python 3.10.12" in hit.facts
    assert cond.evaluate(CompatEnvironment.from_spec({"libraries": {"vllm": "0.32.0"}, "python": "3.11"})) is None
    assert "python" in cond.subjects()
    with pytest.raises(ValueError):
        Condition.model_validate({"python": "<<3.11"})


@pytest.mark.parametrize("transformers", ["4.54.0", "4.55.4"])
def test_transformers_4_54_and_4_55_need_huggingface_hub_0_34(transformers):
    """Their METADATA requires huggingface-hub>=0.34.0 like 4.56/4.57 (the rule used to start at 4.56.0)."""
    rule = KB.rule("transformers-4.56-hub-min")
    old_hub = CompatEnvironment.from_spec({"libraries": {"transformers": transformers, "huggingface-hub": "0.30.2"}})
    new_hub = CompatEnvironment.from_spec({"libraries": {"transformers": transformers, "huggingface-hub": "0.34.0"}})
    assert rule.evaluate(old_hub) is not None
    assert rule.evaluate(new_hub) is None
    assert KB.rule("transformers-4.51-hub-min").evaluate(old_hub) is None


def test_fp8_on_turing_is_accepted_by_vllm_0_14_and_later():
    """Fp8Config.get_min_capability() is 80 up to vLLM 0.13.0 and 75 from 0.14.0 (read in the wheels)."""
    old_rule, new_rule = KB.rule("vllm-fp8-pre-ampere"), KB.rule("vllm-0.14-fp8-pre-turing")
    t4 = {"frameworks": ["vllm"], "quantization": ["fp8"], "gpu": "NVIDIA T4"}
    assert old_rule.evaluate(CompatEnvironment.from_spec({**t4, "libraries": {"vllm": "0.13.0"}})) is not None
    assert old_rule.evaluate(CompatEnvironment.from_spec({**t4, "libraries": {"vllm": "0.15.0"}})) is None
    assert new_rule.evaluate(CompatEnvironment.from_spec({**t4, "libraries": {"vllm": "0.15.0"}})) is None
    v100 = {**t4, "gpu": "Tesla V100", "libraries": {"vllm": "0.15.0"}}
    assert new_rule.evaluate(CompatEnvironment.from_spec(v100)) is not None
    unknown = old_rule.evaluate(CompatEnvironment.from_spec(t4))
    assert unknown is not None and unknown.severity == "warning"


# Stacks as their releases pin them on PyPI (Requires-Dist / Requires-Python read from the packages' metadata):
# no rule may call a consistent, current environment broken.
HEALTHY_STACKS = {
    "vllm-0.34": {"python": "3.12", "gpu": "NVIDIA H100", "cuda": "13.0", "driver": "580.65.06",
                  "frameworks": ["vllm"], "model": "Qwen/Qwen3.5-35B-A3B-Instruct",
                  "libraries": {"vllm": "0.34.0", "torch": "2.14.0", "torchvision": "0.29.0", "torchaudio": "2.11.0",
                                "transformers": "5.22.2", "tokenizers": "0.23.1", "huggingface-hub": "2.4.0",
                                "flashinfer-python": "0.7.3", "numpy": "2.2.6"}},
    "vllm-0.20": {"python": "3.12", "gpu": "NVIDIA L40S", "cuda": "12.8", "driver": "570.124.06",
                  "frameworks": ["vllm"], "model": "google/gemma-3-27b-it",
                  "libraries": {"vllm": "0.20.2", "torch": "2.11.0", "torchvision": "0.26.0",
                                "transformers": "4.57.6", "tokenizers": "0.22.1", "huggingface-hub": "0.36.0",
                                "flashinfer-python": "0.6.8.post1"}},
    "sglang-0.5.23": {"python": "3.12", "gpu": "NVIDIA H200", "cuda": "12.9", "frameworks": ["sglang"],
                      "model": "zai-org/GLM-4.5-Air",
                      "libraries": {"sglang": "0.5.23", "sglang-kernel": "0.4.9", "torch": "2.14.1",
                                    "transformers": "5.19.0", "tokenizers": "0.23.1", "huggingface-hub": "1.31.0",
                                    "flashinfer-python": "0.7.2"}},
    "qlora-2026": {"python": "3.11", "gpu": "NVIDIA RTX 4090", "cuda": "12.8", "stage": "fine-tuning",
                   "dtype": "bfloat16", "model": "Qwen/Qwen3-VL-8B-Instruct",
                   "libraries": {"transformers": "5.25.0", "tokenizers": "0.23.1", "huggingface-hub": "2.4.0",
                                 "torch": "2.14.0", "trl": "1.16.0", "accelerate": "1.16.0", "peft": "0.22.0",
                                 "bitsandbytes": "0.50.2", "xformers": "0.0.35"}},
    "flash-attn-2.8": {"python": "3.12", "gpu": "NVIDIA A100", "cuda": "12.8", "model": "openai/gpt-oss-20b",
                       "libraries": {"transformers": "4.57.6", "tokenizers": "0.22.1", "huggingface-hub": "0.36.0",
                                     "torch": "2.8.0", "torchvision": "0.23.0", "flash-attn": "2.8.3",
                                     "bitsandbytes": "0.48.2", "xformers": "0.0.32.post2", "trl": "0.25.1",
                                     "accelerate": "1.10.0"}},
}


@pytest.mark.parametrize("name", sorted(HEALTHY_STACKS))
def test_a_consistent_current_stack_raises_no_alarm(name):
    env = CompatEnvironment.from_spec(HEALTHY_STACKS[name], KB)
    alarms = [(h.rule.id, h.facts) for h in KB.evaluate(env) if h.severity in ("error", "warning")]
    assert alarms == []


def test_torchvision_pins_accept_a_prerelease_torch_of_the_same_minor_and_reject_the_next_minor():
    rule = KB.rule("torchvision-0.22-torch-pin")
    ngc = CompatEnvironment.from_spec({"libraries": {"torchvision": "0.22.0", "torch": "2.7.0a0+79aa17489c.nv25.04"}})
    nightly = CompatEnvironment.from_spec({"libraries": {"torchvision": "0.22.1", "torch": "2.8.0.dev20250610+cu128"}})
    assert rule.evaluate(ngc) is None
    assert rule.evaluate(nightly) is not None


@pytest.mark.parametrize("model, rule_id", [
    ("google/medgemma-4b-it", "transformers-gemma4-min"), ("google/gemma-3n-E4B-it", "transformers-gemma3-min"),
    ("Qwen/Qwen3.5-35B-A3B-Instruct", "transformers-qwen3-min"), ("zai-org/GLM-4.5V", "transformers-glm4.5-moe-min"),
    ("LiquidAI/LFM2-VL-1.6B", "transformers-lfm2-min"),
    ("microsoft/Phi-4-multimodal-instruct", "transformers-phi4-min"),
    ("google/medgemma-4b-it", "vllm-gemma4-min"), ("deepseek-ai/DeepSeek-V4.1", "vllm-deepseek-v4-min"),
    ("Qwen/Qwen3-VL-8B-Instruct", "vllm-qwen3-next-min"), ("unsloth/gpt-oss-20b-GGUF", "transformers-gpt-oss-min"),
])
def test_architecture_rules_leave_look_alike_model_names_alone(model, rule_id):
    env = CompatEnvironment.from_spec({"model": model, "libraries": {"transformers": "4.30.0", "vllm": "0.5.0"}})
    assert KB.rule(rule_id).evaluate(env) is None


def test_sglang_torch_pins_respect_the_extras_that_allow_another_torch():
    """sglang[blackwell] 0.4.5.post1-0.4.6.post5 leaves torch unpinned; sglang[cu130] 0.5.3.post2-0.5.4.post1 pins 2.9.0."""
    blackwell = CompatEnvironment.from_spec({"gpu": "NVIDIA RTX 5090", "libraries": {"sglang": "0.4.6.post5",
                                                                                     "torch": "2.7.0+cu128"}})
    assert KB.rule("sglang-torch-pin-2.6.0").evaluate(blackwell) is None
    cu130 = CompatEnvironment.from_spec({"libraries": {"sglang": "0.5.4", "torch": "2.9.0"}})
    assert KB.rule("sglang-torch-pin-2.8.0").evaluate(cu130) is None
    stale = CompatEnvironment.from_spec({"libraries": {"sglang": "0.5.5", "torch": "2.9.0"}})
    assert KB.rule("sglang-torch-pin-2.8.0").evaluate(stale) is not None


@pytest.mark.parametrize("model, dev, rule_id", [
    ("Qwen/Qwen2.5-VL-7B-Instruct", "4.49.0.dev0", "transformers-qwen2.5-vl-min"),
    ("Qwen/Qwen3-8B", "4.51.0.dev0", "transformers-qwen3-min"),
    ("Qwen/Qwen3-Next-80B-A3B-Instruct", "4.57.0.dev0", "transformers-qwen3-next-min"),
])
def test_a_transformers_source_build_of_the_first_release_is_not_called_too_old(model, dev, rule_id):
    """Model cards ask for `pip install git+https://github.com/huggingface/transformers` before a release ships;
    that build reports the coming version as .dev0 and already has the architecture."""
    rule = KB.rule(rule_id)
    assert rule.evaluate(CompatEnvironment.from_spec({"model": model, "libraries": {"transformers": dev}})) is None
    older = {"model": model, "libraries": {"transformers": rule.example_bad["libraries"]["transformers"]}}
    assert rule.evaluate(CompatEnvironment.from_spec(older)) is not None


def test_a_version_mismatch_condition_compares_two_stated_releases():
    cond = Condition.model_validate({"version_mismatch": ["flashinfer-python", "flashinfer-jit-cache"]})
    env = lambda libs: CompatEnvironment.from_spec({"libraries": libs})  # noqa: E731
    assert cond.evaluate(env({"flashinfer-python": "0.6.6"})) is None
    assert cond.evaluate(env({"flashinfer-python": "0.6.6", "flashinfer-jit-cache": "0.6.6+cu129"})) is None
    hit = cond.evaluate(env({"flashinfer-python": "0.6.6", "flashinfer-jit-cache": "0.6.4+cu129"}))
    assert hit is not None and hit.facts == ["flashinfer-python 0.6.6 vs flashinfer-jit-cache 0.6.4+cu129"]
    assert {"library:flashinfer-python", "library:flashinfer-jit-cache"} <= cond.subjects()
    with pytest.raises(ValueError):
        Condition.model_validate({"version_mismatch": ["flashinfer-python"]})
