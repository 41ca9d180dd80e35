// Dispatch and threading for i8t_gemm: checks arguments, splits C into blocks, runs the ISA's
// micro-kernel on each block in parallel.
#include "engine/kernels/i8t_gemm.h"

#include <algorithm>
#include <iterator>

#include "engine/error.h"
#include "engine/kernels/i8t_gemm_ukernels.h"
#include "engine/threads.h"

namespace chimera {
namespace {

// Indexed by Isa; filled at compile time, so the only run-time choice is active_isa(), once.
constexpr I8tGemmUkernel kUkernels[] = {i8t_gemm_ukernel__scalar, i8t_gemm_ukernel__avx2_2x4,
                                        i8t_gemm_ukernel__avx512vnni_4x4};
static_assert(std::size(kUkernels) == static_cast<size_t>(Isa::avx512vnni) + 1,
              "one micro-kernel per Isa");

constexpr int64_t kMaxK = int64_t{1} << 24;  // 127 * 2^24 < 2^31: int32 sums cannot overflow
constexpr int64_t kBlockRows = 64;
constexpr int64_t kBlockWBytes = 128 * 1024;  // a block's W rows stay in L2 while A rows stream
constexpr int64_t kSerialMacs = 1 << 18;      // below this, threads cost more than they save

void run(I8tGemmUkernel ukernel, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
         const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc) {
  CHIMERA_CHECK(M >= 0 && N >= 0 && K >= 0, "i8t_gemm: sizes must be >= 0, got M=", M, " N=", N,
                " K=", K);
  CHIMERA_CHECK(K <= kMaxK, "i8t_gemm: K=", K, " is too deep for exact int32 sums (max ", kMaxK,
                ")");
  CHIMERA_CHECK(lda >= K && ldw >= K && ldc >= N,
                "i8t_gemm: row strides must cover a row: lda=", lda, " ldw=", ldw, " (K=", K,
                "), ldc=", ldc, " (N=", N, ")");
  if (M == 0 || N == 0) return;
  CHIMERA_CHECK(C != nullptr && (K == 0 || (A != nullptr && W != nullptr)),
                "i8t_gemm: null data pointer");

  const int64_t block_cols =
      std::max<int64_t>(16, kBlockWBytes / std::max<int64_t>(K, 1) / 16 * 16);
  const int64_t row_blocks = (M + kBlockRows - 1) / kBlockRows;
  const int64_t col_blocks = (N + block_cols - 1) / block_cols;
  const bool parallel = row_blocks * col_blocks > 1 && M * N * K >= kSerialMacs;
  num_threads();  // make sure OpenMP has been given the engine's thread count
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < row_blocks * col_blocks; ++b) {
    const int64_t m0 = b / col_blocks * kBlockRows, n0 = b % col_blocks * block_cols;
    ukernel(std::min(kBlockRows, M - m0), std::min(block_cols, N - n0), K, A + m0 * lda, lda,
            W + n0 * ldw, ldw, C + m0 * ldc + n0, ldc);
  }
}

}  // namespace

void i8t_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* W,
              int64_t ldw, int32_t* C, int64_t ldc) {
  static const I8tGemmUkernel ukernel = kUkernels[static_cast<int>(active_isa())];
  run(ukernel, M, N, K, A, lda, W, ldw, C, ldc);
}

void i8t_gemm_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                  const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc) {
  CHIMERA_CHECK(isa_supported(isa), "i8t_gemm: this CPU does not support ", isa_name(isa),
                "; the best available here is ", isa_name(best_isa()));
  run(kUkernels[static_cast<int>(isa)], M, N, K, A, lda, W, ldw, C, ldc);
}

}  // namespace chimera
