/* libcublas.so.12 for faiss-gpu-cu12 on a machine that only has CUDA 13's cuBLAS (libcublas.so.13).
 *
 * The faiss-gpu-cu12 wheel references eight cuBLAS functions under the symbol version "libcublas.so.12"; their
 * signatures are unchanged in cuBLAS 13. This library defines that version node and forwards each function to
 * libcublas.so.13 through a jump (no signatures needed). Used only to run `failgraph bench vectors` on a lent GPU
 * machine that has no CUDA 12 libraries and cannot download them (see .ci/gpu/device-bench.sh).
 * Build: gcc -shared -fPIC -O2 -o libcublas.so.12 cublas12_shim.c -ldl -Wl,-soname,libcublas.so.12 \
 *            -Wl,--version-script=cublas12.map
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define FUNCS(X) X(cublasCreate_v2) X(cublasDestroy_v2) X(cublasGemmEx) X(cublasGemmStridedBatchedEx) \
                 X(cublasGetMathMode) X(cublasSetMathMode) X(cublasSetStream_v2) X(cublasSgemmEx)

#define POINTER(name) __attribute__((visibility("hidden"))) void *p_##name;
FUNCS(POINTER)

#define TRAMPOLINE(name) __asm__(".text\n.globl " #name "\n.type " #name ",@function\n" #name ":\n" \
                                 "  jmp *p_" #name "(%rip)\n");
FUNCS(TRAMPOLINE)

__attribute__((constructor)) static void resolve(void) {
    const char *path = getenv("FAILGRAPH_CUBLAS13");
    void *h = dlopen(path ? path : "libcublas.so.13", RTLD_NOW | RTLD_GLOBAL);
    if (!h) { fprintf(stderr, "cublas12 shim: %s\n", dlerror()); abort(); }
#define RESOLVE(name) if (!(p_##name = dlsym(h, #name))) { fprintf(stderr, "cublas12 shim: no " #name "\n"); abort(); }
    FUNCS(RESOLVE)
}
