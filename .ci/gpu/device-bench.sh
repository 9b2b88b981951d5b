#!/usr/bin/env bash
# failgraph's GPU figures on a lent GPU machine (python3 with torch and CUDA 13, no failgraph install, no network).
#
#   bash .ci/gpu/device-bench.sh vectors OUTDIR   # faiss GPU vs CPU vs numpy at 10k/100k/1M (carry .whl .cache-fg)
#   bash .ci/gpu/device-bench.sh embed OUTDIR     # MiniLM texts/s on CPU and GPU (carry .whl-lite .model16)
#
# The carried folders (ignored by git) are made on a developer machine:
#   .whl       wheels for cp312: faiss-gpu-cu12, nvidia-cuda-runtime-cu12, pydantic, pydantic-core, annotated-types,
#              typing-inspection, typing-extensions, platformdirs, bm25s, rdflib
#   .whl-lite  the same without faiss-gpu-cu12, nvidia-cuda-runtime-cu12 and bm25s
#   .model16   the bundled all-MiniLM-L6-v2 folder with its weights stored in float16 (45 MB instead of 87 MB)
#   .cache-fg  failgraph/bench/case-vectors-*.npy (the case base's MiniLM vectors the synthetic vectors derive from)
# faiss-gpu-cu12 links cuBLAS 12; where only cuBLAS 13 exists, cublas12_shim.c forwards its eight calls.
set -uo pipefail
mode=${1:?vectors or embed}; out=${2:-${OUT:-/tmp/failgraph-gpu}}; mkdir -p "$out"
repo=$(pwd)
wheels=.whl; [ "$mode" = embed ] && wheels=.whl-lite
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $wheels/*.whl \
  || exit 1
mkdir -p /tmp/pkg/failgraph
for d in ontology ingest kg assistant ui; do ln -sfn "$repo/$d" /tmp/pkg/failgraph/$d; done
export PYTHONPATH=/tmp/site:/tmp/pkg PYTHONUNBUFFERED=1 XDG_CACHE_HOME="$repo/.cache-fg" HF_HUB_OFFLINE=1
bench() { python3 -c 'from failgraph.ui.cli_bench import bench_app; bench_app()' "$@"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
nproc
if [ "$mode" = vectors ]; then
  cublas13=$(find /opt /usr -name 'libcublas.so.13*' 2>/dev/null | head -1)
  echo "cuBLAS 13: ${cublas13:-none}"
  mkdir -p /tmp/shim
  gcc -shared -fPIC -O2 -o /tmp/shim/libcublas.so.12 .ci/gpu/cublas12_shim.c -ldl -Wl,-soname,libcublas.so.12 \
      -Wl,--version-script=.ci/gpu/cublas12.map || exit 1
  # libfaiss lists libcublasLt.so.12 as needed but calls nothing in it directly: an empty library with that name
  echo 'int failgraph_cublaslt12_placeholder;' | gcc -shared -fPIC -x c - -o /tmp/shim/libcublasLt.so.12 \
      -Wl,-soname,libcublasLt.so.12 || exit 1
  export _FAISS_WHEEL_DISABLE_CUDA_PRELOAD=1  # the wheel would look for the nvidia-cublas-cu12 package
  export FAILGRAPH_CUBLAS13=$cublas13
  export LD_LIBRARY_PATH=/tmp/shim:/tmp/site/nvidia/cuda_runtime/lib:$(dirname "$cublas13"):${LD_LIBRARY_PATH:-}
  python3 - <<'PY'
import faiss, numpy as np
print("faiss", faiss.__version__, "GPUs", faiss.get_num_gpus())
x = np.random.default_rng(0).standard_normal((5000, 384)).astype("float32")
cpu = faiss.IndexFlatIP(384); cpu.add(x)
gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, cpu)
d1, i1 = cpu.search(x[:50], 10); d2, i2 = gpu.search(x[:50], 10)
print("GPU agrees with CPU:", bool((i1 == i2).mean() > 0.99), float(np.abs(d1 - d2).max()))
PY
  echo "faiss GPU smoke test exit status: $? (the benchmark probes faiss again and falls back to torch on the GPU)"
  for spec in ${FAILGRAPH_GPU_SIZES:-10000:60 100000:120 1000000:300}; do
    n=${spec%:*}
    timeout "${spec#*:}" bash -c "$(declare -f bench); bench vectors --size $n --gpu ${FAILGRAPH_GPU_QUERIES:+--queries $FAILGRAPH_GPU_QUERIES} --save '$out/vectors-$n.json'" \
      || echo "size $n failed or ran out of time"
  done
else
  export FAILGRAPH_MODEL_DIR="$repo/.model16"
  timeout 240 bash -c "$(declare -f bench); bench embed --texts 4000 --device all --save '$out/embed.json'"
  timeout 120 bash -c "$(declare -f bench); bench embed --texts 4000 --device cuda --batch-size 256 --save '$out/embed-256.json'"
fi
