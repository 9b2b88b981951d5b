"""Usage facts from prose and commands: device, launcher/engine arguments, GPU count, model variant, tried fixes,
ruled-out things; their evaluation on the labeled slice; versions written in prose."""

import json

import pytest

from failgraph.ingest.extract import extract_environment, extract_libraries
from failgraph.ingest.extract.evaluate import evaluate, main
from failgraph.ingest.extract.hardware import find_gpus
from failgraph.ingest.extract.tried import EMITTED_ACTIONS, extract_not_using, extract_tried
from failgraph.ingest.extract.usage import (
    ALIASES,
    PARAMETERS,
    extract_device,
    extract_gpu_count,
    extract_launch,
    extract_model_variant,
    normalise_parameter,
)
from failgraph.ingest.extract.usage_eval import FIELDS, evaluate_usage, load_slice


def keys(text: str) -> list[tuple[str, str]]:
    return [t.key for t in extract_tried(text)]


# ---------------------------------------------------------------------------------------------------------- device

@pytest.mark.parametrize(("text", "device"), [
    ('model = AutoModelForCausalLM.from_pretrained(path, device_map="cpu", torch_dtype=torch.float32)', "cpu"),
    ("model.to('mps'); outputs = model.generate(**inputs)", "mps"),
    ("python run.py --device cpu --model qwen2-7b", "cpu"),
    ("Generation is slow when running on CPU (no GPU in this VM).", "cpu"),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B using vllm (CPU) fails to initialize", "cpu"),
    ("RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'", "cpu"),
    ("./llama-cli -m q4.gguf -ngl 0 -c 4096 aborts", "cpu"),
    ("llama.cpp on my M2 Mac prints garbage", "mps"),
    ("TypeError: BFloat16 is not supported on MPS", "mps"),
    ("Ascend 910B with torch_npu, device npu:0", "npu"),
    ("Intel Arc A770: model.to(\"xpu\") then generate() hangs", "xpu"),
    ("ROCm 6.1 on an MI250 node", "rocm"),
    ("CUDA_VISIBLE_DEVICES=0,1 python serve.py", "cuda"),
    ("os.environ['CUDA_VISIBLE_DEVICES'] = '0'", "cuda"),
    ("device_map={'': 0}", "cuda"),
    ("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB", "cuda"),
])
def test_device_from_statements(text, device):
    low = text.lower()
    assert extract_device(text, find_gpus(text, low), low) == device


@pytest.mark.parametrize("text", [
    "ValueError: Found modules on cpu/disk. Using Exllama backend requires all the modules to be on GPU.",
    "from_pretrained(path, device_map='auto') and offload_folder='offload'; offload to cpu",
    "Environment: OS:Ubuntu 20.04, Python:3.8, Transformers:4.33.0, PyTorch:2.0.1, CUDA:11.8",
    "no GPU memory is freed after the request",
    "I installed CUDA 12.1 and the model spreads across GPUs",
])
def test_device_near_misses(text):
    assert extract_device(text, find_gpus(text)) is None


def test_named_accelerators_and_gpu_names_in_sentences():
    """GPU names at a sentence's end and in the plural are GPUs (they were missed: "a single RTX 3090.")."""
    assert find_gpus("just plain python train.py on a single RTX 3090.") == ["NVIDIA RTX 3090"]
    assert find_gpus("Two RTX 3090s, running a local model") == ["NVIDIA RTX 3090"]
    assert find_gpus("runs out of memory on H100s.") == ["NVIDIA H100"]
    assert find_gpus("RTX 4090.5 and V100S") == ["NVIDIA V100S"]
    assert extract_environment("one RTX 4090 with 24GB.").usage.device == "cuda"


# ---------------------------------------------------------------------------------------------------------- launch

def test_launch_arguments_in_their_forms():
    vllm = ("python -m vllm.entrypoints.openai.api_server --gpu-memory-utilization 0.8 --model /data/Qwen1.5-32B-Chat"
            " --max-model-len=4096 -tp 2 --dtype auto --quantization gptq --kv-cache-dtype fp8_e5m2 --enforce-eager"
            " --max-num-seqs 16 --max-num-batched-tokens 8192 --port 8000")
    assert extract_launch(vllm) == {
        "gpu_memory_utilization": "0.8", "max_model_len": "4096", "tensor_parallel_size": "2", "dtype": "auto",
        "quantization": "gptq", "kv_cache_dtype": "fp8_e5m2", "enforce_eager": "true", "max_num_seqs": "16",
        "max_num_batched_tokens": "8192"}
    assert extract_launch("torchrun --nproc_per_node 4 --nnodes 2 train.py --per_device_train_batch_size 8 "
                          "--max_seq_length 2048") == {"nproc_per_node": "4", "nnodes": "2",
                                                       "per_device_train_batch_size": "8", "max_seq_length": "2048"}
    assert extract_launch("deepspeed --num_gpus 8 --num_nodes 2 sft.py") == {"num_gpus": "8", "num_nodes": "2"}
    assert extract_launch("accelerate launch --num_processes 2 train.py") == {"num_processes": "2"}
    assert extract_launch("mpirun -np 8 python bench.py") == {"np": "8"}
    assert extract_launch("llm = LLM(model=path, tensor_parallel_size=4, dtype='half', max_model_len=8192)") == {
        "tensor_parallel_size": "4", "dtype": "half", "max_model_len": "8192"}
    assert extract_launch("model = AutoModel.from_pretrained(p, torch_dtype=torch.bfloat16); "
                          "model.generate(max_new_tokens=512)") == {"dtype": "bfloat16", "max_new_tokens": "512"}
    assert extract_launch("Training YAML: stage sft, cutoff_len 8196, learning_rate 1.0e-4") == {"cutoff_len": "8196"}
    assert extract_launch("TENSOR_PARALLEL_SIZE=1, DTYPE=half, NUM_GPUs=2") == {
        "tensor_parallel_size": "1", "dtype": "half", "num_gpus": "2"}
    assert extract_launch("sglang --tp-size 4 --pipeline-parallel-size 2") == {
        "tensor_parallel_size": "4", "pipeline_parallel_size": "2"}
    assert extract_launch("Qwen NVFP4 model with TP=2 deadlocks") == {"tensor_parallel_size": "2"}
    # a parameter given twice keeps its last value
    assert extract_launch("starts with `--tensor-parallel-size 1`, but with `--tensor-parallel-size 2` it dies") == {
        "tensor_parallel_size": "2"}


@pytest.mark.parametrize("text", [
    "Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
    "--max-model-len $MAX_LEN --port 8000 --host 0.0.0.0",
    "quantization_config=bnb_config, with 4-bit quantization:\n\nMODEL_NAME = 'x'",
    "enforce_eager is slow; the dtype of the weights; tensor parallel size too large",
    "the option --dtype 16",
    "import numpy as np; np.float32",
])
def test_launch_near_misses(text):
    assert extract_launch(text) == {}


def test_parameter_names_are_spelled_like_fix_targets():
    """Launch keys are the targets ontology.fixes.normalise_target(..., "parameter") gives, so ranking can compare."""
    from failgraph.ontology.fixes import normalise_target
    for name in [*PARAMETERS, *ALIASES, "--Max-Model-Len", "NCCL_P2P_DISABLE", "-tp"]:
        assert normalise_parameter(name) == normalise_target(name, "parameter")


# ------------------------------------------------------------------------------------------------------- GPU count

@pytest.mark.parametrize(("text", "count"), [
    ("torchrun --nnodes 2 --nproc_per_node 8 train.py", 16),
    ("deepspeed --num_gpus 4 train.py", 4),
    ("vllm serve m --tensor-parallel-size 2 --pipeline-parallel-size 2", 4),
    ("CUDA_VISIBLE_DEVICES=2,3 python -m vllm.entrypoints.openai.api_server", 2),
    ("Serving Qwen2.5-72B on 2x A100 80GB", 2),
    ("8 x NVIDIA A800 machine", 8),
    ("an 8-card RTX 3090 server", 8),
    ("my server has eight 16 GB Tesla V100 cards", 8),
    ("fine-tuning on a single GPU", 1),
    ("I have 4 Nvidia A10G, but nvidia-smi shows only one GPU being used; torchrun --nproc_per_node 1", 1),
    ("torchrun --nproc_per_node 2 on Windows with one NVIDIA GPU (16GB VRAM)", 1),
])
def test_gpu_count(text, count):
    low = text.lower()
    assert extract_gpu_count(text, extract_launch(text, low), low) == count


@pytest.mark.parametrize("text", [
    "Can I use more than one GPU?",
    "multi-GPU inference is ten times slower than on a single GPU",
    "GPU 0; 22.19 GiB total capacity; 7B and 13B models work",
    "tensor 'layers.0.attention.wk.weight' has wrong shape; expected  8192 x  8192, got  8192 x  1024",
    "the benchmark needs 80GB per GPU",
])
def test_gpu_count_near_misses(text):
    assert extract_gpu_count(text, extract_launch(text)) is None


# --------------------------------------------------------------------------------------------------- model variant

@pytest.mark.parametrize(("text", "variant"), [
    ("Serving Qwen2.5-7B-Instruct with vllm", "instruct"),
    ("gemma-2-9b-it GGUF prints garbage", "instruct"),
    ("TheBloke/Llama-2-70B-chat-GPTQ --num-shard 4", "instruct"),
    ("Qwen/Qwen3-0.6B-Base eos_token", "base"),
    ("Fine-tuning Mistral-7B-v0.1 (base model) with trl", "base"),
    ("I deploy Qwen2-7B (the base model, not Qwen2-7B-Instruct) with vLLM", "base"),
    ("I used meta-llama/Meta-Llama-3-8B (base, no continued pre-training) for LoRA SFT", "base"),
    ("Running a Qwen chat model with transformers", "instruct"),
    ("Environment: Qwen 2.0 72B Chat AWQ, vLLM 0.4.3", "instruct"),
    ("I load Meta-Llama-3-70B-Instruct.IQ2_XS.gguf in text-generation-webui", "instruct"),
])
def test_model_variant(text, variant):
    low = text.lower()
    from failgraph.ingest.extract.environment import extract_models
    assert extract_model_variant(text, extract_models(text, low), low) == variant


@pytest.mark.parametrize("text", [
    "ValueError: Target modules {'c_attn'} not found in the base model. Please check the target modules.",
    "base_model = AutoModelForCausalLM.from_pretrained(model_path, device_map='auto')",
    "model_name_or_path /data/base_model/Qwen2.5-7B and the adapter",
    "I run Qwen1.5-72b. Someone else sees the same with Qwen1.5-14B-Chat through an OpenAI endpoint.",
    "step-2-it finished; the qwen2_chat_template file",
])
def test_model_variant_near_misses(text):
    from failgraph.ingest.extract.environment import extract_models
    assert extract_model_variant(text, extract_models(text)) is None


# ----------------------------------------------------------------------------------------------- tried, not using

def test_tried_fixes_in_the_phrasings_of_the_issue():
    assert keys("I already tried --enforce-eager, same crash.") == [("set-parameter", "enforce_eager")]
    assert keys("Same with and without gradient checkpointing.") == [("set-parameter", "gradient_checkpointing")]
    got = extract_tried("I tried upgrading transformers to 4.41 but the error is the same.")
    assert [(t.action, t.target, t.value) for t in got] == [("upgrade", "transformers", "4.41")]
    assert keys("The crash also happens with --enforce-eager.") == [("set-parameter", "enforce_eager")]
    assert keys("I reinstalled flash-attn, no luck.") == [("install", "flash-attn")]
    assert keys("Upgraded deepspeed and torch; nothing changed.") == [("upgrade", "deepspeed"), ("upgrade", "torch")]
    assert keys("Tried pip install -U peft, still fails with the same error.") == [("upgrade", "peft")]
    assert keys("Downgraded Auto_GPTQ to 0.5.1 but it didn't help.") == [("downgrade", "auto-gptq")]
    assert keys("Rebuilt llama.cpp from master, still garbage.") == [("install", "llama.cpp")]
    assert keys("Already tried --max-num-batched-tokens 4096 and --kv-cache-dtype fp8; same OOM.") == [
        ("reduce-memory", "max_num_batched_tokens"), ("set-parameter", "kv_cache_dtype")]
    assert keys("Setting num_ctx to 8192 did not help either.") == [("set-parameter", "num_ctx")]
    assert keys("Already tried reducing max_seq_length to 1024.") == [("reduce-memory", "max_seq_length")]
    assert keys("Tried torch_dtype=torch.float32, same result.") == [("change-dtype", "dtype")]
    assert keys("Updating chat_template didn't help.") == [("fix-template-or-tokens", "chat_template")]
    assert keys("I re-downloaded the safetensors file but it still happens.") == [
        ("use-other-model-or-file", "checkpoint")]
    assert keys("I tried commenting out that assert in /root/.cache/modules/modeling_qwen.py, but it still fails.") \
        == [("change-code", "modeling_qwen.py")]
    assert keys("Even after adding tokenizer.pad_token = tokenizer.eos_token, the error remains.") == [
        ("fix-template-or-tokens", "pad_token")]
    assert keys("Same without load_in_4bit.") == [("set-parameter", "load_in_4bit")]


@pytest.mark.parametrize("text", [
    "I haven't tried anything yet.",
    "ValueError: ... Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
    "How can I fine-tune in fp16 and still get normal losses?",
    "I tried LoRA fine-tuning on two quantized models on a single GPU (GPUS_PER_NODE=1, NCCL_P2P_DISABLE=1).",
    "I tried the new Llama 3.1 with lm_eval --model hf --device cuda:0 --batch_size auto:2 and it stops.",
    "Upgrade transformers to 4.37 to fix this.",
    "I upgraded to CUDA 12.1 / torch 2.1.2 because xformers for vllm wouldn't work.",
    "Someone else sees the same with the 7B and 7B quantized models.",
    "UserWarning: tried to get lr value before scheduler/optimizer started stepping, returning lr=0",
])
def test_tried_near_misses(text):
    assert extract_tried(text) == []


def test_tried_actions_are_in_the_fix_vocabulary():
    from failgraph.ontology.fixes import fix_actions, normalise_target
    assert set(fix_actions()) >= EMITTED_ACTIONS
    for t in extract_tried("Tried pip install -U Flash_Attn and reinstalled Auto-GPTQ; same error."):
        assert t.target == normalise_target(t.target, "library")


def test_not_using():
    assert extract_not_using("I'm not using deepspeed or accelerate, just plain python train.py") == [
        "deepspeed", "accelerate"]
    assert extract_not_using("We are not using LoRA; we don't use docker. Not using any quantization.") == [
        "lora", "docker", "quantization"]
    assert extract_not_using("device_map across all cards, no vLLM and no flash-attention") == ["vllm", "flash-attn"]
    assert extract_not_using("ModuleNotFoundError: No module named 'deepspeed'") == []
    assert extract_not_using("It is not the deepspeed config; not using it is not an option") == []


@pytest.mark.parametrize("text", ["I tried " * 20_000, "same with --a " * 10_000, "-chat" * 20_000,
                                  ("tried:\n" + "a=1\n" * 8) * 2000, "(base " * 10_000 + "Qwen2-7B (base"])
def test_long_repetitive_texts_stay_fast(text):
    """Each sentence and model token is read within a bounded window, so extraction stays linear in the text."""
    import time
    t = time.process_time()
    extract_environment(text)
    assert time.process_time() - t < 2.0


# -------------------------------------------------------------------------------------------- versions in prose

def test_versions_written_in_prose():
    def libs(text):
        return [(m.name, m.version) for m in extract_libraries(text)]
    assert libs("transformers (4.40.0), vllm: 0.4.2, vLLM version 0.5.1, with torch 2.3") == [
        ("transformers", "4.40.0"), ("vllm", "0.4.2"), ("vllm", "0.5.1"), ("torch", "2.3")]
    assert libs("I upgraded transformers to 4.41 and it still fails") == [("transformers", "4.41")]
    assert libs("tried upgrading vllm to 0.5.4 but") == [("vllm", "0.5.4")]
    assert libs("downgrading vllm from 0.6.0 to 0.5.4 fixed it") == [("vllm", "0.6.0"), ("vllm", "0.5.4")]
    # advice names a requirement, not an installed version
    assert libs("Upgrade transformers to 4.41 or later.") == []


# ------------------------------------------------------------------------------------ wiring and the evaluation

def test_environment_carries_the_usage_facts():
    env = extract_environment("vllm serve Qwen/Qwen2-57B-A14B-Instruct -tp 4 --max-model-len 8192 on 4x A100 fails. "
                              "I tried upgrading vllm to 0.5.4 but the error is the same. I am not using Ray.")
    u = env.usage
    assert (u.device, u.gpu_count, u.model_variant) == ("cuda", 4, "instruct")
    assert u.launch == {"tensor_parallel_size": "4", "max_model_len": "8192"}
    assert [t.key for t in u.tried] == [("upgrade", "vllm")] and u.not_using == ["ray"]
    assert ("vllm", "0.5.4") in [(m.name, m.version) for m in env.libraries]


#: Measured on the 128 labeled reports (precision, recall), less a margin: the figures must not fall below.
FLOORS = {"device": (0.92, 0.92), "gpu_count": (0.9, 0.92), "launch": (0.9, 0.9), "model_variant": (0.92, 0.92),
          "tried": (0.88, 0.85), "not_using": (0.8, 0.8)}


def test_usage_evaluation_stays_above_its_floors():
    ev = evaluate_usage()
    assert ev.reports >= 80 and set(ev.fields) == set(FIELDS) == set(FLOORS)
    for name, (p, r) in FLOORS.items():
        f = ev.fields[name]
        assert f.gold >= 10 and f.precision >= p and f.recall >= r, (name, f.summary())


def test_the_slice_is_valid_and_points_into_the_case_base():
    items = load_slice(evaluate_usage().slice_file)
    assert len(items) >= 80 and sum(1 for ident, _, _ in items if ident.startswith("line ")) >= 15
    assert len({ident for ident, _, _ in items}) == len(items)


def test_extraction_evaluation_reports_usage_per_field(capsys, tmp_path):
    ev = evaluate()
    assert ev.usage is not None and ev.usage.reports >= 80
    assert main(["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(FIELDS) <= set(out["usage"]) and 0 <= out["usage"]["tried"]["recall"] <= 1
    assert main([]) == 0
    assert "(c) usage facts" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "device": "gpu"}\n', encoding="utf-8")
    assert main(["--usage", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "device" in err and "\n" not in err
