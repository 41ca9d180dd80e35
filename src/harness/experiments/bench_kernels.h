// `chimera bench kernels`: the packed ternary GEMM/GEMV (i2t_gemm) against float32 OpenBLAS
// and int8 oneDNN on the shapes that matter here: the ResNet-20 convolutions at batch 128 as
// implicit GEMMs, LLM-sized layers (4096x4096, 11008x4096) at batch 1 and 8, and the shapes of
// bitnet.cpp's published kernel table. A benchmark, never a test: it checks the results agree,
// but the times are the output.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "harness/log/jsonl.h"

namespace chimera {

// C[M, N] = A[M, K] W[N, K]^T. A convolution maps to M = batch * OH * OW output pixels,
// N = C_out, K = C_in * kh * kw (the im2col matrix times the weights; im2col is not timed).
struct KernelBenchShape {
  std::string name;
  int64_t M, N, K;
  int count;  // how often the layer occurs in the network (1 for the LLM shapes)
};

std::vector<KernelBenchShape> kernel_bench_shapes();

struct KernelBenchOptions {
  bool json = false;         // one JSON object per shape instead of the table
  std::string filter;        // only shapes whose name contains this
  double min_seconds = 0.3;  // per timing: at least this long and at least 5 runs
};

// Times one shape; the record has name, rows (N), cols (K), batch (M), ms, gops, gbps,
// speedup_vs_f32, speedup_vs_int8 and the details (see the .cpp). Throws if the kernels
// disagree.
Json bench_kernel_shape(const KernelBenchShape& shape, const KernelBenchOptions& options);

// The machine (ISA, threads, caches, copy/read bandwidth), then every selected shape.
void run_kernel_bench(const KernelBenchOptions& options, std::ostream& out);

}  // namespace chimera
